"""Content-Security-Policy (nonce-based, no 'unsafe-inline'), Permissions-Policy and
Cache-Control: no-store on everything that may carry PHI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cooperative.roles import Role

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
NO_STORE = "max-age=0, no-cache, no-store, must-revalidate, private"


def _directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().split(" ", 1)[1]
        for part in header.split(";")
        if part.strip()
    }


def _nonce(response) -> str:
    return re.search(r"'nonce-([^']+)'", _directives(response)["script-src"]).group(1)


def test_the_policy_allows_our_origin_and_the_nonce_never_unsafe_inline(client):
    response = client.get("/api/docs/")  # a page that uses the nonce
    assert response.status_code == 200
    directives = _directives(response)
    nonce = _nonce(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["img-src"] == "'self' data:"
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]


def test_every_response_gets_a_fresh_nonce(client):
    first, second = client.get("/api/docs/"), client.get("/api/docs/")
    assert len(_nonce(first)) >= 16
    assert _nonce(first) != _nonce(second)


def test_the_api_docs_style_carries_the_nonce_and_the_init_script_is_a_file(client):
    response = client.get("/api/docs/")
    html = response.content.decode()
    assert f'<style nonce="{_nonce(response)}">' in html
    assert "<script>" not in html
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_no_template_or_admin_column_has_inline_script_style_or_handlers():
    """What the browser would refuse: inline <script>/<style> without the nonce, style=""
    attributes and on*= handlers (PDF templates are rendered by WeasyPrint, not a browser)."""
    offenders = []
    pdf_templates = {"advocacy/pdf/notice.html", "payouts/pdf/run_report.html", "members/card.html"}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        name = str(path.relative_to(ROOT / "templates"))
        if name in pdf_templates:
            continue
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\ssrc=)(?![^>]*nonce=)", r"<style(?![^>]*nonce=)",
                        r"\sstyle=", r"\son[a-z]+="):  # fmt: skip
            offenders += [f"{name}: {m.group(0)!r}" for m in re.finditer(pattern, text)]
    for app in ("advocacy", "credentialing", "members", "payouts", "providers", "cooperative"):
        for path in sorted((ROOT / app).rglob("admin*.py")) + sorted(
            (ROOT / app).rglob("admin/*.py")
        ):
            text = path.read_text()
            offenders += [
                f"{path.relative_to(ROOT)}: style=" for _ in re.finditer(r"\sstyle=", text)
            ]
    assert offenders == []


def test_a_page_without_inline_code_gets_the_policy_without_a_nonce(client):
    directives = _directives(client.get("/providers/"))
    assert (directives["script-src"], directives["style-src"]) == ("'self'", "'self'")


def test_permissions_policy_on_every_response(client):
    for response in (client.get("/providers/"), client.get("/healthz"), client.get("/api/v1/")):
        assert "camera=()" in response["Permissions-Policy"]
        assert "microphone=()" in response["Permissions-Policy"]
        assert "geolocation=()" in response["Permissions-Policy"]
        assert "payment=()" in response["Permissions-Policy"]
        assert "usb=()" in response["Permissions-Policy"]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.PROVIDER_SERVICES, "/dashboard/"),
        (Role.FINANCE, "/finance/payouts/"),
        (Role.ADVOCATE, "/advocacy/"),
        (Role.PROVIDER_SERVICES, "/admin/providers/clinic/"),
        (Role.FINANCE, "/api/v1/me/"),
        # The public directory seen by someone signed in: their name is on the page.
        (Role.MEMBER, "/providers/"),
    ],
)
def test_signed_in_pages_and_api_answers_are_no_store(client, make_user, role, path):
    user = make_user(role)
    client.force_login(user)
    response = client.get(path)
    assert response.status_code in (200, 302), response.status_code
    assert response["Cache-Control"] == NO_STORE


def test_api_answers_with_a_token_are_no_store(api_client, make_user):
    from datetime import timedelta

    from django.utils import timezone

    from cooperative.services import api_token_create

    _, secret = api_token_create(
        user=make_user(Role.FINANCE),
        label="Headers",
        expires_at=timezone.now() + timedelta(days=30),
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.parametrize("path", ["/providers/", "/fhir/metadata"])
def test_the_public_directory_to_someone_not_signed_in_may_be_cached(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_anonymous_pages_outside_the_directory_are_no_store(client):
    for path in ("/accounts/login/", "/enroll/", "/api/v1/"):
        response = client.get(path)
        assert response["Cache-Control"] == NO_STORE, path
