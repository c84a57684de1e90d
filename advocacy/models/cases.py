"""Advocacy cases and their timeline: events, notes, contacts, tasks, attachments, policy links.

A case belongs to one member; it is worked by an advocate through an explicit status machine
(`CASE_TRANSITIONS`), each move writing a `CaseEvent`. Notes are append-only (the database
rejects UPDATE and DELETE on them, migration 0002): a correction is a new note pointing at the
one it corrects. Savings (billed, expected, paid, recovered) are kept on the case.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from cooperative.models import TimeStampedModel
from cooperative.money import format_usd


class CaseType(models.TextChoices):
    CARE_COORDINATION = "care_coordination", "Care coordination"
    BILLING_REVIEW = "billing_review", "Billing review"
    CLAIM_DISPUTE = "claim_dispute", "Claim dispute"
    POLICY_QUESTION = "policy_question", "Policy question"
    REFERRAL = "referral", "Referral"
    OTHER = "other", "Other"


class CasePriority(models.TextChoices):
    URGENT = "urgent", "Urgent"
    HIGH = "high", "High"
    NORMAL = "normal", "Normal"
    LOW = "low", "Low"


# Business days to the due date when no PriorityTarget row overrides them.
DEFAULT_PRIORITY_TARGETS: dict[str, int] = {
    CasePriority.URGENT: 1,
    CasePriority.HIGH: 3,
    CasePriority.NORMAL: 10,
    CasePriority.LOW: 20,
}
PRIORITY_ORDER = [CasePriority.URGENT, CasePriority.HIGH, CasePriority.NORMAL, CasePriority.LOW]


class CaseStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    WAITING_MEMBER = "waiting_member", "Waiting for the member"
    WAITING_PROVIDER = "waiting_provider", "Waiting for the provider"
    WAITING_PAYER = "waiting_payer", "Waiting for the payer"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    REOPENED = "reopened", "Reopened"


WAITING_STATUSES = (
    CaseStatus.WAITING_MEMBER,
    CaseStatus.WAITING_PROVIDER,
    CaseStatus.WAITING_PAYER,
)
_WORKING: set[str] = {CaseStatus.IN_PROGRESS, *WAITING_STATUSES, CaseStatus.RESOLVED}
CASE_TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.NEW: {CaseStatus.ASSIGNED, CaseStatus.CLOSED},
    CaseStatus.ASSIGNED: {CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED, CaseStatus.CLOSED},
    CaseStatus.IN_PROGRESS: _WORKING - {CaseStatus.IN_PROGRESS},
    CaseStatus.WAITING_MEMBER: _WORKING - {CaseStatus.WAITING_MEMBER},
    CaseStatus.WAITING_PROVIDER: _WORKING - {CaseStatus.WAITING_PROVIDER},
    CaseStatus.WAITING_PAYER: _WORKING - {CaseStatus.WAITING_PAYER},
    CaseStatus.RESOLVED: {CaseStatus.CLOSED, CaseStatus.REOPENED},
    CaseStatus.CLOSED: {CaseStatus.REOPENED},
    CaseStatus.REOPENED: _WORKING,
}
OPEN_CASE_STATUSES = tuple(
    s for s in CaseStatus.values if s not in (CaseStatus.RESOLVED, CaseStatus.CLOSED)
)
# A case may take notes, contacts and tasks until it is closed.
WRITABLE_CASE_STATUSES = tuple(s for s in CaseStatus.values if s != CaseStatus.CLOSED)


class SourceChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Member portal"
    PROVIDER = "provider", "Provider"
    TRIGGER = "trigger", "Care-coordination trigger"


class PriorityTarget(models.Model):
    """How many business days a case of a priority has before it is due (configurable in the admin)."""

    priority = models.CharField(max_length=10, choices=CasePriority.choices, unique=True)
    business_days = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(business_days__gte=1) & Q(business_days__lte=90),
                name="advocacy_prioritytarget_days_1_90",
                violation_error_message="A target is between 1 and 90 business days.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_priority_display()}: {self.business_days} business day(s)"


_MONEY: dict = {"max_digits": 12, "decimal_places": 2, "null": True, "blank": True}


class Case(TimeStampedModel):
    """One piece of advocacy work for one member, due by its priority's target."""

    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="cases")
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advocacy_cases",
    )
    clinic = models.ForeignKey(
        "providers.Clinic",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advocacy_cases",
    )
    payer = models.ForeignKey(
        "providers.Payer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advocacy_cases",
    )
    case_type = models.CharField("type", max_length=20, choices=CaseType.choices)
    priority = models.CharField(
        max_length=10, choices=CasePriority.choices, default=CasePriority.NORMAL
    )
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advocacy_cases",
    )
    source = models.CharField(max_length=10, choices=SourceChannel.choices)
    summary = models.CharField(max_length=300)
    opened_at = models.DateTimeField()
    due_on = models.DateField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    # Flagged for attention (e.g. a missed treatment-plan review) until an advocate clears it.
    flag_reason = models.CharField(max_length=300, blank=True)
    # Savings: what was billed, what was agreed or expected, what was finally paid, and what
    # the advocate recovered or avoided for the member.
    billed_amount = models.DecimalField(**_MONEY)
    expected_amount = models.DecimalField("agreed or expected amount", **_MONEY)
    paid_amount = models.DecimalField("amount finally paid", **_MONEY)
    recovered_amount = models.DecimalField("recovered or avoided amount", **_MONEY)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["status", "due_on"], name="advocacy_case_status_due"),
            models.Index(fields=["assignee", "status", "due_on"], name="advocacy_case_assignee"),
            models.Index(fields=["member", "status"], name="advocacy_case_member"),
            models.Index(fields=["resolved_at"], name="advocacy_case_resolved"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(billed_amount__isnull=True) | Q(billed_amount__gte=0))
                    & (Q(expected_amount__isnull=True) | Q(expected_amount__gte=0))
                    & (Q(paid_amount__isnull=True) | Q(paid_amount__gte=0))
                    & (Q(recovered_amount__isnull=True) | Q(recovered_amount__gte=0))
                ),
                name="advocacy_case_amounts_not_negative",
                violation_error_message="Amounts cannot be negative.",
            ),
        ]
        permissions = [("work_case", "Can work advocacy cases in the workspace")]

    def __str__(self) -> str:
        return f"{self.reference} · {self.summary}"

    @property
    def reference(self) -> str:
        return f"C-{self.pk:06d}" if self.pk else "C-new"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CASE_STATUSES

    @property
    def savings_amount(self) -> Decimal:
        return self.recovered_amount or Decimal("0.00")


class CaseEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    STATUS = "status", "Status changed"
    ASSIGNMENT = "assignment", "Assigned"
    PRIORITY = "priority", "Priority changed"
    SAVINGS = "savings", "Savings updated"
    FLAG = "flag", "Flagged"
    REQUIREMENT = "requirement", "Care-coordination requirement"


class CaseEvent(models.Model):
    """One change of a case (status, assignee, priority, savings, flag): who, when, from, to, why."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=20, choices=CaseEventKind.choices)
    from_value = models.CharField(max_length=100, blank=True)
    to_value = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["kind", "occurred_at"], name="advocacy_event_kind_at")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.from_value} → {self.to_value}"

    def _label(self, value: str) -> str:
        from .coordination import RequirementStatus  # coordination imports this module

        choices = {
            "status": CaseStatus,
            "opened": CaseStatus,
            "priority": CasePriority,
            "requirement": RequirementStatus,
        }.get(self.kind)
        if choices is not None and value in choices.values:
            return str(choices(value).label)
        return value

    @property
    def from_label(self) -> str:
        """The old value as people read it (a status's label, not its code)."""
        return self._label(self.from_value)

    @property
    def to_label(self) -> str:
        return self._label(self.to_value)

    @property
    def change_text(self) -> str:
        """The change in plain words for the timeline ("Waiting for the member → Declined"):
        labels rather than codes, amounts in dollars, "" when the kind says it all."""
        if self.kind == CaseEventKind.SAVINGS:
            return "; ".join(_savings_change_text(part) for part in self.to_value.split("; "))
        if self.kind == CaseEventKind.FLAG:
            return "cleared" if self.to_value == "cleared" else ""
        if not (self.from_value or self.to_value):
            return ""
        if self.from_value == self.to_value:  # a step that kept the status (a notice sent)
            return self.to_label
        return f"{self.from_label or '—'} → {self.to_label or '—'}"


_SAVINGS_FIELDS = ("billed_amount", "expected_amount", "paid_amount", "recovered_amount")


def _savings_change_text(change: str) -> str:
    """ "billed_amount None → 120.00" (as stored) → "billed amount: — → $120.00"."""
    name, _, values = change.partition(" ")
    before, arrow, after = values.partition(" → ")
    field_names = {
        f: str(getattr(Case._meta.get_field(f), "verbose_name", f)) for f in _SAVINGS_FIELDS
    }
    if name not in field_names or not arrow:
        return change

    def money(value: str) -> str:
        try:
            return format_usd(Decimal(value))
        except ArithmeticError:  # "None" (no amount yet) or anything unexpected
            return "—"

    return f"{field_names[name]}: {money(before)} → {money(after)}"


class CaseNote(models.Model):
    """A note on a case; append-only (a correction is a new note that names the one it corrects)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="notes")
    body = models.TextField()
    is_shared = models.BooleanField(
        "shared with the member",
        default=False,
        help_text="Shared notes show in the member's portal.",
    )
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.body[:60]


class ContactChannel(models.TextChoices):
    CALL = "call", "Call"
    EMAIL = "email", "Email"
    LETTER = "letter", "Letter"


class ContactDirection(models.TextChoices):
    OUTBOUND = "outbound", "Outbound"
    INBOUND = "inbound", "Inbound"


class ContactParty(models.TextChoices):
    MEMBER = "member", "Member"
    PROVIDER = "provider", "Provider"
    PAYER = "payer", "Payer"
    OTHER = "other", "Other"


class CaseContact(models.Model):
    """A logged call, email or letter: with whom, when, and the outcome."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="contacts")
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    direction = models.CharField(
        max_length=10, choices=ContactDirection.choices, default=ContactDirection.OUTBOUND
    )
    party = models.CharField(max_length=10, choices=ContactParty.choices)
    with_whom = models.CharField(max_length=200)
    occurred_at = models.DateTimeField()
    outcome = models.TextField()
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} with {self.with_whom}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "Open"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


class CaseTask(models.Model):
    """A to-do on a case with a due date and an assignee."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="tasks")
    title = models.CharField(max_length=200)
    due_on = models.DateField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="advocacy_tasks",
    )
    status = models.CharField(max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["status", "due_on", "id"]
        indexes = [models.Index(fields=["assignee", "status", "due_on"], name="advocacy_task_due")]

    def __str__(self) -> str:
        return self.title


def case_attachment_path(instance: CaseAttachment, filename: str) -> str:
    """Server-generated private names (never public media)."""
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"advocacy/attachments/{uuid.uuid4().hex}.{extension}"


class CaseAttachment(models.Model):
    """A document on a case (a bill, an EOB, a letter), checked by content, its SHA-256 recorded."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    description = models.CharField(max_length=200)
    file = models.FileField(upload_to=case_attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.description} ({self.original_name})"


class CasePolicyLink(models.Model):
    """A payer policy update that bears on the case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="policy_links")
    policy_update = models.ForeignKey(
        "providers.PayerPolicyUpdate", on_delete=models.PROTECT, related_name="case_links"
    )
    note = models.CharField(max_length=300, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-linked_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "policy_update"],
                name="advocacy_policylink_once",
                violation_error_message="This policy update is already linked to the case.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} ↔ {self.policy_update}"


__all__ = [
    "CASE_TRANSITIONS", "DEFAULT_PRIORITY_TARGETS", "OPEN_CASE_STATUSES", "PRIORITY_ORDER",
    "WAITING_STATUSES", "WRITABLE_CASE_STATUSES",
    "Case", "CaseAttachment", "CaseContact", "CaseEvent", "CaseEventKind", "CaseNote",
    "CasePolicyLink", "CasePriority", "CaseStatus", "CaseTask", "CaseType", "ContactChannel",
    "ContactDirection", "ContactParty", "PriorityTarget", "SourceChannel", "TaskStatus",
    "case_attachment_path",
]  # fmt: skip
