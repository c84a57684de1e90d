"""Primary-source verification, the committee, the decision and what an approval does."""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError, full_clean_or_raise
from cooperative.models import AuditAction
from providers import services as provider_services
from providers.models import PractitionerRole

from ..models import (
    DEFAULT_SOURCES,
    RECREDENTIALING_MONTHS,
    ApplicationStatus,
    Attachment,
    CommitteeDecision,
    CredentialingApplication,
    Decision,
    SubjectType,
    Verification,
    VerificationItem,
    VerificationResult,
)
from ..permissions import can_decide_application
from ..selectors import _required_items, checklist_problems, committee_refusal
from .applications import (
    _check_move,
    _locked,
    _move,
    _require_open,
    plus_months,
)


@transaction.atomic
def verification_record(
    *,
    application: CredentialingApplication,
    actor: Any,
    item: str,
    result: str,
    verified_on: date,
    source: str = "",
    reference: str = "",
    document: Attachment | None = None,
    notes: str = "",
) -> Verification:
    """Record one primary-source check (a re-check is a new row; the latest counts)."""
    application = _locked(application)
    _require_open(application)
    applicable = {str(i) for i, _ in _required_items(application)}
    if item not in applicable:
        label = VerificationItem(item).label if item in VerificationItem.values else item
        raise ApplicationError(
            f"“{label}” is not on this application's checklist.",
            errors={"item": ["Not on this application's checklist."]},
        )
    if result not in VerificationResult.values:
        raise ApplicationError("Choose the result.", errors={"result": ["Unknown result."]})
    if verified_on > timezone.localdate():
        raise ApplicationError(
            "A verification cannot be dated in the future.",
            errors={"verified_on": ["Cannot be in the future."]},
        )
    if document is not None and document.application_id != application.pk:
        raise ApplicationError(
            "The document must be one of this application's attachments.",
            errors={"document": ["Belongs to another application."]},
        )
    if result != VerificationResult.VERIFIED and not notes.strip():
        raise ApplicationError(
            "Describe the adverse finding or why it could not be verified.",
            errors={"notes": ["Required unless verified with nothing adverse."]},
        )
    verification = Verification(
        application=application,
        item=item,
        result=result,
        verified_on=verified_on,
        source=source.strip() or DEFAULT_SOURCES.get(item, ""),
        reference=reference.strip(),
        document=document,
        notes=notes,
        verified_by=user_or_none(actor),
    )
    full_clean_or_raise(verification)
    verification.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=verification,
        detail=f"application #{application.pk}: {item} {result}",
    )
    return verification


@transaction.atomic
def application_send_to_committee(
    *, application: CredentialingApplication, actor: Any, reason: str = ""
) -> CredentialingApplication:
    """Verification is done: every required item checked, none stale or unverifiable today."""
    application = _locked(application)
    _check_move(application, ApplicationStatus.COMMITTEE)
    if application.status == ApplicationStatus.VERIFICATION:
        today = timezone.localdate()
        refusal = committee_refusal(application, on=today)
        if refusal:
            # The same words the application's page shows beside the disabled button.
            raise ApplicationError(
                f"Verification is not finished: {refusal}.",
                errors={"verifications": checklist_problems(application, on=today)},
            )
    return _move(
        application,
        ApplicationStatus.COMMITTEE,
        actor=actor,
        reason=reason or "Verification complete: sent to the committee",
    )


@transaction.atomic
def application_return_to_verification(
    *, application: CredentialingApplication, actor: Any, reason: str
) -> CredentialingApplication:
    """The committee asks for more checking before it decides."""
    if not reason.strip():
        raise ApplicationError("Say what needs checking.", errors={"reason": ["Required."]})
    application = _locked(application)
    return _move(application, ApplicationStatus.VERIFICATION, actor=actor, reason=reason)


@transaction.atomic
def application_decide(
    *,
    application: CredentialingApplication,
    actor: Any,
    decision: str,
    decided_on: date,
    notes: str = "",
) -> CommitteeDecision:
    """Record the committee's decision; an approval needs every required verification at most 120 days old."""
    if not can_decide_application(actor):
        raise ApplicationError(
            "Only provider services staff may record a committee decision.",
            errors={"decision": ["Your role does not allow recording decisions."]},
            status_code=403,
        )
    if decision not in Decision.values:
        raise ApplicationError(
            "Choose approved or denied.", errors={"decision": ["Unknown decision."]}
        )
    application = _locked(application)
    if application.status != ApplicationStatus.COMMITTEE:
        raise ConflictError(
            f"Only an application before the committee can be decided; this one is "
            f"{application.get_status_display().lower()}.",
            errors={"status": [f"The application is {application.status}."]},
        )
    today = timezone.localdate()
    if decided_on > today:
        raise ApplicationError(
            "A decision cannot be dated in the future.",
            errors={"decided_on": ["Cannot be in the future."]},
        )
    if application.completed_on and decided_on < application.completed_on:
        raise ApplicationError(
            "A decision cannot predate the complete application.",
            errors={"decided_on": [f"On or after {application.completed_on:%m/%d/%Y}."]},
        )
    if decision == Decision.DENIED and not notes.strip():
        raise ApplicationError(
            "Give the committee's reasons for a denial (they go in the letter).",
            errors={"notes": ["Required for a denial."]},
        )
    if decision == Decision.APPROVED:
        problems = checklist_problems(application, on=decided_on)
        if problems:
            raise ApplicationError(
                "Approval refused: " + "; ".join(problems) + ".",
                errors={"verifications": problems},
            )
    record = CommitteeDecision.objects.create(
        application=application,
        decision=decision,
        decided_on=decided_on,
        notes=notes,
        recorded_by=user_or_none(actor),
    )
    application.decided_on = decided_on
    _move(
        application,
        ApplicationStatus.APPROVED if decision == Decision.APPROVED else ApplicationStatus.DENIED,
        actor=actor,
        reason=f"Committee decision of {decided_on:%m/%d/%Y}",
    )
    if decision == Decision.APPROVED:
        _approve(application, actor=actor, decided_on=decided_on)
    from ..tasks import decision_letter_render

    transaction.on_commit(lambda: decision_letter_render.delay(record.pk))
    return record


def _approve(application: CredentialingApplication, *, actor: Any, decided_on: date) -> None:
    """Approval: the subject is active and listed, credentialed on the decision date, due in 36 months."""
    due = plus_months(decided_on, RECREDENTIALING_MONTHS)
    _current_of(application).exclude(pk=application.pk).update(is_current=False)
    application.is_current = True
    application.save(update_fields=["is_current", "updated_at"])
    clinic: Any = application.clinic
    practitioner: Any = application.practitioner
    if application.subject_type == SubjectType.CLINIC:
        provider_services.clinic_credentialed(
            clinic=clinic, actor=actor, on=decided_on, recredential_due_on=due
        )
        return
    provider_services.practitioner_credentialed(
        practitioner=practitioner, actor=actor, on=decided_on, recredential_due_on=due
    )
    location = application.location
    if (
        location is not None
        and not PractitionerRole.objects.filter(
            practitioner=practitioner, location=location, end_date__isnull=True
        ).exists()
    ):
        provider_services.practitioner_role_start(
            practitioner=practitioner,
            location=location,
            actor=actor,
            start_date=decided_on,
            is_primary_care=application.is_primary_care,
        )


def _current_of(application: CredentialingApplication) -> Any:
    if application.subject_type == SubjectType.CLINIC:
        return CredentialingApplication.objects.filter(
            subject_type=SubjectType.CLINIC, clinic=application.clinic, is_current=True
        )
    return CredentialingApplication.objects.filter(
        subject_type=SubjectType.PRACTITIONER,
        practitioner=application.practitioner,
        is_current=True,
    )


def decision_letter_store(*, decision_id: int) -> CommitteeDecision:
    """Render the decision letter once and keep it with its SHA-256 (idempotent; run by a worker)."""
    from ..documents import decision_letter_pdf

    with transaction.atomic():
        decision = (
            CommitteeDecision.objects.select_for_update(of=("self",))
            .select_related(
                "application__practitioner", "application__clinic", "application__location"
            )
            .get(pk=decision_id)
        )
        if decision.letter:
            return decision
        content = decision_letter_pdf(decision=decision)
        decision.letter.save(
            f"decision-{decision.application_id}.pdf", ContentFile(content), save=False
        )
        decision.letter_sha256 = hashlib.sha256(content).hexdigest()
        decision.save(update_fields=["letter", "letter_sha256"])
    return decision


@transaction.atomic
def decision_notified(
    *, decision: CommitteeDecision, actor: Any, notified_on: date, method: str
) -> CommitteeDecision:
    """Record when and how the applicant was told (the limit is 30 days from the decision)."""
    decision = CommitteeDecision.objects.select_for_update().get(pk=decision.pk)
    if decision.notified_on is not None:
        raise ConflictError(
            f"The applicant was already notified on {decision.notified_on:%m/%d/%Y}.",
            errors={"notified_on": ["Already recorded."]},
        )
    if notified_on < decision.decided_on or notified_on > timezone.localdate():
        raise ApplicationError(
            "The notification date is between the decision date and today.",
            errors={"notified_on": ["Between the decision date and today."]},
        )
    if not method.strip():
        raise ApplicationError(
            "Say how the applicant was notified.", errors={"method": ["Required."]}
        )
    decision.notified_on = notified_on
    decision.notification_method = method.strip()[:40]
    decision.save(update_fields=["notified_on", "notification_method"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=decision,
        detail=f"notified {notified_on.isoformat()} by {decision.notification_method}",
    )
    return decision


__all__ = [
    "application_decide", "application_return_to_verification",
    "application_send_to_committee", "decision_letter_store", "decision_notified",
    "verification_record",
]  # fmt: skip
