"""Uploaded documents judged by their content (not their name) and their size.

- A PDF is accepted only if pypdf parses it and nothing in it can act on its own: no
  JavaScript, no open or automatic action, no launch action, no embedded or attached file,
  not encrypted (`pdf_refusal`).
- The stored name and a download's name come from the detected type (`download_filename`),
  never from the uploader's file name.
- `SizeLimitedUploadHandler` (first of FILE_UPLOAD_HANDLERS) counts a file's bytes while the
  request body is read: past MAX_UPLOAD_BYTES the rest is read and dropped, never kept in
  memory or written to disk, and the view receives an `OversizedUpload` (its size tells the
  per-kind checks it is too large; reading it raises the clear error).
"""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from .exceptions import ApplicationError

# The detected type decides the extension: never the uploader's name.
EXTENSION_BY_CONTENT_TYPE = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "text/csv": "csv",
}


def download_filename(stem: str, content_type: str) -> str:
    """A download's file name: our own stem (e.g. "attachment-12") and the detected type's extension."""
    return f"{stem}.{EXTENSION_BY_CONTENT_TYPE.get(content_type, 'bin')}"


def _too_large_message(limit: int) -> str:
    return f"The file is too large: the limit is {limit // (1024 * 1024)} MB."


class OversizedUpload(UploadedFile):
    """What a view receives instead of a file that passed MAX_UPLOAD_BYTES while streaming:
    its `size` is the bytes seen (over the limit); reading it raises ApplicationError."""

    def __init__(self, *, name: str, content_type: str, size: int, limit: int) -> None:
        super().__init__(
            file=io.BytesIO(b""), name=name, content_type=content_type, size=size, charset=None
        )
        self.limit = limit

    def _refuse(self) -> Any:
        message = _too_large_message(self.limit)
        raise ApplicationError(message, errors={"file": [message]})

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        return self._refuse()

    def chunks(self, chunk_size: int | None = None) -> Any:
        return self._refuse()

    def multiple_chunks(self, chunk_size: int | None = None) -> bool:
        return False


class SizeLimitedUploadHandler(FileUploadHandler):
    """Stops keeping a file's bytes once it passes MAX_UPLOAD_BYTES, while the body is read."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        self.is_too_large = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.received += len(raw_data)
        if self.received > settings.MAX_UPLOAD_BYTES:
            self.is_too_large = True
        # None: the later handlers (memory, temporary file) never see the chunk.
        return None if self.is_too_large else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.is_too_large:
            return None
        return OversizedUpload(
            name=self.file_name or "upload",
            content_type=self.content_type or "application/octet-stream",
            size=self.received,
            limit=settings.MAX_UPLOAD_BYTES,
        )


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
        if refusal := pdf_refusal(content):
            message = f"This PDF is refused: {refusal}. Print it to a plain PDF and upload that."
            raise ApplicationError(message, errors={"file": [message]})
        extension = "pdf"
    elif content.startswith(b"\x89PNG\r\n\x1a\n") or content.startswith(b"\xff\xd8\xff"):
        extension = _verified_image(content)
    if extension is None:
        message = "Only PDF, PNG and JPEG files are accepted (judged by their content)."
        raise ApplicationError(message, errors={"file": [message]})
    return extension, content


# Keys whose presence anywhere in the document means it can act on its own.
_PDF_REFUSED_KEYS = {
    "/OpenAction": "it runs an action when it is opened",
    "/AA": "it runs automatic actions",
    "/JavaScript": "it contains JavaScript",
    "/JS": "it contains JavaScript",
    "/EmbeddedFiles": "it contains embedded files",
    "/EF": "it contains embedded files",
    "/Launch": "it contains a launch action",
    "/RichMedia": "it contains embedded media",
    "/XFA": "it contains an XFA form",
}
_PDF_REFUSED_ACTIONS = {
    "/JavaScript": "it contains JavaScript",
    "/Launch": "it contains a launch action",
    "/ImportData": "it contains an import action",
    "/RichMediaExecute": "it contains embedded media",
}


def pdf_refusal(content: bytes) -> str | None:
    """Why this PDF is refused (it does not parse, is encrypted, or holds JavaScript, an open or
    automatic action, a launch action, or an embedded file), or None when it is plain."""
    from pypdf import PdfReader
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted:
            return "it is encrypted"
        len(reader.pages)  # the page tree must parse
        stack: list[Any] = [reader.trailer["/Root"]]
        seen: set[tuple[int, int]] = set()
        while stack:
            item = stack.pop()
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in seen:
                    continue
                seen.add(key)
                item = item.get_object()
            if isinstance(item, DictionaryObject):
                for name, value in item.items():
                    if name in _PDF_REFUSED_KEYS:
                        return _PDF_REFUSED_KEYS[name]
                    if name == "/S" and value in _PDF_REFUSED_ACTIONS:
                        return _PDF_REFUSED_ACTIONS[str(value)]
                    if name in ("/Type", "/Subtype") and value in (
                        "/EmbeddedFile",
                        "/FileAttachment",
                    ):
                        return "it contains embedded files"
                    if name != "/Parent":
                        stack.append(value)
            elif isinstance(item, ArrayObject):
                stack.extend(item)
    except Exception:  # pypdf raises many kinds of error on a malformed file
        return "it is not a readable PDF"
    return None


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
