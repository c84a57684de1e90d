"""Issue 18's journeys in Chromium at a laptop (1366×900) and a phone (390×844): what each user
sees (figures, names, buttons) on the way, and that no page of the way is wider than the screen.
A failing step leaves its screenshot in test-artifacts/ (tests/e2e/conftest.py)."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from cooperative.periods import Period
from cooperative.roles import Role
from members import services as member_services
from members.models import Invoice, PcpAssignment
from payouts import selectors as payout_selectors
from providers.models import ProviderAccount
from tests.e2e.signin import sign_in
from tests.members.factories import PASSWORD as MEMBER_PASSWORD
from tests.members.factories import enroll, make_pcp, make_plan

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SIZES = {"laptop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(params=list(SIZES))
def sized_page(request: pytest.FixtureRequest, page: Any) -> Any:
    page.set_viewport_size(SIZES[request.param])
    return page


def fits(page: Any) -> None:
    """The page is no wider than the screen: nothing to scroll sideways."""
    width = page.viewport_size["width"]
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} is {scroll_width}px wide on a {width}px screen"


def visible_text(page: Any, selector: str) -> str:
    locator = page.locator(selector).first
    assert locator.is_visible(), f"{selector} is hidden on {page.url}"
    return " ".join(locator.inner_text().split())


@pytest.fixture
def household(reference_data: None) -> Any:
    """Lucia ($90 a month) and her son Mateo ($60), enrolled with one PCP; this month's
    invoices open, $30 of Lucia's paid."""
    make_plan()
    pcp, other = make_pcp(), make_pcp()
    result = enroll(
        pcp,
        dependents=[{"first_name": "Mateo", "last_name": "Ortega",
                     "date_of_birth": datetime.date(2015, 3, 1), "pcp_npi": pcp.npi}],
    )  # fmt: skip
    this_month = Period.of(timezone.localdate())
    member_services.invoices_generate(period=this_month)
    member_services.payment_record(
        reference="CHK-1", received_on=timezone.localdate(), amount="30.00", member=result.member
    )
    return result.member, pcp, other


def test_a_member_sees_what_they_owe_and_changes_pcp_after_confirming(
    sized_page: Any, live_server: Any, household: Any
) -> None:
    page = sized_page
    member, pcp, other = household
    invoices = Invoice.objects.filter(bill_to=member)
    owed = sum((i.member_amount for i in invoices), Decimal("0")) - Decimal("30.00")
    assert {(i.member.first_name, i.member_amount) for i in invoices} >= {
        ("Lucia", Decimal("90.00")), ("Mateo", Decimal("60.00"))
    }  # fmt: skip

    sign_in(page, live_server, member.email, password=MEMBER_PASSWORD, next_url="/me/")
    page.wait_for_url("**/me/")
    fits(page)
    assert f"${owed:,.2f}" in visible_text(page, "main")

    page.get_by_role("link", name="Dues and payments").first.click()
    page.wait_for_load_state()
    fits(page)
    lead = visible_text(page, "p.lead")
    assert lead == f"You owe ${owed:,.2f}."
    body = visible_text(page, "main")
    assert "Mateo Ortega is on the invoice" in body
    assert member.member_number in body  # the payment instructions' reference

    page.goto(f"{live_server.url}/me/")
    page.get_by_role("link", name="Change primary care provider").first.click()
    page.wait_for_load_state()
    fits(page)
    assert page.get_by_role("button", name=f"Choose {pcp.display_name}").count() == 0
    page.get_by_role("button", name=f"Choose {other.display_name}").first.click()
    page.wait_for_load_state()
    fits(page)
    summary = visible_text(page, ".pcp-change-summary")
    assert pcp.display_name in summary
    assert other.display_name in summary
    assert PcpAssignment.objects.get(member=member, effective_to__isnull=True).practitioner == pcp
    page.get_by_role("button", name="Confirm the change").click()
    page.wait_for_load_state()
    fits(page)
    assert f"{other.display_name} is Lucia's primary care provider" in page.content()


def test_a_provider_reads_the_clinics_panel_and_downloads_it(
    sized_page: Any, live_server: Any, household: Any, make_user: Any
) -> None:
    page = sized_page
    member, pcp, _ = household
    user = make_user(Role.PROVIDER, username="clinic.front")
    ProviderAccount.objects.create(user=user, clinic=pcp.roles.get().location.clinic)

    sign_in(page, live_server, "clinic.front")
    page.goto(f"{live_server.url}/provider/panel/")
    fits(page)
    body = visible_text(page, "main")
    assert "Ortega, Lucia" in body or "Lucia Ortega" in body
    assert "Mateo" in body
    response = page.request.get(f"{live_server.url}/provider/panel/panel.csv")
    assert response.status == 200
    rows = list(csv.reader(io.StringIO(response.text())))
    names = {" ".join(row) for row in rows[1:]}
    assert any("Lucia" in row and "Ortega" in row for row in names)
    assert len(rows) == 3  # header, Lucia, Mateo


def test_finance_goes_from_the_dashboard_to_the_proposed_payout_month(
    sized_page: Any, live_server: Any, household: Any, make_user: Any
) -> None:
    page = sized_page
    make_user(Role.FINANCE, username="fin.journey")
    proposed = payout_selectors.next_unpaid_period()

    sign_in(page, live_server, "fin.journey", next_url="/dashboard/")
    page.wait_for_load_state()
    fits(page)
    page.get_by_role("link", name="Payouts").first.click()
    page.wait_for_load_state()
    fits(page)
    field = page.get_by_label("Month to pay out")
    assert field.is_visible()
    assert field.input_value() == (str(proposed) if proposed else "")


def test_an_advocate_reads_the_case_timeline_in_plain_words(
    sized_page: Any, live_server: Any, make_user: Any, reference_data: None
) -> None:
    from advocacy import services as advocacy_services
    from tests.advocacy.factories import make_member

    page = sized_page
    advocate = make_user(Role.ADVOCATE, username="adv.journey")
    case = advocacy_services.case_open(
        actor=advocate, member=make_member(first="Odile", last="Marchetti"),
        case_type="claim_dispute", priority="high", summary="Denied physical therapy",
        source="phone", assignee=advocate,
    )  # fmt: skip

    sign_in(page, live_server, "adv.journey", next_url=f"/advocacy/cases/{case.pk}/")
    page.wait_for_url(f"**/advocacy/cases/{case.pk}/")
    fits(page)
    page.select_option("#id_to_status", "in_progress")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state()
    page.select_option("#id_to_status", "waiting_member")
    page.get_by_role("button", name="Change status").click()
    page.wait_for_load_state()
    fits(page)
    timeline = visible_text(page, "#timeline-list")
    assert "Assigned → In progress" in timeline
    assert "In progress → Waiting for the member" in timeline
    assert "waiting_member" not in timeline
    assert "in_progress" not in timeline


@pytest.fixture
def paid_out_february(reference_data: None, eager_tasks: None) -> Any:
    from payouts import services as payout_services
    from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying

    make_plan()
    make_bank_account()
    member_paying(make_pcp(), "Ben", "Young")
    member_paying(make_pcp(), "Ana", "Zamora")
    run = payout_services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
    run.refresh_from_db()
    assert run.status == "completed"
    return run


def test_finance_voids_a_check_after_typing_the_password_again(
    sized_page: Any, live_server: Any, make_user: Any, paid_out_february: Any
) -> None:
    from payouts.models import Statement
    from tests.conftest import PASSWORD

    page = sized_page
    run = paid_out_february
    make_user(Role.FINANCE, username="fin.void")
    sign_in(page, live_server, "fin.void", next_url=f"/finance/payouts/{run.pk}/")
    page.wait_for_url(f"**/finance/payouts/{run.pk}/")
    fits(page)
    first = Statement.objects.get(run=run, check_number=100001)
    page.locator("summary", has_text="Void…").first.click()
    page.get_by_label("Why is check 100001 void?").fill("Lost in the mail")
    page.locator(f"#password-{first.pk}").fill("not my password")
    page.get_by_role("button", name="Void check 100001").click()
    page.wait_for_load_state()
    fits(page)
    assert "Check 100001 was not voided" in visible_text(page, "main")
    first.refresh_from_db()
    assert first.status == "issued"

    page.locator("summary", has_text="Void…").first.click()
    page.get_by_label("Why is check 100001 void?").fill("Lost in the mail")
    page.locator(f"#password-{first.pk}").fill(PASSWORD)
    page.get_by_role("button", name="Void check 100001").click()
    page.wait_for_load_state()
    fits(page)
    assert "Check 100001 is void; check 100003 replaces it" in visible_text(page, "main")
    first.refresh_from_db()
    assert first.status == "voided"
