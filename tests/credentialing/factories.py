"""Builders for credentialing tests: a complete practitioner or clinic file, valid PDFs and DEA numbers."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credentialing import services
from credentialing.models import (
    ATTESTATION_CODES,
    AttachmentKind,
    CredentialingApplication,
    Education,
    EducationKind,
    License,
    MalpracticeInsurance,
    VerificationItem,
    WorkHistory,
    WorkHistoryKind,
)
from credentialing.models import (
    DeaRegistration as Dea,
)
from credentialing.selectors import _required_items

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_upload(name: str = "document.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 128, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


def all_no() -> dict[str, Any]:
    return {code: {"answer": False, "explanation": ""} for code in ATTESTATION_CODES}


def today() -> datetime.date:
    return timezone.localdate()


def years_ago(n: int) -> datetime.date:
    t = today()
    return t.replace(year=t.year - n)


def practitioner_application(
    *, actor: Any, practitioner: Any, location: Any = None, **extra: Any
) -> CredentialingApplication:
    return services.application_create(
        actor=actor,
        subject_type="practitioner",
        practitioner=practitioner,
        location=location,
        **extra,
    )


def fill_practitioner_file(
    application: CredentialingApplication, *, actor: Any, dea: bool = False
) -> CredentialingApplication:
    """Everything the checklist asks of a practitioner: complete, ready for verification."""
    services.application_update(
        application=application,
        actor=actor,
        date_of_birth=datetime.date(1980, 5, 17),
        attestation=all_no(),
        attestation_signed_on=today(),
    )
    for record in (
        License(
            state="TX",
            number="Q1234",
            license_type="medical",
            issued_on=years_ago(8),
            expires_on=today() + datetime.timedelta(days=400),
        ),
        Education(
            kind=EducationKind.PROFESSIONAL_SCHOOL,
            institution="Gulf Coast School of Medicine",
            started_on=years_ago(16),
            finished_on=years_ago(12),
        ),
        WorkHistory(
            kind=WorkHistoryKind.POSITION,
            employer="Bayou Family Care",
            position="Physician",
            started_on=years_ago(7),
        ),
        MalpracticeInsurance(
            carrier="Lone Star Mutual",
            policy_number="LSM-1",
            per_claim_limit=1_000_000,
            aggregate_limit=3_000_000,
            issued_on=years_ago(1),
            expires_on=today() + datetime.timedelta(days=200),
        ),
    ):
        services.application_detail_save(application=application, actor=actor, record=record)
    if dea:
        services.application_detail_save(
            application=application,
            actor=actor,
            record=Dea(
                number="AB1234563", state="TX", expires_on=today() + datetime.timedelta(days=300)
            ),
        )
        services.attachment_add(
            application=application,
            actor=actor,
            kind=AttachmentKind.DEA,
            upload=pdf_upload("dea.pdf"),
        )
    for kind in (AttachmentKind.LICENSE, AttachmentKind.MALPRACTICE_FACE_SHEET, AttachmentKind.CV):
        services.attachment_add(
            application=application, actor=actor, kind=kind, upload=pdf_upload(f"{kind}.pdf")
        )
    application.refresh_from_db()
    return application


def verify_everything(
    application: CredentialingApplication, *, actor: Any, on: datetime.date | None = None
) -> None:
    for item, required in _required_items(application):
        if required:
            services.verification_record(
                application=application,
                actor=actor,
                item=item,
                result="verified",
                verified_on=on or today(),
                reference=f"ref-{item}",
            )


__all__ = [
    "VerificationItem",
    "fill_practitioner_file",
    "pdf_upload",
    "practitioner_application",
    "verify_everything",
]
