"""Fixtures of the credentialing tests."""

from __future__ import annotations

from typing import Any

import pytest

from cooperative.roles import Role
from tests.providers.factories import LocationFactory, PractitionerFactory


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
