"""OpenAPI (drf-spectacular) description of the kernel's authentication."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ExpiringTokenScheme(OpenApiAuthenticationExtension):
    """Documents ExpiringTokenAuthentication as the API's token scheme."""

    target_class = "cooperative.authentication.ExpiringTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "A personal API token, created (with an expiry) and revoked at /accounts/tokens/. "
                'Send it as "Token <secret>" or "Bearer <secret>". An unknown, revoked or '
                "expired token is answered 401."
            ),
        }
