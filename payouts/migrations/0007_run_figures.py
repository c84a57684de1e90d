"""A run keeps the reconciliation its snapshot took; once the run is completed the stored
figures never change (the database refuses), so a month's page, CSV and report stay as they
were when the month closed."""

from django.db import migrations, models

FORWARD = r"""
CREATE OR REPLACE FUNCTION payouts_run_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'a payout run is never deleted: cancel it';
  END IF;
  IF OLD.status = 'completed' AND (NEW.status <> OLD.status OR NEW.total <> OLD.total
     OR NEW.roster_total <> OLD.roster_total OR NEW.adjustments_total <> OLD.adjustments_total
     OR NEW.period <> OLD.period OR NEW.statement_count <> OLD.statement_count
     OR NEW.figures IS DISTINCT FROM OLD.figures) THEN
    RAISE EXCEPTION 'a completed payout run never changes: corrections go into the next period';
  END IF;
  RETURN NEW;
END $$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION payouts_run_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'a payout run is never deleted: cancel it';
  END IF;
  IF OLD.status = 'completed' AND (NEW.status <> OLD.status OR NEW.total <> OLD.total
     OR NEW.roster_total <> OLD.roster_total OR NEW.adjustments_total <> OLD.adjustments_total
     OR NEW.period <> OLD.period OR NEW.statement_count <> OLD.statement_count) THEN
    RAISE EXCEPTION 'a completed payout run never changes: corrections go into the next period';
  END IF;
  RETURN NEW;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("payouts", "0006_positive_pay_versions")]

    operations = [
        migrations.AddField(
            model_name="payoutrun",
            name="figures",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The reconciliation as the snapshot took it (totals, counts, held "
                "amounts): what the run's page, CSV and report show forever after.",
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
