"""Request id, request context for the audit log, and the staff idle timeout."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .audit import current_request, request_context_from
from .permissions import is_staff_member

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Give every request an id (kept from X-Request-ID when sane) and expose it to the audit log."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request.request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex  # type: ignore[attr-defined]
        token = current_request.set(request_context_from(request))
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


class StaffIdleTimeoutMiddleware:
    """Staff sessions end after STAFF_SESSION_IDLE_SECONDS without a request (PHI on screen)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or is_staff_member(user)):
            # Sliding expiry: every request pushes the end 30 minutes ahead.
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


# Paths an unverified session may still open: the second step itself, signing out, static files.
_MFA_OPEN_PREFIXES = (
    "/accounts/security/verify/",
    "/accounts/security/setup/",
    "/accounts/logout/",
    "/static/",
    "/healthz",
)


class TwoStepSignInMiddleware:
    """Staff (and members or providers who turned it on) reach nothing until the second step of
    sign-in is done: pages redirect to it (to its set-up at a staff member's first sign-in),
    API calls made with the session answer 403 in the API's error shape. Token-authenticated
    API calls carry no session and are unaffected (a token is made from a verified session)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from .mfa import mfa_is_required, mfa_is_verified

        path = request.path
        if (
            not path.startswith(_MFA_OPEN_PREFIXES)
            and mfa_is_required(request)
            and not mfa_is_verified(request)
        ):
            return self._second_step(request)
        return self.get_response(request)

    def _second_step(self, request: HttpRequest) -> HttpResponse:
        from urllib.parse import urlencode

        from django.http import HttpResponseRedirect, JsonResponse

        from .mfa import mfa_is_enabled

        if request.path.startswith("/api/"):
            from .audit import record_denied
            from .exceptions import error_body

            record_denied(request, detail="two-step sign-in not done")
            return JsonResponse(
                error_body(
                    "Two-step sign-in is required: finish signing in in the browser, or use an "
                    "API token."
                ),
                status=403,
            )
        target = "/accounts/security/verify/"
        if not mfa_is_enabled(request.user):
            target = "/accounts/security/setup/"
        next_url = request.get_full_path() if request.method == "GET" else "/accounts/home/"
        return HttpResponseRedirect(f"{target}?{urlencode({'next': next_url})}")
