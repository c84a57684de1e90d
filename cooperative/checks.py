"""System checks of the kernel's own settings (run by `manage.py check` and at start-up)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from .crypto import FieldKeyError, configured_keys


@register()
def field_encryption_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """FIELD_ENCRYPTION_KEY must hold valid Fernet keys; with DEBUG off it must be set."""
    try:
        keys = configured_keys()
    except FieldKeyError as error:
        return [Error(str(error), id="cooperative.E011", hint=_HINT)]
    if not keys and not settings.DEBUG:
        return [
            Error(
                "FIELD_ENCRYPTION_KEY must be set when DEBUG is off (bank account numbers are "
                "encrypted with it; there is no fallback to SECRET_KEY).",
                id="cooperative.E010",
                hint=_HINT,
            )
        ]
    return []


_HINT = (
    'Generate one: python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"'
)
