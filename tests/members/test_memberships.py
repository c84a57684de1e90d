"""Memberships after enrollment: PCP change, cancellation, contact details, plan versions."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.periods import Period
from cooperative.roles import Role
from members import selectors, services
from members.models import (
    EmployerGroup,
    EmployerInvoice,
    Invoice,
    Member,
    Membership,
    MembershipEvent,
    Payment,
    PaymentAllocation,
    PcpAssignment,
    Plan,
)
from providers.models import Practitioner
from tests.members.factories import PASSWORD, enroll, make_pcp, make_plan

FEB = Period(2026, 2)
MAR = Period(2026, 3)
D = Decimal


def child_of(pcp, first="Dani"):
    return {"first_name": first, "last_name": "Ortega", "date_of_birth": datetime.date(2015, 6, 1), "pcp_npi": pcp.npi}  # fmt: skip


def panel(*practitioners):
    return [Practitioner.objects.get(pk=p.pk).panel_member_count for p in practitioners]


def assignments(member):
    return list(
        PcpAssignment.objects.filter(member=member)
        .order_by("pk")
        .values_list("practitioner_id", "effective_from", "effective_to")
    )


def membership_state():
    return {
        "assignments": list(
            PcpAssignment.objects.order_by("pk").values_list(
                "member_id", "practitioner_id", "effective_from", "effective_to"
            )
        ),
        "panels": list(Practitioner.objects.order_by("pk").values_list("pk", "panel_member_count")),
        "memberships": list(
            Membership.objects.order_by("pk").values_list("pk", "status", "end_date", "plan_id")
        ),
        "events": MembershipEvent.objects.count(),
        "invoices": list(Invoice.objects.order_by("pk").values_list("pk", "status")),
    }


# --- pcp_change ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_pcp_change_before_the_start_replaces_the_pending_choice():
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    assignment = services.pcp_change(
        member=result.member, pcp_npi=new.npi, actor=result.member.user, today=datetime.date(2026, 1, 20)
    )  # fmt: skip
    start = datetime.date(2026, 2, 1)
    assert (assignment.practitioner, assignment.effective_from, assignment.effective_to) == (
        new,
        start,
        None,
    )
    assert assignments(result.member) == [(old.pk, start, start), (new.pk, start, None)]
    assert panel(old, new) == [0, 1]
    assert selectors.pcp_on(result.member, start) == assignment
    assert list(selectors.pcp_assignments_for(result.member)) == [assignment]


@pytest.mark.django_db
def test_a_first_invoice_follows_a_pcp_changed_before_the_start():
    """The first month's invoice is made at enrollment; a PCP chosen again before the start is
    the PCP on the first of that month, and the one payouts must pay for it."""
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    assignment = services.pcp_change(
        member=result.member, pcp_npi=new.npi, actor=None, today=datetime.date(2026, 1, 20)
    )
    first_invoice = Invoice.objects.get(member=result.member, period=FEB.first_day)
    assert (first_invoice.practitioner, first_invoice.pcp_assignment) == (new, assignment)


@pytest.mark.django_db
def test_a_pcp_change_before_the_start_is_refused_once_the_first_invoice_is_being_paid():
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 1, 12), amount="10.00", member=result.member
    )  # fmt: skip
    before = membership_state()
    with pytest.raises(ApplicationError) as caught:
        services.pcp_change(
            member=result.member, pcp_npi=new.npi, actor=None, today=datetime.date(2026, 1, 20)
        )
    assert caught.value.message == (
        "The invoice for February 2026 is already being paid: choose the new provider next month, "
        "or ask member services."
    )
    assert caught.value.errors == {"pcp_npi": ["The invoice for that month is already being paid."]}
    assert membership_state() == before
    assert panel(old, new) == [1, 0]
    invoice = Invoice.objects.get()
    assert (invoice.practitioner, invoice.pcp_assignment, invoice.member_paid) == (
        old, result.assignment, D("10.00"),
    )  # fmt: skip


@pytest.mark.django_db
def test_a_pcp_change_takes_effect_on_the_first_of_next_month():
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    services.memberships_activate_started(today=FEB.first_day)
    assignment = services.pcp_change(
        member=result.member, pcp_npi=new.npi, actor=None, today=datetime.date(2026, 2, 15)
    )
    march = datetime.date(2026, 3, 1)
    assert assignments(result.member) == [
        (old.pk, datetime.date(2026, 2, 1), march),
        (new.pk, march, None),
    ]
    assert panel(old, new) == [0, 1]
    assert selectors.pcp_on(result.member, datetime.date(2026, 2, 28)) == result.assignment
    assert selectors.pcp_on(result.member, march) == assignment
    summary = selectors.member_summary(result.member.pk, today=datetime.date(2026, 2, 15))
    assert (summary.pcp, summary.pending_pcp) == (result.assignment, assignment)

    services.invoices_generate(period=MAR)
    invoices = {
        i.period: (i.practitioner_id, i.pcp_assignment_id)
        for i in Invoice.objects.filter(member=result.member)
    }
    assert invoices == {
        FEB.first_day: (old.pk, result.assignment.pk),
        MAR.first_day: (new.pk, assignment.pk),
    }


@pytest.mark.django_db
def test_a_second_change_in_the_same_month_replaces_the_pending_one():
    make_plan()
    first, second, third = make_pcp(), make_pcp(), make_pcp()
    result = enroll(first)
    services.pcp_change(
        member=result.member, pcp_npi=second.npi, actor=None, today=datetime.date(2026, 2, 10)
    )
    services.pcp_change(
        member=result.member, pcp_npi=third.npi, actor=None, today=datetime.date(2026, 2, 20)
    )
    feb, march = datetime.date(2026, 2, 1), datetime.date(2026, 3, 1)
    assert assignments(result.member) == [
        (first.pk, feb, march),
        (second.pk, march, march),
        (third.pk, march, None),
    ]
    assert panel(first, second, third) == [0, 0, 1]


@pytest.mark.django_db
def test_changing_to_a_full_pcp_is_a_conflict_and_changes_nothing():
    make_plan()
    old, full = make_pcp(), make_pcp(capacity=1)
    enroll(full, first="Ana", last="Taken")
    result = enroll(old)
    before = membership_state()
    with pytest.raises(ConflictError) as caught:
        services.pcp_change(
            member=result.member, pcp_npi=full.npi, actor=None, today=datetime.date(2026, 2, 10)
        )
    assert (
        caught.value.message
        == f"{full.display_name}'s panel is full: choose another primary care provider."
    )
    assert caught.value.errors == {"pcp_npi": ["This provider is not accepting new members."]}
    assert membership_state() == before
    assert panel(old, full) == [1, 1]


@pytest.mark.django_db
def test_changing_to_a_pcp_not_accepting_members_is_a_conflict():
    make_plan()
    old, closed = make_pcp(), make_pcp()
    Practitioner.objects.filter(pk=closed.pk).update(accepting_new_members=False)
    result = enroll(old)
    before = membership_state()
    with pytest.raises(ConflictError):
        services.pcp_change(
            member=result.member, pcp_npi=closed.npi, actor=None, today=datetime.date(2026, 2, 10)
        )
    assert membership_state() == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("npi", "errors"),
    [
        ("same", {"pcp_npi": ["Already your PCP."]}),
        ("1234567893", {"pcp_npi": ["We don't list a provider with NPI 1234567893."]}),
    ],
)
def test_a_pcp_change_to_the_same_or_an_unknown_pcp_is_refused(npi, errors):
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    npi = pcp.npi if npi == "same" else npi
    before = membership_state()
    with pytest.raises(ApplicationError) as caught:
        services.pcp_change(
            member=result.member, pcp_npi=npi, actor=None, today=datetime.date(2026, 2, 10)
        )
    assert caught.value.errors == errors
    if npi == pcp.npi:
        assert caught.value.message == f"{pcp.display_name} is already your primary care provider."
    assert membership_state() == before
    assert panel(pcp) == [1]


@pytest.mark.django_db
def test_a_cancelled_member_cannot_change_pcp():
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    services.membership_cancel(member=result.member, actor=None, today=datetime.date(2026, 2, 10))
    before = membership_state()
    with pytest.raises(ApplicationError) as caught:
        services.pcp_change(
            member=result.member, pcp_npi=new.npi, actor=None, today=datetime.date(2026, 2, 12)
        )
    assert caught.value.message == "This member has no current membership."
    assert membership_state() == before


# --- membership_cancel ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_a_started_membership_ends_it_with_the_month_for_the_whole_household():
    make_plan()
    pcp, child_pcp = make_pcp(), make_pcp()
    family = enroll(pcp, dependents=[child_of(child_pcp)])
    child = family.member.dependents.get()
    services.memberships_activate_started(today=FEB.first_day)
    assert panel(pcp, child_pcp) == [1, 1]

    cancelled = services.membership_cancel(
        member=family.member, actor=family.member.user, today=datetime.date(2026, 2, 10)
    )
    end, march = datetime.date(2026, 2, 28), datetime.date(2026, 3, 1)
    assert (cancelled.pk, cancelled.status, cancelled.end_date) == (
        family.membership.pk,
        "cancelled",
        end,
    )
    assert set(Membership.objects.values_list("member_id", "status", "end_date")) == {
        (family.member.pk, "cancelled", end),
        (child.pk, "cancelled", end),
    }
    assert sorted(
        MembershipEvent.objects.filter(to_status="cancelled").values_list(
            "membership__member_id", "from_status", "reason", "actor"
        )
    ) == sorted(
        [
            (family.member.pk, "active", "cancelled by the member", family.member.user.pk),
            (child.pk, "active", "cancelled by the member", family.member.user.pk),
        ]
    )
    assert assignments(family.member) == [(pcp.pk, FEB.first_day, march)]
    assert assignments(child) == [(child_pcp.pk, FEB.first_day, march)]
    assert panel(pcp, child_pcp) == [0, 0]
    assert set(Invoice.objects.values_list("period", "status")) == {(FEB.first_day, "open")}
    assert services.invoices_generate(period=MAR).created == 0

    before = membership_state()
    with pytest.raises(ApplicationError) as caught:
        services.membership_cancel(
            member=family.member, actor=None, today=datetime.date(2026, 2, 11)
        )
    assert caught.value.message == "This membership is already cancelled."
    assert membership_state() == before


@pytest.mark.django_db
def test_cancelling_with_a_pending_pcp_change_gives_back_both_places_once():
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    services.pcp_change(
        member=result.member, pcp_npi=new.npi, actor=None, today=datetime.date(2026, 2, 10)
    )
    assert panel(old, new) == [0, 1]
    services.membership_cancel(member=result.member, actor=None, today=datetime.date(2026, 2, 20))
    march = datetime.date(2026, 3, 1)
    assert assignments(result.member) == [(old.pk, FEB.first_day, march), (new.pk, march, march)]
    assert panel(old, new) == [0, 0]


@pytest.mark.django_db
def test_cancelling_before_the_start_voids_the_first_invoice(make_user):
    make_plan()
    pcp, child_pcp = make_pcp(), make_pcp()
    family = enroll(pcp, dependents=[child_of(child_pcp)])
    child = family.member.dependents.get()
    advocate = make_user(Role.ADVOCATE)
    cancelled = services.membership_cancel(
        member=family.member, actor=advocate, today=datetime.date(2026, 1, 20)
    )
    assert (cancelled.status, cancelled.end_date) == ("cancelled", None)
    assert set(Membership.objects.values_list("member_id", "status", "end_date")) == {
        (family.member.pk, "cancelled", None),
        (child.pk, "cancelled", None),
    }
    assert set(
        MembershipEvent.objects.filter(to_status="cancelled").values_list(
            "from_status", "reason", "actor"
        )
    ) == {("pending", "cancelled", advocate.pk)}
    assert assignments(family.member) == [(pcp.pk, FEB.first_day, FEB.first_day)]
    assert assignments(child) == [(child_pcp.pk, FEB.first_day, FEB.first_day)]
    assert panel(pcp, child_pcp) == [0, 0]
    assert set(Invoice.objects.values_list("member_id", "status")) == {
        (family.member.pk, "void"),
        (child.pk, "void"),
    }
    assert _owed_and_credit(selectors.household_dues(family.member)) == (D("0.00"), D("0.00"))
    assert services.invoices_generate(period=FEB).created == 0
    assert services.memberships_activate_started(today=FEB.first_day) == 0


@pytest.mark.django_db
def test_cancelling_before_the_start_takes_the_share_off_the_employer_invoice():
    """The employer invoice is the sum of its lines: a voided line is no longer owed."""
    make_plan()
    pcp = make_pcp()
    EmployerGroup.objects.create(
        name="Gulf Freight", ein="12-3456789", contact_name="Ana", contact_email="ana@gulf.example",
        state="TX", employer_code="GULF25", contribution_kind="percent", contribution_value=D("40"),
    )  # fmt: skip
    staying = enroll(pcp, first="Ana", last="Stays", employer_code="GULF25")
    leaving = enroll(pcp, first="Ben", last="Leaves", employer_code="GULF25")
    assert EmployerInvoice.objects.get().amount == D("72.00")
    services.membership_cancel(member=leaving.member, actor=None, today=datetime.date(2026, 1, 20))
    assert Invoice.objects.get(member=leaving.member).status == "void"
    assert Invoice.objects.get(member=staying.member).status == "open"
    assert EmployerInvoice.objects.get().amount == D("36.00")


@pytest.mark.django_db
def test_cancelling_before_the_start_after_a_pcp_change_gives_back_the_one_place_held():
    make_plan()
    old, new = make_pcp(), make_pcp()
    result = enroll(old)
    services.pcp_change(
        member=result.member, pcp_npi=new.npi, actor=None, today=datetime.date(2026, 1, 15)
    )
    services.membership_cancel(member=result.member, actor=None, today=datetime.date(2026, 1, 20))
    assert assignments(result.member) == [
        (old.pk, FEB.first_day, FEB.first_day),
        (new.pk, FEB.first_day, FEB.first_day),
    ]
    assert panel(old, new) == [0, 0]
    assert Invoice.objects.get().status == "void"


@pytest.mark.django_db
def test_a_first_month_paid_then_cancelled_before_the_start_is_not_a_paid_member_month():
    """The member was never covered: the PCP must not be paid for February, and the money
    received stays the household's (a credit), not a settled invoice."""
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    services.payment_record(
        reference="CHK-1", received_on=datetime.date(2026, 1, 12), amount="90.00", member=result.member
    )  # fmt: skip
    services.membership_cancel(member=result.member, actor=None, today=datetime.date(2026, 1, 20))
    assert list(selectors.paid_member_months(FEB)) == []
    assert Invoice.objects.get().status == "void"
    assert _owed_and_credit(selectors.household_dues(result.member)) == (D("0.00"), D("90.00"))
    allocation = PaymentAllocation.objects.get()
    assert allocation.reversed_at is not None

    assert Payment.objects.get().unapplied == D("90.00")


# --- member_contact_update -----------------------------------------------------------------------


def contact(**changes):
    data = {
        "email": "lucia.new@example.com", "phone": "512-555-0199", "street": "400 Congress Ave",
        "city": "Austin", "state": "tx", "zip_code": "78701-1234",
    }  # fmt: skip
    data.update(changes)
    return data


@pytest.mark.django_db
def test_a_contact_change_updates_the_household_and_the_sign_in(make_user):
    make_plan()
    pcp = make_pcp()
    family = enroll(pcp, dependents=[child_of(pcp)])
    child = family.member.dependents.get()
    services.member_contact_update(
        member=family.member,
        data=contact(email=" Lucia.New@Example.com "),
        actor=family.member.user,
    )
    expected = (
        "lucia.new@example.com",
        "+15125550199",
        "400 Congress Ave",
        "Austin",
        "TX",
        "78701-1234",
    )
    fields = ("email", "phone", "street", "city", "state", "zip_code")
    assert Member.objects.filter(pk=family.member.pk).values_list(*fields).get() == expected
    assert Member.objects.filter(pk=child.pk).values_list(*fields).get() == expected
    user = get_user_model().objects.get(pk=family.member.user.pk)
    assert (user.username, user.email) == ("lucia.new@example.com", "lucia.new@example.com")
    assert user.check_password(PASSWORD)


@pytest.mark.django_db
def test_a_contact_change_keeps_the_sign_in_when_the_email_stays():
    make_plan()
    pcp = make_pcp()
    result = enroll(pcp)
    member = services.member_contact_update(
        member=result.member, data=contact(email="lucia.ortega@example.com"), actor=None
    )
    assert (member.email, member.city) == ("lucia.ortega@example.com", "Austin")
    user = get_user_model().objects.get(pk=result.member.user.pk)
    assert (user.username, user.email) == ("lucia.ortega@example.com", "lucia.ortega@example.com")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"state": "CA"}, {"state": ["The cooperative does not serve California yet; it serves Texas, Oregon, Arizona, New Mexico, Oklahoma."]}),
        ({"state": "ZZ"}, {"state": ["'ZZ' is not a US state code."]}),
        ({"zip_code": "7870"}, {"zip_code": ["A ZIP code is 5 digits, or 9 as 12345-6789."]}),
        ({"email": "not-an-email"}, {"email": ["Enter a valid email address."]}),
        ({"email": "ana.taken@example.com"}, {"email": ["Another account uses this email."]}),
        ({"phone": "555"}, {"phone": ["Enter a US phone number with area code, e.g. (512) 555-0123."]}),
        ({"street": " ", "city": ""}, {"street": ["This field is required."], "city": ["This field is required."]}),
    ],
)  # fmt: skip
def test_a_bad_contact_change_is_refused_and_changes_nothing(changes, errors):
    make_plan()
    pcp = make_pcp()
    enroll(pcp, first="Ana", last="Taken")
    family = enroll(pcp, dependents=[child_of(pcp)])
    fields = ("email", "phone", "street", "city", "state", "zip_code")
    members_before = list(Member.objects.order_by("pk").values_list("pk", *fields))
    users_before = list(
        get_user_model().objects.order_by("pk").values_list("pk", "username", "email")
    )
    with pytest.raises(ApplicationError) as caught:
        services.member_contact_update(member=family.member, data=contact(**changes), actor=None)
    assert caught.value.errors == errors
    assert caught.value.message == next(iter(errors.values()))[0]
    assert list(Member.objects.order_by("pk").values_list("pk", *fields)) == members_before
    assert (
        list(get_user_model().objects.order_by("pk").values_list("pk", "username", "email"))
        == users_before
    )


# --- plan versions -------------------------------------------------------------------------------


def _next_first():
    return Period.current().next().first_day


@pytest.mark.django_db
def test_a_new_plan_version_moves_memberships_on_its_date_and_is_billed_from_then(make_user):
    plan = make_plan()
    pcp = make_pcp()
    staying = enroll(pcp, first="Ana", last="Stays")
    leaving = enroll(pcp, first="Ben", last="Leaves")
    services.memberships_activate_started(today=FEB.first_day)
    services.membership_cancel(member=leaving.member, actor=None, today=datetime.date(2026, 2, 10))
    effective = _next_first()
    version = services.plan_version_create(
        code="standard", name="", advocacy_portion="10", network_portion=D("6.00"),
        outreach_portion="4.004", effective_from=effective, actor=make_user(Role.FINANCE),
    )  # fmt: skip
    assert (version.code, version.version, version.name, version.effective_from) == (
        "standard", 2, "Standard membership", effective,
    )  # fmt: skip
    assert (version.advocacy_portion, version.network_portion, version.outreach_portion) == (
        D("10.00"), D("6.00"), D("4.00"),
    )  # fmt: skip
    assert version.cooperative_portion == D("20.00")
    assert services.plan_current("standard", effective - datetime.timedelta(days=1)) == plan
    assert services.plan_current("standard", effective) == version

    assert (
        services.memberships_move_plan_versions(today=effective - datetime.timedelta(days=1)) == 0
    )
    assert services.memberships_move_plan_versions(today=effective) == 1
    assert dict(Membership.objects.values_list("member_id", "plan_id")) == {
        staying.member.pk: version.pk,
        leaving.member.pk: plan.pk,
    }
    assert services.memberships_move_plan_versions(today=effective) == 0

    services.invoices_generate(period=Period.of(effective))
    invoice = Invoice.objects.get(period=effective)
    assert (invoice.member, invoice.pcp_fee, invoice.cooperative_portion, invoice.amount) == (
        staying.member, D("75.00"), D("20.00"), D("95.00"),
    )  # fmt: skip
    assert Invoice.objects.get(
        member=staying.member, period=FEB.first_day
    ).cooperative_portion == D("15.00")


@pytest.mark.django_db
def test_bad_plan_versions_are_refused_and_create_nothing():
    make_plan()
    effective = _next_first()
    ok = {
        "code": "standard", "name": "Standard", "advocacy_portion": "8", "network_portion": "5",
        "outreach_portion": "2", "effective_from": effective, "actor": None,
    }  # fmt: skip
    cases = [
        ({"effective_from": effective.replace(day=15)}, {"effective_from": ["A plan version starts on the first of a month."]}),
        ({"effective_from": datetime.date(2026, 1, 1)}, {"effective_from": ["A new price starts in the future."]}),
        ({"code": "gold"}, {"code": ["We don't know the plan 'gold'."]}),
        ({"advocacy_portion": "-1"}, {"advocacy_portion": ["A portion cannot be negative."]}),
        ({"network_portion": "abc"}, {"network_portion": ["'abc' is not an amount of money."]}),
    ]  # fmt: skip
    for changes, errors in cases:
        with pytest.raises(ApplicationError) as caught:
            services.plan_version_create(**{**ok, **changes})
        assert caught.value.errors == errors, changes
        assert caught.value.message == next(iter(errors.values()))[0]
        assert list(Plan.objects.values_list("code", "version")) == [("standard", 1)]

    services.plan_version_create(**ok)
    with pytest.raises(ApplicationError) as caught:
        services.plan_version_create(**ok)
    assert caught.value.errors == {"effective_from": [f"Version 2 already starts on {effective}."]}
    assert list(Plan.objects.order_by("version").values_list("code", "version")) == [
        ("standard", 1),
        ("standard", 2),
    ]


def _owed_and_credit(dues: selectors.HouseholdDues) -> tuple[D, D]:
    return dues.owed, dues.credit
