"""A month's payout on two hosts that share no folder: two Celery workers, each with its own
MEDIA_ROOT, both on one database, one Redis and one S3-compatible bucket (moto's server). One
worker is killed mid-run; the other, with `run_payouts --wait`, finishes it. Every statement
is rendered and stored once, the print batch holds them all, the totals reconcile, no file
touches either host's disk, and every PDF has the bytes one process renders alone."""

import hashlib
import io
import os
import re
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from pypdf import PdfReader

from cooperative.periods import Period
from payouts import services
from payouts.documents import print_batch_pdf, render_statement_pdf
from payouts.models import PaidOutMonth, Statement
from payouts.selectors import statement_document
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying
from tests.payouts.worker import queue_forget, worker_environment, worker_start
from tests.s3 import ACCESS_KEY, REGION, SECRET_KEY

pytestmark = [pytest.mark.integration]
CLINICS = 10
SURNAMES = ["Alvarez", "Brooks", "Castillo", "Duarte", "Ellis", "Fuentes", "Garza", "Hughes",
            "Ibarra", "Jensen"]  # fmt: skip


@pytest.fixture
def hosts(reference_data, settings, s3_storage, s3_endpoint, tmp_path):
    """Two hosts' environments: the same queue, database, Redis and bucket; each its own
    MEDIA_ROOT (made, so a file written there would be seen)."""
    base = worker_environment(settings) | {
        "STORAGE_BACKEND": "s3", "AWS_STORAGE_BUCKET_NAME": s3_storage.name,
        "AWS_S3_ENDPOINT_URL": s3_endpoint, "AWS_S3_REGION_NAME": REGION,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    }  # fmt: skip
    environments = {}
    for name in ("host-a", "host-b"):
        media = tmp_path / name / "media"
        media.mkdir(parents=True)
        environments[name] = base | {"MEDIA_ROOT": str(media)}
    yield environments
    queue_forget(base)


def _files_under(folder: str) -> list[str]:
    return sorted(str(p) for p in Path(folder).rglob("*") if p.is_file())


def _tasks_succeeded(log: Path) -> int:
    return len(re.findall(r"Task payouts\.statement_render\[[^\]]+\] succeeded", log.read_text()))


def test_two_workers_without_a_shared_folder_pay_the_month_once_with_one_killed_mid_run(
    hosts, s3_storage, tmp_path
):
    make_plan()
    make_bank_account()
    for index in range(CLINICS):
        pcp = make_pcp()
        member_paying(pcp, "Kim", f"{SURNAMES[index]}-A")
        member_paying(pcp, "Lee", f"{SURNAMES[index]}-B")
    logs = {name: tmp_path / f"{name}.log" for name in hosts}
    a = worker_start(hosts["host-a"], f"payouts-host-a-{os.getpid()}", log=logs["host-a"])
    b = worker_start(hosts["host-b"], f"payouts-host-b-{os.getpid()}", log=logs["host-b"])
    try:
        run = services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and _tasks_succeeded(logs["host-a"]) < 1:
            time.sleep(0.02)
        a.kill()  # SIGKILL: host A is gone mid-run
        a.wait(timeout=10)
        run.refresh_from_db()
        assert run.status == "rendering", "the run finished before host A was killed"
        out = io.StringIO()  # host B finishes what is queued; the command resumes the rest
        call_command("run_payouts", "--period", "2026-02", "--wait", "--timeout", "180", stdout=out)
    finally:
        for process in (a, b):
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)
    assert (
        out.getvalue()
        .strip()
        .endswith(
            f"Payout 2026-02 completed: {CLINICS} statements, {CLINICS * 2} member-months, "
            "total 1,500.00"
        )
    )
    assert _tasks_succeeded(logs["host-a"]) >= 1
    assert _tasks_succeeded(logs["host-b"]) >= 1  # both hosts rendered part of the month

    run.refresh_from_db()
    statements = list(Statement.objects.filter(run=run).order_by("check_number"))
    assert [s.check_number for s in statements] == list(range(100001, 100001 + CLINICS))
    assert len({s.clinic_id for s in statements}) == CLINICS
    assert PaidOutMonth.objects.count() == CLINICS * 2
    assert (run.rendered_count, run.total) == (CLINICS, sum(s.amount for s in statements))
    assert services.reconciliation(run).balances

    # Stored once each, in the bucket only: no second copy under a suffixed name, no local file.
    stored = s3_storage.names()
    assert [n for n in stored if n.startswith("payouts/statements/")] == [
        f"payouts/statements/2026-02-{number}.pdf" for number in range(100001, 100001 + CLINICS)
    ]
    assert [s.pdf.name for s in statements] == [
        f"payouts/statements/2026-02-{s.check_number}.pdf" for s in statements
    ]
    assert [n for n in stored if n.startswith("payouts/batches/")] == [run.print_batch.name]
    for name in hosts:
        assert _files_under(hosts[name]["MEDIA_ROOT"]) == []
    assert _files_under(str(django_settings.MEDIA_ROOT)) == []

    # The bytes one process renders alone, whichever host rendered them.
    files = []
    for statement in statements:
        content = s3_storage.read(statement.pdf.name)
        assert content == render_statement_pdf(statement_document(statement))
        assert statement.sha256 == hashlib.sha256(content).hexdigest()
        files.append((f"{statement.check_number} {statement.payee_name}", content))
    batch = s3_storage.read(run.print_batch.name)
    assert batch == print_batch_pdf(
        files, title="Payout 2026-02 print batch", author=django_settings.COOPERATIVE_NAME
    )
    assert len(PdfReader(io.BytesIO(batch)).pages) == sum(
        len(PdfReader(io.BytesIO(content)).pages) for _, content in files
    )
