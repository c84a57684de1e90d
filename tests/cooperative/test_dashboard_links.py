"""Every figure of the staff dashboards (tiles and chart bars) is a link to the list of exactly
the records it counts: each link is followed, on the demo data, and the list's count must equal
the figure (the signed-in dashboard, credentialing's and advocacy's)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db


def _client(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def _linked(html: str, url: str) -> bool:
    return f'href="{url.replace("&", "&amp;")}"' in html


def _admin_count(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    assert "?e=" not in response.get("Location", ""), url  # the admin drops unknown filters
    return int(response.context["cl"].result_count)


def _workspace_count(client: Client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response.context["form"].is_valid(), (url, response.context["form"].errors)
    return int(response.context["page"].paginator.count)


def test_the_signed_in_dashboards_figures_open_lists_of_as_many_records(demo_data):
    checked = []
    for username in ("provider.services", "finance"):
        client = _client(username)
        response = client.get("/dashboard/")
        html = response.content.decode()
        for figure in response.context["figures"]:
            url = figure["url"]
            assert _linked(html, url), url
            if url.startswith("/admin/"):
                count = _admin_count(client, url)
            else:
                page = client.get(url).content.decode()
                anchor = url.split("#", 1)[1]
                section = page.split(f'id="{anchor}"', 1)[1].split("</div>", 1)[0]
                count = len(re.findall(r"<li>", section))
            assert count == figure["count"], (username, figure["label"], url)
            checked.append(figure["label"])
    assert sorted(set(checked)) == [
        "failed payout runs to resume",
        "members needing a new PCP",
        "memberships ending at 65 in the next 90 days",
        "month ready to pay out"
        if "month ready to pay out" in checked
        else "months ready to pay out",
    ]


def test_a_month_ready_to_pay_out_is_listed_on_the_payouts_page(make_user, client):
    """Outside the demo: no run yet, so last month (or two) is ready, and listed."""
    from cooperative.roles import Role
    from payouts.selectors import months_ready_to_pay_out

    client.force_login(make_user(Role.FINANCE))
    figures = client.get("/dashboard/").context["figures"]
    ready = next(f for f in figures if "ready to pay out" in f["label"])
    months, _failed = months_ready_to_pay_out()
    assert ready["count"] == len(months) >= 1
    page = client.get("/finance/payouts/").content.decode()
    section = page.split('id="ready-months"', 1)[1].split("</div>", 1)[0]
    assert [m.label for m in months] == re.findall(r"<li>([^<]+)</li>", section)


def test_credentialing_tiles_and_bars_open_lists_of_as_many_applications(demo_data):
    client = _client("provider.services")
    response = client.get("/credentialing/")
    html = response.content.decode()
    figures = response.context["figures"]
    changelist = "/admin/credentialing/credentialingapplication/"
    for status, _label, count in figures.counts:
        url = f"{changelist}?status__exact={status}"
        assert _linked(html, url)
        assert _admin_count(client, url) == count, status
    assert _linked(html, f"{changelist}?clock=overdue")
    assert _admin_count(client, f"{changelist}?clock=overdue") == figures.overdue_total
    tasks = "/admin/credentialing/stafftask/?status__exact=open"
    assert _linked(html, tasks)
    assert _admin_count(client, tasks) == figures.open_tasks
    bars = response.context["chart"]
    assert sum(bar["count"] for bar in bars) == figures.decided_count
    for bar in bars:
        assert _linked(html, bar["url"])
        assert _admin_count(client, bar["url"]) == bar["count"], bar["week"]


def test_advocacy_tiles_and_bars_open_workspace_lists_of_as_many_cases(demo_data):
    client = _client("advocate")
    response = client.get("/advocacy/dashboard/")
    html = response.content.decode()
    figures, charts, links = (response.context[k] for k in ("figures", "charts", "links"))

    assert _linked(html, links["open"])
    assert _workspace_count(client, links["open"]) == figures.open_total
    assert _linked(html, links["overdue"])
    assert _workspace_count(client, links["overdue"]) == figures.overdue_now
    assert _linked(html, links["savings"])
    assert _workspace_count(client, links["savings"]) == sum(
        n for _p, _t, n in figures.savings_by_month
    )

    expected: dict[str, list[int]] = {
        "by_type": [n for _v, _l, n in figures.open_by_type],
        "overdue": [n for _d, n in figures.overdue_trend],
        "resolution": [n for _p, _d, n in figures.resolution_by_month],
        "savings": [n for _p, _t, n in figures.savings_by_month],
    }
    followed: list[Any] = []
    for name, counts in expected.items():
        bars = charts[name]["bars"]
        assert len(bars) == len(counts)
        for bar, count in zip(bars, counts, strict=True):
            assert _linked(html, bar["url"]), bar["url"]
            assert _workspace_count(client, bar["url"]) == count, (name, bar["label"], bar["url"])
            followed.append(count)
    assert sum(followed) > 0  # the demo's cases are behind these bars, not only zeros


def test_the_workspace_names_a_dashboard_figure_and_refuses_a_bad_month(demo_data):
    client = _client("advocate")
    response = client.get("/advocacy/?queue=all&resolved_in=2026-11")
    assert "All cases, resolved in November 2026" in response.content.decode()
    bad = client.get("/advocacy/?queue=all&resolved_in=2026-13")
    assert bad.context["form"].errors == {"resolved_in": ["A month as YYYY-MM."]}
