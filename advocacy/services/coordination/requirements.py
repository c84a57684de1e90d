"""A requirement's written notice and the member's response, its related expenses and the
benefit penalty.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import MoneyError, percent_of, to_decimal

from ...models import (
    CareCoordinationRequirement,
    CaseEventKind,
    NoticeMethod,
    PenaltyAccumulator,
    PenaltyLine,
    RelatedExpense,
    RequirementNotice,
    RequirementStatus,
)
from ..cases import _event, require_advocate
from .common import _locked_requirement, _requirement_move

RESPONSES = ("accepted", "declined")


# --- Notice and response ----------------------------------------------------------------------


@transaction.atomic
def notice_request(
    *, requirement: CareCoordinationRequirement, actor: Any, letter_date: date | None = None
) -> RequirementNotice:
    """Prepare the written notice (the member has ADVOCACY_NOTICE_RESPONSE_DAYS from the letter
    date to answer); a worker renders the letter once the transaction commits."""
    require_advocate(actor)
    requirement = _locked_requirement(requirement.pk)
    if requirement.status in (RequirementStatus.ENDED, RequirementStatus.ACCEPTED):
        raise ConflictError(
            f"The requirement is {requirement.get_status_display().lower()}: no notice is sent.",
            errors={"requirement": ["No notice for an ended or accepted requirement."]},
        )
    letter_date = letter_date or timezone.localdate()
    if letter_date < requirement.triggered_on:
        raise ApplicationError(
            f"The letter cannot be dated before the requirement arose "
            f"({requirement.triggered_on.isoformat()}).",
            errors={"letter_date": ["Before the requirement arose."]},
        )
    notice = RequirementNotice.objects.create(
        requirement=requirement,
        letter_date=letter_date,
        response_due_on=letter_date + timedelta(days=settings.ADVOCACY_NOTICE_RESPONSE_DAYS),
        created_by=user_or_none(actor),
    )
    _event(
        requirement.case,
        kind=CaseEventKind.REQUIREMENT,
        actor=actor,
        from_value=requirement.status,
        to_value=requirement.status,
        reason=(
            f"Notice dated {letter_date.isoformat()} prepared; response due "
            f"{notice.response_due_on.isoformat()}"
        ),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=notice)
    from ...tasks import notice_render as notice_render_task

    notice_id = notice.pk
    transaction.on_commit(lambda: notice_render_task.delay(notice_id))
    return notice


def notice_render(*, notice_id: int) -> RequirementNotice:
    """Render the notice letter once and keep it with its SHA-256 (idempotent; run by a worker)."""
    from ...documents import notice_pdf

    with transaction.atomic():
        notice = (
            RequirementNotice.objects.select_for_update(of=("self",))
            .select_related("requirement")
            .get(pk=notice_id)
        )
        if notice.file:
            return notice
        content = notice_pdf(notice)
        notice.file.save(f"notice-{notice.pk}.pdf", ContentFile(content), save=False)
        notice.sha256 = hashlib.sha256(content).hexdigest()
        notice.rendered_at = timezone.now()
        notice.save(update_fields=["file", "sha256", "rendered_at"])
    return notice


@transaction.atomic
def notice_mark_sent(
    *, notice: RequirementNotice, actor: Any, sent_on: date, method: str
) -> RequirementNotice:
    """Record that the rendered letter went out (on a date between the letter date and today);
    the member's response is then due by the notice's deadline."""
    require_advocate(actor)
    requirement = _locked_requirement(notice.requirement_id)
    notice = RequirementNotice.objects.select_for_update().get(pk=notice.pk)
    if method not in NoticeMethod.values:
        raise ApplicationError(
            f"Unknown method '{method}'.",
            errors={"method": [f"Choose one of: {', '.join(NoticeMethod.values)}."]},
        )
    if notice.sent_on is not None:
        raise ConflictError(
            f"This notice was already sent on {notice.sent_on.isoformat()}.",
            errors={"sent_on": ["Already recorded."]},
        )
    if not notice.file:
        raise ConflictError(
            "The letter is still being prepared: send it once it is rendered.",
            errors={"notice": ["Not rendered yet."]},
        )
    if sent_on is None or sent_on < notice.letter_date or sent_on > timezone.localdate():
        raise ApplicationError(
            "The notice is sent between its letter date and today.",
            errors={"sent_on": ["Between the letter date and today."]},
        )
    if requirement.status in (RequirementStatus.ENDED, RequirementStatus.ACCEPTED):
        raise ConflictError(
            f"The requirement is {requirement.get_status_display().lower()}: the notice is not sent.",
            errors={"requirement": ["No notice for an ended or accepted requirement."]},
        )
    notice.sent_on = sent_on
    notice.method = method
    notice.sent_by = user_or_none(actor)
    notice.save(update_fields=["sent_on", "method", "sent_by"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=notice,
        detail=f"sent {sent_on.isoformat()} by {method}",
    )
    why = (
        f"Notice of {notice.letter_date.isoformat()} sent {sent_on.isoformat()} by "
        f"{NoticeMethod(method).label.lower()}; response due {notice.response_due_on.isoformat()}"
    )
    if requirement.status == RequirementStatus.NOTICE_PENDING:
        requirement.response_due_on = notice.response_due_on
        _requirement_move(
            requirement,
            RequirementStatus.AWAITING_RESPONSE,
            actor=actor,
            reason=why,
            fields=["response_due_on"],
        )
    elif requirement.status == RequirementStatus.AWAITING_RESPONSE:
        # A notice sent again: the member has until the later of the two deadlines.
        if notice.response_due_on > (requirement.response_due_on or notice.response_due_on):
            requirement.response_due_on = notice.response_due_on
            requirement.save(update_fields=["response_due_on", "updated_at"])
        _event(
            requirement.case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            from_value=requirement.status,
            to_value=requirement.status,
            reason=why,
        )
    else:
        _event(
            requirement.case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            from_value=requirement.status,
            to_value=requirement.status,
            reason=why,
        )
    return notice


@transaction.atomic
def requirement_record_response(
    *,
    requirement: CareCoordinationRequirement,
    actor: Any,
    response: str,
    responded_on: date,
    note: str = "",
) -> CareCoordinationRequirement:
    """Record the member's answer to a sent notice: accepted, or declined (the 40% benefit
    penalty then applies to every related expense, from the response date)."""
    require_advocate(actor)
    if response not in RESPONSES:
        raise ApplicationError(
            f"Unknown response '{response}'.",
            errors={"response": ["Choose accepted or declined."]},
        )
    requirement = _locked_requirement(requirement.pk)
    if requirement.status != RequirementStatus.AWAITING_RESPONSE:
        if requirement.status == RequirementStatus.NOTICE_PENDING:
            message = (
                "The written notice has not been sent yet: record the member's response "
                "after the notice was sent."
            )
        else:
            message = (
                f"The requirement is {requirement.get_status_display().lower()}: a response is "
                "recorded only while the member's answer is awaited."
            )
        raise ConflictError(message, errors={"response": ["Not awaiting a response."]})
    first_sent = (
        requirement.notices.filter(sent_on__isnull=False)
        .order_by("sent_on")
        .values_list("sent_on", flat=True)
        .first()
    )
    if responded_on is None or (first_sent and responded_on < first_sent):
        raise ApplicationError(
            "The response date cannot be before the notice was sent.",
            errors={"responded_on": ["Before the notice was sent."]},
        )
    if responded_on > timezone.localdate():
        raise ApplicationError(
            "The response date is in the future.", errors={"responded_on": ["In the future."]}
        )
    note = (note or "").strip()
    if len(note) > 500:
        raise ApplicationError(
            "The note is longer than 500 characters.", errors={"note": ["At most 500 characters."]}
        )
    requirement.responded_on = responded_on
    requirement.response_note = note
    fields = ["responded_on", "response_note"]
    why = f"Member {response} on {responded_on.isoformat()}" + (f": {note}" if note else "")
    if response == "declined":
        requirement.penalty_since = responded_on
        fields.append("penalty_since")
        _requirement_move(
            requirement, RequirementStatus.DECLINED, actor=actor, reason=why, fields=fields
        )
        penalty_apply(requirement=requirement, actor=actor)
    else:
        _requirement_move(
            requirement, RequirementStatus.ACCEPTED, actor=actor, reason=why, fields=fields
        )
    return requirement


def requirements_mark_no_response(*, today: date | None = None) -> int:
    """Daily: a requirement still awaiting the member's answer after its deadline becomes
    'no response' and the 40% penalty applies from the day after the deadline (idempotent).
    Each requirement moves in its own transaction; rows another worker holds are skipped."""
    today = today or timezone.localdate()
    due = CareCoordinationRequirement.objects.filter(
        status=RequirementStatus.AWAITING_RESPONSE, response_due_on__lt=today
    ).values_list("pk", flat=True)
    moved = 0
    for requirement_id in list(due.order_by("pk")):
        with transaction.atomic():
            requirement = (
                CareCoordinationRequirement.objects.select_for_update(
                    of=("self",), skip_locked=True
                )
                .select_related("case", "member")
                .filter(
                    pk=requirement_id,
                    status=RequirementStatus.AWAITING_RESPONSE,
                    response_due_on__lt=today,
                )
                .first()
            )
            if requirement is None or requirement.response_due_on is None:
                continue
            requirement.penalty_since = requirement.response_due_on + timedelta(days=1)
            _requirement_move(
                requirement,
                RequirementStatus.NO_RESPONSE,
                actor=None,
                reason=f"No response by {requirement.response_due_on.isoformat()}",
                fields=["penalty_since"],
            )
            penalty_apply(requirement=requirement, actor=None)
            moved += 1
    return moved


# --- Related expenses and the penalty ---------------------------------------------------------


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = to_decimal(value)
    except MoneyError as error:
        raise ApplicationError(str(error), errors={field: ["Not an amount."]}) from None
    if amount != amount.quantize(Decimal("0.01")):
        raise ApplicationError(
            f"{amount} is not a whole number of cents.", errors={field: ["Whole cents only."]}
        )
    if amount < 0:
        raise ApplicationError(
            "Amounts cannot be negative.", errors={field: ["Cannot be negative."]}
        )
    if amount >= Decimal("10000000000"):
        raise ApplicationError("The amount is too large.", errors={field: ["Too large."]})
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def expense_add(
    *,
    requirement: CareCoordinationRequirement,
    actor: Any,
    service_date: date,
    description: str,
    provider_name: str,
    billed_amount: Decimal | int | str,
    plan_amount: Decimal | int | str,
    code: str = "",
) -> RelatedExpense:
    """Relate an expense to the requirement (the plan amount at most the billed amount); under
    a declined, unanswered or failed requirement its 40% penalty is recorded at once."""
    require_advocate(actor)
    requirement = _locked_requirement(requirement.pk)
    billed = _amount(billed_amount, "billed_amount")
    plan = _amount(plan_amount, "plan_amount")
    if plan > billed:
        raise ApplicationError(
            "The plan amount cannot exceed the billed amount.",
            errors={"plan_amount": ["At most the billed amount."]},
        )
    description = (description or "").strip()
    provider_name = " ".join((provider_name or "").split())
    code = (code or "").strip().upper()
    errors: dict[str, list[str]] = {}
    if service_date is None or service_date > timezone.localdate():
        errors["service_date"] = ["Give a date of service, not in the future."]
    if not description or len(description) > 200:
        errors["description"] = ["Describe the expense (at most 200 characters)."]
    if not provider_name or len(provider_name) > 200:
        errors["provider_name"] = ["Name the provider (at most 200 characters)."]
    if len(code) > 5:
        errors["code"] = ["At most 5 characters (a CPT or HCPCS code)."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    expense = RelatedExpense.objects.create(
        requirement=requirement,
        service_date=service_date,
        description=description,
        code=code,
        provider_name=provider_name,
        billed_amount=billed,
        plan_amount=plan,
        recorded_by=user_or_none(actor),
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=expense, detail=f"plan amount {plan}")
    if requirement.penalty_applies:
        penalty_apply(requirement=requirement, actor=actor)
    return expense


@transaction.atomic
def penalty_apply(
    *, requirement: CareCoordinationRequirement, actor: Any = None
) -> list[PenaltyLine]:
    """Record the benefit penalty (the requirement's percent of the plan amount, rounded
    half-up to cents at the line) on every related expense that has none yet, and add it to
    the member's penalty accumulator of the service year (never toward deductibles or
    out-of-pocket limits). Idempotent: an expense carries at most one penalty line."""
    require_advocate(actor)
    requirement = _locked_requirement(requirement.pk)
    if not requirement.penalty_applies:
        raise ConflictError(
            f"No penalty applies: the requirement is {requirement.get_status_display().lower()}.",
            errors={"requirement": ["Not declined, unanswered or failed."]},
        )
    expenses = list(
        RelatedExpense.objects.select_for_update(of=("self",))
        .filter(requirement=requirement, penalty__isnull=True)
        .order_by("service_date", "id")
    )
    lines: list[PenaltyLine] = []
    for expense in expenses:
        amount = percent_of(expense.plan_amount, requirement.penalty_percent)
        try:
            with transaction.atomic():
                line = PenaltyLine.objects.create(
                    expense=expense,
                    requirement=requirement,
                    member_id=requirement.member_id,
                    percent=requirement.penalty_percent,
                    base_amount=expense.plan_amount,
                    amount=amount,
                    year=expense.service_date.year,
                    applied_by=user_or_none(actor),
                )
        except IntegrityError:
            if not PenaltyLine.objects.filter(expense=expense).exists():
                raise
            continue  # already penalised by a concurrent run
        accumulator, _ = PenaltyAccumulator.objects.get_or_create(
            member_id=requirement.member_id, year=line.year
        )
        PenaltyAccumulator.objects.filter(pk=accumulator.pk).update(
            total=F("total") + amount, line_count=F("line_count") + 1
        )
        audit_record(
            actor=actor,
            action=AuditAction.CREATE,
            obj=line,
            detail=f"benefit penalty {amount} ({requirement.penalty_percent}% of {expense.plan_amount})",
        )
        lines.append(line)
    return lines
