"""Primary-source verification (the checklist) and the committee's decision."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from .applications import Attachment, CredentialingApplication

# NCQA (2025): a verification used for a decision must be at most 120 days old on the decision date.
VERIFICATION_MAX_AGE_DAYS = 120
# The applicant is told the decision within 30 days of it.
NOTIFICATION_DAYS = 30
RECREDENTIALING_MONTHS = 36


class VerificationItem(models.TextChoices):
    LICENSE = "license", "License"
    DEA = "dea", "DEA registration"
    BOARD = "board", "Board certification"
    EDUCATION = "education", "Education and training"
    WORK_HISTORY = "work_history", "Work history"
    MALPRACTICE_HISTORY = "malpractice_history", "Malpractice history (NPDB)"
    OIG = "oig", "OIG exclusion (LEIE)"
    SAM = "sam", "SAM exclusion"
    NPI = "npi", "NPI (NPPES)"
    FACILITY_LICENSE = "facility_license", "Facility license"
    ACCREDITATION = "accreditation", "Accreditation"
    LIABILITY_INSURANCE = "liability_insurance", "Liability insurance"


# The usual primary source of each item, offered as the default.
DEFAULT_SOURCES: dict[str, str] = {
    VerificationItem.LICENSE: "State licensing board website",
    VerificationItem.DEA: "DEA Diversion Control registration validation",
    VerificationItem.BOARD: "ABMS Certification Matters / AOA",
    VerificationItem.EDUCATION: "School or programme letter, or AMA Physician Masterfile",
    VerificationItem.WORK_HISTORY: "CV reviewed, gaps explained",
    VerificationItem.MALPRACTICE_HISTORY: "National Practitioner Data Bank (NPDB) query",
    VerificationItem.OIG: "OIG LEIE",
    VerificationItem.SAM: "SAM.gov exclusions",
    VerificationItem.NPI: "NPPES NPI Registry",
    VerificationItem.FACILITY_LICENSE: "State health department",
    VerificationItem.ACCREDITATION: "Accrediting body",
    VerificationItem.LIABILITY_INSURANCE: "Carrier certificate of insurance",
}


class VerificationResult(models.TextChoices):
    VERIFIED = "verified", "Verified, nothing adverse"
    ADVERSE = "adverse", "Verified, adverse finding"
    UNABLE = "unable", "Could not verify"


class Verification(models.Model):
    """One primary-source check of one checklist item; a re-check is a new row (history kept)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.PROTECT, related_name="verifications"
    )
    item = models.CharField(max_length=30, choices=VerificationItem.choices)
    source = models.CharField(max_length=200)
    result = models.CharField(max_length=20, choices=VerificationResult.choices)
    verified_on = models.DateField()
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(
        max_length=200, blank=True, help_text="Confirmation number, query id or web address."
    )
    document = models.ForeignKey(
        Attachment, null=True, blank=True, on_delete=models.PROTECT, related_name="verifications"
    )
    notes = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "-verified_on", "-id"]
        indexes = [
            models.Index(fields=["application", "item", "-verified_on"], name="cred_verif_item_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reference="") | Q(document__isnull=False),
                name="cred_verif_has_reference_or_document",
                violation_error_message="Give a reference (confirmation number, query id or address) or attach the document.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()}: {self.get_result_display()} ({self.verified_on})"

    def age_on(self, day: date) -> int:
        return (day - self.verified_on).days

    def is_stale_on(self, day: date) -> bool:
        return self.age_on(day) > VERIFICATION_MAX_AGE_DAYS


class Decision(models.TextChoices):
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"


class CommitteeDecision(models.Model):
    """The credentialing committee's decision on an application, with the letter sent to the applicant."""

    application = models.OneToOneField(
        CredentialingApplication, on_delete=models.PROTECT, related_name="decision"
    )
    decision = models.CharField(max_length=20, choices=Decision.choices)
    decided_on = models.DateField()
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    letter = models.FileField(upload_to="credentialing/letters/", max_length=200, blank=True)
    letter_sha256 = models.CharField(max_length=64, blank=True)
    notified_on = models.DateField(null=True, blank=True)
    notification_method = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-decided_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} on {self.decided_on}"

    @property
    def notify_by(self) -> date:
        return self.decided_on + timedelta(days=NOTIFICATION_DAYS)


__all__ = [
    "DEFAULT_SOURCES", "NOTIFICATION_DAYS", "RECREDENTIALING_MONTHS", "VERIFICATION_MAX_AGE_DAYS",
    "CommitteeDecision", "Decision", "Verification", "VerificationItem", "VerificationResult",
]  # fmt: skip
