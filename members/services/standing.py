"""A PCP who can no longer serve members, and members who turn 65: the one rule book.

The PCP-standing rule (README "Rules of money and membership"): when a member's PCP is not in
good standing (`providers.selectors.pcp_standings`: excluded, suspended, no longer practising,
no primary-care role, location closed, clinic not active, no agreement in force), the member
is told by email and on their portal, staff list them under "members needing a new PCP", and
every invoice for a month the PCP is not in good standing on its first day carries **no
primary-care fee** (the member pays the cooperative's portion only). Invoices already issued
for later months are repriced the same way unless money was applied to them; payouts hold
those. The member picks a new PCP the usual way (from the first of next month), which
resolves the issue; a PCP back in good standing resolves it too.

The age rule: the cooperative serves members under 65. A member is told 90 days before their
65th birthday; the membership ends on the last day of the month before that birthday (the
monthly job ends it, with an event), so no month is ever invoiced, or skipped, at 65."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.models import AuditAction
from cooperative.money import quantize_cents
from cooperative.periods import Period
from providers.selectors import PcpStanding, pcp_standings

from ..models import (
    AgeOutNotice,
    EmployerGroupStatus,
    Invoice,
    InvoiceStatus,
    Member,
    Membership,
    MembershipEvent,
    MembershipStatus,
    PcpAssignment,
    PcpStandingIssue,
    StandingResolution,
)
from .enrollment import employer_share

__all__ = [
    "AGE_OUT_NOTICE_DAYS", "StandingReview", "age_out_day", "members_age_out", "members_aged_out_upcoming",
    "pcp_standing_issues_resolve", "pcp_standing_notice_sent", "pcp_standing_review",
]  # fmt: skip

ZERO = quantize_cents(0)
AGE_OUT_NOTICE_DAYS = 90
CURRENT_STATUSES = (MembershipStatus.PENDING, MembershipStatus.ACTIVE, MembershipStatus.LAPSED)


@dataclass
class StandingReview:
    """What one standing review did."""

    opened: list[int] = field(default_factory=list)  # issue ids
    resolved: dict[str, int] = field(default_factory=dict)
    invoices_repriced: int = 0


def _current_memberships() -> Any:
    today = timezone.localdate()
    return Membership.objects.filter(status__in=CURRENT_STATUSES).filter(
        Q(end_date__isnull=True) | Q(end_date__gte=today)
    )


@transaction.atomic
def pcp_standing_issues_resolve(
    *, member: Member, resolution: str, today: date | None = None
) -> int:
    """Close a member's open standing issues (a new PCP chosen, membership ended, ...)."""
    today = today or timezone.localdate()
    return PcpStandingIssue.objects.filter(member=member, resolved_on__isnull=True).update(
        resolved_on=today, resolution=resolution
    )


@transaction.atomic
def pcp_standing_review(
    *, practitioner_ids: list[int] | None = None, today: date | None = None
) -> StandingReview:
    """Check the standing of the PCPs of current members (all, or those of the practitioners
    given) today and on the first of next month: open an issue per member whose PCP fails
    (telling the member once, by email and on the portal), reprice their unpaid invoices of
    later months without the primary-care fee, and close the issues that no longer hold.
    Idempotent: a second review finds nothing new (one open issue per assignment)."""
    today = today or timezone.localdate()
    next_first = Period.of(today).next().first_day
    review = StandingReview()
    open_issues = PcpStandingIssue.objects.select_for_update().filter(resolved_on__isnull=True)
    if practitioner_ids is not None:
        open_issues = open_issues.filter(practitioner_id__in=practitioner_ids)
    issues = {issue.assignment_id: issue for issue in open_issues}

    # An issue on an assignment the member has already replaced, or of a membership that ended.
    replaced = [i.pk for i in issues.values() if i.assignment.effective_to is not None]
    current_members = _current_memberships().values("member_id")
    ended = list(
        PcpStandingIssue.objects.filter(pk__in=[i.pk for i in issues.values()])
        .exclude(pk__in=replaced)
        .exclude(member_id__in=current_members)
        .values_list("pk", flat=True)
    )
    for pks, resolution in (
        (replaced, StandingResolution.NEW_PCP),
        (ended, StandingResolution.MEMBERSHIP_ENDED),
    ):
        if pks:
            PcpStandingIssue.objects.filter(pk__in=pks).update(
                resolved_on=today, resolution=resolution
            )
            review.resolved[resolution] = len(pks)
    done = set(replaced) | set(ended)
    issues = {a: i for a, i in issues.items() if i.pk not in done}

    assignments = PcpAssignment.objects.filter(
        effective_to__isnull=True, member_id__in=current_members
    )
    if practitioner_ids is not None:
        assignments = assignments.filter(practitioner_id__in=practitioner_ids)
    rows = list(assignments.values_list("pk", "member_id", "practitioner_id", "effective_from"))
    pcps = {pcp for _, _, pcp, _ in rows}
    on_today = pcp_standings(pcps, today)
    on_next = pcp_standings(pcps, next_first)
    new_issues: list[PcpStandingIssue] = []
    restored: list[int] = []
    for assignment_id, member_id, pcp, starts in rows:
        failing: PcpStanding | None = None
        if starts <= today and not on_today[pcp].is_good:
            failing = on_today[pcp]
        elif not on_next[pcp].is_good:
            failing = on_next[pcp]
        issue = issues.get(assignment_id)
        if failing is None:
            if issue is not None:
                restored.append(issue.pk)
            continue
        if issue is None:
            new_issues.append(
                PcpStandingIssue(
                    member_id=member_id, assignment_id=assignment_id, practitioner_id=pcp,
                    kind=failing.kind, reason=failing.reason[:200],
                    effective_on=max(failing.on, starts),
                )
            )  # fmt: skip
    if restored:
        PcpStandingIssue.objects.filter(pk__in=restored).update(
            resolved_on=today, resolution=StandingResolution.RESTORED
        )
        review.resolved[StandingResolution.RESTORED] = len(restored)
    created = PcpStandingIssue.objects.bulk_create(new_issues, batch_size=2000)
    review.opened = [issue.pk for issue in created]
    for issue in created:
        review.invoices_repriced += _invoices_without_pcp_fee(issue, today)
        audit_record(
            actor=None, action=AuditAction.CREATE, obj=issue,
            detail=f"PCP not in good standing from {issue.effective_on}: {issue.reason}",
        )  # fmt: skip
    if review.opened:
        ids = list(review.opened)
        transaction.on_commit(lambda: _notices_send(ids))
    return review


def pcp_standing_notice_sent(*, issue_id: int) -> bool:
    """The member was emailed about their PCP's standing: stamped once (a retried task that
    already stamped it changes nothing). False when it was already stamped."""
    return bool(
        PcpStandingIssue.objects.filter(pk=issue_id, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
    )


def _invoices_without_pcp_fee(issue: PcpStandingIssue, today: date) -> int:
    """The member's invoices for months after today that still carry this PCP's fee and have
    no money applied lose the fee (payouts hold the ones already being paid)."""
    invoices = list(
        Invoice.objects.select_for_update(of=("self",))
        .select_related("membership__employer_group", "employer_invoice")
        .filter(
            pcp_assignment_id=issue.assignment_id, period__gt=today,
            period__gte=issue.effective_on.replace(day=1), pcp_fee__gt=0, member_paid=0,
        )
        .exclude(status=InvoiceStatus.VOID)
    )  # fmt: skip
    from .billing import _employer_invoice_recompute

    repriced = 0
    for invoice in invoices:
        if invoice.employer_invoice is not None and invoice.employer_invoice.amount_paid > 0:
            continue
        amount = quantize_cents(invoice.cooperative_portion)
        group = invoice.membership.employer_group
        share = employer_share(
            group if group and group.status == EmployerGroupStatus.ACTIVE else None, amount
        )
        Invoice.objects.filter(pk=invoice.pk).update(
            pcp_fee=ZERO, age_band="", amount=amount, employer_share=share,
            member_amount=amount - share,
        )  # fmt: skip
        if invoice.employer_invoice is not None:
            _employer_invoice_recompute(invoice.employer_invoice.employer_group_id, invoice.period)
        repriced += 1
    return repriced


def _notices_send(issue_ids: list[int]) -> None:
    from .. import tasks

    for issue_id in issue_ids:
        tasks.pcp_standing_notice_send.delay(issue_id)


# --- Turning 65 ------------------------------------------------------------------------------


def age_out_day(birth: date) -> date:
    """The 65th birthday (28 February in a common year for a 29 February birth)."""
    try:
        return birth.replace(year=birth.year + 65)
    except ValueError:
        return birth.replace(year=birth.year + 65, day=28)


@transaction.atomic
def members_age_out(*, today: date | None = None) -> dict[str, int]:
    """Daily: a member whose 65th birthday is within 90 days is told once (a notice row and an
    email) and their membership is set to end on the last day of the month before that
    birthday (an event row); once that day has passed the membership is closed (cancelled,
    with an event, the PCP place given back). Billing never reaches a month at 65:
    invoices_generate bills a membership only up to its end."""
    from providers.models import Practitioner

    today = today or timezone.localdate()
    summary = {"notices": 0, "ended": 0}
    # Born on or before this day: 65 within the notice window (a day's margin for 29 February).
    born_by = age_out_day_back(today + timedelta(days=AGE_OUT_NOTICE_DAYS))
    current = _current_memberships().filter(member__date_of_birth__lte=born_by)
    for membership in (
        current.select_for_update(of=("self",)).select_related("member").order_by("pk")
    ):
        member = membership.member
        birthday = age_out_day(member.date_of_birth)
        ends_on = birthday.replace(day=1) - timedelta(days=1)
        _, created = AgeOutNotice.objects.get_or_create(
            member=member, defaults={"birthday_65": birthday, "ends_on": ends_on}
        )
        if created:
            summary["notices"] += 1
            transaction.on_commit(partial(_age_out_notice_send, member.pk))
        if membership.end_date is None or membership.end_date > ends_on:
            end = max(ends_on, membership.start_date)
            Membership.objects.filter(pk=membership.pk).update(end_date=end)
            MembershipEvent.objects.create(
                membership=membership, from_status=membership.status, to_status=membership.status,
                reason=f"turns 65 on {birthday:%B %-d, %Y}: membership ends {end:%B %-d, %Y}",
            )  # fmt: skip
            audit_record(
                actor=None, action=AuditAction.UPDATE, obj=membership,
                detail=f"ends {end.isoformat()}: 65th birthday {birthday.isoformat()}",
            )  # fmt: skip
    # Memberships whose age-out end has passed are closed and the PCP place given back.
    over = (
        Membership.objects.select_for_update()
        .filter(
            status__in=CURRENT_STATUSES, end_date__lt=today, member__age_out_notice__isnull=False
        )
        .filter(end_date=F("member__age_out_notice__ends_on"))
        .order_by("pk")
    )
    for membership in over:
        MembershipEvent.objects.create(
            membership=membership, from_status=membership.status,
            to_status=MembershipStatus.CANCELLED, reason="membership ended: turned 65",
        )  # fmt: skip
        Membership.objects.filter(pk=membership.pk).update(status=MembershipStatus.CANCELLED)
        first_uncovered = membership.end_date + timedelta(days=1)  # type: ignore[operator]
        for assignment in PcpAssignment.objects.select_for_update().filter(
            Q(effective_to__isnull=True) | Q(effective_to__gt=first_uncovered),
            member_id=membership.member_id,
        ):
            ends = max(first_uncovered, assignment.effective_from)
            PcpAssignment.objects.filter(pk=assignment.pk).update(effective_to=ends)
            Practitioner.objects.filter(pk=assignment.practitioner_id).update(
                panel_member_count=F("panel_member_count") - 1
            )
        summary["ended"] += 1
    return summary


def age_out_day_back(day: date) -> date:
    """The latest birth date of someone who is 65 on `day`."""
    try:
        return day.replace(year=day.year - 65)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 65, day=28)


def _age_out_notice_send(member_id: int) -> None:
    from .. import tasks

    tasks.age_out_notice_send.delay(member_id)


def members_aged_out_upcoming(*, today: date | None = None) -> Any:
    """For staff: members told they turn 65, soonest first, with the day their membership ends."""
    today = today or timezone.localdate()
    return (
        AgeOutNotice.objects.filter(ends_on__gte=today - timedelta(days=31))
        .select_related("member")
        .order_by("ends_on", "pk")
        .annotate(member_number=F("member__member_number"))
    )
