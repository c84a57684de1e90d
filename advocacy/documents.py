"""The care-coordination notice: the letter telling a member, in writing, that care coordination
is required, what it means, how to answer by the deadline, and the 40% benefit penalty for
declining or not answering.

The letter is built from the notice alone: the same notice renders to the same bytes (no clock
is read; the PDF dates are the letter date). It names the reason and lists the triggering
events by date, type and provider only: never a description or a diagnosis beyond the
condition category. The logo is embedded as a data URI and the styles are in the template, so
WeasyPrint fetches nothing (cooperative.pdf.render_pdf).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from django.conf import settings

from cooperative.pdf import letter_stylesheet, render_pdf, static_file_path

from .models import (
    CareCoordinationRequirement,
    RequirementNotice,
    RequirementReason,
    UtilizationEvent,
    UtilizationType,
)

TEMPLATE = "advocacy/pdf/notice.html"
LOGO = "img/logo.svg"

# Why the requirement applies, in the member's words ("Our records show ...").
REASON_EXPLANATIONS: dict[str, str] = {
    RequirementReason.INPATIENT_STAYS: ("three or more inpatient hospital stays within 12 months"),
    RequirementReason.INPATIENT_DAYS: ("30 or more days as a hospital inpatient within 12 months"),
    RequirementReason.HOME_HEALTH: "home-health services",
    RequirementReason.AMA_DISCHARGE: (
        "a discharge from a hospital or facility against medical advice"
    ),
    RequirementReason.COMPLEX_CONDITION: (
        "a preauthorization for the treatment of a complex condition"
    ),
    RequirementReason.TREATMENT_INCOMPLETE: "a course of treatment that was not completed",
}


def long_date(day: Any) -> str:
    """November 2, 2026 (no leading zero, whatever the locale)."""
    return f"{day:%B} {day.day}, {day.year}"


def short_date(day: Any) -> str:
    """Nov 2, 2026: for the table of events."""
    return f"{day:%b} {day.day}, {day.year}"


def percent_text(percent: Decimal) -> str:
    """Decimal("40.00") -> "40%" (a fraction only when there is one: "37.5%")."""
    text = f"{percent.normalize():f}"
    return f"{text}%"


def _event_row(event: UtilizationEvent) -> dict[str, str]:
    if event.event_type == UtilizationType.INPATIENT_STAY and event.discharged_on:
        dates = f"{short_date(event.occurred_on)} – {short_date(event.discharged_on)}"
        days = event.inpatient_days
        what = f"Inpatient stay ({days} day{'s' if days != 1 else ''})"
    else:
        dates = short_date(event.occurred_on)
        what = event.get_event_type_display()
        if event.event_type == UtilizationType.COMPLEX_PREAUTH and event.condition:
            what = f"Preauthorization: {event.get_condition_display().lower()}"
    return {"dates": dates, "what": what, "provider": event.provider_name}


def _logo_data_uri() -> str:
    path = static_file_path(LOGO)
    if not path.is_file():
        return ""
    return "data:image/svg+xml;base64," + base64.b64encode(path.read_bytes()).decode()


def notice_context(notice: RequirementNotice) -> dict[str, Any]:
    """Every string the letter prints, formatted once (plain text: the template escapes)."""
    requirement = CareCoordinationRequirement.objects.select_related(
        "member", "case", "case__assignee"
    ).get(pk=notice.requirement_id)
    member = requirement.member
    events = requirement.triggering_events.order_by("occurred_on", "id")
    assignee = requirement.case.assignee
    advocate_name = (assignee.get_full_name() or assignee.get_username()) if assignee else ""
    member_name = f"{member.first_name} {member.last_name}"
    letter_date = long_date(notice.letter_date)
    return {
        "title": f"Care coordination notice — {member_name}",
        "description": (
            f"{settings.COOPERATIVE_NAME}: care-coordination notice of {letter_date}, "
            f"member {member.member_number}"
        ),
        "created": notice.letter_date.isoformat(),
        "cooperative_name": settings.COOPERATIVE_NAME,
        "cooperative_address": list(settings.COOPERATIVE_ADDRESS),
        "phone": settings.MEMBER_SERVICES_PHONE,
        "logo": _logo_data_uri(),
        "base_css": letter_stylesheet(),
        "letter_date": letter_date,
        "member_name": member_name,
        "member_first_name": member.first_name,
        "member_number": member.member_number,
        "addressee": [
            member_name,
            member.street,
            f"{member.city}, {member.state} {member.zip_code}",
        ],
        "case_reference": requirement.case.reference,
        "reason": requirement.get_reason_display(),
        "explanation": REASON_EXPLANATIONS[requirement.reason],
        "events": [_event_row(event) for event in events],
        "response_due_on": long_date(notice.response_due_on),
        "penalty": percent_text(requirement.penalty_percent),
        "advocate_name": advocate_name,
        "running_head": f"{member_name} · {member.member_number} · {letter_date}",
        "footer_reference": f"Member {member.member_number} · notice of {letter_date}",
    }


def notice_pdf(notice: RequirementNotice) -> bytes:
    """The notice letter as PDF bytes; the same notice renders to the same bytes."""
    return render_pdf(TEMPLATE, {"letter": notice_context(notice)})
