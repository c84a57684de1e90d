"""Builders for credentialing tests: a complete practitioner or clinic file, valid PDFs and DEA numbers."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from credentialing import services
from credentialing.demo import practitioner_file_fill
from credentialing.models import (
    CredentialingApplication,
    VerificationItem,
)
from credentialing.selectors import _required_items

PDF_BYTES = (  # a real one-page PDF (pypdf's blank page): uploaded PDFs must parse
    b"%PDF-1.3\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<\n/Producer (pypdf)\n>>\nendobj\n"
    b"2 0 obj\n<<\n/Type /Pages\n/Count 1\n/Kids [ 4 0 R ]\n>>\nendobj\n"
    b"3 0 obj\n<<\n/Type /Catalog\n/Pages 2 0 R\n>>\nendobj\n"
    b"4 0 obj\n<<\n/Type /Page\n/Resources <<\n>>\n/MediaBox [ 0.0 0.0 612 792 ]\n/Parent 2 0 R\n>>\nendobj\n"
    b"xref\n0 5\n0000000000 65535 f \n0000000015 00000 n \n0000000054 00000 n \n0000000113 00000 n \n0000000162 00000 n \ntrailer\n<<\n/Size 5\n/Root 3 0 R\n/Info 1 0 R\n>>\nstartxref\n256\n%%EOF\n"
)


def pdf_upload(name: str = "document.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def png_bytes() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (0, 128, 128)).save(buffer, format="PNG")
    return buffer.getvalue()


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
    return practitioner_file_fill(
        application,
        actor=actor,
        today=today(),
        dea=dea,
        document=lambda kind: pdf_upload(f"{kind}.pdf"),
    )


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
