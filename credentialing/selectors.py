"""Reads of the credentialing app: the checklist, the clock, the queues and the dashboard figures."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from .models import (
    CLOCK_DAYS,
    DECIDED_STATUSES,
    OPEN_STATUSES,
    VERIFICATION_MAX_AGE_DAYS,
    ApplicationStatus,
    CredentialingApplication,
    ScreeningRun,
    StaffTask,
    SubjectType,
    TaskStatus,
    Verification,
    VerificationItem,
    VerificationResult,
)

PRACTITIONER_ITEMS = [
    VerificationItem.LICENSE,
    VerificationItem.DEA,
    VerificationItem.BOARD,
    VerificationItem.EDUCATION,
    VerificationItem.WORK_HISTORY,
    VerificationItem.MALPRACTICE_HISTORY,
    VerificationItem.OIG,
    VerificationItem.SAM,
    VerificationItem.NPI,
]
CLINIC_ITEMS = [
    VerificationItem.FACILITY_LICENSE,
    VerificationItem.ACCREDITATION,
    VerificationItem.LIABILITY_INSURANCE,
    VerificationItem.OIG,
    VerificationItem.SAM,
    VerificationItem.NPI,
]


@dataclass(frozen=True)
class ChecklistRow:
    item: str
    label: str
    required: bool
    verification: Verification | None
    age_days: int | None
    state: str  # "ok", "missing", "stale", "unable", "adverse"

    @property
    def problem(self) -> str:
        return {
            "missing": "not verified yet",
            "stale": f"verified {self.age_days} days ago (over {VERIFICATION_MAX_AGE_DAYS})",
            "unable": "could not be verified",
        }.get(self.state, "")


def verification_checklist(
    application: CredentialingApplication, *, on: date | None = None
) -> list[ChecklistRow]:
    """Each checklist item with its latest verification and whether it can support a decision on `on`."""
    day = on or timezone.localdate()
    latest: dict[str, Verification] = {}
    for candidate in application.verifications.select_related("verified_by", "document"):
        current = latest.get(candidate.item)
        if current is None or (candidate.verified_on, candidate.pk) > (
            current.verified_on,
            current.pk,
        ):
            latest[candidate.item] = candidate
    rows = []
    for item, required in _required_items(application):
        verification = latest.get(item)
        if verification is None:
            state, age = "missing", None
        else:
            age = (day - verification.verified_on).days
            if age > VERIFICATION_MAX_AGE_DAYS:
                state = "stale"
            elif verification.result == VerificationResult.UNABLE:
                state = "unable"
            elif verification.result == VerificationResult.ADVERSE:
                state = "adverse"
            else:
                state = "ok"
        rows.append(
            ChecklistRow(
                item=item,
                label=VerificationItem(item).label,
                required=required,
                verification=verification,
                age_days=age,
                state=state,
            )
        )
    return rows


def _required_items(application: CredentialingApplication) -> list[tuple[str, bool]]:
    """(item, required) of this application's checklist: DEA only with a registration, board only
    when claimed, accreditation only when named, a clinic's NPI only when it has a group NPI."""
    if application.subject_type == SubjectType.CLINIC:
        applicable = {
            VerificationItem.ACCREDITATION: bool(application.accreditation_body),
            VerificationItem.NPI: bool(application.clinic and application.clinic.group_npi),
        }
        items = CLINIC_ITEMS
    else:
        applicable = {
            VerificationItem.DEA: application.dea_registrations.exists(),
            VerificationItem.BOARD: application.board_certifications.exists(),
        }
        items = PRACTITIONER_ITEMS
    return [(item, True) for item in items if applicable.get(item, True)]


def checklist_problems(application: CredentialingApplication, *, on: date) -> list[str]:
    """Why the checklist cannot support a decision on `on` (empty when it can)."""
    return [
        f"{row.label}: {row.problem}"
        for row in verification_checklist(application, on=on)
        if row.required and row.state in ("missing", "stale", "unable")
    ]


def application_expirables(
    application: CredentialingApplication,
) -> list[tuple[str, Any, str, date]]:
    """(kind, record, label, expires_on) of a current application: licenses, DEA, insurance,
    board certifications; a clinic's facility license and accreditation (record: the application)."""
    rows: list[tuple[str, Any, str, date]] = []
    for lic in application.licenses.all():
        rows.append(("license", lic, f"{lic.state} license {lic.number}", lic.expires_on))
    for dea in application.dea_registrations.all():
        rows.append(("dea", dea, f"DEA registration {dea.number}", dea.expires_on))
    for policy in application.insurance_policies.all():
        label = (
            "Liability insurance"
            if application.subject_type == SubjectType.CLINIC
            else "Malpractice insurance"
        )
        rows.append(
            (
                "insurance",
                policy,
                f"{label} {policy.carrier} {policy.policy_number}",
                policy.expires_on,
            )
        )
    for board in application.board_certifications.all():
        label = f"Board certification {board.board} ({board.specialty})"
        rows.append(("board", board, label, board.expires_on))
    if application.facility_license_expires_on:
        rows.append(
            (
                "facility_license",
                application,
                f"Facility license {application.facility_license_state} {application.facility_license_number}",
                application.facility_license_expires_on,
            )
        )
    if application.accreditation_expires_on:
        body = application.accreditation_body.strip()
        rows.append(
            (
                "accreditation",
                application,
                f"Accreditation ({body})" if body else "Accreditation",
                application.accreditation_expires_on,
            )
        )
    return rows


# --- The clock ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    days_in_stage: int
    days_since_received: int
    days_since_complete: int | None
    due_on: date | None
    is_overdue: bool
    days_to_decision: int | None


def application_clock(application: CredentialingApplication, *, today: date | None = None) -> Clock:
    """Days in the current stage, days since the file was complete, the due date and whether it is late."""
    today = today or timezone.localdate()
    stage_day = timezone.localdate(application.stage_entered_at)
    end = application.decided_on or today
    since_complete = (end - application.completed_on).days if application.completed_on else None
    due = application.due_on
    is_overdue = bool(due is not None and application.status in OPEN_STATUSES and today > due)
    return Clock(
        days_in_stage=(today - stage_day).days,
        days_since_received=(end - application.received_on).days,
        days_since_complete=since_complete,
        due_on=due,
        is_overdue=is_overdue,
        days_to_decision=since_complete if application.decided_on else None,
    )


def application_list(
    *, status: str | None = None, overdue: bool | None = None, assignee: Any = None
) -> QuerySet[CredentialingApplication]:
    """Applications with their subject, for lists; `overdue` = open and past the 10-day promise."""
    queryset = CredentialingApplication.objects.select_related(
        "practitioner", "clinic", "assignee", "location"
    )
    if status:
        queryset = queryset.filter(status=status)
    if overdue is not None:
        condition = overdue_q(timezone.localdate())
        queryset = queryset.filter(condition) if overdue else queryset.exclude(condition)
    if assignee is not None:
        queryset = queryset.filter(assignee=assignee)
    return queryset


def overdue_q(today: date) -> Q:
    """Open, complete, and more than CLOCK_DAYS days since complete."""
    return Q(status__in=OPEN_STATUSES, completed_on__lt=today - timedelta(days=CLOCK_DAYS))


@dataclass(frozen=True)
class Dashboard:
    counts: list[tuple[str, str, int]]  # (status, label, count) for the open stages
    overdue: list[CredentialingApplication]
    median_days: float | None
    decided_count: int
    weekly: list[tuple[date, float | None, int]]  # (week start, median days, decisions)
    open_tasks: int
    overdue_tasks: int
    latest_screenings: list[ScreeningRun]
    overdue_total: int = 0  # all overdue applications (the list shows the first 50)
    window_start: date | None = None  # the first day of the decisions' window


OVERDUE_SHOWN = 50


def decided_in_week_params(week: date, *, since: date, today: date) -> dict[str, str]:
    """The admin list's filters for the decisions one bar of the dashboard counts: decided in
    the week (within the window), with a complete date."""
    return {
        "status__in": ",".join(str(s) for s in DECIDED_STATUSES),
        "completed_on__isnull": "False",
        "decided_on__gte": max(week, since).isoformat(),
        "decided_on__lte": min(week + timedelta(days=6), today).isoformat(),
    }


def dashboard(*, today: date | None = None, window_days: int = 90) -> Dashboard:
    """Counts per stage, the overdue list, and the median days from complete to decision."""
    today = today or timezone.localdate()
    by_status = dict(
        CredentialingApplication.objects.filter(status__in=OPEN_STATUSES)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    counts = [(str(s), str(ApplicationStatus(s).label), by_status.get(s, 0)) for s in OPEN_STATUSES]
    overdue = list(
        CredentialingApplication.objects.filter(overdue_q(today))
        .select_related("practitioner", "clinic", "assignee")
        .order_by("completed_on", "id")[:OVERDUE_SHOWN]
    )
    since = today - timedelta(days=window_days)
    decided = list(
        CredentialingApplication.objects.filter(
            status__in=DECIDED_STATUSES,
            decided_on__gte=since,
            decided_on__lte=today,
            completed_on__isnull=False,
        ).values_list("completed_on", "decided_on")
    )
    decided_pairs = [(c, d) for c, d in decided if c is not None and d is not None]
    durations = [(d - c).days for c, d in decided_pairs]
    weekly: list[tuple[date, float | None, int]] = []
    first_week = since - timedelta(days=since.weekday())
    week = first_week
    while week <= today:
        in_week = [(d - c).days for c, d in decided_pairs if week <= d < week + timedelta(days=7)]
        weekly.append((week, statistics.median(in_week) if in_week else None, len(in_week)))
        week += timedelta(days=7)
    tasks = StaffTask.objects.filter(status=TaskStatus.OPEN)
    return Dashboard(
        counts=counts,
        overdue=overdue,
        median_days=statistics.median(durations) if durations else None,
        decided_count=len(durations),
        weekly=weekly,
        open_tasks=tasks.count(),
        overdue_tasks=tasks.filter(due_on__lt=today).count(),
        latest_screenings=list(ScreeningRun.objects.order_by("-started_at")[:5]),
        overdue_total=(
            len(overdue)
            if len(overdue) < OVERDUE_SHOWN
            else CredentialingApplication.objects.filter(overdue_q(today)).count()
        ),
        window_start=since,
    )


def open_tasks() -> QuerySet[StaffTask]:
    return StaffTask.objects.filter(status=TaskStatus.OPEN).select_related(
        "practitioner", "clinic", "application", "assignee"
    )


__all__ = [
    "CLINIC_ITEMS", "PRACTITIONER_ITEMS", "ChecklistRow", "Clock", "Dashboard",
    "application_clock", "application_expirables", "application_list", "checklist_problems", "dashboard", "open_tasks",
    "overdue_q", "verification_checklist",
]  # fmt: skip
