"""Credentialing applications and the data of the standardized state forms they carry.

The practitioner data covers the union of the Texas Standardized Credentialing Application
and the Oregon Practitioner Credentialing Application: identity and NPI, licenses, DEA
registrations, education and training, board certification, five years of work history,
hospital affiliations, malpractice insurance and claims history, the attestation questions
and the signed attestation date. A clinic (organizational) application carries its facility
license, accreditation, liability insurance and W-9.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q

from cooperative.models import TimeStampedModel
from cooperative.validators import (
    validate_dea,
    validate_no_markup,
    validate_us_state,
)

# The cooperative's promise: a contract in under 10 days from a complete application.
CLOCK_DAYS = 10


class SubjectType(models.TextChoices):
    PRACTITIONER = "practitioner", "Practitioner"
    CLINIC = "clinic", "Clinic (organizational)"


class ApplicationKind(models.TextChoices):
    INITIAL = "initial", "Initial"
    RECREDENTIALING = "recredentialing", "Recredentialing"


class ApplicationStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    INCOMPLETE = "incomplete", "Incomplete"
    VERIFICATION = "verification", "Verification"
    COMMITTEE = "committee", "Committee"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    WITHDRAWN = "withdrawn", "Withdrawn"


APPLICATION_TRANSITIONS: dict[str, set[str]] = {
    ApplicationStatus.RECEIVED: {
        ApplicationStatus.INCOMPLETE,
        ApplicationStatus.VERIFICATION,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.INCOMPLETE: {ApplicationStatus.VERIFICATION, ApplicationStatus.WITHDRAWN},
    ApplicationStatus.VERIFICATION: {
        ApplicationStatus.INCOMPLETE,
        ApplicationStatus.COMMITTEE,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.COMMITTEE: {
        ApplicationStatus.APPROVED,
        ApplicationStatus.DENIED,
        ApplicationStatus.VERIFICATION,
        ApplicationStatus.WITHDRAWN,
    },
    ApplicationStatus.APPROVED: set(),
    ApplicationStatus.DENIED: set(),
    ApplicationStatus.WITHDRAWN: set(),
}
OPEN_STATUSES = (
    ApplicationStatus.RECEIVED,
    ApplicationStatus.INCOMPLETE,
    ApplicationStatus.VERIFICATION,
    ApplicationStatus.COMMITTEE,
)
DECIDED_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.DENIED)

# The attestation questions of the state forms (answered yes/no; a "yes" needs an explanation).
ATTESTATION_QUESTIONS: list[tuple[str, str]] = [
    ("license_action", "Has your license to practise in any jurisdiction ever been denied, limited, suspended, revoked, not renewed, or subject to probation or conditions?"),
    ("dea_action", "Has your DEA or any state controlled-substance registration ever been denied, limited, suspended, revoked or surrendered?"),
    ("privileges_action", "Have your clinical privileges or medical staff membership at any hospital or facility ever been denied, limited, suspended, revoked or not renewed?"),
    ("board_action", "Has your board certification ever been revoked, suspended or not renewed, or have you failed a board examination?"),
    ("program_exclusion", "Have you ever been excluded, suspended or sanctioned by Medicare, Medicaid or any other federal or state health program?"),
    ("criminal", "Have you ever been convicted of, or pleaded guilty or no contest to, a felony or any crime related to health care?"),
    ("investigation", "Are you currently the subject of an investigation by any licensing board, hospital, health plan or government agency?"),
    ("malpractice_denied", "Has your professional liability insurance ever been denied, cancelled, not renewed or surcharged?"),
    ("substance_use", "Do you currently use any illegal drugs or misuse any substance in a way that affects your ability to practise safely?"),
    ("impairment", "Do you have any condition that, even with reasonable accommodation, affects your ability to practise safely and competently?"),
    ("resignation", "Have you ever resigned or withdrawn an application to avoid an investigation or disciplinary action?"),
]  # fmt: skip
ATTESTATION_CODES = [code for code, _ in ATTESTATION_QUESTIONS]


class CredentialingApplication(TimeStampedModel):
    """One credentialing (or recredentialing) file for a practitioner or a clinic, worked through its stages."""

    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    kind = models.CharField(
        max_length=20, choices=ApplicationKind.choices, default=ApplicationKind.INITIAL
    )
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.RECEIVED
    )
    practitioner = models.ForeignKey(
        "providers.Practitioner",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credentialing_applications",
    )
    # For a clinic application: the clinic. For a practitioner: the clinic they join.
    clinic = models.ForeignKey(
        "providers.Clinic",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credentialing_applications",
    )
    # Where an approved practitioner starts practising (a role opens there on approval).
    location = models.ForeignKey(
        "providers.Location",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credentialing_applications",
    )
    is_primary_care = models.BooleanField(
        "as a primary care provider", default=True, help_text="The role opened on approval."
    )
    recredentialing_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="recredentialings"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credentialing_assignments",
    )
    received_on = models.DateField()
    # The day the file became complete (first entered verification): the 10-day clock starts here.
    completed_on = models.DateField(null=True, blank=True, editable=False)
    stage_entered_at = models.DateTimeField(editable=False)
    decided_on = models.DateField(null=True, blank=True, editable=False)
    missing_items = ArrayField(
        models.CharField(max_length=200), default=list, blank=True, editable=False
    )
    # The approved application whose expirables (licenses, DEA, insurance) are watched daily.
    is_current = models.BooleanField(default=False, editable=False)

    # Identity (practitioner)
    date_of_birth = models.DateField(null=True, blank=True)
    other_names = models.CharField(
        "other names used", max_length=200, blank=True, validators=[validate_no_markup]
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)

    # Organizational (clinic)
    facility_license_number = models.CharField(max_length=50, blank=True)
    facility_license_state = models.CharField(
        max_length=2, blank=True, validators=[validate_us_state]
    )
    facility_license_expires_on = models.DateField(null=True, blank=True)
    accreditation_body = models.CharField(
        max_length=100, blank=True, help_text="e.g. The Joint Commission, AAAHC; blank when none."
    )
    accreditation_expires_on = models.DateField(null=True, blank=True)

    # Attestation: {code: {"answer": bool, "explanation": str}} for ATTESTATION_QUESTIONS.
    attestation = models.JSONField(default=dict, blank=True)
    attestation_signed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-received_on", "-id"]
        permissions = [
            ("decide_credentialingapplication", "Can record a committee decision"),
            ("download_attachment", "Can download credentialing attachments"),
        ]
        indexes = [
            models.Index(fields=["status", "stage_entered_at"], name="cred_app_status_idx"),
            models.Index(fields=["assignee", "status"], name="cred_app_assignee_idx"),
            models.Index(fields=["decided_on"], name="cred_app_decided_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(subject_type="practitioner") & Q(practitioner__isnull=False))
                | (
                    Q(subject_type="clinic")
                    & Q(clinic__isnull=False)
                    & Q(practitioner__isnull=True)
                ),
                name="cred_app_subject_matches_type",
            ),
            models.UniqueConstraint(
                fields=["practitioner"],
                condition=Q(status__in=OPEN_STATUSES) & Q(subject_type="practitioner"),
                name="cred_app_one_open_per_practitioner",
                violation_error_message="This practitioner already has an open application.",
            ),
            models.UniqueConstraint(
                fields=["clinic"],
                condition=Q(status__in=OPEN_STATUSES) & Q(subject_type="clinic"),
                name="cred_app_one_open_per_clinic",
                violation_error_message="This clinic already has an open application.",
            ),
            models.UniqueConstraint(
                fields=["practitioner"],
                condition=Q(is_current=True) & Q(subject_type="practitioner"),
                name="cred_app_one_current_per_practitioner",
            ),
            models.UniqueConstraint(
                fields=["clinic"],
                condition=Q(is_current=True) & Q(subject_type="clinic"),
                name="cred_app_one_current_per_clinic",
            ),
            models.CheckConstraint(
                condition=Q(completed_on__isnull=True) | Q(completed_on__gte=F("received_on")),
                name="cred_app_completed_after_received",
                violation_error_message="An application cannot be complete before it was received.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} application #{self.pk}: {self.subject_name}"

    @property
    def subject_name(self) -> str:
        if self.subject_type == SubjectType.PRACTITIONER and self.practitioner_id:
            return str(self.practitioner)
        return str(self.clinic) if self.clinic_id else "—"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def due_on(self) -> date | None:
        """The promised decision date: 10 days after the file became complete."""
        return self.completed_on + timedelta(days=CLOCK_DAYS) if self.completed_on else None


class ApplicationEvent(models.Model):
    """One row per status change of an application: who, when, from, to, why (and what was missing)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.PROTECT, related_name="events"
    )
    from_status = models.CharField(max_length=20, choices=ApplicationStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ApplicationStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=1000, blank=True)
    missing_items = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.application_id}: {self.from_status or '-'} -> {self.to_status}"


class LicenseType(models.TextChoices):
    MEDICAL = "medical", "Medical (MD)"
    OSTEOPATHIC = "osteopathic", "Osteopathic (DO)"
    NURSE_PRACTITIONER = "aprn", "Advanced practice registered nurse"
    PHYSICIAN_ASSISTANT = "pa", "Physician assistant"
    CHIROPRACTIC = "chiropractic", "Chiropractic"
    NATUROPATHIC = "naturopathic", "Naturopathic"
    ACUPUNCTURE = "acupuncture", "Acupuncture"
    SOCIAL_WORK = "social_work", "Clinical social work"
    COUNSELING = "counseling", "Professional counseling"
    PSYCHOLOGY = "psychology", "Psychology"
    PHYSICAL_THERAPY = "physical_therapy", "Physical therapy"
    DIETETICS = "dietetics", "Dietetics"
    DENTAL = "dental", "Dental"
    MIDWIFERY = "midwifery", "Nurse midwifery"
    OTHER = "other", "Other"


class _Dated(models.Model):
    """A credential with an issue and an expiry date (expiry after issue, enforced by the database)."""

    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField()

    class Meta:
        abstract = True

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_on < timezone.localdate()


class License(_Dated):
    """A professional license (state, number, type, expiry)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="licenses"
    )
    state = models.CharField(max_length=2, validators=[validate_us_state])
    number = models.CharField(max_length=40, validators=[validate_no_markup])
    license_type = models.CharField(max_length=20, choices=LicenseType.choices)

    class Meta:
        ordering = ["state", "number"]
        indexes = [models.Index(fields=["expires_on"], name="cred_license_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expires_on__gt=F("issued_on")),
                name="cred_license_expires_after_issue",
                violation_error_message="A license cannot expire before it was issued.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.state} license {self.number}"


class DeaRegistration(_Dated):
    """A DEA (federal) or state controlled-substance registration."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="dea_registrations"
    )
    number = models.CharField("DEA number", max_length=9, validators=[validate_dea])
    state = models.CharField(max_length=2, validators=[validate_us_state])
    schedules = models.CharField(max_length=40, blank=True, help_text="e.g. 2, 2N, 3, 3N, 4, 5")

    class Meta:
        ordering = ["state"]
        verbose_name = "DEA registration"
        indexes = [models.Index(fields=["expires_on"], name="cred_dea_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expires_on__gt=F("issued_on")),
                name="cred_dea_expires_after_issue",
                violation_error_message="A DEA registration cannot expire before it was issued.",
            )
        ]

    def __str__(self) -> str:
        return f"DEA {self.number} ({self.state})"


class EducationKind(models.TextChoices):
    PROFESSIONAL_SCHOOL = "professional_school", "Professional school"
    INTERNSHIP = "internship", "Internship"
    RESIDENCY = "residency", "Residency"
    FELLOWSHIP = "fellowship", "Fellowship"
    OTHER = "other", "Other training"


class Education(models.Model):
    """A degree or training programme (professional school, internship, residency, fellowship)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="education"
    )
    kind = models.CharField(max_length=30, choices=EducationKind.choices)
    institution = models.CharField(max_length=200, validators=[validate_no_markup])
    program = models.CharField("degree or programme", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state_or_country = models.CharField(max_length=100, blank=True)
    started_on = models.DateField()
    finished_on = models.DateField(null=True, blank=True)
    completed = models.BooleanField(default=True)

    class Meta:
        ordering = ["started_on"]
        verbose_name_plural = "education and training"
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_on__isnull=True) | Q(finished_on__gte=F("started_on")),
                name="cred_education_ends_after_start",
                violation_error_message="Training cannot end before it starts.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.institution}"


class BoardCertification(_Dated):
    """A specialty board certification (optional); `expires_on` may be far ahead for lifetime ones."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="board_certifications"
    )
    board = models.CharField(max_length=200, validators=[validate_no_markup])
    specialty = models.CharField(max_length=200)

    class Meta:
        ordering = ["board"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expires_on__gt=F("issued_on")),
                name="cred_board_expires_after_issue",
                violation_error_message="A certification cannot expire before it was issued.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.board}: {self.specialty}"


class WorkHistoryKind(models.TextChoices):
    POSITION = "position", "Position"
    GAP = "gap", "Explained gap"


# The work history must cover this many years; a hole longer than WORK_GAP_DAYS needs an explanation.
WORK_HISTORY_YEARS = 5
WORK_GAP_DAYS = 183


class WorkHistory(models.Model):
    """A position held, or an explained gap (gaps over 6 months in the last 5 years must be explained)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="work_history"
    )
    kind = models.CharField(
        max_length=20, choices=WorkHistoryKind.choices, default=WorkHistoryKind.POSITION
    )
    employer = models.CharField(max_length=200, blank=True, validators=[validate_no_markup])
    position = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[validate_us_state])
    started_on = models.DateField()
    ended_on = models.DateField(null=True, blank=True, help_text="Empty while current.")
    explanation = models.TextField(blank=True, help_text="Required for a gap.")

    class Meta:
        ordering = ["started_on"]
        verbose_name_plural = "work history"
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="cred_work_ends_after_start",
                violation_error_message="A position cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(kind="position") & ~Q(employer="") | Q(kind="gap") & ~Q(explanation=""),
                name="cred_work_position_or_explained_gap",
                violation_error_message="A position needs an employer; a gap needs an explanation.",
            ),
        ]

    def __str__(self) -> str:
        return self.employer or "Gap"


class PrivilegeStatus(models.TextChoices):
    FULL = "full", "Full"
    PROVISIONAL = "provisional", "Provisional"
    COURTESY = "courtesy", "Courtesy"
    ADMITTING_ARRANGEMENT = "arrangement", "Admitting arrangement (no privileges)"


class HospitalAffiliation(models.Model):
    """Hospital privileges (or an admitting arrangement)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="hospital_affiliations"
    )
    hospital = models.CharField(max_length=200, validators=[validate_no_markup])
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True, validators=[validate_us_state])
    privileges = models.CharField(max_length=20, choices=PrivilegeStatus.choices)
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["hospital"]

    def __str__(self) -> str:
        return self.hospital


class MalpracticeInsurance(_Dated):
    """Professional liability (malpractice) cover; for a clinic, its general and professional liability."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="insurance_policies"
    )
    carrier = models.CharField(max_length=200, validators=[validate_no_markup])
    policy_number = models.CharField(max_length=60)
    per_claim_limit = models.DecimalField(max_digits=12, decimal_places=2)
    aggregate_limit = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["-expires_on"]
        verbose_name = "malpractice insurance policy"
        verbose_name_plural = "malpractice insurance"
        indexes = [models.Index(fields=["expires_on"], name="cred_insurance_expiry_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True) | Q(expires_on__gt=F("issued_on")),
                name="cred_insurance_expires_after_start",
                violation_error_message="A policy cannot expire before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(per_claim_limit__gt=0) & Q(aggregate_limit__gte=F("per_claim_limit")),
                name="cred_insurance_limits",
                violation_error_message="Limits must be positive, and the aggregate at least the per-claim limit.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.policy_number}"


class ClaimStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    SETTLED = "settled", "Settled"
    JUDGMENT = "judgment", "Judgment"


class MalpracticeClaim(models.Model):
    """A malpractice claim in the practitioner's history (NPDB-verified)."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.CASCADE, related_name="malpractice_claims"
    )
    incident_on = models.DateField()
    filed_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=ClaimStatus.choices)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    description = models.TextField()

    class Meta:
        ordering = ["-incident_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(filed_on__isnull=True) | Q(filed_on__gte=F("incident_on")),
                name="cred_claim_filed_after_incident",
                violation_error_message="A claim cannot be filed before the incident.",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__isnull=True) | Q(amount_paid__gte=0),
                name="cred_claim_amount_not_negative",
                violation_error_message="An amount paid cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim of {self.incident_on:%Y-%m-%d} ({self.get_status_display()})"


class AttachmentKind(models.TextChoices):
    LICENSE = "license", "License"
    DEA = "dea", "DEA registration"
    BOARD_CERTIFICATE = "board_certificate", "Board certificate"
    MALPRACTICE_FACE_SHEET = "malpractice_face_sheet", "Malpractice face sheet"
    CV = "cv", "CV"
    W9 = "w9", "W-9"
    STATE_APPLICATION = "state_application", "State application form"
    FACILITY_LICENSE = "facility_license", "Facility license"
    ACCREDITATION = "accreditation", "Accreditation certificate"
    VERIFICATION = "verification", "Verification record"
    OTHER = "other", "Other"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Server-generated, private names (never under static/, never public media)."""
    extension = filename.rsplit(".", 1)[-1].lower()
    return f"credentialing/attachments/{uuid.uuid4().hex}.{extension}"


class Attachment(models.Model):
    """A document of an application, checked by content, stored privately, its SHA-256 recorded."""

    application = models.ForeignKey(
        CredentialingApplication, on_delete=models.PROTECT, related_name="attachments"
    )
    kind = models.CharField(max_length=30, choices=AttachmentKind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=50)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.original_name}"


__all__ = [
    "APPLICATION_TRANSITIONS", "ATTESTATION_CODES", "ATTESTATION_QUESTIONS", "CLOCK_DAYS",
    "DECIDED_STATUSES", "OPEN_STATUSES", "WORK_GAP_DAYS", "WORK_HISTORY_YEARS",
    "ApplicationEvent", "ApplicationKind", "ApplicationStatus", "Attachment", "AttachmentKind",
    "BoardCertification", "ClaimStatus", "CredentialingApplication", "DeaRegistration",
    "Education", "EducationKind", "HospitalAffiliation", "License", "LicenseType",
    "MalpracticeClaim", "MalpracticeInsurance", "PrivilegeStatus", "SubjectType", "WorkHistory",
    "WorkHistoryKind", "attachment_path",
]  # fmt: skip
