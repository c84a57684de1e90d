"""The consent texts, one page per published version: what a member accepted, word for word."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .. import selectors


@require_GET
def consent_text(request: HttpRequest, kind: str, version: str) -> HttpResponse:
    """Public: the review step links here before anyone has an account."""
    text = selectors.consent_text_get(kind, version)
    if text is None:
        raise Http404("No such consent text.")
    current = selectors.consent_text_get(kind, selectors.CONSENT_TEXT_VERSION)
    return render(request, "members/consent_text.html", {"text": text, "current": current})
