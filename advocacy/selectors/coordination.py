"""Reads of required care coordination: a requirement with everything its page shows, the
penalty accumulators, the requirements of a case and a member's utilization."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet

from members.models import Member

from ..models import (
    CareCoordinationRequirement,
    Case,
    PenaltyAccumulator,
    PenaltyLine,
    PlanReview,
    RelatedExpense,
    RequirementNotice,
    TreatmentPlan,
    UtilizationEvent,
)


def requirement_detail(requirement_id: int) -> CareCoordinationRequirement:
    """One requirement with its member, case, triggering events, expenses and their penalty
    lines, notices, and treatment plans with their reviews (a fixed number of queries)."""
    return (
        CareCoordinationRequirement.objects.select_related("member", "case", "case__assignee")
        .prefetch_related(
            Prefetch(
                "triggering_events",
                queryset=UtilizationEvent.objects.order_by("occurred_on", "id"),
            ),
            Prefetch(
                "expenses",
                queryset=RelatedExpense.objects.select_related("penalty").order_by(
                    "service_date", "id"
                ),
            ),
            Prefetch(
                "penalty_lines",
                queryset=PenaltyLine.objects.select_related("expense").order_by(
                    "expense__service_date", "id"
                ),
            ),
            Prefetch(
                "notices",
                queryset=RequirementNotice.objects.select_related("sent_by", "created_by"),
            ),
            Prefetch(
                "plans",
                queryset=TreatmentPlan.objects.prefetch_related(
                    "responsible_practitioners",
                    Prefetch("reviews", queryset=PlanReview.objects.order_by("due_on", "id")),
                ),
            ),
        )
        .get(pk=requirement_id)
    )


def requirement_expense_totals(
    requirement: CareCoordinationRequirement,
) -> dict[str, Decimal] | None:
    """The related expenses' totals (billed, plan would pay, penalty) as sums of their lines, from
    the rows `requirement_detail` prefetched; None when there are no expenses."""
    expenses = list(requirement.expenses.all())
    if not expenses:
        return None
    zero = Decimal("0.00")
    return {
        "billed": sum((e.billed_amount for e in expenses), zero),
        "plan": sum((e.plan_amount for e in expenses), zero),
        "penalty": sum((line.amount for line in requirement.penalty_lines.all()), zero),
    }


def penalty_totals_for(member: Member) -> list[tuple[int, Decimal, int]]:
    """The member's benefit penalties per year, newest first: (year, total, line count). Kept
    apart from deductibles and out-of-pocket limits."""
    rows = (
        PenaltyAccumulator.objects.filter(member=member)
        .order_by("-year")
        .values_list("year", "total", "line_count")
    )
    return [(year, total, line_count) for year, total, line_count in rows]


def requirements_for_case(case: Case) -> QuerySet[CareCoordinationRequirement]:
    """The requirement a case was opened for, and those its treatment plans serve."""
    served = TreatmentPlan.objects.filter(case=case, requirement__isnull=False).values(
        "requirement_id"
    )
    return (
        CareCoordinationRequirement.objects.filter(Q(case=case) | Q(pk__in=served))
        .select_related("member", "case")
        .order_by("-triggered_on", "-id")
    )


def utilization_for_member(member: Member) -> QuerySet[UtilizationEvent]:
    """A member's utilization events, newest first, with the requirements each triggered."""
    return (
        UtilizationEvent.objects.filter(member=member)
        .select_related("practitioner", "utilization_import", "recorded_by")
        .prefetch_related("requirements")
        .order_by("-occurred_on", "-id")
    )


def utilization_recent() -> QuerySet[UtilizationEvent]:
    """Every member's utilization events, the latest recorded first (slice it: a work list)."""
    return UtilizationEvent.objects.select_related(
        "member", "practitioner", "utilization_import", "recorded_by"
    ).order_by("-created_at", "-id")


__all__ = [
    "penalty_totals_for", "requirement_detail", "requirement_expense_totals", "requirements_for_case", "utilization_for_member",
    "utilization_recent",
]  # fmt: skip
