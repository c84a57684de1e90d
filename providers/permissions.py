"""Permissions of the providers app (see STYLE.md: the rooms of an app)."""

from __future__ import annotations

from typing import Any

from cooperative.permissions import has_role
from cooperative.roles import Role


def clinic_of_provider(user: Any) -> int | None:
    """The clinic a Provider user answers for (None for anyone else): what the provider portal's
    pages (statements, panel, offers) are limited to."""
    if not has_role(user, Role.PROVIDER):
        return None
    account = getattr(user, "provider_account", None)
    return account.clinic_id if account is not None else None
