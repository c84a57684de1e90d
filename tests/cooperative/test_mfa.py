"""Two-step sign-in: staff must use it (set up at the first sign-in), members and providers may
turn it on; a wrong code, a used recovery code and a replayed code are refused."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cooperative.mfa import recovery_code_digest
from cooperative.models import AuditAction, AuditEvent
from cooperative.roles import Role
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

STAFF = [Role.FINANCE, Role.ADVOCATE, Role.PROVIDER_SERVICES, None]  # None: a superuser
NOON = datetime(2026, 11, 3, 12, 0, tzinfo=ZoneInfo("America/Chicago"))


def code_for(device: TOTPDevice, offset_steps: int = 0) -> str:
    """The code the user's app shows now (or `offset_steps` steps later)."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, drift=offset_steps):06d}"


def staff_user(make_user, role, username):
    return (
        make_user(role, username=username) if role else make_user(username=username, superuser=True)
    )


def password_step(client, username, next_url=""):
    suffix = f"?next={next_url}" if next_url else ""
    return client.post(reverse("login") + suffix, {"username": username, "password": PASSWORD})


@pytest.fixture
def no_backoff(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.mark.parametrize("role", STAFF, ids=lambda r: str(r or "superuser"))
def test_staff_first_sign_in_sets_up_an_authenticator_before_anything_else(client, make_user, role):
    user = staff_user(make_user, role, "first.time")
    password_step(client, "first.time")

    for path in ["/dashboard/", "/admin/", "/accounts/password/change/"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/security/setup/?next={path.replace('/', '%2F')}"
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json() == {
        "detail": "Two-step sign-in is required: finish signing in in the browser, or use an "
        "API token.",
        "errors": {},
    }
    assert AuditEvent.objects.filter(
        actor=user, action=AuditAction.DENIED, detail="two-step sign-in not done"
    ).exists()

    page = client.get("/accounts/security/setup/?next=/dashboard/")
    html = page.content.decode()
    assert "Set up two-step sign-in" in html
    assert "data:image/svg+xml" in html  # the QR code, drawn here (no outside service)
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed is False
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', html).group(1)
    import base64

    assert base64.b32decode(secret.replace(" ", "")) == device.bin_key
    # Reloading shows the same secret (the app may already hold it).
    assert secret in client.get("/accounts/security/setup/").content.decode()
    assert TOTPDevice.objects.filter(user=user).count() == 1

    done = client.post(
        "/accounts/security/setup/", {"code": code_for(device), "next": "/dashboard/"}
    )
    assert done.status_code == 200
    assert "no-store" in done["Cache-Control"]
    codes = re.findall(
        r"<li><code>([a-km-np-z2-9]{5}-[a-km-np-z2-9]{5})</code></li>", done.content.decode()
    )
    assert len(set(codes)) == 10
    # Stored only as salted, keyed hashes: never the codes themselves.
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == {recovery_code_digest(user, code) for code in codes}
    assert not stored & set(codes)
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/dashboard/").status_code in (200, 302)
    assert client.get("/dashboard/").get("Location", "").startswith("/accounts/security") is False
    assert client.get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(
        actor=user, action=AuditAction.CREATE, object_type="otp_totp.totpdevice",
        detail="two-step sign-in turned on",
    ).count() == 1  # fmt: skip


def test_a_wrong_setup_code_turns_nothing_on(client, make_user, no_backoff):
    user = make_user(Role.FINANCE, username="fin.wrongsetup")
    password_step(client, "fin.wrongsetup")
    client.get("/accounts/security/setup/")
    response = client.post("/accounts/security/setup/", {"code": "000000"})
    assert response.status_code == 400
    assert "That code does not match" in response.content.decode()
    assert TOTPDevice.objects.get(user=user).confirmed is False
    assert not StaticDevice.objects.filter(user=user).exists()
    assert client.get("/dashboard/")["Location"].startswith("/accounts/security/setup/")


@pytest.fixture
def finance_with_app(make_user):
    user = make_user(Role.FINANCE, username="fin.app")
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    static = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticToken.objects.bulk_create(
        [
            StaticToken(device=static, token=recovery_code_digest(user, code))
            for code in ["aaaa2-2222b", "bbbb3-3333c"]
        ]
    )
    return user, device


def test_sign_in_with_a_code(client, finance_with_app):
    user, device = finance_with_app
    response = password_step(client, "fin.app", next_url="/finance/payouts/")
    assert response["Location"] == "/finance/payouts/"
    assert client.get("/finance/payouts/")["Location"] == (
        "/accounts/security/verify/?next=%2Ffinance%2Fpayouts%2F"
    )
    verify = client.post(
        "/accounts/security/verify/", {"code": code_for(device), "next": "/finance/payouts/"}
    )
    assert verify["Location"] == "/finance/payouts/"
    assert client.get("/finance/payouts/").status_code == 200
    row = AuditEvent.objects.filter(actor=user, action=AuditAction.LOGIN).order_by("-id").first()
    assert row.detail == "second step: authenticator code"


def test_a_wrong_code_is_refused_audited_and_then_slowed_down(client, finance_with_app):
    user, device = finance_with_app
    with time_machine.travel(NOON, tick=False):
        password_step(client, "fin.app")
        wrong = client.post("/accounts/security/verify/", {"code": "123456"})
        assert wrong.status_code == 400
        assert "That code is not right" in wrong.content.decode()
        assert client.get("/dashboard/")["Location"].startswith("/accounts/security/verify/")
        failed = AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).get()
        assert failed.detail == "username=fin.app second step: wrong authenticator code"
        # Right away, even the right code waits out the back-off.
        right_too_soon = client.post("/accounts/security/verify/", {"code": code_for(device)})
        assert right_too_soon.status_code == 400
        assert "Too many wrong codes in a row. Wait 1 second and try again." in (
            right_too_soon.content.decode()
        )
    with time_machine.travel(NOON + timedelta(seconds=2), tick=False):
        ok = client.post("/accounts/security/verify/", {"code": code_for(device)})
        assert ok.status_code == 302
        assert client.get("/dashboard/").status_code == 200


def test_a_code_works_once(client, finance_with_app, no_backoff):
    _, device = finance_with_app
    with time_machine.travel(NOON, tick=False):
        code = code_for(device)
        password_step(client, "fin.app")
        assert client.post("/accounts/security/verify/", {"code": code}).status_code == 302
        client.post(reverse("logout"))
        password_step(client, "fin.app")
        replay = client.post("/accounts/security/verify/", {"code": code})
        assert replay.status_code == 400
        assert client.get("/dashboard/")["Location"].startswith("/accounts/security/verify/")


def test_a_recovery_code_signs_in_once(client, finance_with_app, no_backoff):
    user, _ = finance_with_app
    password_step(client, "fin.app")
    ok = client.post("/accounts/security/verify/", {"code": " AAAA2 2222B "})
    assert ok.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert list(StaticToken.objects.values_list("token", flat=True)) == [
        recovery_code_digest(user, "bbbb3-3333c")
    ]
    row = AuditEvent.objects.filter(actor=user, action=AuditAction.LOGIN).order_by("-id").first()
    assert row.detail == "second step: recovery code (1 left)"

    client.post(reverse("logout"))
    password_step(client, "fin.app")
    again = client.post("/accounts/security/verify/", {"code": "aaaa2-2222b"})
    assert again.status_code == 400
    assert "That code is not right" in again.content.decode()
    assert client.get("/dashboard/")["Location"].startswith("/accounts/security/verify/")
    assert list(StaticToken.objects.values_list("token", flat=True)) == [
        recovery_code_digest(user, "bbbb3-3333c")
    ]


def test_new_recovery_codes_replace_the_old_ones(client, finance_with_app):
    user, _ = finance_with_app
    client.force_login(user)
    page = client.get("/accounts/security/").content.decode()
    assert 'data-testid="recovery-left">2<' in page
    assert "Turn two-step sign-in off" not in page  # staff cannot
    response = client.post("/accounts/security/recovery-codes/")
    codes = re.findall(
        r"<li><code>([a-km-np-z2-9]{5}-[a-km-np-z2-9]{5})</code></li>", response.content.decode()
    )
    assert len(codes) == 10
    old = [recovery_code_digest(user, code) for code in ["aaaa2-2222b", "bbbb3-3333c"]]
    assert not StaticToken.objects.filter(token__in=old).exists()


def test_staff_cannot_turn_it_off(client, finance_with_app):
    user, _ = finance_with_app
    client.force_login(user)
    response = client.post("/accounts/security/turn-off/", follow=True)
    assert "Cooperative staff must use two-step sign-in; it cannot be turned off." in (
        response.content.decode()
    )
    assert TOTPDevice.objects.filter(user=user).count() == 1
    assert StaticToken.objects.filter(device__user=user).count() == 2


def test_the_next_address_never_leaves_the_site(client, finance_with_app):
    _, device = finance_with_app
    password_step(client, "fin.app")
    response = client.post(
        "/accounts/security/verify/", {"code": code_for(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == "/accounts/home/"


def test_a_member_may_turn_it_on_and_is_then_asked_at_every_sign_in(client, make_user, no_backoff):
    member = make_user(Role.MEMBER, username="mem.mfa")
    assert password_step(client, "mem.mfa").status_code == 302
    assert client.get("/accounts/security/").status_code == 200  # no second step by default
    assert "Turn on two-step sign-in" in client.get("/accounts/security/").content.decode()

    client.get("/accounts/security/setup/")
    device = TOTPDevice.objects.get(user=member)
    response = client.post(
        "/accounts/security/setup/", {"code": code_for(device), "next": "/accounts/security/"}
    )
    assert response.status_code == 200
    client.post(reverse("logout"))

    password_step(client, "mem.mfa")
    assert client.get("/accounts/security/")["Location"].startswith("/accounts/security/verify/")
    assert (
        client.post("/accounts/security/verify/", {"code": code_for(device, 1)}).status_code == 302
    )
    off = client.post("/accounts/security/turn-off/", follow=True)
    assert "Two-step sign-in is off." in off.content.decode()
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not StaticDevice.objects.filter(user=member).exists()
    client.post(reverse("logout"))
    password_step(client, "mem.mfa")
    assert client.get("/accounts/security/").status_code == 200


def test_an_administrator_resets_a_lost_phone(client, make_user, finance_with_app):
    user, device = finance_with_app
    other = make_user(Role.FINANCE, username="fin.session")
    client.force_login(user)  # the user's own session, which the reset ends
    admin_user = make_user(username="root.reset", superuser=True)
    from django.test import Client

    admin_client = Client()
    admin_client.force_login(admin_user)
    sessions_before = Session.objects.count()
    response = admin_client.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "reset_two_step_sign_in", "_selected_action": [device.pk]},
        follow=True,
    )
    assert "Two-step sign-in reset for 1 user" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    assert Session.objects.count() == sessions_before - 1
    assert client.get("/dashboard/")["Location"].startswith("/accounts/login/")
    assert AuditEvent.objects.filter(
        actor=admin_user, action=AuditAction.DELETE, object_type="auth.user", object_id=str(user.pk)
    ).exists()
    assert TOTPDevice.objects.filter(user=other).count() == 0  # nobody else touched

    # The admin shows who has an authenticator, never the secret.
    listing = admin_client.get("/admin/otp_totp/totpdevice/").content.decode()
    assert admin_user.username in listing
    change = admin_client.get(
        f"/admin/otp_totp/totpdevice/{admin_user.totpdevice_set.get().pk}/change/"
    )
    assert admin_user.totpdevice_set.get().key not in change.content.decode()


def test_other_staff_cannot_reset_two_step_sign_in(client, make_user, finance_with_app):
    _, device = finance_with_app
    services_user = make_user(Role.PROVIDER_SERVICES, username="ps.reset")
    client.force_login(services_user)
    client.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "reset_two_step_sign_in", "_selected_action": [device.pk]},
    )
    assert TOTPDevice.objects.filter(pk=device.pk).exists()
    from cooperative.exceptions import ApplicationError
    from cooperative.mfa import mfa_reset

    with pytest.raises(ApplicationError, match="Only an administrator"):
        mfa_reset(user=device.user, actor=services_user)
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


def test_demo_staff_sign_in_with_the_published_secret(client, settings):
    settings.DEBUG = True
    call_command("seed_demo", "--members", "0", "--providers", "0", stdout=(out := io.StringIO()))
    from cooperative.demo import demo_totp_secret

    assert f"add the authenticator secret {demo_totp_secret()}" in out.getvalue()
    code = io.StringIO()
    call_command("demo_totp", stdout=code, stderr=io.StringIO())
    from cooperative.demo import DEMO_PASSWORD

    client.post(reverse("login"), {"username": "finance", "password": DEMO_PASSWORD})
    response = client.post("/accounts/security/verify/", {"code": code.getvalue().strip()})
    assert response.status_code == 302
    assert client.get("/dashboard/").status_code == 200
    assert not TOTPDevice.objects.filter(user__username="member").exists()
