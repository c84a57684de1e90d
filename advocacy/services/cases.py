"""Cases: open, assign, move through the status machine, and write their timeline.

Every write checks the actor (an advocate, or the system passed as None), locks the case row
for read-modify-write, writes a `CaseEvent` for every change of state in the same transaction
and an audit row for every touch of a member's case.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError, full_clean_or_raise
from cooperative.models import AuditAction
from cooperative.periods import add_business_days
from cooperative.roles import Role
from cooperative.selectors import is_active_in_role, person_name
from cooperative.uploads import attachment_check
from members.models import Member
from providers.models import Clinic, Payer, PayerPolicyUpdate, Practitioner

from ..models import (
    CASE_TRANSITIONS,
    DEFAULT_PRIORITY_TARGETS,
    WRITABLE_CASE_STATUSES,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseEventKind,
    CaseNote,
    CasePolicyLink,
    CasePriority,
    CaseStatus,
    CaseTask,
    CaseType,
    ContactChannel,
    ContactDirection,
    ContactParty,
    PriorityTarget,
    SourceChannel,
    TaskStatus,
)
from ..permissions import can_work_cases, is_system_or_advocate

SAVINGS_FIELDS = ("billed_amount", "expected_amount", "paid_amount", "recovered_amount")


def require_advocate(actor: Any) -> None:
    """Refuse anyone but an advocate (or the system) with a 403."""
    if not is_system_or_advocate(actor):
        raise ApplicationError("Only advocates can work advocacy cases.", status_code=403)


def _choice(value: Any, choices: Any, field: str, label: str) -> str:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise ApplicationError(
            f"Unknown {label} '{value}'.", errors={field: [f"Choose one of: {allowed}."]}
        )
    return str(value)


def priority_business_days(priority: str) -> int:
    """The configured target of a priority (the PriorityTarget row, else the default)."""
    target = PriorityTarget.objects.filter(priority=priority).values_list(
        "business_days", flat=True
    )
    return target.first() or DEFAULT_PRIORITY_TARGETS[priority]


def case_due_on(*, priority: str, opened_on: date) -> date:
    """A case is due its priority's target in business days after it was opened (or reopened)."""
    return add_business_days(opened_on, priority_business_days(priority))


def _locked(case: Case) -> Case:
    return Case.objects.select_for_update(of=("self",)).get(pk=case.pk)


def _event(
    case: Case, *, kind: str, actor: Any, from_value: Any = "", to_value: Any = "", reason: str = ""
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        from_value=str(from_value or "")[:100],
        to_value=str(to_value or "")[:100],
        reason=reason[:500],
        actor=user_or_none(actor),
    )


def _require_writable(case: Case, what: str) -> None:
    if case.status not in WRITABLE_CASE_STATUSES:
        raise ConflictError(
            f"Case {case.reference} is closed: reopen it before adding a {what}.",
            errors={"case": [f"A closed case takes no new {what}."]},
        )


def _require_case_worker(user: Any, field: str = "assignee") -> None:
    """Cases and their tasks go only to active advocates (not to other staff, nor to a
    superuser outside the role)."""
    if user is not None and not is_active_in_role(user, Role.ADVOCATE):
        name = person_name(user)
        raise ApplicationError(
            f"{name} is not an active advocate: cases and tasks go to advocates only.",
            errors={field: ["Choose an advocate."]},
        )


@transaction.atomic
def case_open(
    *,
    actor: Any,
    member: Member | None,
    case_type: str,
    summary: str,
    priority: str = CasePriority.NORMAL,
    source: str = SourceChannel.PHONE,
    practitioner: Practitioner | None = None,
    clinic: Clinic | None = None,
    payer: Payer | None = None,
    assignee: Any = None,
    note: str = "",
    opened_at: datetime | None = None,
) -> Case:
    """Open a case for a member; due its priority's target in business days; assigned at once
    when an assignee is given."""
    require_advocate(actor)
    if member is None:
        raise ApplicationError(
            "A case needs a member.", errors={"member": ["Choose the member this case is for."]}
        )
    _choice(case_type, CaseType, "case_type", "case type")
    _choice(priority, CasePriority, "priority", "priority")
    _choice(source, SourceChannel, "source", "source channel")
    _require_case_worker(assignee)
    opened_at = opened_at or timezone.now()
    case = Case(
        member=member,
        case_type=case_type,
        priority=priority,
        source=source,
        summary=(summary or "").strip(),
        practitioner=practitioner,
        clinic=clinic,
        payer=payer,
        opened_at=opened_at,
        due_on=case_due_on(priority=priority, opened_on=timezone.localdate(opened_at)),
        opened_by=user_or_none(actor),
    )
    full_clean_or_raise(case)
    case.save()
    _event(case, kind=CaseEventKind.OPENED, actor=actor, to_value=CaseStatus.NEW)
    audit_record(actor=actor, action=AuditAction.CREATE, obj=case)
    if note.strip():
        note_add(case=case, actor=actor, body=note)
    if assignee is not None:
        case = case_assign(case=case, actor=actor, assignee=assignee)
    return case


def _check_move(case: Case, to_status: str) -> None:
    _choice(to_status, CaseStatus, "status", "status")
    if to_status not in CASE_TRANSITIONS[case.status]:
        allowed = ", ".join(sorted(CASE_TRANSITIONS[case.status])) or "none"
        raise ConflictError(
            f"A case cannot go from {case.get_status_display().lower()} to "
            f"{CaseStatus(to_status).label.lower()} (allowed: {allowed}).",
            errors={"status": [f"Not allowed from {case.status}."]},
        )


def _move(case: Case, to_status: str, *, actor: Any, reason: str = "") -> Case:
    """Apply an allowed move on a locked case and write its event."""
    from_status = case.status
    now = timezone.now()
    case.status = to_status
    fields = ["status", "updated_at"]
    if to_status == CaseStatus.RESOLVED:
        case.resolved_at = now
        fields.append("resolved_at")
    elif to_status == CaseStatus.CLOSED:
        case.closed_at = now
        fields.append("closed_at")
    elif to_status == CaseStatus.REOPENED:
        case.resolved_at = None
        case.closed_at = None
        case.due_on = case_due_on(priority=case.priority, opened_on=timezone.localdate(now))
        fields += ["resolved_at", "closed_at", "due_on"]
    case.save(update_fields=fields)
    _event(
        case,
        kind=CaseEventKind.STATUS,
        actor=actor,
        from_value=from_status,
        to_value=to_status,
        reason=reason,
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=case,
        detail=f"status {from_status} → {to_status}",
    )
    return case


@transaction.atomic
def case_transition(
    *, case: Case, actor: Any, to_status: str, reason: str = "", resolution: str = ""
) -> Case:
    """Move a case along its status machine (see CASE_TRANSITIONS); every move is an event."""
    require_advocate(actor)
    case = _locked(case)
    _check_move(case, to_status)
    if to_status == CaseStatus.ASSIGNED and case.assignee_id is None:
        raise ConflictError(
            "Assign the case to an advocate first.", errors={"assignee": ["Choose an advocate."]}
        )
    needs_reason = to_status == CaseStatus.REOPENED or (
        to_status == CaseStatus.CLOSED and case.status != CaseStatus.RESOLVED
    )
    if needs_reason and not reason.strip():
        raise ApplicationError(
            "Say why.",
            errors={
                "reason": ["A reason is required to reopen a case or close an unresolved one."]
            },
        )
    if to_status == CaseStatus.RESOLVED and resolution.strip():
        case.resolution = resolution.strip()
        case.save(update_fields=["resolution", "updated_at"])
    return _move(case, to_status, actor=actor, reason=reason.strip())


@transaction.atomic
def case_assign(*, case: Case, actor: Any, assignee: Any) -> Case:
    """Give the case to an advocate (a new case becomes assigned); None leaves it unassigned."""
    require_advocate(actor)
    _require_case_worker(assignee)
    case = _locked(case)
    if case.status == CaseStatus.CLOSED:
        raise ConflictError(f"Case {case.reference} is closed: reopen it to reassign it.")
    if assignee is None and case.status not in (CaseStatus.NEW, CaseStatus.ASSIGNED):
        raise ConflictError("A case being worked keeps an assignee: reassign it instead.")
    before = case.assignee
    if (before.pk if before else None) == (assignee.pk if assignee else None):
        return case
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    _event(
        case,
        kind=CaseEventKind.ASSIGNMENT,
        actor=actor,
        from_value=before.get_username() if before else "",
        to_value=assignee.get_username() if assignee else "",
    )
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=case, detail="assignee")
    if assignee is not None and case.status == CaseStatus.NEW:
        case = _move(case, CaseStatus.ASSIGNED, actor=actor)
    elif assignee is None and case.status == CaseStatus.ASSIGNED:
        # Back to the unassigned queue: an explicit event, not a silent edit.
        _event(
            case,
            kind=CaseEventKind.STATUS,
            actor=actor,
            from_value=case.status,
            to_value=CaseStatus.NEW,
            reason="unassigned",
        )
        case.status = CaseStatus.NEW
        case.save(update_fields=["status", "updated_at"])
    return case


@transaction.atomic
def case_update(
    *,
    case: Case,
    actor: Any,
    priority: str | None = None,
    summary: str | None = None,
    practitioner: Practitioner | None | Any = ...,
    clinic: Clinic | None | Any = ...,
    payer: Payer | None | Any = ...,
    reason: str = "",
) -> Case:
    """Change a case's priority (its due date follows, from the day it was opened), summary or parties."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "change")
    fields: list[str] = []
    if priority is not None and priority != case.priority:
        _choice(priority, CasePriority, "priority", "priority")
        before = case.priority
        case.priority = priority
        case.due_on = case_due_on(priority=priority, opened_on=timezone.localdate(case.opened_at))
        fields += ["priority", "due_on"]
        _event(
            case,
            kind=CaseEventKind.PRIORITY,
            actor=actor,
            from_value=before,
            to_value=priority,
            reason=reason,
        )
    if summary is not None:
        case.summary = summary.strip()
        fields.append("summary")
    for name, value in (("practitioner", practitioner), ("clinic", clinic), ("payer", payer)):
        if value is not ...:
            setattr(case, name, value)
            fields.append(name)
    if not fields:
        return case
    full_clean_or_raise(case)
    case.save(update_fields=[*fields, "updated_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=case, detail=", ".join(fields))
    return case


@transaction.atomic
def case_set_savings(
    *, case: Case, actor: Any, reason: str = "", **amounts: Decimal | None
) -> Case:
    """Record what was billed, agreed or expected, finally paid, and recovered or avoided."""
    require_advocate(actor)
    unknown = set(amounts) - set(SAVINGS_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown amounts: {', '.join(sorted(unknown))}.")
    case = _locked(case)
    _require_writable(case, "change")
    changes = []
    for name, value in amounts.items():
        if value is not None:
            value = Decimal(value).quantize(Decimal("0.01"))
        if getattr(case, name) != value:
            changes.append(f"{name} {getattr(case, name)} → {value}")
            setattr(case, name, value)
    if not changes:
        return case
    full_clean_or_raise(case)
    try:
        with transaction.atomic():
            case.save(update_fields=[*amounts.keys(), "updated_at"])
    except IntegrityError:
        raise ApplicationError("Amounts cannot be negative.") from None
    _event(
        case,
        kind=CaseEventKind.SAVINGS,
        actor=actor,
        to_value="; ".join(changes)[:100],
        reason=reason,
    )
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=case, detail="savings")
    return case


@transaction.atomic
def case_flag(*, case: Case, actor: Any, reason: str) -> Case:
    """Flag a case for an advocate's attention (e.g. a missed treatment-plan review)."""
    require_advocate(actor)
    case = _locked(case)
    case.flag_reason = reason[:300]
    case.save(update_fields=["flag_reason", "updated_at"])
    _event(case, kind=CaseEventKind.FLAG, actor=actor, to_value="flagged", reason=reason)
    return case


@transaction.atomic
def case_flag_clear(*, case: Case, actor: Any, reason: str = "") -> Case:
    require_advocate(actor)
    case = _locked(case)
    if not case.flag_reason:
        return case
    before = case.flag_reason
    case.flag_reason = ""
    case.save(update_fields=["flag_reason", "updated_at"])
    _event(
        case,
        kind=CaseEventKind.FLAG,
        actor=actor,
        from_value=before,
        to_value="cleared",
        reason=reason,
    )
    return case


def case_view_record(*, case: Case, actor: Any, request: Any = None, detail: str = "") -> None:
    """Every staff view of a member's case is an audit row."""
    audit_record(actor=actor, action=AuditAction.VIEW, obj=case, request=request, detail=detail)


# --- Timeline -----------------------------------------------------------------------------


@transaction.atomic
def note_add(
    *, case: Case, actor: Any, body: str, is_shared: bool = False, corrects: CaseNote | None = None
) -> CaseNote:
    """Append a note (notes are never edited: a correction is a new note naming the old one)."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "note")
    body = (body or "").strip()
    if not body:
        raise ApplicationError(
            "Write the note first.", errors={"body": ["A note cannot be empty."]}
        )
    if corrects is not None and corrects.case_id != case.pk:
        raise ApplicationError(
            "A correction belongs to the same case.",
            errors={"corrects": ["Not a note of this case."]},
        )
    note = CaseNote(
        case=case,
        body=body,
        is_shared=bool(is_shared),
        corrects=corrects,
        author=user_or_none(actor),
    )
    full_clean_or_raise(note)
    note.save()
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    audit_record(actor=actor, action=AuditAction.CREATE, obj=note)
    return note


@transaction.atomic
def contact_log(
    *,
    case: Case,
    actor: Any,
    channel: str,
    party: str,
    with_whom: str,
    outcome: str,
    occurred_at: datetime | None = None,
    direction: str = ContactDirection.OUTBOUND,
) -> CaseContact:
    """Log a call, email or letter with the member, a provider or a payer, and its outcome."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "contact")
    _choice(channel, ContactChannel, "channel", "channel")
    _choice(party, ContactParty, "party", "party")
    _choice(direction, ContactDirection, "direction", "direction")
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ApplicationError(
            "A contact is logged after it happened.",
            errors={"occurred_at": ["This is in the future."]},
        )
    contact = CaseContact(
        case=case,
        channel=channel,
        direction=direction,
        party=party,
        with_whom=(with_whom or "").strip(),
        outcome=(outcome or "").strip(),
        occurred_at=occurred_at,
        logged_by=user_or_none(actor),
    )
    full_clean_or_raise(contact)
    contact.save()
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    audit_record(actor=actor, action=AuditAction.CREATE, obj=contact)
    return contact


@transaction.atomic
def task_add(*, case: Case, actor: Any, title: str, due_on: date, assignee: Any = None) -> CaseTask:
    """Add a task with a due date (and an advocate who owns it; the case's assignee by default)."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "task")
    _require_case_worker(assignee)
    if due_on is None:
        raise ApplicationError("A task needs a due date.", errors={"due_on": ["Give a due date."]})
    if due_on < timezone.localdate() - timedelta(days=365):
        raise ApplicationError(
            "That due date is too far in the past.", errors={"due_on": ["Check the date."]}
        )
    task = CaseTask(
        case=case,
        title=(title or "").strip(),
        due_on=due_on,
        assignee=assignee or case.assignee,
        created_by=user_or_none(actor),
    )
    full_clean_or_raise(task)
    task.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=task)
    return task


@transaction.atomic
def task_finish(*, task: CaseTask, actor: Any, status: str = TaskStatus.DONE) -> CaseTask:
    """Mark a task done (or cancelled)."""
    require_advocate(actor)
    task = CaseTask.objects.select_for_update().get(pk=task.pk)
    if status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
        raise ApplicationError(
            "A task is finished as done or cancelled.",
            errors={"status": ["Choose done or cancelled."]},
        )
    if task.status != TaskStatus.OPEN:
        raise ConflictError(f"The task is already {task.get_status_display().lower()}.")
    task.status = status
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=task, detail=status)
    return task


@transaction.atomic
def attachment_add(
    *, case: Case, actor: Any, upload: UploadedFile | ContentFile, description: str
) -> CaseAttachment:
    """Keep a document on the case: PDF, PNG or JPEG by content, within the size limit."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "attachment")
    description = (description or "").strip()
    if not description:
        raise ApplicationError(
            "Say what the document is.", errors={"description": ["Describe the document."]}
        )
    extension, content = attachment_check(upload)
    name = (getattr(upload, "name", "") or f"document.{extension}").rsplit("/", 1)[-1][:200]
    attachment = CaseAttachment(
        case=case,
        description=description[:200],
        original_name=name,
        content_type={"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}[extension],
        size_bytes=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=user_or_none(actor),
    )
    attachment.file.save(f"upload.{extension}", ContentFile(content), save=False)
    attachment.save()
    audit_record(actor=actor, action=AuditAction.CREATE, obj=attachment)
    return attachment


def attachment_open(*, attachment: CaseAttachment, actor: Any, request: Any = None) -> bytes:
    """Read a case document (advocates only); every read is audited."""
    if not can_work_cases(actor):
        raise ApplicationError("Only advocates can open case documents.", status_code=403)
    audit_record(actor=actor, action=AuditAction.VIEW, obj=attachment, request=request)
    with attachment.file.open("rb") as handle:
        return handle.read()


@transaction.atomic
def policy_link_add(
    *, case: Case, actor: Any, policy_update: PayerPolicyUpdate, note: str = ""
) -> CasePolicyLink:
    """Link a payer policy update that bears on the case."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "policy link")
    if CasePolicyLink.objects.filter(case=case, policy_update=policy_update).exists():
        raise ConflictError(
            "This policy update is already linked to the case.",
            errors={"policy_update": ["Already linked."]},
        )
    link = CasePolicyLink.objects.create(
        case=case,
        policy_update=policy_update,
        note=(note or "").strip()[:300],
        linked_by=user_or_none(actor),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=link)
    return link


__all__ = [
    "SAVINGS_FIELDS", "attachment_add", "attachment_open", "case_assign", "case_due_on",
    "case_flag", "case_flag_clear", "case_open", "case_set_savings", "case_transition",
    "case_update", "case_view_record", "contact_log", "note_add", "policy_link_add",
    "priority_business_days", "require_advocate", "task_add", "task_finish",
]  # fmt: skip
