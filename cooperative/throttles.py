"""Throttles that know the client by the same address as the audit log and the login lockout
(`cooperative.audit.client_ip`: the trusted-proxy rule), never by a header the client can set
itself — for the API (DRF's default throttle classes) and for public pages (`throttle_page`).

The throttle history lives in the default cache (Redis). When the cache cannot be reached the
request is answered 503 with `Retry-After` (JSON for the API, a page for HTML), never 500 and
never let through unthrottled."""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from redis.exceptions import RedisError
from rest_framework.exceptions import APIException
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

from .audit import client_ip

logger = logging.getLogger(__name__)

# Seconds a client is asked to wait when the throttle history cannot be read.
CACHE_DOWN_RETRY_AFTER = 30
# What the cache raises when Redis is down or too slow (connection refused, socket timeout).
CACHE_ERRORS: tuple[type[BaseException], ...] = (RedisError, OSError)


class ThrottleUnavailable(APIException):
    """503: the throttle's history (Redis) cannot be read, so the request is not served."""

    status_code = 503
    default_detail = (
        "The service is briefly unavailable (rate limiting cannot be checked). Try again shortly."
    )
    default_code = "throttle_unavailable"
    wait = CACHE_DOWN_RETRY_AFTER  # DRF's handler turns `wait` into Retry-After


class _CacheDownIsUnavailable:
    """Mixin: a cache error while counting becomes `ThrottleUnavailable` (503), not a 500."""

    def allow_request(self, request: Any, view: Any) -> bool:
        try:
            return super().allow_request(request, view)  # type: ignore[misc]
        except CACHE_ERRORS as error:
            logger.warning("throttle cache unavailable: %s", error)
            raise ThrottleUnavailable() from error

    def get_rate(self) -> str | None:
        # Read the rates when asked (not frozen at import), so a settings change is honoured.
        scope = getattr(self, "scope", None)
        rate = getattr(type(self), "rate", None)
        if rate is not None:
            return str(rate)
        rates: dict[str, Any] = api_settings.DEFAULT_THROTTLE_RATES
        rate = rates.get(str(scope)) if scope else None
        return None if rate is None else str(rate)


class ClientAddressAnonThrottle(_CacheDownIsUnavailable, AnonRateThrottle):
    """Anonymous requests counted per client address (the trusted-proxy rule); rate `anon`."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


class ClientAddressUserThrottle(_CacheDownIsUnavailable, UserRateThrottle):
    """Signed-in requests counted per user (anonymous ones per client address); rate `user`."""

    def get_ident(self, request: Any) -> str:
        return client_ip(request) or "unknown"


class ClientAddressScopedThrottle(_CacheDownIsUnavailable, SimpleRateThrottle):
    """Requests counted per client address under the class's `scope` (signed in or not)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ip(request) or "unknown"}


def throttle_page(
    throttle_class: type[SimpleRateThrottle], *, methods: tuple[str, ...] = ("POST",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Throttle a page view with the same DRF throttle class (and history) as the API: over the
    rate, a 429 page saying when to try again; the history unreadable, a 503 page. Only the
    listed methods are counted."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                throttle = throttle_class()
                try:
                    allowed = throttle.allow_request(request, None)  # type: ignore[arg-type]
                except ThrottleUnavailable:
                    return _refusal(request, 503, CACHE_DOWN_RETRY_AFTER)
                if not allowed:
                    return _refusal(request, 429, math.ceil(throttle.wait() or 1))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _refusal(request: HttpRequest, status: int, retry_after: int) -> HttpResponse:
    response = render(
        request,
        "cooperative/throttled.html",
        {"status": status, "retry_after": retry_after},
        status=status,
    )
    response["Retry-After"] = str(retry_after)
    return response
