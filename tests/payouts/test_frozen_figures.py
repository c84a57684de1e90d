"""A closed month's figures never change: February's run keeps the reconciliation its snapshot
took, on its page, in its CSV and its report, after March pays a February member-month late
(which is an adjustment on March's run only)."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from cooperative.periods import Period
from cooperative.roles import Role
from members import services as member_services
from payouts import services
from payouts.models import PayoutRun
from payouts.selectors import run_report
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import (
    FEB_PAYOUT_DAY,
    MAR_PAYOUT_DAY,
    make_bank_account,
    member_paying,
    pay_month,
)
from tests.payouts.test_services import services_report_rows

FEB, MAR = Period(2026, 2), Period(2026, 3)


def complete(period, today):
    """Start, snapshot and complete a run (the files are not what this module is about)."""
    run = services.payout_run_start(period=period, actor=None, today=today)
    services.payout_run_snapshot(run_id=run.pk, today=today)
    PayoutRun.objects.filter(pk=run.pk).update(
        status="completed", completed_at=datetime.datetime.now(datetime.UTC)
    )
    return PayoutRun.objects.get(pk=run.pk)


def figures(run):
    balance = services.reconciliation(run)
    return (
        balance.balances, balance.statements_total, balance.lines_total,
        balance.roster_fees_total, balance.adjustments_total, balance.paid_member_months,
        balance.on_statements, balance.deferred,
    )  # fmt: skip


@pytest.fixture
def late_february(db):
    make_plan()
    make_bank_account()
    pcp = make_pcp()
    member_paying(pcp, "Ben", "Young")
    member_paying(pcp, "Cy", "Xu", born=datetime.date(1970, 1, 2))
    late = member_paying(pcp, "Lia", "Late", pay=False)
    return pcp, late


def test_february_stays_balanced_to_the_cent_after_march_pays_a_february_month_late(
    client, make_user, late_february
):
    _, late = late_february
    feb = complete(FEB, FEB_PAYOUT_DAY)
    before = figures(feb)
    assert before == (
        True, Decimal("180.00"), Decimal("180.00"), Decimal("180.00"), Decimal("0.00"), 2, 2, 0,
    )  # fmt: skip
    csv_before = services_report_rows(feb)
    client.force_login(make_user(Role.FINANCE))
    page_before = client.get(f"/finance/payouts/{feb.pk}/").content.decode()
    assert "Balances" in page_before

    pay_month(late.member, "2026-02", on=datetime.date(2026, 3, 10))
    member_services.invoices_generate(period=MAR)
    mar = complete(MAR, MAR_PAYOUT_DAY)

    feb = PayoutRun.objects.get(pk=feb.pk)
    assert figures(feb) == before
    assert services_report_rows(feb) == csv_before
    assert run_report(feb)["reconciliation"].paid_member_months == 2
    page_after = client.get(f"/finance/payouts/{feb.pk}/").content.decode()
    assert "Balances" in page_after
    assert "Does not balance" not in page_after
    assert "these figures never change" in page_after
    # Computed now, February would count three paid member-months with two on its statements.
    now = services.reconciliation_compute(feb)
    assert (now.paid_member_months, now.on_statements) == (3, 2)

    # March carries the late month as its adjustment, and balances.
    assert figures(mar) == (
        True, Decimal("75.00"), Decimal("75.00"), Decimal("0.00"), Decimal("75.00"), 0, 0, 0,
    )  # fmt: skip


def test_the_database_refuses_to_change_a_completed_runs_figures(late_february):
    feb = complete(FEB, FEB_PAYOUT_DAY)
    stored = PayoutRun.objects.get(pk=feb.pk).figures
    with pytest.raises(DatabaseError), transaction.atomic():
        PayoutRun.objects.filter(pk=feb.pk).update(figures={})
    assert PayoutRun.objects.get(pk=feb.pk).figures == stored
    assert stored["reconciliation"]["statements_total"] == "180.00"
