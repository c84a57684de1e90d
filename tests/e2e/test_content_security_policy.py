"""The Content-Security-Policy in Chromium: a representative page of every part of the site
(public directory, enrollment, the member portal, the advocacy workspace with an htmx update,
a finance page with a chart, the admin's changelist and change form, the API docs) loads with
no violation reported by the browser."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from advocacy import services as advocacy_services
from cooperative.roles import Role
from tests.advocacy.factories import make_member
from tests.providers.factories import ClinicFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Every violation the page sees (the event fires for blocked scripts, styles, style attributes).
WATCH = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(
  `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber} ${e.sample}`));
"""


def _signed_in_context(browser, live_server, user):
    """A browser context carrying a session made by force_login (no sign-in form, no MFA)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                          "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                          "url": live_server.url}])  # fmt: skip
    context.add_init_script(WATCH)
    return context


def _violations(page, url) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__violations")


def test_pages_load_with_no_csp_violation(browser, live_server, make_user, reference_data):
    anonymous = browser.new_context()
    anonymous.add_init_script(WATCH)
    page = anonymous.new_page()
    seen = {}
    for path in ("/", "/providers/", "/enroll/", "/api/docs/"):
        seen[path] = _violations(page, live_server.url + path)
    assert page.locator(".swagger-ui").count() == 1  # the docs' init script ran
    anonymous.close()

    member_user = make_user(Role.MEMBER)
    member = make_member(first="Ines", last="Moreau", user=member_user)
    advocate = make_user(Role.ADVOCATE)
    case = advocacy_services.case_open(actor=advocate, member=member, case_type="other",
                                       summary="Billing question", source="phone", assignee=advocate)  # fmt: skip
    clinic = ClinicFactory()
    rounds = {
        member_user: ["/me/"],
        advocate: ["/advocacy/", f"/advocacy/cases/{case.pk}/"],
        make_user(Role.FINANCE): ["/finance/payouts/", "/credentialing/"],
        make_user(superuser=True): [
            "/admin/",
            "/admin/providers/clinic/",
            f"/admin/providers/clinic/{clinic.pk}/change/",
            "/admin/providers/practitioner/add/",
            "/admin/payouts/bankaccount/add/",
        ],
    }
    for user, paths in rounds.items():
        context = _signed_in_context(browser, live_server, user)
        page = context.new_page()
        for path in paths:
            seen[path] = _violations(page, live_server.url + path)
        if user == advocate:
            # An htmx update: the queue filter swaps the results in place.
            page.goto(live_server.url + "/advocacy/")
            with page.expect_response(
                lambda r: "/advocacy/" in r.url and r.request.headers.get("hx-request") == "true"
            ):
                page.locator("form.queue-filters select").first.select_option(index=1)
            page.wait_for_load_state("networkidle")
            seen["/advocacy/ (htmx)"] = page.evaluate("window.__violations")
        context.close()
    assert {path: found for path, found in seen.items() if found} == {}
    assert len(seen) == 15
