"""Returned payments and refunds: finance records them (admin, API, the payments CSV with a
`returned` marker); the member-months the payment paid become unpaid; a provider already
paid for one gets a reversal line on the next statement; never reversed twice."""

import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.periods import Period
from cooperative.roles import Role
from members import selectors, services
from members.models import EmployerInvoice, Invoice, Payment, PaymentAllocation, PaymentImport
from payouts import services as payout_services
from payouts.models import PaidOutMonth, StatementLine
from tests.members.factories import enroll, make_pcp, make_plan
from tests.members.test_billing import billing_state, make_group
from tests.payouts.factories import (
    APR_PAYOUT_DAY,
    FEB_PAYOUT_DAY,
    MAR_PAYOUT_DAY,
    make_bank_account,
    pay_month,
)

FEB, MAR, APR = Period(2026, 2), Period(2026, 3), Period(2026, 4)
D = Decimal


@pytest.fixture
def paid_member(db):
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp, first="Ben", last="Young")
    payment = pay_month(result.member, "2026-02")
    return result, payment


def test_a_returned_payment_makes_the_month_it_paid_unpaid_again(paid_member):
    result, payment = paid_member
    invoice = Invoice.objects.get(member=result.member, period=FEB.first_day)
    assert invoice.settled_at is not None
    assert selectors.member_is_paid_for(result.member, FEB)

    returned = services.payment_return(
        payment=payment, kind="returned", returned_on=datetime.date(2026, 2, 12),
        reason="NSF", actor=None,
    )  # fmt: skip

    assert (returned.return_kind, returned.returned_on, returned.return_reason, returned.unapplied) == (
        "returned", datetime.date(2026, 2, 12), "NSF", D("0.00"),
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.member_paid, invoice.member_paid_at, invoice.settled_at, invoice.status) == (
        D("0.00"), None, None, "open",
    )  # fmt: skip
    assert not selectors.member_is_paid_for(result.member, FEB)
    assert PaymentAllocation.objects.get(payment=payment).reversed_at is not None
    assert AuditEvent.objects.filter(
        object_id=str(payment.pk), detail__contains="returned on 2026-02-12"
    ).exists()


def test_a_payment_goes_back_once_and_a_refused_return_changes_nothing(paid_member):
    _, payment = paid_member
    services.payment_return(
        payment=payment, kind="refunded", returned_on=datetime.date(2026, 2, 12), actor=None
    )
    before = billing_state()
    with pytest.raises(ConflictError, match="already went back on February 12, 2026"):
        services.payment_return(
            payment=payment, kind="returned", returned_on=datetime.date(2026, 2, 13), actor=None
        )
    assert billing_state() == before


@pytest.mark.parametrize(
    ("kind", "returned_on", "message"),
    [
        ("bounced", datetime.date(2026, 2, 12), "Say whether the bank returned the payment or it was refunded."),
        ("returned", None, "Give the date the money went back."),
        ("returned", datetime.date(2026, 2, 1), "The money cannot go back before it was received."),
        ("returned", datetime.date(2099, 1, 1), "The date is in the future."),
    ],
)  # fmt: skip
def test_a_return_with_bad_input_is_refused_and_changes_nothing(
    paid_member, kind, returned_on, message
):
    _, payment = paid_member
    before = billing_state()
    with pytest.raises(ApplicationError) as error:
        services.payment_return(payment=payment, kind=kind, returned_on=returned_on, actor=None)
    assert error.value.message == message
    assert billing_state() == before
    assert Payment.objects.get(pk=payment.pk).return_kind == ""


def test_other_credit_the_member_holds_fills_the_month_again(paid_member):
    result, payment = paid_member
    invoice = Invoice.objects.get(member=result.member, period=FEB.first_day)
    services.payment_record(
        reference="CREDIT-1", received_on=datetime.date(2026, 2, 6), amount=D("200.00"),
        member=result.member, actor=None,
    )  # fmt: skip
    services.payment_return(
        payment=payment, kind="returned", returned_on=datetime.date(2026, 2, 12), actor=None
    )
    invoice.refresh_from_db()
    assert invoice.settled_at is not None
    assert invoice.member_paid == invoice.member_amount
    credit = Payment.objects.get(reference="CREDIT-1")
    assert credit.unapplied == D("200.00") - invoice.member_amount


def test_an_employer_payment_returned_unsettles_its_members_months(db):
    make_plan()
    pcp = make_pcp()
    make_group(code="GULF25", kind="percent", value="40")
    result = enroll(pcp, first="Ana", last="Gulf", employer_code="GULF25")
    invoice = Invoice.objects.get(member=result.member, period=FEB.first_day)
    pay_month(result.member, "2026-02")
    employer_invoice = EmployerInvoice.objects.get()
    payment = services.payment_record(
        reference="EMP-1", received_on=datetime.date(2026, 2, 5), amount=employer_invoice.amount,
        employer_group=employer_invoice.employer_group, actor=None,
    )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.settled_at is not None
    services.payment_return(
        payment=payment, kind="returned", returned_on=datetime.date(2026, 2, 20), actor=None
    )
    employer_invoice.refresh_from_db()
    invoice.refresh_from_db()
    assert (employer_invoice.amount_paid, employer_invoice.paid_at) == (D("0.00"), None)
    assert (invoice.settled_at, invoice.status, invoice.member_paid) == (
        None, "open", invoice.member_amount,
    )  # fmt: skip


def test_a_provider_paid_for_a_returned_month_gets_one_reversal_next_month(paid_member):
    result, payment = paid_member
    pcp = result.assignment.practitioner
    cy = enroll(pcp, first="Cy", last="Xu", born=datetime.date(1970, 1, 2))  # 45–64: $105
    pay_month(cy.member, "2026-02")
    make_bank_account()
    feb = payout_services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=feb.pk, today=FEB_PAYOUT_DAY)
    assert PaidOutMonth.objects.filter(member=result.member, reversed_by__isnull=True).count() == 1

    services.payment_return(
        payment=payment, kind="returned", returned_on=datetime.date(2026, 3, 2), actor=None
    )
    services.invoices_generate(period=MAR)
    pay_month(cy.member, "2026-03", on=datetime.date(2026, 3, 3))
    mar = payout_services.payout_run_start(period=MAR, actor=None, today=MAR_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=mar.pk, today=MAR_PAYOUT_DAY)
    assert sorted(
        StatementLine.objects.filter(statement__run=mar).values_list(
            "kind", "member_id", "period", "amount"
        )
    ) == [
        ("month", cy.member.pk, datetime.date(2026, 3, 1), D("105.00")),
        ("reversal", result.member.pk, datetime.date(2026, 2, 1), D("-75.00")),
    ]
    balance = payout_services.reconciliation(mar)
    assert balance.balances
    assert (balance.statements_total, balance.adjustments_total) == (D("30.00"), D("-75.00"))

    # April: nothing is reversed twice; February is paid out again once it is paid again.
    services.invoices_generate(period=APR)
    pay_month(cy.member, "2026-04", on=datetime.date(2026, 4, 2))
    services.payment_record(
        reference="FEB-AGAIN", received_on=datetime.date(2026, 4, 3),
        amount=Invoice.objects.get(member=result.member, period=FEB.first_day).member_amount,
        member=result.member, actor=None,
    )  # fmt: skip
    apr = payout_services.payout_run_start(period=APR, actor=None, today=APR_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=apr.pk, today=APR_PAYOUT_DAY)
    assert sorted(
        StatementLine.objects.filter(statement__run=apr).values_list(
            "kind", "member_id", "period", "amount"
        )
    ) == [
        ("late", result.member.pk, datetime.date(2026, 2, 1), D("75.00")),
        ("month", cy.member.pk, datetime.date(2026, 4, 1), D("105.00")),
    ]
    assert StatementLine.objects.filter(kind="reversal").count() == 1


def _csv(*lines):
    return (
        "reference,date,member number,amount,returned\r\n" + "\r\n".join(lines) + "\r\n"
    ).encode()


def test_the_payments_csv_returns_a_payment_once_and_rejects_what_does_not_match(paid_member):
    result, payment = paid_member
    number = result.member.member_number
    content = _csv(
        f"{payment.reference},2026-02-12,{number},{payment.amount},returned",
        f"NO-SUCH,2026-02-12,{number},10.00,returned",
        f"{payment.reference},2026-02-12,{number},1.00,refunded",
        f"{payment.reference},2026-02-12,{number},{payment.amount},maybe",
    )
    batch = services.payments_import_csv(file_name="returns.csv", content=content, actor=None)
    assert (batch.applied_count, batch.returned_count, batch.duplicate_count, batch.rejected_count) == (
        0, 1, 1, 2,
    )  # fmt: skip
    assert batch.rejected_lines == [
        {"line": 3, "reference": "NO-SUCH", "reason": "no payment NO-SUCH to return"},
        {"line": 5, "reference": payment.reference, "reason": "returned 'maybe' is not returned, refunded or empty"},
    ]  # fmt: skip
    payment.refresh_from_db()
    assert (payment.return_kind, payment.returned_on) == ("returned", datetime.date(2026, 2, 12))
    assert not selectors.member_is_paid_for(result.member, FEB)
    before = billing_state()
    again = services.payments_import_csv(file_name="returns.csv", content=content, actor=None)
    assert (again.returned_count, again.duplicate_count) == (0, 2)
    after = billing_state()
    assert after["allocations"] == before["allocations"]
    assert after["invoices"] == before["invoices"]
    assert PaymentImport.objects.count() == 2


def test_the_payments_csv_refuses_a_return_of_a_different_amount(paid_member):
    result, payment = paid_member
    before = billing_state()
    batch = services.payments_import_csv(
        file_name="r.csv",
        content=_csv(f"{payment.reference},2026-02-12,{result.member.member_number},1.00,returned"),
        actor=None,
    )
    assert batch.rejected_lines == [
        {"line": 2, "reference": payment.reference,
         "reason": f"payment {payment.reference} was {payment.amount}, not 1.00: a payment goes back whole"},
    ]  # fmt: skip
    after = billing_state()
    assert after["invoices"] == before["invoices"]
    assert after["allocations"] == before["allocations"]


def test_finance_records_a_return_in_the_admin_and_others_may_not(client, make_user, paid_member):
    result, payment = paid_member
    url = f"/admin/members/payment/{payment.pk}/return/"
    for role in (Role.ADVOCATE, Role.PROVIDER_SERVICES):
        client.force_login(make_user(role))
        assert client.get(url).status_code == 403
        assert (
            client.post(url, {"return_kind": "returned", "returned_on": "2026-02-12"}).status_code
            == 403
        )
    assert Payment.objects.get(pk=payment.pk).return_kind == ""
    client.force_login(make_user(Role.FINANCE))
    change = client.get(f"/admin/members/payment/{payment.pk}/change/").content.decode()
    assert url in change
    page = client.get(url).content.decode()
    assert "What this payment paid" in page
    refused = client.post(url, {"return_kind": "returned", "returned_on": "2099-01-01"})
    assert "The date is in the future." in refused.content.decode()
    assert Payment.objects.get(pk=payment.pk).return_kind == ""
    response = client.post(
        url, {"return_kind": "returned", "returned_on": "2026-02-12", "return_reason": "NSF"}
    )
    assert response.status_code == 302
    payment.refresh_from_db()
    assert (payment.return_kind, payment.return_reason, payment.returned_by.username) == (
        "returned", "NSF", response.wsgi_request.user.username,
    )  # fmt: skip
    assert url not in client.get(f"/admin/members/payment/{payment.pk}/change/").content.decode()
    assert "already went back" in client.get(url).content.decode()


def test_finance_records_a_return_by_api_once(api_client, make_user, paid_member):
    _, payment = paid_member
    url = f"/api/v1/payments/{payment.pk}/return/"
    api_client.force_authenticate(make_user(Role.MEMBER))
    assert (
        api_client.post(url, {"return_kind": "returned", "returned_on": "2026-02-12"}).status_code
        == 403
    )
    api_client.force_authenticate(make_user(Role.FINANCE))
    bad = api_client.post(
        url, {"return_kind": "bounced", "returned_on": "2026-02-12"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"return_kind": ['"bounced" is not a valid choice.']}
    response = api_client.post(
        url, {"return_kind": "refunded", "returned_on": "2026-02-12"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["return_kind"], response.json()["returned_on"]) == (
        "refunded", "2026-02-12",
    )  # fmt: skip
    again = api_client.post(
        url, {"return_kind": "returned", "returned_on": "2026-02-13"}, format="json"
    )
    assert again.status_code == 409
    assert Payment.objects.get(pk=payment.pk).return_kind == "refunded"


def test_the_member_sees_the_returned_payment_on_the_dues_page(client, paid_member):
    result, payment = paid_member
    services.payment_return(
        payment=payment, kind="returned", returned_on=datetime.date(2026, 2, 12), actor=None
    )
    client.force_login(result.member.user)
    page = client.get("/me/dues/").content.decode()
    assert "Returned by the bank Feb 12, 2026" in page
