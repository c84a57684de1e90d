"""Every page each demo role reaches, in a real browser: nothing overflows a phone's width
(390 px, the page never scrolls sideways) and axe-core finds no critical or serious problem at
the phone's width nor at a laptop's (1366 px). Pages are found as the page sweep finds them
(tests/cooperative/test_page_sweep.py): by following links, a bounded number per URL shape.

axe-core comes from the `axe-playwright-python` package (its bundled `axe.min.js`, a test
dependency, never served to users). It is evaluated in the page through the DevTools protocol:
a <script> tag with its text would be refused by the strict Content-Security-Policy.
"""

from __future__ import annotations

import io
import re
from collections import Counter, deque
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client, override_settings

from cooperative.demo import DEMO_USERS
from tests.cooperative.test_page_sweep import SKIP, _shape

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
PER_SHAPE = 1  # the sweep visits 2 per shape; one keeps this test's time modest
MAX_PAGES = 60  # per role

# Django admin pages checked by axe (the admin's own templates with our base_site.html), at
# both widths: the index, a changelist with filters per app, and the change form of its first
# row. Staff use the admin on a desk, but a phone must still show every page without sideways
# scrolling of the page itself (wide result lists scroll inside their own box, as Django's do).
ADMIN_CHANGELISTS = [
    "/admin/members/member/?status__exact=active",
    "/admin/providers/clinic/",
    "/admin/credentialing/credentialingapplication/",
    "/admin/payouts/payoutrun/",
    "/admin/advocacy/case/",
    "/admin/cooperative/auditevent/",
]
# axe findings accepted on the admin pages, by axe rule id, each with its reason.
ADMIN_EXCEPTIONS: dict[str, str] = {}
# Pages each role starts from besides its landing page (staff who land in the admin).
STARTS = {"admin": ["/dashboard/"], "provider.services": ["/dashboard/", "/credentialing/"]}

_LINKS = """() => Array.from(document.querySelectorAll('a[href^="/"]'),
                              a => a.getAttribute('href'))"""
# The innermost elements that reach past the viewport's right edge (those inside a box that
# scrolls or clips aside), to name the culprit.
_WIDE_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth;
  const clipped = element => {
    for (let box = element.parentElement; box && box !== document.body; box = box.parentElement) {
      if (getComputedStyle(box).overflowX !== 'visible') return true;
    }
    return false;
  };
  const wide = Array.from(document.body.querySelectorAll('*')).filter(element => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && box.right > width + 1 && !clipped(element);
  });
  return wide.filter(element => !wide.some(other => other !== element && element.contains(other)))
    .slice(0, 3)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
              + (typeof e.className === 'string' && e.className.trim()
                 ? '.' + e.className.trim().split(/\\s+/).join('.') : ''));
}"""
_AXE_RUN = """async () => {
  const results = await axe.run(document, {resultTypes: ['violations']});
  return results.violations
    .filter(v => v.impact === 'critical' || v.impact === 'serious')
    .map(v => `${v.id} (${v.impact}): ${v.nodes.length}× e.g. ${v.nodes[0].target.join(' ')}`);
}"""


def _axe_script() -> str:
    from axe_playwright_python.base import AXE_FILE_PATH

    return AXE_FILE_PATH.read_text()


def _seed_demo(tmp_path: Any) -> None:
    with override_settings(DEBUG=True, MEDIA_ROOT=str(tmp_path)):  # DEBUG: demo users allowed
        call_command("seed_demo", "--members", "40", "--providers", "8", stdout=io.StringIO())


def _signed_in(page: Any, live_server: Any, username: str | None) -> None:
    """The browser holds the session of a finished sign-in (second step included), as the
    test client's force_login makes it: signing in through the pages has its own tests."""
    page.context.clear_cookies()
    if username is None:
        return
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


_NEXT_FRAME = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def _shape_of(url: str) -> str:
    """The sweep's shape (digits and query values masked), with the directory's slugs masked
    too: every practitioner's profile is one page to this test."""
    return re.sub(r"^/(providers|clinics)/[^/?]+/", r"/\1/S/", _shape(url))


def _axe_at(page: Any, viewport: dict[str, int]) -> list[str]:
    page.set_viewport_size(viewport)
    page.evaluate(_NEXT_FRAME)  # the page's own resize handlers have run
    return [f"axe at {viewport['width']}: {finding}" for finding in page.evaluate(_AXE_RUN)]


def _sweep(
    page: Any, live_server: Any, start: str, script: str, per_shape: Counter[str]
) -> tuple[dict, int]:
    """Visit the pages reachable from `start` (admin pages aside) at the phone's width; the
    problems found, by page. `per_shape` counts the shapes visited across roles: a public page
    (the directory, a profile) looks the same to every role, and is visited once."""
    found: dict[str, list[str]] = {}
    seen: set[str] = set()
    queue = deque([start])
    visited = 0
    while queue and visited < MAX_PAGES:
        url = urlsplit(queue.popleft())._replace(fragment="").geturl()
        path = urlsplit(url).path
        if url in seen or SKIP.search(path) or path.startswith("/admin/"):
            continue
        seen.add(url)
        shape = _shape_of(url)
        if per_shape[shape] >= PER_SHAPE and url != start:
            continue
        per_shape[shape] += 1
        page.set_viewport_size(PHONE)
        try:
            response = page.goto(live_server.url + url, wait_until="domcontentloaded")
        except Exception:  # noqa: BLE001 (a file download: not a page)
            continue
        if response is None or response.status != 200:
            continue
        if "text/html" not in (response.headers.get("content-type") or ""):
            continue
        visited += 1
        problems = []
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            culprits = ", ".join(page.evaluate(_WIDE_ELEMENTS))
            problems.append(f"{width} px wide at {PHONE['width']} ({culprits})")
        page.evaluate(script)
        problems += _axe_at(page, PHONE)
        problems += _axe_at(page, DESKTOP)
        if problems:
            found[url] = problems
        queue.extend(page.evaluate(_LINKS))
    return found, visited


def _site_findings(page: Any, live_server: Any, script: str) -> tuple[dict, int]:
    found: dict[str, dict] = {}
    per_shape: Counter[str] = Counter()
    total = 0
    for username in [None, *(demo.username for demo in DEMO_USERS)]:
        _signed_in(page, live_server, username)
        lands_on = next((d.lands_on for d in DEMO_USERS if d.username == username), "/")
        for start in STARTS.get(username or "", [lands_on]):
            role_found, visited = _sweep(page, live_server, start, script, per_shape)
            assert visited >= 1, f"{username}: {start} is not a page"
            total += visited
            if role_found:
                found.setdefault(username or "anonymous", {}).update(role_found)
    return found, total


def _admin_findings(page: Any, live_server: Any, script: str) -> tuple[dict, int]:
    _signed_in(page, live_server, "admin")
    found: dict[str, list[str]] = {}
    pages = ["/admin/", *ADMIN_CHANGELISTS]
    for url in pages:
        response = page.goto(live_server.url + url, wait_until="domcontentloaded")
        assert response is not None, url
        assert response.status == 200, url
        page.evaluate(script)
        for finding in _axe_at(page, DESKTOP) + _axe_at(page, PHONE):
            if finding.split(": ")[1].split(" ")[0] not in ADMIN_EXCEPTIONS:
                found.setdefault(url, []).append(finding)
        width = page.evaluate("document.documentElement.scrollWidth")  # at the phone's width
        if width > PHONE["width"]:
            wide = ", ".join(page.evaluate(_WIDE_ELEMENTS))
            found.setdefault(url, []).append(f"{width}px wide at 390 ({wide})")
        if url in ADMIN_CHANGELISTS:  # then the change form of its first row
            first_row = page.locator("#result_list tbody tr a[href^='/admin/']").first
            if first_row.count():
                pages.append(first_row.get_attribute("href"))
    return found, len(pages)


def _phone_search_problems(page: Any, live_server: Any) -> list[str]:
    """The directory on a phone: the filters fold behind their button, a search brings the
    results' top into view (and focus); on a laptop the filters are open, the button hidden.
    A table's cells carry their column's header, and no table scrolls inside a box."""
    problems = []
    _signed_in(page, live_server, None)
    page.set_viewport_size(DESKTOP)
    page.goto(live_server.url + "/providers/")
    if not page.get_by_label("ZIP code").is_visible():
        problems.append("the directory's filters are folded on a laptop")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + "/providers/")
    if page.get_by_label("ZIP code").is_visible():
        problems.append("the directory's filters are open on a phone")
    page.locator(".filters-fold > summary").click()
    page.get_by_label("ZIP code").fill("77002")
    page.get_by_role("button", name="Search").click()
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'results'"
    )
    top = page.evaluate("document.getElementById('results').getBoundingClientRect().top")
    if not -2 <= top < 50:
        problems.append(f"after a search on a phone the results start {top} px down the screen")
    _signed_in(page, live_server, "provider")
    page.goto(live_server.url + "/provider/panel/")
    labels = (
        page.locator("#main table.data tbody tr")
        .first.locator("td")
        .evaluate_all("cells => cells.map(c => c.dataset.label)")
    )
    if labels[:2] != ["Member", "Member number"]:
        problems.append(f"the panel's cells are labelled {labels}")
    boxed = page.evaluate(
        "Array.from(document.querySelectorAll('.table-wrap'))"
        ".filter(w => w.scrollHeight > w.clientHeight + 1).length"
    )
    if boxed:
        problems.append(f"{boxed} table(s) scroll inside their box on a phone")
    return problems


def test_no_page_overflows_a_phone_and_axe_finds_nothing_serious(page, live_server, tmp_path):
    """One test, so the demo is seeded once: the site's pages for every role, the admin's, and
    the directory's search on a phone."""
    _seed_demo(tmp_path)
    script = _axe_script()
    site, site_pages = _site_findings(page, live_server, script)
    admin, admin_pages = _admin_findings(page, live_server, script)
    assert site_pages >= 40, f"only {site_pages} pages reached"
    assert admin_pages >= 10, f"only {admin_pages} admin pages reached"
    assert (site, admin) == ({}, {})
    assert _phone_search_problems(page, live_server) == []
