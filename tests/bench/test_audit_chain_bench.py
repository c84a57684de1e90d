"""Audit chain benchmark: what the hash chain trigger costs an audit insert.

One audit row is written per PHI read, so the insert sits on hot paths. Each insert is its own
committed transaction, as in a request. Measured, in alternating rounds so both see the same
machine: the same INSERT into the audit table (chain trigger: advisory lock, last-row lookup,
SHA-256; plus the append-only triggers) and into a trigger-less copy of it (`CREATE TABLE ...
(LIKE ... INCLUDING ALL)`: the same columns and indexes, the row number given by the INSERT);
then a whole `audit_record()` call, 1,000-row INSERT ... SELECT batches both ways, and
`audit_verify`'s rate, on a log preloaded with 50,000 rows. Prints figures and writes
tests/bench/results/audit_chain.json; it never fails on time. Run with `make bench`.
"""

import json
import os
import platform
import statistics
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from cooperative.audit import audit_record
from cooperative.models import AuditAction, AuditEvent

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

RESULTS = Path(__file__).resolve().parent / "results"
ROUNDS = 5
PER_ROUND = 400
BULK_ROWS = 10_000
PRELOAD = 50_000
PLAIN = "bench_auditevent_plain"
INSERT = (
    "INSERT INTO {table} (occurred_at, actor_username, role, action, object_type, object_id, "
    "ip_address, request_id, path, detail, sequence, previous_hash, row_hash) VALUES (now(), "
    "'advocate1', 'Advocate', 'view', 'members.member', %s, '203.0.113.9', "
    "'0f1e2d3c4b5a69788796a5b4c3d2e1f0', '/members/1/', '', %s, '', '')"
)


def summary(timings_ms: list[float]) -> dict[str, float]:
    ordered = sorted(timings_ms)
    return {
        "inserts": len(ordered),
        "mean_ms": round(statistics.fmean(ordered), 3),
        "p50_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "max_ms": round(ordered[-1], 3),
    }


def raw_inserts(table: str, start: int, count: int) -> list[float]:
    timings = []
    statement = INSERT.format(table=table)
    with connection.cursor() as cursor:
        for n in range(start, start + count):
            began = time.perf_counter()
            cursor.execute(statement, [str(n), n])  # autocommit: one transaction each
            timings.append((time.perf_counter() - began) * 1000)
    return timings


def bulk_create(rows: int) -> float:
    began = time.perf_counter()
    for batch in range(rows // 1000):
        AuditEvent.objects.bulk_create(
            AuditEvent(action="view", object_type="members.member", object_id=f"{batch}-{n}")
            for n in range(1000)
        )
    return time.perf_counter() - began


def bulk_insert(table: str, rows: int) -> float:
    """The same 1,000-row INSERT ... SELECT statements into either table."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for batch in range(rows // 1000):
            cursor.execute(
                f"INSERT INTO {table} (occurred_at, actor_username, role, action, "  # noqa: S608
                "object_type, object_id, request_id, path, detail, sequence, previous_hash, "
                "row_hash) SELECT now(), '', '', 'view', 'members.member', %s || '-' || n, "
                "'', '', '', 10000000 + %s * 1000 + n, '', '' FROM generate_series(0, 999) n",
                [str(batch), batch],
            )
    return time.perf_counter() - began


def test_audit_chain_benchmark():
    preload_seconds = bulk_create(PRELOAD)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {PLAIN} (LIKE cooperative_auditevent INCLUDING ALL)")
        cursor.execute(
            f"INSERT INTO {PLAIN} SELECT * FROM cooperative_auditevent"  # noqa: S608
        )
        cursor.execute(f"ALTER TABLE {PLAIN} ALTER COLUMN id RESTART WITH 100000000")
        cursor.execute(f"ANALYZE cooperative_auditevent; ANALYZE {PLAIN}")
    try:
        chained: list[float] = []
        plain: list[float] = []
        for round_number in range(ROUNDS):
            first = 1_000_000 + round_number * PER_ROUND
            plain += raw_inserts(PLAIN, first, PER_ROUND)
            chained += raw_inserts("cooperative_auditevent", first, PER_ROUND)
        calls = []
        for n in range(PER_ROUND):
            began = time.perf_counter()
            audit_record(
                actor=None, action=AuditAction.VIEW, object_type="members.member", object_id=n
            )
            calls.append((time.perf_counter() - began) * 1000)
        bulk_plain = bulk_insert(PLAIN, BULK_ROWS)
        bulk_chained = bulk_insert("cooperative_auditevent", BULK_ROWS)
        rows = AuditEvent.objects.count()
        began = time.perf_counter()
        out = StringIO()
        call_command("audit_verify", stdout=out)
        verify_seconds = time.perf_counter() - began
        assert out.getvalue().strip() == f"OK: {rows} rows verified"
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {PLAIN}")

    chained_summary, plain_summary = summary(chained), summary(plain)
    results = {
        "benchmark": "audit_chain",
        "preloaded_rows": PRELOAD,
        "preload_bulk_create_seconds": round(preload_seconds, 2),
        "insert_committed_chained": chained_summary,
        "insert_committed_plain": plain_summary,
        "insert_extra_p50_ms": round(chained_summary["p50_ms"] - plain_summary["p50_ms"], 3),
        "audit_record_call_committed": summary(calls),
        "bulk_create_rows_per_second_chained": round(PRELOAD / preload_seconds),
        "insert_select_1000_rows_per_second_chained": round(BULK_ROWS / bulk_chained),
        "insert_select_1000_rows_per_second_plain": round(BULK_ROWS / bulk_plain),
        "audit_verify_rows": rows,
        "audit_verify_rows_per_second": round(rows / verify_seconds),
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "audit_chain.json").write_text(json.dumps(results, indent=2))
    print("\n" + json.dumps(results, indent=2))
