"""The audit log's hash chain: numbered and chained by the database, recomputed by audit_verify."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections

from cooperative.audit import audit_record
from cooperative.audit_chain import GENESIS_HASH, canonical_text, chain_verify, row_hash
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role

pytestmark = pytest.mark.django_db

ODD_ROWS = [
    # NULL actor, every text empty, no address.
    {"action": "view"},
    # Unicode in every text field, an IPv6 address.
    {
        "action": "update",
        "actor_username": "zoë.ñúñez",
        "role": "Advocate",
        "object_type": "members.member",
        "object_id": "東京-42",
        "ip_address": "2001:db8::1",
        "request_id": "req-🚑",
        "path": "/members/42/édition/",
        "detail": 'note with | pipes, ~ tildes, 12:colons and "quotes" and a\nnewline',
    },
    # An IPv4-mapped IPv6 address and an IPv4 address; the longest texts.
    {"action": "login_failed", "ip_address": "::ffff:192.0.2.1", "detail": "x" * 300},
    {"action": "denied", "ip_address": "203.0.113.9", "path": "/" + "p" * 299},
    # A microsecond timestamp far from now, in another time zone.
    {
        "action": "export",
        "occurred_at": datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    },
]


def stored(pk: int) -> dict[str, Any]:
    return dict(AuditEvent.objects.values().get(pk=pk))


def tamper(sql: str, params: list) -> None:
    """Change the table as its owner would: with the append-only trigger switched off."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "ALTER TABLE cooperative_auditevent DISABLE TRIGGER cooperative_auditevent_append_only"
        )
        cursor.execute(sql, params)
        cursor.execute(
            "ALTER TABLE cooperative_auditevent ENABLE TRIGGER cooperative_auditevent_append_only"
        )


def verify(*args: str) -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit_verify", *args, stdout=out)
    return out.getvalue().strip()


@pytest.fixture
def four_events(make_user):
    assert not AuditEvent.objects.exists()
    advocate = make_user(Role.ADVOCATE)
    return [
        audit_record(
            actor=advocate, action=AuditAction.VIEW, object_type="members.member", object_id=n
        )
        for n in range(1, 5)
    ]


def test_rows_are_numbered_and_chained_by_the_database(four_events):
    rows = [stored(event.pk) for event in four_events]
    assert [row["sequence"] for row in rows] == [1, 2, 3, 4]
    assert rows[0]["previous_hash"] == GENESIS_HASH
    for before, after in zip(rows, rows[1:], strict=False):
        assert after["previous_hash"] == before["row_hash"]
    for row in rows:
        assert len(row["row_hash"]) == 64
        assert row["row_hash"] == row_hash(row["previous_hash"], row)
    assert len({row["row_hash"] for row in rows}) == 4


def test_the_canonical_text_names_each_field_by_its_length():
    row = {
        "sequence": 7,
        "id": 12,
        "occurred_at": datetime(2026, 12, 4, 17, 5, 3, 120, tzinfo=UTC),
        "actor_id": None,
        "actor_username": "",
        "role": "",
        "action": "view",
        "object_type": "members.member",
        "object_id": "42",
        "ip_address": "2001:db8::1",
        "request_id": "",
        "path": "/m/",
        "detail": "a|b",
    }
    assert canonical_text(GENESIS_HASH, row) == (
        f"coopcare-audit-v1|64:{GENESIS_HASH}|1:7|2:12|27:2026-12-04T17:05:03.000120Z|~|0:|0:"
        "|4:view|14:members.member|2:42|11:2001:db8::1|0:|3:/m/|3:a|b"
    )


def test_values_an_insert_gives_for_the_chain_are_overwritten(db):
    event = AuditEvent.objects.create(
        action="view", sequence=99, previous_hash="e" * 64, row_hash="f" * 64
    )
    row = stored(event.pk)
    assert row["sequence"] == 1
    assert row["previous_hash"] == GENESIS_HASH
    assert row["row_hash"] == row_hash(GENESIS_HASH, row)


def test_bulk_create_is_chained_row_by_row(db):
    AuditEvent.objects.bulk_create([AuditEvent(action="view", object_id=str(n)) for n in range(5)])
    rows = list(AuditEvent.objects.order_by("sequence").values())
    assert [(row["sequence"], row["object_id"]) for row in rows] == [
        (1, "0"),
        (2, "1"),
        (3, "2"),
        (4, "3"),
        (5, "4"),
    ]
    assert [row["previous_hash"] for row in rows[1:]] == [row["row_hash"] for row in rows[:-1]]
    assert verify() == "OK: 5 rows verified"


@pytest.mark.parametrize(
    "values", ODD_ROWS, ids=["empty", "unicode-ipv6", "mapped-ipv6", "ipv4", "old-time"]
)
def test_python_and_the_database_hash_odd_rows_alike(make_user, values):
    actor = make_user(Role.FINANCE) if values.get("actor_username") else None
    previous = AuditEvent.objects.create(action="view", object_id="first")
    event = AuditEvent.objects.create(actor=actor, **values)
    row = stored(event.pk)
    assert row["previous_hash"] == stored(previous.pk)["row_hash"]
    assert row["row_hash"] == row_hash(row["previous_hash"], row)
    # And the database's own function gives the same digest for Python's canonical text.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(convert_to(%s, 'UTF8')), 'hex')",
            [canonical_text(row["previous_hash"], row)],
        )
        assert cursor.fetchone()[0] == row["row_hash"]
    assert verify() == "OK: 2 rows verified"


def test_audit_verify_reports_ok(four_events):
    assert verify() == "OK: 4 rows verified"
    assert chain_verify().rows_verified == 4


def test_an_empty_log_verifies(db):
    assert verify() == "OK: 0 rows verified"


def test_a_row_edited_by_the_owner_is_reported(four_events):
    second = four_events[1]
    tamper("UPDATE cooperative_auditevent SET object_id = '999' WHERE id = %s", [second.pk])
    with pytest.raises(CommandError) as refused:
        verify()
    assert str(refused.value) == (
        f"audit chain broken after 1 good rows: altered row id {second.pk} (sequence 2): "
        "its contents do not match its row_hash"
    )


def test_a_rehashed_row_breaks_the_next_link(four_events):
    """An owner who edits a row and recomputes its hash still breaks the next row's link."""
    second = four_events[1]
    tamper(
        "UPDATE cooperative_auditevent SET object_id = '999', row_hash = "
        "coopcare_audit_row_hash(previous_hash, sequence, id, occurred_at, actor_id, "
        "actor_username, role, action, object_type, '999', ip_address, request_id, path, detail) "
        "WHERE id = %s",
        [second.pk],
    )
    with pytest.raises(
        CommandError,
        match=(
            rf"after 2 good rows: broken link at row id {four_events[2].pk} \(sequence 3\): "
            r"its previous_hash does not match the row_hash of sequence 2$"
        ),
    ):
        verify()


def test_a_deleted_row_is_reported_as_a_gap(four_events):
    tamper("DELETE FROM cooperative_auditevent WHERE id = %s", [four_events[2].pk])
    with pytest.raises(CommandError) as refused:
        verify()
    assert str(refused.value) == (
        "audit chain broken after 2 good rows: gap: sequence 3 missing "
        f"(before row id {four_events[3].pk}, sequence 4)"
    )
    assert AuditEvent.objects.count() == 3


def test_since_starts_at_that_day_and_still_checks_the_link_before(db):
    for day in (1, 2, 3, 4):
        AuditEvent.objects.create(
            action="view", object_id=str(day), occurred_at=datetime(2026, 11, day, 18, tzinfo=UTC)
        )
    rows = list(AuditEvent.objects.order_by("sequence"))
    # Row 1 altered: --since the 2nd does not look at it (its stored row_hash still links).
    tamper("UPDATE cooperative_auditevent SET detail = 'x' WHERE id = %s", [rows[0].pk])
    with pytest.raises(CommandError, match="altered row id"):
        verify()
    assert verify("--since", "2026-11-02") == "OK: 3 rows verified"
    assert verify("--since", "2026-12-01") == "OK: 0 rows verified"
    # Row 2 deleted: --since the 3rd finds its first row's predecessor missing.
    tamper("DELETE FROM cooperative_auditevent WHERE id = %s", [rows[1].pk])
    with pytest.raises(CommandError) as refused:
        verify("--since", "2026-11-03")
    assert str(refused.value) == (
        "audit chain broken after 0 good rows: gap: sequence 2 is missing "
        f"(before row id {rows[2].pk}, sequence 3)"
    )


def test_since_must_be_a_date(db):
    with pytest.raises(
        CommandError, match=r"^--since must be a date as YYYY-MM-DD, not '2026-13-01'$"
    ):
        verify("--since", "2026-13-01")


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_linear_chain():
    """Eight threads, each on its own connection, write at once; the chain has no fork or gap."""
    threads, errors = 8, []
    per_thread = 25
    barrier = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                if i % 5 == 0:
                    # Some in multi-row transactions, as services write them.
                    from django.db import transaction

                    with transaction.atomic():
                        audit_record(actor=None, action="view", object_id=f"{n}-{i}-a")
                        audit_record(actor=None, action="view", object_id=f"{n}-{i}-b")
                else:
                    audit_record(actor=None, action="view", object_id=f"{n}-{i}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    expected = threads * (per_thread + per_thread // 5)
    rows = list(AuditEvent.objects.order_by("sequence").values())
    assert len(rows) == expected
    assert [row["sequence"] for row in rows] == list(range(1, expected + 1))
    hashes = [row["previous_hash"] for row in rows]
    assert len(set(hashes)) == expected  # no two rows chain from the same parent: no fork
    assert verify() == f"OK: {expected} rows verified"
