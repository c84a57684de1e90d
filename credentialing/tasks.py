"""Celery entry points of the credentialing app (ids in, one service call each)."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from . import services


@shared_task(name="credentialing.decision_letter_render", soft_time_limit=110, time_limit=120)
def decision_letter_render(decision_id: int) -> str:
    """Render and keep a committee decision's letter (idempotent: a second run changes nothing)."""
    return services.decision_letter_store(decision_id=decision_id).letter_sha256


@shared_task(name="credentialing.monitoring_daily", soft_time_limit=1700, time_limit=1800)
def monitoring_daily() -> dict[str, Any]:
    """Daily: expirables (90/60/30-day tasks; expired suspends), recredentialing, letters due."""
    summary = services.expirables_check()
    opened = services.recredentialing_open_due()
    return {
        "warnings_raised": summary.warnings_raised,
        "expired_raised": summary.expired_raised,
        "suspended": len(summary.suspended),
        "recredentialing_opened": len(opened),
        "notifications_due": services.notifications_due(),
    }


@shared_task(name="credentialing.screening_run_execute", soft_time_limit=1700, time_limit=1800)
def screening_run_execute(run_id: int) -> dict[str, Any]:
    """Screen everyone against an uploaded exclusion file (idempotent per run)."""
    from .services.exclusions import screening_run_execute as execute

    run = execute(run_id=run_id)
    return {"run": run.pk, "status": run.status, "hits": run.hits}


@shared_task(name="credentialing.screening_monthly", soft_time_limit=3500, time_limit=3600)
def screening_monthly() -> list[int]:
    """Monthly: screen every active practitioner and clinic again against the latest file of each source."""
    from .services.exclusions import screening_rescreen_latest

    return [run.pk for run in screening_rescreen_latest()]
