"""Demo data: the kernel's demo users, and the registry through which apps add their own demo data."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from .roles import STAFF_ROLES, Role, ensure_role_groups

DEMO_PASSWORD = "coopcare-demo-2026"
# The demo staff's authenticator secret (published, like the password): add it to any
# authenticator app, or print the current code with `python manage.py demo_totp`.
DEMO_TOTP_KEY_HEX = b"coopcare-demo-totp!!".hex()


def demo_totp_secret() -> str:
    """The demo secret as authenticator apps take it (base32)."""
    import base64

    return base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY_HEX)).decode().rstrip("=")


def demo_totp_code(at: float | None = None) -> str:
    """The 6-digit code the demo authenticator shows now (or at a Unix time)."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(bytes.fromhex(DEMO_TOTP_KEY_HEX))
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: Role | None  # None: a superuser
    lands_on: str


DEMO_USERS = [
    DemoUser("admin", "Ada", "Administrator", None, "/admin/"),
    DemoUser("provider.services", "Priya", "Services", Role.PROVIDER_SERVICES, "/admin/"),
    DemoUser("advocate", "Alex", "Advocate", Role.ADVOCATE, "/dashboard/"),
    DemoUser("finance", "Fran", "Finance", Role.FINANCE, "/dashboard/"),
    DemoUser("member", "Morgan", "Member", Role.MEMBER, "/me/"),
    DemoUser("provider", "Pat", "Provider", Role.PROVIDER, "/provider/"),
]


@dataclass(frozen=True)
class SeedOptions:
    members: int
    providers: int
    seed: int


# Apps append `(name, function)`; each function is idempotent and deterministic for a seed.
SEEDERS: list[tuple[str, Callable[[SeedOptions, random.Random], str]]] = []


@transaction.atomic
def demo_users_ensure(*, password: str = DEMO_PASSWORD) -> list[DemoUser]:
    """Create (or reset) one demo user per role; running it twice changes nothing but passwords."""
    ensure_role_groups()
    user_model = get_user_model()
    for demo in DEMO_USERS:
        user, _ = user_model.objects.get_or_create(username=demo.username)
        user.first_name = demo.first_name
        user.last_name = demo.last_name
        user.email = f"{demo.username}@demo.coopcare.example"
        user.is_superuser = demo.role is None
        user.is_staff = demo.role is None or demo.role in STAFF_ROLES
        user.is_active = True
        user.set_password(password)
        user.save()
        if demo.role is not None:
            user.groups.set([Group.objects.get(name=str(demo.role))])
        if user.is_staff:
            from .mfa import demo_authenticator_ensure

            demo_authenticator_ensure(user=user, key_hex=DEMO_TOTP_KEY_HEX)
    return DEMO_USERS
