"""Staff pages of credentialing: the dashboard (the admin is the main workplace)."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from cooperative.audit import audit_list_read
from cooperative.permissions import role_required
from cooperative.roles import Role

from . import selectors
from .models import CLOCK_DAYS, VERIFICATION_MAX_AGE_DAYS, CredentialingApplication


def _chart(weekly: list[Any], *, since: date, today: date) -> list[dict[str, Any]]:
    """Bars of the median days from complete to decision, per week (server-drawn SVG), each a
    link to the admin list of that week's decisions."""
    top = max([m for _w, m, _n in weekly if m is not None] + [CLOCK_DAYS])
    changelist = reverse("admin:credentialing_credentialingapplication_changelist")
    bars = []
    for index, (week, median, count) in enumerate(weekly):
        height = int((median or 0) * 100 / top)
        url = f"{changelist}?{urlencode(selectors.decided_in_week_params(week, since=since, today=today))}"
        bars.append({"week": week, "median": median, "count": count, "x": index * 44 + 8,
                     "y": 110 - height, "height": height, "label_x": index * 44 + 24, "url": url,
                     "over": median is not None and median >= CLOCK_DAYS})  # fmt: skip
    return bars


@never_cache
@role_required(Role.PROVIDER_SERVICES)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Counts per stage, the overdue list, the median days to decision and open tasks."""
    today = timezone.localdate()
    figures = selectors.dashboard(today=today)
    # The overdue list names practitioners (their credentialing files are sensitive too).
    audit_list_read(
        request, model=CredentialingApplication, ids=[a.pk for a in figures.overdue], what="dashboard overdue"
    )  # fmt: skip
    chart = _chart(figures.weekly, since=figures.window_start or today, today=today)
    top = max([m for _w, m, _n in figures.weekly if m is not None] + [CLOCK_DAYS])
    return render(
        request,
        "credentialing/dashboard.html",
        {"figures": figures, "chart": chart, "chart_width": max(88, len(chart) * 44 + 16),
         "promise_y": 110 - int(CLOCK_DAYS * 100 / top), "clock_days": CLOCK_DAYS,
         "max_age": VERIFICATION_MAX_AGE_DAYS,
         "overdue": [(a, (today - a.due_on).days if a.due_on else 0) for a in figures.overdue], "tasks": list(selectors.open_tasks()[:20]),
         "nav": "credentialing"},
    )  # fmt: skip
