"""The whole payout run through real Celery workers on the real Redis: the snapshot, one
render task per statement, finalize. A worker is killed with SIGKILL mid-run; a new worker and
`run_payouts --wait` resume it: exactly one statement per clinic, unique check numbers, every
paid member-month once, totals reconciled, PDFs whose text is the stored roster."""

import io
import os
import time

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from cooperative.periods import Period
from payouts import services
from payouts.models import PaidOutMonth, PayoutRun, Statement, StatementLine
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying
from tests.payouts.worker import queue_forget, worker_environment, worker_start

pytestmark = [pytest.mark.integration]
CLINICS = 12
SURNAMES = ["Alvarez", "Brooks", "Castillo", "Duarte", "Ellis", "Fuentes", "Garza", "Hughes",
            "Ibarra", "Jensen", "Keller", "Lopez", "Moreno", "Nakamura", "Ortiz", "Patel"]  # fmt: skip


@pytest.fixture
def worker_env(reference_data, settings):
    env = worker_environment(settings)
    yield env
    queue_forget(env)


def test_a_worker_killed_mid_run_is_resumed_and_pays_everyone_exactly_once(worker_env, capsys):
    make_plan()
    make_bank_account()
    for index in range(CLINICS):
        pcp = make_pcp()
        for member in range(2):
            member_paying(pcp, ["Kim", "Lee"][member], f"{SURNAMES[index]}-{'AB'[member]}")
    first = worker_start(worker_env, f"payouts-a-{os.getpid()}")
    try:
        run = services.payout_run_start(period=Period(2026, 2), actor=None, today=FEB_PAYOUT_DAY)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if run.rendered_count >= 2:
                break
            time.sleep(0.02)
        first.kill()  # SIGKILL, mid-run
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            first.kill()
    run.refresh_from_db()
    assert run.status == "rendering"
    assert 2 <= run.rendered_count < CLINICS, "the worker finished before it was killed"
    # The queued and unacknowledged messages are lost too (as when Redis restarts): only
    # `run_payouts` resuming the run from the database can finish it — and it must.
    queue_forget(worker_env)
    second = worker_start(worker_env, f"payouts-b-{os.getpid()}")
    try:
        out = io.StringIO()
        call_command("run_payouts", "--period", "2026-02", "--wait", "--timeout", "180", stdout=out)
    finally:
        second.terminate()
        second.wait(timeout=30)
    assert (
        out.getvalue()
        .strip()
        .endswith(
            f"Payout 2026-02 completed: {CLINICS} statements, {CLINICS * 2} member-months, total 1,800.00"
        )
    )
    run.refresh_from_db()
    statements = list(Statement.objects.filter(run=run).order_by("check_number"))
    assert len({s.clinic_id for s in statements}) == len(statements) == CLINICS
    assert [s.check_number for s in statements] == list(range(100001, 100001 + CLINICS))
    assert all(s.rendered_at and len(s.sha256) == 64 for s in statements)
    assert PaidOutMonth.objects.count() == CLINICS * 2
    assert (run.rendered_count, run.total) == (CLINICS, sum(s.amount for s in statements))
    assert services.reconciliation(run).balances
    # The PDF's member list is the stored roster, in last-name order.
    statement = statements[0]
    text = "\n".join(page.extract_text() for page in PdfReader(statement.pdf.open("rb")).pages)
    lines = list(
        StatementLine.objects.filter(statement=statement).order_by("last_name", "first_name")
    )
    positions = [text.index(line.member_number) for line in lines]
    assert positions == sorted(positions)
    for line in lines:
        assert f"{line.last_name}, {line.first_name}" in text
    batch = PdfReader(run.print_batch.open("rb"))
    assert len(batch.pages) == sum(len(PdfReader(s.pdf.open("rb")).pages) for s in statements)
    report = "\n".join(page.extract_text() for page in PdfReader(run.report_pdf.open("rb")).pages)
    assert "Payout report — February 2026" in report
    assert "Reconciliation: balances" in report
    assert f"{CLINICS} statements · {CLINICS * 2} paid member-months · total $1,800.00" in report
    # Running the month again changes nothing.
    out = io.StringIO()
    call_command("run_payouts", "--period", "2026-02", stdout=out)
    assert "already completed: nothing changed" in out.getvalue()
    assert (PayoutRun.objects.count(), Statement.objects.count(), PaidOutMonth.objects.count()) == (
        1, CLINICS, CLINICS * 2,
    )  # fmt: skip
