"""The start form proposes the next unpaid month: an unfinished run's month to resume it, else
the month after the last paid one, nothing while that month's payout date has not come."""

import datetime

import pytest
import time_machine

from cooperative.periods import Period
from cooperative.roles import Role
from payouts.models import PayoutRun, PayoutRunStatus
from payouts.selectors import next_unpaid_period
from tests.payouts.factories import make_bank_account

pytestmark = pytest.mark.django_db

DEC_4 = datetime.date(2026, 12, 4)


def _run(period: str, status: str) -> PayoutRun:
    from payouts.models import BankAccount

    account = BankAccount.objects.filter(is_default=True).first() or make_bank_account()
    return PayoutRun.objects.create(
        period=Period.parse(period).first_day, status=status, bank_account=account
    )


def test_with_no_run_ever_the_previous_month_is_proposed():
    assert next_unpaid_period(today=DEC_4) == Period(2026, 11)


def test_the_month_after_the_last_paid_one_is_proposed_even_when_older_than_last_month():
    _run("2026-08", PayoutRunStatus.COMPLETED)
    _run("2026-09", PayoutRunStatus.COMPLETED)
    _run("2026-10", PayoutRunStatus.CANCELLED)  # a cancelled run paid nothing
    assert next_unpaid_period(today=DEC_4) == Period(2026, 10)


def test_an_unfinished_run_is_proposed_first_to_resume_it():
    _run("2026-09", PayoutRunStatus.FAILED)
    _run("2026-10", PayoutRunStatus.COMPLETED)
    assert next_unpaid_period(today=DEC_4) == Period(2026, 9)


def test_nothing_is_proposed_before_the_next_months_payout_date():
    _run("2026-11", PayoutRunStatus.COMPLETED)
    assert next_unpaid_period(today=DEC_4) is None
    # December 2026 is payable from its last business day, Thursday 31 December.
    assert next_unpaid_period(today=datetime.date(2026, 12, 30)) is None
    assert next_unpaid_period(today=datetime.date(2026, 12, 31)) == Period(2026, 12)


def test_the_page_prefills_the_proposed_month_and_says_so(client, make_user):
    _run("2026-01", PayoutRunStatus.COMPLETED)
    client.force_login(make_user(Role.FINANCE))
    with time_machine.travel(datetime.datetime(2026, 12, 4, 15, 0, tzinfo=datetime.UTC)):
        page = client.get("/finance/payouts/").content.decode()
    assert "Next month to pay out: <strong>February 2026</strong>." in page
    assert 'name="period" value="2026-02"' in page


def test_when_all_is_paid_the_page_says_when_the_next_month_opens(client, make_user):
    _run("2026-11", PayoutRunStatus.COMPLETED)
    client.force_login(make_user(Role.FINANCE))
    with time_machine.travel(datetime.datetime(2026, 12, 4, 15, 0, tzinfo=datetime.UTC)):
        page = client.get("/finance/payouts/").content.decode()
    assert "Every month that can be paid out is paid." in page
    assert "December can be paid out from Thursday, December 31." in page
    assert "Next month to pay out" not in page
    assert 'name="period" value=' not in page


def test_finance_dashboard_has_a_payouts_card_and_counts_months_ready(client, make_user):
    _run("2026-09", PayoutRunStatus.COMPLETED)
    _run("2026-10", PayoutRunStatus.FAILED)
    client.force_login(make_user(Role.FINANCE))
    with time_machine.travel(datetime.datetime(2026, 12, 4, 15, 0, tzinfo=datetime.UTC)):
        response = client.get("/dashboard/")
    figures = {
        f["label"]: (f["count"], f["url"], f["attention"]) for f in response.context["figures"]
    }
    # October (failed, to resume) and November are ready; December opens on the 31st.
    assert figures["months ready to pay out"] == (2, "/finance/payouts/#ready-months", True)
    assert figures["failed payout runs to resume"] == (
        1, "/admin/payouts/payoutrun/?status__exact=failed", True,
    )  # fmt: skip
    page = response.content.decode()
    assert '<a href="/finance/payouts/">Payouts</a>' in page
    # Each figure opens the list of what it counts.
    with time_machine.travel(datetime.datetime(2026, 12, 4, 15, 0, tzinfo=datetime.UTC)):
        runs_page = client.get("/finance/payouts/").content.decode()
        failed = client.get("/admin/payouts/payoutrun/?status__exact=failed").context["cl"]
    ready = runs_page.split('id="ready-months"', 1)[1].split("</div>", 1)[0]
    assert "<li>October 2026</li><li>November 2026</li>" in ready
    assert [run.period.isoformat() for run in failed.result_list] == ["2026-10-01"]


@pytest.mark.parametrize("role", [Role.ADVOCATE, Role.PROVIDER_SERVICES, Role.MEMBER])
def test_other_roles_see_no_payout_figures(client, make_user, role):
    _run("2026-10", PayoutRunStatus.FAILED)
    client.force_login(make_user(role))
    response = client.get("/dashboard/")
    labels = [f["label"] for f in response.context["figures"]]
    assert "failed payout runs to resume" not in labels
    assert "/finance/payouts/" not in response.content.decode()
