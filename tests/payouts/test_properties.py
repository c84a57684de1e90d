"""Property-based tests (hypothesis): random households paying on time, late, not at all, or
refunded after their month was paid out, over three monthly runs. Whatever happens:

- every run reconciles: statements = their lines = fees of the month's paid member-months +
  adjustments, and every paid member-month of the month is on exactly one statement;
- no member-month is ever paid twice: at most one live ledger row each, and what a provider
  received for a member-month is its fee exactly when the month ends up paid, else nothing
  (a clinic netting to zero in one run is paid in the next: each clinic's anchor member keeps
  paying, so the last run settles everything).
"""

import datetime
from collections import defaultdict
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cooperative.periods import Period
from members import services as member_services
from members.models import Invoice
from payouts import services
from payouts.models import PaidOutMonth, PayoutRun, StatementLine
from tests.members.factories import enroll, make_pcp, make_plan
from tests.payouts.factories import (
    APR_PAYOUT_DAY,
    FEB_PAYOUT_DAY,
    MAR_PAYOUT_DAY,
    make_bank_account,
)

FEB, MAR, APR = Period(2026, 2), Period(2026, 3), Period(2026, 4)
NAMES = ["Ana", "Ben", "Cora", "Dev", "Eli", "Fay", "Gus", "Hal"]

member_plans = st.lists(
    st.fixed_dictionaries({
        "pcp": st.integers(0, 1),
        "born": st.sampled_from([datetime.date(2010, 4, 1), datetime.date(1990, 4, 1), datetime.date(1970, 4, 1)]),
        "feb": st.sampled_from(["on_time", "late", "never"]),
        "mar": st.sampled_from(["on_time", "late", "never"]),
        "refund_feb": st.booleans(),
    }),
    min_size=1, max_size=6,
)  # fmt: skip


@pytest.fixture
def clinics(db):
    make_plan()
    make_bank_account()
    return [make_pcp(), make_pcp()]


class _Rollback(Exception):
    pass


def pay(member, period, on):
    invoice = Invoice.objects.filter(bill_to=member, period=period.first_day).first()
    member_services.payment_record(
        reference=f"P-{member.member_number}-{period}-{on:%m%d}", received_on=on,
        amount=invoice.member_amount, member=member, actor=None,
    )  # fmt: skip


def run_month(period, day):
    run = services.payout_run_start(period=period, actor=None, today=day)
    return services.payout_run_snapshot(run_id=run.pk, today=day)


def check_run(run):
    balance = services.reconciliation(run)
    # A clinic whose month nets to zero or less (a refund as large as what it earned) gets no
    # check: its lines wait for the next run ("deferred"), which the balance accounts for.
    assert balance.balances, balance
    lines = StatementLine.objects.filter(statement__run=run)
    assert (lines.aggregate(t=Sum("amount"))["t"] or Decimal("0")) == run.total


# Derandomized: the same examples on every run, so CI is never red by chance (and never
# spends minutes shrinking); drop `derandomize` locally to explore further.
@settings(
    max_examples=15, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)  # fmt: skip
@given(plans=member_plans)
def test_runs_reconcile_and_never_pay_a_member_month_twice(clinics, plans):
    try:
        with transaction.atomic():
            anchors = [enroll(pcp, first="Anchor", last=f"Clinic{'AB'[i]}", born=datetime.date(1970, 1, 1))
                       for i, pcp in enumerate(clinics)]  # fmt: skip
            people = []
            refunded_clinics = set()
            for index, plan in enumerate(plans):
                result = enroll(
                    clinics[plan["pcp"]], first=NAMES[index], last="Prop", born=plan["born"]
                )
                # At most one refund per clinic: its anchors keep every check positive.
                refund = plan["refund_feb"] and plan["pcp"] not in refunded_clinics
                if refund:
                    refunded_clinics.add(plan["pcp"])
                people.append((result.member, plan, refund))
            for anchor in anchors:
                pay(anchor.member, FEB, datetime.date(2026, 2, 3))
            for member, plan, _ in people:
                if plan["feb"] == "on_time":
                    pay(member, FEB, datetime.date(2026, 2, 5))
            feb = run_month(FEB, FEB_PAYOUT_DAY)
            check_run(feb)
            member_services.invoices_generate(period=MAR)
            for member, _plan, refund in people:
                if refund:
                    Invoice.objects.filter(member=member, period=FEB.first_day).update(
                        settled_at=None, status="open", member_paid=0, member_paid_at=None
                    )
            for anchor in anchors:
                pay(anchor.member, MAR, datetime.date(2026, 3, 3))
            for member, plan, _ in people:
                if plan["feb"] == "late":
                    pay(member, FEB, datetime.date(2026, 3, 10))
                if plan["mar"] == "on_time":
                    pay(member, MAR, datetime.date(2026, 3, 12))
            mar = run_month(MAR, MAR_PAYOUT_DAY)
            check_run(mar)
            member_services.invoices_generate(period=APR)
            for anchor in anchors:
                pay(anchor.member, APR, datetime.date(2026, 4, 3))
            for member, plan, _ in people:
                if plan["mar"] == "late":
                    pay(member, MAR, datetime.date(2026, 4, 10))
            apr = run_month(APR, APR_PAYOUT_DAY)
            check_run(apr)

            live = PaidOutMonth.objects.filter(reversed_by__isnull=True)
            per_month = defaultdict(int)
            for member_id, period in live.values_list("member_id", "period"):
                per_month[(member_id, period)] += 1
            assert all(count == 1 for count in per_month.values())
            paid_out = defaultdict(Decimal)
            for member_id, period, amount in StatementLine.objects.values_list(
                "member_id", "period", "amount"
            ):
                paid_out[(member_id, period)] += amount
            for invoice in Invoice.objects.filter(period__in=[FEB.first_day, MAR.first_day]):
                key = (invoice.member_id, invoice.period)
                expected = invoice.pcp_fee if invoice.settled_at else Decimal("0")
                assert paid_out.get(key, Decimal("0")) == expected, (
                    invoice.member.first_name,
                    invoice.period,
                )
                assert per_month.get(key, 0) == (1 if invoice.settled_at else 0)
            assert PayoutRun.objects.count() == 3
            raise _Rollback
    except _Rollback:
        pass
