"""Response headers every answer carries: Permissions-Policy, and Cache-Control: no-store on
everything that may carry PHI.

Cacheable are only: static files (WhiteNoise answers them before this middleware), responses
whose view set its own Cache-Control (public practitioner photos), and the public directory
(directory, profile and clinic pages, the FHIR directory) answered to someone not signed in.
Everything else - every page a signed-in person sees, every /api/ answer, every download - is
`no-store`. The Content-Security-Policy header is django-csp's (CONTENT_SECURITY_POLICY)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

# Paths the public may cache when nobody is signed in: the directory carries no PHI.
PUBLIC_CACHEABLE_PREFIXES = ("/providers/", "/clinics/", "/fhir/")


def is_publicly_cacheable(request: HttpRequest) -> bool:
    """An anonymous GET of the public directory (no session, no token: no PHI in the answer)."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated)
    return (
        request.method in ("GET", "HEAD")
        and not signed_in
        and "HTTP_AUTHORIZATION" not in request.META
        and request.path.startswith(PUBLIC_CACHEABLE_PREFIXES)
    )


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; no-store on every response that may carry PHI."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        if not response.has_header("Cache-Control") and not is_publicly_cacheable(request):
            add_never_cache_headers(response)
        return response
