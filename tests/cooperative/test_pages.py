import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from cooperative.audit import audit_record
from cooperative.models import AuditAction
from cooperative.roles import Role

pytestmark = pytest.mark.django_db


def test_home_page_says_what_the_cooperative_is(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "CoopCare Cooperative" in html
    assert "not an insurer" in html.lower() or "not an insurance" in html.lower()
    assert 'href="/providers/"' in html
    assert 'href="/enroll/"' in html
    assert 'href="/accounts/login/"' in html or "Sign in" in html


def test_every_page_title_is_one_line_of_plain_text():
    # A title block left open swallows the page's markup into <title> (the provider's offers
    # page once showed its whole payer-contracts table as the browser tab's text).
    titles = {}
    for template in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        for title in re.findall(r"{% block title %}(.*?){% endblock", template.read_text(), re.S):
            titles[f"{template.relative_to(settings.BASE_DIR)}: {title[:40]!r}"] = title
    assert len(titles) > 40
    assert [name for name, title in titles.items() if "\n" in title or "<" in title] == []


def test_static_assets_are_local(client):
    html = client.get("/").content.decode()
    assert "htmx" in html
    assert "https://" not in html.split("<body")[0]


@pytest.mark.parametrize(
    ("role", "visible", "hidden"),
    [
        (Role.FINANCE, {"dashboard", "admin", "api-docs"}, {"enroll"}),
        (Role.PROVIDER_SERVICES, {"dashboard", "admin", "api-docs"}, {"enroll"}),
        (Role.ADVOCATE, {"dashboard", "admin", "api-docs"}, {"enroll"}),
        (Role.MEMBER, {"me"}, {"admin", "api-docs", "enroll", "dashboard"}),
        (Role.PROVIDER, {"dashboard"}, {"admin", "api-docs", "enroll"}),
    ],
)
def test_navigation_by_role(client, make_user, role, visible, hidden):
    client.force_login(make_user(role))
    html = client.get(reverse("dashboard")).content.decode()
    for key in visible:
        assert f'data-nav="{key}"' in html
    for key in hidden:
        assert f'data-nav="{key}"' not in html
    assert str(role) in html


def test_anonymous_navigation_offers_enrollment(client):
    html = client.get("/").content.decode()
    assert 'data-nav="enroll"' in html
    assert 'data-nav="dashboard"' not in html


def test_dashboard_requires_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/dashboard/"


def test_dashboard_lists_own_sign_ins_only_and_paginates(
    client, make_user, django_assert_max_num_queries
):
    user = make_user(Role.FINANCE, username="fin.dash")
    other = make_user(Role.FINANCE, username="fin.other")
    for _ in range(12):
        audit_record(actor=user, action=AuditAction.LOGIN)
    audit_record(actor=None, action=AuditAction.LOGIN_FAILED, detail="username=fin.dash")
    audit_record(actor=other, action=AuditAction.LOGIN)
    client.force_login(user)
    # 8, plus the user's permissions (2) and the figures staff see (members needing a new PCP,
    # memberships ending at 65: one query; the payout runs' figures: one query).
    with django_assert_max_num_queries(12):
        response = client.get(reverse("dashboard"))
    page = response.context["recent_logins"]
    # 12 sign-ins, 1 failed attempt with the username, and this session's own sign-in.
    assert page.paginator.count == 14
    assert len(page.object_list) == 10
    assert [e.action for e in page.object_list[:2]] == ["login", "login_failed"]
    assert all(e.actor_id in (user.pk, None) for e in page.object_list)
    second = client.get(reverse("dashboard") + "?page=2").context["recent_logins"]
    assert len(second.object_list) == 4


def test_dashboard_shows_this_sign_in_with_its_badge(client, make_user):
    client.force_login(make_user(Role.MEMBER))
    html = client.get(reverse("dashboard")).content.decode()
    assert '<span class="badge badge-ok">Signed in</span>' in html
    assert "No sign-ins recorded yet" not in html


def test_not_found_page_is_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"<html" in response.content


def test_login_page_renders_fields_with_labels(client):
    html = client.get(reverse("login")).content.decode()
    assert '<label for="id_username"' in html
    assert '<label for="id_password"' in html


def test_failed_login_shows_error_summary_and_keeps_nothing(client, make_user):
    make_user(Role.MEMBER, username="mem.fail")
    response = client.post(
        reverse("login"), {"username": "mem.fail", "password": "not-the-password"}
    )
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session
