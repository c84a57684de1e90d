"""The provider portal's panel: the members who chose the clinic's practitioners as their PCP,
from when, paid through which month; as a page and as CSV. Every read is audited."""

from __future__ import annotations

import csv
import io

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from cooperative.audit import audit_list_read
from cooperative.permissions import role_required
from cooperative.roles import Role
from providers.permissions import clinic_of_provider

from .. import selectors
from ..models import Member


def _clinic_id(request: HttpRequest) -> int:
    clinic_id = clinic_of_provider(request.user)
    if clinic_id is None:
        raise Http404("Your account is not linked to a clinic yet: ask provider services.")
    return clinic_id


@never_cache
@role_required(Role.PROVIDER)
def provider_panel(request: HttpRequest) -> HttpResponse:
    """The clinic's current panel (and members starting next month), 50 a page."""
    clinic_id = _clinic_id(request)
    today = timezone.localdate()
    panel = selectors.clinic_panel(clinic_id, today)
    page = Paginator(panel, 50).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    audit_list_read(
        request, model=Member, ids=[a.member_id for a in page], what=f"panel of clinic {clinic_id}"
    )
    return render(
        request, "members/provider_panel.html",
        {"page_obj": page, "today": today, "total": page.paginator.count, "nav": "panel"},
    )  # fmt: skip


@never_cache
@role_required(Role.PROVIDER)
def provider_panel_csv(request: HttpRequest) -> HttpResponse:
    """The whole panel as CSV (member number, name, date of birth, PCP, from, paid through)."""
    clinic_id = _clinic_id(request)
    today = timezone.localdate()
    rows = list(selectors.clinic_panel(clinic_id, today))
    audit_list_read(
        request, model=Member, ids=[a.member_id for a in rows],
        what=f"panel of clinic {clinic_id} (CSV)",
    )  # fmt: skip
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["member_number", "last_name", "first_name", "date_of_birth", "pcp_npi",
                     "pcp_name", "location", "pcp_from", "paid_through"])  # fmt: skip
    for a in rows:
        writer.writerow([
            a.member.member_number, a.member.last_name, a.member.first_name,
            a.member.date_of_birth.isoformat(), a.practitioner.npi,
            f"{a.practitioner.first_name} {a.practitioner.last_name}",
            a.practitioner_role.location.name, a.effective_from.isoformat(),
            paid.strftime("%Y-%m") if (paid := getattr(a, "paid_through", None)) else "",
        ])  # fmt: skip
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="panel-{today.isoformat()}.csv"'
    return response
