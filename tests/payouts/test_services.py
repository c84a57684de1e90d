"""The payout run's snapshot, ledger, adjustments, check numbers and the rules the database
enforces on money already paid out."""

import datetime
from decimal import Decimal

import pytest
from django.db import DatabaseError, transaction

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.periods import Period
from members import services as member_services
from members.models import Invoice
from payouts import services
from payouts.models import PaidOutMonth, PayoutRun, Statement, StatementLine
from providers.models import Clinic
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import (
    APR_PAYOUT_DAY,
    FEB_PAYOUT_DAY,
    MAR_PAYOUT_DAY,
    make_bank_account,
    member_paying,
    pay_month,
)

FEB, MAR, APR = Period(2026, 2), Period(2026, 3), Period(2026, 4)


@pytest.fixture
def network(db):
    make_plan()
    make_bank_account()
    alpha, beta = make_pcp(), make_pcp()
    Clinic.objects.filter(pk=alpha.roles.get().location.clinic_id).update(
        remit_to_name="Alpha Family Care"
    )
    Clinic.objects.filter(pk=beta.roles.get().location.clinic_id).update(
        remit_to_name="Beta Health"
    )
    return alpha, beta


def snapshot(period, today):
    run = services.payout_run_start(period=period, actor=None, today=today)
    return services.payout_run_snapshot(run_id=run.pk, today=today)


def lines_of(run):
    return sorted(
        StatementLine.objects.filter(statement__run=run).values_list(
            "statement__payee_name", "kind", "member_number", "period", "amount"
        )
    )


def test_the_snapshot_pays_each_clinic_its_paid_members_with_gapless_check_numbers(network):
    alpha, beta = network
    ana = member_paying(beta, "Ana", "Zamora")
    ben = member_paying(alpha, "Ben", "Young", born=datetime.date(1970, 1, 2))
    cy = member_paying(alpha, "Cy", "Xu")
    member_paying(alpha, "Dee", "Unpaid", pay=False)
    run = snapshot(FEB, FEB_PAYOUT_DAY)
    assert run.status == "rendering"
    statements = list(Statement.objects.filter(run=run).order_by("check_number"))
    assert [(s.check_number, s.payee_name, s.amount, s.member_count) for s in statements] == [
        (100001, "Alpha Family Care", Decimal("180.00"), 2),  # $105 (45–64) + $75 (18–44)
        (100002, "Beta Health", Decimal("75.00"), 1),
    ]
    assert statements[0].check_date == FEB_PAYOUT_DAY
    assert statements[0].memo == "Primary care, February 2026"
    assert lines_of(run) == sorted([
        ("Alpha Family Care", "month", ben.member.member_number, datetime.date(2026, 2, 1), Decimal("105.00")),
        ("Alpha Family Care", "month", cy.member.member_number, datetime.date(2026, 2, 1), Decimal("75.00")),
        ("Beta Health", "month", ana.member.member_number, datetime.date(2026, 2, 1), Decimal("75.00")),
    ])  # fmt: skip
    assert PaidOutMonth.objects.filter(run=run).count() == 3
    assert (run.statement_count, run.member_month_count, run.roster_total, run.total) == (
        2, 3, Decimal("255.00"), Decimal("255.00"),
    )  # fmt: skip
    assert run.bank_account.__class__.objects.get().next_check_number == 100003
    balance = services.reconciliation(run)
    assert balance.balances
    assert (balance.paid_member_months, balance.on_statements, balance.statements_total) == (
        3, 3, Decimal("255.00"),
    )  # fmt: skip


def test_the_snapshot_runs_once_and_a_second_start_returns_the_same_run(network):
    alpha, _ = network
    member_paying(alpha, "Ben", "Young")
    run = snapshot(FEB, FEB_PAYOUT_DAY)
    again = services.payout_run_snapshot(run_id=run.pk)
    assert again.status == "rendering"
    assert services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY).pk == run.pk
    assert (
        PayoutRun.objects.count(),
        Statement.objects.count(),
        StatementLine.objects.count(),
    ) == (1, 1, 1)


def test_a_period_cannot_start_before_its_payout_day_or_without_a_bank_account(network, settings):
    before = datetime.date(2026, 2, 26)
    with pytest.raises(ApplicationError) as error:
        services.payout_run_start(period=FEB, actor=None, today=before)
    assert error.value.message == "February 2026 can be paid out from Friday February 27, 2026."
    settings.PAYOUT_DAY_OFFSET = -1
    assert services.payout_date(FEB) == datetime.date(2026, 2, 26)
    settings.PAYOUT_DAY_OFFSET = 1
    assert services.payout_date(FEB) == datetime.date(2026, 3, 2)  # the next Monday
    settings.PAYOUT_DAY_OFFSET = 0
    from payouts.models import BankAccount

    BankAccount.objects.update(is_default=False)
    with pytest.raises(ApplicationError, match="Set up the bank account checks are drawn on first"):
        services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    assert PayoutRun.objects.count() == 0


def test_a_month_paid_late_is_an_adjustment_next_month_and_never_paid_twice(network):
    alpha, _ = network
    member_paying(alpha, "Ben", "Young")
    late = member_paying(alpha, "Lia", "Late", pay=False)
    feb = snapshot(FEB, FEB_PAYOUT_DAY)
    assert [row[2] for row in lines_of(feb)] != [late.member.member_number]
    pay_month(late.member, "2026-02", on=datetime.date(2026, 3, 10))
    member_services.invoices_generate(period=MAR)
    mar = snapshot(MAR, MAR_PAYOUT_DAY)
    assert lines_of(mar) == [
        ("Alpha Family Care", "late", late.member.member_number, datetime.date(2026, 2, 1), Decimal("75.00")),
    ]  # fmt: skip
    statement = Statement.objects.get(run=mar)
    assert (statement.roster_total, statement.adjustments_total, statement.amount) == (
        Decimal("0.00"), Decimal("75.00"), Decimal("75.00"),
    )  # fmt: skip
    apr = snapshot(APR, APR_PAYOUT_DAY)
    assert lines_of(apr) == []
    assert apr.statement_count == 0
    assert (
        PaidOutMonth.objects.filter(member=late.member, period=datetime.date(2026, 2, 1)).count()
        == 1
    )


def test_a_paid_out_month_whose_payment_went_back_is_a_negative_line_next_month(network):
    alpha, _ = network
    ben = member_paying(alpha, "Ben", "Young")
    cy = member_paying(alpha, "Cy", "Xu")
    feb = snapshot(FEB, FEB_PAYOUT_DAY)
    member_services.invoices_generate(period=MAR)
    pay_month(cy.member, "2026-03", on=datetime.date(2026, 3, 3))
    pay_month(ben.member, "2026-03", on=datetime.date(2026, 3, 3))
    Invoice.objects.filter(member=ben.member, period="2026-02-01").update(
        settled_at=None, status="open"
    )
    mar = snapshot(MAR, MAR_PAYOUT_DAY)
    rows = lines_of(mar)
    assert rows == sorted([
        ("Alpha Family Care", "month", ben.member.member_number, datetime.date(2026, 3, 1), Decimal("75.00")),
        ("Alpha Family Care", "month", cy.member.member_number, datetime.date(2026, 3, 1), Decimal("75.00")),
        ("Alpha Family Care", "reversal", ben.member.member_number, datetime.date(2026, 2, 1), Decimal("-75.00")),
    ])  # fmt: skip
    statement = Statement.objects.get(run=mar)
    assert (statement.roster_total, statement.adjustments_total, statement.amount) == (
        Decimal("150.00"), Decimal("-75.00"), Decimal("75.00"),
    )  # fmt: skip
    original = PaidOutMonth.objects.get(run=feb, member=ben.member)
    assert original.reversed_by.statement == statement
    assert services.reconciliation(mar).balances


def test_money_paid_out_cannot_be_changed_or_deleted_in_the_database(network):
    alpha, _ = network
    member_paying(alpha, "Ben", "Young")
    run = snapshot(FEB, FEB_PAYOUT_DAY)
    statement = Statement.objects.get(run=run)
    line = StatementLine.objects.get()
    for attempt in (
        lambda: StatementLine.objects.filter(pk=line.pk).update(amount=Decimal("1.00")),
        lambda: StatementLine.objects.filter(pk=line.pk).delete(),
        lambda: Statement.objects.filter(pk=statement.pk).update(amount=Decimal("1.00"), roster_total=Decimal("1.00")),
        lambda: Statement.objects.filter(pk=statement.pk).update(check_number=999),
        lambda: PaidOutMonth.objects.filter(run=run).delete(),
        lambda: PaidOutMonth.objects.filter(run=run).update(period=datetime.date(2026, 3, 1)),
    ):  # fmt: skip
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    statement.refresh_from_db()
    assert (statement.amount, statement.check_number) == (Decimal("75.00"), 100001)
    assert StatementLine.objects.get().amount == Decimal("75.00")


def test_a_run_can_be_cancelled_only_before_its_snapshot(network):
    alpha, _ = network
    member_paying(alpha, "Ben", "Young")
    run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    services.payout_run_cancel(run=run, actor=None, reason="wrong month")
    assert PayoutRun.objects.get(pk=run.pk).status == "cancelled"
    second = snapshot(FEB, FEB_PAYOUT_DAY)  # a cancelled run does not block a new one
    assert second.pk != run.pk
    with pytest.raises(ConflictError, match="Checks were issued for this run"):
        services.payout_run_cancel(run=second, actor=None, reason="too late")
    assert PayoutRun.objects.get(pk=second.pk).status == "rendering"


def test_direct_deposit_clinics_take_no_check_number(network):
    alpha, beta = network
    Clinic.objects.filter(remit_to_name="Alpha Family Care").update(
        payment_method="direct_deposit",
        bank_routing_number="111000025",
        bank_account_last4="4321",
        bank_account_encrypted="vault:test",
    )
    member_paying(alpha, "Ben", "Young")
    member_paying(beta, "Ana", "Zamora")
    run = snapshot(FEB, FEB_PAYOUT_DAY)
    assert list(Statement.objects.filter(run=run).values_list("payee_name", "check_number", "deposit_account_last4")) == [
        ("Beta Health", 100001, ""), ("Alpha Family Care", None, "4321"),
    ]  # fmt: skip
    assert services.positive_pay_csv(list(Statement.objects.filter(run=run))) == (
        "account,check_number,amount,issue_date,payee,action\r\n"
        "000123456789,100001,75.00,2026-02-27,Beta Health,I\r\n"
    )


def test_a_void_keeps_the_number_and_a_reissue_pays_the_same_lines_with_the_next_number(
    network, make_user
):
    from cooperative.roles import Role

    alpha, beta = network
    member_paying(alpha, "Ben", "Young")
    member_paying(beta, "Ana", "Zamora")
    run = snapshot(FEB, FEB_PAYOUT_DAY)
    finance = make_user(Role.FINANCE)
    first = Statement.objects.get(run=run, check_number=100001)
    with pytest.raises(ConflictError, match="Checks of a run still underway cannot be voided"):
        services.statement_void(statement=first, actor=finance, reason="lost")
    PayoutRun.objects.filter(pk=run.pk).update(status="completed")
    with pytest.raises(ApplicationError, match="Say why the check is voided."):
        services.statement_void(statement=first, actor=finance, reason="  ")
    new = services.statement_void(
        statement=first, actor=finance, reason="Lost in the mail", today=datetime.date(2026, 3, 9)
    )
    first.refresh_from_db()
    assert (first.status, first.void_reason, first.voided_by) == (
        "voided",
        "Lost in the mail",
        finance,
    )
    assert (new.check_number, new.reissue_of, new.amount, new.check_date) == (
        100003, first, first.amount, datetime.date(2026, 3, 9),
    )  # fmt: skip
    assert list(new.lines.values_list("member_number", "amount")) == list(
        first.lines.values_list("member_number", "amount")
    )
    assert PaidOutMonth.objects.count() == 2  # the member-months are still paid once
    with pytest.raises(ConflictError, match="Check 100001 is already void."):
        services.statement_void(statement=first, actor=finance, reason="again")
    with pytest.raises(DatabaseError), transaction.atomic():
        Statement.objects.filter(pk=first.pk).update(status="issued", voided_at=None)
    rows = services.positive_pay_csv(
        list(Statement.objects.filter(run=run).order_by("check_number"))
    )
    assert rows.splitlines()[1:] == [
        "000123456789,100001,75.00,2026-02-27,Alpha Family Care,V",
        "000123456789,100002,75.00,2026-02-27,Beta Health,I",
        "000123456789,100003,75.00,2026-03-09,Alpha Family Care,I",
    ]
    balance = services.reconciliation(run)
    assert balance.balances
    assert balance.statements_total == Decimal("150.00")


def test_the_run_report_sums_by_state_clinic_and_practitioner_with_adjustments(network):
    alpha, beta = network
    Clinic.objects.filter(remit_to_name="Beta Health").update(
        remit_to_state="OK", remit_to_zip="74103"
    )
    member_paying(alpha, "Ben", "Young", born=datetime.date(1970, 1, 2))
    late = member_paying(alpha, "Lia", "Late", pay=False)
    member_paying(beta, "Ana", "Zamora")
    snapshot(FEB, FEB_PAYOUT_DAY)
    pay_month(late.member, "2026-02", on=datetime.date(2026, 3, 10))
    member_services.invoices_generate(period=MAR)
    mar = snapshot(MAR, MAR_PAYOUT_DAY)
    rows = services_report_rows(mar)
    number = late.member.member_number
    alpha_name = alpha.display_name
    assert rows == [
        ["section", "name", "clinic", "check_number", "member_months", "roster_total", "adjustments", "total"],
        ["state", "TX", "", "", "0", "0.00", "75.00", "75.00"],
        ["clinic", "Alpha Family Care", "Alpha Family Care", "100003", "0", "0.00", "75.00", "75.00"],
        ["practitioner", alpha_name, "Alpha Family Care", "", "0", "0.00", "75.00", "75.00"],
        ["adjustment:late", f"Late, Lia ({number}, 2026-02)", "Alpha Family Care", "", "", "", "75.00", "75.00"],
        ["reconciliation", "balances", "", "", "0", "0.00", "75.00", "75.00"],
    ]  # fmt: skip


def services_report_rows(run):
    import csv
    import io

    from payouts.selectors import run_report_csv

    return list(csv.reader(io.StringIO(run_report_csv(run))))
