"""Fixtures of the advocacy tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cooperative.celery import app as celery_app
from cooperative.roles import Role


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks queued by on_commit run in this process (no message is left in the shared Redis)."""
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture
def advocate(make_user: Any) -> Any:
    return make_user(Role.ADVOCATE)


@pytest.fixture
def other_advocate(make_user: Any) -> Any:
    return make_user(Role.ADVOCATE)
