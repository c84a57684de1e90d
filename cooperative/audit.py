"""The single way to write the audit log (append-only; see AuditEvent)."""

from __future__ import annotations

import contextvars
from collections.abc import Iterable
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
    if request is not None and str(action) in (AuditAction.VIEW, AuditAction.EXPORT):
        _mark_read_audited(request)
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


# --- Reads of member data (PHI) ---------------------------------------------------------------

# Query parameters whose values are typed by a person (a name, an email, a member number): the
# audit row says that a search was made, never what was searched for.
FREE_TEXT_PARAMETERS = frozenset({"q", "search", "term", "member_number", "npi", "email", "name"})
DETAIL_MAX = 300


def _underlying(request: Any) -> Any:
    """The Django HttpRequest behind a DRF Request (the flag lives on the one both share)."""
    return getattr(request, "_request", request)


def _mark_read_audited(request: Any) -> None:
    _underlying(request)._coopcare_read_audited = True


def read_is_audited(request: Any) -> bool:
    """Whether this request has already written its VIEW (or EXPORT) row."""
    return bool(getattr(_underlying(request), "_coopcare_read_audited", False))


def reader_is_audited(user: Any) -> bool:
    """Reads by staff (and superusers) and by providers are audited. A member reading their own
    household's records is not reading someone else's PHI (their portal records exports only)."""
    from .permissions import user_roles
    from .roles import Role

    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return set(user_roles(user)) != {Role.MEMBER} and bool(user_roles(user))


def query_description(params: Any) -> str:
    """The filters of a list read, safe for the audit log: parameter names with their values,
    except free text typed by a person (a search), which is named but never recorded."""
    parts = []
    for key in sorted(set(params.keys())):
        if key in {"page", "csrfmiddlewaretoken"}:
            continue
        values = (
            [str(v) for v in params.getlist(key)]
            if hasattr(params, "getlist")
            else [str(params[key])]
        )
        if key in FREE_TEXT_PARAMETERS or key.endswith("__icontains"):
            parts.append(f"{key}=<search>" if any(v.strip() for v in values) else f"{key}=")
        else:
            parts.append(f"{key}={','.join(v[:20] for v in values)}")
    return "&".join(parts)


def audit_read(
    request: HttpRequest,
    *,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    detail: str = "",
) -> AuditEvent | None:
    """One VIEW row for a staff or provider read of one record of member data (nothing for a
    member reading their own)."""
    user = getattr(request, "user", None)
    if not reader_is_audited(user):
        return None
    return audit_record(
        actor=user, action=AuditAction.VIEW, obj=obj, object_type=object_type,
        object_id=object_id, detail=detail, request=request,
    )  # fmt: skip


def list_read_detail(
    ids: Iterable[Any], *, what: str = "", params: Any = None, page: Any = None
) -> str:
    """`list[ <what>][; query <filters>][; page N]; ids 1,2,3` — or `; N rows` when the ids do
    not fit in the row's 300 characters."""
    shown = [str(pk) for pk in ids]
    head = "list" + (f" {what}" if what else "")
    query = query_description(params) if params is not None else ""
    if query:
        head += f"; query {query}"
    if page not in (None, "", 1, "1"):
        head += f"; page {str(page)[:12]}"
    head = head[: DETAIL_MAX - 40]
    with_ids = f"{head}; ids {','.join(shown)}" if shown else f"{head}; 0 rows"
    if len(with_ids) <= DETAIL_MAX:
        return with_ids
    return f"{head}; {len(shown)} rows"


def audit_list_read(
    request: HttpRequest,
    *,
    model: type[models.Model] | None = None,
    object_type: str = "",
    ids: Iterable[Any],
    what: str = "",
    params: Any = None,
) -> AuditEvent | None:
    """One VIEW row for a list of member data on one screen or API page: the model, the query
    (parameter names; never a search term) and the ids shown. `params` defaults to the request's
    GET parameters."""
    user = getattr(request, "user", None)
    if not reader_is_audited(user):
        return None
    if model is not None:
        object_type = model._meta.label_lower
    query = params if params is not None else getattr(request, "GET", None)
    page = query.get("page") if query is not None else None
    return audit_record(
        actor=user, action=AuditAction.VIEW, object_type=object_type,
        detail=list_read_detail(ids, what=what, params=query, page=page), request=request,
    )  # fmt: skip
