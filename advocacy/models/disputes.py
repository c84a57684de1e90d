"""Claim disputes, billing reviews and referrals, each worked on a case.

A dispute's qualification for advocacy (high-dollar, systemic, payer unresponsive) is computed
by selectors from the stored facts, never stored as a flag that could go stale.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from cooperative.models import TimeStampedModel
from providers.models import validate_service_code


class DisputeOutcome(models.TextChoices):
    PENDING = "pending", "Pending"
    WON = "won", "Won (paid as expected)"
    PARTIAL = "partial", "Partially won"
    LOST = "lost", "Lost (denial upheld)"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ExpectedSource(models.TextChoices):
    FEE_SCHEDULE = "fee_schedule", "Provider's agreed fee schedule"
    PAYER_CONTRACT = "payer_contract", "Payer contract"
    MANUAL = "manual", "Entered by the advocate"


class ClaimDispute(TimeStampedModel):
    """A member's claim an advocate disputes with the payer: the amounts, the deadline, the outcome."""

    case = models.ForeignKey("advocacy.Case", on_delete=models.PROTECT, related_name="disputes")
    payer = models.ForeignKey(
        "providers.Payer", on_delete=models.PROTECT, related_name="claim_disputes"
    )
    payer_contract = models.ForeignKey(
        "providers.PayerContract",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claim_disputes",
    )
    claim_number = models.CharField(max_length=40)
    service_date = models.DateField("date of service")
    codes = ArrayField(
        models.CharField(max_length=5, validators=[validate_service_code]),
        help_text="CPT/HCPCS codes on the claim.",
    )
    billed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    allowed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_amount = models.DecimalField(max_digits=12, decimal_places=2)
    expected_amount = models.DecimalField(max_digits=12, decimal_places=2)
    expected_source = models.CharField(max_length=20, choices=ExpectedSource.choices)
    # The payer's decision (EOB or denial) the dispute answers, and the contract's deadline.
    decision_on = models.DateField("payer decision date")
    filing_deadline = models.DateField()
    submitted_on = models.DateField(null=True, blank=True)
    payer_responded_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(
        max_length=10, choices=DisputeOutcome.choices, default=DisputeOutcome.PENDING
    )
    outcome_on = models.DateField(null=True, blank=True)
    recovered_amount = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-service_date", "-id"]
        indexes = [
            models.Index(fields=["payer", "service_date"], name="advocacy_dispute_payer_date"),
            models.Index(fields=["outcome", "submitted_on"], name="advocacy_dispute_outcome"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "claim_number"],
                name="advocacy_dispute_claim_once",
                violation_error_message="This claim is already disputed with this payer.",
            ),
            models.CheckConstraint(
                condition=Q(billed_amount__gte=0)
                & Q(allowed_amount__gte=0)
                & Q(paid_amount__gte=0)
                & Q(expected_amount__gte=0)
                & Q(recovered_amount__gte=0),
                name="advocacy_dispute_amounts",
                violation_error_message="Amounts cannot be negative.",
            ),
            models.CheckConstraint(
                condition=Q(decision_on__gte=F("service_date")),
                name="advocacy_dispute_decision_after_service",
                violation_error_message="The payer's decision cannot be before the date of service.",
            ),
            models.CheckConstraint(
                condition=Q(submitted_on__isnull=True) | Q(submitted_on__gte=F("decision_on")),
                name="advocacy_dispute_submitted_after_decision",
                violation_error_message="A dispute is submitted after the payer's decision.",
            ),
            models.CheckConstraint(
                condition=Q(payer_responded_on__isnull=True)
                | (Q(submitted_on__isnull=False) & Q(payer_responded_on__gte=F("submitted_on"))),
                name="advocacy_dispute_response_after_submission",
                violation_error_message="The payer answers after the dispute was submitted.",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.claim_number}"

    @property
    def amount_in_dispute(self) -> Decimal:
        """What the payer still owes against what was expected."""
        return max(self.expected_amount - self.paid_amount, Decimal("0.00"))


class BillReviewStatus(models.TextChoices):
    OPEN = "open", "Open"
    COMPLETED = "completed", "Completed"


class BillReview(TimeStampedModel):
    """A provider's bill to a member, line by line against the provider's agreed fee schedule."""

    case = models.ForeignKey("advocacy.Case", on_delete=models.PROTECT, related_name="bill_reviews")
    practitioner = models.ForeignKey(
        "providers.Practitioner", on_delete=models.PROTECT, related_name="bill_reviews"
    )
    agreement = models.ForeignKey(
        "providers.RateAgreement",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bill_reviews",
        help_text="The agreement in force on the bill's date of service.",
    )
    bill_reference = models.CharField(max_length=60, blank=True)
    service_date = models.DateField("date of service")
    status = models.CharField(
        max_length=10, choices=BillReviewStatus.choices, default=BillReviewStatus.OPEN
    )
    # Set when the review is completed: what the member was spared (the overcharge by default).
    avoided_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-service_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(status="open") & Q(avoided_amount__isnull=True))
                | (Q(status="completed") & Q(avoided_amount__gte=0)),
                name="advocacy_billreview_avoided_when_completed",
                violation_error_message="A completed review records what it avoided (zero or more).",
            )
        ]

    def __str__(self) -> str:
        return f"Bill of {self.service_date}"


class BillLine(models.Model):
    """One line of a bill: billed against the agreed price (times units); the overcharge if above."""

    review = models.ForeignKey(BillReview, on_delete=models.PROTECT, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=5, validators=[validate_service_code])
    description = models.CharField(max_length=200, blank=True)
    units = models.PositiveSmallIntegerField(default=1)
    billed_amount = models.DecimalField(max_digits=12, decimal_places=2)
    # None when the code is not on the provider's fee schedule (flagged for the advocate).
    agreed_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    overcharge = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    # The fee line's cap (amount per month or year) when it has one, and, when this line took the
    # member's bills of the code past it, the flag naming the cap and the period used.
    cap_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cap_period = models.CharField(max_length=10, blank=True)
    cap_flag = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["line_number"]
        constraints = [
            models.UniqueConstraint(fields=["review", "line_number"], name="advocacy_billline_no"),
            models.CheckConstraint(
                condition=Q(billed_amount__gte=0) & Q(overcharge__gte=0) & Q(units__gte=1),
                name="advocacy_billline_amounts",
                violation_error_message="Amounts cannot be negative and units start at 1.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.billed_amount}"

    @property
    def is_overcharge(self) -> bool:
        return self.overcharge > 0

    @property
    def is_unpriced(self) -> bool:
        return self.agreed_amount is None

    @property
    def is_over_cap(self) -> bool:
        return bool(self.cap_flag)


class ReferralKind(models.TextChoices):
    IN_NETWORK = "in_network", "In network"
    OUT_OF_NETWORK = "out_of_network", "Out of network"


class ReferralStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    SENT = "sent", "Sent to the provider"
    SCHEDULED = "scheduled", "Appointment scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Referral(TimeStampedModel):
    """A referral of the member to a specialist: in network (from the directory) or out of network."""

    case = models.ForeignKey("advocacy.Case", on_delete=models.PROTECT, related_name="referrals")
    kind = models.CharField(max_length=20, choices=ReferralKind.choices)
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals",
    )
    out_of_network_provider = models.CharField(max_length=300, blank=True)
    reason = models.CharField(max_length=300)
    status = models.CharField(
        max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.REQUESTED
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="in_network")
                    & Q(practitioner__isnull=False)
                    & Q(out_of_network_provider="")
                )
                | (
                    Q(kind="out_of_network")
                    & Q(practitioner__isnull=True)
                    & ~Q(out_of_network_provider="")
                ),
                name="advocacy_referral_target",
                violation_error_message=(
                    "An in-network referral names a practitioner from the directory; "
                    "an out-of-network one names the provider in words."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"Referral to {self.practitioner or self.out_of_network_provider}"


__all__ = [
    "BillLine", "BillReview", "BillReviewStatus", "ClaimDispute", "DisputeOutcome",
    "ExpectedSource", "Referral", "ReferralKind", "ReferralStatus",
]  # fmt: skip
