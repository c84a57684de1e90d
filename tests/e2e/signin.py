"""Signing in through the browser, second step included."""

from __future__ import annotations

import time
from typing import Any

from tests.conftest import PASSWORD


def authenticator_for(username: str) -> None:
    """Give a staff user the demo authenticator (its secret is known to the tests), so the
    browser can pass the second step of sign-in; members and providers are left alone."""
    from django.contrib.auth import get_user_model

    from cooperative.demo import DEMO_TOTP_KEY_HEX
    from cooperative.mfa import demo_authenticator_ensure, mfa_is_mandatory

    user = get_user_model().objects.filter(username=username).first()
    if user is not None and mfa_is_mandatory(user):
        demo_authenticator_ensure(user=user, key_hex=DEMO_TOTP_KEY_HEX)


def next_code(username: str) -> str:
    """A code the authenticator accepts now: the current one, or the next time step's when the
    current one was already used (codes are single-use; one step of drift is allowed)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cooperative.demo import demo_totp_code

    device = TOTPDevice.objects.get(user__username=username, confirmed=True)
    now = time.time()
    step = int(now // device.step)
    if device.last_t >= step:
        now = (device.last_t + 1) * device.step
    return demo_totp_code(at=now)


def pass_second_step(page: Any, username: str) -> None:
    """After the password, type the authenticator code when the page asks for it."""
    page.wait_for_load_state()
    if "/accounts/security/verify/" in page.url:
        page.get_by_label("Code from your authenticator app, or a recovery code").fill(
            next_code(username)
        )
        page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state()


def sign_in(
    page: Any, live_server: Any, username: str, password: str = PASSWORD, next_url: str = ""
) -> None:
    page.context.clear_cookies()
    authenticator_for(username)
    suffix = f"?next={next_url}" if next_url else ""
    page.goto(f"{live_server.url}/accounts/login/{suffix}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    pass_second_step(page, username)
