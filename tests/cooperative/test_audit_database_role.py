"""The application's database role can read and append to the audit log, and nothing else:
a real connection as that role (psycopg2, to the test database) tries every way around."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from cooperative.audit_chain import chain_verify
from cooperative.database_roles import app_role_ensure
from cooperative.models import AuditEvent


def connect(user: str | None = None, password: str | None = None) -> Any:
    """A new connection to the test database, as `user` (default: the test run's own)."""
    config = connection.settings_dict
    params = {
        "dbname": config["NAME"],
        "user": user or config["USER"],
        "password": password if user else config["PASSWORD"],
        "host": config["HOST"],
        "port": config["PORT"],
    }
    return psycopg2.connect(**{key: value for key, value in params.items() if value})


@pytest.fixture
def app_db(transactional_db: Any) -> Iterator[Any]:
    """A cursor connected as DATABASE_APP_ROLE, the role made and granted as `make test` does."""
    role = settings.DATABASE_APP_ROLE
    password = os.environ.get("DATABASE_APP_PASSWORD", "")
    owner = connect()
    owner.autocommit = True
    with owner.cursor() as cursor:
        problem = app_role_ensure(cursor, role, password)
    owner.close()
    assert problem == ""
    call_command("grant_app_role", stdout=open(os.devnull, "w"))  # noqa: SIM115
    app = connect(role, password)
    app.autocommit = True
    try:
        with app.cursor() as cursor:
            yield cursor
    finally:
        app.close()


def refused(cursor: Any, statement: str, params: list | None = None) -> str:
    with pytest.raises(psycopg2.Error) as error:
        cursor.execute(statement, params)
    return str(error.value).splitlines()[0]


@pytest.mark.django_db(transaction=True)
def test_the_app_role_appends_and_reads_but_cannot_rewrite_the_audit_log(app_db):
    app_db.execute("SELECT current_user, session_user")
    assert app_db.fetchone() == (settings.DATABASE_APP_ROLE, settings.DATABASE_APP_ROLE)
    app_db.execute(
        "INSERT INTO cooperative_auditevent (actor_username, role, action, object_type, "
        "object_id, request_id, path, detail, sequence, previous_hash, row_hash) "
        "VALUES ('', '', 'view', 'members.member', '42', '', '', '', 999, %s, %s) "
        "RETURNING id, sequence",
        ["e" * 64, "f" * 64],
    )
    row_id, sequence = app_db.fetchone()
    assert sequence == 1  # the chain trigger, not the INSERT, numbers the row
    app_db.execute("SELECT object_id FROM cooperative_auditevent WHERE id = %s", [row_id])
    assert app_db.fetchone() == ("42",)

    table = "cooperative_auditevent"
    assert refused(app_db, f"UPDATE {table} SET detail = 'x' WHERE id = %s", [row_id]) == (
        f"permission denied for table {table}"
    )
    assert refused(app_db, f"DELETE FROM {table} WHERE id = %s", [row_id]) == (
        f"permission denied for table {table}"
    )
    assert refused(app_db, f"TRUNCATE {table}") == f"permission denied for table {table}"
    # The test suite's own escape from the TRUNCATE trigger gives the role nothing.
    app_db.execute("SET coopcare.audit_truncate = 'allow'")
    assert refused(app_db, f"TRUNCATE {table}") == f"permission denied for table {table}"
    for trigger in (
        "cooperative_auditevent_append_only",
        "cooperative_auditevent_chain",
        "cooperative_auditevent_no_truncate",
    ):
        assert refused(app_db, f"ALTER TABLE {table} DISABLE TRIGGER {trigger}") == (
            f"must be owner of table {table}"
        )
        assert refused(app_db, f"DROP TRIGGER {trigger} ON {table}") == (
            f"must be owner of relation {table}"
        )
    assert refused(app_db, "SET session_replication_role = replica") == (
        'permission denied to set parameter "session_replication_role"'
    )
    assert refused(app_db, "ALTER FUNCTION coopcare_audit_chain() RENAME TO x") == (
        "must be owner of function coopcare_audit_chain"
    )
    assert refused(app_db, "CREATE TABLE public.mine (id int)") == (
        "permission denied for schema public"
    )

    # Nothing changed: one row, as inserted, and the chain verifies.
    assert list(AuditEvent.objects.values_list("id", "detail", "sequence")) == [(row_id, "", 1)]
    assert chain_verify().rows_verified == 1


@pytest.mark.django_db(transaction=True)
def test_the_app_role_works_on_the_other_tables(app_db, make_user):
    user = make_user()
    app_db.execute("UPDATE auth_user SET first_name = 'Changed' WHERE id = %s", [user.pk])
    assert app_db.rowcount == 1
    app_db.execute(
        "INSERT INTO auth_group (name) VALUES ('Made by the app') RETURNING id"
    )  # uses the id sequence
    group_id = app_db.fetchone()[0]
    app_db.execute("DELETE FROM auth_group WHERE id = %s", [group_id])
    assert app_db.rowcount == 1
    user.refresh_from_db()
    assert user.first_name == "Changed"


@pytest.mark.django_db
def test_truncate_is_refused_by_a_trigger_even_for_the_owner():
    AuditEvent.objects.create(action="view")
    with connection.cursor() as cursor:
        # (Not the test suite's session setting that lets a flush through; FK checks done now.)
        cursor.execute("SET LOCAL coopcare.audit_truncate = 'refuse'")
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    with (
        pytest.raises(DatabaseError, match="append-only: TRUNCATE is not allowed"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("TRUNCATE cooperative_auditevent")
    assert AuditEvent.objects.count() == 1


@pytest.mark.django_db
def test_grant_app_role_says_when_the_role_is_missing(settings):
    from django.core.management import CommandError

    settings.DATABASE_APP_ROLE = "coopcare_no_such_role"
    with pytest.raises(
        CommandError,
        match=(r"^database role 'coopcare_no_such_role' does not exist: grants skipped"),
    ):
        call_command("grant_app_role")
