"""A PCP who can no longer serve members: one rule, applied from every place that ends a PCP's
standing. The members are told (email, a banner in /me/), staff list them, their invoices carry
no primary-care fee until they have a new PCP, and payouts pay a clinic only for member-months
whose PCP was in good standing on the month's first day — an excluded practitioner never, from
the exclusion date, even when found later."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from cooperative.periods import Period
from cooperative.roles import Role
from members import services
from members.models import Invoice, PcpStandingIssue
from payouts import services as payout_services
from payouts.models import PayoutHold, StatementLine
from providers import services as provider_services
from providers.models import Location, PractitionerRole
from providers.selectors import pcp_standings
from tests.members.factories import enroll, make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, MAR_PAYOUT_DAY, make_bank_account, pay_month

CHICAGO = ZoneInfo("America/Chicago")
FEB, MAR, APR = Period(2026, 2), Period(2026, 3), Period(2026, 4)
D = Decimal


def at(day, hour=10):
    """Travel to a day of 2026 (events and notices are stamped then)."""
    return time_machine.travel(datetime.datetime(2026, *day, hour, tzinfo=CHICAGO), tick=False)


@pytest.fixture
def members_of_a_pcp(db, eager_tasks, django_capture_on_commit_callbacks):
    make_plan()
    pcp = make_pcp()
    other = make_pcp()
    ben = enroll(pcp, first="Ben", last="Young")
    cy = enroll(pcp, first="Cy", last="Xu", born=datetime.date(1970, 1, 2))
    return pcp, other, ben, cy


def suspend(pcp, capture):
    with capture(execute=True):
        provider_services.practitioner_set_status(
            practitioner=pcp, status="suspended", actor=None, reason="Expired: License TX 12345"
        )


def test_a_suspended_pcps_members_are_told_listed_and_billed_no_pcp_fee(
    members_of_a_pcp, django_capture_on_commit_callbacks, client, make_user
):
    pcp, other, ben, cy = members_of_a_pcp
    mail.outbox.clear()
    with at((2, 10)):
        suspend(pcp, django_capture_on_commit_callbacks)

    issues = PcpStandingIssue.objects.order_by("member__first_name")
    assert [(i.member_id, i.kind, i.reason, i.effective_on) for i in issues] == [
        (ben.member.pk, "suspended", "Their listing is suspended", datetime.date(2026, 2, 10)),
        (cy.member.pk, "suspended", "Their listing is suspended", datetime.date(2026, 2, 10)),
    ]
    assert all(i.notified_at is not None for i in issues)
    assert sorted(m.to[0] for m in mail.outbox) == ["ben.young@example.com", "cy.xu@example.com"]
    body = mail.outbox[0].body
    assert "can no longer see members through" in body
    assert (
        f"/me/members/{issues[0].member_id}/pcp/" in body
        or f"/me/members/{issues[1].member_id}/pcp/" in body
    )

    # A second review (the daily job) finds nothing new and sends nothing.
    with at((2, 11)):
        again = services.pcp_standing_review()
    assert (again.opened, PcpStandingIssue.objects.count(), len(mail.outbox)) == ([], 2, 2)

    # March is invoiced without the primary-care fee: the cooperative's portion only.
    with at((3, 1, 1)):
        run = services.invoices_generate(period=MAR)
    assert sorted(run.without_pcp_fee) == sorted([
        (ben.member.member_number, "Their listing is suspended"),
        (cy.member.member_number, "Their listing is suspended"),
    ])  # fmt: skip
    march = Invoice.objects.get(member=ben.member, period=MAR.first_day)
    assert (march.pcp_fee, march.amount, march.member_amount) == (D("0.00"), D("15.00"), D("15.00"))

    # The member sees the banner with the link to choose a new PCP.
    client.force_login(ben.member.user)
    with at((3, 2)):
        home = client.get("/me/").content.decode()
    assert "can no longer see members from February 10, 2026" in home
    assert f'href="/me/members/{ben.member.pk}/pcp/"' in home

    # Staff see them: the admin list, the member filter and the count on the admin index.
    staff = make_user(Role.PROVIDER_SERVICES)
    client.force_login(staff)
    listing = client.get("/admin/members/pcpstandingissue/?open=yes").content.decode()
    assert ben.member.member_number in listing
    assert cy.member.member_number in listing
    filtered = client.get("/admin/members/member/?needs_new_pcp=yes").content.decode()
    assert ben.member.member_number in filtered
    index = client.get("/admin/").content.decode()
    assert "<strong>2</strong> members needing a new PCP" in index

    # Ben chooses a new PCP: from April 1, billed the new PCP's fee; off the list.
    with at((3, 5)):
        services.pcp_change(member=ben.member, pcp_npi=other.npi, actor=ben.member.user)
        services.invoices_generate(period=APR)  # (April is invoiced on April 1; early here)
    ben_issue = PcpStandingIssue.objects.get(member=ben.member)
    assert (ben_issue.resolved_on, ben_issue.resolution) == (datetime.date(2026, 3, 5), "new_pcp")
    april = Invoice.objects.get(member=ben.member, period=APR.first_day)
    assert (april.practitioner_id, april.pcp_fee) == (other.pk, D("75.00"))
    client.force_login(ben.member.user)
    with at((3, 6)):
        assert "can no longer see members" not in client.get("/me/").content.decode()
    client.force_login(staff)
    assert "<strong>1</strong> member needing a new PCP" in client.get("/admin/").content.decode()


def test_a_pcp_back_in_good_standing_resolves_the_issue(
    members_of_a_pcp, django_capture_on_commit_callbacks
):
    pcp, _, ben, _ = members_of_a_pcp
    with at((2, 10)):
        suspend(pcp, django_capture_on_commit_callbacks)
    with at((2, 12)), django_capture_on_commit_callbacks(execute=True):
        provider_services.practitioner_set_status(
            practitioner=pcp, status="active", actor=None, reason="Renewed"
        )
    assert set(PcpStandingIssue.objects.values_list("resolution", flat=True)) == {"restored"}


def _end_role(pcp):
    provider_services.practitioner_role_end(
        role=PractitionerRole.objects.get(practitioner=pcp),
        actor=None,
        end_date=datetime.date(2026, 2, 10),
    )


def _close_location(pcp):
    location = Location.objects.get(roles__practitioner=pcp)
    provider_services.location_update(location=location, actor=None, is_active=False)


def _suspend_clinic(pcp):
    clinic = Location.objects.get(roles__practitioner=pcp).clinic
    provider_services.clinic_transition(
        clinic=clinic, to_status="suspended", actor=None, reason="Lapsed insurance"
    )


def _exclude(pcp):
    provider_services.practitioner_exclusion_set(
        practitioner=pcp, excluded_from=datetime.date(2026, 1, 20), actor=None, reason="LEIE"
    )


def _terminate_agreement(pcp):
    from providers.models import RateAgreement

    agreement = RateAgreement.objects.get(clinic__locations__roles__practitioner=pcp)
    provider_services.agreement_transition(
        agreement=agreement, to_status="terminated", actor=None, reason="Clinic left the network"
    )


@pytest.mark.parametrize(
    ("end_standing", "kind", "reason"),
    [
        (_end_role, "no_role", "No longer practising primary care at a cooperative clinic"),
        (_close_location, "location_closed", "Their clinic location closed"),
        (_suspend_clinic, "clinic_inactive", "Their clinic no longer works with the cooperative"),
        (_exclude, "excluded", "Excluded from federal health programs from January 20, 2026"),
        (_terminate_agreement, "no_agreement", "No rate agreement in force for February 2026"),
    ],
    ids=["role-ends", "location-closes", "clinic-suspended", "excluded", "agreement-terminated"],
)  # fmt: skip
def test_every_place_that_ends_a_pcps_standing_applies_the_rule(
    members_of_a_pcp, django_capture_on_commit_callbacks, end_standing, kind, reason
):
    pcp, _, ben, cy = members_of_a_pcp
    with at((2, 10)), django_capture_on_commit_callbacks(execute=True):
        end_standing(pcp)
    issues = list(PcpStandingIssue.objects.values_list("member_id", "kind", "reason"))
    assert sorted(issues) == sorted([(ben.member.pk, kind, reason), (cy.member.pk, kind, reason)])


def test_standing_is_read_as_it_was_on_the_day(
    members_of_a_pcp, django_capture_on_commit_callbacks
):
    pcp, _, _, _ = members_of_a_pcp
    with at((2, 10)):
        suspend(pcp, django_capture_on_commit_callbacks)
    assert pcp_standings([pcp.pk], datetime.date(2026, 2, 1))[pcp.pk].is_good
    assert pcp_standings([pcp.pk], datetime.date(2026, 2, 10))[pcp.pk].kind == "suspended"


def test_payouts_hold_a_month_whose_pcp_was_not_in_good_standing_on_its_first_day(
    members_of_a_pcp, django_capture_on_commit_callbacks
):
    pcp, _, ben, cy = members_of_a_pcp
    make_bank_account()
    pay_month(ben.member, "2026-02")
    pay_month(cy.member, "2026-02")
    # March invoiced (and paid in advance by Ben) while the PCP was in good standing.
    with at((2, 20)):
        services.invoices_generate(period=MAR)
        pay_month(ben.member, "2026-03", on=datetime.date(2026, 2, 20))
    with at((2, 25)):
        suspend(pcp, django_capture_on_commit_callbacks)
    feb = payout_services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=feb.pk, today=FEB_PAYOUT_DAY)
    # February: the PCP was in good standing on February 1: both paid.
    assert StatementLine.objects.filter(statement__run=feb).count() == 2

    mar = payout_services.payout_run_start(period=MAR, actor=None, today=MAR_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=mar.pk, today=MAR_PAYOUT_DAY)
    mar.refresh_from_db()
    assert StatementLine.objects.filter(statement__run=mar).count() == 0
    hold = PayoutHold.objects.get(run=mar)
    assert (hold.member_id, hold.amount, hold.reason) == (
        ben.member.pk, D("75.00"),
        "PCP not in good standing on March 1, 2026: Their listing is suspended",
    )  # fmt: skip
    balance = payout_services.reconciliation(mar)
    assert balance.balances
    assert (balance.paid_member_months, balance.on_statements, balance.held, balance.held_total) == (
        1, 0, 1, D("75.00"),
    )  # fmt: skip
    assert mar.figures["held"] == [
        {"kind": "month", "reason": hold.reason, "count": 1, "amount": "75.00"},
    ]
    from payouts.selectors import run_report_csv

    assert run_report_csv(mar).splitlines()[-1] == f'held,"{hold.reason}",,,1,,,75.00'


def test_an_exclusion_found_later_reverses_every_month_paid_from_the_exclusion_date(
    members_of_a_pcp, django_capture_on_commit_callbacks
):
    pcp, other, ben, cy = members_of_a_pcp
    dee = enroll(other, first="Dee", last="Other")
    make_bank_account()
    for result in (ben, cy, dee):
        pay_month(result.member, "2026-02")
    feb = payout_services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=feb.pk, today=FEB_PAYOUT_DAY)
    assert StatementLine.objects.filter(statement__run=feb).count() == 3

    # In March, screening finds the PCP was excluded from February 14.
    with at((3, 3)), django_capture_on_commit_callbacks(execute=True):
        provider_services.practitioner_exclusion_set(
            practitioner=pcp, excluded_from=datetime.date(2026, 2, 14), actor=None, reason="LEIE"
        )
    with at((3, 4)):
        services.invoices_generate(period=MAR)
        for result in (ben, dee):
            pay_month(result.member, "2026-03", on=datetime.date(2026, 3, 4))
    mar = payout_services.payout_run_start(period=MAR, actor=None, today=MAR_PAYOUT_DAY)
    payout_services.payout_run_snapshot(run_id=mar.pk, today=MAR_PAYOUT_DAY)
    mar.refresh_from_db()
    reason = "PCP excluded (LEIE/SAM) from February 14, 2026"
    lines = sorted(
        StatementLine.objects.filter(statement__run=mar).values_list(
            "member_id", "kind", "period", "amount"
        )
    )
    # Dee (another PCP) is paid; Ben and Cy's February is reversed against the excluded PCP's
    # clinic, whose balance is negative and so deferred (no check); Ben's March is held.
    assert (dee.member.pk, "month", datetime.date(2026, 3, 1), D("75.00")) in lines
    assert mar.figures["adjustments"] == []
    assert mar.figures["deferred"] == [
        {"kind": "reversal", "reason": reason, "count": 2, "amount": "-180.00"},
    ]
    assert mar.figures["held"] == [
        {"kind": "month", "reason": reason, "count": 1, "amount": "0.00"}
    ]
    assert payout_services.reconciliation(mar).balances


def test_the_dashboard_counts_members_needing_a_new_pcp_for_staff_who_may_list_them(
    members_of_a_pcp, django_capture_on_commit_callbacks, client, make_user
):
    pcp, _, _, _ = members_of_a_pcp
    with at((2, 10)):
        suspend(pcp, django_capture_on_commit_callbacks)
    for role in (Role.FINANCE, Role.PROVIDER_SERVICES):
        client.force_login(make_user(role))
        page = client.get("/dashboard/").content.decode()
        assert (
            '<a href="/admin/members/member/?needs_new_pcp=yes"><span class="stat-value">2</span> '
            '<span class="stat-label">members needing a new PCP</span></a>'
        ) in page
        # The link opens the list of exactly those members.
        listed = client.get("/admin/members/member/?needs_new_pcp=yes").context["cl"]
        assert listed.result_count == 2
    for role in (Role.ADVOCATE, Role.PROVIDER):
        client.force_login(make_user(role))
        assert "members needing a new PCP" not in client.get("/dashboard/").content.decode()
