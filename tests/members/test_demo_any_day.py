"""The demo works on any day of the year: right after `seed_demo`, a newcomer can enroll with
any PCP the chooser offers, whatever today is (the demo's terms used to end with the year, and
on 4 December every enrollment failed with "has no prices agreed for January 2027 yet")."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command

from cooperative.periods import Period
from members import services
from members.models import Invoice, Member
from providers.models import AgreementStatus, Clinic, ClinicStatus, RateAgreement

CHICAGO = ZoneInfo("America/Chicago")


def _offered_pcps():
    """What the enrollment PCP chooser offers: accepting primary-care practitioners with room."""
    from providers.selectors import DirectoryQuery, practitioner_directory_page

    page = practitioner_directory_page(
        DirectoryQuery(accepting=True, primary_care=True), number=1, page_size=100
    )
    return [p for p in page if p.places_left > 0]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "moment",
    [
        datetime.datetime(2026, 12, 4, 10, 0, tzinfo=CHICAGO),
        datetime.datetime(2026, 12, 31, 23, 30, tzinfo=CHICAGO),
        datetime.datetime(2027, 2, 28, 9, 0, tzinfo=CHICAGO),
        datetime.datetime(2028, 2, 29, 12, 0, tzinfo=CHICAGO),
    ],
    ids=["4-december", "31-december-late-evening", "28-february", "29-february-leap-year"],
)
def test_a_newcomer_enrolls_right_after_seed_demo_on_any_day(moment, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.DEBUG = True  # seed_demo creates the demo logins only in development
    with time_machine.travel(moment, tick=False):
        call_command("seed_demo", "--members", "12", "--providers", "6", stdout=io.StringIO())
        today = moment.date()
        start = services.start_date_for_enrollment()
        assert start == Period.of(today).next().first_day

        # Every active demo clinic has terms in force for the next 13 months.
        months = [Period.of(today)]
        for _ in range(13):
            months.append(months[-1].next())
        for clinic in Clinic.objects.filter(status=ClinicStatus.ACTIVE):
            for month in months:
                assert RateAgreement.objects.filter(
                    clinic=clinic,
                    status=AgreementStatus.ACTIVE,
                    term_start__lte=month.first_day,
                    term_end__gte=month.last_day,
                ).exists(), f"{clinic} has no terms for {month}"

        # Every PCP the chooser offers has a price for the start month.
        offered = _offered_pcps()
        assert offered
        from members.models import Plan

        plan = Plan.objects.get(code="standard")
        birth = datetime.date(1990, 5, 17)
        for practitioner in offered:
            quote = services.enrollment_quote(
                practitioner=practitioner, birth=birth, plan=plan, group=None, start=start
            )
            assert quote is not None, f"{practitioner} has no price for {start}"

        result = services.enrollment_create(
            data={
                "first_name": "Nadia", "last_name": "Quill", "date_of_birth": birth,
                "email": "nadia.quill@example.com", "phone": "(713) 555-0142",
                "street": "12 Elm St", "city": "Houston", "state": "TX", "zip": "77002", "accept_terms": True,
            },
            password="a-long-demo-passphrase-2026", pcp_npi=offered[0].npi, plan_code="standard",
        )  # fmt: skip
    member = Member.objects.get(pk=result.member.pk)
    assert result.membership.start_date == start
    invoice = Invoice.objects.get(member=member, period=start)
    assert invoice.pcp_fee > 0
    assert invoice.practitioner_id == offered[0].pk
