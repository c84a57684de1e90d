"""Members test data: a plan and a PCP with an active agreement."""

import datetime
import re
from decimal import Decimal

from members.models import Plan
from providers import services as provider_services
from providers.services import Band
from tests.providers.factories import LocationFactory, PractitionerFactory, RoleFactory


def make_plan(code: str = "standard") -> Plan:
    return Plan.objects.create(
        code=code, name="Standard membership", advocacy_portion=Decimal("8.00"), network_portion=Decimal("5.00"),
        outreach_portion=Decimal("2.00"), effective_from=datetime.date(2025, 1, 1),
    )  # fmt: skip


def make_pcp(*, capacity: int = 100, actor=None, adults: bool = True, children: bool = True):
    """An active PCP whose clinic's agreement prices next month: 0–17 $45, 18–44 $75, 45–64 $105."""
    practitioner = PractitionerFactory(
        panel_capacity=capacity, sees_adults=adults, sees_children=children
    )
    role = RoleFactory(
        practitioner=practitioner, location=LocationFactory(), start_date=datetime.date(2025, 1, 1)
    )
    clinic = role.location.clinic
    agreement = provider_services.agreement_draft(
        clinic=clinic, actor=actor, term_start=datetime.date(2026, 1, 1), years=2,
        bands=[Band(0, 17, Decimal("45")), Band(18, 44, Decimal("75")), Band(45, 64, Decimal("105"))],
    )  # fmt: skip
    for step in ("offered", "accepted", "active"):
        provider_services.agreement_transition(agreement=agreement, to_status=step, actor=actor)
    return practitioner


PASSWORD = "a-long-member-password-42"
ENROLLED_ON = datetime.date(2026, 1, 10)  # memberships start on 2026-02-01


def enroll(pcp, *, first="Lucia", last="Ortega", born=datetime.date(1990, 5, 17), employer_code="",
           dependents=None, today=ENROLLED_ON):  # fmt: skip
    """Enroll one person (and dependents) through the service, on a fixed day."""
    from members import services

    data = {
        "first_name": first, "last_name": last, "date_of_birth": born,
        "email": f"{first.lower()}.{last.lower()}@example.com", "phone": "(713) 555-0142",
        "street": "12 Elm St", "city": "Houston", "state": "TX", "zip": "77002", "accept_terms": True,
    }  # fmt: skip
    return services.enrollment_create(
        data=data, password=PASSWORD, pcp_npi=pcp.npi, plan_code="standard",
        employer_code=employer_code, dependents=dependents, today=today,
    )  # fmt: skip


def confirm_link(pending_id=None):
    """Send the confirmation email as the worker would, and return the link's path."""
    from django.core import mail

    from members import tasks
    from members.models import PendingEnrollment

    pending = (
        PendingEnrollment.objects.get(pk=pending_id)
        if pending_id
        else PendingEnrollment.objects.latest("pk")
    )
    tasks.enrollment_confirm_link_send(pending.pk)
    match = re.search(r"^https?://[^/\s]+(/enroll/confirm/[^/\s]+/)$", mail.outbox[-1].body, re.M)
    assert match, mail.outbox[-1].body
    return match.group(1)
