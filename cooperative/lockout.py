"""Login lockout in two tiers (OWASP ASVS 2.2.1): django-axes locks a username from one
address after `AXES_FAILURE_LIMIT` failures (as before); this handler adds the second tier,
a username locked from every address once its failures from all addresses together reach the
higher `AXES_USERNAME_FAILURE_LIMIT` within the cool-off — a password spray from many
addresses is stopped too. Addresses come from `cooperative.audit.client_ip`."""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone


def username_failures(username: str) -> int:
    """Failed sign-ins for `username` from every address within the cool-off."""
    if not username:
        return 0
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    total = AccessAttempt.objects.filter(username=username, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return int(total or 0)


class TwoTierLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, plus the per-username tier."""

    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        username = get_client_username(request, credentials)
        return username_failures(username) >= settings.AXES_USERNAME_FAILURE_LIMIT

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        """Record the failure as axes does; when the username's failures from all addresses
        reach the higher limit, the response is the lockout page too (not the sign-in form)."""
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        username = get_client_username(request, credentials)
        if username_failures(username) >= settings.AXES_USERNAME_FAILURE_LIMIT:
            request.axes_locked_out = True
            request.axes_credentials = credentials
