"""Uploaded documents judged by their content (not their name) and their size."""

from __future__ import annotations

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile

from .exceptions import ApplicationError


def attachment_check(upload: UploadedFile | ContentFile) -> tuple[str, bytes]:
    """PDF, PNG or JPEG by content (not by name), up to MAX_ATTACHMENT_BYTES; returns (extension, bytes)."""
    limit = settings.MAX_ATTACHMENT_BYTES
    if upload.size is not None and upload.size > limit:
        message = f"The file is too large: the limit is {limit // (1024 * 1024)} MB."
        raise ApplicationError(message, errors={"file": [message]})
    upload.seek(0)
    content = upload.read(limit + 1)
    upload.seek(0)
    if len(content) > limit:
        message = f"The file is too large: the limit is {limit // (1024 * 1024)} MB."
        raise ApplicationError(message, errors={"file": [message]})
    if not content:
        raise ApplicationError("The file is empty.", errors={"file": ["The file is empty."]})
    extension = None
    if content.startswith(b"%PDF-") and b"%%EOF" in content[-2048:]:
        extension = "pdf"
    elif content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff"):
        extension = _verified_image(content)
    if extension is None:
        message = "Only PDF, PNG and JPEG files are accepted (judged by their content)."
        raise ApplicationError(message, errors={"file": [message]})
    return extension, content


def _verified_image(content: bytes) -> str | None:
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
            image_format = image.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return None
    return {"PNG": "png", "JPEG": "jpg"}.get(image_format or "")


CSV_MAX_BYTES = 5 * 1024 * 1024


def csv_text(content: bytes) -> str:
    """An uploaded CSV file's text: at most 5 MB, no NUL bytes (a binary file: Python's csv
    reader would fail on it mid-import), UTF-8 (a byte-order mark is fine)."""
    if len(content) > CSV_MAX_BYTES:
        raise ApplicationError(
            "The file is larger than 5 MB: split it.", errors={"file": ["Larger than 5 MB."]}
        )
    if b"\x00" in content:
        raise ApplicationError(
            "The file is not a CSV text file.", errors={"file": ["Not a CSV file."]}
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(
            "The file is not UTF-8 text: export it as CSV (UTF-8).",
            errors={"file": ["Not a UTF-8 CSV file."]},
        ) from None
