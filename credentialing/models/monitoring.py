"""Ongoing monitoring: staff tasks (expirables, recredentialing, reviews), exclusion screening,
and clinics' change requests."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from .applications import CredentialingApplication


class TaskKind(models.TextChoices):
    EXPIRING = "expiring", "Credential expiring"
    EXPIRED = "expired", "Credential expired"
    RECREDENTIALING = "recredentialing", "Recredentialing due"
    EXCLUSION_REVIEW = "exclusion_review", "Exclusion match to review"
    NOTIFICATION_DUE = "notification_due", "Decision letter not yet sent"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"


class StaffTask(models.Model):
    """A piece of work for provider services raised by monitoring; `key` makes raising it idempotent."""

    kind = models.CharField(max_length=30, choices=TaskKind.choices)
    key = models.CharField(max_length=200, unique=True, editable=False)
    title = models.CharField(max_length=300)
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credentialing_tasks",
    )
    clinic = models.ForeignKey(
        "providers.Clinic",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credentialing_tasks",
    )
    application = models.ForeignKey(
        CredentialingApplication,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        verbose_name = "credentialing task"
        indexes = [models.Index(fields=["status", "due_on"], name="cred_task_open_idx")]

    def __str__(self) -> str:
        return self.title


class ExclusionSource(models.TextChoices):
    LEIE = "leie", "OIG LEIE"
    SAM = "sam", "SAM exclusions"


class ScreeningStatus(models.TextChoices):
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


def screening_file_path(instance: ScreeningRun, filename: str) -> str:
    return f"credentialing/exclusions/{instance.source}-{uuid.uuid4().hex}.csv"


class ScreeningRun(models.Model):
    """One screening of every active practitioner and clinic against one exclusion file (the proof)."""

    source = models.CharField(max_length=10, choices=ExclusionSource.choices)
    file = models.FileField(upload_to=screening_file_path, max_length=200)
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    file_date = models.DateField(help_text="The date the list was published.")
    status = models.CharField(
        max_length=20, choices=ScreeningStatus.choices, default=ScreeningStatus.RUNNING
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    # [{"line": 12, "error": "..."}] for lines that could not be read (the rest are used).
    line_errors = models.JSONField(default=list, blank=True)
    practitioners_screened = models.PositiveIntegerField(default=0)
    clinics_screened = models.PositiveIntegerField(default=0)
    hits = models.PositiveIntegerField(default=0)
    failure = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["source", "-file_date"], name="cred_screen_source_idx")]

    def __str__(self) -> str:
        return f"{self.get_source_display()} of {self.file_date} (run #{self.pk})"


class ScreeningOutcome(models.TextChoices):
    CLEAR = "clear", "Clear"
    HIT = "hit", "Match"


class ReviewStatus(models.TextChoices):
    NONE = "", "—"
    OPEN = "open", "To review"
    CONFIRMED = "confirmed", "Confirmed exclusion"
    CLEARED = "cleared", "Not the same person (cleared)"


class ScreeningResult(models.Model):
    """The result of screening one practitioner or clinic in one run: proof the check was made."""

    run = models.ForeignKey(ScreeningRun, on_delete=models.PROTECT, related_name="results")
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screening_results",
    )
    clinic = models.ForeignKey(
        "providers.Clinic",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="screening_results",
    )
    outcome = models.CharField(max_length=10, choices=ScreeningOutcome.choices)
    matched_on = models.CharField(max_length=20, blank=True)  # "npi", "name_dob", "business_name"
    matched_line = models.PositiveIntegerField(null=True, blank=True)
    matched_record = models.JSONField(default=dict, blank=True)
    review_status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.NONE, blank=True
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-outcome", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(practitioner__isnull=False, clinic__isnull=True)
                | Q(practitioner__isnull=True, clinic__isnull=False),
                name="cred_screening_one_subject",
            ),
            models.UniqueConstraint(
                fields=["run", "practitioner"],
                condition=Q(practitioner__isnull=False),
                name="cred_screening_once_per_practitioner",
            ),
            models.UniqueConstraint(
                fields=["run", "clinic"],
                condition=Q(clinic__isnull=False),
                name="cred_screening_once_per_clinic",
            ),
        ]
        indexes = [models.Index(fields=["review_status"], name="cred_screening_review_idx")]

    def __str__(self) -> str:
        subject = self.practitioner or self.clinic
        return f"{subject}: {self.get_outcome_display()}"


class ChangeKind(models.TextChoices):
    ADD_LOCATION = "add_location", "Add a location"
    CHANGE_LOCATION = "change_location", "Change a location"
    CLOSE_LOCATION = "close_location", "Close a location"
    ADD_PRACTITIONER = "add_practitioner", "Add a practitioner"
    CHANGE_PRACTITIONER = "change_practitioner", "Change a practitioner (e.g. name change)"
    REMOVE_PRACTITIONER = "remove_practitioner", "Practitioner leaves the clinic"


class ChangeStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"
    REJECTED = "rejected", "Rejected"


class ChangeRequest(models.Model):
    """A clinic asks to add, change or remove a practitioner or a location; staff complete it."""

    clinic = models.ForeignKey(
        "providers.Clinic", on_delete=models.PROTECT, related_name="change_requests"
    )
    kind = models.CharField(max_length=30, choices=ChangeKind.choices)
    status = models.CharField(
        max_length=20, choices=ChangeStatus.choices, default=ChangeStatus.OPEN
    )
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
    )
    location = models.ForeignKey(
        "providers.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
    )
    # The new values asked for, e.g. {"last_name": "Rivera"} or a new location's address.
    details = models.JSONField(default=dict, blank=True)
    requested_by = models.CharField(
        max_length=200, help_text="Who at the clinic asked (name, email or phone)."
    )
    received_on = models.DateField()
    effective_on = models.DateField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    # What the completed request produced (a new location, an opened credentialing application).
    created_location = models.ForeignKey(
        "providers.Location", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_application = models.ForeignKey(
        CredentialingApplication, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        indexes = [models.Index(fields=["clinic", "status"], name="cred_change_clinic_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} — {self.clinic}"


__all__ = [
    "ChangeKind", "ChangeRequest", "ChangeStatus", "ExclusionSource", "ReviewStatus",
    "ScreeningOutcome", "ScreeningResult", "ScreeningRun", "ScreeningStatus", "StaffTask",
    "TaskKind", "TaskStatus", "screening_file_path",
]  # fmt: skip
