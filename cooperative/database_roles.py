"""The application's database role: DML on every table but the audit log, where SELECT and
INSERT only; it owns nothing, so it cannot alter, disable or drop a trigger.

Used by migration 0006 (the grants on the tables that exist then, and default privileges for
those the owner creates later) and by `manage.py grant_app_role` (the same, again, e.g. after
the role was created on a database already migrated). The role itself is created by whoever
administers the server: `make run`/`make test` (cooperative/devservices.py) on a development
server, deploy/postgres/initdb/ in docker compose, a DBA in production (README, "Audit log").
"""

from __future__ import annotations

from typing import Any

from psycopg2 import sql

AUDIT_TABLE = "cooperative_auditevent"


def role_exists(cursor: Any, role: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
    return cursor.fetchone() is not None


def app_role_grant(cursor: Any, role: str) -> str:
    """Grant the app role what it needs (idempotent); return one line saying what was done.

    Run as the owner of the tables (the role that runs `migrate`). Skipped with a note when the
    role does not exist (a plain development database) or is the current user (a one-role
    setup: revoking from the owner would take its own rights away)."""
    if not role:
        return "no application database role configured (DATABASE_APP_ROLE): grants skipped"
    if not role_exists(cursor, role):
        return (
            f"database role {role!r} does not exist: grants skipped (create it, then run "
            "`python manage.py grant_app_role`)"
        )
    cursor.execute("SELECT current_user")
    if cursor.fetchone()[0] == role:
        return f"connected as {role!r} itself: grants skipped (migrate as the owner role)"
    name = sql.Identifier(role)
    audit = sql.Identifier(AUDIT_TABLE)
    for statement in (
        "GRANT USAGE ON SCHEMA public TO {role}",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        "GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        # The audit log: read and append, nothing else.
        "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {audit} FROM {role}",
        # Tables and sequences the owner creates later (the next migrations) get the same.
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
        "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
    ):
        cursor.execute(sql.SQL(statement).format(role=name, audit=audit))
    return f"database role {role!r}: DML on every table, SELECT and INSERT only on {AUDIT_TABLE}"


def app_role_ensure(cursor: Any, role: str, password: str = "") -> str:
    """Create the app role when missing (the connection needs CREATEROLE, in autocommit), and
    refuse one that holds more than LOGIN: a superuser, CREATEROLE, CREATEDB, REPLICATION or
    BYPASSRLS role could undo every protection of the audit log. Returns "" or why not."""
    import psycopg2

    if not role_exists(cursor, role):
        statement = sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        ).format(sql.Identifier(role))
        if password:
            statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
        try:
            cursor.execute(statement)
        except (psycopg2.errors.DuplicateObject, psycopg2.errors.UniqueViolation):
            pass  # created at the same moment by another process
        except psycopg2.errors.InsufficientPrivilege:
            return f"database role {role!r} is missing and this user may not create roles"
    cursor.execute(
        "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls "
        "FROM pg_roles WHERE rolname = %s",
        [role],
    )
    if cursor.fetchone()[0]:
        return f"database role {role!r} holds more than LOGIN: refusing to run the app as it"
    return ""
