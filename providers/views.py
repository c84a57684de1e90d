"""Public pages of the directory: search, practitioner profiles, clinic pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from .forms import DEFAULT_RADIUS_MILES, MAX_RADIUS_MILES, DirectorySearchForm
from .selectors import (
    clinic_public_get,
    practitioner_directory_page,
    practitioner_profile_get,
    public_price_list,
)

PAGE_SIZE = 20


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


@require_GET
def directory(request: HttpRequest) -> HttpResponse:
    """The directory: a GET form that works without JavaScript; htmx swaps only the results."""
    form = DirectorySearchForm(request.GET or None)
    page = None
    query = None
    if form.is_bound and form.is_valid():
        query = form.to_query()
    elif not form.is_bound:
        form = DirectorySearchForm({})
        form.is_valid()
        query = form.to_query()
    if query is not None:
        page = practitioner_directory_page(
            query, number=_page_number(request.GET.get("page")), page_size=PAGE_SIZE
        )
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form,
        "page_obj": page,
        "query": query,
        "querystring": params.urlencode(),
        "wider_radius": min(
            (query.radius_miles if query else DEFAULT_RADIUS_MILES) * 2, MAX_RADIUS_MILES
        ),
        "max_radius": MAX_RADIUS_MILES,
    }
    # htmx swaps the form and its results together, so field errors show next to their field.
    template = "providers/directory.html#directory" if request.htmx else "providers/directory.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@require_GET
def practitioner_profile(request: HttpRequest, slug: str) -> HttpResponse:
    practitioner = practitioner_profile_get(slug)
    if practitioner is None:
        raise Http404("No listed provider here.")
    return render(
        request,
        "providers/practitioner_profile.html",
        {"practitioner": practitioner, "agreement": public_price_list(practitioner)},
    )


@require_GET
def clinic_page(request: HttpRequest, slug: str) -> HttpResponse:
    clinic = clinic_public_get(slug)
    if clinic is None:
        raise Http404("No active clinic here.")
    return render(request, "providers/clinic_detail.html", {"clinic": clinic})
