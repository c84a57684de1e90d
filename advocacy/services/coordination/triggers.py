"""The trigger rules: which requirements a member's utilization events give rise to."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.models import AuditAction
from members.models import Member

from ...models import (
    INPATIENT_DAYS_THRESHOLD,
    INPATIENT_STAYS_THRESHOLD,
    TRAILING_DAYS,
    CareCoordinationRequirement,
    CaseEventKind,
    CasePriority,
    CaseType,
    RequirementReason,
    RequirementStatus,
    SourceChannel,
    UtilizationEvent,
    UtilizationType,
)
from ..cases import _event, case_open, require_advocate

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
