"""Issue 7's flow in Chromium: an advocate opens the overdue queue, works a case (note, contact,
status), generates a care-coordination notice PDF, records the member's decline and sees the 40%
penalty applied, and runs a billing review that flags an overcharge."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from advocacy import services
from advocacy.models import CareCoordinationRequirement, Case, PenaltyLine
from cooperative.periods import COOPERATIVE_TZ
from cooperative.roles import Role
from tests.advocacy.dispute_factories import make_priced_pcp
from tests.advocacy.factories import make_member
from tests.e2e.signin import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_an_advocate_works_the_overdue_queue_to_a_penalty_and_an_overcharge(
    page, live_server, make_user, eager_tasks
):
    advocate = make_user(Role.ADVOCATE, username="adv.e2e")
    today = timezone.localdate()
    long_ago = datetime.datetime.combine(
        today - datetime.timedelta(days=30), datetime.time(9), COOPERATIVE_TZ
    )
    late = services.case_open(actor=advocate, member=make_member(first="Odile", last="Marchetti"), case_type="claim_dispute",
                              priority="high", summary="Denied physical therapy", source="phone", assignee=advocate, opened_at=long_ago)  # fmt: skip
    services.case_open(
        actor=advocate,
        member=make_member(),
        case_type="other",
        summary="On time",
        source="email",
        assignee=advocate,
    )
    # A home-health service makes care coordination required (a case opens by itself).
    member = make_member(first="Tobias", last="Lindgren")
    _event, (requirement,) = services.utilization_record(
        actor=advocate, member=member, event_type="home_health", occurred_on=today - datetime.timedelta(days=3),
        provider_name="Sonoran Home Health",
    )  # fmt: skip
    practitioner = make_priced_pcp({"99214": Decimal("70.00"), "80053": Decimal("14.00")})
    bill_case = services.case_open(actor=advocate, member=make_member(first="Greta", last="Holm"), case_type="billing_review",
                                   summary="Clinic bill looks high", source="phone", practitioner=practitioner, assignee=advocate)  # fmt: skip

    sign_in(page, live_server, "adv.e2e")
    page.goto(f"{live_server.url}/advocacy/")
    page.get_by_role("link", name="Overdue").click()
    page.wait_for_load_state()
    rows = page.locator("#case-list tbody tr")
    assert rows.count() == 1
    assert "overdue" in rows.first.inner_text()
    rows.first.get_by_role("link", name=late.reference).click()
    page.wait_for_load_state()
    assert "Overdue: due" in page.locator("#due").inner_text()

    # A note (added in place by htmx), a contact, then the status.
    page.locator("#note-form textarea[name=body]").fill("Asked the payer for the denial letter.")
    page.get_by_role("button", name="Add note").click()
    page.locator("#work .messages").wait_for()
    assert "Asked the payer for the denial letter." in page.locator("#timeline-list").inner_text()
    page.locator("summary", has_text="Contact").click()
    page.select_option("#contact-form select[name=channel]", "call")
    page.select_option("#contact-form select[name=party]", "payer")
    page.locator("#contact-form input[name=with_whom]").fill("Lone Star claims desk")
    page.locator("#contact-form textarea[name=outcome]").fill("Reprocessing in 10 days")
    page.get_by_role("button", name="Log contact").click()
    page.get_by_text("Contact logged.").wait_for()
    assert "Lone Star claims desk" in page.locator("#timeline-list").inner_text()
    page.select_option("#id_to_status", "in_progress")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state()
    late.refresh_from_db()
    assert late.status == "in_progress"
    assert late.notes.count() == 1
    assert late.contacts.count() == 1

    # Care coordination: the notice letter, sent, declined → the penalty on each expense line.
    page.goto(f"{live_server.url}/advocacy/cases/{requirement.case_id}/")
    page.get_by_role("link", name="Care coordination").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Prepare the notice letter").click()
    page.wait_for_load_state()
    link = page.get_by_role("link", name="Notice letter (PDF)")
    link.wait_for()
    pdf = page.request.get(live_server.url + link.get_attribute("href"))
    assert pdf.headers["content-type"] == "application/pdf"
    from pypdf import PdfReader

    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Tobias Lindgren" in text
    assert "40%" in text
    page.locator("#sent-form select[name=method]").select_option("mail")
    page.get_by_role("button", name="Record as sent").click()
    page.wait_for_load_state()
    page.locator("#response-form select[name=response]").select_option("declined")
    page.get_by_role("button", name="Record the response").click()
    page.wait_for_load_state()
    assert "Declined" in page.locator("#requirement-facts").inner_text()
    form = page.locator("#expense-form")
    form.locator("input[name=service_date]").fill((today - datetime.timedelta(days=1)).isoformat())
    form.locator("input[name=description]").fill("Home-health visit")
    form.locator("input[name=provider_name]").fill("Sonoran Home Health")
    form.locator("input[name=billed_amount]").fill("300.00")
    form.locator("input[name=plan_amount]").fill("234.55")
    page.get_by_role("button", name="Add the expense").click()
    page.wait_for_load_state()
    assert "$93.82" in page.locator("#expense-list").inner_text()  # 40% of $234.55, half-up
    assert "$93.82" in page.locator("#penalty-accumulator").inner_text()
    requirement.refresh_from_db()
    assert requirement.status == "declined"
    assert PenaltyLine.objects.get(requirement=requirement).amount == Decimal("93.82")

    # Billing review: the office visit billed $85 above the agreed $70 is flagged.
    page.goto(f"{live_server.url}/advocacy/cases/{bill_case.pk}/bills/")
    page.locator("input[name=service_date]").fill((today - datetime.timedelta(days=3)).isoformat())
    page.locator("textarea[name=lines]").fill("99214, 155.00\n80053, 14.00")
    page.get_by_role("button", name="Compare with the agreed prices").click()
    page.wait_for_load_state()
    table = page.locator("table.data").first.inner_text()
    assert "Above the agreed price" in table
    assert "$85.00" in table
    assert Case.objects.get(pk=bill_case.pk).billed_amount == Decimal("169.00")
    assert CareCoordinationRequirement.objects.count() == 1
