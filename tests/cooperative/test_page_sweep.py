"""Every page a role can reach by following links, on the demo data: none fails (nor with odd
query values), and each is sound HTML for a screen reader — ids unique, every form control labelled, every image with
alternative text. (A template once swallowed a whole section into the page's <title>; the
pages were fine to the eye and wrong to a browser.)"""

from __future__ import annotations

import re
from collections import Counter, deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from cooperative.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

# Links not followed: signing out, files and machine interfaces (checked by their own tests),
# and admin pages that only confirm a delete nobody is allowed to make.
SKIP = re.compile(
    r"^/(accounts/logout|static/|media/|api/|fhir/|healthz)|/delete/$|\.(pdf|csv|txt|png)$"
)
PER_PATTERN = 2  # URLs visited per shape (digits and query values masked): bounded, still broad
MAX_PAGES = 400
CONTROLS = {"input", "select", "textarea"}
# A word where a number goes, a number past any database integer, markup and quotes.
ODD_VALUES = ("abc", "9" * 40, "'\"<x>")
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: list[str] = []
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str], bool]] = []
        self.images_without_alt: list[str] = []
        self._label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "a" and attributes.get("href", "").startswith("/"):
            self.links.append(attributes["href"])
        elif tag == "label":
            self._label_depth += 1
            if attributes.get("for"):
                self.label_for.add(attributes["for"])
        elif tag in CONTROLS:
            self.controls.append((tag, attributes, self._label_depth > 0))
        elif tag == "img" and "alt" not in attributes:
            self.images_without_alt.append(attributes.get("src", "?"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label" and self._label_depth:
            self._label_depth -= 1


def _problems_of(html: str, *, labels: bool) -> tuple[list[str], list[str]]:
    page = _Page()
    page.feed(html)
    problems = [f"duplicate id {i!r}" for i, n in Counter(page.ids).items() if n > 1]
    for tag, attributes, inside_label in page.controls if labels else []:
        if tag == "input" and attributes.get("type", "text") in UNLABELLED_TYPES:
            continue
        labelled = (
            inside_label
            or attributes.get("id", "\0") in page.label_for
            or attributes.get("aria-label")
            or attributes.get("aria-labelledby")
            or attributes.get("title")
        )
        if not labelled:
            problems.append(f"unlabelled <{tag} name={attributes.get('name')!r}>")
    problems += [f"image without alt: {src}" for src in page.images_without_alt]
    return problems, page.links


def _shape(url: str) -> str:
    parts = urlsplit(url)
    query = sorted(key for key, _ in parse_qsl(parts.query, keep_blank_values=True))
    return re.sub(r"\d+", "N", parts.path) + "?" + urlencode([(k, "") for k in query])


def _get(client: Client, url: str) -> tuple[Any, str]:
    """The response, or why it is a failure. In a savepoint: a database error is a finding,
    not the end of the test's transaction."""
    try:
        with transaction.atomic():
            response = client.get(url)
    except Exception as error:  # noqa: BLE001 (a page that raises is the finding)
        return None, f"raised {type(error).__name__}: {str(error)[:200]}"
    if response.status_code >= 500:
        return response, f"status {response.status_code}"
    return response, ""


def _odd_parameters_fail(client: Client, url: str) -> list[str]:
    """The page's own query parameters, and `page`, given values nobody should send."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    failures = []
    for key in dict.fromkeys([*query, "page"]):
        for odd in ODD_VALUES:
            variant = f"{parts.path}?{urlencode({**query, key: odd})}"
            _, failure = _get(client, variant)
            if failure:
                failures.append(f"{key}={odd!r}: {failure}")
    return failures


def _crawl(client: Client, start: str) -> tuple[dict[str, list[str]], int]:
    seen_urls: set[str] = set()
    per_shape: Counter[str] = Counter()
    queue = deque([start])
    found: dict[str, list[str]] = {}
    parents: dict[str, str] = {start: "the start"}
    visited = 0
    while queue and visited < MAX_PAGES:
        url = urlsplit(queue.popleft())._replace(fragment="").geturl()
        if url in seen_urls or SKIP.search(urlsplit(url).path):
            continue
        seen_urls.add(url)
        shape = _shape(url)
        if per_shape[shape] >= PER_PATTERN:
            continue
        per_shape[shape] += 1
        visited += 1
        response, failure = _get(client, url)
        if failure:
            found[url] = [failure]
            continue
        if response.status_code in (403, 404) and not url.startswith("/admin/"):
            # Our pages offer only what the user may open. (The admin links read-only foreign
            # keys without asking: Django's own behaviour, left as it is.)
            found[url] = [f"linked from {parents[url]} but answers {response.status_code}"]
            continue
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        # The admin keeps Django's own markup (tabular inlines label their cells by the column
        # header only): there it is the failures and the ids that are checked.
        problems, links = _problems_of(
            response.content.decode(), labels=not url.startswith("/admin/")
        )
        if not url.startswith("/admin/"):
            problems += _odd_parameters_fail(client, url)
        if problems:
            found[url] = problems
        queue.extend(links)
        for link in links:
            parents.setdefault(urlsplit(link)._replace(fragment="").geturl(), url)
    return found, visited


@pytest.mark.parametrize("username", [None, *(demo.username for demo in DEMO_USERS)])
def test_every_reachable_page_renders_and_is_sound_html(demo_data, settings, username):
    settings.MEDIA_ROOT = str(demo_data)
    client = Client()
    start = "/"
    if username:
        client.force_login(get_user_model().objects.get(username=username))
        start = next(demo.lands_on for demo in DEMO_USERS if demo.username == username)
    found, visited = _crawl(client, start)
    assert visited >= 5, f"only {visited} pages reached from {start}"
    summary = Counter(problem for problems in found.values() for problem in problems)
    assert found == {}, summary.most_common(40)
