"""Plain words for staff: the timeline shows labels, never status codes; a form reports all its
errors at once (and saves nothing); a dispute that qualifies for nothing says why, with figures."""

from __future__ import annotations

import datetime
import html
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from advocacy import selectors, services
from advocacy.models import CaseContact, CaseTask, ClaimDispute
from cooperative.roles import Role
from tests.advocacy.coordination_factories import make_requirement, send_notice, today
from tests.advocacy.dispute_factories import (
    make_contract,
    make_dispute,
    make_dispute_case,
    make_payer,
)
from tests.advocacy.factories import make_case, make_member

pytestmark = pytest.mark.django_db

D = Decimal
RAW_CODES = [
    "waiting_member", "in_progress", "notice_pending", "awaiting_response", "billed_amount",
    "recovered_amount", "None",
]  # fmt: skip


def _timeline(response) -> str:
    """The timeline list's text, tags stripped and entities decoded."""
    body = response.content.decode()
    start = body.index('id="timeline-list"')
    section = body[start : body.index("</ol>", start)]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)))


def _text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


@pytest.fixture
def signed_in(client, advocate):
    client.force_login(advocate)
    return client


# --- 1. The timeline speaks plain words --------------------------------------------------------


def test_case_events_show_labels_and_dollars_never_codes(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    services.case_transition(case=case, actor=advocate, to_status="in_progress")
    services.case_transition(case=case, actor=advocate, to_status="waiting_member")
    services.case_update(case=case, actor=advocate, priority="urgent")
    services.case_set_savings(
        case=case, actor=advocate, billed_amount=D("410"), recovered_amount=D("120.5")
    )
    services.case_flag(case=case, actor=advocate, reason="Review missed")
    services.case_flag_clear(case=case, actor=advocate, reason="Seen")
    timeline = _timeline(signed_in.get(f"/advocacy/cases/{case.pk}/"))
    for expected in [
        "Opened: — → New",
        "Status changed: New → Assigned",
        "Status changed: Assigned → In progress",
        "Status changed: In progress → Waiting for the member",
        "Priority changed: Normal → Urgent",
        "Savings updated: billed amount: — → $410.00; recovered or avoided amount: — → $120.50",
        "Flagged · Review missed",
        "Flagged: cleared · Seen",
    ]:
        assert expected in timeline
    for code in RAW_CODES:
        assert code not in timeline


def test_requirement_events_show_the_requirement_labels(signed_in, advocate):
    requirement = make_requirement(actor=advocate)
    send_notice(requirement, actor=advocate)
    requirement.refresh_from_db()
    services.requirement_record_response(
        requirement=requirement, actor=advocate, response="declined", responded_on=today()
    )
    timeline = _timeline(signed_in.get(f"/advocacy/cases/{requirement.case_id}/"))
    for expected in [
        "Care-coordination requirement: — → Notice to send",
        "Care-coordination requirement: Notice to send · Notice dated",
        "Care-coordination requirement: Notice to send → Awaiting the member's response",
        "Care-coordination requirement: Awaiting the member's response → Declined · Member "
        f"declined on {today().isoformat()}",
    ]:
        assert expected in timeline
    for code in [*RAW_CODES, "declined →", "→ declined", "failed_to_cooperate"]:
        assert code not in timeline


def test_the_members_case_page_shows_the_status_label(client, advocate, make_user):
    user = make_user(Role.MEMBER)
    case = make_case(actor=advocate, member=make_member(user=user), assignee=advocate)
    services.case_transition(case=case, actor=advocate, to_status="in_progress")
    services.case_transition(case=case, actor=advocate, to_status="waiting_member")
    client.force_login(user)
    page = _text(client.get(f"/me/cases/{case.pk}/"))
    assert "Waiting for the member" in page
    assert "waiting_member" not in page


# --- 2. A form reports all its errors at once ----------------------------------------------------


def test_the_contact_form_reports_every_field_at_once_and_saves_nothing(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    future = timezone.localtime() + datetime.timedelta(days=2)
    response = signed_in.post(f"/advocacy/cases/{case.pk}/contacts/", {
        "channel": "call", "direction": "outbound", "party": "payer", "with_whom": "",
        "outcome": "", "occurred_at": future.strftime("%Y-%m-%dT%H:%M"),
    })  # fmt: skip
    assert response.status_code == 400
    assert response.context["contact_form"].errors == {
        "with_whom": ["This field is required."],
        "outcome": ["This field is required."],
        "occurred_at": ["This is in the future."],
    }
    assert "This is in the future." in response.content.decode()
    assert CaseContact.objects.filter(case=case).count() == 0


def test_the_task_form_reports_every_field_at_once_and_saves_nothing(signed_in, advocate):
    case = make_case(actor=advocate, assignee=advocate)
    long_ago = timezone.localdate() - datetime.timedelta(days=400)
    response = signed_in.post(
        f"/advocacy/cases/{case.pk}/tasks/", {"title": "", "due_on": long_ago.isoformat()}
    )
    assert response.status_code == 400
    assert response.context["task_form"].errors == {
        "title": ["This field is required."],
        "due_on": ["Check the date: it is more than a year ago."],
    }
    assert CaseTask.objects.filter(case=case).count() == 0


def test_the_dispute_form_reports_every_field_at_once_and_saves_nothing(signed_in, advocate):
    case = make_dispute_case(actor=advocate)
    payer = make_payer()
    make_contract(payer)
    response = signed_in.post(f"/advocacy/cases/{case.pk}/disputes/", {
        "payer": payer.pk, "claim_number": "", "service_date": "2026-03-10",
        "decision_on": "2026-03-02", "codes": "99213", "billed_amount": "100.00",
        "allowed_amount": "80.00", "paid_amount": "150.00",
    })  # fmt: skip
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "claim_number": ["This field is required."],
        "decision_on": ["The payer's decision cannot be before the date of service."],
        "paid_amount": ["The paid amount cannot be more than the billed amount."],
    }
    assert ClaimDispute.objects.count() == 0


def test_the_dispute_service_reports_its_later_checks_with_the_first_ones(signed_in, advocate):
    """A bad code and a missing filing deadline (no contract) come back together."""
    case = make_dispute_case(actor=advocate)
    payer = make_payer("No Contract Plan")
    response = signed_in.post(f"/advocacy/cases/{case.pk}/disputes/", {
        "payer": payer.pk, "claim_number": "CLM-9", "service_date": "2026-03-02",
        "decision_on": "2026-03-20", "codes": "ZZ", "billed_amount": "100.00",
        "allowed_amount": "80.00", "paid_amount": "10.00", "expected_amount": "90.00",
    })  # fmt: skip
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert sorted(errors) == ["codes", "filing_deadline"]
    assert errors["filing_deadline"] == [
        f"{payer.name} has no contract in force on the date of service: enter the filing "
        "deadline from the payer's dispute process."
    ]
    assert errors["codes"][0].startswith("ZZ: ")
    assert ClaimDispute.objects.count() == 0


# --- 3. A dispute that qualifies for nothing says why --------------------------------------------


@pytest.fixture
def _thresholds(settings):
    settings.ADVOCACY_HIGH_DOLLAR_THRESHOLD = "500.00"
    settings.ADVOCACY_SYSTEMIC_MIN_DISPUTES = 3
    settings.ADVOCACY_SYSTEMIC_MIN_TOTAL = "5000.00"
    settings.ADVOCACY_SYSTEMIC_WINDOW_DAYS = 90


@pytest.mark.usefixtures("_thresholds")
def test_a_dispute_that_qualifies_for_nothing_says_why_with_figures(signed_in, advocate):
    day = timezone.localdate()
    service_on = day - datetime.timedelta(days=30)
    payer = make_payer()
    make_contract(
        payer,
        term_start=service_on - datetime.timedelta(days=200),
        term_end=service_on + datetime.timedelta(days=200),
        dispute_deadline_days=60,
    )
    case = make_dispute_case(actor=advocate)
    small = make_dispute(
        case=case, actor=advocate, payer=payer, codes=["99213"], service_date=service_on,
        decision_on=day - datetime.timedelta(days=20), submitted_on=day - datetime.timedelta(days=10),
        billed_amount=D("300.00"), expected_amount=D("200.00"), paid_amount=D("80.00"),
    )  # fmt: skip
    large = make_dispute(
        case=case, actor=advocate, payer=payer, codes=["80053"], service_date=service_on,
        decision_on=day - datetime.timedelta(days=20), billed_amount=D("900.00"),
        expected_amount=D("800.00"), paid_amount=D("0.00"),
    )  # fmt: skip
    due = day - datetime.timedelta(days=10) + datetime.timedelta(days=60)
    sentence = (
        "Does not qualify yet: $120.00 below the $500.00 high-dollar threshold; 1 of 3 disputes "
        "needed for this code at this payer in 90 days; the payer's answer is not overdue "
        f"(due {due.isoformat()})."
    )
    result = selectors.dispute_qualifications([small, large], today=day)
    assert result[small.pk].qualifies is False
    assert result[small.pk].not_qualified_reason == sentence
    assert result[large.pk].is_high_dollar is True
    assert result[large.pk].not_qualified_reason == ""
    page = _text(signed_in.get(f"/advocacy/cases/{case.pk}/disputes/"))
    assert page.count("Does not qualify yet") == 1
    assert sentence in page
    listing = _text(signed_in.get("/advocacy/disputes/"))
    assert sentence in listing


@pytest.mark.usefixtures("_thresholds")
def test_the_reasons_name_an_unsubmitted_dispute_and_count_the_codes_group(advocate):
    day = timezone.localdate()
    service_on = day - datetime.timedelta(days=30)
    payer = make_payer()
    make_contract(
        payer,
        term_start=service_on - datetime.timedelta(days=200),
        term_end=service_on + datetime.timedelta(days=200),
    )
    case = make_dispute_case(actor=advocate)
    first, second = (
        make_dispute(
            case=case,
            actor=advocate,
            payer=payer,
            codes=["99214", "99213"],
            service_date=service_on,
            decision_on=day - datetime.timedelta(days=20),
            billed_amount=D("100.00"),
            expected_amount=D("60.00"),
            paid_amount=D("10.00"),
        )  # fmt: skip
        for _ in range(2)
    )
    result = selectors.dispute_qualifications([first, second], today=day)
    assert result[first.pk].not_qualified_reason == (
        "Does not qualify yet: $50.00 below the $500.00 high-dollar threshold; 2 of 3 disputes "
        "needed for this code at this payer in 90 days; not yet submitted to the payer."
    )
