"""Care-coordination test data, made through the services (dates relative to today: the
services refuse events in the future and evaluate the trailing window up to today)."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils import timezone

from advocacy import services
from advocacy.models import CareCoordinationRequirement, RequirementNotice
from members.models import Member
from tests.advocacy.factories import make_member


def today() -> datetime.date:
    return timezone.localdate()


def days_ago(days: int) -> datetime.date:
    return today() - datetime.timedelta(days=days)


def record(
    member: Member, event_type: str, occurred_on: datetime.date, *, actor: Any = None, **fields: Any
):
    """utilization_record with a default provider: (event, requirements created)."""
    fields.setdefault("provider_name", "Memorial Hermann Hospital")
    return services.utilization_record(
        actor=actor, member=member, event_type=event_type, occurred_on=occurred_on, **fields
    )


def stay(member: Member, admitted_days_ago: int, nights: int, *, actor: Any = None, **fields: Any):
    """An inpatient stay admitted `admitted_days_ago` days ago, discharged `nights` days later."""
    admitted = days_ago(admitted_days_ago)
    return record(
        member, "inpatient_stay", admitted, actor=actor,
        discharged_on=admitted + datetime.timedelta(days=nights), **fields,
    )  # fmt: skip


def make_requirement(
    *, member: Member | None = None, actor: Any = None, occurred_days_ago: int = 20
) -> CareCoordinationRequirement:
    """A home-health requirement (notice pending) with its care-coordination case."""
    member = member or make_member()
    _event, created = record(
        member,
        "home_health",
        days_ago(occurred_days_ago),
        actor=actor,
        provider_name="Gulf Coast Home Health",
    )
    (requirement,) = created
    return requirement


def send_notice(
    requirement: CareCoordinationRequirement,
    *,
    actor: Any,
    letter_date: datetime.date | None = None,
    sent_on: datetime.date | None = None,
) -> RequirementNotice:
    """Prepare, render (as the worker would) and send the notice: the requirement then awaits
    the member's response."""
    letter_date = letter_date or today()
    notice = services.notice_request(requirement=requirement, actor=actor, letter_date=letter_date)
    services.notice_render(notice_id=notice.pk)
    notice.refresh_from_db()
    return services.notice_mark_sent(
        notice=notice, actor=actor, sent_on=sent_on or letter_date, method="mail"
    )
