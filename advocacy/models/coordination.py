"""Required care coordination: utilization events, the requirements they trigger, the written
notice, the member's response, the 40% benefit penalty and treatment plans.

A requirement exists once per member and reason (a database constraint), so re-imported events
never create a second one. The penalty is recorded per related expense line (40% of what the
plan would normally pay, rounded half-up at the line) and summed in its own accumulator per
member and year, never counted toward deductibles or out-of-pocket limits.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cooperative.models import TimeStampedModel

PENALTY_PERCENT = Decimal("40.00")
# Trailing window and thresholds of the inpatient rules.
TRAILING_DAYS = 365
INPATIENT_STAYS_THRESHOLD = 3
INPATIENT_DAYS_THRESHOLD = 30


class UtilizationType(models.TextChoices):
    INPATIENT_STAY = "inpatient_stay", "Inpatient stay"
    HOME_HEALTH = "home_health", "Home-health service"
    AMA_DISCHARGE = "ama_discharge", "Discharge against medical advice"
    COMPLEX_PREAUTH = "complex_preauth", "Preauthorization for a complex condition"
    TREATMENT_INCOMPLETE = "treatment_incomplete", "Treatment course not completed"


class ComplexCondition(models.TextChoices):
    CANCER_TREATMENT = "cancer_treatment", "Cancer treatment"
    DIALYSIS = "dialysis", "Dialysis"
    CARDIOTHORACIC_SURGERY = "cardiothoracic_surgery", "Cardiothoracic surgery"


class UtilizationSource(models.TextChoices):
    STAFF = "staff", "Recorded by staff"
    IMPORT = "import", "CSV import"


class UtilizationImport(TimeStampedModel):
    """One CSV file of utilization events: what was imported, what was a duplicate, what was refused."""

    file_name = models.CharField(max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    imported_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    requirements_created = models.PositiveIntegerField(default=0)
    rejected_lines = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_count} imported)"


class UtilizationEvent(models.Model):
    """A utilization fact about a member (a stay, a service, a preauthorization) that rules read."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="utilization_events"
    )
    event_type = models.CharField("type", max_length=30, choices=UtilizationType.choices)
    # The event's date; for an inpatient stay, the admission date.
    occurred_on = models.DateField("date (admission for a stay)")
    discharged_on = models.DateField(null=True, blank=True)
    condition = models.CharField(max_length=30, choices=ComplexCondition.choices, blank=True)
    provider_name = models.CharField("provider", max_length=200)
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="utilization_events",
    )
    description = models.CharField(max_length=300, blank=True)
    source = models.CharField(max_length=10, choices=UtilizationSource.choices)
    utilization_import = models.ForeignKey(
        UtilizationImport,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )
    # The natural key of the fact (member, type, dates, condition, provider), so that importing
    # the same file twice records nothing twice.
    dedupe_key = models.CharField(max_length=64, unique=True, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(
                fields=["member", "event_type", "occurred_on"], name="advocacy_util_member"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True) | Q(discharged_on__gte=F("occurred_on")),
                name="advocacy_util_discharge_after_admit",
                violation_error_message="The discharge date cannot be before the admission date.",
            ),
            models.CheckConstraint(
                condition=~Q(event_type="inpatient_stay") | Q(discharged_on__isnull=False),
                name="advocacy_util_stay_has_discharge",
                violation_error_message="An inpatient stay needs its discharge date.",
            ),
            models.CheckConstraint(
                condition=~Q(event_type="complex_preauth") | ~Q(condition=""),
                name="advocacy_util_preauth_has_condition",
                violation_error_message="A complex-condition preauthorization names its condition.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} on {self.occurred_on}"

    @property
    def inpatient_days(self) -> int:
        """Days in hospital: discharge minus admission, a same-day stay counting as one."""
        if self.event_type != UtilizationType.INPATIENT_STAY or self.discharged_on is None:
            return 0
        return max((self.discharged_on - self.occurred_on).days, 1)


class RequirementReason(models.TextChoices):
    INPATIENT_STAYS = "inpatient_stays", "Three or more inpatient stays in 12 months"
    INPATIENT_DAYS = "inpatient_days", "30 or more inpatient days in 12 months"
    HOME_HEALTH = "home_health", "Home-health services"
    AMA_DISCHARGE = "ama_discharge", "Discharge against medical advice"
    COMPLEX_CONDITION = "complex_condition", "Complex condition"
    TREATMENT_INCOMPLETE = "treatment_incomplete", "Treatment course not completed"


class RequirementStatus(models.TextChoices):
    NOTICE_PENDING = "notice_pending", "Notice to send"
    AWAITING_RESPONSE = "awaiting_response", "Awaiting the member's response"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    NO_RESPONSE = "no_response", "No response by the deadline"
    FAILED_TO_COOPERATE = "failed_to_cooperate", "Failed to cooperate"
    ENDED = "ended", "Ended"


# Statuses under which the 40% benefit penalty applies to related expenses.
PENALTY_STATUSES = (
    RequirementStatus.DECLINED,
    RequirementStatus.NO_RESPONSE,
    RequirementStatus.FAILED_TO_COOPERATE,
)


class CareCoordinationRequirement(TimeStampedModel):
    """A member's obligation to use care coordination, triggered by utilization, once per reason."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="coordination_requirements"
    )
    reason = models.CharField(max_length=30, choices=RequirementReason.choices)
    status = models.CharField(
        max_length=30, choices=RequirementStatus.choices, default=RequirementStatus.NOTICE_PENDING
    )
    case = models.OneToOneField(
        "advocacy.Case", on_delete=models.PROTECT, related_name="requirement"
    )
    triggering_events = models.ManyToManyField(UtilizationEvent, related_name="requirements")
    triggered_on = models.DateField()
    response_due_on = models.DateField(null=True, blank=True)
    responded_on = models.DateField(null=True, blank=True)
    response_note = models.CharField(max_length=500, blank=True)
    penalty_percent = models.DecimalField(max_digits=5, decimal_places=2, default=PENALTY_PERCENT)
    penalty_since = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-triggered_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "reason"],
                name="advocacy_requirement_once_per_reason",
                violation_error_message="This member already has a requirement for this reason.",
            )
        ]
        indexes = [
            models.Index(fields=["status", "response_due_on"], name="advocacy_req_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.get_status_display()})"

    @property
    def penalty_applies(self) -> bool:
        return self.status in PENALTY_STATUSES


class NoticeMethod(models.TextChoices):
    MAIL = "mail", "First-class mail"
    CERTIFIED_MAIL = "certified_mail", "Certified mail"
    EMAIL = "email", "Email"
    PORTAL = "portal", "Member portal"


def notice_path(instance: RequirementNotice, filename: str) -> str:
    return f"advocacy/notices/{uuid.uuid4().hex}.pdf"


class RequirementNotice(models.Model):
    """The written notice of a requirement: the letter PDF, and when and how it was sent."""

    requirement = models.ForeignKey(
        CareCoordinationRequirement, on_delete=models.PROTECT, related_name="notices"
    )
    letter_date = models.DateField()
    response_due_on = models.DateField()
    # Rendered by a worker (web processes never render PDFs): empty until then.
    file = models.FileField(upload_to=notice_path, max_length=200, blank=True)
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    method = models.CharField(max_length=20, choices=NoticeMethod.choices, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(sent_on__isnull=True) & Q(method=""))
                | (Q(sent_on__isnull=False) & ~Q(method="")),
                name="advocacy_notice_sent_with_method",
                violation_error_message="A sent notice records both the date and the method.",
            ),
            models.CheckConstraint(
                condition=Q(response_due_on__gt=F("letter_date")),
                name="advocacy_notice_due_after_letter",
                violation_error_message="The response deadline must be after the letter date.",
            ),
        ]

    def __str__(self) -> str:
        return f"Notice of {self.letter_date}"


class RelatedExpense(models.Model):
    """An expense line related to a requirement: what the plan would normally pay for it."""

    requirement = models.ForeignKey(
        CareCoordinationRequirement, on_delete=models.PROTECT, related_name="expenses"
    )
    service_date = models.DateField()
    description = models.CharField(max_length=200)
    code = models.CharField(max_length=5, blank=True)
    provider_name = models.CharField(max_length=200)
    billed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    plan_amount = models.DecimalField(
        "amount the plan would normally pay", max_digits=12, decimal_places=2
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["service_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(billed_amount__gte=0)
                & Q(plan_amount__gte=0)
                & Q(plan_amount__lte=F("billed_amount")),
                name="advocacy_expense_amounts",
                violation_error_message=(
                    "Amounts cannot be negative, and the plan amount cannot exceed the billed amount."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.service_date} {self.description}"


class PenaltyLine(models.Model):
    """The 40% benefit penalty on one related expense line (at most one per line)."""

    expense = models.OneToOneField(RelatedExpense, on_delete=models.PROTECT, related_name="penalty")
    requirement = models.ForeignKey(
        CareCoordinationRequirement, on_delete=models.PROTECT, related_name="penalty_lines"
    )
    member = models.ForeignKey("members.Member", on_delete=models.PROTECT, related_name="+")
    percent = models.DecimalField(max_digits=5, decimal_places=2)
    base_amount = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    year = models.PositiveSmallIntegerField()
    applied_at = models.DateTimeField(auto_now_add=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["expense__service_date", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount__lte=F("base_amount")),
                name="advocacy_penalty_within_base",
                violation_error_message="A penalty is between zero and the plan amount.",
            )
        ]

    def __str__(self) -> str:
        return f"Penalty {self.amount} on {self.expense}"


class PenaltyAccumulator(models.Model):
    """Benefit penalties of a member in a year: a separate accumulator, never counted toward
    deductibles or out-of-pocket limits."""

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="penalty_accumulators"
    )
    year = models.PositiveSmallIntegerField()
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    line_count = models.PositiveIntegerField(default=0)
    counts_toward_deductible = models.BooleanField(default=False, editable=False)
    counts_toward_out_of_pocket = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["member", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["member", "year"], name="advocacy_penalty_acc_once"),
            models.CheckConstraint(
                condition=Q(counts_toward_deductible=False) & Q(counts_toward_out_of_pocket=False),
                name="advocacy_penalty_acc_separate",
                violation_error_message=(
                    "Benefit penalties never count toward deductibles or out-of-pocket limits."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Penalties {self.year}: {self.total}"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    ENDED = "ended", "Ended"


class TreatmentPlan(TimeStampedModel):
    """Goals, interventions and responsible providers for a member, reviewed on set dates."""

    case = models.ForeignKey("advocacy.Case", on_delete=models.PROTECT, related_name="plans")
    requirement = models.ForeignKey(
        CareCoordinationRequirement,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans",
    )
    goals = models.TextField()
    interventions = models.TextField()
    responsible_practitioners = models.ManyToManyField(
        "providers.Practitioner", blank=True, related_name="treatment_plans"
    )
    other_responsible = models.CharField("other responsible providers", max_length=300, blank=True)
    starts_on = models.DateField()
    review_interval_days = models.PositiveSmallIntegerField(default=30)
    requires_submission = models.BooleanField(
        default=False, help_text="The member or provider must submit progress at each review."
    )
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(review_interval_days__gte=7) & Q(review_interval_days__lte=365),
                name="advocacy_plan_interval",
                violation_error_message="Reviews are between 7 and 365 days apart.",
            )
        ]

    def __str__(self) -> str:
        return f"Treatment plan from {self.starts_on}"


class ReviewStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    MISSED = "missed", "Missed"
    EXCUSED = "excused", "Excused"
    FAILURE_CONFIRMED = "failure_confirmed", "Missed: failure to cooperate confirmed"


class PlanReview(models.Model):
    """One scheduled review of a treatment plan; a missed one flags the case."""

    plan = models.ForeignKey(TreatmentPlan, on_delete=models.PROTECT, related_name="reviews")
    due_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.SCHEDULED
    )
    submission_received_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "due_on"], name="advocacy_review_once"),
        ]
        indexes = [models.Index(fields=["status", "due_on"], name="advocacy_review_due")]

    def __str__(self) -> str:
        return f"Review due {self.due_on} ({self.get_status_display()})"


__all__ = [
    "INPATIENT_DAYS_THRESHOLD", "INPATIENT_STAYS_THRESHOLD", "PENALTY_PERCENT", "PENALTY_STATUSES",
    "TRAILING_DAYS",
    "CareCoordinationRequirement", "ComplexCondition", "NoticeMethod", "PenaltyAccumulator",
    "PenaltyLine", "PlanReview", "PlanStatus", "RelatedExpense", "RequirementNotice",
    "RequirementReason", "RequirementStatus", "ReviewStatus", "TreatmentPlan", "UtilizationEvent",
    "UtilizationImport", "UtilizationSource", "UtilizationType", "notice_path",
]  # fmt: skip
