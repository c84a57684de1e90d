"""Board certifications and a clinic's accreditation are watched like licences: 90/60/30-day
tasks once each, an expired task, and a renewal recorded by a service and from the admin; their
expiry does not suspend the listing (a facility license's does, and its renewal lifts it)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cooperative.exceptions import ApplicationError
from cooperative.models import AuditEvent
from credentialing import services
from credentialing.models import (
    BoardCertification,
    CredentialingApplication,
    MalpracticeInsurance,
    StaffTask,
)
from providers.models import ClinicStatusEvent, PractitionerStatusEvent
from tests.providers.factories import ClinicFactory

from .factories import (
    PDF_BYTES,
    fill_practitioner_file,
    practitioner_application,
    today,
    verify_everything,
)

pytestmark = pytest.mark.django_db


def _approve(application: CredentialingApplication, staff) -> CredentialingApplication:
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    services.application_decide(
        application=application, actor=staff, decision="approved", decided_on=today()
    )
    application.refresh_from_db()
    assert application.is_current
    return application


@pytest.fixture
def board(staff, applicant, location):
    """An approved practitioner with a board certification (added after approval)."""
    application = _approve(
        fill_practitioner_file(
            practitioner_application(actor=staff, practitioner=applicant, location=location),
            actor=staff,
        ),
        staff,
    )
    return BoardCertification.objects.create(
        application=application,
        board="ABFM",
        specialty="Family Medicine",
        issued_on=today() - timedelta(days=3000),
        expires_on=today() + timedelta(days=75),
    )


@pytest.fixture
def accredited(staff):
    """An approved clinic accredited by AAAHC until 75 days from today."""
    clinic = ClinicFactory(status="prospect")
    application = services.application_create(actor=staff, subject_type="clinic", clinic=clinic)
    application = services.application_update(
        application=application, actor=staff, facility_license_number="FAC-77",
        facility_license_state="TX", facility_license_expires_on=today() + timedelta(days=300),
        accreditation_body="AAAHC", accreditation_expires_on=today() + timedelta(days=75),
    )  # fmt: skip
    services.application_detail_save(
        application=application, actor=staff,
        record=MalpracticeInsurance(carrier="Gulf Liability", policy_number="GL-9",
                                    per_claim_limit=1_000_000, aggregate_limit=2_000_000,
                                    expires_on=today() + timedelta(days=365)),
    )  # fmt: skip
    for kind in ("facility_license", "w9", "accreditation"):
        services.attachment_add(
            application=application, actor=staff, kind=kind,
            upload=SimpleUploadedFile(f"{kind}.pdf", PDF_BYTES, "application/pdf"),
        )  # fmt: skip
    return _approve(application, staff)


def _tasks() -> list[tuple[str, str, str]]:
    return list(StaffTask.objects.order_by("id").values_list("kind", "key", "title"))


def test_board_certification_warnings_at_90_60_30_days_then_expired_without_suspending(board):
    practitioner = board.application.practitioner
    name = board.application.subject_name
    expiry = board.expires_on
    label = "Board certification ABFM (Family Medicine)"

    services.expirables_check()
    services.expirables_check()  # the same day again raises nothing twice
    services.expirables_check(today=today() + timedelta(days=20))  # 55 days left
    services.expirables_check(today=today() + timedelta(days=50))  # 25 days left
    summary = services.expirables_check(today=today() + timedelta(days=76))  # expired yesterday

    key = f"board:{board.pk}:{expiry.isoformat()}"
    assert _tasks() == [
        ("expiring", f"expiring:{key}:90", f"{label} of {name} expires on {expiry:%m/%d/%Y} (within 90 days)"),
        ("expiring", f"expiring:{key}:60", f"{label} of {name} expires on {expiry:%m/%d/%Y} (within 60 days)"),
        ("expiring", f"expiring:{key}:30", f"{label} of {name} expires on {expiry:%m/%d/%Y} (within 30 days)"),
        ("expired", f"expired:{key}", f"{label} of {name} expired on {expiry:%m/%d/%Y}"),
    ]  # fmt: skip
    assert StaffTask.objects.filter(practitioner=practitioner).count() == 4
    # A board certification is optional: its expiry is a task, the listing stays.
    assert summary.suspended == []
    practitioner.refresh_from_db()
    assert practitioner.status == "active"
    assert not PractitionerStatusEvent.objects.filter(
        practitioner=practitioner, to_status="suspended"
    ).exists()


def test_board_certification_renewal_is_recorded_and_audited(board, staff):
    old = board.expires_on
    with pytest.raises(ApplicationError, match="must be after the current one") as error:
        services.expirable_renew(record=board, actor=staff, expires_on=old)
    assert error.value.errors == {"expires_on": ["Must be after the current expiry."]}
    board.refresh_from_db()
    assert board.expires_on == old

    renewed = services.expirable_renew(
        record=board, actor=staff, expires_on=today() + timedelta(days=3650), issued_on=today()
    )
    board.refresh_from_db()
    assert (board.expires_on, board.issued_on) == (today() + timedelta(days=3650), today())
    assert renewed.pk == board.pk
    audit = AuditEvent.objects.filter(object_type="credentialing.boardcertification").get()
    assert audit.detail == (
        f"renewed: expiry {old.isoformat()} -> {(today() + timedelta(days=3650)).isoformat()}"
    )
    assert services.expirables_check().warnings_raised == 0  # ten years away: nothing to warn


def test_accreditation_warnings_and_expiry_are_tasks_only(accredited):
    clinic = accredited.clinic
    expiry = accredited.accreditation_expires_on

    services.expirables_check(today=today() + timedelta(days=50))  # 25 days left
    summary = services.expirables_check(today=today() + timedelta(days=75))  # last day: still valid
    assert summary.expired_raised == 0
    summary = services.expirables_check(today=today() + timedelta(days=76))

    key = f"accreditation:{accredited.pk}:{expiry.isoformat()}"
    assert _tasks() == [
        ("expiring", f"expiring:{key}:30",
         f"Accreditation (AAAHC) of {clinic} expires on {expiry:%m/%d/%Y} (within 30 days)"),
        ("expired", f"expired:{key}", f"Accreditation (AAAHC) of {clinic} expired on {expiry:%m/%d/%Y}"),
    ]  # fmt: skip
    assert StaffTask.objects.filter(clinic=clinic, application=accredited).count() == 2
    assert summary.suspended == []
    clinic.refresh_from_db()
    assert clinic.status == "active"


def test_accreditation_renewal_and_refusals(accredited, staff):
    old = accredited.accreditation_expires_on
    for kind, expires_on, message in [
        ("accreditation", old, "must be after the current one"),
        ("dea", old + timedelta(days=1), "Only a facility license or an accreditation renews"),
    ]:
        with pytest.raises(ApplicationError, match=message):
            services.application_expirable_renew(
                application=accredited, kind=kind, actor=staff, expires_on=expires_on
            )
    accredited.refresh_from_db()
    assert accredited.accreditation_expires_on == old

    new = today() + timedelta(days=1095)
    services.application_expirable_renew(
        application=accredited, kind="accreditation", actor=staff, expires_on=new
    )
    accredited.refresh_from_db()
    assert accredited.accreditation_expires_on == new
    audit = AuditEvent.objects.filter(
        object_type="credentialing.credentialingapplication", object_id=str(accredited.pk)
    ).latest("id")
    assert audit.detail == f"accreditation renewed: expiry {old.isoformat()} -> {new.isoformat()}"


def test_an_expired_facility_license_suspends_and_its_renewal_lifts_it(accredited, staff):
    clinic = accredited.clinic
    CredentialingApplication.objects.filter(pk=accredited.pk).update(
        facility_license_expires_on=today() - timedelta(days=1)
    )
    assert services.expirables_check().suspended == [str(clinic)]
    clinic.refresh_from_db()
    assert clinic.status == "suspended"

    services.application_expirable_renew(
        application=accredited,
        kind="facility_license",
        actor=staff,
        expires_on=today() + timedelta(days=365),
    )
    clinic.refresh_from_db()
    assert clinic.status == "active"
    assert ClinicStatusEvent.objects.filter(clinic=clinic).order_by("-id").first().reason == (
        f"Renewed: facility license now expires {today() + timedelta(days=365):%m/%d/%Y}"
    )


def test_the_admin_renews_a_board_certification_and_an_accreditation(
    client, staff, board, accredited
):
    client.force_login(staff)
    application = board.application
    board_url = reverse("admin:credentialing_renew", args=[application.pk, "board", board.pk])
    accreditation_url = reverse(
        "admin:credentialing_renew", args=[accredited.pk, "accreditation", accredited.pk]
    )
    page = client.get(
        reverse("admin:credentialing_credentialingapplication_change", args=[application.pk])
    ).content.decode()
    assert "Board certification ABFM (Family Medicine)" in page
    assert board_url in page
    clinic_page = client.get(
        reverse("admin:credentialing_credentialingapplication_change", args=[accredited.pk])
    ).content.decode()
    assert "Accreditation (AAAHC)" in clinic_page
    assert accreditation_url in clinic_page

    old = board.expires_on
    refused = client.post(board_url, {"expires_on": old.isoformat()})
    assert refused.status_code == 200
    assert f"The new expiry must be after the current one ({old:%m/%d/%Y})." in (
        refused.content.decode()
    )
    board.refresh_from_db()
    assert board.expires_on == old

    new = today() + timedelta(days=1825)
    response = client.post(board_url, {"expires_on": new.isoformat(), "issued_on": ""})
    assert response.status_code == 302
    board.refresh_from_db()
    assert board.expires_on == new

    form = client.get(accreditation_url).content.decode()
    assert "Record the renewal of Accreditation (AAAHC)" in form
    assert 'name="issued_on"' not in form
    response = client.post(accreditation_url, {"expires_on": new.isoformat()})
    assert response.status_code == 302
    accredited.refresh_from_db()
    assert accredited.accreditation_expires_on == new


@pytest.mark.parametrize(
    "path",
    [
        "{app}/renew/accreditation/{other}/",  # not this application
        "{app}/renew/facility_license/{app}/",  # a practitioner's application keeps none
        "{app}/renew/board/0/",
        "{app}/renew/nonsense/{app}/",
    ],
)
def test_the_admin_renew_page_is_404_for_what_is_not_there(client, staff, board, accredited, path):
    client.force_login(staff)
    application = board.application
    url = "/admin/credentialing/credentialingapplication/" + path.format(
        app=application.pk, other=accredited.pk
    )
    assert client.get(url).status_code == 404
    assert client.post(url, {"expires_on": "2040-01-01"}).status_code == 404
    accredited.refresh_from_db()
    assert accredited.accreditation_expires_on == today() + timedelta(days=75)
