"""The audit log refuses TRUNCATE too, and the application's role gets its grants.

TRUNCATE fires no row trigger, so migration 0002 did not cover it: a statement trigger does.
The one exception is a session that sets `coopcare.audit_truncate = 'allow'`, which only the
test suite does (tests/conftest.py: a transactional test's flush truncates every table); the
setting gives nothing to the application's role, which holds no TRUNCATE privilege at all, and
nothing to the owner it could not do anyway (it owns the trigger).

The grants (cooperative/database_roles.py) are skipped, with a note, when the role named by
DATABASE_APP_ROLE does not exist yet: `python manage.py grant_app_role` applies them later.
"""

from django.conf import settings
from django.db import migrations

NO_TRUNCATE = """
CREATE OR REPLACE FUNCTION coopcare_audit_no_truncate() RETURNS trigger AS $$
BEGIN
    IF current_setting('coopcare.audit_truncate', true) = 'allow' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'cooperative_auditevent is append-only: TRUNCATE is not allowed'
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cooperative_auditevent_no_truncate
    BEFORE TRUNCATE ON cooperative_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION coopcare_audit_no_truncate();
"""

DROP_NO_TRUNCATE = """
DROP TRIGGER IF EXISTS cooperative_auditevent_no_truncate ON cooperative_auditevent;
DROP FUNCTION IF EXISTS coopcare_audit_no_truncate();
"""


def grant_app_role(apps, schema_editor):
    from cooperative.database_roles import app_role_grant

    with schema_editor.connection.cursor() as cursor:
        note = app_role_grant(cursor, getattr(settings, "DATABASE_APP_ROLE", ""))
    if "skipped" in note:
        print(f"\n  cooperative.0005: {note}", end="")


class Migration(migrations.Migration):
    dependencies = [("cooperative", "0005_audit_hash_chain")]

    operations = [
        migrations.RunSQL(NO_TRUNCATE, DROP_NO_TRUNCATE),
        migrations.RunPython(grant_app_role, migrations.RunPython.noop),
    ]
