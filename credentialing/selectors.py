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


def committee_refusal(application: CredentialingApplication, *, on: date) -> str:
    """Why the application cannot go to the committee on `on`, in the words the service refuses
    with and the page shows beside the disabled button ("" when it can go)."""
    if application.status != ApplicationStatus.VERIFICATION:
        return (
            f"An application in {application.get_status_display().lower()} cannot be sent "
            "to the committee."
        )
    outstanding = [
        row
        for row in verification_checklist(application, on=on)
        if row.required and row.state in ("missing", "stale", "unable")
    ]
    if not outstanding:
        return ""
    names = ", ".join(
        row.label if row.state == "missing" else f"{row.label} ({row.problem})"
        for row in outstanding
    )
    count = len(outstanding)
    return f"{count} verification{'s' if count != 1 else ''} outstanding: {names}"


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


# --- Exclusion screening: a run's progress and a match shown to a person ------------------

# Where a running screening reports how far it got: the run's transaction is open until it
# finishes, so the count lives in the shared cache (Redis), never in a process's memory.
SCREENING_PROGRESS_KEY = "credentialing:screening-progress:{run_id}"


@dataclass(frozen=True)
class ScreeningProgress:
    processed: int
    total: int
    is_running: bool

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.processed / self.total)) if self.total else 0


def screening_run_progress(run: ScreeningRun) -> ScreeningProgress:
    """Lines of the list read so far out of its total (a finished run: all of them)."""
    from django.core.cache import cache

    from .models import ScreeningStatus

    if run.status != ScreeningStatus.RUNNING:
        return ScreeningProgress(run.rows_read, run.rows_read, is_running=False)
    reported = cache.get(SCREENING_PROGRESS_KEY.format(run_id=run.pk)) or {}
    return ScreeningProgress(
        int(reported.get("processed", 0)), int(reported.get("total", 0)), is_running=True
    )


# The listed person's fields in the order a reviewer compares them, labelled (LEIE and SAM).
MATCHED_RECORD_LABELS: list[tuple[str, str]] = [
    ("LASTNAME", "Last name"), ("FIRSTNAME", "First name"), ("MIDNAME", "Middle name"),
    ("Last", "Last name"), ("First", "First name"), ("Middle", "Middle name"),
    ("BUSNAME", "Business name"), ("Name", "Name"), ("Classification", "Classification"),
    ("DOB", "Date of birth"), ("NPI", "NPI"), ("UPIN", "UPIN"),
    ("GENERAL", "General category"), ("SPECIALTY", "Specialty"),
    ("ADDRESS", "Address"), ("Address 1", "Address"), ("Address 2", "Address (line 2)"),
    ("CITY", "City"), ("City", "City"), ("STATE", "State"), ("State / Province", "State"),
    ("ZIP", "ZIP code"), ("Zip Code", "ZIP code"),
    ("EXCLTYPE", "Exclusion type"), ("Exclusion Type", "Exclusion type"),
    ("EXCLDATE", "Exclusion date"), ("Active Date", "Exclusion date"),
    ("REINDATE", "Reinstatement date"), ("Termination Date", "Termination date"),
    ("WAIVERDATE", "Waiver date"), ("WVRSTATE", "Waiver state"),
    ("Record Status", "Record status"), ("Excluding Agency", "Excluding agency"),
    ("SAM Number", "SAM number"), ("Unique Entity ID", "Unique Entity ID"),
]  # fmt: skip
_LEIE_DATES = {"DOB", "EXCLDATE", "REINDATE", "WAIVERDATE"}


def _readable_value(key: str, value: str) -> str:
    from datetime import datetime

    value = (value or "").strip()
    if key in _LEIE_DATES and len(value) == 8 and value.isdigit():
        if value == "00000000":
            return ""
        try:
            return f"{datetime.strptime(value, '%Y%m%d').date():%m/%d/%Y}"  # noqa: DTZ007
        except ValueError:
            return value
    return value


def matched_record_rows(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) of a matched list line, known fields first in a reviewer's order, then any
    other column as the list names it; empty values are left out."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for key, label in MATCHED_RECORD_LABELS:
        if key in record:
            seen.add(key)
            if value := _readable_value(key, str(record[key] or "")):
                rows.append((label, value))
    for key, raw in record.items():
        if key not in seen and (value := str(raw or "").strip()):
            rows.append((key.replace("_", " ").strip().capitalize(), value))
    return rows


# --- After approval: what still stands between the subject and the directory ---------------


@dataclass(frozen=True)
class Obstacle:
    """One thing still to do, in words for staff, in words for the applicant, and where to do it."""

    text: str
    applicant_text: str
    url: str
    link_label: str


@dataclass(frozen=True)
class Listing:
    """Whether the approved subject is in the public directory (and since when), what keeps it
    out (`blocking`), and, once listed, what keeps members from choosing it (`pending`)."""

    listed_since: date | None
    blocking: list[Obstacle]
    pending: list[Obstacle]

    @property
    def is_listed(self) -> bool:
        return self.listed_since is not None


def _admin_url(name: str, *args: Any, query: str = "") -> str:
    from django.urls import reverse

    return reverse(f"admin:{name}", args=args) + (f"?{query}" if query else "")


def _activated_on(events: Any) -> date | None:
    """The local date of the latest move to active among status events (None without one)."""
    occurred_at = (
        events.filter(to_status="active")
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", flat=True)
        .first()
    )
    return timezone.localdate(occurred_at) if occurred_at else None


def _clinic_obstacle(clinic: Any) -> Obstacle | None:
    from providers.models import ClinicStatus

    if clinic.status == ClinicStatus.ACTIVE:
        return None
    own = (
        CredentialingApplication.objects.filter(subject_type=SubjectType.CLINIC, clinic=clinic)
        .order_by("-received_on", "-id")
        .first()
    )
    if clinic.status in (ClinicStatus.PROSPECT, ClinicStatus.CREDENTIALING):
        if own is None:
            return Obstacle(
                f"The clinic {clinic} has no credentialing application of its own yet.",
                f"Your clinic, {clinic}, must be credentialed by the cooperative.",
                _admin_url("credentialing_credentialingapplication_add"),
                "Open the clinic's application",
            )
        return Obstacle(
            f"The clinic's own application (#{own.pk}) is not approved yet: "
            f"{own.get_status_display().lower()}.",
            "Your clinic’s own credentialing application must be approved.",
            _admin_url("credentialing_credentialingapplication_change", own.pk),
            "Work the clinic's application",
        )
    return Obstacle(
        f"The clinic {clinic} is {clinic.get_status_display().lower()}.",
        f"Your clinic, {clinic}, must be reinstated in the network.",
        _admin_url("providers_clinic_change", clinic.pk),
        "Open the clinic",
    )


def application_listing(application: CredentialingApplication) -> Listing | None:
    """For an approved application: is its subject listed in the directory, since when, and
    what still stands in the way, each with the admin page that does it (None before approval)."""
    from providers.models import (
        AgreementStatus,
        PractitionerRole,
        PractitionerStatus,
        RateAgreement,
    )
    from providers.selectors import active_agreement_for, listable_roles

    if application.status != ApplicationStatus.APPROVED:
        return None
    today = timezone.localdate()
    blocking: list[Obstacle] = []
    pending: list[Obstacle] = []
    clinic = application.clinic or (application.location.clinic if application.location else None)
    if application.subject_type == SubjectType.CLINIC:
        assert clinic is not None
        if obstacle := _clinic_obstacle(clinic):
            blocking.append(obstacle)
        if not clinic.locations.filter(is_active=True).exists():
            blocking.append(
                Obstacle(
                    "The clinic has no active location.",
                    "The clinic needs an active practice location on file.",
                    _admin_url("providers_location_add"),
                    "Add a location",
                )
            )
        since: date | None = None
        if not blocking:
            since = (
                _activated_on(clinic.status_events)
                or application.decided_on
                or timezone.localdate(clinic.created_at)
            )
        return Listing(listed_since=since, blocking=blocking, pending=pending)

    practitioner: Any = application.practitioner
    if practitioner.status != PractitionerStatus.ACTIVE:
        blocking.append(
            Obstacle(
                f"The practitioner's listing is {practitioner.get_status_display().lower()}.",
                "Your listing must be reinstated.",
                _admin_url("providers_practitioner_change", practitioner.pk),
                "Open the practitioner",
            )
        )
    if clinic is not None and (obstacle := _clinic_obstacle(clinic)):
        blocking.append(obstacle)
    open_roles = PractitionerRole.objects.filter(practitioner=practitioner).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )
    location = application.location
    if not open_roles.exists():
        blocking.append(
            Obstacle(
                "No practice location: the practitioner has no open role at a location.",
                "You need a practice location with the cooperative.",
                _admin_url("providers_practitioner_change", practitioner.pk),
                "Add a role at a location",
            )
        )
    elif location is not None and not location.is_active:
        blocking.append(
            Obstacle(
                f"The location {location.name} is not active.",
                f"The location {location.name} must be opened.",
                _admin_url("providers_location_change", location.pk),
                "Open the location",
            )
        )
    first_role = listable_roles().filter(practitioner=practitioner).order_by("start_date").first()
    if first_role is None and not blocking:
        blocking.append(
            Obstacle(
                "No role is open today at an active location of an active clinic.",
                "You need an open role at an active practice location.",
                _admin_url("providers_practitioner_change", practitioner.pk),
                "Open the practitioner",
            )
        )
    since = None
    if not blocking and first_role is not None:
        dates = [first_role.start_date, _activated_on(practitioner.status_events)]
        dates.append(_activated_on(first_role.location.clinic.status_events))
        since = max(d for d in dates if d is not None)

    is_pcp = open_roles.filter(is_primary_care=True).exists()
    agreement_clinic = clinic or (first_role.location.clinic if first_role else None)
    if (
        is_pcp
        and agreement_clinic is not None
        and active_agreement_for(practitioner, today) is None
    ):
        accepted = (
            RateAgreement.objects.filter(clinic=agreement_clinic, status=AgreementStatus.ACCEPTED)
            .filter(Q(practitioner=practitioner) | Q(practitioner__isnull=True))
            .order_by("-term_start", "-id")
            .first()
        )
        pending.append(
            Obstacle(
                "No active rate agreement: members cannot be priced or choose them as PCP.",
                "A rate agreement between your clinic and the cooperative must be in force.",
                _admin_url("providers_rateagreement_change", accepted.pk)
                if accepted
                else _admin_url(
                    "providers_rateagreement_changelist",
                    query=f"clinic__id__exact={agreement_clinic.pk}",
                ),
                "Activate the accepted agreement" if accepted else "Open the clinic's agreements",
            )
        )
    if is_pcp and not practitioner.accepting_new_members:
        pending.append(
            Obstacle(
                "Not accepting new members: members cannot choose them as PCP.",
                "Your listing says you are not accepting new members.",
                _admin_url("providers_practitioner_change", practitioner.pk),
                "Open the practitioner",
            )
        )
    elif is_pcp and practitioner.panel_member_count >= practitioner.panel_capacity:
        pending.append(
            Obstacle(
                f"No panel room ({practitioner.panel_member_count} of "
                f"{practitioner.panel_capacity}): members cannot choose them as PCP.",
                "Your panel has no room for new members.",
                _admin_url("providers_practitioner_change", practitioner.pk),
                "Set the panel capacity",
            )
        )
    return Listing(listed_since=since, blocking=blocking, pending=pending)


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
    "application_clock", "application_expirables", "application_list", "checklist_problems",
    "Listing", "Obstacle", "SCREENING_PROGRESS_KEY", "ScreeningProgress", "matched_record_rows",
    "screening_run_progress", "application_listing", "committee_refusal", "dashboard", "open_tasks",
    "overdue_q", "verification_checklist",
]  # fmt: skip
