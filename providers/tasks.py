"""Celery entry points of the providers app (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="providers.agreements_roll", soft_time_limit=240, time_limit=300)
def agreements_roll() -> dict[str, int]:
    """Daily: activate accepted agreements whose term began; expire active ones past their end."""
    return services.agreements_roll()
