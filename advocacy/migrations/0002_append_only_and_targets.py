"""Case notes and case events are append-only (the database rejects UPDATE and DELETE; a
correction is a new note), and the default priority targets exist from the start."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION advocacy_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER advocacy_casenote_append_only
    BEFORE UPDATE OR DELETE ON advocacy_casenote
    FOR EACH ROW EXECUTE FUNCTION advocacy_append_only();
CREATE TRIGGER advocacy_caseevent_append_only
    BEFORE UPDATE OR DELETE ON advocacy_caseevent
    FOR EACH ROW EXECUTE FUNCTION advocacy_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS advocacy_casenote_append_only ON advocacy_casenote;
DROP TRIGGER IF EXISTS advocacy_caseevent_append_only ON advocacy_caseevent;
DROP FUNCTION IF EXISTS advocacy_append_only();
"""

TARGETS = {"urgent": 1, "high": 3, "normal": 10, "low": 20}


def create_targets(apps, schema_editor):
    PriorityTarget = apps.get_model("advocacy", "PriorityTarget")
    for priority, days in TARGETS.items():
        PriorityTarget.objects.get_or_create(priority=priority, defaults={"business_days": days})


class Migration(migrations.Migration):
    dependencies = [("advocacy", "0001_initial")]

    operations = [
        migrations.RunSQL(FORWARD, REVERSE),
        migrations.RunPython(create_targets, migrations.RunPython.noop),
    ]
