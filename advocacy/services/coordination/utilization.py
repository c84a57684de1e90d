"""Utilization events: recording one (by an advocate) or importing a CSV file of them; each
new event runs the member's trigger rules.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction
from cooperative.uploads import CSV_MAX_BYTES, csv_text
from members.models import Member
from providers.models import Practitioner

from ...models import (
    CareCoordinationRequirement,
    ComplexCondition,
    UtilizationEvent,
    UtilizationImport,
    UtilizationSource,
    UtilizationType,
)
from ..cases import require_advocate
from .triggers import requirements_evaluate

# The columns of a utilization CSV file, in this order on its first line.
IMPORT_COLUMNS = (
    "member_number",
    "type",
    "date",
    "discharge_date",
    "condition",
    "provider",
    "description",
)
IMPORT_MAX_BYTES = CSV_MAX_BYTES
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# --- Utilization events ---------------------------------------------------------------------


def normalized_provider_name(name: str) -> str:
    """'St. Luke's  Hospital' and 'st lukes hospital' are the same provider for the natural key."""
    text = unicodedata.normalize("NFKC", name).casefold().replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def utilization_dedupe_key(
    *,
    member_id: int,
    event_type: str,
    occurred_on: date,
    discharged_on: date | None,
    condition: str,
    provider_name: str,
) -> str:
    """SHA-256 (hex) of the event's natural key: member, type, dates, condition, provider."""
    natural = "|".join(
        (
            str(member_id),
            event_type,
            occurred_on.isoformat(),
            discharged_on.isoformat() if discharged_on else "",
            condition,
            normalized_provider_name(provider_name),
        )
    )
    return hashlib.sha256(natural.encode()).hexdigest()


@dataclass(frozen=True)
class _Recorded:
    event: UtilizationEvent
    is_new: bool


def _utilization_validate(
    *,
    event_type: str,
    occurred_on: date | None,
    discharged_on: date | None,
    condition: str,
    provider_name: str,
    description: str,
) -> None:
    today = timezone.localdate()
    if event_type not in UtilizationType.values:
        raise ApplicationError(
            f"Unknown type '{event_type}': use one of {', '.join(UtilizationType.values)}.",
            errors={"event_type": [f"Choose one of: {', '.join(UtilizationType.values)}."]},
        )
    if occurred_on is None:
        raise ApplicationError("Give the date of the event.", errors={"occurred_on": ["Required."]})
    if occurred_on > today:
        raise ApplicationError(
            f"The date {occurred_on.isoformat()} is in the future: record events after they happen.",
            errors={"occurred_on": ["This date is in the future."]},
        )
    if discharged_on is not None and discharged_on < occurred_on:
        raise ApplicationError(
            f"The discharge date {discharged_on.isoformat()} is before the admission date "
            f"{occurred_on.isoformat()}.",
            errors={"discharged_on": ["The discharge date cannot be before the admission date."]},
        )
    if discharged_on is not None and discharged_on > today:
        raise ApplicationError(
            f"The discharge date {discharged_on.isoformat()} is in the future: record the stay "
            "once the member is discharged.",
            errors={"discharged_on": ["This date is in the future."]},
        )
    if event_type == UtilizationType.INPATIENT_STAY and discharged_on is None:
        raise ApplicationError(
            "An inpatient stay needs its discharge date.",
            errors={"discharged_on": ["Give the discharge date of the stay."]},
        )
    if event_type == UtilizationType.COMPLEX_PREAUTH:
        if not condition:
            raise ApplicationError(
                "A complex-condition preauthorization names its condition.",
                errors={"condition": [f"Choose one of: {', '.join(ComplexCondition.values)}."]},
            )
        if condition not in ComplexCondition.values:
            raise ApplicationError(
                f"Unknown condition '{condition}': use one of {', '.join(ComplexCondition.values)}.",
                errors={"condition": [f"Choose one of: {', '.join(ComplexCondition.values)}."]},
            )
    elif condition:
        raise ApplicationError(
            "A condition is recorded only on a complex-condition preauthorization.",
            errors={"condition": ["Leave the condition empty for this type."]},
        )
    if not provider_name:
        raise ApplicationError("Name the provider.", errors={"provider_name": ["Required."]})
    if len(provider_name) > 200:
        raise ApplicationError(
            "The provider name is longer than 200 characters.",
            errors={"provider_name": ["At most 200 characters."]},
        )
    if len(description) > 300:
        raise ApplicationError(
            "The description is longer than 300 characters.",
            errors={"description": ["At most 300 characters."]},
        )


def _utilization_write(
    *,
    actor: Any,
    member: Member,
    event_type: str,
    occurred_on: date,
    provider_name: str,
    discharged_on: date | None,
    condition: str,
    practitioner: Practitioner | None,
    description: str,
    source: str,
    utilization_import: UtilizationImport | None = None,
) -> _Recorded:
    """Validate and insert one event, or find the one with the same natural key."""
    event_type = (event_type or "").strip()
    condition = (condition or "").strip()
    provider_name = " ".join((provider_name or "").split())
    description = (description or "").strip()
    _utilization_validate(
        event_type=event_type,
        occurred_on=occurred_on,
        discharged_on=discharged_on,
        condition=condition,
        provider_name=provider_name,
        description=description,
    )
    key = utilization_dedupe_key(
        member_id=member.pk,
        event_type=event_type,
        occurred_on=occurred_on,
        discharged_on=discharged_on,
        condition=condition,
        provider_name=provider_name,
    )
    existing = UtilizationEvent.objects.filter(dedupe_key=key).first()
    if existing is not None:
        return _Recorded(existing, is_new=False)
    event = UtilizationEvent(
        member=member,
        event_type=event_type,
        occurred_on=occurred_on,
        discharged_on=discharged_on,
        condition=condition,
        provider_name=provider_name,
        practitioner=practitioner,
        description=description,
        source=source,
        utilization_import=utilization_import,
        dedupe_key=key,
        recorded_by=user_or_none(actor),
    )
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # Another transaction recorded the same fact since we looked: that one stands (any
        # other refusal is not ours to hide).
        winner = UtilizationEvent.objects.filter(dedupe_key=key).first()
        if winner is None:
            raise
        return _Recorded(winner, is_new=False)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=event,
        detail=f"utilization {event_type} {occurred_on.isoformat()} ({source})",
    )
    return _Recorded(event, is_new=True)


@transaction.atomic
def utilization_record(
    *,
    actor: Any,
    member: Member,
    event_type: str,
    occurred_on: date,
    provider_name: str,
    discharged_on: date | None = None,
    condition: str = "",
    practitioner: Practitioner | None = None,
    description: str = "",
) -> tuple[UtilizationEvent, list[CareCoordinationRequirement]]:
    """Record a utilization fact once (a duplicate returns the event already recorded) and
    evaluate the member's trigger rules; returns the event and the requirements it created."""
    require_advocate(actor)
    recorded = _utilization_write(
        actor=actor,
        member=member,
        event_type=event_type,
        occurred_on=occurred_on,
        provider_name=provider_name,
        discharged_on=discharged_on,
        condition=condition,
        practitioner=practitioner,
        description=description,
        source=UtilizationSource.STAFF,
    )
    if not recorded.is_new:
        return recorded.event, []
    return recorded.event, requirements_evaluate(member=member, actor=actor)


def _import_rows(text: str) -> list[tuple[int, list[str]]]:
    """The file's records, each with the line it starts on (a quoted field may span lines)."""
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    previous = 0
    try:
        for row in reader:
            rows.append((previous + 1, row))
            previous = reader.line_num
    except csv.Error as error:
        raise ApplicationError(
            f"The file is not a readable CSV file (line {reader.line_num}: {error}).",
            errors={"file": ["Not a CSV file."]},
        ) from None
    return rows


def _import_date(value: str, column: str) -> date:
    try:
        if not _ISO_DATE.fullmatch(value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise ApplicationError(
            f"The {column} '{value}' is not a valid date (YYYY-MM-DD)."
        ) from None


@transaction.atomic
def utilization_import(*, actor: Any, file_name: str, content: bytes) -> UtilizationImport:
    """Import utilization events from a CSV file whose first line is
    `member_number,type,date,discharge_date,condition,provider,description` (type: a
    UtilizationType value; condition: a ComplexCondition value, for complex_preauth only;
    dates YYYY-MM-DD; date is the admission date of a stay). Each line is recorded in its own
    savepoint: a bad line is rejected as {"line": n, "error": "..."} (the header is line 1) and
    the rest imported; a fact already recorded counts as a duplicate, so importing the same
    file twice records nothing twice. A file that is not such a CSV is refused whole."""
    require_advocate(actor)
    rows = _import_rows(csv_text(content))
    header = tuple(cell.strip().lower() for cell in rows[0][1]) if rows else ()
    if header != IMPORT_COLUMNS:
        raise ApplicationError(
            f"The first line must be: {','.join(IMPORT_COLUMNS)}.",
            errors={"file": ["Not a utilization CSV file (wrong or missing header)."]},
        )
    batch = UtilizationImport.objects.create(
        file_name=(file_name or "upload.csv")[:200], uploaded_by=user_or_none(actor)
    )
    numbers = {row[0].strip().upper() for _, row in rows[1:] if row and row[0].strip()}
    members = {m.member_number: m for m in Member.objects.filter(member_number__in=numbers)}
    rejected: list[dict[str, Any]] = []
    imported = duplicates = 0
    touched: dict[int, Member] = {}
    for line_number, row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        cells = dict(zip(IMPORT_COLUMNS, (c.strip() for c in row), strict=False))
        cells.update({column: "" for column in IMPORT_COLUMNS if column not in cells})
        try:
            with transaction.atomic():
                if any(cell.strip() for cell in row[len(IMPORT_COLUMNS) :]):
                    raise ApplicationError(
                        f"{len(row)} columns where {len(IMPORT_COLUMNS)} are expected."
                    )
                member = members.get(cells["member_number"].upper())
                if member is None:
                    raise ApplicationError(f"Unknown member number '{cells['member_number']}'.")
                occurred_on = _import_date(cells["date"], "date")
                discharged_on = (
                    _import_date(cells["discharge_date"], "discharge_date")
                    if cells["discharge_date"]
                    else None
                )
                recorded = _utilization_write(
                    actor=actor,
                    member=member,
                    event_type=cells["type"].lower(),
                    occurred_on=occurred_on,
                    provider_name=cells["provider"],
                    discharged_on=discharged_on,
                    condition=cells["condition"].lower(),
                    practitioner=None,
                    description=cells["description"],
                    source=UtilizationSource.IMPORT,
                    utilization_import=batch,
                )
        except ApplicationError as error:
            rejected.append({"line": line_number, "error": error.message})
            continue
        if recorded.is_new:
            imported += 1
            touched[member.pk] = member
        else:
            duplicates += 1
    created = 0
    for member in touched.values():
        created += len(requirements_evaluate(member=member, actor=actor))
    UtilizationImport.objects.filter(pk=batch.pk).update(
        imported_count=imported,
        duplicate_count=duplicates,
        rejected_count=len(rejected),
        requirements_created=created,
        rejected_lines=rejected,
    )
    batch.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=batch,
        detail=(
            f"utilization import: {imported} imported, {duplicates} duplicates, "
            f"{len(rejected)} rejected, {created} requirements"
        ),
    )
    return batch
