"""The single way to write the audit log (append-only; see AuditEvent)."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.http import HttpRequest

from .models import AuditAction, AuditEvent


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    request_id: str
    path: str


# Set by RequestContextMiddleware so services can audit without being handed the request.
current_request: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "coopcare_request", default=None
)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the one helper for the audit log, the login lockout (axes) and the
    API throttles. With `TRUSTED_PROXY_COUNT` = N proxies in front of the app, the client is the
    right-most address those N proxies did not add: X-Forwarded-For's entries then REMOTE_ADDR,
    counted N + 1 from the right. With 0 (a direct deployment) X-Forwarded-For is ignored, so a
    client cannot choose its own address by sending the header."""
    from django.conf import settings
    from django.core.validators import validate_ipv46_address

    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    chain = [request.META.get("REMOTE_ADDR", "")]
    if proxies > 0:
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        chain = [hop for hop in forwarded if hop] + chain
    candidate = chain[-min(proxies + 1, len(chain))]
    if not candidate:
        return None
    try:
        validate_ipv46_address(candidate)
    except Exception:
        return None
    return candidate


def request_context_from(request: HttpRequest) -> RequestContext:
    return RequestContext(
        ip_address=client_ip(request),
        request_id=str(getattr(request, "request_id", "")),
        path=request.path[:300],
    )


def user_or_none(actor: Any) -> Any:
    """The acting user for a foreign key, or None for the system (a beat job, a worker)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def audit_record(
    *,
    actor: Any,
    action: AuditAction | str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: str = "",
    request: HttpRequest | None = None,
) -> AuditEvent:
    """Append one audit row: who (actor and role), what (action, object), when, from where."""
    from .permissions import primary_role

    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = obj.pk
    context = request_context_from(request) if request is not None else current_request.get()
    is_user = actor is not None and getattr(actor, "is_authenticated", False)
    role = primary_role(actor) if is_user else None
    return AuditEvent.objects.create(
        actor=actor if is_user else None,
        actor_username=actor.get_username() if is_user else "",
        role=str(role) if role else ("superuser" if is_user and actor.is_superuser else ""),
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        ip_address=context.ip_address if context else None,
        request_id=context.request_id if context else "",
        path=context.path if context else "",
        detail=detail[:300],
    )


def record_denied(request: HttpRequest, *, detail: str = "") -> AuditEvent:
    """A permission refusal (403), recorded from day one."""
    user = getattr(request, "user", None)
    return audit_record(actor=user, action=AuditAction.DENIED, detail=detail, request=request)
