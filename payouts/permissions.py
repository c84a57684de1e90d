"""Who may do what with payouts: Finance runs them; a provider sees its own clinic's statements."""

from __future__ import annotations

from typing import Any

from cooperative.permissions import has_role
from cooperative.roles import Role
from providers.permissions import clinic_of_provider

from .models import Statement


def can_run_payouts(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False)) or has_role(user, Role.FINANCE)


def can_view_statement(user: Any, statement: Statement) -> bool:
    if can_run_payouts(user):
        return True
    clinic_id = clinic_of_provider(user)
    return (
        clinic_id is not None
        and clinic_id == statement.clinic_id
        and statement.run.status == "completed"
    )
