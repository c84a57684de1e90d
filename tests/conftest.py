"""Shared fixtures: users per role, API clients, collected static files."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.backends.signals import connection_created
from rest_framework.test import APIClient

from cooperative.roles import STAFF_ROLES, Role
from tests.s3 import s3_endpoint, s3_storage  # noqa: F401 (fixtures: a real S3-compatible server)

PASSWORD = "a-long-test-password-2026"


def _static_is_stale() -> bool:
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    return any(
        path.stat().st_mtime > built
        for folder in settings.STATICFILES_DIRS
        for path in Path(folder).rglob("*")
        if path.is_file()
    )


@pytest.fixture(scope="session", autouse=True)
def _collected_static() -> None:
    """Pages use production's manifest storage: collect static files when they changed."""
    if _static_is_stale():
        call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher() -> None:
    """Tests hash with MD5 (Django's own advice for test speed): the production hasher (PBKDF2,
    a million rounds) costs ~0.4 s a user, and users are made and signed in by the thousand.
    `test_passwords_are_stored_with_the_production_hasher` keeps production's choice honest."""
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture
def make_user(db: Any, django_user_model: Any) -> Callable[..., Any]:
    """make_user(Role.FINANCE) -> a user holding that role (staff for staff roles)."""
    counter = {"n": 0}

    def factory(
        role: Role | None = None, *, username: str | None = None, superuser: bool = False
    ) -> Any:
        counter["n"] += 1
        name = username or f"{(role or 'user').lower().replace(' ', '.')}{counter['n']}"
        user = django_user_model.objects.create_user(
            username=name,
            password=PASSWORD,
            first_name="Test",
            last_name=str(role or "User"),
            is_staff=superuser or (role in STAFF_ROLES),
            is_superuser=superuser,
        )
        if role is not None:
            user.groups.add(Group.objects.get(name=str(role)))
        return user

    return factory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Path) -> None:
    """Uploaded files go to a per-test folder, never into the work tree."""
    settings.MEDIA_ROOT = tmp_path / "media"


def _reference_rows_restore() -> None:
    """Put back the data migrations' rows (ZIP codes, specialties, role groups, the advocacy
    priority targets) when missing."""
    import importlib

    from django.apps import apps

    from advocacy.models import PriorityTarget
    from cooperative.roles import ensure_role_groups
    from providers.models import ZipCode

    if not ZipCode.objects.exists():
        importlib.import_module("providers.migrations.0002_reference_data").load(apps, None)
    if not PriorityTarget.objects.exists():
        importlib.import_module("advocacy.migrations.0002_append_only_and_targets").create_targets(
            apps, None
        )
    ensure_role_groups()


@pytest.fixture
def reference_data(transactional_db: Any) -> None:
    """Data migrations' rows (ZIP codes, specialties, role groups) for transactional tests.

    A transactional test's flush empties every table, including what migrations loaded;
    this puts it back when it is missing.
    """
    _reference_rows_restore()


def _flushes(item: Any) -> bool:
    """The test runs outside a transaction and empties every table when it ends."""
    marker = item.get_closest_marker("django_db")
    return bool(
        (marker is not None and marker.kwargs.get("transaction"))
        or {"transactional_db", "live_server", "reference_data"}
        & set(getattr(item, "fixturenames", ()))
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: Any, nextitem: Any) -> Iterator[None]:
    """Serially, pytest-django runs every transactional test last; in parallel (pytest-xdist)
    a worker takes a whole file at a time, so a file's transactional tests can come before
    another file's tests, which then find the reference rows flushed away. After such a test,
    when the next one is not itself transactional, the rows are put back (committed)."""
    yield
    if nextitem is None or not _flushes(item) or _flushes(nextitem):
        return
    from pytest_django.plugin import blocking_manager_key

    with item.config.stash[blocking_manager_key].unblock():
        _reference_rows_restore()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Tasks queued by on_commit run in this process (no message is left in the shared Redis,
    where a real worker of another test would pick it up)."""
    from cooperative.celery import app as celery_app

    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager = celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = previous


@pytest.fixture(autouse=True)
def _fresh_throttle_history() -> None:
    """Throttle history lives in Redis and outlives a test; every test starts with none."""
    from django.core.cache import cache

    cache.delete_many(["throttle_enrollment_127.0.0.1", "throttle_anon_127.0.0.1"])


@pytest.fixture(scope="module")
def demo_data(
    django_db_setup: Any, django_db_blocker: Any, tmp_path_factory: Any
) -> Iterator[None]:
    """The demo data (`seed_demo`, small) seeded once for a module's tests, inside a transaction
    rolled back after the module; each test's own transaction is a savepoint within it."""
    from django.db import transaction
    from django.test import override_settings

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            media = tmp_path_factory.mktemp("demo-media")
            with override_settings(DEBUG=True, MEDIA_ROOT=str(media)):  # DEBUG: demo users allowed
                call_command(
                    "seed_demo", "--members", "40", "--providers", "8", stdout=io.StringIO()
                )
            yield media
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _force_login_verified(self: Any, user: Any, backend: str | None = None) -> None:
    """`client.force_login(user)` stands for a finished sign-in: for a user who must (or chose
    to) use two-step sign-in, the session also records a confirmed authenticator as verified,
    as the second step does (tests of the second step itself sign in through the pages)."""
    _original_force_login(self, user, backend)
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from cooperative.mfa import SESSION_MFA_ENROLLED, mfa_is_mandatory

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None and not mfa_is_mandatory(user):
        return
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if not mfa_is_mandatory(user):
        session[SESSION_MFA_ENROLLED] = True
    session.save()


from django.test import Client  # noqa: E402

_original_force_login = Client.force_login
Client.force_login = _force_login_verified  # type: ignore[method-assign]


def _allow_audit_truncate(sender: Any, connection: Any, **kwargs: Any) -> None:
    """A transactional test's flush truncates every table; the audit log's TRUNCATE trigger
    (cooperative migration 0006) lets through only a session that asks, as tests do here."""
    with connection.cursor() as cursor:
        cursor.execute("SET coopcare.audit_truncate = 'allow'")


connection_created.connect(_allow_audit_truncate, dispatch_uid="coopcare_audit_truncate")
