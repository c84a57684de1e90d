"""Fixtures of the credentialing tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cooperative.celery import app as celery_app
from cooperative.roles import Role
from tests.providers.factories import LocationFactory, PractitionerFactory


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks queued by on_commit run in this process (no message is left in the shared Redis)."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def staff(make_user: Any) -> Any:
    return make_user(Role.PROVIDER_SERVICES)


@pytest.fixture
def location(db: Any) -> Any:
    return LocationFactory()


@pytest.fixture
def applicant(db: Any) -> Any:
    """A practitioner who applies: pending, not listed yet."""
    return PractitionerFactory(status="pending", first_name="Rosa", last_name="Delgado")
