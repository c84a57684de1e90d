"""Celery entry points of the advocacy app (ids in, one service call each). Idempotent: the
services check state under row locks, so a task delivered twice does no harm."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(
    name="advocacy.notice_render",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=110,
    time_limit=120,
)
def notice_render(notice_id: int) -> str:
    """Render and keep a care-coordination notice letter (a second run changes nothing)."""
    return services.notice_render(notice_id=notice_id).sha256


@shared_task(name="advocacy.coordination_daily", soft_time_limit=1700, time_limit=1800)
def coordination_daily() -> dict[str, int]:
    """Daily: notices unanswered past their deadline (penalty applies), missed plan reviews."""
    return services.coordination_daily()
