"""Shared by the care-coordination services: the requirement's status machine, the
requirement lock and move, and the date format of letters and flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction

from ...models import CareCoordinationRequirement, CaseEventKind, RequirementStatus
from ...permissions import can_work_cases
from ..cases import _event

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
