"""The audit log's hash chain, recomputed in Python (the database computes it on INSERT).

`row_hash` must match `coopcare_audit_row_hash()` of migration 0005 byte for byte: the same
fields, in the same order, in the same canonical text. tests/cooperative/test_audit_chain.py
compares the two on rows with odd values; change both together (a new version tag) or none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.utils import timezone

from .models import AuditEvent

GENESIS_HASH = "0" * 64
VERSION_TAG = "coopcare-audit-v1"

# The chained fields, in canonical order (after previous_hash).
CHAINED_FIELDS = (
    "sequence",
    "id",
    "occurred_at",
    "actor_id",
    "actor_username",
    "role",
    "action",
    "object_type",
    "object_id",
    "ip_address",
    "request_id",
    "path",
    "detail",
)


def _field(value: str | None) -> str:
    """NULL is '~'; a value is its length in characters, ':', then itself (no ambiguity)."""
    return "~" if value is None else f"{len(value)}:{value}"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(value)


def canonical_text(previous_hash: str, row: dict[str, Any]) -> str:
    """The text the database hashes for a row (see coopcare_audit_row_hash)."""
    parts = [VERSION_TAG, _field(previous_hash)]
    parts += [_field(_text(row[name])) for name in CHAINED_FIELDS]
    return "|".join(parts)


def row_hash(previous_hash: str, row: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_text(previous_hash, row).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the chain: how many rows were checked and the first problem."""

    rows_verified: int
    problem: str = ""

    @property
    def is_ok(self) -> bool:
        return not self.problem


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _rows(since: date | None) -> Iterator[dict[str, Any]]:
    rows = AuditEvent.objects.order_by("sequence")
    if since is not None:
        # From the first row of that day on, every later sequence: timestamps are the inserting
        # transaction's start, so they are not strictly monotonic in chain order.
        first = (
            AuditEvent.objects.filter(occurred_at__gte=_start_of(since))
            .order_by("sequence")
            .values_list("sequence", flat=True)
            .first()
        )
        rows = rows.filter(sequence__gte=first) if first is not None else rows.none()
    return rows.values(*CHAINED_FIELDS, "previous_hash", "row_hash").iterator(chunk_size=2000)


def chain_verify(*, since: date | None = None) -> ChainReport:
    """Walk the audit rows in sequence order (from `since`, in the cooperative's time zone);
    report the first gap, broken link or altered row."""
    expected_sequence: int | None = None
    expected_previous: str | None = None
    verified = 0
    for row in _rows(since):
        if expected_sequence is None:
            # The first row checked links to the row before it (or the genesis hash).
            expected_sequence = row["sequence"] if since is not None else 1
            before = (
                AuditEvent.objects.filter(sequence=row["sequence"] - 1)
                .values_list("row_hash", flat=True)
                .first()
            )
            if row["sequence"] == 1:
                expected_previous = GENESIS_HASH
            elif before is None:
                return ChainReport(
                    verified,
                    f"gap: sequence {row['sequence'] - 1} is missing "
                    f"(before row id {row['id']}, sequence {row['sequence']})",
                )
            else:
                expected_previous = before
        if row["sequence"] != expected_sequence:
            missing = (
                f"sequence {expected_sequence}"
                if row["sequence"] == expected_sequence + 1
                else f"sequences {expected_sequence}-{row['sequence'] - 1}"
            )
            return ChainReport(
                verified,
                f"gap: {missing} missing (before row id {row['id']}, sequence {row['sequence']})",
            )
        if row["previous_hash"] != expected_previous:
            return ChainReport(
                verified,
                f"broken link at row id {row['id']} (sequence {row['sequence']}): its "
                f"previous_hash does not match the row_hash of sequence {row['sequence'] - 1}",
            )
        if row_hash(row["previous_hash"], row) != row["row_hash"]:
            return ChainReport(
                verified,
                f"altered row id {row['id']} (sequence {row['sequence']}): its contents do not "
                "match its row_hash",
            )
        verified += 1
        expected_sequence += 1
        expected_previous = row["row_hash"]
    return ChainReport(verified)
