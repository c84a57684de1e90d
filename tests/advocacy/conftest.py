"""Fixtures of the advocacy tests."""

from __future__ import annotations

from typing import Any

import pytest

from cooperative.roles import Role


@pytest.fixture
def advocate(make_user: Any) -> Any:
    return make_user(Role.ADVOCATE)


@pytest.fixture
def other_advocate(make_user: Any) -> Any:
    return make_user(Role.ADVOCATE)
