"""Every user can change their password and reset a forgotten one by an emailed link (Django's
views, the site's look); sign-in takes a username or an email address and says so."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from cooperative.roles import Role
from tests.conftest import PASSWORD

NEW = "a-brand-new-passphrase-77"


def test_sign_in_by_username_or_email_and_the_field_says_so(client, make_user):
    user = make_user(Role.MEMBER, username="mia.member")
    user.email = "Mia.Member@example.com"
    user.save(update_fields=["email"])
    page = client.get(reverse("login")).content.decode()
    assert ">Username or email" in page
    assert f'href="{reverse("password_reset")}"' in page
    response = client.post(
        reverse("login"), {"username": "mia.member@example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_an_email_two_accounts_share_signs_neither_in(client, make_user):
    for name in ("twin.one", "twin.two"):
        user = make_user(Role.MEMBER, username=name)
        user.email = "twins@example.com"
        user.save(update_fields=["email"])
    response = client.post(
        reverse("login"), {"username": "twins@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(
    "role", [Role.MEMBER, Role.PROVIDER, Role.FINANCE, Role.ADVOCATE, Role.PROVIDER_SERVICES]
)
def test_every_role_changes_its_password(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    assert client.get(reverse("password_change")).status_code == 200
    refused = client.post(
        reverse("password_change"),
        {"old_password": "not-my-password", "new_password1": NEW, "new_password2": NEW},
    )
    assert "Your old password was entered incorrectly" in refused.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW},
    )
    assert response["Location"] == reverse("password_change_done")
    user.refresh_from_db()
    assert user.check_password(NEW)
    assert int(client.session["_auth_user_id"]) == user.pk  # still signed in


def test_changing_a_password_needs_a_sign_in(client, db):
    response = client.get(reverse("password_change"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_forgotten_password_is_reset_by_a_link_that_works_once(client, make_user, settings):
    settings.PUBLIC_BASE_URL = "https://coop.example"
    user = make_user(Role.MEMBER, username="rita.reset")
    user.email = "rita@example.com"
    user.save(update_fields=["email"])
    mail.outbox.clear()
    # An unknown address gets the same answer and no email.
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
    client.post(reverse("password_reset"), {"email": "rita@example.com"})  # Host: testserver
    assert [m.to for m in mail.outbox] == [["rita@example.com"]]
    link = re.search(r"https://coop\.example(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    assert link is not None, mail.outbox[0].body  # the configured address, never the Host header
    assert "testserver" not in mail.outbox[0].body
    form_page = client.get(link.group(1), follow=True)
    assert "Choose a new password" in form_page.content.decode()
    set_url = form_page.redirect_chain[-1][0]
    response = client.post(set_url, {"new_password1": NEW, "new_password2": NEW})
    assert response["Location"] == reverse("password_reset_complete")
    assert get_user_model().objects.get(pk=user.pk).check_password(NEW)
    again = client.get(link.group(1), follow=True).content.decode()
    assert "This link no longer works" in again


def test_passwords_are_stored_with_the_production_hasher():
    """Tests hash with MD5 for speed (tests/conftest.py); the project's settings keep Django's
    PBKDF2-SHA256 with its full round count first (ASVS 2.4: a slow, salted one-way hash)."""
    import importlib

    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    project = importlib.import_module("cooperative.settings")
    configured = getattr(project, "PASSWORD_HASHERS", None)
    if configured is None:
        from django.conf import global_settings

        configured = global_settings.PASSWORD_HASHERS
    assert configured[0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert PBKDF2PasswordHasher.iterations >= 600_000
