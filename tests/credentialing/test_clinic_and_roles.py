"""A clinic's (organizational) application, and who may open the credentialing pages at all."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cooperative.exceptions import ApplicationError
from cooperative.roles import Role
from credentialing import services
from credentialing.models import MalpracticeInsurance
from providers.models import ClinicStatusEvent
from tests.providers.factories import ClinicFactory

from .factories import PDF_BYTES, today, verify_everything

pytestmark = pytest.mark.django_db


def test_a_clinic_application_from_received_to_an_active_clinic(staff):
    clinic = ClinicFactory(status="prospect")
    application = services.application_create(actor=staff, subject_type="clinic", clinic=clinic)
    assert services.application_missing_items(application) == [
        "Facility license (number, state and expiry)",
        "Copy of the facility license",
        "Current liability insurance",
        "W-9",
    ]
    application = services.application_update(
        application=application, actor=staff, facility_license_number="FAC-77",
        facility_license_state="TX", facility_license_expires_on=today() + timedelta(days=300),
    )  # fmt: skip
    services.application_detail_save(
        application=application, actor=staff,
        record=MalpracticeInsurance(carrier="Gulf Liability", policy_number="GL-9",
                                    per_claim_limit=1_000_000, aggregate_limit=2_000_000,
                                    expires_on=today() + timedelta(days=365)),
    )  # fmt: skip
    for kind in ("facility_license", "w9"):
        services.attachment_add(
            application=application, actor=staff, kind=kind,
            upload=SimpleUploadedFile(f"{kind}.pdf", PDF_BYTES, "application/pdf"),
        )  # fmt: skip
    assert services.application_missing_items(application) == []
    services.application_start_verification(application=application, actor=staff)
    with pytest.raises(ApplicationError, match="not on this application's checklist"):
        services.verification_record(
            application=application, actor=staff, item="dea", result="verified",
            verified_on=today(), reference="x",
        )  # fmt: skip
    verify_everything(application, actor=staff)
    assert sorted(application.verifications.values_list("item", flat=True)) == [
        "facility_license", "liability_insurance", "npi", "oig", "sam",
    ]  # fmt: skip
    services.application_send_to_committee(application=application, actor=staff)
    services.application_decide(
        application=application, actor=staff, decision="approved", decided_on=today()
    )
    clinic.refresh_from_db()
    assert clinic.status == "active"
    assert clinic.last_credentialed_on == today()
    assert list(
        ClinicStatusEvent.objects.filter(clinic=clinic)
        .order_by("id")
        .values_list("to_status", flat=True)
    ) == ["credentialing", "active"]


def test_a_clinic_application_names_no_practitioner(staff, applicant):
    with pytest.raises(ApplicationError, match="names no practitioner"):
        services.application_create(
            actor=staff, subject_type="clinic", clinic=ClinicFactory(), practitioner=applicant
        )


PAGES = [
    "/admin/credentialing/credentialingapplication/",
    "/admin/credentialing/stafftask/",
    "/admin/credentialing/screeningrun/",
    "/admin/credentialing/screeningrun/add/",
    "/admin/credentialing/screeningresult/",
    "/admin/credentialing/changerequest/",
    "/admin/credentialing/changerequest/add/",
    "/admin/credentialing/credentialingapplication/add/",
    "/credentialing/",
]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", [Role.FINANCE, Role.ADVOCATE, Role.MEMBER, Role.PROVIDER, None])
def test_only_provider_services_open_the_credentialing_pages(client, make_user, role, url):
    if role is not None:
        client.force_login(make_user(role))
    response = client.get(url)
    assert response.status_code in (302, 403, 404)
    assert b"credentialing application" not in response.content.lower()


@pytest.mark.parametrize("url", PAGES)
def test_provider_services_open_every_credentialing_page(client, staff, url):
    client.force_login(staff)
    assert client.get(url).status_code == 200
