"""Kernel reads."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from .models import AuditAction, AuditEvent


def sign_in_history_for(user: Any) -> QuerySet[AuditEvent]:
    """The user's own sign-ins, sign-outs and failed attempts with their username, newest first."""
    return AuditEvent.objects.filter(
        Q(actor=user, action__in=[AuditAction.LOGIN, AuditAction.LOGOUT])
        | Q(action=AuditAction.LOGIN_FAILED, detail=f"username={user.get_username()}")
    ).order_by("-occurred_at", "-id")
