"""Audit of sign-ins, sign-outs and failed sign-ins (security events, not business flow)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from .audit import audit_record
from .models import AuditAction


@receiver(user_logged_in)
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(actor=user, action=AuditAction.LOGIN, request=request)
    if request is not None and hasattr(request, "session"):
        from .mfa import mark_session_at_sign_in

        mark_session_at_sign_in(request, user)


@receiver(user_logged_out)
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=AuditAction.LOGOUT, request=request)


@receiver(user_login_failed)
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(
        actor=None, action=AuditAction.LOGIN_FAILED, detail=f"username={username}", request=request
    )


@receiver(post_migrate)
def sync_role_permissions(sender: Any, **kwargs: Any) -> None:
    """After every migrate, grant each role exactly the permissions listed in cooperative.roles."""
    from django.apps import apps

    # Run once, after the last app: by then every app's permissions exist.
    if getattr(sender, "name", "") != list(apps.get_app_configs())[-1].name:
        return
    from .roles import ensure_role_groups

    ensure_role_groups()
