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
    # Decided before the term ends: in force until then, like an active contract.
    RENEWED = "renewed", "Renewed (the next term is a new contract)"
    NOT_RENEWED = "not_renewed", "Not renewed (ends with its term)"
    EXPIRED = "expired", "Expired (term ended)"
    TERMINATED = "terminated", "Terminated"


# A contract in these statuses governs the claims of its term (the term's dates still decide).
PAYER_CONTRACT_IN_FORCE = (
    PayerContractStatus.ACTIVE,
    PayerContractStatus.RENEWAL_DUE,
    PayerContractStatus.RENEWED,
    PayerContractStatus.NOT_RENEWED,
    PayerContractStatus.EXPIRED,
)


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
    PayerContractStatus.ACTIVE: {
        PayerContractStatus.RENEWAL_DUE,
        PayerContractStatus.RENEWED,
        PayerContractStatus.NOT_RENEWED,
        PayerContractStatus.EXPIRED,
        PayerContractStatus.TERMINATED,
    },
    PayerContractStatus.RENEWAL_DUE: {
        PayerContractStatus.ACTIVE,
        PayerContractStatus.NEGOTIATING,
        PayerContractStatus.RENEWED,
        PayerContractStatus.NOT_RENEWED,
        PayerContractStatus.EXPIRED,
        PayerContractStatus.TERMINATED,
    },
    PayerContractStatus.RENEWED: {PayerContractStatus.EXPIRED, PayerContractStatus.TERMINATED},
    PayerContractStatus.NOT_RENEWED: {PayerContractStatus.EXPIRED, PayerContractStatus.TERMINATED},
    PayerContractStatus.EXPIRED: set(),
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
    renewed_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="renewals",
        help_text="The contract of the term before, when this one renews it.",
    )

    class Meta:
        ordering = ["payer__name", "-term_start"]
        indexes = [
            models.Index(fields=["status", "term_end"], name="payer_contract_status_end_idx")
        ]
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


class PayerContractEvent(models.Model):
    """One row per payer contract status change: who, when, from, to, why."""

    contract = models.ForeignKey(PayerContract, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=30, choices=PayerContractStatus.choices, blank=True)
    to_status = models.CharField(max_length=30, choices=PayerContractStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.from_status or '-'} -> {self.to_status}"


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
    cooperative_note = models.TextField(
        blank=True, help_text="The cooperative's latest answer to the clinic's counter."
    )

    class Meta:
        ordering = ["contract", "clinic__legal_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "clinic"], name="payer_offer_one_per_clinic"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contract} → {self.clinic} ({self.get_status_display()})"


class PayerContractOfferEvent(models.Model):
    """One row per answer on a payer contract offer (the clinic's, or the cooperative's to a
    counter): who, when, from, to, and what they wrote; the offer keeps only the latest."""

    offer = models.ForeignKey(PayerContractOffer, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=PayerContractOfferStatus.choices)
    to_status = models.CharField(max_length=20, choices=PayerContractOfferStatus.choices)
    side = models.CharField(max_length=20)  # "provider" or "cooperative"
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    on_behalf_of_provider = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"offer {self.offer_id}: {self.from_status} -> {self.to_status} ({self.side})"


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
