"""Celery entry points of the payouts app: ids in, one service call each. Idempotent: the
services check state under row locks, so a task delivered twice (or after a worker was
killed) does no harm."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings

from . import services

logger = logging.getLogger(__name__)


@worker_process_init.connect
def _warm_up_renderer(**_: Any) -> None:
    """Each worker process loads WeasyPrint and the statement's fonts as it starts
    (PAYOUTS_WARM_WORKERS), not on the first statement of a run; never stops a worker."""
    if not getattr(settings, "PAYOUTS_WARM_WORKERS", True):
        return
    from .documents import warm_up

    try:
        warm_up()
    except Exception:
        logger.warning("The statement renderer could not be warmed up", exc_info=True)


@shared_task(name="payouts.run_snapshot", acks_late=True, soft_time_limit=1700, time_limit=1800)
def run_snapshot(run_id: int) -> None:
    """Take the run's snapshot (once), then queue one render task per statement."""
    try:
        services.payout_run_snapshot(run_id=run_id)
    except Exception as error:
        services.payout_run_fail(run_id=run_id, error=f"snapshot: {error}")
        raise


@shared_task(
    name="payouts.statement_render",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=900,
    time_limit=960,
)
def statement_render(statement_id: int) -> bool:
    """Render one statement (skipped if another worker has it or it is done)."""
    try:
        return services.statement_render(statement_id=statement_id)
    except Exception as error:
        services.statement_render_failed(statement_id=statement_id, error=str(error))
        raise


@shared_task(name="payouts.run_finalize", acks_late=True, soft_time_limit=1700, time_limit=1800)
def run_finalize(run_id: int) -> None:
    """Reconciliation, positive-pay and ACH files; queues the print batch and the report."""
    try:
        services.payout_run_finalize(run_id=run_id)
    except Exception as error:
        services.payout_run_fail(run_id=run_id, error=f"finalize: {error}")
        raise


def _part_build(run_id: int, part: str) -> None:
    try:
        services.payout_run_part_build(run_id=run_id, part=part)
    except Exception as error:
        services.payout_run_fail(run_id=run_id, error=f"finalize ({part}): {error}")
        raise


@shared_task(
    name="payouts.print_batch_build", acks_late=True, soft_time_limit=1700, time_limit=1800
)
def print_batch_build(run_id: int) -> None:
    """The run's print batch: every statement in check-number order, one PDF."""
    _part_build(run_id, "print_batch")


@shared_task(name="payouts.run_report_build", acks_late=True, soft_time_limit=1700, time_limit=1800)
def run_report_build(run_id: int) -> None:
    """The run report PDF (totals by state, clinic and practitioner; reconciliation)."""
    _part_build(run_id, "report_pdf")
