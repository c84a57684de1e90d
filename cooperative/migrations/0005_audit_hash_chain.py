"""Tamper evidence for the audit log: every row numbered gaplessly and chained by SHA-256.

A BEFORE INSERT trigger assigns `sequence` (last + 1), `previous_hash` (the last row's
`row_hash`, 64 zeros for the first row) and `row_hash` = sha256 of a canonical text of the row
(see cooperative/audit_chain.py, which recomputes it for `manage.py audit_verify`; the two
must stay in step). Computing it in the database means every writer (audit_record,
bulk_create, raw SQL) is chained and the application's role cannot forge a hash: whatever an
INSERT says for these columns is overwritten. A transaction-level advisory lock orders
concurrent inserts strictly, so the chain never forks; it is held until the inserting
transaction ends, which is the price of a linear chain (rows of a rolled-back transaction
leave no gap: the next insert takes the same number).

Existing rows are chained in id order.
"""

from django.db import migrations, models

ROW_HASH_FUNCTION = """
CREATE OR REPLACE FUNCTION coopcare_audit_field(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN value IS NULL THEN '~' ELSE char_length(value)::text || ':' || value END
$$;

CREATE OR REPLACE FUNCTION coopcare_audit_row_hash(
    previous_hash text, sequence bigint, id bigint, occurred_at timestamptz, actor_id bigint,
    actor_username text, role text, action text, object_type text, object_id text,
    ip_address inet, request_id text, path text, detail text
) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT encode(sha256(convert_to(
        'coopcare-audit-v1'
        || '|' || coopcare_audit_field(previous_hash)
        || '|' || coopcare_audit_field(sequence::text)
        || '|' || coopcare_audit_field(id::text)
        || '|' || coopcare_audit_field(
            to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
        || '|' || coopcare_audit_field(actor_id::text)
        || '|' || coopcare_audit_field(actor_username)
        || '|' || coopcare_audit_field(role)
        || '|' || coopcare_audit_field(action)
        || '|' || coopcare_audit_field(object_type)
        || '|' || coopcare_audit_field(object_id)
        || '|' || coopcare_audit_field(abbrev(ip_address))
        || '|' || coopcare_audit_field(request_id)
        || '|' || coopcare_audit_field(path)
        || '|' || coopcare_audit_field(detail),
        'UTF8')), 'hex')
$$;
"""

BACKFILL = """
ALTER TABLE cooperative_auditevent DISABLE TRIGGER cooperative_auditevent_append_only;
DO $$
DECLARE
    r record;
    n bigint := 0;
    prev text := repeat('0', 64);
    digest text;
BEGIN
    FOR r IN SELECT * FROM cooperative_auditevent ORDER BY id LOOP
        n := n + 1;
        digest := coopcare_audit_row_hash(
            prev, n, r.id, r.occurred_at, r.actor_id, r.actor_username, r.role, r.action,
            r.object_type, r.object_id, r.ip_address, r.request_id, r.path, r.detail);
        UPDATE cooperative_auditevent
           SET sequence = n, previous_hash = prev, row_hash = digest
         WHERE id = r.id;
        prev := digest;
    END LOOP;
END
$$;
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE cooperative_auditevent ENABLE TRIGGER cooperative_auditevent_append_only;
"""

CHAIN_TRIGGER = """
CREATE OR REPLACE FUNCTION coopcare_audit_chain() RETURNS trigger AS $$
DECLARE
    last_sequence bigint;
    last_hash text;
BEGIN
    -- One chain head at a time: held until this transaction ends, so the next insert (in any
    -- session) sees this row once committed, or takes its number again if it rolled back.
    -- (The key is any constant: one lock for the whole table.)
    PERFORM pg_advisory_xact_lock(7262011700417);
    SELECT e.sequence, e.row_hash INTO last_sequence, last_hash
      FROM cooperative_auditevent e ORDER BY e.sequence DESC LIMIT 1;
    NEW.sequence := COALESCE(last_sequence, 0) + 1;
    NEW.previous_hash := COALESCE(last_hash, repeat('0', 64));
    NEW.row_hash := coopcare_audit_row_hash(
        NEW.previous_hash, NEW.sequence, NEW.id, NEW.occurred_at, NEW.actor_id,
        NEW.actor_username, NEW.role, NEW.action, NEW.object_type, NEW.object_id,
        NEW.ip_address, NEW.request_id, NEW.path, NEW.detail);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER cooperative_auditevent_chain
    BEFORE INSERT ON cooperative_auditevent
    FOR EACH ROW EXECUTE FUNCTION coopcare_audit_chain();
"""

DROP_CHAIN_TRIGGER = """
DROP TRIGGER IF EXISTS cooperative_auditevent_chain ON cooperative_auditevent;
DROP FUNCTION IF EXISTS coopcare_audit_chain();
"""

DROP_ROW_HASH_FUNCTION = """
DROP FUNCTION IF EXISTS coopcare_audit_row_hash(
    text, bigint, bigint, timestamptz, bigint, text, text, text, text, text, inet, text, text, text);
DROP FUNCTION IF EXISTS coopcare_audit_field(text);
"""


class Migration(migrations.Migration):
    dependencies = [("cooperative", "0004_apitoken")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="previous_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(default="", editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(editable=False, null=True, unique=True),
        ),
        migrations.RunSQL(ROW_HASH_FUNCTION, DROP_ROW_HASH_FUNCTION),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AlterField(
            model_name="auditevent",
            name="sequence",
            field=models.BigIntegerField(editable=False, unique=True),
        ),
        migrations.RunSQL(CHAIN_TRIGGER, DROP_CHAIN_TRIGGER),
    ]
