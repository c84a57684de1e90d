"""Monitoring writes: staff tasks raised by the daily and monthly jobs, expirables and recredentialing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction

from ..models import (
    NOTIFICATION_DAYS,
    OPEN_STATUSES,
    ApplicationKind,
    CommitteeDecision,
    CredentialingApplication,
    StaffTask,
    SubjectType,
    TaskKind,
    TaskStatus,
)
from ..selectors import application_expirables


def staff_task_raise(
    *,
    key: str,
    kind: str,
    title: str,
    due_on: date,
    practitioner: Any = None,
    clinic: Any = None,
    application: Any = None,
) -> tuple[StaffTask, bool]:
    """Open a task once per `key` (a job that runs twice raises nothing twice); returns (task, created)."""
    existing = StaffTask.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            task = StaffTask.objects.create(
                key=key,
                kind=kind,
                title=title[:300],
                due_on=due_on,
                practitioner=practitioner,
                clinic=clinic,
                application=application,
            )
    except IntegrityError:  # raised concurrently by another worker: theirs stands
        return StaffTask.objects.get(key=key), False
    return task, True


@transaction.atomic
def staff_task_complete(*, task: StaffTask, actor: Any, note: str = "") -> StaffTask:
    """Mark a task done (who, when, optional note); audited."""
    task = StaffTask.objects.select_for_update().get(pk=task.pk)
    if task.status == TaskStatus.DONE:
        raise ApplicationError("This task is already done.", errors={"status": ["Already done."]})
    task.status = TaskStatus.DONE
    task.done_at = timezone.now()
    task.done_by = user_or_none(actor)
    if note:
        task.note = (task.note + "\n" + note).strip()
    task.save(update_fields=["status", "done_at", "done_by", "note"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=task, detail="task done")
    return task


# --- Expirables ---------------------------------------------------------------------------

EXPIRY_WARNINGS = (30, 60, 90)


def _subject_of(application: CredentialingApplication) -> dict[str, Any]:
    if application.subject_type == SubjectType.CLINIC:
        return {"clinic": application.clinic, "practitioner": None}
    return {"practitioner": application.practitioner, "clinic": application.clinic}


# An expired license, malpractice (or liability) policy or facility license takes the listing
# down until renewed: without them the provider may not practise, or practises uninsured.
# Everything else watched raises the 90/60/30-day and expired tasks only:
# - DEA: a practitioner without one still practises, only without prescribing controlled drugs;
# - board certification: optional (a license, not a board, allows practice) and the listing does
#   not show or depend on it; staff follow up on the task (the directory lists no board status);
# - facility accreditation: optional (AAAHC, The Joint Commission...; "blank when none"), so its
#   lapse is not the lapse of a requirement; the facility license is the requirement, and suspends.
SUSPENDING_KINDS = ("license", "insurance", "facility_license")
# The watched credentials kept on the application itself (record = the application), by field.
APPLICATION_EXPIRABLES = {
    "facility_license": "facility_license_expires_on",
    "accreditation": "accreditation_expires_on",
}


def expired_credentials(application: CredentialingApplication, *, today: date) -> list[str]:
    """Labels of the suspending credentials of an application that have expired by `today`."""
    return [
        label
        for kind, _record, label, expires_on in application_expirables(application)
        if kind in SUSPENDING_KINDS and expires_on < today
    ]


@dataclass
class ExpirablesSummary:
    warnings_raised: int = 0
    expired_raised: int = 0
    suspended: list[str] = field(default_factory=list)


def expirables_check(*, today: date | None = None) -> ExpirablesSummary:
    """Daily: warn at 90/60/30 days before expiry (licenses, DEA, policies, board certifications,
    facility license, accreditation); an expired license, policy or facility license suspends the
    listing, anything else expired raises a task only (see SUSPENDING_KINDS)."""
    today = today or timezone.localdate()
    summary = ExpirablesSummary()
    horizon = today + timedelta(days=max(EXPIRY_WARNINGS))
    current = (
        CredentialingApplication.objects.filter(is_current=True)
        .select_related("practitioner", "clinic")
        .prefetch_related(
            "licenses", "dea_registrations", "insurance_policies", "board_certifications"
        )
    )
    for application in current.iterator(chunk_size=500):
        subject = _subject_of(application)
        for kind, record, label, expires_on in application_expirables(application):
            if expires_on > horizon:
                continue
            name = application.subject_name
            if expires_on < today:
                _task, created = staff_task_raise(
                    key=f"expired:{kind}:{record.pk}:{expires_on.isoformat()}",
                    kind=TaskKind.EXPIRED,
                    title=f"{label} of {name} expired on {expires_on:%m/%d/%Y}",
                    due_on=today,
                    application=application,
                    **subject,
                )
                summary.expired_raised += int(created)
                continue
            days_left = (expires_on - today).days
            threshold = min(t for t in EXPIRY_WARNINGS if days_left <= t)
            _task, created = staff_task_raise(
                key=f"expiring:{kind}:{record.pk}:{expires_on.isoformat()}:{threshold}",
                kind=TaskKind.EXPIRING,
                title=f"{label} of {name} expires on {expires_on:%m/%d/%Y} (within {threshold} days)",
                due_on=expires_on,
                application=application,
                **subject,
            )
            summary.warnings_raised += int(created)
        expired = expired_credentials(application, today=today)
        if expired:
            reason = "Expired: " + "; ".join(expired)
            if listing_set(subject=_subject(application), suspend=True, actor=None, reason=reason):
                summary.suspended.append(application.subject_name)
    return summary


def listing_set(*, subject: Any, suspend: bool, actor: Any, reason: str) -> bool:
    """Suspend an active listing (practitioner or clinic), or make a suspended one active again,
    through the providers services (status and event); False when its status was not the one
    to change."""
    from providers import services as provider_services
    from providers.models import Practitioner

    before, after = ("active", "suspended") if suspend else ("suspended", "active")
    if subject.status != before:
        return False
    if isinstance(subject, Practitioner):
        provider_services.practitioner_set_status(
            practitioner=subject, status=after, actor=actor, reason=reason[:500]
        )
    else:
        provider_services.clinic_transition(
            clinic=subject, to_status=after, actor=actor, reason=reason[:500]
        )
    return True


def _subject(application: CredentialingApplication) -> Any:
    return (
        application.clinic
        if application.subject_type == SubjectType.CLINIC
        else application.practitioner
    )


def listing_holds(application: CredentialingApplication, *, today: date | None = None) -> list[str]:
    """What keeps a suspended listing down: expired credentials and open or confirmed exclusion matches."""
    from ..models import ReviewStatus, ScreeningResult

    today = today or timezone.localdate()
    holds = expired_credentials(application, today=today)
    results = ScreeningResult.objects.filter(
        review_status__in=(ReviewStatus.OPEN, ReviewStatus.CONFIRMED)
    )
    if application.subject_type == SubjectType.CLINIC:
        results = results.filter(clinic=application.clinic)
    else:
        results = results.filter(practitioner=application.practitioner)
    if results.exists():
        holds.append("An exclusion match is open or confirmed")
    return holds


def _renewal_check(current: date, expires_on: date) -> None:
    if expires_on <= current:
        raise ApplicationError(
            f"The new expiry must be after the current one ({current:%m/%d/%Y}).",
            errors={"expires_on": ["Must be after the current expiry."]},
        )


def _listing_back_if_free(application: CredentialingApplication, actor: Any, reason: str) -> None:
    """A renewal lifts a suspension only when nothing else holds the listing down."""
    if application.is_current and not listing_holds(application):
        listing_set(subject=_subject(application), suspend=False, actor=actor, reason=reason)


@transaction.atomic
def expirable_renew(
    *, record: Any, actor: Any, expires_on: date, issued_on: date | None = None
) -> Any:
    """A credential (license, DEA, policy, board certification) was renewed: record the new
    expiry; a listing suspended only for it comes back."""
    model = type(record)
    if model.__name__ not in (
        "License", "DeaRegistration", "MalpracticeInsurance", "BoardCertification"
    ):  # fmt: skip
        raise ApplicationError(
            "Only licenses, DEA registrations, insurance policies and board certifications renew."
        )
    record = model.objects.select_for_update().get(pk=record.pk)
    _renewal_check(record.expires_on, expires_on)
    if issued_on is not None and issued_on >= expires_on:
        raise ApplicationError(
            "A credential cannot expire before it was issued.",
            errors={"expires_on": ["Must be after the issue date."]},
        )
    old = record.expires_on
    record.expires_on = expires_on
    if issued_on is not None:
        record.issued_on = issued_on
    record.save(update_fields=["expires_on", "issued_on"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=record,
        detail=f"renewed: expiry {old.isoformat()} -> {expires_on.isoformat()}",
    )
    reason = f"Renewed: {record} now expires {expires_on:%m/%d/%Y}"
    _listing_back_if_free(record.application, actor, reason)
    return record


@transaction.atomic
def application_expirable_renew(
    *, application: CredentialingApplication, kind: str, actor: Any, expires_on: date
) -> CredentialingApplication:
    """A clinic's facility license or accreditation was renewed: record the new expiry on its
    current application; a listing suspended only for it comes back."""
    field_name = APPLICATION_EXPIRABLES.get(kind)
    if field_name is None:
        raise ApplicationError(
            "Only a facility license or an accreditation renews here.",
            errors={"kind": ["Use facility_license or accreditation."]},
        )
    application = CredentialingApplication.objects.select_for_update().get(pk=application.pk)
    current = getattr(application, field_name)
    label = "facility license" if kind == "facility_license" else "accreditation"
    if current is None:
        raise ApplicationError(
            f"This application records no {label} expiry to renew.",
            errors={"expires_on": [f"No {label} on file."]},
        )
    _renewal_check(current, expires_on)
    setattr(application, field_name, expires_on)
    application.save(update_fields=[field_name, "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=application,
        detail=f"{label} renewed: expiry {current.isoformat()} -> {expires_on.isoformat()}",
    )
    reason = f"Renewed: {label} now expires {expires_on:%m/%d/%Y}"
    _listing_back_if_free(application, actor, reason)
    return application


# --- Recredentialing and notifications ----------------------------------------------------

RECREDENTIALING_LEAD_DAYS = 180


def recredentialing_open_due(*, today: date | None = None) -> list[CredentialingApplication]:
    """Daily: open a recredentialing application 180 days before the due date (once)."""
    from .applications import application_create

    today = today or timezone.localdate()
    limit = today + timedelta(days=RECREDENTIALING_LEAD_DAYS)
    opened = []
    due = CredentialingApplication.objects.filter(is_current=True).select_related(
        "practitioner", "clinic", "location"
    )
    for current in due.iterator(chunk_size=500):
        subject = (
            current.clinic if current.subject_type == SubjectType.CLINIC else current.practitioner
        )
        assert subject is not None
        subject_due = subject.recredential_due_on
        if subject_due is None or subject_due > limit:
            continue
        open_exists = CredentialingApplication.objects.filter(
            status__in=OPEN_STATUSES, subject_type=current.subject_type
        ).filter(
            **(
                {"clinic": current.clinic}
                if current.subject_type == SubjectType.CLINIC
                else {"practitioner": current.practitioner}
            )
        )
        if open_exists.exists():
            continue
        application = application_create(
            actor=None,
            subject_type=current.subject_type,
            practitioner=current.practitioner
            if current.subject_type == SubjectType.PRACTITIONER
            else None,
            clinic=current.clinic,
            kind=ApplicationKind.RECREDENTIALING,
            recredentialing_of=current,
            reason=f"Opened automatically: recredentialing due {subject_due:%m/%d/%Y}",
            date_of_birth=current.date_of_birth,
            email=current.email,
            phone=current.phone,
        )
        staff_task_raise(
            key=f"recredentialing:{current.pk}",
            kind=TaskKind.RECREDENTIALING,
            title=f"Recredential {current.subject_name} by {subject_due:%m/%d/%Y}",
            due_on=subject_due,
            application=application,
            **_subject_of(current),
        )
        opened.append(application)
    return opened


def notifications_due(*, today: date | None = None) -> int:
    """Daily: a decision whose letter has not been sent 7 days before its 30-day limit raises a task."""
    today = today or timezone.localdate()
    raised = 0
    pending = CommitteeDecision.objects.filter(
        notified_on__isnull=True,
        decided_on__lte=today - timedelta(days=NOTIFICATION_DAYS - 7),
    ).select_related("application__practitioner", "application__clinic")
    for decision in pending:
        application = decision.application
        _task, created = staff_task_raise(
            key=f"notify:{decision.pk}",
            kind=TaskKind.NOTIFICATION_DUE,
            title=f"Send the decision letter to {application.subject_name} by {decision.notify_by:%m/%d/%Y}",
            due_on=decision.notify_by,
            application=application,
            **_subject_of(application),
        )
        raised += int(created)
    return raised


__all__ = [
    "APPLICATION_EXPIRABLES", "EXPIRY_WARNINGS", "application_expirable_renew", "RECREDENTIALING_LEAD_DAYS", "ExpirablesSummary", "expirable_renew",
    "expirables_check", "expired_credentials", "listing_holds", "listing_set", "notifications_due",
    "recredentialing_open_due", "staff_task_complete", "staff_task_raise",
]  # fmt: skip
