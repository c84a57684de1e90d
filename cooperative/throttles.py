"""API throttles that know the client by the same address as the audit log and the login
lockout (`cooperative.audit.client_ip`: the trusted-proxy rule), never by a header the client
can set itself."""

from __future__ import annotations

from typing import Any

from rest_framework.throttling import AnonRateThrottle

from .audit import client_ip


class ClientAddressAnonThrottle(AnonRateThrottle):
    """Anonymous requests counted per client address (the trusted-proxy rule)."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"
