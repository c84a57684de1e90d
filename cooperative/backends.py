"""Sign-in by username or by email (the login field says so)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class UsernameOrEmailBackend(ModelBackend):
    """Django's model backend, also accepting the account's email address in place of the
    username. An email that two accounts share signs neither in (no guessing which one);
    a wrong password costs the same hashing time either way."""

    def authenticate(
        self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username and "@" in username:
            users = list(
                get_user_model()._default_manager.filter(email__iexact=username.strip())[:2]
            )
            if len(users) == 1:
                username = users[0].get_username()
        return super().authenticate(request, username=username, password=password, **kwargs)
