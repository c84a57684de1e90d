"""Dues: invoices, employer invoices, payments, CSV imports, lapsing and the paid member-months
that payouts read. Real Postgres; dates are controlled with `today=` and Period."""

import datetime
import hashlib
from decimal import Decimal

import pytest
from django.utils import timezone

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.periods import Period
from cooperative.roles import Role
from members import selectors, services
from members.models import (
    EmployerGroup,
    EmployerInvoice,
    Invoice,
    InvoiceStatus,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentSource,
)
from tests.members.factories import enroll, make_pcp, make_plan

FEB = Period(2026, 2)
MAR = Period(2026, 3)
D = Decimal


def make_group(code="GULF25", kind="percent", value="40"):
    return EmployerGroup.objects.create(
        name=f"Employer {code}", ein="12-3456789", contact_name="Ana", contact_email="ana@example.com",
        state="TX", employer_code=code, contribution_kind=kind, contribution_value=D(value),
    )  # fmt: skip


def invoice_of(result, period=FEB):
    return Invoice.objects.get(membership=result.membership, period=period.first_day)


def billing_state():
    """Everything a refused payment or import must leave untouched."""
    return {
        "payments": list(
            Payment.objects.order_by("pk").values_list("reference", "amount", "unapplied")
        ),
        "allocations": list(
            PaymentAllocation.objects.order_by("pk").values_list(
                "payment_id", "invoice_id", "employer_invoice_id", "amount"
            )
        ),
        "invoices": list(
            Invoice.objects.order_by("pk").values_list(
                "pk", "member_paid", "member_paid_at", "settled_at", "status"
            )
        ),
        "employer_invoices": list(
            EmployerInvoice.objects.order_by("pk").values_list(
                "pk", "amount", "amount_paid", "paid_at"
            )
        ),
        "imports": PaymentImport.objects.count(),
        "audit": AuditEvent.objects.count(),
        "statuses": list(Membership.objects.order_by("pk").values_list("pk", "status")),
    }


# --- invoices_generate -----------------------------------------------------------------------


@pytest.mark.django_db
def test_enrollment_creates_the_first_invoice_and_a_rerun_creates_nothing():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    invoice = Invoice.objects.get()
    assert (invoice.membership, invoice.member, invoice.bill_to) == (
        result.membership, result.member, result.member,
    )  # fmt: skip
    assert invoice.period == datetime.date(2026, 2, 1)
    assert (invoice.practitioner, invoice.pcp_assignment) == (pcp, result.assignment)
    assert (invoice.age, invoice.age_band) == (35, "18–44")
    assert (invoice.pcp_fee, invoice.cooperative_portion, invoice.amount) == (
        D("75.00"), D("15.00"), D("90.00"),
    )  # fmt: skip
    assert (invoice.employer_share, invoice.member_amount, invoice.member_paid) == (
        D("0.00"), D("90.00"), D("0.00"),
    )  # fmt: skip
    assert (invoice.status, invoice.settled_at, invoice.member_paid_at) == ("open", None, None)
    assert invoice.employer_invoice is None
    assert result.first_invoice_total == D("90.00")

    again = services.invoices_generate(period=FEB)
    assert (again.created, again.already_invoiced, again.without_pcp, again.without_price) == (
        0, 0, [], [],
    )  # fmt: skip
    assert Invoice.objects.count() == 1
    assert services.invoices_generate(period=Period(2026, 1)).created == 0
    assert Invoice.objects.count() == 1


@pytest.mark.django_db
def test_next_month_bills_each_membership_the_band_fee_for_the_age_on_the_first():
    make_plan()
    pcp = make_pcp()
    turns_45_on_the_first = enroll(pcp, first="Ana", last="Flores", born=datetime.date(1981, 3, 1))
    turns_45_a_day_later = enroll(pcp, first="Bea", last="Flores", born=datetime.date(1981, 3, 2))
    family = enroll(
        pcp, first="Carla", last="Diaz", born=datetime.date(1970, 7, 4),
        dependents=[{"first_name": "Dani", "last_name": "Diaz", "date_of_birth": datetime.date(2015, 6, 1),
                     "pcp_npi": pcp.npi}],
    )  # fmt: skip
    child = family.member.dependents.get()
    assert Invoice.objects.filter(period=FEB.first_day).count() == 4

    run = services.invoices_generate(period=MAR)
    assert (run.period, run.created, run.already_invoiced) == (MAR, 4, 0)
    assert (run.without_pcp, run.without_price) == ([], [])
    rows = {
        i.member_id: (i.age, i.age_band, i.pcp_fee, i.cooperative_portion, i.amount, i.member_amount)
        for i in Invoice.objects.filter(period=MAR.first_day)
    }  # fmt: skip
    assert rows == {
        turns_45_on_the_first.member.pk: (45, "45–64", D("105.00"), D("15.00"), D("120.00"), D("120.00")),
        turns_45_a_day_later.member.pk: (44, "18–44", D("75.00"), D("15.00"), D("90.00"), D("90.00")),
        family.member.pk: (55, "45–64", D("105.00"), D("15.00"), D("120.00"), D("120.00")),
        child.pk: (10, "0–17", D("45.00"), D("15.00"), D("60.00"), D("60.00")),
    }  # fmt: skip
    assert invoice_of(turns_45_on_the_first, FEB).age_band == "18–44"
    child_invoice = Invoice.objects.get(member=child, period=MAR.first_day)
    assert child_invoice.bill_to == family.member
    assert child_invoice.pcp_assignment == child.pcp_assignments.get()
    assert invoice_of(family, MAR).pcp_assignment == family.assignment
    assert services.invoices_generate(period=MAR).created == 0
    assert Invoice.objects.count() == 8


@pytest.mark.django_db
def test_months_without_an_agreement_are_billed_without_a_pcp_fee_and_listed():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    run = services.invoices_generate(period=Period(2028, 1))  # the agreement ends 2027-12-31
    assert (run.created, run.without_pcp, run.without_price, run.without_pcp_fee) == (
        1, [], [], [(result.member.member_number, "No rate agreement in force for January 2028")],
    )  # fmt: skip
    invoice = Invoice.objects.get(member=result.member, period="2028-01-01")
    # The cooperative's portion only (8 + 5 + 2): no primary-care fee for a PCP without terms.
    assert (invoice.pcp_fee, invoice.age_band, invoice.amount, invoice.member_amount) == (
        D("0.00"), "", D("15.00"), D("15.00"),
    )  # fmt: skip
    assert Invoice.objects.count() == 2


@pytest.mark.django_db
def test_employer_shares_go_on_one_employer_invoice_per_group_and_month():
    make_plan()
    pcp = make_pcp()
    make_group("GULF25", "percent", "40")
    make_group("ACME10", "fixed", "30")
    first = enroll(pcp, first="Ana", last="Gulf", employer_code="gulf25")
    second = enroll(
        pcp, first="Ben", last="Gulf", born=datetime.date(1970, 1, 1), employer_code="GULF25"
    )
    third = enroll(pcp, first="Cy", last="Acme", employer_code="ACME10")
    alone = enroll(pcp, first="Dee", last="Solo")

    assert (first.monthly_total, first.employer_share) == (D("54.00"), D("36.00"))
    lines = {
        i.member_id: (i.amount, i.employer_share, i.member_amount, i.employer_invoice.employer_group.employer_code)
        for i in Invoice.objects.filter(period=FEB.first_day).exclude(employer_invoice=None)
    }  # fmt: skip
    assert lines == {
        first.member.pk: (D("90.00"), D("36.00"), D("54.00"), "GULF25"),
        second.member.pk: (D("120.00"), D("48.00"), D("72.00"), "GULF25"),
        third.member.pk: (D("90.00"), D("30.00"), D("60.00"), "ACME10"),
    }  # fmt: skip
    assert invoice_of(alone).employer_invoice is None
    feb = {
        e.employer_group.employer_code: (e.amount, e.amount_paid, e.paid_at)
        for e in EmployerInvoice.objects.filter(period=FEB.first_day)
    }
    assert feb == {"GULF25": (D("84.00"), D("0.00"), None), "ACME10": (D("30.00"), D("0.00"), None)}

    assert services.invoices_generate(period=MAR).created == 4
    mar = {
        e.employer_group.employer_code: e.amount
        for e in EmployerInvoice.objects.filter(period=MAR.first_day)
    }
    assert mar == {"GULF25": D("84.00"), "ACME10": D("30.00")}
    assert EmployerInvoice.objects.count() == 4
    for employer_invoice in EmployerInvoice.objects.all():
        assert employer_invoice.amount == sum(
            i.employer_share for i in employer_invoice.member_invoices.all()
        )
    assert services.invoices_generate(period=MAR).created == 0
    assert EmployerInvoice.objects.get(employer_group__employer_code="GULF25", period=MAR.first_day).amount == D("84.00")  # fmt: skip


@pytest.mark.django_db
def test_a_fixed_share_above_the_dues_leaves_the_member_nothing_and_settles_when_the_employer_pays():
    make_plan()
    pcp = make_pcp()
    group = make_group("ALLIN", "fixed", "200")
    now = timezone.now()
    result = enroll(pcp, employer_code="ALLIN")
    invoice = invoice_of(result)
    assert (invoice.amount, invoice.employer_share, invoice.member_amount) == (
        D("90.00"), D("90.00"), D("0.00"),
    )  # fmt: skip
    assert invoice.member_paid_at is not None
    assert invoice.member_paid_at >= now
    assert (invoice.settled_at, invoice.status) == (None, "open")

    services.payment_record(
        reference="ACH-ALLIN-1", received_on=datetime.date(2026, 2, 3), amount="90.00", employer_group=group
    )  # fmt: skip
    invoice.refresh_from_db()
    assert invoice.settled_at is not None
    assert invoice.status == "paid"
    assert EmployerInvoice.objects.get().paid_at is not None


@pytest.mark.django_db
def test_cancelled_memberships_are_not_billed():
    make_plan()
    pcp = make_pcp()
    staying = enroll(pcp, first="Ana", last="Stays")
    leaving = enroll(pcp, first="Ben", last="Leaves")
    services.memberships_activate_started(today=FEB.first_day)
    services.membership_cancel(member=leaving.member, actor=None, today=datetime.date(2026, 2, 10))

    run = services.invoices_generate(period=MAR)
    assert run.created == 1
    assert list(
        Invoice.objects.filter(period=MAR.first_day).values_list("member_id", flat=True)
    ) == [staying.member.pk]
    assert not Invoice.objects.filter(member=leaving.member, period=MAR.first_day).exists()


@pytest.mark.django_db
def test_a_membership_cancelled_on_the_first_before_the_run_is_billed_for_its_last_month():
    """Cancelling on March 1st ends the membership on March 31st (PCP assigned until April 1st):
    the monthly run (01:00 on the 1st) or any rerun that month must still bill March."""
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    services.memberships_activate_started(today=FEB.first_day)
    cancelled = services.membership_cancel(member=result.member, actor=None, today=MAR.first_day)
    assert cancelled.end_date == datetime.date(2026, 3, 31)
    assert result.member.pcp_assignments.get().effective_to == datetime.date(2026, 4, 1)

    run = services.invoices_generate(period=MAR)
    assert run.created == 1
    assert invoice_of(result, MAR).amount == D("90.00")
    assert services.invoices_generate(period=Period(2026, 4)).created == 0


# --- payment_record ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_full_payment_settles_the_invoice(make_user):
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    finance = make_user(Role.FINANCE)
    before = timezone.now()
    payment = services.payment_record(
        reference=" CHK-1001 ", received_on=datetime.date(2026, 2, 3), amount="$90.00",
        member=result.member, actor=finance, note="check",
    )  # fmt: skip
    assert (payment.reference, payment.amount, payment.unapplied) == (
        "CHK-1001",
        D("90.00"),
        D("0.00"),
    )
    assert (payment.member, payment.employer_group, payment.source, payment.recorded_by) == (
        result.member, None, PaymentSource.ADMIN, finance,
    )  # fmt: skip
    invoice = invoice_of(result)
    assert (invoice.member_paid, invoice.status) == (D("90.00"), InvoiceStatus.PAID)
    assert invoice.member_paid_at >= before
    assert invoice.settled_at == invoice.member_paid_at
    assert list(PaymentAllocation.objects.values_list("payment_id", "invoice_id", "amount")) == [
        (payment.pk, invoice.pk, D("90.00"))
    ]
    assert _owed_and_credit(selectors.household_dues(result.member)) == (D("0.00"), D("0.00"))
    assert selectors.member_is_paid_for(result.member, FEB)


@pytest.mark.django_db
def test_a_partial_payment_leaves_the_invoice_open():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 3), amount="40", member=result.member
    )
    invoice = invoice_of(result)
    assert (invoice.member_paid, invoice.member_paid_at, invoice.settled_at, invoice.status) == (
        D("40.00"), None, None, "open",
    )  # fmt: skip
    assert _owed_and_credit(selectors.household_dues(result.member)) == (D("50.00"), D("0.00"))
    assert not selectors.member_is_paid_for(result.member, FEB)

    services.payment_record(
        reference="CHK-2", received_on=datetime.date(2026, 2, 10), amount="50.00", member=result.member
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.member_paid, invoice.status) == (D("90.00"), "paid")
    assert invoice.settled_at is not None
    assert PaymentAllocation.objects.count() == 2


@pytest.mark.django_db
def test_an_overpayment_is_a_credit_applied_to_the_next_invoice():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    payment = services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 3), amount="150.00", member=result.member
    )  # fmt: skip
    assert (payment.amount, payment.unapplied) == (D("150.00"), D("60.00"))
    assert invoice_of(result).status == "paid"
    assert _owed_and_credit(selectors.household_dues(result.member)) == (D("0.00"), D("60.00"))

    services.invoices_generate(period=MAR)
    march = invoice_of(result, MAR)
    assert (march.member_amount, march.member_paid, march.status, march.settled_at) == (
        D("90.00"), D("60.00"), "open", None,
    )  # fmt: skip
    payment.refresh_from_db()
    assert payment.unapplied == D("0.00")
    assert list(
        PaymentAllocation.objects.order_by("pk").values_list("invoice__period", "amount")
    ) == [(FEB.first_day, D("90.00")), (MAR.first_day, D("60.00"))]
    assert _owed_and_credit(selectors.household_dues(result.member)) == (D("30.00"), D("0.00"))

    services.payment_record(
        reference="CHK-2", received_on=datetime.date(2026, 3, 3), amount="30.00", member=result.member
    )  # fmt: skip
    march.refresh_from_db()
    assert (march.member_paid, march.status) == (D("90.00"), "paid")


@pytest.mark.django_db
def test_a_payment_is_applied_to_the_oldest_month_first():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    services.invoices_generate(period=MAR)
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 3, 3), amount="100.00", member=result.member
    )  # fmt: skip
    assert (invoice_of(result, FEB).member_paid, invoice_of(result, FEB).status) == (
        D("90.00"),
        "paid",
    )
    assert (invoice_of(result, MAR).member_paid, invoice_of(result, MAR).status) == (
        D("10.00"),
        "open",
    )


@pytest.mark.django_db
def test_a_payment_for_a_dependent_goes_to_the_household():
    make_plan()
    pcp = make_pcp()
    family = enroll(
        pcp, dependents=[{"first_name": "Dani", "last_name": "Ortega", "date_of_birth": datetime.date(2015, 6, 1),
                          "pcp_npi": pcp.npi}],
    )  # fmt: skip
    child = family.member.dependents.get()
    assert family.first_invoice_total == D("150.00")
    payment = services.payment_record(
        reference="CHK-7", received_on=datetime.date(2026, 2, 3), amount="100.00", member=child
    )  # fmt: skip
    assert payment.member == family.member
    assert not Payment.objects.filter(member=child).exists()
    own = Invoice.objects.get(member=family.member)
    childs = Invoice.objects.get(member=child)
    assert (own.bill_to, childs.bill_to) == (family.member, family.member)
    assert (own.member_paid, own.status) == (D("90.00"), "paid")
    assert (childs.member_paid, childs.status) == (D("10.00"), "open")
    assert _owed_and_credit(selectors.household_dues(family.member)) == (D("50.00"), D("0.00"))


@pytest.mark.django_db
def test_a_duplicate_reference_is_a_conflict_and_records_nothing():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 3), amount="40.00", member=result.member
    )  # fmt: skip
    before = billing_state()
    with pytest.raises(ConflictError) as caught:
        services.payment_record(
            reference="CHK-1", received_on=datetime.date(2026, 2, 4), amount="50.00", member=result.member
        )  # fmt: skip
    assert caught.value.message == "Payment CHK-1 is already recorded."
    assert caught.value.errors == {"reference": ["Already recorded."]}
    assert caught.value.status_code == 409
    assert billing_state() == before
    assert invoice_of(result).member_paid == D("40.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"reference": "  "}, {"reference": ["Give the payment's reference (check or transfer number)."]}),
        ({"reference": "X" * 65}, {"reference": ["A reference has at most 64 characters."]}),
        ({"received_on": "2026-02-03"}, {"received_on": ["Give the date the payment was received."]}),
        ({"received_on": datetime.date(2099, 1, 1)}, {"received_on": ["The payment date is in the future."]}),
        ({"amount": "0"}, {"amount": ["The amount must be more than zero."]}),
        ({"amount": "-5.00"}, {"amount": ["The amount must be more than zero."]}),
        ({"amount": "12.345"}, {"amount": ["An amount has at most two decimals."]}),
        ({"amount": "abc"}, {"amount": ["'abc' is not an amount of money."]}),
        ({"amount": 12.5}, {"amount": ["Amounts must be Decimal, int or str, not float."]}),
        ({"amount": "10000000"}, {"amount": ["The amount is too large."]}),
        ({"member": None}, {"payer": ["A payment comes from one member or one employer group."]}),
        ({"employer_group": "group"}, {"payer": ["A payment comes from one member or one employer group."]}),
    ],
)  # fmt: skip
def test_bad_payments_are_refused_on_the_field_and_record_nothing(changes, errors):
    make_plan()
    pcp = make_pcp()
    group = make_group()
    result = enroll(pcp)
    kwargs = {
        "reference": "CHK-1", "received_on": datetime.date(2026, 2, 3), "amount": "90.00",
        "member": result.member, "employer_group": None,
    }  # fmt: skip
    kwargs.update(changes)
    if kwargs["employer_group"] == "group":
        kwargs["employer_group"] = group
    before = billing_state()
    with pytest.raises(ApplicationError) as caught:
        services.payment_record(**kwargs)
    assert caught.value.errors == errors
    assert caught.value.message == next(iter(errors.values()))[0]
    assert caught.value.status_code == 400
    assert billing_state() == before


@pytest.mark.django_db
def test_every_bad_field_of_a_payment_is_reported_at_once():
    with pytest.raises(ApplicationError) as caught:
        services.payment_record(reference="", received_on=None, amount="-1")
    assert caught.value.errors == {
        "reference": ["Give the payment's reference (check or transfer number)."],
        "received_on": ["Give the date the payment was received."],
        "amount": ["The amount must be more than zero."],
        "payer": ["A payment comes from one member or one employer group."],
    }
    assert caught.value.message == "Give the payment's reference (check or transfer number)."
    assert Payment.objects.count() == 0


@pytest.mark.django_db
def test_an_invoice_with_an_employer_share_settles_once_both_parts_are_paid():
    make_plan()
    pcp = make_pcp()
    group = make_group("GULF25", "percent", "40")
    result = enroll(pcp, employer_code="GULF25")
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 3), amount="54.00", member=result.member
    )  # fmt: skip
    invoice = invoice_of(result)
    assert (invoice.member_paid, invoice.status, invoice.settled_at) == (D("54.00"), "open", None)
    assert invoice.member_paid_at is not None
    assert not selectors.member_is_paid_for(result.member, FEB)
    assert list(selectors.paid_member_months(FEB)) == []

    services.payment_record(
        reference="ACH-1", received_on=datetime.date(2026, 2, 5), amount="20.00", employer_group=group
    )  # fmt: skip
    employer_invoice = EmployerInvoice.objects.get()
    assert (employer_invoice.amount_paid, employer_invoice.paid_at) == (D("20.00"), None)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.settled_at) == ("open", None)

    employer_payment = services.payment_record(
        reference="ACH-2", received_on=datetime.date(2026, 2, 6), amount="20.00", employer_group=group
    )  # fmt: skip
    assert (employer_payment.member, employer_payment.employer_group, employer_payment.unapplied) == (
        None, group, D("4.00"),
    )  # fmt: skip
    employer_invoice.refresh_from_db()
    assert employer_invoice.amount_paid == D("36.00")
    assert employer_invoice.paid_at is not None
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert invoice.settled_at == employer_invoice.paid_at
    assert list(selectors.paid_member_months(FEB)) == [invoice]


@pytest.mark.django_db
def test_an_employer_paying_first_settles_the_invoice_when_the_member_pays():
    make_plan()
    pcp = make_pcp()
    group = make_group("GULF25", "percent", "40")
    result = enroll(pcp, employer_code="GULF25")
    services.payment_record(
        reference="ACH-1", received_on=datetime.date(2026, 2, 3), amount="36.00", employer_group=group
    )  # fmt: skip
    invoice = invoice_of(result)
    assert (invoice.status, invoice.settled_at, invoice.member_paid_at) == ("open", None, None)
    assert EmployerInvoice.objects.get().paid_at is not None

    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 4), amount="54.00", member=result.member
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.member_paid, invoice.status) == (D("54.00"), "paid")
    assert invoice.settled_at is not None
    assert invoice.settled_at == invoice.member_paid_at


@pytest.mark.django_db
def test_an_employer_overpayment_is_a_credit_applied_to_the_next_employer_invoice():
    """Payments not yet applied are a credit for the next invoice, the employer's too."""
    make_plan()
    pcp = make_pcp()
    group = make_group("GULF25", "percent", "40")
    result = enroll(pcp, employer_code="GULF25")
    prepaid = services.payment_record(
        reference="ACH-1", received_on=datetime.date(2026, 2, 3), amount="72.00", employer_group=group
    )  # fmt: skip
    assert prepaid.unapplied == D("36.00")
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 3), amount="108.00", member=result.member
    )  # fmt: skip
    assert invoice_of(result).status == "paid"

    services.invoices_generate(period=MAR)
    march = EmployerInvoice.objects.get(period=MAR.first_day)
    assert (march.amount, march.amount_paid) == (D("36.00"), D("36.00"))
    assert march.paid_at is not None
    prepaid.refresh_from_db()
    assert prepaid.unapplied == D("0.00")
    invoice = invoice_of(result, MAR)
    assert (invoice.member_paid, invoice.status) == (D("54.00"), "paid")
    assert invoice.settled_at is not None


# --- payments_import_csv -------------------------------------------------------------------------


def _csv(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.django_db
def test_an_import_applies_good_lines_and_reports_the_others_by_line(make_user):
    make_plan()
    pcp = make_pcp()
    group = make_group("GULF25", "percent", "40")
    ana = enroll(pcp, first="Ana", last="Alvarez")
    ben = enroll(pcp, first="Ben", last="Brito", employer_code="GULF25")
    services.payment_record(
        reference="PRE-1", received_on=datetime.date(2026, 2, 1), amount="4.00", member=ben.member
    )  # fmt: skip
    finance = make_user(Role.FINANCE)
    a, b = ana.member.member_number, ben.member.member_number
    content = _csv(
        "Reference,Date,Member Number,Amount",
        f"CHK-1,2026-02-03,{a},90.00",  # 2 applied
        f"CHK-2,02/04/2026,{b.lower()},50",  # 3 applied
        f"CHK-1,2026-02-05,{a},90.00",  # 4 duplicate in the file
        "",  # 5 blank
        "CHK-3,2026-02-05,CC-0000-0000-0,10.00",  # 6 unknown member
        f"CHK-4,2026-02-30,{a},10.00",  # 7 bad date
        f"CHK-5,2026-02-06,{a},-10.00",  # 8 negative
        "CHK-6,2026-02-06,gulf25,36.00",  # 9 applied, employer
        f"PRE-1,2026-02-06,{b},4.00",  # 10 duplicate of an earlier payment
        f",2026-02-06,{a},10.00",  # 11 no reference
    )
    batch = services.payments_import_csv(file_name="february.csv", content=content, actor=finance)
    assert (batch.file_name, batch.sha256, batch.uploaded_by) == (
        "february.csv", hashlib.sha256(content).hexdigest(), finance,
    )  # fmt: skip
    assert (batch.applied_count, batch.duplicate_count, batch.rejected_count, batch.total_applied) == (
        3, 2, 4, D("176.00"),
    )  # fmt: skip
    assert batch.rejected_lines == [
        {"line": 6, "reference": "CHK-3", "reason": "no member number or employer code 'CC-0000-0000-0'"},
        {"line": 7, "reference": "CHK-4", "reason": "date '2026-02-30' is not YYYY-MM-DD or MM/DD/YYYY"},
        {"line": 8, "reference": "CHK-5", "reason": "The amount must be more than zero."},
        {"line": 11, "reference": "", "reason": "Give the payment's reference (check or transfer number)."},
    ]  # fmt: skip
    imported = {
        p.reference: (p.received_on, p.member, p.employer_group, p.amount, p.source)
        for p in batch.payments.all()
    }
    assert imported == {
        "CHK-1": (datetime.date(2026, 2, 3), ana.member, None, D("90.00"), "import"),
        "CHK-2": (datetime.date(2026, 2, 4), ben.member, None, D("50.00"), "import"),
        "CHK-6": (datetime.date(2026, 2, 6), None, group, D("36.00"), "import"),
    }
    assert Payment.objects.count() == 4
    ana_invoice, ben_invoice = invoice_of(ana), invoice_of(ben)
    assert (ana_invoice.member_paid, ana_invoice.status) == (D("90.00"), "paid")
    assert (ben_invoice.member_paid, ben_invoice.status) == (D("54.00"), "paid")
    assert ben_invoice.settled_at is not None
    assert EmployerInvoice.objects.get().paid_at is not None

    state = billing_state()
    again = services.payments_import_csv(file_name="february.csv", content=content, actor=finance)
    assert (again.applied_count, again.duplicate_count, again.rejected_count, again.total_applied) == (
        0, 5, 4, D("0.00"),
    )  # fmt: skip
    assert again.rejected_lines == batch.rejected_lines
    assert again.payments.count() == 0
    state["imports"] += 1
    state["audit"] += 1
    assert billing_state() == state


@pytest.mark.django_db
def test_importing_the_same_file_twice_records_nothing_new():
    make_plan()
    pcp = make_pcp()
    ana = enroll(pcp, first="Ana", last="Alvarez")
    ben = enroll(pcp, first="Ben", last="Brito")
    content = _csv(
        "reference,date,member_number,amount",
        f"CHK-1,2026-02-03,{ana.member.member_number},90.00",
        f"CHK-2,2026-02-04,{ben.member.member_number},40.00",
    )
    first = services.payments_import_csv(file_name="a.csv", content=content, actor=None)
    assert (first.applied_count, first.duplicate_count, first.rejected_count) == (2, 0, 0)
    payments = list(Payment.objects.order_by("pk").values_list("reference", "amount", "unapplied"))
    second = services.payments_import_csv(file_name="a.csv", content=content, actor=None)
    assert (second.applied_count, second.duplicate_count, second.rejected_count) == (0, 2, 0)
    assert second.duplicate_count == first.applied_count
    assert (second.total_applied, second.rejected_lines) == (D("0.00"), [])
    assert second.sha256 == first.sha256
    assert (
        list(Payment.objects.order_by("pk").values_list("reference", "amount", "unapplied"))
        == payments
    )
    assert PaymentAllocation.objects.count() == 2
    assert invoice_of(ben).member_paid == D("40.00")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "message", "errors"),
    [
        (
            b"reference,date,amount\r\nCHK-1,2026-02-03,90.00\r\n",
            "The first line must name the columns reference, date, member number or employer code, amount; "
            "missing: payer.",
            {"file": ["Missing columns: payer."]},
        ),
        (
            b"",
            "The first line must name the columns reference, date, member number or employer code, amount; "
            "missing: reference, date, payer, amount.",
            {"file": ["Missing columns: reference, date, payer, amount."]},
        ),
        (
            "reference,date,payer,amount\r\nCHK-1,2026-02-03,Müller,90\r\n".encode("latin-1"),
            "The file is not UTF-8 text: export it as CSV (UTF-8).",
            {"file": ["Not a UTF-8 CSV file."]},
        ),
        (
            b"reference,date,payer,amount\r\nCHK-1,2026-02-03,\x00\x01,90\r\n",
            "The file is not a CSV text file.",
            {"file": ["Not a CSV file."]},
        ),
        (
            b"reference,date,payer,amount\r\n" + b"x" * (5 * 1024 * 1024),
            "The file is larger than 5 MB: split it.",
            {"file": ["Larger than 5 MB."]},
        ),
    ],
)  # fmt: skip
def test_an_unreadable_file_is_refused_and_no_import_is_recorded(content, message, errors):
    make_plan()
    pcp = make_pcp()
    enroll(pcp)
    before = billing_state()
    with pytest.raises(ApplicationError) as caught:
        services.payments_import_csv(file_name="bad.csv", content=content, actor=None)
    assert (caught.value.message, caught.value.errors) == (message, errors)
    assert billing_state() == before
    assert PaymentImport.objects.count() == 0


# --- lapsing, reinstatement, activation ----------------------------------------------------------


@pytest.mark.django_db
def test_pending_memberships_become_active_on_their_start_date():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    assert services.memberships_activate_started(today=datetime.date(2026, 1, 31)) == 0
    assert Membership.objects.get().status == MembershipStatus.PENDING
    assert services.memberships_activate_started(today=FEB.first_day) == 1
    assert Membership.objects.get().status == MembershipStatus.ACTIVE
    assert list(
        MembershipEvent.objects.filter(membership=result.membership).values_list(
            "from_status", "to_status", "reason"
        )
    ) == [("", "pending", "enrolled"), ("pending", "active", "start date reached")]
    assert services.memberships_activate_started(today=datetime.date(2026, 2, 2)) == 0


@pytest.mark.django_db
def test_unpaid_dues_lapse_the_household_after_the_grace_days_and_payment_reinstates_it():
    make_plan()
    pcp = make_pcp()
    family = enroll(
        pcp, dependents=[{"first_name": "Dani", "last_name": "Ortega", "date_of_birth": datetime.date(2015, 6, 1),
                          "pcp_npi": pcp.npi}],
    )  # fmt: skip
    paying = enroll(pcp, first="Ana", last="Paid")
    services.payment_record(
        reference="CHK-P", received_on=datetime.date(2026, 2, 2), amount="90.00", member=paying.member
    )  # fmt: skip
    child = family.member.dependents.get()
    services.memberships_activate_started(today=FEB.first_day)

    assert services.memberships_lapse_overdue(today=datetime.date(2026, 2, 16)) == 0
    assert set(Membership.objects.values_list("status", flat=True)) == {"active"}
    assert services.memberships_lapse_overdue(today=datetime.date(2026, 2, 17)) == 2
    statuses = dict(Membership.objects.values_list("member_id", "status"))
    assert statuses == {family.member.pk: "lapsed", child.pk: "lapsed", paying.member.pk: "active"}
    lapsed_events = MembershipEvent.objects.filter(to_status="lapsed")
    assert sorted(lapsed_events.values_list("membership__member_id", "from_status", "reason")) == sorted(
        [(family.member.pk, "active", "dues unpaid 15 days"), (child.pk, "active", "dues unpaid 15 days")]
    )  # fmt: skip
    assert services.memberships_lapse_overdue(today=datetime.date(2026, 2, 18)) == 0
    assert MembershipEvent.objects.filter(to_status="lapsed").count() == 2

    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 20), amount="100.00", member=family.member
    )  # fmt: skip
    assert set(
        Membership.objects.filter(member__in=[family.member, child]).values_list(
            "status", flat=True
        )
    ) == {"lapsed"}
    services.payment_record(
        reference="CHK-2", received_on=datetime.date(2026, 2, 21), amount="50.00", member=family.member
    )  # fmt: skip
    statuses = dict(Membership.objects.values_list("member_id", "status"))
    assert statuses == {family.member.pk: "active", child.pk: "active", paying.member.pk: "active"}
    assert sorted(
        MembershipEvent.objects.filter(from_status="lapsed").values_list(
            "membership__member_id", "to_status", "reason"
        )
    ) == sorted(
        [(family.member.pk, "active", "reinstated: dues paid"), (child.pk, "active", "reinstated: dues paid")]
    )  # fmt: skip


@pytest.mark.django_db
def test_only_the_member_part_counts_for_lapsing():
    make_plan()
    pcp = make_pcp()
    make_group("GULF25", "percent", "40")
    result = enroll(pcp, employer_code="GULF25")
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 2, 3), amount="54.00", member=result.member
    )  # fmt: skip
    services.memberships_activate_started(today=FEB.first_day)
    assert services.memberships_lapse_overdue(today=datetime.date(2026, 3, 1)) == 0
    assert Membership.objects.get().status == "active"


# --- selectors: paid member-months ---------------------------------------------------------------


@pytest.mark.django_db
def test_paid_member_months_are_the_settled_invoices_of_the_month_by_practitioner():
    make_plan()
    first_pcp = make_pcp()
    second_pcp = make_pcp()
    zoe = enroll(first_pcp, first="Zoe", last="Young")
    ana = enroll(second_pcp, first="Ana", last="Adams")
    ben = enroll(first_pcp, first="Ben", last="Baker")
    cal = enroll(first_pcp, first="Cal", last="Cruz")  # never pays
    dee = enroll(first_pcp, first="Dee", last="Diaz")  # pays half
    services.invoices_generate(period=MAR)
    received = datetime.date(2026, 3, 2)
    for index, result in enumerate([zoe, ana, ben]):
        services.payment_record(
            reference=f"CHK-{index}", received_on=received, amount="90.00", member=result.member
        )
    services.payment_record(
        reference="CHK-B", received_on=received, amount="90.00", member=ben.member
    )
    services.payment_record(
        reference="CHK-D", received_on=received, amount="45.00", member=dee.member
    )

    feb = list(selectors.paid_member_months(FEB))
    assert [(i.member, i.practitioner, i.period) for i in feb] == [
        (ben.member, first_pcp, FEB.first_day),
        (zoe.member, first_pcp, FEB.first_day),
        (ana.member, second_pcp, FEB.first_day),
    ]
    assert all(i.settled_at is not None and i.status == "paid" for i in feb)
    assert [(i.member, i.period) for i in selectors.paid_member_months(MAR)] == [
        (ben.member, MAR.first_day)
    ]
    assert list(selectors.paid_member_months(Period(2026, 4))) == []
    assert not selectors.member_is_paid_for(cal.member, FEB)
    assert not selectors.member_is_paid_for(dee.member, FEB)


@pytest.mark.django_db
def test_late_paid_member_months_are_earlier_months_settled_since_a_time():
    make_plan()
    first_pcp = make_pcp()
    second_pcp = make_pcp()
    early = enroll(first_pcp, first="Eve", last="Early")
    late_b = enroll(second_pcp, first="Bo", last="Late")
    late_a = enroll(first_pcp, first="Al", last="Late")
    services.invoices_generate(period=MAR)
    received = datetime.date(2026, 3, 20)
    services.payment_record(
        reference="CHK-E", received_on=received, amount="90.00", member=early.member
    )
    since = timezone.now()
    services.payment_record(
        reference="CHK-B", received_on=received, amount="90.00", member=late_b.member
    )
    services.payment_record(
        reference="CHK-A", received_on=received, amount="180.00", member=late_a.member
    )

    before_march = list(selectors.late_paid_member_months(since, before=MAR))
    assert [(i.member, i.period) for i in before_march] == [
        (late_a.member, FEB.first_day),
        (late_b.member, FEB.first_day),
    ]
    everything = list(selectors.late_paid_member_months(since))  # months before this one
    assert [(i.member, i.practitioner, i.period) for i in everything] == [
        (late_a.member, first_pcp, FEB.first_day),
        (late_a.member, first_pcp, MAR.first_day),
        (late_b.member, second_pcp, FEB.first_day),
    ]
    assert list(selectors.late_paid_member_months(timezone.now())) == []


def _owed_and_credit(dues: selectors.HouseholdDues) -> tuple[D, D]:
    return dues.owed, dues.credit
