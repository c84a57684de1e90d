"""Monitoring: expirables (90/60/30 days, expiry suspends until renewed), recredentialing 180 days
ahead, letters due, and clinics' change requests."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import LogEntry

from cooperative.exceptions import ApplicationError
from credentialing import services
from credentialing.models import (
    ChangeRequest,
    CredentialingApplication,
    License,
    MalpracticeInsurance,
    StaffTask,
)
from credentialing.tasks import monitoring_daily
from providers.models import Location, PractitionerRole, PractitionerStatusEvent
from tests.providers.factories import LocationFactory, PractitionerFactory, RoleFactory

from .factories import fill_practitioner_file, practitioner_application, today, verify_everything

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved(staff, applicant, location):
    """An approved, current application: the practitioner is active and listed."""
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
        dea=True,
    )
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    services.application_decide(
        application=application, actor=staff, decision="approved", decided_on=today()
    )
    application.refresh_from_db()
    return application


def _titles() -> list[tuple[str, str]]:
    return list(StaffTask.objects.order_by("id").values_list("kind", "title"))


def test_expiry_warnings_at_90_60_and_30_days_once_each(approved):
    lic = License.objects.get(application=approved)
    License.objects.filter(pk=lic.pk).update(expires_on=today() + timedelta(days=75))
    name = approved.subject_name

    services.expirables_check()
    services.expirables_check()  # the same day again raises nothing twice
    expiry = today() + timedelta(days=75)
    assert _titles() == [
        ("expiring", f"TX license Q1234 of {name} expires on {expiry:%m/%d/%Y} (within 90 days)")
    ]

    services.expirables_check(today=today() + timedelta(days=20))  # 55 days left
    services.expirables_check(today=today() + timedelta(days=50))  # 25 days left
    assert [title for _kind, title in _titles()][1:] == [
        f"TX license Q1234 of {name} expires on {expiry:%m/%d/%Y} (within 60 days)",
        f"TX license Q1234 of {name} expires on {expiry:%m/%d/%Y} (within 30 days)",
    ]
    approved.practitioner.refresh_from_db()
    assert approved.practitioner.status == "active"


def test_an_expired_license_suspends_the_listing_until_renewed(approved, staff):
    practitioner = approved.practitioner
    lic = License.objects.get(application=approved)
    License.objects.filter(pk=lic.pk).update(expires_on=today() - timedelta(days=1))

    summary = services.expirables_check()
    assert summary.suspended == [approved.subject_name]
    practitioner.refresh_from_db()
    assert practitioner.status == "suspended"
    event = PractitionerStatusEvent.objects.filter(practitioner=practitioner).first()
    assert (event.from_status, event.to_status) == ("active", "suspended")
    assert event.reason == "Expired: TX license Q1234"
    assert _titles()[-1][0] == "expired"

    lic.refresh_from_db()
    with pytest.raises(ApplicationError, match="must be after the current one"):
        services.expirable_renew(record=lic, actor=staff, expires_on=lic.expires_on)
    practitioner.refresh_from_db()
    assert practitioner.status == "suspended"

    services.expirable_renew(record=lic, actor=staff, expires_on=today() + timedelta(days=730))
    practitioner.refresh_from_db()
    assert practitioner.status == "active"
    assert PractitionerStatusEvent.objects.filter(practitioner=practitioner).first().reason == (
        f"Renewed: TX license Q1234 now expires {today() + timedelta(days=730):%m/%d/%Y}"
    )


def test_renewing_one_credential_keeps_the_listing_down_while_another_has_expired(approved, staff):
    practitioner = approved.practitioner
    License.objects.filter(application=approved).update(expires_on=today() - timedelta(days=1))
    MalpracticeInsurance.objects.filter(application=approved).update(
        expires_on=today() - timedelta(days=1)
    )
    services.expirables_check()
    services.expirable_renew(
        record=License.objects.get(application=approved),
        actor=staff,
        expires_on=today() + timedelta(days=365),
    )
    practitioner.refresh_from_db()
    assert practitioner.status == "suspended"


def test_an_expired_dea_registration_raises_a_task_but_does_not_suspend(approved):
    from credentialing.models import DeaRegistration

    DeaRegistration.objects.filter(application=approved).update(
        expires_on=today() - timedelta(days=2)
    )
    summary = services.expirables_check()
    assert summary.suspended == []
    assert _titles()[-1][0] == "expired"
    approved.practitioner.refresh_from_db()
    assert approved.practitioner.status == "active"


def test_recredentialing_opens_180_days_before_the_due_date_once(approved):
    practitioner = approved.practitioner
    due = practitioner.recredential_due_on
    assert services.recredentialing_open_due(today=due - timedelta(days=181)) == []

    opened = services.recredentialing_open_due(today=due - timedelta(days=180))
    assert len(opened) == 1
    application = opened[0]
    assert (application.kind, application.status, application.recredentialing_of) == (
        "recredentialing", "received", approved,
    )  # fmt: skip
    assert application.date_of_birth == approved.date_of_birth
    assert services.recredentialing_open_due(today=due - timedelta(days=179)) == []
    assert CredentialingApplication.objects.filter(kind="recredentialing").count() == 1
    assert StaffTask.objects.get(kind="recredentialing").due_on == due


def test_the_daily_task_reports_what_it_did(approved):
    License.objects.filter(application=approved).update(expires_on=today() + timedelta(days=10))
    result = monitoring_daily.apply().get()
    assert result == {
        "warnings_raised": 1, "expired_raised": 0, "suspended": 0,
        "recredentialing_opened": 0, "notifications_due": 0,
    }  # fmt: skip


def test_a_letter_not_sent_raises_a_task_a_week_before_the_30_day_limit(approved, staff):
    decision = approved.decision
    assert services.notifications_due(today=today() + timedelta(days=22)) == 0
    assert services.notifications_due(today=today() + timedelta(days=23)) == 1
    assert services.notifications_due(today=today() + timedelta(days=24)) == 0
    with pytest.raises(ApplicationError, match="between the decision date and today"):
        services.decision_notified(
            decision=decision, actor=staff, notified_on=today() + timedelta(days=1), method="Mail"
        )
    services.decision_notified(decision=decision, actor=staff, notified_on=today(), method="Mail")
    decision.refresh_from_db()
    assert (decision.notified_on, decision.notification_method) == (today(), "Mail")


# --- Change requests ------------------------------------------------------------------------


def test_add_a_location_through_a_change_request(staff, location):
    clinic = location.clinic
    request = services.change_request_create(
        actor=staff, clinic=clinic, kind="add_location", requested_by="Office manager",
        details={"name": "Heights", "street": "250 W 19th St", "city": "Houston",
                 "state": "TX", "zip_code": "77008"},
    )  # fmt: skip
    done = services.change_request_complete(request=request, actor=staff)
    assert done.status == "completed"
    assert done.created_location.name == "Heights"
    assert done.created_location.clinic == clinic
    assert done.resolution == "location “Heights” added"
    entry = LogEntry.objects.get(object_id=str(clinic.pk))
    assert (
        entry.change_message
        == f"Change request #{request.pk} — Add a location: location “Heights” added"
    )
    with pytest.raises(ApplicationError, match="already completed"):
        services.change_request_complete(request=request, actor=staff)


def test_a_bad_new_location_is_refused_and_the_request_stays_open(staff, location):
    request = services.change_request_create(
        actor=staff, clinic=location.clinic, kind="add_location", requested_by="Office manager",
        details={"name": "Nowhere", "street": "1 Main", "city": "X", "state": "TX",
                 "zip_code": "00000"},
    )  # fmt: skip
    count = Location.objects.count()
    with pytest.raises(ApplicationError, match="We don't know ZIP 00000"):
        services.change_request_complete(request=request, actor=staff)
    request.refresh_from_db()
    assert request.status == "open"
    assert Location.objects.count() == count


def test_a_practitioner_leaving_ends_their_roles_at_that_clinic_only(staff):
    role = RoleFactory()
    other = RoleFactory(practitioner=role.practitioner)
    request = services.change_request_create(
        actor=staff, clinic=role.location.clinic, kind="remove_practitioner",
        practitioner=role.practitioner, requested_by="Clinic director",
        effective_on=today(),
    )  # fmt: skip
    services.change_request_complete(request=request, actor=staff)
    role.refresh_from_db()
    other.refresh_from_db()
    assert role.end_date == today()
    assert other.end_date is None


def test_a_name_change_and_an_added_practitioner(staff, location):
    practitioner = PractitionerFactory(first_name="Maya", last_name="Okafor")
    rename = services.change_request_create(
        actor=staff, clinic=location.clinic, kind="change_practitioner",
        practitioner=practitioner, requested_by="Dr. Okafor", details={"last_name": "Okafor Reyes"},
    )  # fmt: skip
    services.change_request_complete(request=rename, actor=staff)
    practitioner.refresh_from_db()
    assert practitioner.last_name == "Okafor Reyes"

    newcomer = PractitionerFactory(status="pending")
    join = services.change_request_create(
        actor=staff, clinic=location.clinic, kind="add_practitioner",
        practitioner=newcomer, requested_by="Clinic director",
    )  # fmt: skip
    done = services.change_request_complete(request=join, actor=staff)
    assert done.created_application.practitioner == newcomer
    assert done.created_application.location == location
    assert not PractitionerRole.objects.filter(practitioner=newcomer).exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"kind": "close_location"}, "Choose the location"),
        ({"kind": "change_practitioner"}, "Choose the practitioner"),
        ({"kind": "add_location", "details": {"name": "X"}}, "A new location needs: street"),
        (
            {"kind": "change_location", "details": {"colour": "red"}},
            "Not something this request can change",
        ),
        ({"kind": "add_location", "requested_by": " "}, "Say who at the clinic asked"),
    ],
)
def test_change_requests_refuse_bad_input(staff, location, kwargs, message):
    arguments = {"requested_by": "Office manager", "details": {}, **kwargs}
    if kwargs.get("kind") == "change_location":
        arguments["location"] = location
    with pytest.raises(ApplicationError, match=message):
        services.change_request_create(actor=staff, clinic=location.clinic, **arguments)
    assert not ChangeRequest.objects.exists()


def test_a_location_of_another_clinic_is_refused(staff, location):
    elsewhere = LocationFactory()
    with pytest.raises(ApplicationError, match="belongs to another clinic"):
        services.change_request_create(
            actor=staff, clinic=location.clinic, kind="close_location", location=elsewhere,
            requested_by="Office manager",
        )  # fmt: skip
    assert not ChangeRequest.objects.exists()
