"""Kernel data: the timestamped base model, the append-only audit log and API tokens."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


class TimeStampedModel(models.Model):
    """Base for every domain model: when a row was created and last changed (UTC)."""

    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    EXPORT = "export", "Exported"
    LOGIN = "login", "Signed in"
    LOGIN_FAILED = "login_failed", "Sign-in failed"
    LOGOUT = "logout", "Signed out"
    DENIED = "denied", "Access denied"


class AuditEvent(models.Model):
    """Who did what to which record, when and from where; never the PHI itself.

    Append-only: database triggers reject UPDATE, DELETE (migration 0002) and TRUNCATE (0006),
    and the application's database role holds only SELECT and INSERT on the table. Tamper
    evidence: a BEFORE INSERT trigger (0004) numbers each row gaplessly and chains it by
    SHA-256 to the previous one; `manage.py audit_verify` recomputes the chain
    (cooperative/audit_chain.py).
    """

    occurred_at = models.DateTimeField(db_default=Now(), editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="audit_events",
    )
    # Snapshot of the actor's username and role at the time: the user may change later.
    actor_username = models.CharField(max_length=150, blank=True)
    role = models.CharField(max_length=50, blank=True)
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=300, blank=True)
    # A short non-PHI note (e.g. the username typed at a failed login, or the refused permission).
    detail = models.CharField(max_length=300, blank=True)
    # Set by the database's chain trigger, whatever the INSERT says (see migration 0005).
    sequence = models.BigIntegerField(unique=True, editable=False)
    previous_hash = models.CharField(max_length=64, editable=False, default="")
    row_hash = models.CharField(max_length=64, editable=False, default="")

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["occurred_at"], name="audit_occurred_idx"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_idx"),
            models.Index(
                fields=["object_type", "object_id", "occurred_at"], name="audit_object_idx"
            ),
            models.Index(fields=["action", "occurred_at"], name="audit_action_idx"),
            # The admin's exact look-ups (AuditEventAdmin.get_search_results).
            models.Index(fields=["actor_username"], name="audit_username_idx"),
            models.Index(fields=["object_id"], name="audit_object_id_idx"),
            models.Index(fields=["request_id"], name="audit_request_idx"),
            models.Index(fields=["ip_address"], name="audit_ip_idx"),
        ]

    def __str__(self) -> str:
        who = self.actor_username or "anonymous"
        target = f" {self.object_type}#{self.object_id}" if self.object_type else ""
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {who} {self.action}{target}"


class ApiToken(models.Model):
    """A user's key for the API: several per user, each with a label and a required expiry.

    Only the SHA-256 of the secret is stored (the secret is shown once, when it is created);
    its first characters stay in clear so a person can tell their tokens apart. Revoked and
    expired tokens are kept as history: a database trigger (migration 0004) rejects DELETE.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens"
    )
    label = models.CharField(max_length=100)
    prefix = models.CharField(max_length=PREFIX_LENGTH)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_tokens_revoked",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "API token"
        indexes = [models.Index(fields=["user", "created_at"], name="apitoken_user_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(label=""), name="apitoken_label_not_blank"),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=False) | models.Q(revoked_by__isnull=True),
                name="apitoken_revoked_by_only_when_revoked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.prefix}…)"

    @staticmethod
    def hash_of(secret: str) -> str:
        """The stored form of a secret: SHA-256, hex. The secret holds 288 random bits, so a
        plain hash is enough (there is nothing to guess that a slow hash would protect)."""
        return hashlib.sha256(secret.encode()).hexdigest()

    def status_at(self, moment: Any) -> str:
        """ "revoked", "expired" or "active" at that moment."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= moment:
            return "expired"
        return "active"
