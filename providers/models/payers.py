"""Payers (insurers) the cooperative negotiates with for its providers, their contracts, and
the log of their policy announcements."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from cooperative.models import TimeStampedModel

from .agreements import validate_service_code
from .network import Clinic


class Payer(TimeStampedModel):
    """An insurer or plan administrator (payer id as used on claims)."""

    name = models.CharField(max_length=200)
    payer_id = models.CharField("payer ID", max_length=20, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.payer_id})"


class PayerContractStatus(models.TextChoices):
    NEGOTIATING = "negotiating", "Negotiating"
    OFFERED_TO_PROVIDERS = "offered_to_providers", "Offered to providers"
    ACTIVE = "active", "Active"
    RENEWAL_DUE = "renewal_due", "Renewal due"
    TERMINATED = "terminated", "Terminated"


PAYER_CONTRACT_TRANSITIONS: dict[str, set[str]] = {
    PayerContractStatus.NEGOTIATING: {
        PayerContractStatus.OFFERED_TO_PROVIDERS,
        PayerContractStatus.TERMINATED,
    },
    PayerContractStatus.OFFERED_TO_PROVIDERS: {
        PayerContractStatus.ACTIVE,
        PayerContractStatus.NEGOTIATING,
        PayerContractStatus.TERMINATED,
    },
    PayerContractStatus.ACTIVE: {PayerContractStatus.RENEWAL_DUE, PayerContractStatus.TERMINATED},
    PayerContractStatus.RENEWAL_DUE: {
        PayerContractStatus.ACTIVE,
        PayerContractStatus.NEGOTIATING,
        PayerContractStatus.TERMINATED,
    },
    PayerContractStatus.TERMINATED: set(),
}


class ReimbursementBasis(models.TextChoices):
    PERCENT_OF_MEDICARE = "percent_of_medicare", "Percent of the Medicare fee schedule"
    FEE_TABLE = "fee_table", "Fee table"
    OTHER = "other", "Other (see terms)"


class PayerContract(TimeStampedModel):
    """The terms the cooperative negotiated with a payer, offered to member providers one by one."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="contracts")
    name = models.CharField(max_length=200)
    term_start = models.DateField()
    term_end = models.DateField()
    status = models.CharField(
        max_length=30, choices=PayerContractStatus.choices, default=PayerContractStatus.NEGOTIATING
    )
    reimbursement_basis = models.CharField(max_length=30, choices=ReimbursementBasis.choices)
    percent_of_medicare = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    timely_filing_days = models.PositiveIntegerField(
        help_text="Days a claim may be filed after service."
    )
    dispute_process = models.TextField(
        help_text="The payer's claim dispute process and its deadlines."
    )
    dispute_deadline_days = models.PositiveIntegerField()
    audit_rights = models.TextField(blank=True)
    termination_notice_days = models.PositiveIntegerField()
    other_terms = models.TextField(blank=True)

    class Meta:
        ordering = ["payer__name", "-term_start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(term_end__gt=F("term_start")), name="payer_contract_ends_after_start"
            ),
            models.CheckConstraint(
                condition=~Q(reimbursement_basis="percent_of_medicare")
                | Q(percent_of_medicare__gt=0, percent_of_medicare__lte=500),
                name="payer_contract_percent_when_medicare_based",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payer.name}: {self.name}"


class PayerContractOfferStatus(models.TextChoices):
    OFFERED = "offered", "Offered"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    COUNTERED = "countered", "Countered"


class PayerContractOffer(models.Model):
    """A payer contract offered privately to one clinic, and that clinic's answer."""

    contract = models.ForeignKey(PayerContract, on_delete=models.PROTECT, related_name="offers")
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="payer_contract_offers"
    )
    status = models.CharField(
        max_length=20,
        choices=PayerContractOfferStatus.choices,
        default=PayerContractOfferStatus.OFFERED,
    )
    answer_note = models.TextField(
        blank=True, help_text="The reason for a rejection, or what a counter asks for."
    )
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_on_behalf = models.BooleanField(default=False)
    answered_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["contract", "clinic__legal_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "clinic"], name="payer_offer_one_per_clinic"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} → {self.clinic} ({self.get_status_display()})"


class PayerPolicyUpdate(TimeStampedModel):
    """A payer's policy announcement that advocates and providers need to know about."""

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="policy_updates")
    published_on = models.DateField()
    effective_on = models.DateField()
    summary = models.TextField()
    affected_codes = ArrayField(
        models.CharField(max_length=5, validators=[validate_service_code]), default=list, blank=True
    )
    action_needed = models.TextField(blank=True)

    class Meta:
        ordering = ["-published_on", "-pk"]
        indexes = [models.Index(fields=["-published_on"], name="policy_published_idx")]

    def __str__(self) -> str:
        return f"{self.payer.name} {self.published_on:%Y-%m-%d}: {self.summary[:60]}"
