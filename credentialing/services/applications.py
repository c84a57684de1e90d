"""Applications: open, fill, attach, and move through the pipeline (one service per transition)."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError, full_clean_or_raise
from cooperative.models import AuditAction
from cooperative.roles import Role
from cooperative.selectors import is_active_in_role, person_name
from cooperative.uploads import attachment_check
from providers.models import Clinic, Practitioner

from ..models import (
    APPLICATION_TRANSITIONS,
    ATTESTATION_CODES,
    OPEN_STATUSES,
    WORK_GAP_DAYS,
    WORK_HISTORY_YEARS,
    ApplicationEvent,
    ApplicationKind,
    ApplicationStatus,
    Attachment,
    AttachmentKind,
    CredentialingApplication,
    EducationKind,
    SubjectType,
    WorkHistoryKind,
)

APPLICATION_FIELDS = [
    "assignee", "received_on", "location", "is_primary_care", "date_of_birth", "other_names",
    "email", "phone", "facility_license_number", "facility_license_state",
    "facility_license_expires_on", "accreditation_body", "accreditation_expires_on",
    "attestation", "attestation_signed_on",
]  # fmt: skip

# The form data an application carries, edited while it is open (admin inlines, API).
DETAIL_MODELS = (
    "license", "dearegistration", "education", "boardcertification", "workhistory",
    "hospitalaffiliation", "malpracticeinsurance", "malpracticeclaim",
)  # fmt: skip

ALLOWED_ATTACHMENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}


def _event(
    application: CredentialingApplication,
    *,
    from_status: str,
    actor: Any,
    reason: str = "",
    missing: list[str] | None = None,
) -> ApplicationEvent:
    return ApplicationEvent.objects.create(
        application=application,
        from_status=from_status,
        to_status=application.status,
        actor=user_or_none(actor),
        reason=reason[:1000],
        missing_items=missing or [],
    )


def _locked(application: CredentialingApplication) -> CredentialingApplication:
    return CredentialingApplication.objects.select_for_update(of=("self",)).get(pk=application.pk)


def _require_open(application: CredentialingApplication) -> None:
    if application.status not in OPEN_STATUSES:
        raise ConflictError(
            f"This application is {application.get_status_display().lower()}: it can no longer change.",
            errors={"status": [f"The application is {application.status}."]},
        )


def _check_attestation(value: Any) -> None:
    """{code: {"answer": bool, "explanation": str}} for known questions; a "yes" needs an explanation."""
    if not isinstance(value, dict):
        raise ApplicationError(
            "The attestation must map each question to its answer.",
            errors={"attestation": ["Expected an object of answers."]},
        )
    for code, answer in value.items():
        if code not in ATTESTATION_CODES:
            raise ApplicationError(
                f"Unknown attestation question '{code}'.",
                errors={"attestation": [f"Unknown question '{code}'."]},
            )
        if not isinstance(answer, dict) or not isinstance(answer.get("answer"), bool):
            raise ApplicationError(
                f"Answer yes or no to attestation question '{code}'.",
                errors={"attestation": [f"'{code}': answer yes or no."]},
            )


# --- Opening and editing ------------------------------------------------------------------


@transaction.atomic
def application_create(
    *,
    actor: Any,
    subject_type: str,
    practitioner: Practitioner | None = None,
    clinic: Clinic | None = None,
    kind: str = ApplicationKind.INITIAL,
    recredentialing_of: CredentialingApplication | None = None,
    reason: str = "Application received",
    **data: Any,
) -> CredentialingApplication:
    """Open an application (received); one open application per practitioner or clinic."""
    if subject_type not in SubjectType.values:
        raise ApplicationError(
            "Choose practitioner or clinic.", errors={"subject_type": ["Unknown type."]}
        )
    if subject_type == SubjectType.PRACTITIONER and practitioner is None:
        raise ApplicationError(
            "Choose the practitioner who applies.", errors={"practitioner": ["Required."]}
        )
    if subject_type == SubjectType.CLINIC:
        if clinic is None:
            raise ApplicationError(
                "Choose the clinic that applies.", errors={"clinic": ["Required."]}
            )
        if practitioner is not None:
            raise ApplicationError(
                "A clinic's application names no practitioner.",
                errors={"practitioner": ["Leave empty for a clinic's application."]},
            )
    application = CredentialingApplication(
        subject_type=subject_type,
        practitioner=practitioner,
        clinic=clinic,
        kind=kind,
        recredentialing_of=recredentialing_of,
        status=ApplicationStatus.RECEIVED,
        stage_entered_at=timezone.now(),
        received_on=data.pop("received_on", None) or timezone.localdate(),
    )
    _apply_fields(application, data)
    full_clean_or_raise(application)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        raise ConflictError(
            f"{practitioner or clinic} already has an open application.",
            errors={
                "practitioner" if practitioner else "clinic": ["Already has an open application."]
            },
        ) from None
    _event(application, from_status="", actor=actor, reason=reason)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=application)
    return application


def _apply_fields(application: CredentialingApplication, data: dict[str, Any]) -> list[str]:
    unknown = set(data) - set(APPLICATION_FIELDS)
    if unknown:
        raise ApplicationError(
            f"Unknown field(s): {', '.join(sorted(unknown))}.",
            errors={f: ["Unknown field."] for f in sorted(unknown)},
        )
    if "attestation" in data:
        _check_attestation(data["attestation"])
    assignee = data.get("assignee")
    # A file goes to an active member of provider services; one kept by someone who has since
    # left the role stays with them until it is reassigned.
    if (
        assignee is not None
        and assignee.pk != application.assignee_id
        and not is_active_in_role(assignee, Role.PROVIDER_SERVICES)
    ):
        name = person_name(assignee)
        raise ApplicationError(
            f"{name} is not in provider services: applications go to provider services only.",
            errors={"assignee": ["Choose someone in provider services."]},
        )
    location = data.get("location", application.location if application.location_id else None)
    if location is not None:
        if application.subject_type == SubjectType.CLINIC:
            raise ApplicationError(
                "A clinic's application has no practice location.",
                errors={"location": ["Leave empty for a clinic's application."]},
            )
        if application.clinic_id is None:
            application.clinic = location.clinic
        elif location.clinic_id != application.clinic_id:
            raise ApplicationError(
                "The location must belong to the clinic the practitioner joins.",
                errors={"location": ["This location belongs to another clinic."]},
            )
    changed = [f for f in data if getattr(application, f) != data[f]]
    for field in changed:
        setattr(application, field, data[field])
    return changed


@transaction.atomic
def application_update(
    *, application: CredentialingApplication, actor: Any, **data: Any
) -> CredentialingApplication:
    """Change the application's own data while it is open; audited with the fields changed."""
    application = _locked(application)
    _require_open(application)
    changed = _apply_fields(application, data)
    full_clean_or_raise(application)
    application.save()
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            obj=application,
            detail="changed: " + ", ".join(changed),
        )
    return application


@transaction.atomic
def application_detail_save(
    *, application: CredentialingApplication, actor: Any, record: models.Model
) -> models.Model:
    """Add or change one row of the form data (license, DEA, education, ...) of an open application."""
    application = _locked(application)
    _require_open(application)
    if record._meta.model_name not in DETAIL_MODELS:
        raise ApplicationError("Not part of an application's form data.")
    record.application = application  # type: ignore[attr-defined]
    is_new = record.pk is None
    full_clean_or_raise(record)
    record.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE if is_new else AuditAction.UPDATE,
        obj=record,
        detail=f"application #{application.pk}",
    )
    return record


@transaction.atomic
def application_detail_delete(
    *, application: CredentialingApplication, actor: Any, record: models.Model
) -> None:
    """Remove a row entered by mistake, only while the application is open (decided files never change)."""
    application = _locked(application)
    _require_open(application)
    if record._meta.model_name not in DETAIL_MODELS:
        raise ApplicationError("Not part of an application's form data.")
    audit_record(
        actor=actor, action=AuditAction.DELETE, obj=record, detail=f"application #{application.pk}"
    )
    record.delete()


@transaction.atomic
def application_assign(
    *, application: CredentialingApplication, actor: Any, assignee: Any
) -> CredentialingApplication:
    """Give the application to a member of provider services (or nobody)."""
    return application_update(application=application, actor=actor, assignee=assignee)


# --- Attachments --------------------------------------------------------------------------


def _display_name(name: str) -> str:
    """The uploaded name for display only: path and control characters stripped."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in "<>\"'")
    return cleaned[:200] or "document"


@transaction.atomic
def attachment_add(
    *, application: CredentialingApplication, actor: Any, kind: str, upload: Any
) -> Attachment:
    """Attach a document: checked by content and size, stored privately under a server name, SHA-256 kept."""
    if kind not in AttachmentKind.values:
        raise ApplicationError("Choose the document's type.", errors={"kind": ["Unknown type."]})
    application = _locked(application)
    _require_open(application)
    extension, content = attachment_check(upload)
    attachment = Attachment(
        application=application,
        kind=kind,
        original_name=_display_name(getattr(upload, "name", "") or "document"),
        content_type=ALLOWED_ATTACHMENT_TYPES[extension],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user_or_none(actor),
    )
    attachment.file.save(f"document.{extension}", ContentFile(content), save=False)
    attachment.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=attachment,
        detail=f"application #{application.pk}: {kind}",
    )
    return attachment


def attachment_open(*, attachment: Attachment, actor: Any) -> Any:
    """Open an attachment for download, writing the audit row that proves who read it."""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        obj=attachment,
        detail=f"download, application #{attachment.application_id}",
    )
    return attachment.file.storage.open(str(attachment.file.name), "rb")


# --- Completeness -------------------------------------------------------------------------


def _work_history_gaps(application: CredentialingApplication) -> list[tuple[date, date]]:
    """Holes longer than 6 months in the last 5 years before the application was received."""
    end = application.received_on
    start = (
        end.replace(year=end.year - WORK_HISTORY_YEARS)
        if not (end.month == 2 and end.day == 29)
        else date(end.year - WORK_HISTORY_YEARS, 2, 28)
    )
    spans = sorted((row.started_on, row.ended_on or end) for row in application.work_history.all())
    gaps: list[tuple[date, date]] = []
    cursor = start
    for span_start, span_end in spans:
        if span_start > cursor and (span_start - cursor).days > WORK_GAP_DAYS:
            gaps.append((cursor, span_start))
        cursor = max(cursor, span_end)
    if (end - cursor).days > WORK_GAP_DAYS:
        gaps.append((cursor, end))
    return gaps


def _kinds(application: CredentialingApplication) -> set[str]:
    return {a.kind for a in application.attachments.all()}


def application_missing_items(application: CredentialingApplication) -> list[str]:
    """What keeps the file from being complete, each in words a person can ask the applicant for."""
    if application.subject_type == SubjectType.CLINIC:
        return _clinic_missing(application)
    missing: list[str] = []
    today = timezone.localdate()
    kinds = _kinds(application)
    if application.date_of_birth is None:
        missing.append("Date of birth")
    licenses = list(application.licenses.all())
    if not licenses:
        missing.append("A professional license")
    elif all(lic.expires_on < today for lic in licenses):
        missing.append("A current professional license (every license on file has expired)")
    if licenses and AttachmentKind.LICENSE not in kinds:
        missing.append("Copy of the license")
    if application.dea_registrations.exists() and AttachmentKind.DEA not in kinds:
        missing.append("Copy of the DEA registration")
    if application.board_certifications.exists() and AttachmentKind.BOARD_CERTIFICATE not in kinds:
        missing.append("Copy of the board certificate")
    if not application.education.filter(kind=EducationKind.PROFESSIONAL_SCHOOL).exists():
        missing.append("Professional school (education)")
    if not application.work_history.filter(kind=WorkHistoryKind.POSITION).exists():
        missing.append("Work history")
    for gap_start, gap_end in _work_history_gaps(application):
        missing.append(f"Explanation of the work history gap {gap_start:%m/%Y} – {gap_end:%m/%Y}")
    policies = list(application.insurance_policies.all())
    if not any(p.expires_on >= today for p in policies):
        missing.append("Current malpractice insurance")
    if policies and AttachmentKind.MALPRACTICE_FACE_SHEET not in kinds:
        missing.append("Malpractice insurance face sheet")
    if AttachmentKind.CV not in kinds:
        missing.append("Curriculum vitae (CV)")
    missing.extend(_attestation_missing(application))
    return missing


def _attestation_missing(application: CredentialingApplication) -> list[str]:
    missing = []
    answers = application.attestation or {}
    unanswered = [c for c in ATTESTATION_CODES if not isinstance(answers.get(c), dict)]
    if unanswered:
        missing.append(f"Attestation questions answered ({len(unanswered)} unanswered)")
    unexplained = [
        c
        for c in ATTESTATION_CODES
        if isinstance(answers.get(c), dict)
        and answers[c].get("answer") is True
        and not str(answers[c].get("explanation") or "").strip()
    ]
    if unexplained:
        missing.append(f"Explanation of each “yes” attestation answer ({', '.join(unexplained)})")
    if application.attestation_signed_on is None:
        missing.append("Signed and dated attestation")
    return missing


def _clinic_missing(application: CredentialingApplication) -> list[str]:
    missing: list[str] = []
    today = timezone.localdate()
    kinds = _kinds(application)
    if not (
        application.facility_license_number
        and application.facility_license_state
        and application.facility_license_expires_on
    ):
        missing.append("Facility license (number, state and expiry)")
    elif application.facility_license_expires_on < today:
        missing.append("A current facility license (the one on file has expired)")
    if AttachmentKind.FACILITY_LICENSE not in kinds:
        missing.append("Copy of the facility license")
    if application.accreditation_body and AttachmentKind.ACCREDITATION not in kinds:
        missing.append("Accreditation certificate")
    if not application.insurance_policies.filter(expires_on__gte=today).exists():
        missing.append("Current liability insurance")
    if AttachmentKind.W9 not in kinds:
        missing.append("W-9")
    return missing


# --- Transitions --------------------------------------------------------------------------


def _check_move(application: CredentialingApplication, to_status: str) -> None:
    if to_status not in APPLICATION_TRANSITIONS.get(application.status, set()):
        raise ConflictError(
            f"An application in {application.get_status_display().lower()} cannot move to "
            f"{ApplicationStatus(to_status).label.lower()}.",
            errors={"status": [f"Not allowed from {application.status}."]},
        )


def _move(
    application: CredentialingApplication,
    to_status: str,
    *,
    actor: Any,
    reason: str,
    missing: list[str] | None = None,
) -> CredentialingApplication:
    _check_move(application, to_status)
    from_status = application.status
    application.status = to_status
    application.stage_entered_at = timezone.now()
    application.missing_items = missing or []
    application.save(
        update_fields=[
            "status",
            "stage_entered_at",
            "missing_items",
            "completed_on",
            "decided_on",
            "updated_at",
        ]
    )
    _event(application, from_status=from_status, actor=actor, reason=reason, missing=missing)
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=application,
        detail=f"status: {from_status} -> {to_status}",
    )
    return application


@transaction.atomic
def application_request_documents(
    *,
    application: CredentialingApplication,
    actor: Any,
    extra_items: list[str] | None = None,
    reason: str = "",
) -> CredentialingApplication:
    """Mark the file incomplete with the list of what is missing (computed, plus anything staff add)."""
    application = _locked(application)
    _check_move(application, ApplicationStatus.INCOMPLETE)
    missing = application_missing_items(application) + [
        item.strip() for item in (extra_items or []) if item.strip()
    ]
    if not missing:
        raise ApplicationError(
            "Nothing is missing: start verification instead, or name what you are asking for.",
            errors={"extra_items": ["Name at least one missing item."]},
        )
    return _move(
        application,
        ApplicationStatus.INCOMPLETE,
        actor=actor,
        reason=reason or "Documents requested from the applicant",
        missing=missing,
    )


@transaction.atomic
def application_start_verification(
    *, application: CredentialingApplication, actor: Any, reason: str = ""
) -> CredentialingApplication:
    """The file is complete: primary-source verification starts and the 10-day clock with it."""
    application = _locked(application)
    _check_move(application, ApplicationStatus.VERIFICATION)
    missing = application_missing_items(application)
    if missing:
        raise ApplicationError(
            "The application is not complete: " + "; ".join(missing) + ".",
            errors={"missing_items": missing},
        )
    if application.completed_on is None:
        # The clock starts the first time the file is complete; a later detour does not reset it.
        application.completed_on = timezone.localdate()
    return _move(
        application,
        ApplicationStatus.VERIFICATION,
        actor=actor,
        reason=reason or "Application complete: verification started",
    )


@transaction.atomic
def application_withdraw(
    *, application: CredentialingApplication, actor: Any, reason: str
) -> CredentialingApplication:
    """The applicant withdrew (or stopped answering); a reason is required."""
    if not reason.strip():
        raise ApplicationError(
            "Give the reason for the withdrawal.", errors={"reason": ["Required."]}
        )
    application = _locked(application)
    return _move(application, ApplicationStatus.WITHDRAWN, actor=actor, reason=reason)


def plus_months(day: date, months: int) -> date:
    from dateutil.relativedelta import relativedelta

    return day + relativedelta(months=months)


__all__ = [
    "APPLICATION_FIELDS", "DETAIL_MODELS", "application_assign", "application_create",
    "application_detail_delete", "application_detail_save", "application_missing_items",
    "application_request_documents", "application_start_verification", "application_update",
    "application_withdraw", "attachment_add", "attachment_check", "attachment_open",
    "plus_months",
]  # fmt: skip
