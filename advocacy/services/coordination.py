"""Required care coordination: utilization events, the requirements they trigger, the written
notice, the member's response, the 40% benefit penalty and treatment plans.

Every write checks the actor (an advocate, or the system passed as None), locks rows in one
fixed order (requirement → plan → review / notice / expense → accumulator → case), writes a
`CaseEvent(kind="requirement")` on the requirement's case for every change of the requirement's
status and an audit row for every change of a member's record. Idempotency lives here, backed
by the database: one event per natural key (`dedupe_key`), one requirement per member and
reason, one penalty line per expense, one accumulator per member and year.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import MoneyError, percent_of, to_decimal
from cooperative.uploads import CSV_MAX_BYTES, csv_text
from members.models import Member
from providers.models import Practitioner

from ..models import (
    INPATIENT_DAYS_THRESHOLD,
    INPATIENT_STAYS_THRESHOLD,
    PENALTY_STATUSES,
    TRAILING_DAYS,
    CareCoordinationRequirement,
    Case,
    CaseEventKind,
    CasePriority,
    CaseStatus,
    CaseType,
    ComplexCondition,
    NoticeMethod,
    PenaltyAccumulator,
    PenaltyLine,
    PlanReview,
    PlanStatus,
    RelatedExpense,
    RequirementNotice,
    RequirementReason,
    RequirementStatus,
    ReviewStatus,
    SourceChannel,
    TreatmentPlan,
    UtilizationEvent,
    UtilizationImport,
    UtilizationSource,
    UtilizationType,
)
from ..permissions import can_work_cases
from .cases import _event, case_flag, case_flag_clear, case_open, require_advocate

# The requirement's status machine: one service per move (the admin may end a requirement).
REQUIREMENT_TRANSITIONS: dict[str, set[str]] = {
    RequirementStatus.NOTICE_PENDING: {
        RequirementStatus.AWAITING_RESPONSE,
        RequirementStatus.ENDED,
    },
    RequirementStatus.AWAITING_RESPONSE: {
        RequirementStatus.ACCEPTED,
        RequirementStatus.DECLINED,
        RequirementStatus.NO_RESPONSE,
        RequirementStatus.ENDED,
    },
    RequirementStatus.ACCEPTED: {RequirementStatus.FAILED_TO_COOPERATE, RequirementStatus.ENDED},
    RequirementStatus.DECLINED: {RequirementStatus.ENDED},
    RequirementStatus.NO_RESPONSE: {RequirementStatus.ENDED},
    RequirementStatus.FAILED_TO_COOPERATE: {RequirementStatus.ENDED},
    RequirementStatus.ENDED: set(),
}
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
RESPONSES = ("accepted", "declined")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def long_date(day: date) -> str:
    """November 2, 2026 (no leading zero, whatever the locale)."""
    return f"{day:%B} {day.day}, {day.year}"


def _locked_requirement(requirement_id: int) -> CareCoordinationRequirement:
    return (
        CareCoordinationRequirement.objects.select_for_update(of=("self",))
        .select_related("case", "member")
        .get(pk=requirement_id)
    )


def _require_person_advocate(actor: Any) -> None:
    if not can_work_cases(actor):
        raise ApplicationError("Only an advocate can decide this.", status_code=403)


def _requirement_move(
    requirement: CareCoordinationRequirement,
    to_status: str,
    *,
    actor: Any,
    reason: str,
    fields: Sequence[str] = (),
) -> CareCoordinationRequirement:
    """Apply an allowed move on a locked requirement; the case's timeline and the audit log
    record it (who, when, from, to, why)."""
    from_status = requirement.status
    if to_status not in REQUIREMENT_TRANSITIONS[from_status]:
        raise ConflictError(
            f"A requirement cannot go from {RequirementStatus(from_status).label.lower()} to "
            f"{RequirementStatus(to_status).label.lower()}.",
            errors={"status": [f"Not allowed from {from_status}."]},
        )
    requirement.status = to_status
    requirement.save(update_fields=["status", *fields, "updated_at"])
    _event(
        requirement.case,
        kind=CaseEventKind.REQUIREMENT,
        actor=actor,
        from_value=from_status,
        to_value=to_status,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=requirement,
        detail=f"status {from_status} → {to_status}",
    )
    return requirement


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


# --- Trigger rules ----------------------------------------------------------------------------


def _days_in_window(stay: UtilizationEvent, window_start: date, today: date) -> int:
    """A stay's inpatient days inside [window_start, today]: a stay wholly inside counts its
    `inpatient_days`; a stay straddling an edge counts only the days (nights) inside."""
    assert stay.discharged_on is not None
    if stay.occurred_on >= window_start and stay.discharged_on <= today:
        return stay.inpatient_days
    start = max(stay.occurred_on, window_start)
    end = min(stay.discharged_on, today)
    return max((end - start).days, 0)


def _rules_fired(
    events: list[UtilizationEvent], *, today: date
) -> dict[str, list[UtilizationEvent]]:
    """Which reasons the member's events make fire, with the events that made each fire."""
    window_start = today - timedelta(days=TRAILING_DAYS)
    by_type: dict[str, list[UtilizationEvent]] = {}
    for event in events:
        if event.occurred_on <= today:
            by_type.setdefault(event.event_type, []).append(event)
    fired: dict[str, list[UtilizationEvent]] = {}
    stays = by_type.get(UtilizationType.INPATIENT_STAY, [])
    admitted_in_window = [s for s in stays if s.occurred_on >= window_start]
    if len(admitted_in_window) >= INPATIENT_STAYS_THRESHOLD:
        fired[RequirementReason.INPATIENT_STAYS] = admitted_in_window
    counted = [(s, _days_in_window(s, window_start, today)) for s in stays]
    counted = [(s, days) for s, days in counted if days > 0]
    if sum(days for _, days in counted) >= INPATIENT_DAYS_THRESHOLD:
        fired[RequirementReason.INPATIENT_DAYS] = [s for s, _ in counted]
    for event_type, reason in (
        (UtilizationType.HOME_HEALTH, RequirementReason.HOME_HEALTH),
        (UtilizationType.AMA_DISCHARGE, RequirementReason.AMA_DISCHARGE),
        (UtilizationType.COMPLEX_PREAUTH, RequirementReason.COMPLEX_CONDITION),
        (UtilizationType.TREATMENT_INCOMPLETE, RequirementReason.TREATMENT_INCOMPLETE),
    ):
        if by_type.get(event_type):
            fired[reason] = by_type[event_type]
    return fired


def _event_line(event: UtilizationEvent) -> str:
    text = f"{event.get_event_type_display()} {event.occurred_on.isoformat()}"
    if event.discharged_on and event.event_type == UtilizationType.INPATIENT_STAY:
        text += f"–{event.discharged_on.isoformat()}"
    return text


@transaction.atomic
def requirements_evaluate(
    *, member: Member, actor: Any = None, today: date | None = None
) -> list[CareCoordinationRequirement]:
    """Apply the trigger rules to the member's events as of `today` (default: today) and create
    the requirements (each with a high-priority care-coordination case) that do not exist yet,
    once per reason. The rules: 3+ inpatient stays admitted, or 30+ inpatient days spent, in the
    trailing 365 days up to and including `today` (a stay straddling the window's start counts
    only its days inside the window); any home-health service, discharge against medical
    advice, complex-condition preauthorization or unfinished treatment course. Returns only the
    requirements created now."""
    require_advocate(actor)
    today = today or timezone.localdate()
    events = list(UtilizationEvent.objects.filter(member=member).order_by("occurred_on", "id"))
    fired = _rules_fired(events, today=today)
    if not fired:
        return []
    existing = set(
        CareCoordinationRequirement.objects.filter(member=member).values_list("reason", flat=True)
    )
    created: list[CareCoordinationRequirement] = []
    for reason in RequirementReason.values:
        if reason not in fired or reason in existing:
            continue
        label = RequirementReason(reason).label
        triggering = fired[reason]
        try:
            # The unique constraint (member, reason) settles a race with a concurrent evaluation:
            # the loser's savepoint (its case included) rolls back and it creates nothing.
            with transaction.atomic():
                case = case_open(
                    actor=None,
                    member=member,
                    case_type=CaseType.CARE_COORDINATION,
                    source=SourceChannel.TRIGGER,
                    priority=CasePriority.HIGH,
                    summary=f"Care coordination required: {label}",
                )
                requirement = CareCoordinationRequirement.objects.create(
                    member=member, reason=reason, case=case, triggered_on=today
                )
        except IntegrityError:
            if not CareCoordinationRequirement.objects.filter(
                member=member, reason=reason
            ).exists():
                raise
            continue
        requirement.triggering_events.set(triggering)
        _event(
            case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            to_value=RequirementStatus.NOTICE_PENDING,
            reason=f"{label}: " + "; ".join(_event_line(e) for e in triggering),
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=requirement,
            detail=f"care coordination required: {reason}",
        )
        created.append(requirement)
    return created


# --- Notice and response ----------------------------------------------------------------------


@transaction.atomic
def notice_request(
    *, requirement: CareCoordinationRequirement, actor: Any, letter_date: date | None = None
) -> RequirementNotice:
    """Prepare the written notice (the member has ADVOCACY_NOTICE_RESPONSE_DAYS from the letter
    date to answer); a worker renders the letter once the transaction commits."""
    require_advocate(actor)
    requirement = _locked_requirement(requirement.pk)
    if requirement.status in (RequirementStatus.ENDED, RequirementStatus.ACCEPTED):
        raise ConflictError(
            f"The requirement is {requirement.get_status_display().lower()}: no notice is sent.",
            errors={"requirement": ["No notice for an ended or accepted requirement."]},
        )
    letter_date = letter_date or timezone.localdate()
    if letter_date < requirement.triggered_on:
        raise ApplicationError(
            f"The letter cannot be dated before the requirement arose "
            f"({requirement.triggered_on.isoformat()}).",
            errors={"letter_date": ["Before the requirement arose."]},
        )
    notice = RequirementNotice.objects.create(
        requirement=requirement,
        letter_date=letter_date,
        response_due_on=letter_date + timedelta(days=settings.ADVOCACY_NOTICE_RESPONSE_DAYS),
        created_by=user_or_none(actor),
    )
    _event(
        requirement.case,
        kind=CaseEventKind.REQUIREMENT,
        actor=actor,
        from_value=requirement.status,
        to_value=requirement.status,
        reason=(
            f"Notice dated {letter_date.isoformat()} prepared; response due "
            f"{notice.response_due_on.isoformat()}"
        ),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=notice)
    from ..tasks import notice_render as notice_render_task

    notice_id = notice.pk
    transaction.on_commit(lambda: notice_render_task.delay(notice_id))
    return notice


def notice_render(*, notice_id: int) -> RequirementNotice:
    """Render the notice letter once and keep it with its SHA-256 (idempotent; run by a worker)."""
    from ..documents import notice_pdf

    with transaction.atomic():
        notice = (
            RequirementNotice.objects.select_for_update(of=("self",))
            .select_related("requirement")
            .get(pk=notice_id)
        )
        if notice.file:
            return notice
        content = notice_pdf(notice)
        notice.file.save(f"notice-{notice.pk}.pdf", ContentFile(content), save=False)
        notice.sha256 = hashlib.sha256(content).hexdigest()
        notice.rendered_at = timezone.now()
        notice.save(update_fields=["file", "sha256", "rendered_at"])
    return notice


@transaction.atomic
def notice_mark_sent(
    *, notice: RequirementNotice, actor: Any, sent_on: date, method: str
) -> RequirementNotice:
    """Record that the rendered letter went out (on a date between the letter date and today);
    the member's response is then due by the notice's deadline."""
    require_advocate(actor)
    requirement = _locked_requirement(notice.requirement_id)
    notice = RequirementNotice.objects.select_for_update().get(pk=notice.pk)
    if method not in NoticeMethod.values:
        raise ApplicationError(
            f"Unknown method '{method}'.",
            errors={"method": [f"Choose one of: {', '.join(NoticeMethod.values)}."]},
        )
    if notice.sent_on is not None:
        raise ConflictError(
            f"This notice was already sent on {notice.sent_on.isoformat()}.",
            errors={"sent_on": ["Already recorded."]},
        )
    if not notice.file:
        raise ConflictError(
            "The letter is still being prepared: send it once it is rendered.",
            errors={"notice": ["Not rendered yet."]},
        )
    if sent_on is None or sent_on < notice.letter_date or sent_on > timezone.localdate():
        raise ApplicationError(
            "The notice is sent between its letter date and today.",
            errors={"sent_on": ["Between the letter date and today."]},
        )
    if requirement.status in (RequirementStatus.ENDED, RequirementStatus.ACCEPTED):
        raise ConflictError(
            f"The requirement is {requirement.get_status_display().lower()}: the notice is not sent.",
            errors={"requirement": ["No notice for an ended or accepted requirement."]},
        )
    notice.sent_on = sent_on
    notice.method = method
    notice.sent_by = user_or_none(actor)
    notice.save(update_fields=["sent_on", "method", "sent_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=notice,
        detail=f"sent {sent_on.isoformat()} by {method}",
    )
    why = (
        f"Notice of {notice.letter_date.isoformat()} sent {sent_on.isoformat()} by "
        f"{NoticeMethod(method).label.lower()}; response due {notice.response_due_on.isoformat()}"
    )
    if requirement.status == RequirementStatus.NOTICE_PENDING:
        requirement.response_due_on = notice.response_due_on
        _requirement_move(
            requirement,
            RequirementStatus.AWAITING_RESPONSE,
            actor=actor,
            reason=why,
            fields=["response_due_on"],
        )
    elif requirement.status == RequirementStatus.AWAITING_RESPONSE:
        # A notice sent again: the member has until the later of the two deadlines.
        if notice.response_due_on > (requirement.response_due_on or notice.response_due_on):
            requirement.response_due_on = notice.response_due_on
            requirement.save(update_fields=["response_due_on", "updated_at"])
        _event(
            requirement.case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            from_value=requirement.status,
            to_value=requirement.status,
            reason=why,
        )
    else:
        _event(
            requirement.case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            from_value=requirement.status,
            to_value=requirement.status,
            reason=why,
        )
    return notice


@transaction.atomic
def requirement_record_response(
    *,
    requirement: CareCoordinationRequirement,
    actor: Any,
    response: str,
    responded_on: date,
    note: str = "",
) -> CareCoordinationRequirement:
    """Record the member's answer to a sent notice: accepted, or declined (the 40% benefit
    penalty then applies to every related expense, from the response date)."""
    require_advocate(actor)
    if response not in RESPONSES:
        raise ApplicationError(
            f"Unknown response '{response}'.",
            errors={"response": ["Choose accepted or declined."]},
        )
    requirement = _locked_requirement(requirement.pk)
    if requirement.status != RequirementStatus.AWAITING_RESPONSE:
        if requirement.status == RequirementStatus.NOTICE_PENDING:
            message = (
                "The written notice has not been sent yet: record the member's response "
                "after the notice was sent."
            )
        else:
            message = (
                f"The requirement is {requirement.get_status_display().lower()}: a response is "
                "recorded only while the member's answer is awaited."
            )
        raise ConflictError(message, errors={"response": ["Not awaiting a response."]})
    first_sent = (
        requirement.notices.filter(sent_on__isnull=False)
        .order_by("sent_on")
        .values_list("sent_on", flat=True)
        .first()
    )
    if responded_on is None or (first_sent and responded_on < first_sent):
        raise ApplicationError(
            "The response date cannot be before the notice was sent.",
            errors={"responded_on": ["Before the notice was sent."]},
        )
    if responded_on > timezone.localdate():
        raise ApplicationError(
            "The response date is in the future.", errors={"responded_on": ["In the future."]}
        )
    note = (note or "").strip()
    if len(note) > 500:
        raise ApplicationError(
            "The note is longer than 500 characters.", errors={"note": ["At most 500 characters."]}
        )
    requirement.responded_on = responded_on
    requirement.response_note = note
    fields = ["responded_on", "response_note"]
    why = f"Member {response} on {responded_on.isoformat()}" + (f": {note}" if note else "")
    if response == "declined":
        requirement.penalty_since = responded_on
        fields.append("penalty_since")
        _requirement_move(
            requirement, RequirementStatus.DECLINED, actor=actor, reason=why, fields=fields
        )
        penalty_apply(requirement=requirement, actor=actor)
    else:
        _requirement_move(
            requirement, RequirementStatus.ACCEPTED, actor=actor, reason=why, fields=fields
        )
    return requirement


def requirements_mark_no_response(*, today: date | None = None) -> int:
    """Daily: a requirement still awaiting the member's answer after its deadline becomes
    'no response' and the 40% penalty applies from the day after the deadline (idempotent).
    Each requirement moves in its own transaction; rows another worker holds are skipped."""
    today = today or timezone.localdate()
    due = CareCoordinationRequirement.objects.filter(
        status=RequirementStatus.AWAITING_RESPONSE, response_due_on__lt=today
    ).values_list("pk", flat=True)
    moved = 0
    for requirement_id in list(due.order_by("pk")):
        with transaction.atomic():
            requirement = (
                CareCoordinationRequirement.objects.select_for_update(
                    of=("self",), skip_locked=True
                )
                .select_related("case", "member")
                .filter(
                    pk=requirement_id,
                    status=RequirementStatus.AWAITING_RESPONSE,
                    response_due_on__lt=today,
                )
                .first()
            )
            if requirement is None or requirement.response_due_on is None:
                continue
            requirement.penalty_since = requirement.response_due_on + timedelta(days=1)
            _requirement_move(
                requirement,
                RequirementStatus.NO_RESPONSE,
                actor=None,
                reason=f"No response by {requirement.response_due_on.isoformat()}",
                fields=["penalty_since"],
            )
            penalty_apply(requirement=requirement, actor=None)
            moved += 1
    return moved


# --- Related expenses and the penalty ---------------------------------------------------------


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = to_decimal(value)
    except MoneyError as error:
        raise ApplicationError(str(error), errors={field: ["Not an amount."]}) from None
    if amount != amount.quantize(Decimal("0.01")):
        raise ApplicationError(
            f"{amount} is not a whole number of cents.", errors={field: ["Whole cents only."]}
        )
    if amount < 0:
        raise ApplicationError(
            "Amounts cannot be negative.", errors={field: ["Cannot be negative."]}
        )
    if amount >= Decimal("10000000000"):
        raise ApplicationError("The amount is too large.", errors={field: ["Too large."]})
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def expense_add(
    *,
    requirement: CareCoordinationRequirement,
    actor: Any,
    service_date: date,
    description: str,
    provider_name: str,
    billed_amount: Decimal | int | str,
    plan_amount: Decimal | int | str,
    code: str = "",
) -> RelatedExpense:
    """Relate an expense to the requirement (the plan amount at most the billed amount); under
    a declined, unanswered or failed requirement its 40% penalty is recorded at once."""
    require_advocate(actor)
    requirement = _locked_requirement(requirement.pk)
    billed = _amount(billed_amount, "billed_amount")
    plan = _amount(plan_amount, "plan_amount")
    if plan > billed:
        raise ApplicationError(
            "The plan amount cannot exceed the billed amount.",
            errors={"plan_amount": ["At most the billed amount."]},
        )
    description = (description or "").strip()
    provider_name = " ".join((provider_name or "").split())
    code = (code or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if service_date is None or service_date > timezone.localdate():
        errors["service_date"] = ["Give a date of service, not in the future."]
    if not description or len(description) > 200:
        errors["description"] = ["Describe the expense (at most 200 characters)."]
    if not provider_name or len(provider_name) > 200:
        errors["provider_name"] = ["Name the provider (at most 200 characters)."]
    if len(code) > 5:
        errors["code"] = ["At most 5 characters (a CPT or HCPCS code)."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    expense = RelatedExpense.objects.create(
        requirement=requirement,
        service_date=service_date,
        description=description,
        code=code,
        provider_name=provider_name,
        billed_amount=billed,
        plan_amount=plan,
        recorded_by=user_or_none(actor),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=expense, detail=f"plan amount {plan}")
    if requirement.penalty_applies:
        penalty_apply(requirement=requirement, actor=actor)
    return expense


@transaction.atomic
def penalty_apply(
    *, requirement: CareCoordinationRequirement, actor: Any = None
) -> list[PenaltyLine]:
    """Record the benefit penalty (the requirement's percent of the plan amount, rounded
    half-up to cents at the line) on every related expense that has none yet, and add it to
    the member's penalty accumulator of the service year (never toward deductibles or
    out-of-pocket limits). Idempotent: an expense carries at most one penalty line."""
    require_advocate(actor)
    requirement = _locked_requirement(requirement.pk)
    if not requirement.penalty_applies:
        raise ConflictError(
            f"No penalty applies: the requirement is {requirement.get_status_display().lower()}.",
            errors={"requirement": ["Not declined, unanswered or failed."]},
        )
    expenses = list(
        RelatedExpense.objects.select_for_update(of=("self",))
        .filter(requirement=requirement, penalty__isnull=True)
        .order_by("service_date", "id")
    )
    lines: list[PenaltyLine] = []
    for expense in expenses:
        amount = percent_of(expense.plan_amount, requirement.penalty_percent)
        try:
            with transaction.atomic():
                line = PenaltyLine.objects.create(
                    expense=expense,
                    requirement=requirement,
                    member_id=requirement.member_id,
                    percent=requirement.penalty_percent,
                    base_amount=expense.plan_amount,
                    amount=amount,
                    year=expense.service_date.year,
                    applied_by=user_or_none(actor),
                )
        except IntegrityError:
            if not PenaltyLine.objects.filter(expense=expense).exists():
                raise
            continue  # already penalised by a concurrent run
        accumulator, _ = PenaltyAccumulator.objects.get_or_create(
            member_id=requirement.member_id, year=line.year
        )
        PenaltyAccumulator.objects.filter(pk=accumulator.pk).update(
            total=F("total") + amount, line_count=F("line_count") + 1
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=line,
            detail=f"benefit penalty {amount} ({requirement.penalty_percent}% of {expense.plan_amount})",
        )
        lines.append(line)
    return lines


# --- Treatment plans --------------------------------------------------------------------------


def _missed_flag(review: PlanReview) -> str:
    return f"Treatment-plan review due {long_date(review.due_on)} was missed"


def _next_due(review: PlanReview, after: date) -> date:
    """The plan's cadence continues from the review's due date: the first date after `after`."""
    interval = timedelta(days=review.plan.review_interval_days)
    due = review.due_on + interval
    while due <= after:
        due += interval
    return due


def _schedule_next(review: PlanReview, after: date) -> PlanReview | None:
    if review.plan.status != PlanStatus.ACTIVE:
        return None
    next_review, _ = PlanReview.objects.get_or_create(
        plan=review.plan, due_on=_next_due(review, after)
    )
    return next_review


def _clear_flag_of(review: PlanReview, *, actor: Any, why: str) -> None:
    case = review.plan.case
    case.refresh_from_db(fields=["flag_reason"])
    if case.flag_reason and case.flag_reason == _missed_flag(review):
        case_flag_clear(case=case, actor=actor, reason=why)


def _locked_review(review: PlanReview) -> PlanReview:
    return (
        PlanReview.objects.select_for_update(of=("self",))
        .select_related("plan", "plan__case", "plan__requirement")
        .get(pk=review.pk)
    )


@transaction.atomic
def treatment_plan_create(
    *,
    case: Case,
    actor: Any,
    goals: str,
    interventions: str,
    starts_on: date,
    review_interval_days: int = 30,
    requires_submission: bool = False,
    practitioners: Iterable[Practitioner] = (),
    other_responsible: str = "",
    requirement: CareCoordinationRequirement | None = None,
) -> TreatmentPlan:
    """Agree a treatment plan (goals, interventions, responsible providers) on a case; it is
    reviewed every `review_interval_days` (7 to 365) days, the first review that long after it
    starts."""
    require_advocate(actor)
    if requirement is not None:
        requirement = _locked_requirement(requirement.pk)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    errors: dict[str, list[str]] = {}
    if case.status == CaseStatus.CLOSED:
        raise ConflictError(
            f"Case {case.reference} is closed: reopen it before adding a treatment plan.",
            errors={"case": ["A closed case takes no new plan."]},
        )
    goals = (goals or "").strip()
    interventions = (interventions or "").strip()
    other_responsible = (other_responsible or "").strip()
    practitioners = list(practitioners)
    if not goals:
        errors["goals"] = ["State the plan's goals."]
    if not interventions:
        errors["interventions"] = ["State the interventions."]
    if starts_on is None:
        errors["starts_on"] = ["Give the start date."]
    if not isinstance(review_interval_days, int) or not 7 <= review_interval_days <= 365:
        errors["review_interval_days"] = ["Reviews are between 7 and 365 days apart."]
    if len(other_responsible) > 300:
        errors["other_responsible"] = ["At most 300 characters."]
    if requirement is not None and requirement.member_id != case.member_id:
        errors["requirement"] = ["This requirement is another member's."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    plan = TreatmentPlan.objects.create(
        case=case,
        requirement=requirement,
        goals=goals,
        interventions=interventions,
        other_responsible=other_responsible,
        starts_on=starts_on,
        review_interval_days=review_interval_days,
        requires_submission=bool(requires_submission),
        created_by=user_or_none(actor),
    )
    if practitioners:
        plan.responsible_practitioners.set(practitioners)
    first = PlanReview.objects.create(
        plan=plan, due_on=starts_on + timedelta(days=review_interval_days)
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=plan,
        detail=f"reviews every {review_interval_days} days, first {first.due_on.isoformat()}",
    )
    if requirement is not None:
        _event(
            requirement.case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            from_value=requirement.status,
            to_value=requirement.status,
            reason=(
                f"Treatment plan from {starts_on.isoformat()}; first review due "
                f"{first.due_on.isoformat()}"
            ),
        )
    return plan


@transaction.atomic
def plan_review_complete(
    *,
    review: PlanReview,
    actor: Any,
    completed_on: date,
    notes: str = "",
    submission_received_on: date | None = None,
) -> PlanReview:
    """Complete a scheduled (or late, missed) review; a plan that requires submission needs the
    date the submission was received. The next review follows the plan's cadence from this
    review's due date, and a flag raised for this review is cleared."""
    require_advocate(actor)
    review = _locked_review(review)
    if review.status not in (ReviewStatus.SCHEDULED, ReviewStatus.MISSED):
        raise ConflictError(
            f"This review is already {review.get_status_display().lower()}.",
            errors={"review": ["Not open."]},
        )
    today = timezone.localdate()
    if completed_on is None or completed_on > today or completed_on < review.plan.starts_on:
        raise ApplicationError(
            "The review is completed between the plan's start and today.",
            errors={"completed_on": ["Between the plan's start and today."]},
        )
    if review.plan.requires_submission:
        if submission_received_on is None:
            raise ApplicationError(
                "This plan requires a submission at each review: give the date it was received.",
                errors={"submission_received_on": ["Required by this plan."]},
            )
        if submission_received_on > completed_on:
            raise ApplicationError(
                "The submission is received on or before the review is completed.",
                errors={"submission_received_on": ["After the review date."]},
            )
    was_missed = review.status == ReviewStatus.MISSED
    review.status = ReviewStatus.COMPLETED
    review.completed_on = completed_on
    review.submission_received_on = submission_received_on
    review.notes = (notes or "").strip()
    review.decided_by = user_or_none(actor)
    review.decided_at = timezone.now()
    review.save(
        update_fields=[
            "status", "completed_on", "submission_received_on", "notes", "decided_by", "decided_at",
        ]
    )  # fmt: skip
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=review, detail="completed")
    # A late completion continues the cadence (the next review is not already past).
    _schedule_next(review, after=completed_on if was_missed else review.due_on)
    _clear_flag_of(review, actor=actor, why=f"Review completed on {completed_on.isoformat()}")
    return review


def plan_reviews_mark_missed(*, today: date | None = None) -> int:
    """Daily: a scheduled review of an active plan past its due date is missed and flags the
    case. The requirement is not changed: a missed review counts as failure to cooperate only
    once an advocate confirms it. Each review in its own transaction; held rows are skipped."""
    today = today or timezone.localdate()
    due_ids = list(
        PlanReview.objects.filter(
            status=ReviewStatus.SCHEDULED, due_on__lt=today, plan__status=PlanStatus.ACTIVE
        )
        .order_by("due_on", "pk")
        .values_list("pk", flat=True)
    )
    missed = 0
    for review_id in due_ids:
        with transaction.atomic():
            review = (
                PlanReview.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("plan", "plan__case")
                .filter(pk=review_id, status=ReviewStatus.SCHEDULED, due_on__lt=today)
                .first()
            )
            if review is None:
                continue
            review.status = ReviewStatus.MISSED
            review.save(update_fields=["status"])
            audit_record(actor=None, action=AuditAction.UPDATE, obj=review, detail="missed")
            case_flag(case=review.plan.case, actor=None, reason=_missed_flag(review))
            missed += 1
    return missed


@transaction.atomic
def plan_review_confirm_failure(*, review: PlanReview, actor: Any, note: str) -> PlanReview:
    """An advocate confirms that a missed review was the member's failure to cooperate: the
    plan's requirement becomes 'failed to cooperate' and the 40% penalty applies."""
    _require_person_advocate(actor)
    note = (note or "").strip()
    if not note:
        raise ApplicationError("Say why.", errors={"note": ["Explain the confirmation."]})
    plan_requirement = (
        TreatmentPlan.objects.filter(pk=review.plan_id)
        .values_list("requirement_id", flat=True)
        .first()
    )
    requirement = _locked_requirement(plan_requirement) if plan_requirement else None
    review = _missed_review_decide(
        review, ReviewStatus.FAILURE_CONFIRMED, actor=actor, note=note,
        refused="can be confirmed as a failure to cooperate", detail="failure confirmed",
    )  # fmt: skip
    why = f"Review due {review.due_on.isoformat()} missed; failure to cooperate confirmed: {note}"
    if requirement is not None:
        if requirement.status in PENALTY_STATUSES or requirement.status == RequirementStatus.ENDED:
            _event(
                requirement.case,
                kind=CaseEventKind.REQUIREMENT,
                actor=actor,
                from_value=requirement.status,
                to_value=requirement.status,
                reason=why,
            )
        else:
            requirement.penalty_since = timezone.localdate()
            _requirement_move(
                requirement,
                RequirementStatus.FAILED_TO_COOPERATE,
                actor=actor,
                reason=why,
                fields=["penalty_since"],
            )
        if requirement.penalty_applies:
            penalty_apply(requirement=requirement, actor=actor)
    _clear_flag_of(review, actor=actor, why="Failure to cooperate confirmed")
    return review


def _missed_review_decide(
    review: PlanReview, status: str, *, actor: Any, note: str, refused: str, detail: str
) -> PlanReview:
    """Lock a missed review and record the advocate's decision on it (status, note, who, when,
    audit row); a review that is not missed is refused."""
    review = _locked_review(review)
    if review.status != ReviewStatus.MISSED:
        raise ConflictError(
            f"Only a missed review {refused}; this one is {review.get_status_display().lower()}.",
            errors={"review": ["Not missed."]},
        )
    review.status = status
    review.notes = "\n\n".join(part for part in (review.notes, note) if part)
    review.decided_by = user_or_none(actor)
    review.decided_at = timezone.now()
    review.save(update_fields=["status", "notes", "decided_by", "decided_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=review, detail=detail)
    return review


@transaction.atomic
def plan_review_excuse(*, review: PlanReview, actor: Any, note: str) -> PlanReview:
    """An advocate excuses a missed review (no failure to cooperate): the flag is cleared and
    the next review is scheduled on the plan's cadence."""
    require_advocate(actor)
    note = (note or "").strip()
    if not note:
        raise ApplicationError("Say why.", errors={"note": ["Explain why it is excused."]})
    review = _missed_review_decide(
        review, ReviewStatus.EXCUSED, actor=actor, note=note, refused="can be excused",
        detail="excused",
    )  # fmt: skip
    _schedule_next(review, after=timezone.localdate())
    _clear_flag_of(review, actor=actor, why=f"Missed review excused: {note}")
    return review


def coordination_daily(*, today: date | None = None) -> dict[str, int]:
    """Daily (beat, 01:00): unanswered notices past their deadline, then missed plan reviews."""
    today = today or timezone.localdate()
    return {
        "no_response": requirements_mark_no_response(today=today),
        "reviews_missed": plan_reviews_mark_missed(today=today),
    }


__all__ = [
    "IMPORT_COLUMNS", "REQUIREMENT_TRANSITIONS",
    "coordination_daily", "expense_add", "long_date", "normalized_provider_name",
    "notice_mark_sent", "notice_render", "notice_request", "penalty_apply",
    "plan_review_complete", "plan_review_confirm_failure", "plan_review_excuse",
    "plan_reviews_mark_missed", "requirement_record_response", "requirements_evaluate",
    "requirements_mark_no_response", "treatment_plan_create", "utilization_dedupe_key",
    "utilization_import", "utilization_record",
]  # fmt: skip
