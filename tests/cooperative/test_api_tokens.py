"""API tokens: staff and providers create (with an expiry) and revoke their own on
/accounts/tokens/; the API refuses an unknown, revoked or expired token with 401."""

from __future__ import annotations

import hashlib
import importlib
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from cooperative.exceptions import ApplicationError
from cooperative.models import ApiToken, AuditEvent
from cooperative.roles import Role
from cooperative.services import api_token_create, api_token_revoke

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
PAGE = "/accounts/tokens/"


def _token_for(user, *, days=30, label="Scripts"):
    return api_token_create(
        user=user, label=label, expires_at=timezone.now() + timedelta(days=days)
    )


def _api(secret, keyword="Token"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


def _audit_rows():
    return list(
        AuditEvent.objects.filter(object_type="cooperative.apitoken")
        .order_by("id")
        .values_list("actor__username", "action", "object_id", "detail")
    )


# --- Creating on the page -------------------------------------------------------------------


def test_a_token_created_on_the_page_shows_its_secret_once_and_works_with_the_api(
    client, make_user
):
    user = make_user(Role.FINANCE, username="fran.tokens")
    client.force_login(user)
    with time_machine.travel(T0, tick=False):
        response = client.post(PAGE, {"label": "  Bank   reconciliation ", "expires_in": "90"})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    assert "no-store" in response["Cache-Control"]
    secret = response.context["secret"]
    assert len(secret) == 48
    html = response.content.decode()
    assert f'value="{secret}"' in html
    assert "shown only this once" in html

    token = ApiToken.objects.get()
    assert (token.user, token.label, token.prefix) == (user, "Bank reconciliation", secret[:8])
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert (token.created_at, token.expires_at) == (T0, T0 + timedelta(days=90))
    assert (token.last_used_at, token.revoked_at, token.revoked_by) == (None, None, None)
    assert _audit_rows() == [
        (
            "fran.tokens",
            "create",
            str(token.pk),
            f"API token {secret[:8]}… created, expires 2027-01-31 15:00 UTC",
        )
    ]

    # The list shows it (by its prefix), never the secret again.
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        listing = client.get(PAGE)
    listed = listing.content.decode()
    assert secret not in listed
    assert f"{secret[:8]}…" in listed
    assert "Bank reconciliation" in listed
    assert listing.context["tokens"] == [(token, "active")]

    # The secret works, with Finance's access: the payments list, and the user's identity.
    with time_machine.travel(T0 + timedelta(minutes=10), tick=False):
        payments = _api(secret).get("/api/v1/payments/")
        me = _api(secret, "Bearer").get("/api/v1/me/")
    assert payments.status_code == 200
    assert (payments.json()["count"], payments.json()["results"]) == (0, [])
    assert me.status_code == 200
    assert (me.json()["username"], me.json()["roles"]) == ("fran.tokens", ["Finance"])


def test_a_token_carries_its_owners_role_not_more(make_user):
    _, secret = _token_for(make_user(Role.ADVOCATE))
    response = _api(secret).get("/api/v1/payments/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role does not allow this.", "errors": {}}


def test_a_provider_creates_a_token_for_a_chosen_date(client, make_user):
    user = make_user(Role.PROVIDER, username="pat.tokens")
    client.force_login(user)
    with time_machine.travel(T0, tick=False):
        response = client.post(
            PAGE, {"label": "Clinic EHR", "expires_in": "date", "expires_on": "2027-03-01"}
        )
    assert response.status_code == 200
    token = ApiToken.objects.get(user=user)
    # The token stops working at the start of that day, the cooperative's time (Central, CST).
    assert token.expires_at == datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        me = _api(response.context["secret"]).get("/api/v1/me/")
    assert (me.status_code, me.json()["username"]) == (200, "pat.tokens")


@pytest.mark.parametrize(
    "role", [Role.PROVIDER_SERVICES, Role.ADVOCATE, Role.FINANCE, Role.PROVIDER, "superuser"]
)
def test_staff_and_providers_open_the_page_and_find_it_in_the_account_menu(client, make_user, role):
    user = make_user(superuser=True) if role == "superuser" else make_user(role)
    client.force_login(user)
    response = client.get(PAGE)
    assert response.status_code == 200
    assert response.context["tokens"] == []
    assert "You have no API tokens" in response.content.decode()
    home = client.get("/dashboard/").content.decode()
    assert '<a href="/accounts/tokens/" data-nav="api-tokens">API tokens</a>' in home


def test_a_member_cannot_open_the_page_nor_create_a_token(client, make_user):
    member = make_user(Role.MEMBER, username="morgan.tokens")
    client.force_login(member)
    assert client.get(PAGE).status_code == 403
    response = client.post(PAGE, {"label": "Mine", "expires_in": "30"})
    assert response.status_code == 403
    assert ApiToken.objects.count() == 0
    assert "API tokens" not in client.get("/me/").content.decode()
    with pytest.raises(ApplicationError, match="Only staff and providers can have API tokens."):
        _token_for(member)
    assert ApiToken.objects.count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/tokens/"


# --- Refused input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"label": "", "expires_in": "30"}, "label", "This field is required."),
        ({"label": "   ", "expires_in": "30"}, "label", "This field is required."),
        ({"label": "x" * 101, "expires_in": "30"}, "label", "Ensure this value has at most 100 characters (it has 101)."),
        ({"label": "Export", "expires_in": "7"}, "expires_in", "Select a valid choice. 7 is not one of the available choices."),
        ({"label": "Export", "expires_in": "date"}, "expires_on", "Give the date the token stops working."),
        ({"label": "Export", "expires_in": "date", "expires_on": "2027-11-03"}, "expires_on", "A token can last at most 365 days."),
        ({"label": "Export", "expires_in": "date", "expires_on": "2026-11-02"}, "expires_on", "The expiry must be in the future."),
        ({"label": "Export", "expires_in": "date", "expires_on": "soon"}, "expires_on", "Enter a valid date."),
    ],
)  # fmt: skip
def test_refused_input_shows_the_error_and_creates_nothing(client, make_user, data, field, message):
    client.force_login(make_user(Role.ADVOCATE))
    with time_machine.travel(T0, tick=False):
        response = client.post(PAGE, data)
    assert response.status_code == 400
    assert response.context["form"].errors == {field: [message]}
    assert "secret" not in response.context
    assert message.replace("'", "&#x27;") in response.content.decode()
    assert ApiToken.objects.count() == 0
    assert _audit_rows() == []


def test_the_longest_expiry_is_a_setting(client, make_user, settings):
    settings.API_TOKEN_MAX_DAYS = 60
    client.force_login(make_user(Role.ADVOCATE))
    page = client.get(PAGE)
    assert [value for value, _ in page.context["form"].fields["expires_in"].choices] == [
        "30",
        "date",
    ]
    with time_machine.travel(T0, tick=False):
        response = client.post(PAGE, {"label": "Export", "expires_in": "90"})
        assert response.status_code == 400
        assert response.context["form"].errors == {
            "expires_in": ["Select a valid choice. 90 is not one of the available choices."]
        }
        with pytest.raises(ApplicationError, match="A token can last at most 60 days.") as caught:
            _token_for(make_user(Role.FINANCE), days=61)
    assert caught.value.errors == {"expires_at": ["A token can last at most 60 days."]}
    assert ApiToken.objects.count() == 0


# --- The API's answers --------------------------------------------------------------------------


def test_an_expired_token_answers_401(make_user):
    with time_machine.travel(T0, tick=False):
        _, secret = _token_for(make_user(Role.ADVOCATE), days=30)
    with time_machine.travel(T0 + timedelta(days=30) - timedelta(seconds=1), tick=False):
        assert _api(secret).get("/api/v1/me/").status_code == 200
    with time_machine.travel(T0 + timedelta(days=30), tick=False):
        response = _api(secret).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "This token expired on 2026-12-02 15:00 UTC. Create a new one at /accounts/tokens/.",
        "errors": {},
    }
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_token_answers_401(client, make_user):
    user = make_user(Role.PROVIDER_SERVICES, username="priya.tokens")
    token, secret = _token_for(user, label="Directory sync")
    assert _api(secret).get("/api/v1/me/").status_code == 200
    client.force_login(user)
    with time_machine.travel(T0, tick=False):
        response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert (response.status_code, response["Location"]) == (302, "/accounts/tokens/")
    token.refresh_from_db()
    assert (token.revoked_at, token.revoked_by) == (T0, user)
    assert _audit_rows()[-1] == (
        "priya.tokens",
        "update",
        str(token.pk),
        f"API token {token.prefix}… revoked",
    )
    with time_machine.travel(T0 + timedelta(seconds=5), tick=False):  # staff idle timeout
        page = client.get(PAGE).content.decode()
    assert f"The token “Directory sync” ({token.prefix}…) is revoked: it no longer works." in page
    assert "Revoked" in page

    response = _api(secret, "Bearer").get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "This token has been revoked. Create a new one at /accounts/tokens/.",
        "errors": {},
    }
    assert response["WWW-Authenticate"] == "Bearer"


def test_revoking_twice_is_refused_and_changes_nothing(client, make_user):
    user = make_user(Role.ADVOCATE)
    token, _ = _token_for(user, label="Old")
    with time_machine.travel(T0, tick=False):
        api_token_revoke(token=token, actor=user)
    events = _audit_rows()
    client.force_login(user)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/", follow=True)
    assert "The token “Old” is already revoked." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at == T0
    assert _audit_rows() == events


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token not-a-real-token", "Invalid token."),
        ("Bearer " + "x" * 48, "Invalid token."),
        ("Token", "Invalid token header. No credentials provided."),
        ("Token a b", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_a_wrong_key_answers_401(make_user, header, detail):
    _, secret = _token_for(make_user(Role.ADVOCATE))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": detail, "errors": {}}
    assert response["WWW-Authenticate"] == header.split()[0]


def test_the_hash_of_a_token_is_not_a_token(make_user):
    token, _ = _token_for(make_user(Role.ADVOCATE))
    response = _api(token.key_hash).get("/api/v1/me/")
    assert (response.status_code, response.json()["detail"]) == (401, "Invalid token.")


def test_an_inactive_users_token_answers_401(make_user):
    user = make_user(Role.FINANCE)
    _, secret = _token_for(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = _api(secret).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {"detail": "User inactive or deleted.", "errors": {}}


def test_no_credentials_is_still_401_with_the_token_challenge(api_client):
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_last_used_is_written_at_most_once_a_minute(make_user):
    with time_machine.travel(T0, tick=False):
        token, secret = _token_for(make_user(Role.ADVOCATE))
        assert _api(secret).get("/api/v1/me/").status_code == 200
    token.refresh_from_db()
    assert token.last_used_at == T0

    with (
        time_machine.travel(T0 + timedelta(seconds=59), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        assert _api(secret).get("/api/v1/me/").status_code == 200
    assert not [q for q in queries if q["sql"].startswith('UPDATE "cooperative_apitoken"')]
    token.refresh_from_db()
    assert token.last_used_at == T0

    with (
        time_machine.travel(T0 + timedelta(seconds=61), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        assert _api(secret).get("/api/v1/me/").status_code == 200
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "cooperative_apitoken"')]
    assert len(updates) == 1
    assert re.search(r'SET "last_used_at" = \S+ WHERE', updates[0])
    token.refresh_from_db()
    assert token.last_used_at == T0 + timedelta(seconds=61)


# --- Only one's own tokens ---------------------------------------------------------------------


def test_another_users_token_cannot_be_revoked_nor_seen(client, make_user):
    owner = make_user(Role.FINANCE, username="owner")
    token, secret = _token_for(owner, label="Owner's export")
    events = _audit_rows()
    other = make_user(Role.FINANCE, username="other")
    client.force_login(other)
    response = client.post(f"/accounts/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert (token.revoked_at, token.revoked_by) == (None, None)
    assert _audit_rows() == events
    assert "Owner&#x27;s export" not in client.get(PAGE).content.decode()
    assert _api(secret).get("/api/v1/me/").status_code == 200
    # Nor through the service, by someone who is not the owner nor a superuser.
    with pytest.raises(ApplicationError, match="You cannot revoke this token."):
        api_token_revoke(token=token, actor=other)
    token.refresh_from_db()
    assert token.revoked_at is None


def test_revoke_is_post_only(client, make_user):
    user = make_user(Role.ADVOCATE)
    token, _ = _token_for(user)
    client.force_login(user)
    assert client.get(f"/accounts/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_member_cannot_revoke_even_a_known_token_id(client, make_user):
    token, _ = _token_for(make_user(Role.ADVOCATE))
    client.force_login(make_user(Role.MEMBER))
    assert client.post(f"/accounts/tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None


def test_tokens_are_never_deleted(make_user):
    token, _ = _token_for(make_user(Role.ADVOCATE))
    with pytest.raises(DatabaseError, match="kept as history"), transaction.atomic():
        ApiToken.objects.filter(pk=token.pk).delete()
    assert ApiToken.objects.filter(pk=token.pk).exists()


# --- Admin ---------------------------------------------------------------------------------------


def test_a_superuser_sees_and_revokes_any_token_in_the_admin(client, make_user):
    owner = make_user(Role.ADVOCATE, username="alex.tokens")
    token, secret = _token_for(owner, label="Case export")
    admin_user = make_user(superuser=True, username="ada.tokens")
    client.force_login(admin_user)
    listing = client.get("/admin/cooperative/apitoken/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Case export" in html
    assert token.prefix in html
    assert token.key_hash not in html
    assert secret not in html
    detail = client.get(f"/admin/cooperative/apitoken/{token.pk}/change/")
    assert detail.status_code == 200
    assert token.key_hash not in detail.content.decode()
    assert client.get("/admin/cooperative/apitoken/add/").status_code == 403
    assert client.get(f"/admin/cooperative/apitoken/{token.pk}/delete/").status_code == 403

    with time_machine.travel(T0, tick=False):
        response = client.post(
            "/admin/cooperative/apitoken/",
            {"action": "revoke_tokens", "_selected_action": [token.pk]},
            follow=True,
        )
    assert "1 token(s) revoked." in response.content.decode()
    token.refresh_from_db()
    assert (token.revoked_at, token.revoked_by) == (T0, admin_user)
    assert _audit_rows()[-1] == (
        "ada.tokens",
        "update",
        str(token.pk),
        f"API token {token.prefix}… revoked (owner user #{owner.pk})",
    )
    assert _api(secret).get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize("role", [Role.PROVIDER_SERVICES, Role.FINANCE, Role.ADVOCATE])
def test_staff_roles_do_not_see_other_peoples_tokens_in_the_admin(client, make_user, role):
    _token_for(make_user(Role.PROVIDER))
    client.force_login(make_user(role))
    assert client.get("/admin/cooperative/apitoken/").status_code == 403


# --- The schema and the old DRF tokens --------------------------------------------------------


def test_the_schema_documents_the_token_scheme(client):
    schema = client.get("/api/schema/?format=json").json()
    scheme = schema["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "/accounts/tokens/" in scheme["description"]
    assert {"tokenAuth": []} in schema["paths"]["/api/v1/me/"]["get"]["security"]


def test_the_migration_turns_old_drf_tokens_into_expiring_tokens(make_user):
    user = make_user(Role.FINANCE)
    old_key = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz,"
            " user_id integer)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [old_key, T0, user.pk])
    migration = importlib.import_module("cooperative.migrations.0004_apitoken")
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        migration.convert_drf_tokens(apps, SimpleNamespace(connection=connection))
    token = ApiToken.objects.get()
    assert (token.user, token.prefix, token.created_at) == (user, "01234567", T0)
    assert token.expires_at == T0 + timedelta(days=375)
    assert token.key_hash == hashlib.sha256(old_key.encode()).hexdigest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)  # no clear-text key is left behind
    assert _api(old_key).get("/api/v1/me/").json()["id"] == user.pk
