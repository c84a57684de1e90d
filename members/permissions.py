"""Who may do what with member records (used by the portal pages and the API alike)."""

from __future__ import annotations

from typing import Any

from cooperative.permissions import has_role
from cooperative.roles import Role

from . import selectors
from .models import Member


def can_view_member(user: Any, member: Member) -> bool:
    """Staff who work with members, or the member's own household."""
    if has_role(user, Role.FINANCE, Role.PROVIDER_SERVICES, Role.ADVOCATE):
        return True
    viewer = selectors.member_for_user(user)
    return viewer is not None and selectors.household_of(viewer).filter(pk=member.pk).exists()


def can_change_household(user: Any, member: Member) -> bool:
    """Only the subscriber changes the household (PCPs, contact, cancellation)."""
    viewer = selectors.member_for_user(user)
    return (
        viewer is not None
        and viewer.subscriber_id is None
        and (member.pk == viewer.pk or member.subscriber_id == viewer.pk)
    )
