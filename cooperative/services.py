"""Kernel writes: API tokens (created and revoked by their owner, revoked by a superuser)."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .audit import audit_record
from .exceptions import ApplicationError, ConflictError
from .models import ApiToken, AuditAction
from .permissions import can_manage_api_tokens, can_revoke_api_token

# How often last_used_at is written at most: one UPDATE a minute per token, not one per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def api_token_max_days() -> int:
    return int(settings.API_TOKEN_MAX_DAYS)


@transaction.atomic
def api_token_create(*, user: Any, label: str, expires_at: datetime) -> tuple[ApiToken, str]:
    """A new token for the user, who must be staff or a provider; returns the token and its
    secret, which is not stored and cannot be shown again. The expiry is required, in the
    future and at most API_TOKEN_MAX_DAYS away."""
    if not can_manage_api_tokens(user):
        raise ApplicationError("Only staff and providers can have API tokens.", status_code=403)
    label = " ".join(label.split())
    if not label:
        raise ApplicationError(
            "Give the token a name.", errors={"label": ["Give the token a name."]}
        )
    if len(label) > 100:
        message = "Keep the name to 100 characters or fewer."
        raise ApplicationError(message, errors={"label": [message]})
    now = timezone.now()
    max_days = api_token_max_days()
    if expires_at <= now:
        message = "The expiry must be in the future."
        raise ApplicationError(message, errors={"expires_at": [message]})
    if expires_at > now + timedelta(days=max_days):
        message = f"A token can last at most {max_days} days."
        raise ApplicationError(message, errors={"expires_at": [message]})
    secret = secrets.token_urlsafe(36)  # 48 characters
    token = ApiToken.objects.create(
        user=user,
        label=label,
        prefix=secret[: ApiToken.PREFIX_LENGTH],
        key_hash=ApiToken.hash_of(secret),
        created_at=now,
        expires_at=expires_at,
    )
    audit_record(
        actor=user,
        action=AuditAction.CREATE,
        obj=token,
        detail=f"API token {token.prefix}… created, expires {expires_at:%Y-%m-%d %H:%M} UTC",
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    """Revoke a token now (its owner, or a superuser for anyone's). It stops working at once
    and stays listed as revoked; revoking twice is refused."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if not can_revoke_api_token(actor, token):
        raise ApplicationError("You cannot revoke this token.", status_code=404)
    if token.revoked_at is not None:
        raise ConflictError(f"The token “{token.label}” is already revoked.")
    token.revoked_at = timezone.now()
    token.revoked_by = actor
    token.save(update_fields=["revoked_at", "revoked_by"])
    owner = "" if actor.pk == token.user_id else f" (owner user #{token.user_id})"
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=token,
        detail=f"API token {token.prefix}… revoked{owner}",
    )
    return token


def api_token_mark_used(*, token: ApiToken, now: datetime) -> None:
    """Note when a token was last used: one conditional UPDATE, at most once a minute (a busy
    integration does not write on every request, and two requests at once do not conflict)."""
    if token.last_used_at is not None and token.last_used_at > now - LAST_USED_PRECISION:
        return
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_PRECISION)
    ).update(last_used_at=now)
    token.last_used_at = now
