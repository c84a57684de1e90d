"""Reads of cases: the workspace queues and their counts, a case with its timeline and its
member summary, the member's own view, and the dashboard's figures."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case as When_,
)
from django.db.models import (
    Count,
    IntegerField,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from cooperative.periods import COOPERATIVE_TZ, Period
from cooperative.roles import Role
from cooperative.selectors import users_in_role
from members import selectors as member_selectors
from members.models import Member

from ..models import (
    OPEN_CASE_STATUSES,
    PRIORITY_ORDER,
    WAITING_STATUSES,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseNote,
    CasePolicyLink,
    CaseStatus,
    CaseTask,
    CaseType,
    TaskStatus,
)

QUEUES = {
    "mine": "My open cases",
    "unassigned": "Unassigned",
    "waiting": "Waiting",
    "overdue": "Overdue",
    "open": "All open",
    "closed": "Resolved and closed",
    "all": "All cases",
}
SORTS = {
    "due": ("due_on", "id"),
    "-due": ("-due_on", "-id"),
    "priority": ("priority_rank", "due_on", "id"),
    "opened": ("-opened_at", "-id"),
}


def _priority_rank() -> When_:
    return When_(
        *(When(priority=p, then=Value(i)) for i, p in enumerate(PRIORITY_ORDER)),
        output_field=IntegerField(),
    )


def queue_filter(queue: str, user: Any, today: date) -> Q:
    open_ = Q(status__in=OPEN_CASE_STATUSES)
    if queue == "mine":
        return open_ & Q(assignee=user)
    if queue == "unassigned":
        return open_ & Q(assignee__isnull=True)
    if queue == "waiting":
        return Q(status__in=WAITING_STATUSES)
    if queue == "overdue":
        return open_ & Q(due_on__lt=today)
    if queue == "closed":
        return Q(status__in=(CaseStatus.RESOLVED, CaseStatus.CLOSED))
    if queue == "all":
        return Q()
    return open_


def _day_start(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), COOPERATIVE_TZ)


def overdue_on_filter(day: date) -> Q:
    """Cases overdue at the end of `day`: opened by then, not resolved or closed before it,
    and due before it (the dashboard's weekly trend and the list its bars open)."""
    return (
        Q(opened_at__lt=_day_start(day + timedelta(days=1)))
        & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=_day_start(day)))
        & (Q(closed_at__isnull=True) | Q(closed_at__gte=_day_start(day)))
        & Q(due_on__lt=day)
    )


def resolved_filter(first: Period, last: Period | None = None) -> Q:
    """Cases resolved from the first day of `first` to the end of `last` (open-ended without),
    in the cooperative's time zone."""
    condition = Q(resolved_at__gte=_month_start(first))
    if last is not None:
        condition &= Q(resolved_at__lt=_month_start(last.next()))
    return condition


def case_queue(
    *,
    user: Any,
    queue: str = "mine",
    case_type: str = "",
    priority: str = "",
    status: str = "",
    state: str = "",
    q: str = "",
    sort: str = "due",
    overdue_on: date | None = None,
    resolved_in: Period | None = None,
    resolved_from: Period | None = None,
    today: date | None = None,
) -> QuerySet[Case]:
    """One queue of the workspace, filtered and sorted (by due date unless asked otherwise).
    `overdue_on`, `resolved_in` and `resolved_from` are the dashboard's figures: the cases a
    bar or a tile counts."""
    today = today or timezone.localdate()
    cases = (
        Case.objects.filter(queue_filter(queue if queue in QUEUES else "mine", user, today))
        .select_related("member", "assignee", "practitioner", "payer")
        .annotate(
            priority_rank=_priority_rank(),
            open_tasks=Count("tasks", filter=Q(tasks__status=TaskStatus.OPEN)),
        )
    )
    if overdue_on is not None:
        cases = cases.filter(overdue_on_filter(overdue_on))
    if resolved_in is not None:
        cases = cases.filter(resolved_filter(resolved_in, resolved_in))
    if resolved_from is not None:
        cases = cases.filter(resolved_filter(resolved_from))
    if case_type:
        cases = cases.filter(case_type=case_type)
    if priority:
        cases = cases.filter(priority=priority)
    if status:
        cases = cases.filter(status=status)
    if state:
        cases = cases.filter(member__state=state)
    if q.strip():
        term = q.strip()
        match = (
            Q(member__member_number__iexact=term)
            | Q(member__last_name__icontains=term)
            | Q(member__first_name__icontains=term)
            | Q(summary__icontains=term)
        )
        if term.upper().startswith("C-") and term[2:].isdigit():
            match |= Q(pk=int(term[2:]))
        cases = cases.filter(match)
    return cases.order_by(*SORTS.get(sort, SORTS["due"]))


def queue_counts(*, user: Any, today: date | None = None) -> dict[str, int]:
    """The counts on top of the workspace, in one query."""
    today = today or timezone.localdate()
    return Case.objects.aggregate(
        **{
            key: Count("pk", filter=queue_filter(key, user, today))
            for key in QUEUES
            if key not in ("closed", "all")
        }
    )


def case_get(case_id: int) -> Case | None:
    return (
        Case.objects.select_related(
            "member",
            "member__subscriber",
            "practitioner",
            "clinic",
            "payer",
            "assignee",
            "opened_by",
        )
        .filter(pk=case_id)
        .first()
    )


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # event, note, contact, task, attachment, policy
    at: datetime
    actor: Any
    item: Any


def case_timeline(case: Case) -> list[TimelineItem]:
    """Everything that happened on a case, newest first (a fixed number of queries)."""
    items: list[TimelineItem] = []
    for event in CaseEvent.objects.filter(case=case).select_related("actor"):
        items.append(TimelineItem("event", event.occurred_at, event.actor, event))
    for note in CaseNote.objects.filter(case=case).select_related("author", "corrects"):
        items.append(TimelineItem("note", note.created_at, note.author, note))
    for contact in CaseContact.objects.filter(case=case).select_related("logged_by"):
        items.append(TimelineItem("contact", contact.occurred_at, contact.logged_by, contact))
    for task in CaseTask.objects.filter(case=case).select_related("created_by", "assignee"):
        items.append(TimelineItem("task", task.created_at, task.created_by, task))
    for attachment in CaseAttachment.objects.filter(case=case).select_related("uploaded_by"):
        items.append(
            TimelineItem("attachment", attachment.uploaded_at, attachment.uploaded_by, attachment)
        )
    for link in CasePolicyLink.objects.filter(case=case).select_related(
        "linked_by", "policy_update__payer"
    ):
        items.append(TimelineItem("policy", link.linked_at, link.linked_by, link))
    order = {"event": 0, "task": 1, "attachment": 2, "policy": 3, "contact": 4, "note": 5}
    items.sort(key=lambda i: (i.at, order[i.kind], i.item.pk), reverse=True)
    return items


def case_tasks(case: Case) -> QuerySet[CaseTask]:
    return CaseTask.objects.filter(case=case).select_related("assignee")


@dataclass
class CaseMemberSummary:
    member: Member
    pcp: Any
    membership: Any
    other_open_cases: list[Case] = field(default_factory=list)


def case_member_summary(case: Case, today: date | None = None) -> CaseMemberSummary:
    """The case header: member number, PCP, membership status, the member's other open cases."""
    today = today or timezone.localdate()
    member = case.member
    assignment = member_selectors.pcp_on(member, today)
    others = list(
        Case.objects.filter(member=member, status__in=OPEN_CASE_STATUSES)
        .exclude(pk=case.pk)
        .order_by("due_on")[:10]
    )
    return CaseMemberSummary(
        member=member,
        pcp=assignment.practitioner if assignment else None,
        membership=member_selectors.membership_current(member),
        other_open_cases=others,
    )


def advocates() -> QuerySet[Any]:
    """Everyone who may be assigned a case or a task: active advocates, sorted by name."""
    return users_in_role(Role.ADVOCATE)


# --- The member's own view ----------------------------------------------------------------


def member_cases(member: Member) -> QuerySet[Case]:
    """A member's own cases with only the notes marked as shared (nothing else is shown)."""
    return (
        Case.objects.filter(member=member)
        .only("pk", "member_id", "case_type", "status", "summary", "opened_at", "resolved_at", "closed_at")
        .prefetch_related(
            Prefetch("notes", queryset=CaseNote.objects.filter(is_shared=True).only("pk", "case_id", "body", "created_at"), to_attr="shared_notes")
        )
        .order_by("-opened_at", "-id")
    )  # fmt: skip


def member_case_get(member: Member, case_id: int) -> Case | None:
    return member_cases(member).filter(pk=case_id).first()


# --- Dashboard ------------------------------------------------------------------------------


@dataclass
class Dashboard:
    open_by_type: list[tuple[str, str, int]]
    overdue_trend: list[tuple[date, int]]
    resolution_by_month: list[tuple[Period, float | None, int]]
    savings_by_month: list[tuple[Period, Decimal, int]]
    savings_by_advocate: list[tuple[str, Decimal, int]]
    open_total: int
    overdue_now: int
    savings_total: Decimal
    first_period: Period | None = None  # the first month of the savings and resolution charts


def _month_start(period: Period) -> datetime:
    return datetime(period.year, period.month, 1, tzinfo=COOPERATIVE_TZ)


def dashboard(*, today: date | None = None, months: int = 6, weeks: int = 8) -> Dashboard:
    """Open cases by type, the overdue trend per week, days to resolution and savings per month,
    savings per advocate — a fixed number of queries whatever the number of cases."""
    today = today or timezone.localdate()
    counts = dict(
        Case.objects.filter(status__in=OPEN_CASE_STATUSES)
        .values_list("case_type")
        .annotate(n=Count("pk"))
        .values_list("case_type", "n")
    )
    open_by_type = [(value, label, counts.get(value, 0)) for value, label in CaseType.choices]

    # Overdue at the end of each of the last `weeks` weeks: open on that day and past due.
    week_ends = [today - timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]
    trend_counts = Case.objects.aggregate(
        **{f"w{i}": Count("pk", filter=overdue_on_filter(day)) for i, day in enumerate(week_ends)}
    )
    overdue_trend = [(day, trend_counts[f"w{i}"]) for i, day in enumerate(week_ends)]

    first = Period.of(today)
    periods = [first]
    for _ in range(months - 1):
        periods.insert(0, periods[0].previous())
    since = _month_start(periods[0])
    resolved = Case.objects.filter(resolved_at__gte=since).values_list("opened_at", "resolved_at", "recovered_amount", "assignee__username", "assignee__first_name", "assignee__last_name")  # fmt: skip
    days_by_month: dict[Period, list[float]] = {p: [] for p in periods}
    savings: dict[Period, list[Decimal]] = {p: [] for p in periods}
    by_advocate: dict[str, list[Decimal]] = {}
    for opened_at, resolved_at, recovered, username, first_name, last_name in resolved:
        if resolved_at is None:
            continue
        period = Period.of(resolved_at)
        if period not in days_by_month:
            continue
        days_by_month[period].append((resolved_at - opened_at).total_seconds() / 86400)
        savings[period].append(recovered or Decimal("0.00"))
        name = f"{first_name} {last_name}".strip() or username or "Unassigned"
        by_advocate.setdefault(name, []).append(recovered or Decimal("0.00"))
    resolution = [
        (
            p,
            round(statistics.median(days_by_month[p]), 1) if days_by_month[p] else None,
            len(days_by_month[p]),
        )
        for p in periods
    ]
    savings_rows = [(p, sum(savings[p], Decimal("0.00")), len(savings[p])) for p in periods]
    advocate_rows = sorted(
        ((name, sum(values, Decimal("0.00")), len(values)) for name, values in by_advocate.items()),
        key=lambda row: (-row[1], row[0]),
    )
    open_total = sum(c for _v, _l, c in open_by_type)
    return Dashboard(
        open_by_type=open_by_type,
        overdue_trend=overdue_trend,
        resolution_by_month=resolution,
        savings_by_month=savings_rows,
        savings_by_advocate=advocate_rows,
        open_total=open_total,
        overdue_now=Case.objects.filter(status__in=OPEN_CASE_STATUSES, due_on__lt=today).count(),
        savings_total=sum((row[1] for row in savings_rows), Decimal("0.00")),
        first_period=periods[0],
    )


__all__ = [
    "QUEUES", "SORTS", "CaseMemberSummary", "Dashboard", "TimelineItem", "advocates",
    "case_get", "case_member_summary", "case_queue", "case_tasks", "case_timeline", "dashboard",
    "member_case_get", "member_cases", "queue_counts", "queue_filter",
]  # fmt: skip
