"""A member who turns 65 is not silently left unbilled: told 90 days ahead, the membership ends
on the last day of the month before the 65th birthday, no month at 65 is invoiced, staff list
them, and the PCP place is given back once the membership has ended."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail

from cooperative.periods import Period
from cooperative.roles import Role
from members import services
from members.models import AgeOutNotice, Invoice, Membership, MembershipEvent, PcpAssignment
from providers.models import Practitioner
from tests.members.factories import enroll, make_pcp, make_plan

BIRTH = datetime.date(1961, 6, 15)  # 65 on 2026-06-15: the membership ends 2026-05-31


@pytest.fixture
def turning_65(db, eager_tasks):
    make_plan()
    pcp = make_pcp()
    older = enroll(pcp, first="Ruth", last="Senior", born=BIRTH)
    younger = enroll(pcp, first="Ada", last="Young", born=datetime.date(1961, 9, 30))
    return pcp, older, younger


def test_nothing_happens_more_than_90_days_before_the_65th_birthday(
    turning_65, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.members_age_out(today=datetime.date(2026, 3, 16))  # 91 days before
    assert summary == {"notices": 0, "ended": 0}
    assert AgeOutNotice.objects.count() == 0
    assert Membership.objects.filter(end_date__isnull=False).count() == 0


def test_a_member_is_told_90_days_ahead_and_billed_to_the_month_before_65(
    turning_65, django_capture_on_commit_callbacks, client, make_user
):
    pcp, older, younger = turning_65
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.members_age_out(today=datetime.date(2026, 3, 17))  # 90 days before
    assert summary == {"notices": 1, "ended": 0}
    notice = AgeOutNotice.objects.get()
    assert (notice.member_id, notice.birthday_65, notice.ends_on) == (
        older.member.pk, datetime.date(2026, 6, 15), datetime.date(2026, 5, 31),
    )  # fmt: skip
    membership = Membership.objects.get(member=older.member)
    assert membership.end_date == datetime.date(2026, 5, 31)
    assert MembershipEvent.objects.filter(
        membership=membership, reason="turns 65 on June 15, 2026: membership ends May 31, 2026"
    ).exists()
    assert [m.to for m in mail.outbox] == [[older.member.email]]
    assert "your membership ends on May 31, 2026" in mail.outbox[0].body

    # A second run tells nobody twice.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.members_age_out(today=datetime.date(2026, 3, 18)) == {
            "notices": 0,
            "ended": 0,
        }
    assert len(mail.outbox) == 1

    # May is billed, June (the birthday month) is not — and is not "skipped": the membership ended.
    for month in (4, 5, 6):
        run = services.invoices_generate(period=Period(2026, month))
        assert run.without_price == []
    periods = list(
        Invoice.objects.filter(member=older.member)
        .order_by("period")
        .values_list("period", flat=True)
    )
    assert periods[-1] == datetime.date(2026, 5, 1)
    assert Invoice.objects.filter(member=younger.member, period="2026-06-01").exists()

    # The member sees it on the portal; staff see the count on the admin index.
    client.force_login(older.member.user)
    assert (
        "turns 65 on June 15, 2026: the membership ends on May 31, 2026"
        in client.get("/me/").content.decode()
    )
    client.force_login(make_user(Role.PROVIDER_SERVICES))
    response = client.get("/admin/members/ageoutnotice/")
    assert response.status_code == 200
    listing = response.content.decode()
    with time_machine.travel(
        datetime.datetime(2026, 3, 18, 10, tzinfo=ZoneInfo("America/Chicago"))
    ):
        index = client.get("/admin/").content.decode()
    assert "<strong>1</strong> membership ending at 65 in the next 90 days" in index
    assert "Ruth Senior" in listing


def test_the_membership_closes_after_its_last_day_and_the_place_is_given_back(
    turning_65, django_capture_on_commit_callbacks
):
    pcp, older, _ = turning_65
    with django_capture_on_commit_callbacks(execute=True):
        services.members_age_out(today=datetime.date(2026, 4, 1))
    before = Practitioner.objects.get(pk=pcp.pk).panel_member_count
    with django_capture_on_commit_callbacks(execute=True):
        assert services.members_age_out(today=datetime.date(2026, 5, 31)) == {
            "notices": 0,
            "ended": 0,
        }
        assert services.members_age_out(today=datetime.date(2026, 6, 1)) == {
            "notices": 0,
            "ended": 1,
        }
    membership = Membership.objects.get(member=older.member)
    assert (membership.status, membership.end_date) == ("cancelled", datetime.date(2026, 5, 31))
    assignment = PcpAssignment.objects.get(member=older.member)
    assert assignment.effective_to == datetime.date(2026, 6, 1)
    assert Practitioner.objects.get(pk=pcp.pk).panel_member_count == before - 1
    assert Invoice.objects.filter(member=older.member, period__gte="2026-06-01").count() == 0
    for month in (3, 4, 5, 6):
        services.invoices_generate(period=Period(2026, month))
    assert not Invoice.objects.filter(member=older.member, period="2026-06-01").exists()


def test_a_29_february_birthday_turns_65_on_28_february():
    assert services.age_out_day(datetime.date(1960, 2, 29)) == datetime.date(2025, 2, 28)
    assert services.age_out_day(datetime.date(1963, 2, 28)) == datetime.date(2028, 2, 28)
