"""Kernel reads."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from .models import ApiToken, AuditAction, AuditEvent
from .roles import Role


def users_in_role(role: Role) -> QuerySet[Any]:
    """The active people holding `role` (its group, not superuser powers), sorted by name: who
    may be given that role's work (an advocate a case, provider services an application)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name=str(role))
        .order_by("first_name", "last_name", "username")
        .distinct()
    )


def is_active_in_role(user: Any, role: Role) -> bool:
    """True when `user` is an active person holding `role` (the check behind every assignee)."""
    if user is None or not getattr(user, "is_active", False) or not getattr(user, "pk", None):
        return False
    return users_in_role(role).filter(pk=user.pk).exists()


def person_name(user: Any) -> str:
    """How staff are shown in lists: the full name, else the username."""
    return str(user.get_full_name() or user.get_username())


def sign_in_history_for(user: Any) -> QuerySet[AuditEvent]:
    """The user's own sign-ins, sign-outs and failed attempts with their username, newest first."""
    return AuditEvent.objects.filter(
        Q(actor=user, action__in=[AuditAction.LOGIN, AuditAction.LOGOUT])
        | Q(action=AuditAction.LOGIN_FAILED, detail=f"username={user.get_username()}")
    ).order_by("-occurred_at", "-id")


def users_named(name: str) -> list[Any]:
    """The users whose username or email is `name` (any case): at most two, enough to tell
    one from several."""
    name = name.strip()
    return list(
        get_user_model().objects.filter(Q(username__iexact=name) | Q(email__iexact=name))[:2]
    )


def api_tokens_of(user: Any) -> QuerySet[ApiToken]:
    """The user's own API tokens (active, expired and revoked), newest first."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_of(user: Any, token_id: int) -> ApiToken | None:
    """One of the user's own tokens, or None (another user's token is not found, not refused)."""
    return ApiToken.objects.filter(user=user, pk=token_id).first()
