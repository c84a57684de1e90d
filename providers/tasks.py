"""Celery entry points of the providers app (ids in, one service call)."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="providers.agreements_roll", soft_time_limit=240, time_limit=300)
def agreements_roll() -> dict[str, int]:
    """Daily: activate accepted agreements whose term began; expire active ones past their end."""
    return services.agreements_roll()


@shared_task(name="providers.payer_contracts_roll", soft_time_limit=240, time_limit=300)
def payer_contracts_roll() -> dict[str, int]:
    """Daily: mark payer contracts renewal due ahead of their term's end; expire ended ones."""
    return services.payer_contracts_roll()
