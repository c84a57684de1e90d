"""Uploads: PDFs that can act on their own are refused, downloads are named by the detected
type, and a file past MAX_UPLOAD_BYTES is dropped while the body is read."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from django.urls import reverse
from pypdf import PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, NameObject, TextStringObject

from cooperative.exceptions import ApplicationError
from cooperative.uploads import OversizedUpload, SizeLimitedUploadHandler, pdf_refusal
from credentialing import services
from credentialing.models import Attachment

from .factories import PDF_BYTES, practitioner_application


def _pdf(change=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    if change:
        change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _open_action(writer: PdfWriter) -> None:
    action = DictionaryObject({NameObject("/S"): NameObject("/URI"),
                               NameObject("/URI"): TextStringObject("https://evil.example/")})  # fmt: skip
    writer._root_object[NameObject("/OpenAction")] = action


def _launch_link(writer: PdfWriter) -> None:
    launch = DictionaryObject({NameObject("/S"): NameObject("/Launch"),
                               NameObject("/F"): TextStringObject("calc.exe")})  # fmt: skip
    annotation = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([]), NameObject("/A"): launch,
    })  # fmt: skip
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(annotation)])


def _document_javascript(writer: PdfWriter) -> None:
    script = DictionaryObject({NameObject("/S"): NameObject("/JavaScript"),
                               NameObject("/JS"): TextStringObject("app.alert('hi');")})  # fmt: skip
    tree = DictionaryObject(
        {NameObject("/Names"): ArrayObject([TextStringObject("x"), writer._add_object(script)])}
    )
    writer._root_object[NameObject("/Names")] = DictionaryObject({NameObject("/JavaScript"): tree})


def _encrypted(writer: PdfWriter) -> None:
    writer.encrypt("secret")


REFUSED = [
    (_document_javascript, "it contains JavaScript"),
    (_open_action, "it runs an action when it is opened"),
    (lambda w: w.add_attachment("payload.exe", b"MZ\x90\x00"), "it contains embedded files"),
    (_launch_link, "it contains a launch action"),
    (_encrypted, "it is encrypted"),
]


def test_a_plain_pdf_is_accepted():
    assert pdf_refusal(_pdf()) is None
    assert pdf_refusal(PDF_BYTES) is None


@pytest.mark.parametrize(("change", "reason"), REFUSED)
def test_a_pdf_that_can_act_on_its_own_is_refused(change, reason):
    assert pdf_refusal(_pdf(change)) == reason


def test_a_pdf_that_does_not_parse_is_refused():
    assert pdf_refusal(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n") == (
        "it is not a readable PDF"
    )


@pytest.mark.parametrize(("change", "reason"), REFUSED)
def test_attachment_add_refuses_an_active_pdf_and_saves_nothing(staff, applicant, change, reason):
    application = practitioner_application(actor=staff, practitioner=applicant)
    upload = SimpleUploadedFile("cv.pdf", _pdf(change), "application/pdf")
    with pytest.raises(ApplicationError) as error:
        services.attachment_add(application=application, actor=staff, kind="cv", upload=upload)
    message = f"This PDF is refused: {reason}. Print it to a plain PDF and upload that."
    assert error.value.errors == {"file": [message]}
    assert not Attachment.objects.exists()


def test_a_download_is_named_by_the_detected_type_never_the_uploaders_name(
    client, staff, applicant
):
    application = practitioner_application(actor=staff, practitioner=applicant)
    upload = SimpleUploadedFile('evil"; x=.html', _pdf(), "text/html")
    attachment = services.attachment_add(
        application=application, actor=staff, kind="cv", upload=upload
    )
    assert attachment.file.name.endswith("/document.pdf") or attachment.file.name.endswith(".pdf")
    client.force_login(staff)
    response = client.get(reverse("admin:credentialing_attachment_download", args=[attachment.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"] == f'attachment; filename="attachment-{attachment.pk}.pdf"'
    )


class _Recorder(FileUploadHandler):
    """Stands for the memory / temporary-file handlers: counts what reaches them."""

    received = 0

    def receive_data_chunk(self, raw_data, start):
        type(self).received += len(raw_data)
        return raw_data

    def file_complete(self, file_size):
        return SimpleUploadedFile(self.file_name, b"x" * file_size)


def test_the_upload_handler_stops_keeping_a_file_past_the_limit_while_streaming(settings, rf):
    settings.MAX_UPLOAD_BYTES = 256 * 1024
    body = encode_multipart(
        BOUNDARY, {"file": SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * 3_000_000)}
    )
    request = rf.generic("POST", "/", data=body, content_type=MULTIPART_CONTENT)
    _Recorder.received = 0
    handlers = [SizeLimitedUploadHandler(request), _Recorder(request)]
    _post, files = MultiPartParser(request.META, io.BytesIO(body), handlers).parse()
    upload = files["file"]
    assert isinstance(upload, OversizedUpload)
    assert upload.size == 3_000_005
    # What reached the storing handler stopped at the limit (plus at most one 64 KB chunk).
    assert _Recorder.received <= 256 * 1024 + 64 * 1024
    with pytest.raises(ApplicationError, match="The file is too large: the limit is 0 MB."):
        upload.read()
