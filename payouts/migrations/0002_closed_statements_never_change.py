"""Money already paid out never changes, whatever code runs: enforced by triggers.

- statement lines are written once (no UPDATE, no DELETE);
- a statement keeps its amount, totals, number, payee, date, clinic and run; once rendered its
  PDF hash stays; a void is final; statements are never deleted;
- the ledger of paid-out member-months is never deleted; a row may only gain its reversal;
- a completed run keeps its status and totals.
TRUNCATE (test database resets) is not affected: it fires no row triggers.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION payouts_line_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'statement lines never change: correct them in a later period (adjustment)';
END $$;
CREATE TRIGGER payouts_statementline_immutable BEFORE UPDATE OR DELETE ON payouts_statementline
  FOR EACH ROW EXECUTE FUNCTION payouts_line_immutable();

CREATE FUNCTION payouts_statement_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'a statement is never deleted: void it';
  END IF;
  IF NEW.amount <> OLD.amount OR NEW.roster_total <> OLD.roster_total
     OR NEW.adjustments_total <> OLD.adjustments_total OR NEW.member_count <> OLD.member_count
     OR NEW.check_number IS DISTINCT FROM OLD.check_number OR NEW.check_date <> OLD.check_date
     OR NEW.payee_name <> OLD.payee_name OR NEW.clinic_id <> OLD.clinic_id OR NEW.run_id <> OLD.run_id
     OR NEW.bank_account_id <> OLD.bank_account_id THEN
    RAISE EXCEPTION 'a statement''s amount, number, payee and date never change: void and reissue it';
  END IF;
  IF OLD.sha256 <> '' AND NEW.sha256 <> OLD.sha256 THEN
    RAISE EXCEPTION 'a rendered statement''s PDF never changes';
  END IF;
  IF OLD.status = 'voided' AND NEW.status <> 'voided' THEN
    RAISE EXCEPTION 'a void is final: reissue the statement';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payouts_statement_guard BEFORE UPDATE OR DELETE ON payouts_statement
  FOR EACH ROW EXECUTE FUNCTION payouts_statement_guard();

CREATE FUNCTION payouts_ledger_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'a paid-out member-month is never deleted: reverse it';
  END IF;
  IF NEW.member_id <> OLD.member_id OR NEW.period <> OLD.period OR NEW.invoice_id <> OLD.invoice_id
     OR NEW.line_id <> OLD.line_id OR NEW.run_id <> OLD.run_id
     OR (OLD.reversed_by_id IS NOT NULL AND NEW.reversed_by_id IS DISTINCT FROM OLD.reversed_by_id) THEN
    RAISE EXCEPTION 'a paid-out member-month only ever gains its reversal';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER payouts_ledger_guard BEFORE UPDATE OR DELETE ON payouts_paidoutmonth
  FOR EACH ROW EXECUTE FUNCTION payouts_ledger_guard();

CREATE FUNCTION payouts_run_guard() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER payouts_run_guard BEFORE UPDATE OR DELETE ON payouts_payoutrun
  FOR EACH ROW EXECUTE FUNCTION payouts_run_guard();
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS payouts_run_guard ON payouts_payoutrun;
DROP FUNCTION IF EXISTS payouts_run_guard();
DROP TRIGGER IF EXISTS payouts_ledger_guard ON payouts_paidoutmonth;
DROP FUNCTION IF EXISTS payouts_ledger_guard();
DROP TRIGGER IF EXISTS payouts_statement_guard ON payouts_statement;
DROP FUNCTION IF EXISTS payouts_statement_guard();
DROP TRIGGER IF EXISTS payouts_statementline_immutable ON payouts_statementline;
DROP FUNCTION IF EXISTS payouts_line_immutable();
"""


class Migration(migrations.Migration):
    dependencies = [("payouts", "0001_payouts")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
