"""Treatment plans and their reviews: completed, missed, excused, or confirmed as the
member's failure to cooperate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from providers.models import Practitioner

from ...models import (
    PENALTY_STATUSES,
    CareCoordinationRequirement,
    Case,
    CaseEventKind,
    CaseStatus,
    PlanReview,
    PlanStatus,
    RequirementStatus,
    ReviewStatus,
    TreatmentPlan,
)
from ..cases import _event, case_flag, case_flag_clear, require_advocate
from .common import (
    _locked_requirement,
    _require_person_advocate,
    _requirement_move,
    long_date,
)
from .requirements import penalty_apply

# --- Treatment plans --------------------------------------------------------------------------


def _missed_flag(review: PlanReview) -> str:
    return f"Treatment-plan review due {long_date(review.due_on)} was missed"


def _next_due(review: PlanReview, after: date) -> date:
    """The plan's cadence continues from the review's due date: the first date after `after`."""
    interval = timedelta(days=review.plan.review_interval_days)
    due = review.due_on + interval
    while due <= after:
        due += interval
    return due


def _schedule_next(review: PlanReview, after: date) -> PlanReview | None:
    if review.plan.status != PlanStatus.ACTIVE:
        return None
    next_review, _ = PlanReview.objects.get_or_create(
        plan=review.plan, due_on=_next_due(review, after)
    )
    return next_review


def _clear_flag_of(review: PlanReview, *, actor: Any, why: str) -> None:
    case = review.plan.case
    case.refresh_from_db(fields=["flag_reason"])
    if case.flag_reason and case.flag_reason == _missed_flag(review):
        case_flag_clear(case=case, actor=actor, reason=why)


def _locked_review(review: PlanReview) -> PlanReview:
    return (
        PlanReview.objects.select_for_update(of=("self",))
        .select_related("plan", "plan__case", "plan__requirement")
        .get(pk=review.pk)
    )


@transaction.atomic
def treatment_plan_create(
    *,
    case: Case,
    actor: Any,
    goals: str,
    interventions: str,
    starts_on: date,
    review_interval_days: int = 30,
    requires_submission: bool = False,
    practitioners: Iterable[Practitioner] = (),
    other_responsible: str = "",
    requirement: CareCoordinationRequirement | None = None,
) -> TreatmentPlan:
    """Agree a treatment plan (goals, interventions, responsible providers) on a case; it is
    reviewed every `review_interval_days` (7 to 365) days, the first review that long after it
    starts."""
    require_advocate(actor)
    if requirement is not None:
        requirement = _locked_requirement(requirement.pk)
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    errors: dict[str, list[str]] = {}
    if case.status == CaseStatus.CLOSED:
        raise ConflictError(
            f"Case {case.reference} is closed: reopen it before adding a treatment plan.",
            errors={"case": ["A closed case takes no new plan."]},
        )
    goals = (goals or "").strip()
    interventions = (interventions or "").strip()
    other_responsible = (other_responsible or "").strip()
    practitioners = list(practitioners)
    if not goals:
        errors["goals"] = ["State the plan's goals."]
    if not interventions:
        errors["interventions"] = ["State the interventions."]
    if starts_on is None:
        errors["starts_on"] = ["Give the start date."]
    if not isinstance(review_interval_days, int) or not 7 <= review_interval_days <= 365:
        errors["review_interval_days"] = ["Reviews are between 7 and 365 days apart."]
    if len(other_responsible) > 300:
        errors["other_responsible"] = ["At most 300 characters."]
    if requirement is not None and requirement.member_id != case.member_id:
        errors["requirement"] = ["This requirement is another member's."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    plan = TreatmentPlan.objects.create(
        case=case,
        requirement=requirement,
        goals=goals,
        interventions=interventions,
        other_responsible=other_responsible,
        starts_on=starts_on,
        review_interval_days=review_interval_days,
        requires_submission=bool(requires_submission),
        created_by=user_or_none(actor),
    )
    if practitioners:
        plan.responsible_practitioners.set(practitioners)
    first = PlanReview.objects.create(
        plan=plan, due_on=starts_on + timedelta(days=review_interval_days)
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=plan,
        detail=f"reviews every {review_interval_days} days, first {first.due_on.isoformat()}",
    )
    if requirement is not None:
        _event(
            requirement.case,
            kind=CaseEventKind.REQUIREMENT,
            actor=actor,
            from_value=requirement.status,
            to_value=requirement.status,
            reason=(
                f"Treatment plan from {starts_on.isoformat()}; first review due "
                f"{first.due_on.isoformat()}"
            ),
        )
    return plan


@transaction.atomic
def plan_review_complete(
    *,
    review: PlanReview,
    actor: Any,
    completed_on: date,
    notes: str = "",
    submission_received_on: date | None = None,
) -> PlanReview:
    """Complete a scheduled (or late, missed) review; a plan that requires submission needs the
    date the submission was received. The next review follows the plan's cadence from this
    review's due date, and a flag raised for this review is cleared."""
    require_advocate(actor)
    review = _locked_review(review)
    if review.status not in (ReviewStatus.SCHEDULED, ReviewStatus.MISSED):
        raise ConflictError(
            f"This review is already {review.get_status_display().lower()}.",
            errors={"review": ["Not open."]},
        )
    today = timezone.localdate()
    if completed_on is None or completed_on > today or completed_on < review.plan.starts_on:
        raise ApplicationError(
            "The review is completed between the plan's start and today.",
            errors={"completed_on": ["Between the plan's start and today."]},
        )
    if review.plan.requires_submission:
        if submission_received_on is None:
            raise ApplicationError(
                "This plan requires a submission at each review: give the date it was received.",
                errors={"submission_received_on": ["Required by this plan."]},
            )
        if submission_received_on > completed_on:
            raise ApplicationError(
                "The submission is received on or before the review is completed.",
                errors={"submission_received_on": ["After the review date."]},
            )
    was_missed = review.status == ReviewStatus.MISSED
    review.status = ReviewStatus.COMPLETED
    review.completed_on = completed_on
    review.submission_received_on = submission_received_on
    review.notes = (notes or "").strip()
    review.decided_by = user_or_none(actor)
    review.decided_at = timezone.now()
    review.save(
        update_fields=[
            "status", "completed_on", "submission_received_on", "notes", "decided_by", "decided_at",
        ]
    )  # fmt: skip
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=review, detail="completed")
    # A late completion continues the cadence (the next review is not already past).
    _schedule_next(review, after=completed_on if was_missed else review.due_on)
    _clear_flag_of(review, actor=actor, why=f"Review completed on {completed_on.isoformat()}")
    return review


def plan_reviews_mark_missed(*, today: date | None = None) -> int:
    """Daily: a scheduled review of an active plan past its due date is missed and flags the
    case. The requirement is not changed: a missed review counts as failure to cooperate only
    once an advocate confirms it. Each review in its own transaction; held rows are skipped."""
    today = today or timezone.localdate()
    due_ids = list(
        PlanReview.objects.filter(
            status=ReviewStatus.SCHEDULED, due_on__lt=today, plan__status=PlanStatus.ACTIVE
        )
        .order_by("due_on", "pk")
        .values_list("pk", flat=True)
    )
    missed = 0
    for review_id in due_ids:
        with transaction.atomic():
            review = (
                PlanReview.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("plan", "plan__case")
                .filter(pk=review_id, status=ReviewStatus.SCHEDULED, due_on__lt=today)
                .first()
            )
            if review is None:
                continue
            review.status = ReviewStatus.MISSED
            review.save(update_fields=["status"])
            audit_record(actor=None, action=AuditAction.UPDATE, obj=review, detail="missed")
            case_flag(case=review.plan.case, actor=None, reason=_missed_flag(review))
            missed += 1
    return missed


@transaction.atomic
def plan_review_confirm_failure(*, review: PlanReview, actor: Any, note: str) -> PlanReview:
    """An advocate confirms that a missed review was the member's failure to cooperate: the
    plan's requirement becomes 'failed to cooperate' and the 40% penalty applies."""
    _require_person_advocate(actor)
    note = (note or "").strip()
    if not note:
        raise ApplicationError("Say why.", errors={"note": ["Explain the confirmation."]})
    plan_requirement = (
        TreatmentPlan.objects.filter(pk=review.plan_id)
        .values_list("requirement_id", flat=True)
        .first()
    )
    requirement = _locked_requirement(plan_requirement) if plan_requirement else None
    review = _missed_review_decide(
        review, ReviewStatus.FAILURE_CONFIRMED, actor=actor, note=note,
        refused="can be confirmed as a failure to cooperate", detail="failure confirmed",
    )  # fmt: skip
    why = f"Review due {review.due_on.isoformat()} missed; failure to cooperate confirmed: {note}"
    if requirement is not None:
        if requirement.status in PENALTY_STATUSES or requirement.status == RequirementStatus.ENDED:
            _event(
                requirement.case,
                kind=CaseEventKind.REQUIREMENT,
                actor=actor,
                from_value=requirement.status,
                to_value=requirement.status,
                reason=why,
            )
        else:
            requirement.penalty_since = timezone.localdate()
            _requirement_move(
                requirement,
                RequirementStatus.FAILED_TO_COOPERATE,
                actor=actor,
                reason=why,
                fields=["penalty_since"],
            )
        if requirement.penalty_applies:
            penalty_apply(requirement=requirement, actor=actor)
    _clear_flag_of(review, actor=actor, why="Failure to cooperate confirmed")
    return review


def _missed_review_decide(
    review: PlanReview, status: str, *, actor: Any, note: str, refused: str, detail: str
) -> PlanReview:
    """Lock a missed review and record the advocate's decision on it (status, note, who, when,
    audit row); a review that is not missed is refused."""
    review = _locked_review(review)
    if review.status != ReviewStatus.MISSED:
        raise ConflictError(
            f"Only a missed review {refused}; this one is {review.get_status_display().lower()}.",
            errors={"review": ["Not missed."]},
        )
    review.status = status
    review.notes = "\n\n".join(part for part in (review.notes, note) if part)
    review.decided_by = user_or_none(actor)
    review.decided_at = timezone.now()
    review.save(update_fields=["status", "notes", "decided_by", "decided_at"])
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=review, detail=detail)
    return review


@transaction.atomic
def plan_review_excuse(*, review: PlanReview, actor: Any, note: str) -> PlanReview:
    """An advocate excuses a missed review (no failure to cooperate): the flag is cleared and
    the next review is scheduled on the plan's cadence."""
    require_advocate(actor)
    note = (note or "").strip()
    if not note:
        raise ApplicationError("Say why.", errors={"note": ["Explain why it is excused."]})
    review = _missed_review_decide(
        review, ReviewStatus.EXCUSED, actor=actor, note=note, refused="can be excused",
        detail="excused",
    )  # fmt: skip
    _schedule_next(review, after=timezone.localdate())
    _clear_flag_of(review, actor=actor, why=f"Missed review excused: {note}")
    return review
