"""Credentialing files on S3-compatible storage: an attachment uploaded into the bucket and
downloaded, streamed from it, only by provider services (audited); the committee's decision
letter rendered into the bucket and downloaded the same way; nothing under MEDIA_ROOT."""

import pytest
from django.urls import reverse

from cooperative.models import AuditEvent
from cooperative.roles import Role
from credentialing import services
from credentialing.models import Attachment, CommitteeDecision
from tests.s3 import media_files

from .factories import (
    PDF_BYTES,
    fill_practitioner_file,
    pdf_upload,
    practitioner_application,
    today,
    verify_everything,
)

pytestmark = pytest.mark.django_db


def test_an_attachment_goes_to_the_bucket_and_only_staff_download_it(
    client, make_user, staff, applicant, s3_storage, settings
):
    application = practitioner_application(actor=staff, practitioner=applicant)
    attachment = services.attachment_add(
        application=application, actor=staff, kind="cv", upload=pdf_upload("my cv.pdf")
    )
    assert attachment.file.name.startswith("credentialing/")
    assert s3_storage.names() == [attachment.file.name]
    assert s3_storage.read(attachment.file.name) == PDF_BYTES
    url = reverse("admin:credentialing_attachment_download", args=[attachment.pk])

    client.force_login(make_user(Role.FINANCE))
    assert client.get(url).status_code in (302, 403, 404)
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert (
        AuditEvent.objects.filter(
            action="export", object_type="credentialing.attachment", object_id=str(attachment.pk)
        ).count()
        == 1
    )
    assert Attachment.objects.count() == 1
    assert media_files(settings) == []


def test_the_decision_letter_is_rendered_into_the_bucket(
    client,
    staff,
    applicant,
    location,
    s3_storage,
    settings,
    eager_tasks,
    django_capture_on_commit_callbacks,
):
    application = fill_practitioner_file(
        practitioner_application(actor=staff, practitioner=applicant, location=location),
        actor=staff,
    )
    client.force_login(staff)
    step = lambda name: reverse("admin:credentialing_step", args=[application.pk, name])  # noqa: E731
    client.post(step("verify"), {"reason": ""})
    verify_everything(application, actor=staff)
    client.post(step("committee"), {"reason": ""})
    with django_capture_on_commit_callbacks(execute=True):  # the letter is a worker's task
        response = client.post(
            step("decide"),
            {"decision": "approved", "decided_on": today().isoformat(), "notes": ""},
        )
    assert response.status_code == 302
    decision = CommitteeDecision.objects.get(application=application)
    assert decision.letter.name == f"credentialing/letters/decision-{application.pk}.pdf"
    assert decision.letter.name in s3_storage.names()
    letter = client.get(reverse("admin:credentialing_decision_letter", args=[application.pk]))
    assert letter.status_code == 200
    assert b"".join(letter.streaming_content) == s3_storage.read(decision.letter.name)
    assert media_files(settings) == []
