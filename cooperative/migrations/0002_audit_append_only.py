"""The audit log is append-only: the database itself rejects UPDATE and DELETE on it."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION coopcare_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'cooperative_auditevent is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cooperative_auditevent_append_only
    BEFORE UPDATE OR DELETE ON cooperative_auditevent
    FOR EACH ROW EXECUTE FUNCTION coopcare_audit_append_only();
"""

REVERSE = """
DROP TRIGGER IF EXISTS cooperative_auditevent_append_only ON cooperative_auditevent;
DROP FUNCTION IF EXISTS coopcare_audit_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("cooperative", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, REVERSE)]
