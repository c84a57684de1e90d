"""The credentialing rule book: the pipeline, the checklist, the decision and its effects."""

from __future__ import annotations

import datetime
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cooperative.exceptions import ApplicationError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from credentialing import services
from credentialing.models import (
    ApplicationEvent,
    Attachment,
    CommitteeDecision,
    CredentialingApplication,
    DeaRegistration,
    License,
    Verification,
    WorkHistory,
)
from providers.models import PractitionerRole, PractitionerStatusEvent
from tests.providers.factories import PractitionerFactory

from .factories import (
    PDF_BYTES,
    fill_practitioner_file,
    pdf_upload,
    png_bytes,
    practitioner_application,
    today,
    verify_everything,
    years_ago,
)

pytestmark = pytest.mark.django_db


def test_a_new_application_lists_everything_missing(staff, applicant, location):
    application = practitioner_application(actor=staff, practitioner=applicant, location=location)

    assert application.status == "received"
    assert application.clinic == location.clinic
    assert services.application_missing_items(application) == [
        "Date of birth",
        "A professional license",
        "Professional school (education)",
        "Work history",
        f"Explanation of the work history gap {years_ago(5):%m/%Y} – {today():%m/%Y}",
        "Current malpractice insurance",
        "Curriculum vitae (CV)",
        "Attestation questions answered (11 unanswered)",
        "Signed and dated attestation",
    ]
    assert list(application.events.values_list("from_status", "to_status")) == [("", "received")]


def test_request_documents_records_the_missing_items_and_nothing_missing_is_refused(
    staff, applicant, location
):
    application = practitioner_application(actor=staff, practitioner=applicant, location=location)
    services.application_request_documents(
        application=application, actor=staff, extra_items=["Updated CV with 2024 dates"]
    )
    application.refresh_from_db()
    assert application.status == "incomplete"
    assert application.missing_items[-1] == "Updated CV with 2024 dates"
    assert application.events.first().missing_items == application.missing_items

    complete = fill_practitioner_file(
        practitioner_application(
            actor=staff,
            practitioner=PractitionerFactory(status="pending"),
        ),
        actor=staff,
    )
    with pytest.raises(ApplicationError, match="Nothing is missing"):
        services.application_request_documents(application=complete, actor=staff)
    complete.refresh_from_db()
    assert complete.status == "received"


def test_incomplete_file_cannot_start_verification(staff, applicant, location):
    application = practitioner_application(actor=staff, practitioner=applicant, location=location)
    with pytest.raises(ApplicationError) as error:
        services.application_start_verification(application=application, actor=staff)
    assert "Date of birth" in error.value.errors["missing_items"]
    application.refresh_from_db()
    assert application.status == "received"
    assert application.completed_on is None


def test_the_whole_path_to_approval_lists_the_practitioner(
    staff, applicant, location, eager_tasks, django_capture_on_commit_callbacks
):
    application = practitioner_application(actor=staff, practitioner=applicant, location=location)
    fill_practitioner_file(application, actor=staff, dea=True)
    assert services.application_missing_items(application) == []

    services.application_start_verification(application=application, actor=staff)
    application.refresh_from_db()
    assert application.completed_on == today()
    assert application.due_on == today() + timedelta(days=10)

    with pytest.raises(ApplicationError) as error:
        services.application_send_to_committee(application=application, actor=staff)
    assert error.value.errors["verifications"] == [
        "License: not verified yet",
        "DEA registration: not verified yet",
        "Education and training: not verified yet",
        "Work history: not verified yet",
        "Malpractice history (NPDB): not verified yet",
        "OIG exclusion (LEIE): not verified yet",
        "SAM exclusion: not verified yet",
        "NPI (NPPES): not verified yet",
    ]
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    with django_capture_on_commit_callbacks(execute=True):
        decision = services.application_decide(
            application=application, actor=staff, decision="approved", decided_on=today()
        )

    application.refresh_from_db()
    applicant.refresh_from_db()
    assert application.status == "approved"
    assert application.decided_on == today()
    assert application.is_current is True
    assert applicant.status == "active"
    assert applicant.last_credentialed_on == today()
    from dateutil.relativedelta import relativedelta

    assert applicant.recredential_due_on == today() + relativedelta(months=36)
    role = PractitionerRole.objects.get(practitioner=applicant)
    assert (role.location, role.start_date, role.end_date) == (location, today(), None)
    assert list(
        PractitionerStatusEvent.objects.filter(practitioner=applicant)
        .order_by("id")
        .values_list("from_status", "to_status", "reason")
    )[-1] == ("pending", "active", "Approved by the credentialing committee")
    assert list(application.events.order_by("id").values_list("to_status", flat=True)) == [
        "received", "verification", "committee", "approved",
    ]  # fmt: skip
    decision.refresh_from_db()
    assert decision.letter.name
    assert len(decision.letter_sha256) == 64


def test_approval_is_refused_with_a_stale_verification_and_nothing_changes(
    staff, applicant, location
):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    # The OIG check was redone long ago? No: the committee meets 121 days after an old NPDB query.
    Verification.objects.filter(item="malpractice_history").update(
        verified_on=today() - timedelta(days=121)
    )

    with pytest.raises(ApplicationError) as error:
        services.application_decide(
            application=application, actor=staff, decision="approved", decided_on=today()
        )
    assert error.value.message == (
        "Approval refused: Malpractice history (NPDB): verified 121 days ago (over 120)."
    )
    application.refresh_from_db()
    applicant.refresh_from_db()
    assert application.status == "committee"
    assert not CommitteeDecision.objects.exists()
    assert applicant.status == "pending"
    assert not PractitionerRole.objects.filter(practitioner=applicant).exists()


def test_a_verification_120_days_old_still_counts(staff, applicant, location):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    Verification.objects.update(verified_on=today() - timedelta(days=120))
    services.application_decide(
        application=application, actor=staff, decision="approved", decided_on=today()
    )
    application.refresh_from_db()
    assert application.status == "approved"


@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADVOCATE, Role.MEMBER, None])
def test_a_decision_by_a_user_without_the_role_is_refused(
    make_user, staff, applicant, location, role
):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    outsider = make_user(role)

    with pytest.raises(ApplicationError) as error:
        services.application_decide(
            application=application, actor=outsider, decision="approved", decided_on=today()
        )
    assert error.value.status_code == 403
    assert error.value.message == "Only provider services staff may record a committee decision."
    application.refresh_from_db()
    assert application.status == "committee"
    assert not CommitteeDecision.objects.exists()


def test_a_denial_needs_reasons_and_leaves_the_practitioner_unlisted(staff, applicant, location):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    services.application_start_verification(application=application, actor=staff)
    verify_everything(application, actor=staff)
    services.application_send_to_committee(application=application, actor=staff)
    with pytest.raises(ApplicationError, match="reasons for a denial"):
        services.application_decide(
            application=application, actor=staff, decision="denied", decided_on=today()
        )
    services.application_decide(
        application=application, actor=staff, decision="denied", decided_on=today(),
        notes="Two unexplained privilege restrictions.",
    )  # fmt: skip
    application.refresh_from_db()
    applicant.refresh_from_db()
    assert application.status == "denied"
    assert application.is_current is False
    assert applicant.status == "pending"
    with pytest.raises(ApplicationError, match="can no longer change"):
        services.application_update(application=application, actor=staff, email="x@example.org")


def test_transitions_outside_the_table_are_refused(staff, applicant, location):
    application = practitioner_application(actor=staff, practitioner=applicant, location=location)
    with pytest.raises(ApplicationError, match="cannot move to committee"):
        services.application_send_to_committee(application=application, actor=staff)
    with pytest.raises(ApplicationError, match="reason for the withdrawal"):
        services.application_withdraw(application=application, actor=staff, reason=" ")
    services.application_withdraw(application=application, actor=staff, reason="Moved out of state")
    application.refresh_from_db()
    assert application.status == "withdrawn"
    with pytest.raises(ApplicationError, match="cannot move to verification"):
        services.application_start_verification(application=application, actor=staff)


def test_one_open_application_per_practitioner(staff, applicant, location):
    practitioner_application(actor=staff, practitioner=applicant, location=location)
    with pytest.raises(ApplicationError, match="already has an open application"):
        practitioner_application(actor=staff, practitioner=applicant, location=location)
    assert CredentialingApplication.objects.count() == 1


def test_location_of_another_clinic_is_refused(staff, applicant, location):
    from tests.providers.factories import LocationFactory

    application = practitioner_application(actor=staff, practitioner=applicant, location=location)
    elsewhere = LocationFactory()
    with pytest.raises(ApplicationError, match="must belong to the clinic"):
        services.application_update(application=application, actor=staff, location=elsewhere)
    application.refresh_from_db()
    assert application.location == location


# --- Bad input --------------------------------------------------------------------------


def test_an_exe_renamed_pdf_is_refused_and_nothing_is_stored(staff, applicant, settings):
    application = practitioner_application(actor=staff, practitioner=applicant)
    exe = SimpleUploadedFile("license.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")
    with pytest.raises(ApplicationError) as error:
        services.attachment_add(application=application, actor=staff, kind="license", upload=exe)
    assert error.value.errors == {
        "file": ["Only PDF, PNG and JPEG files are accepted (judged by their content)."]
    }
    assert not Attachment.objects.exists()
    media = settings.MEDIA_ROOT / "credentialing"
    assert not media.exists() or not any(media.rglob("*.*"))


def test_an_oversize_file_is_refused(staff, applicant, settings):
    settings.MAX_ATTACHMENT_BYTES = 1024
    application = practitioner_application(actor=staff, practitioner=applicant)
    big = SimpleUploadedFile("cv.pdf", PDF_BYTES + b"0" * 2000 + b"%%EOF", "application/pdf")
    with pytest.raises(ApplicationError, match="too large: the limit is 0 MB"):
        services.attachment_add(application=application, actor=staff, kind="cv", upload=big)
    assert not Attachment.objects.exists()


def test_an_attachment_is_stored_under_a_server_name_with_its_hash(staff, applicant):
    import hashlib

    application = practitioner_application(actor=staff, practitioner=applicant)
    image = png_bytes()
    upload = SimpleUploadedFile("../../etc/<my> license.jpeg", image, "image/jpeg")
    attachment = services.attachment_add(
        application=application, actor=staff, kind="license", upload=upload
    )
    assert attachment.file.name.startswith("credentialing/attachments/")
    assert attachment.file.name.endswith(".png")
    assert "license" not in attachment.file.name
    assert attachment.original_name == "my license.jpeg"
    assert attachment.content_type == "image/png"
    assert attachment.sha256 == hashlib.sha256(image).hexdigest()
    assert attachment.size_bytes == len(image)
    assert AuditEvent.objects.filter(
        object_type="credentialing.attachment", object_id=str(attachment.pk), action="create"
    ).exists()


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("AB1234564", "fails its check digit"),
        ("A1234563", "two letters and seven digits"),
        ("ZB1234563", "cannot start with Z"),
    ],
)
def test_bad_dea_numbers_are_refused(staff, applicant, number, message):
    application = practitioner_application(actor=staff, practitioner=applicant)
    record = DeaRegistration(number=number, state="TX", expires_on=today() + timedelta(days=30))
    with pytest.raises(ApplicationError, match=message):
        services.application_detail_save(application=application, actor=staff, record=record)
    assert not DeaRegistration.objects.exists()


def test_expiry_before_issue_is_refused(staff, applicant):
    application = practitioner_application(actor=staff, practitioner=applicant)
    record = License(
        state="TX", number="Q1", license_type="medical",
        issued_on=datetime.date(2026, 5, 1), expires_on=datetime.date(2026, 4, 30),
    )  # fmt: skip
    with pytest.raises(ApplicationError) as error:
        services.application_detail_save(application=application, actor=staff, record=record)
    assert error.value.message == "A license cannot expire before it was issued."
    assert not License.objects.exists()


def test_work_history_gaps_over_six_months_need_an_explanation(staff, applicant):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant), actor=staff
    )
    WorkHistory.objects.filter(application=application).update(started_on=years_ago(3))
    services.application_detail_save(
        application=application, actor=staff,
        record=WorkHistory(kind="position", employer="Prairie Clinic", started_on=years_ago(9),
                           ended_on=years_ago(4)),
    )  # fmt: skip
    gap = f"Explanation of the work history gap {years_ago(4):%m/%Y} – {years_ago(3):%m/%Y}"
    assert services.application_missing_items(application) == [gap]
    services.application_detail_save(
        application=application, actor=staff,
        record=WorkHistory(kind="gap", started_on=years_ago(4), ended_on=years_ago(3),
                           explanation="Caring for a family member"),
    )  # fmt: skip
    assert services.application_missing_items(application) == []


def test_a_yes_attestation_needs_an_explanation(staff, applicant):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant), actor=staff
    )
    answers = dict(application.attestation)
    answers["criminal"] = {"answer": True, "explanation": ""}
    application = services.application_update(
        application=application, actor=staff, attestation=answers
    )
    assert services.application_missing_items(application) == [
        "Explanation of each “yes” attestation answer (criminal)"
    ]


def test_a_verification_needs_a_reference_or_a_document(staff, applicant):
    application = practitioner_application(actor=staff, practitioner=applicant)
    with pytest.raises(ApplicationError, match="Give a reference"):
        services.verification_record(
            application=application, actor=staff, item="license", result="verified",
            verified_on=today(),
        )  # fmt: skip
    with pytest.raises(ApplicationError, match="not on this application's checklist"):
        services.verification_record(
            application=application, actor=staff, item="dea", result="verified",
            verified_on=today(), reference="x",
        )  # fmt: skip
    with pytest.raises(ApplicationError, match="future"):
        services.verification_record(
            application=application, actor=staff, item="npi", result="verified",
            verified_on=today() + timedelta(days=1), reference="x",
        )  # fmt: skip
    assert not Verification.objects.exists()
    document = services.attachment_add(
        application=application, actor=staff, kind="verification", upload=pdf_upload()
    )
    services.verification_record(
        application=application, actor=staff, item="license", result="verified",
        verified_on=today(), document=document,
    )  # fmt: skip
    assert Verification.objects.get().document == document


def test_events_record_who_and_why(staff, applicant):
    application = practitioner_application(actor=staff, practitioner=applicant)
    services.application_withdraw(application=application, actor=staff, reason="Retired")
    event = ApplicationEvent.objects.filter(application=application).first()
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        "received", "withdrawn", staff, "Retired",
    )  # fmt: skip
