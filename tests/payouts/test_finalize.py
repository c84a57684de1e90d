"""Finalizing a run: the reconciliation, the positive-pay file, then the print batch and the
run report built by two tasks side by side; the last of them completes the run. A part that
exists is never built twice; a failed part is rebuilt on resume, the other one kept."""

import io

import pytest
from pypdf import PdfReader

from cooperative.periods import Period
from payouts import services
from payouts.models import PayoutRun, PayoutRunStatus
from tests.members.factories import make_pcp, make_plan
from tests.payouts.factories import FEB_PAYOUT_DAY, make_bank_account, member_paying

FEB = Period(2026, 2)


@pytest.fixture
def rendered_run(db, eager_tasks):
    """February snapshotted and every statement rendered; finalize not yet queued."""
    make_plan()
    make_bank_account()
    alpha, beta = make_pcp(), make_pcp()
    member_paying(alpha, "Ben", "Young")
    member_paying(beta, "Ana", "Zamora")
    member_paying(beta, "Cy", "Abbott")
    run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    services.payout_run_snapshot(run_id=run.pk, today=FEB_PAYOUT_DAY)
    queued = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "_enqueue", lambda task, object_id: queued.append(task))
        for statement in run.statements.order_by("pk"):
            assert services.statement_render(statement_id=statement.pk) is True
    assert queued == ["payouts.run_finalize"]
    run.refresh_from_db()
    return run


def test_finalize_writes_positive_pay_then_queues_the_two_long_parts(
    rendered_run, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(services, "_enqueue", lambda task, object_id: queued.append(task))
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_finalize(run_id=rendered_run.pk)
    run = PayoutRun.objects.get(pk=rendered_run.pk)
    assert run.status == PayoutRunStatus.FINALIZING
    assert queued == ["payouts.print_batch_build", "payouts.run_report_build"]
    assert run.positive_pay.read().decode().splitlines() == [
        "account,check_number,amount,issue_date,payee,action",
        *[
            f"000123456789,{s.check_number},{s.amount:.2f},2026-02-27,{s.payee_name},I"
            for s in run.statements.order_by("check_number")
        ],
    ]
    assert not run.print_batch
    assert not run.report_pdf
    assert run.completed_at is None

    # One part alone does not complete the run.
    services.payout_run_part_build(run_id=run.pk, part="report_pdf")
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINALIZING
    assert run.report_pdf
    assert not run.print_batch
    report_name = run.report_pdf.name

    # The second part completes it; the print batch is every statement in check-number order.
    services.payout_run_part_build(run_id=run.pk, part="print_batch")
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.COMPLETED
    assert run.completed_at is not None
    assert run.report_pdf.name == report_name
    batch = PdfReader(io.BytesIO(run.print_batch.read()))
    statements = list(run.statements.order_by("check_number"))
    pages = [len(PdfReader(io.BytesIO(s.pdf.read())).pages) for s in statements]
    assert len(batch.pages) == sum(pages)
    assert [item.title for item in batch.outline] == [
        f"{s.check_number} {s.payee_name}" for s in statements
    ]
    assert f"CHECK NO.\n{statements[0].check_number}" in batch.pages[0].extract_text()
    assert list(run.events.values_list("to_status", flat=True).order_by("pk"))[-2:] == [
        "finalizing",
        "completed",
    ]


def test_a_part_delivered_twice_is_built_once_and_changes_nothing(
    rendered_run, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_finalize(run_id=rendered_run.pk)  # eager: both parts run
    run = PayoutRun.objects.get(pk=rendered_run.pk)
    assert run.status == PayoutRunStatus.COMPLETED
    files = (run.print_batch.name, run.report_pdf.name, run.positive_pay.name, run.completed_at)
    events = run.events.count()
    for part in ("print_batch", "report_pdf"):
        services.payout_run_part_build(run_id=run.pk, part=part)
    services.payout_run_finalize(run_id=run.pk)
    run.refresh_from_db()
    assert (
        run.print_batch.name,
        run.report_pdf.name,
        run.positive_pay.name,
        run.completed_at,
    ) == files
    assert run.events.count() == events


def test_a_failed_part_fails_the_run_and_resume_builds_only_what_is_missing(
    rendered_run, django_capture_on_commit_callbacks, monkeypatch
):
    from payouts import tasks

    def broken(run):
        raise OSError("disk full")

    monkeypatch.setitem(services._FINAL_PARTS, "report_pdf", ("report.pdf", broken))
    with (
        pytest.raises(OSError, match="disk full"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.payout_run_finalize(run_id=rendered_run.pk)
    run = PayoutRun.objects.get(pk=rendered_run.pk)
    assert run.status == PayoutRunStatus.FAILED
    assert run.last_error == "finalize (report_pdf): disk full"
    assert run.print_batch
    assert not run.report_pdf
    batch_name = run.print_batch.name

    monkeypatch.undo()
    built = []
    original = tasks.services.payout_run_part_build
    monkeypatch.setattr(
        tasks.services,
        "payout_run_part_build",
        lambda **kwargs: built.append(kwargs["part"]) or original(**kwargs),
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_resume(run=run)
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.COMPLETED
    assert built == ["report_pdf"]
    assert run.print_batch.name == batch_name
    assert run.report_pdf


def test_the_report_is_built_while_statements_render_and_only_the_batch_is_left(
    db, eager_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    make_plan()
    make_bank_account()
    member_paying(make_pcp(), "Ben", "Young")
    member_paying(make_pcp(), "Ana", "Zamora")
    queued = []
    monkeypatch.setattr(services, "_enqueue", lambda task, object_id: queued.append(task))
    with django_capture_on_commit_callbacks(execute=True):
        run = services.payout_run_start(period=FEB, actor=None, today=FEB_PAYOUT_DAY)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_snapshot(run_id=run.pk, today=FEB_PAYOUT_DAY)
    assert (
        queued
        == ["payouts.run_snapshot", "payouts.run_report_build"] + ["payouts.statement_render"] * 2
    )

    run = services.payout_run_part_build(run_id=run.pk, part="report_pdf")
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.RENDERING
    assert run.report_pdf
    services.payout_run_part_build(run_id=run.pk, part="print_batch")
    run.refresh_from_db()
    assert not run.print_batch  # no batch before every statement is rendered

    queued.clear()
    for statement in run.statements.order_by("pk"):
        services.statement_render(statement_id=statement.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.payout_run_finalize(run_id=run.pk)
    assert queued == ["payouts.run_finalize", "payouts.print_batch_build"]
    services.payout_run_part_build(run_id=run.pk, part="print_batch")
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.COMPLETED
