"""Celery entry points of the payouts app: ids in, one service call each. Idempotent: the
services check state under row locks, so a task delivered twice (or after a worker was
killed) does no harm."""

from __future__ import annotations

from celery import shared_task

from . import services


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
    """Print batch, positive-pay file, reconciliation; `completed`."""
    try:
        services.payout_run_finalize(run_id=run_id)
    except Exception as error:
        services.payout_run_fail(run_id=run_id, error=f"finalize: {error}")
        raise
