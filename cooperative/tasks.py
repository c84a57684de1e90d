"""Kernel Celery tasks."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

HEARTBEAT_KEY = "coopcare:beat:last"


@shared_task(name="cooperative.ping", soft_time_limit=5, time_limit=10, ignore_result=False)
def ping() -> str:
    """Answer 'pong': /healthz uses it to prove a worker is consuming the queue."""
    return "pong"


@shared_task(name="cooperative.heartbeat", soft_time_limit=5, time_limit=10, ignore_result=True)
def heartbeat() -> str:
    """Scheduled every minute by beat: records that beat and a worker are alive."""
    from .health import redis_client

    now = timezone.now().isoformat()
    redis_client().set(HEARTBEAT_KEY, now, ex=3600)
    return now
