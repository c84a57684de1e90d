"""Member rate agreements: what a member pays a provider each month (by age band) and for
services outside the monthly fee, for a term of one or two years."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q

from cooperative.models import TimeStampedModel

from .network import Clinic, Practitioner

MAX_MONTHLY_FEE = 2000
MAX_SERVICE_PRICE = 50000
DEFAULT_AGE_BANDS = [(0, 17), (18, 44), (45, 64)]
OLDEST_MEMBER_AGE = 64

_CPT = re.compile(r"^\d{5}$|^\d{4}[A-Z]$")
_HCPCS = re.compile(r"^[A-Z]\d{4}$")


def validate_service_code(value: str) -> None:
    """CPT (5 digits, or 4 digits and a letter, e.g. 99213, 0001U) or HCPCS Level II (J3301)."""
    code = str(value or "").strip().upper()
    if not (_CPT.match(code) or _HCPCS.match(code)):
        raise ValidationError(
            "A service code is CPT (5 digits, or 4 digits and a letter: 99213, 0001U) "
            "or HCPCS Level II (a letter and 4 digits: J3301).",
            code="service_code",
        )


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OFFERED = "offered", "Offered"
    COUNTERED = "countered", "Countered"
    ACCEPTED = "accepted", "Accepted"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"
    TERMINATED = "terminated", "Terminated"


AGREEMENT_TRANSITIONS: dict[str, set[str]] = {
    AgreementStatus.DRAFT: {AgreementStatus.OFFERED, AgreementStatus.TERMINATED},
    AgreementStatus.OFFERED: {
        AgreementStatus.ACCEPTED,
        AgreementStatus.REJECTED,
        AgreementStatus.COUNTERED,
    },
    # A counter is answered like an offer: accepted, rejected, or offered again with new terms.
    AgreementStatus.COUNTERED: {
        AgreementStatus.ACCEPTED,
        AgreementStatus.REJECTED,
        AgreementStatus.OFFERED,
    },
    AgreementStatus.ACCEPTED: {AgreementStatus.ACTIVE, AgreementStatus.TERMINATED},
    AgreementStatus.ACTIVE: {AgreementStatus.EXPIRED, AgreementStatus.TERMINATED},
    AgreementStatus.EXPIRED: set(),
    AgreementStatus.REJECTED: set(),
    AgreementStatus.TERMINATED: set(),
}
EDITABLE_STATUSES = {AgreementStatus.DRAFT, AgreementStatus.COUNTERED}


class DateRange(Func):
    function = "daterange"
    output_field = DateRangeField()


class RateAgreement(TimeStampedModel):
    """Terms between a clinic (optionally one practitioner) and the cooperative's members."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="agreements")
    practitioner = models.ForeignKey(
        Practitioner, null=True, blank=True, on_delete=models.PROTECT, related_name="agreements"
    )
    term_start = models.DateField()
    term_end = models.DateField(help_text="Last day of the term (inclusive).")
    status = models.CharField(
        max_length=20, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT
    )
    scope_of_services = models.TextField(
        blank=True, help_text="What the monthly fee includes, in plain words, one item a line."
    )
    renewed_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals"
    )

    class Meta:
        ordering = ["-term_start", "clinic__legal_name"]
        indexes = [models.Index(fields=["status", "term_end"], name="agreement_status_end_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gt=F("term_start")), name="agreement_ends_after_start"
            ),
            ExclusionConstraint(
                name="agreement_one_active_per_clinic",
                expressions=[
                    ("clinic", RangeOperators.EQUAL),
                    (
                        DateRange("term_start", "term_end", models.Value("[]")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(status="active"),
                violation_error_message="This clinic already has an active agreement for part of this term.",
            ),
        ]

    def __str__(self) -> str:
        who = self.practitioner or self.clinic
        return f"{who} {self.term_start:%Y-%m-%d}–{self.term_end:%Y-%m-%d} ({self.get_status_display()})"

    @property
    def scope_items(self) -> list[str]:
        return [line.strip() for line in self.scope_of_services.splitlines() if line.strip()]


class AgeBand(models.Model):
    """The monthly primary-care fee for members whose age falls in [min_age, max_age]."""

    agreement = models.ForeignKey(RateAgreement, on_delete=models.CASCADE, related_name="age_bands")
    min_age = models.PositiveSmallIntegerField()
    max_age = models.PositiveSmallIntegerField()
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["min_age"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "min_age"], name="band_unique_start"),
            models.CheckConstraint(
                condition=Q(max_age__gte=F("min_age")), name="band_max_after_min"
            ),
            models.CheckConstraint(
                condition=Q(monthly_fee__gte=0, monthly_fee__lte=MAX_MONTHLY_FEE),
                name="band_fee_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.min_age}–{self.max_age}: ${self.monthly_fee}"


class CapPeriod(models.TextChoices):
    MONTH = "month", "per month"
    YEAR = "year", "per year"


class FeeScheduleLine(models.Model):
    """The member price of one service outside the monthly fee (CPT or HCPCS code)."""

    agreement = models.ForeignKey(RateAgreement, on_delete=models.CASCADE, related_name="fee_lines")
    code = models.CharField(max_length=5, validators=[validate_service_code])
    description = models.CharField(max_length=200)
    member_price = models.DecimalField(max_digits=12, decimal_places=2)
    cap_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Most a member is billed per period.",
    )
    cap_period = models.CharField(max_length=10, choices=CapPeriod.choices, blank=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["code"], name="fee_line_code_idx")]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "code"], name="fee_line_unique_code"),
            models.CheckConstraint(
                condition=Q(member_price__gt=0, member_price__lte=MAX_SERVICE_PRICE),
                name="fee_line_price_in_range",
            ),
            models.CheckConstraint(
                condition=Q(cap_amount__isnull=True, cap_period="")
                | Q(cap_amount__gt=0, cap_period__in=["month", "year"]),
                name="fee_line_cap_complete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.description}: ${self.member_price}"


class QualityTerm(models.Model):
    """A quality measure and its target, reviewed yearly."""

    agreement = models.ForeignKey(
        RateAgreement, on_delete=models.CASCADE, related_name="quality_terms"
    )
    measure = models.CharField(max_length=200)
    target = models.CharField(max_length=100)
    last_reviewed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["measure"]

    def __str__(self) -> str:
        return f"{self.measure} {self.target}"


class AgreementEvent(models.Model):
    """One row per agreement status change: who, when, from, to, why (and on whose behalf)."""

    agreement = models.ForeignKey(RateAgreement, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=AgreementStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=AgreementStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    on_behalf_of_provider = models.BooleanField(default=False)
    # For an acceptance: the summary of what changes (dates, fees and prices old → new) exactly
    # as the provider confirmed it (providers.selectors.acceptance_summary); empty otherwise.
    details = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.agreement_id}: {self.from_status or '-'} -> {self.to_status}"


class ProposalSide(models.TextChoices):
    COOPERATIVE = "cooperative", "The cooperative"
    PROVIDER = "provider", "The provider"


class AgreementProposal(models.Model):
    """One version of the terms put on the table (messenger model): who proposed what, when.

    `terms` is a snapshot: {"bands": [[min, max, "fee"], ...], "lines": [[code, description,
    "price", "cap amount" or null, cap period], ...], "scope": "..."}; versions are never changed
    once written (those written before caps were snapshotted have three items a line).
    """

    agreement = models.ForeignKey(RateAgreement, on_delete=models.PROTECT, related_name="proposals")
    version = models.PositiveIntegerField()
    side = models.CharField(max_length=20, choices=ProposalSide.choices)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of_provider = models.BooleanField(default=False)
    terms = models.JSONField()
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agreement", "version"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "version"], name="proposal_unique_version")
        ]

    def __str__(self) -> str:
        return f"Agreement {self.agreement_id} v{self.version} ({self.get_side_display()})"


class ProviderAccount(models.Model):
    """Links a Provider user to the clinic it answers for in the provider portal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="provider_account"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="provider_accounts")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["clinic", "user"]

    def __str__(self) -> str:
        return f"{self.user} for {self.clinic}"
