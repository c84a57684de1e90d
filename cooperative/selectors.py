"""Kernel reads."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from .models import AuditAction, AuditEvent


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
