"""API authentication by the tokens people create on /accounts/tokens/ (cooperative.ApiToken)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from .models import ApiToken


class ExpiringTokenAuthentication(BaseAuthentication):
    """`Authorization: Token <secret>` (or `Bearer <secret>`). An unknown, revoked or expired
    token, or one whose user is inactive, is refused with 401 and a message that says which;
    the 401 carries WWW-Authenticate, so an unauthenticated call is 401, never 403."""

    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple[Any, ApiToken] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in {k.encode() for k in self.keywords}:
            return None
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed("Invalid token header. No credentials provided.")
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed(
                "Invalid token header. Token string should not contain spaces."
            )
        try:
            secret = parts[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed(
                "Invalid token header. Token string should not contain invalid characters."
            ) from None
        return self.authenticate_credentials(secret)

    def authenticate_credentials(self, secret: str) -> tuple[Any, ApiToken]:
        token = (
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash_of(secret))
            .first()
        )
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        now = timezone.now()
        if token.revoked_at is not None:
            raise exceptions.AuthenticationFailed(
                "This token has been revoked. Create a new one at /accounts/tokens/."
            )
        if token.expires_at <= now:
            raise exceptions.AuthenticationFailed(
                f"This token expired on {token.expires_at:%Y-%m-%d %H:%M} UTC. "
                "Create a new one at /accounts/tokens/."
            )
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        # Imported here: DRF imports this module while it loads its settings, before the
        # kernel's services (which import DRF through the exceptions module) can load.
        from .services import api_token_mark_used

        api_token_mark_used(token=token, now=now)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        parts = get_authorization_header(request).split()
        return "Bearer" if parts and parts[0].lower() == b"bearer" else "Token"
