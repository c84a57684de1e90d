"""Field encryption for secrets the cooperative must keep but never show (bank account numbers).

FIELD_ENCRYPTION_KEY holds one or more Fernet keys separated by commas: the first encrypts,
every one decrypts (MultiFernet), so a key is rotated by putting a new key first, running
`manage.py rotate_field_keys`, then removing the old key. With DEBUG on and no key set,
settings.py derives a development key from SECRET_KEY; with DEBUG off there is no fallback:
the system check cooperative.E010 fails and encrypting or decrypting raises FieldKeyError."""

from __future__ import annotations

from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


class FieldKeyError(ValueError):
    """FIELD_ENCRYPTION_KEY is missing or holds something that is not a Fernet key."""


def configured_keys(value: str | None = None) -> list[Fernet]:
    """The Fernet keys of FIELD_ENCRYPTION_KEY (comma-separated, first = current); raises
    FieldKeyError for an invalid key. Empty list when none is set."""
    raw = settings.FIELD_ENCRYPTION_KEY if value is None else value
    keys = []
    for position, part in enumerate((p.strip() for p in (raw or "").split(",")), start=1):
        if not part:
            continue
        try:
            keys.append(Fernet(part.encode()))
        except (ValueError, TypeError):
            raise FieldKeyError(
                f"FIELD_ENCRYPTION_KEY key {position} is not a Fernet key "
                "(urlsafe base64 of 32 bytes)."
            ) from None
    return keys


def _fernets() -> list[Fernet]:
    keys = configured_keys()
    if not keys:
        raise FieldKeyError("FIELD_ENCRYPTION_KEY must be set when DEBUG is off.")
    return keys


def _multi() -> MultiFernet:
    return MultiFernet(_fernets())


def encrypt_text(plain: str) -> str:
    """A Fernet token of `plain` under the current (first) key."""
    return _multi().encrypt(plain.encode()).decode()


def decrypt_text(token: str) -> str:
    """The plain text; raises ValueError when no configured key made the token."""
    try:
        return _multi().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("This value was encrypted with another key.") from None


def token_rotated(token: str) -> str | None:
    """The token re-encrypted under the current key, or None when it already is (or is empty).
    Raises ValueError when no configured key can read it."""
    if not token:
        return None
    fernets = _fernets()
    try:
        fernets[0].decrypt(token.encode())
    except InvalidToken:
        pass
    else:
        return None
    try:
        return MultiFernet(fernets).rotate(token.encode()).decode()
    except InvalidToken:
        raise ValueError(
            "This value was encrypted with a key that is no longer configured."
        ) from None


class EncryptedTokenField(models.TextField):
    """A column holding a Fernet token made by encrypt_text (never the plain value).
    `manage.py rotate_field_keys` re-encrypts every column of this type."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)


def encrypted_columns() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) whose column holds encrypt_text tokens, across installed apps."""
    from django.apps import apps

    return [
        (model, field.name)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTokenField)
    ]


def field_keys_rotate(*, batch_size: int = 500) -> dict[str, tuple[int, int]]:
    """Re-encrypt every encrypted column with the current (first) key, in batches; idempotent:
    a token already under the current key is left alone. Returns {"app.Model.field":
    (rotated, already current)}. Raises ValueError (nothing of that batch written) when a token
    was made with a key that is no longer configured."""
    counts: dict[str, tuple[int, int]] = {}
    for model, name in encrypted_columns():
        rotated = current = 0
        pending: list[models.Model] = []

        rows = (
            model._default_manager.exclude(**{name: ""})
            .order_by("pk")
            .values_list("pk", name)
            .iterator(chunk_size=batch_size)
        )
        for pk, token in rows:
            try:
                new_token = token_rotated(token)
            except ValueError:
                raise ValueError(
                    f"{model._meta.label}.{name} row {pk}: encrypted with a key that is no "
                    "longer in FIELD_ENCRYPTION_KEY."
                ) from None
            if new_token is None:
                current += 1
                continue
            pending.append(model(pk=pk, **{name: new_token}))
            rotated += 1
            if len(pending) >= batch_size:
                _write_batch(model, name, pending)
        if pending:
            _write_batch(model, name, pending)
        counts[f"{model._meta.label}.{name}"] = (rotated, current)
    return counts


def _write_batch(model: type[models.Model], name: str, pending: list[models.Model]) -> None:
    from django.db import transaction

    with transaction.atomic():
        model._default_manager.bulk_update(pending, [name])
    pending.clear()
