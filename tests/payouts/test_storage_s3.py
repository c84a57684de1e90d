"""A payout month on S3-compatible storage (moto's server, a real HTTP endpoint): every
statement, the positive-pay file, the run report and the print batch are objects in the
bucket; the print batch is joined from the statements read back from the bucket; downloads
stream from it through the permission-checked views; nothing is written under MEDIA_ROOT."""

import io

import pytest
from pypdf import PdfReader

from cooperative.periods import Period
from cooperative.roles import Role
from payouts import services
from payouts.models import PayoutRun, PayoutRunStatus
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying
from tests.payouts.test_ach import deposits  # noqa: F401 (a fixture)
from tests.s3 import media_files

pytestmark = pytest.mark.django_db


def test_a_payout_month_on_s3_joins_its_print_batch_from_the_bucket(
    s3_storage, eager_tasks, django_capture_on_commit_callbacks, client, make_user, settings
):
    make_plan()
    make_bank_account()
    alpha, beta = make_pcp(), make_pcp()
    member_paying(alpha, "Ben", "Young")
    member_paying(beta, "Ana", "Zamora")
    member_paying(beta, "Cy", "Abbott")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_snapshot(run_id=run.pk, today=FEB_PAYOUT_DAY)
    run = PayoutRun.objects.get(pk=run.pk)
    assert run.status == PayoutRunStatus.COMPLETED
    statements = list(run.statements.order_by("check_number"))
    assert [s.check_number for s in statements] == [100001, 100002]

    # Every file is an object in the bucket, under the names the rows keep; none on disk.
    assert s3_storage.names() == sorted(
        [s.pdf.name for s in statements]
        + [run.print_batch.name, run.report_pdf.name, run.positive_pay.name]
    )
    assert run.print_batch.name == "payouts/batches/2026-02-print-batch.pdf"
    assert run.positive_pay.name == "payouts/positive-pay/2026-02-positive-pay.csv"
    assert all(s.pdf.name.startswith("payouts/statements/") for s in statements)
    assert media_files(settings) == []

    # The batch in the bucket is every statement from the bucket, in check-number order.
    batch = PdfReader(io.BytesIO(s3_storage.read(run.print_batch.name)))
    pages = [len(PdfReader(io.BytesIO(s3_storage.read(s.pdf.name))).pages) for s in statements]
    assert len(batch.pages) == sum(pages)
    assert [item.title for item in batch.outline] == [
        f"{s.check_number} {s.payee_name}" for s in statements
    ]
    assert f"CHECK NO.\n{statements[0].check_number}" in batch.pages[0].extract_text()
    assert s3_storage.read(run.positive_pay.name).decode().splitlines()[0] == (
        "account,check_number,amount,issue_date,payee,action"
    )

    # Downloads stream from the bucket through the views that check who asks.
    client.force_login(make_user(Role.ADVOCATE))
    assert client.get(f"/finance/payouts/{run.pk}/files/print-batch/").status_code == 403
    client.force_login(make_user(Role.FINANCE))
    response = client.get(f"/finance/payouts/{run.pk}/files/print-batch/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == s3_storage.read(run.print_batch.name)
    response = client.get(f"/finance/payouts/statements/{statements[0].pk}.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == s3_storage.read(statements[0].pdf.name)
    response = client.get(f"/finance/payouts/{run.pk}/files/report-pdf/")
    assert b"".join(response.streaming_content) == s3_storage.read(run.report_pdf.name)
    assert media_files(settings) == []


def test_the_batch_written_to_a_spooled_file_is_the_batch_joined_in_memory():
    """The print batch is written as it is joined (to a temporary file past its spool size),
    byte for byte the file joined in memory: same objects, offsets and content digest."""
    import tempfile

    from pypdf import PdfWriter

    from payouts.documents import print_batch_pdf, print_batch_pdf_write

    def blank(pages: int) -> bytes:
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(width=612, height=792)
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    files = [("100001 Alpha", blank(2)), ("100002 Beta", blank(3))]
    in_memory = print_batch_pdf(iter(files), title="Batch", author="CoopCare")
    with tempfile.SpooledTemporaryFile(max_size=64) as spool:
        print_batch_pdf_write(iter(files), spool, title="Batch", author="CoopCare")
        assert spool._rolled  # written to disk as it went, not held in memory
        spool.seek(0)
        assert spool.read() == in_memory
    batch = PdfReader(io.BytesIO(in_memory))
    assert len(batch.pages) == 5
    assert [item.title for item in batch.outline] == ["100001 Alpha", "100002 Beta"]


def test_a_voided_check_is_stamped_as_it_streams_from_the_bucket(
    s3_storage, eager_tasks, django_capture_on_commit_callbacks, client, make_user, settings
):
    """The VOID update is appended to the object as it streams (the object never changes); the
    void's new positive-pay version is another object in the bucket."""
    from payouts.models import PositivePayFile
    from tests.payouts.test_void import _download, _texts, _void_first, _void_line

    make_plan()
    make_bank_account()
    member_paying(make_pcp(), "Ben", "Young")
    member_paying(make_pcp(), "Ana", "Zamora")
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.COMPLETED
    finance = make_user(Role.FINANCE)
    first, _ = _void_first(run, finance, django_capture_on_commit_callbacks, reissue=False)
    line = _void_line(first)
    client.force_login(finance)

    stored = s3_storage.read(first.pdf.name)
    statement = _download(client.get(f"/finance/payouts/statements/{first.pk}.pdf"))
    assert statement.startswith(stored)
    assert [line in text for text in _texts(statement)] == [True, True]
    batch = _download(client.get(f"/finance/payouts/{run.pk}/files/print-batch/"))
    assert batch.startswith(s3_storage.read(run.print_batch.name))
    assert [line in text for text in _texts(batch)] == [True, True, False, False]
    assert s3_storage.read(first.pdf.name) == stored

    versions = list(PositivePayFile.objects.filter(run=run).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert {v.file.name for v in versions} <= set(s3_storage.names())
    assert versions[0].file.name != versions[1].file.name
    assert media_files(settings) == []


@pytest.mark.usefixtures("deposits")
def test_the_ach_file_of_a_month_with_direct_deposits_is_an_object_in_the_bucket(
    s3_storage, eager_tasks, django_capture_on_commit_callbacks, client, make_user, settings
):
    from payouts.nacha import ach_validate
    from tests.payouts.test_ach import _run_whole_payout

    run = _run_whole_payout(django_capture_on_commit_callbacks)
    assert run.status == PayoutRunStatus.COMPLETED
    assert run.ach_file.name == "payouts/ach/2026-02-ach.txt"
    assert run.ach_file.name in s3_storage.names()
    raw = s3_storage.read(run.ach_file.name)
    assert ach_validate(raw.decode("ascii")) == []
    client.force_login(make_user(Role.FINANCE))
    response = client.get(f"/finance/payouts/{run.pk}/files/ach/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == raw
    assert media_files(settings) == []
