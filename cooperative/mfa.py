"""Two-step sign-in (MFA): an authenticator app (TOTP) plus single-use recovery codes.

django-otp does the cryptography, the replay guard and the throttling; this module holds the
cooperative's rules: every staff role must use it (set up at first sign-in), members and
providers may turn it on, and once on it is asked for at every sign-in. Every change is
audited; a code never is.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from .audit import audit_record
from .exceptions import ApplicationError
from .models import AuditAction
from .permissions import is_staff_member

RECOVERY_CODE_COUNT = 10
# Set at sign-in for a member or provider who turned two-step sign-in on (staff always need it).
SESSION_MFA_ENROLLED = "mfa_enrolled"
_TOTP_CODE = re.compile(r"^\d{6}$")
_AUTHENTICATOR = "Authenticator app"
_RECOVERY = "Recovery codes"


def mfa_is_mandatory(user: Any) -> bool:
    """Every staff role (and a superuser) must sign in with a second step."""
    return bool(getattr(user, "is_staff", False)) or is_staff_member(user)


def mfa_is_required(request: HttpRequest) -> bool:
    """Whether this signed-in session must pass the second step before anything else."""
    user = request.user
    if not user.is_authenticated:
        return False
    return mfa_is_mandatory(user) or bool(request.session.get(SESSION_MFA_ENROLLED))


def mfa_is_verified(request: HttpRequest) -> bool:
    """The session passed the second step. django-otp's own middleware would load the device on
    every request to check it still exists (one query per staff page); here the session alone
    says so, which holds because nothing removes a device without ending the sessions that used
    it: django_otp.login() stores the device only for its own user, Django's login() starts a
    fresh session for every sign-in, turning two-step sign-in off clears the mark, and an
    administrator's reset ends every session of the user."""
    return bool(request.session.get(DEVICE_ID_SESSION_KEY))


def mfa_is_enabled(user: Any) -> bool:
    """The user has a confirmed authenticator."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def mark_session_at_sign_in(request: HttpRequest, user: Any) -> None:
    """Remember in the session that this member or provider turned two-step sign-in on, so the
    check on every request reads the session, not the database."""
    if not mfa_is_mandatory(user) and mfa_is_enabled(user):
        request.session[SESSION_MFA_ENROLLED] = True


def _format_key(device: TOTPDevice) -> str:
    """The secret as people type it into an authenticator app: base32 in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@dataclass(frozen=True)
class AuthenticatorSetup:
    device: TOTPDevice
    secret: str
    otpauth_url: str
    qr_svg_data_uri: str


def _qr_data_uri(text: str) -> str:
    import segno

    return str(segno.make(text, error="m").svg_data_uri(scale=5, border=2, dark="#0f3d3e"))


@transaction.atomic
def authenticator_setup_start(*, user: Any) -> AuthenticatorSetup:
    """The authenticator waiting to be confirmed (one per user, kept until confirmed so a page
    reload shows the same secret)."""
    if mfa_is_enabled(user):
        raise ApplicationError("Two-step sign-in is already on for this account.")
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False, name=_AUTHENTICATOR)
        .order_by("id")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_AUTHENTICATOR, confirmed=False)
    return AuthenticatorSetup(
        device=device,
        secret=_format_key(device),
        otpauth_url=device.config_url,
        qr_svg_data_uri=_qr_data_uri(device.config_url),
    )


def recovery_code_digest(user: Any, code: str) -> str:
    """What is stored for a recovery code: never the code, but a keyed, salted hash of it
    (HMAC-SHA256 under SECRET_KEY, salted with the user's id; ASVS 2.6.2 for lookup secrets
    under 112 bits), cut to the 16 characters django-otp's token column holds. The code is
    normalised first (case, spaces and dashes do not matter)."""
    import hashlib
    import hmac

    normalised = code.strip().replace(" ", "").replace("-", "").lower()
    message = f"recovery-code:{user.pk}:{normalised}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:16]


def _recovery_code() -> str:
    """Ten characters of base32 (50 random bits) shown as two groups of five."""
    import secrets

    alphabet = "abcdefghijkmnpqrstuvwxyz23456789"  # no l, o, 0, 1: easy to copy by hand
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def _new_recovery_codes(user: Any) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=_RECOVERY, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(
        [StaticToken(device=device, token=recovery_code_digest(user, code)) for code in codes]
    )
    return codes


def authenticator_confirm(*, request: HttpRequest, code: str) -> list[str]:
    """Turn two-step sign-in on: the first code from the app proves it was set up right. The
    session counts as verified, and ten recovery codes are made (shown once). A wrong code
    counts toward the back-off (committed, so it is not undone with the refusal)."""
    user = request.user
    code = code.strip()
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False, name=_AUTHENTICATOR)
            .order_by("id")
            .first()
        )
        if device is None:
            raise ApplicationError(
                "Start the set-up again: no authenticator is waiting to be confirmed."
            )
        _check_allowed(device)
        matched = bool(_TOTP_CODE.match(code)) and device.verify_token(code)
    if not matched:
        raise ApplicationError(
            "That code does not match. Type the 6-digit code your authenticator app shows now."
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _new_recovery_codes(user)
        audit_record(
            actor=user, action=AuditAction.CREATE, obj=device, detail="two-step sign-in turned on"
        )
    otp_login(request, device)
    if not mfa_is_mandatory(user):
        request.session[SESSION_MFA_ENROLLED] = True
    return codes


def _check_allowed(device: Any) -> None:
    allowed, data = device.verify_is_allowed()
    if not allowed:
        failures = (data or {}).get("failure_count", 0)
        wait = 2 ** max(int(failures) - 1, 0)
        raise ApplicationError(
            f"Too many wrong codes in a row. Wait {wait} second{'s' if wait != 1 else ''} "
            "and try again."
        )


def second_step_verify(*, request: HttpRequest, code: str) -> str:
    """Check the second step of a sign-in: a 6-digit code from the authenticator, or a recovery
    code (each works once). Returns which one was used. A wrong code is audited, refused and
    counts toward the back-off: the check commits on its own, so the refusal undoes nothing."""
    user = request.user
    code = code.strip().replace(" ", "").replace("-", "").lower()
    is_app_code = bool(_TOTP_CODE.match(code))
    used = "authenticator code" if is_app_code else "recovery code"
    model = TOTPDevice if is_app_code else StaticDevice
    with transaction.atomic():
        # Locked while checked: two requests with one code cannot both pass the replay guard.
        device = model.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            if is_app_code or not code:
                raise ApplicationError("Two-step sign-in is not set up for this account.")
            raise ApplicationError(
                "That is not a recovery code of this account. Type the 6-digit code from your "
                "authenticator app, or one of your recovery codes."
            )
        _check_allowed(device)
        token = code if is_app_code else recovery_code_digest(user, code)
        matched = bool(code) and device.verify_token(token)
    if not matched:
        audit_record(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            detail=f"username={user.get_username()} second step: wrong {used}",
            request=request,
        )
        raise ApplicationError(
            "That code is not right. Type the 6-digit code your authenticator app shows now, "
            "or one of your recovery codes."
        )
    otp_login(request, device)
    remaining = ""
    if not is_app_code:
        remaining = f" ({StaticToken.objects.filter(device=device).count()} left)"
    audit_record(
        actor=user,
        action=AuditAction.LOGIN,
        obj=device,
        detail=f"second step: {used}{remaining}",
        request=request,
    )
    return used


@transaction.atomic
def recovery_codes_regenerate(*, request: HttpRequest) -> list[str]:
    """New recovery codes replace every old one (the old ones stop working at once)."""
    user = request.user
    if not mfa_is_enabled(user):
        raise ApplicationError("Turn two-step sign-in on first.")
    codes = _new_recovery_codes(user)
    audit_record(
        actor=user,
        action=AuditAction.UPDATE,
        object_type="otp_static.staticdevice",
        object_id=str(user.pk),
        detail="recovery codes replaced",
    )
    return codes


def recovery_codes_left(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def mfa_turn_off(*, request: HttpRequest) -> None:
    """A member or provider may turn two-step sign-in off; staff may not (it is required)."""
    user = request.user
    if mfa_is_mandatory(user):
        raise ApplicationError(
            "Cooperative staff must use two-step sign-in; it cannot be turned off."
        )
    _devices_delete(user)
    request.session.pop(SESSION_MFA_ENROLLED, None)
    request.session.pop(DEVICE_ID_SESSION_KEY, None)
    audit_record(
        actor=user,
        action=AuditAction.DELETE,
        object_type="otp_totp.totpdevice",
        object_id=str(user.pk),
        detail="two-step sign-in turned off",
    )


def _devices_delete(user: Any) -> int:
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    static, _ = StaticDevice.objects.filter(user=user).delete()
    return int(totp) + int(static)


@transaction.atomic
def mfa_reset(*, user: Any, actor: Any) -> int:
    """A lost phone: an administrator removes a user's authenticator and recovery codes. The
    user's sessions end, and the next sign-in asks a staff user to set up a new authenticator.
    Returns how many devices were removed."""
    if not getattr(actor, "is_superuser", False):
        raise ApplicationError("Only an administrator can reset two-step sign-in.")
    removed = _devices_delete(user)
    _sessions_end(user)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        object_type="auth.user",
        object_id=str(user.pk),
        detail="two-step sign-in reset by an administrator",
    )
    return removed


def _sessions_end(user: Any) -> None:
    """End every session of the user (database sessions; the session holds the user's id)."""
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()


def demo_authenticator_ensure(*, user: Any, key_hex: str) -> TOTPDevice:
    """Demo only: a confirmed authenticator with a published secret, so the demo can sign in."""
    try:
        binascii.unhexlify(key_hex)
    except binascii.Error as error:
        raise ApplicationError("The demo key must be hexadecimal.") from error
    device, _ = TOTPDevice.objects.update_or_create(
        user=user, name=_AUTHENTICATOR, defaults={"key": key_hex, "confirmed": True, "last_t": -1}
    )
    return device


def issuer() -> str:
    return str(getattr(settings, "OTP_TOTP_ISSUER", "CoopCare"))
