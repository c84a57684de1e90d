"""Memberships after enrollment: PCP change, cancellation, contact details, plan versions."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction
from cooperative.money import MoneyError, quantize_cents
from cooperative.periods import Period
from cooperative.validators import normalize_phone, normalize_zip, validate_served_state
from providers.models import Practitioner

from ..models import (
    Member,
    Membership,
    MembershipEvent,
    MembershipStatus,
    PcpAssignment,
    PcpStandingIssue,
    Plan,
    StandingResolution,
)
from .addresses import address_disagreements
from .billing import invoice_reprice_for_pcp, invoice_void_for_membership
from .enrollment import age_on, pcp_place_take

__all__ = [
    "MEMBERSHIP_TRANSITIONS", "member_contact_update", "membership_cancel", "membership_transition",
    "memberships_move_plan_versions", "pcp_change", "plan_version_create",
]  # fmt: skip

MEMBERSHIP_TRANSITIONS: dict[str, set[str]] = {
    MembershipStatus.PENDING: {MembershipStatus.ACTIVE, MembershipStatus.CANCELLED},
    MembershipStatus.ACTIVE: {MembershipStatus.LAPSED, MembershipStatus.CANCELLED},
    MembershipStatus.LAPSED: {MembershipStatus.ACTIVE, MembershipStatus.CANCELLED},
    MembershipStatus.CANCELLED: set(),
}


@transaction.atomic
def membership_transition(
    *, membership: Membership, to_status: str, actor: Any, reason: str = ""
) -> Membership:
    """Move a membership along its allowed transitions, with an event row."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if to_status not in MEMBERSHIP_TRANSITIONS.get(locked.status, set()):
        raise ApplicationError(
            f"A {locked.get_status_display().lower()} membership cannot become {to_status}."
        )
    MembershipEvent.objects.create(
        membership=locked, from_status=locked.status, to_status=to_status, reason=reason[:300],
        actor=actor,
    )  # fmt: skip
    Membership.objects.filter(pk=locked.pk).update(status=to_status)
    locked.status = to_status
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, detail=f"status {to_status}")
    return locked


def _current_membership(member: Member) -> Membership:
    membership = (
        Membership.objects.filter(member=member)
        .exclude(status=MembershipStatus.CANCELLED)
        .order_by("-start_date")
        .first()
    )
    if membership is None:
        raise ApplicationError("This member has no current membership.")
    return membership


def _open_assignment(member: Member) -> PcpAssignment | None:
    return (
        PcpAssignment.objects.select_for_update()
        .filter(member=member, effective_to__isnull=True)
        .order_by("-effective_from")
        .first()
    )


@transaction.atomic
def pcp_change(
    *, member: Member, pcp_npi: str, actor: Any, today: date | None = None
) -> PcpAssignment:
    """Change a member's PCP from the first of next month: the open assignment ends then (or,
    if it had not started yet, is replaced before it starts) and the new one begins. Both
    practitioners are locked in primary-key order; the new PCP's capacity rules apply."""
    today = today or timezone.localdate()
    start = Period.of(today).next().first_day
    locked_member = Member.objects.select_for_update().get(pk=member.pk)
    _current_membership(locked_member)
    current = _open_assignment(locked_member)
    if current is not None and current.practitioner.npi == str(pcp_npi).strip():
        raise ApplicationError(
            f"{current.practitioner.display_name} is already your primary care provider.",
            errors={"pcp_npi": ["Already your PCP."]},
        )
    place = pcp_place_take(
        pcp_npi=pcp_npi, age=age_on(locked_member.date_of_birth, start), start=start,
        also_lock=current.practitioner_id if current else None,
    )  # fmt: skip
    if current is not None:
        ends = max(start, current.effective_from)
        PcpAssignment.objects.filter(pk=current.pk).update(effective_to=ends)
        Practitioner.objects.filter(pk=current.practitioner_id).update(
            panel_member_count=F("panel_member_count") - 1
        )
    assignment = PcpAssignment.objects.create(
        member=locked_member, practitioner=place.practitioner, practitioner_role=place.role,
        effective_from=max(start, current.effective_from) if current else start,
    )  # fmt: skip
    invoice_reprice_for_pcp(assignment=assignment)
    # A member told to choose a new PCP has: off the staff's "needing a new PCP" list.
    PcpStandingIssue.objects.filter(member=locked_member, resolved_on__isnull=True).update(
        resolved_on=today, resolution=StandingResolution.NEW_PCP
    )
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=locked_member,
        detail=f"PCP change to {place.practitioner.npi} from {assignment.effective_from}",
    )  # fmt: skip
    return assignment


@transaction.atomic
def membership_cancel(*, member: Member, actor: Any, today: date | None = None) -> Membership:
    """Cancel at the end of the current month (a membership not yet started ends before it
    starts). The PCP assignment ends with it and the panel place is given back. Dependents of a
    cancelling subscriber are cancelled with the same date."""
    today = today or timezone.localdate()
    end = Period.of(today).last_day
    household = [member, *Member.objects.filter(subscriber=member).order_by("pk")]
    cancelled = None
    for person in household:
        membership = (
            Membership.objects.select_for_update()
            .filter(member=person)
            .exclude(status=MembershipStatus.CANCELLED)
            .order_by("-start_date")
            .first()
        )
        if membership is None:
            if person is member:
                raise ApplicationError("This membership is already cancelled.")
            continue
        membership_end = max(end, membership.start_date - timedelta(days=1))
        never_started = membership.start_date > end
        MembershipEvent.objects.create(
            membership=membership, from_status=membership.status, to_status=MembershipStatus.CANCELLED,
            reason="cancelled by the member" if actor == member.user else "cancelled", actor=actor,
        )  # fmt: skip
        Membership.objects.filter(pk=membership.pk).update(
            status=MembershipStatus.CANCELLED, end_date=None if never_started else membership_end
        )
        for assignment in PcpAssignment.objects.select_for_update().filter(
            Q(effective_to__isnull=True) | Q(effective_to__gt=end + timedelta(days=1)),
            member=person,
        ):
            ends = max(end + timedelta(days=1), assignment.effective_from)
            PcpAssignment.objects.filter(pk=assignment.pk).update(effective_to=ends)
            Practitioner.objects.filter(pk=assignment.practitioner_id).update(
                panel_member_count=F("panel_member_count") - 1
            )
        if never_started:
            invoice_void_for_membership(membership=membership)
        if person is member:
            cancelled = membership
    assert cancelled is not None
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=member, detail=f"cancelled from {end}")
    cancelled.refresh_from_db()
    return cancelled


@transaction.atomic
def member_contact_update(*, member: Member, data: dict[str, Any], actor: Any) -> Member:
    """Change email, phone and address (served states only); the household's dependents share
    the subscriber's address; the sign-in email follows the contact email."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def check(name: str, func: Any) -> None:
        try:
            clean[name] = func(data.get(name))
        except ValidationError as error:
            errors[name] = [str(m) for m in error.messages]

    def email(value: Any) -> str:
        validate_email(str(value or "").strip())
        return str(value).strip().lower()

    def state(value: Any) -> str:
        validate_served_state(value)
        return str(value).upper()

    check("email", email)
    check("phone", normalize_phone)
    check("state", state)
    check("zip_code", normalize_zip)
    for name in ("street", "city"):
        value = str(data.get(name) or "").strip()
        if not value:
            errors[name] = ["This field is required."]
        clean[name] = value
    if not errors.keys() & {"zip_code", "city", "state"}:
        found = address_disagreements(
            zip_code=clean["zip_code"], city=clean["city"], state=clean["state"]
        )
        errors.update({("zip_code" if k == "zip" else k): v for k, v in found.items()})
    user = member.user
    if "email" in clean and user is not None:
        taken = type(user).objects.filter(username__iexact=clean["email"]).exclude(pk=user.pk)
        if taken.exists():
            errors["email"] = ["Another account uses this email."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    changed = sorted(k for k, v in clean.items() if getattr(member, k) != v)
    Member.objects.filter(Q(pk=member.pk) | Q(subscriber=member)).update(**clean)
    if user is not None and "email" in changed:
        type(user).objects.filter(pk=user.pk).update(username=clean["email"], email=clean["email"])
    member.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=member,
        detail="contact changed: " + (", ".join(changed) or "nothing"),
    )  # fmt: skip
    return member


@transaction.atomic
def plan_version_create(
    *, code: str, name: str, advocacy_portion: Decimal | str, network_portion: Decimal | str,
    outreach_portion: Decimal | str, effective_from: date, actor: Any,
) -> Plan:  # fmt: skip
    """A new price is a new version of the plan from the first of a month; memberships move to
    it on that date (`memberships_move_plan_versions`), nobody is unenrolled."""
    errors: dict[str, list[str]] = {}
    portions: dict[str, Decimal] = {}
    for key, value in (("advocacy_portion", advocacy_portion), ("network_portion", network_portion),
                       ("outreach_portion", outreach_portion)):  # fmt: skip
        try:
            portions[key] = quantize_cents(value)
            if portions[key] < 0:
                errors[key] = ["A portion cannot be negative."]
        except MoneyError as error:
            errors[key] = [str(error)]
    if effective_from.day != 1:
        errors["effective_from"] = ["A plan version starts on the first of a month."]
    elif effective_from <= timezone.localdate():
        errors["effective_from"] = ["A new price starts in the future."]
    last = Plan.objects.select_for_update().filter(code=code).order_by("-version").first()
    if last is None:
        errors["code"] = [f"We don't know the plan '{code}'."]
    elif last.effective_from >= effective_from:
        errors["effective_from"] = [
            f"Version {last.version} already starts on {last.effective_from}."
        ]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    assert last is not None
    plan = Plan.objects.create(
        code=code, version=last.version + 1, name=name or last.name, effective_from=effective_from,
        **portions,
    )  # fmt: skip
    audit_record(actor=actor, action=AuditAction.CREATE, obj=plan, detail=f"{code} v{plan.version}")
    return plan


@transaction.atomic
def memberships_move_plan_versions(*, today: date | None = None) -> int:
    """On a version's effective date, memberships on an older version of the same plan move to it."""
    today = today or timezone.localdate()
    moved = 0
    for code in Plan.objects.values_list("code", flat=True).distinct():
        current = (
            Plan.objects.filter(code=code, effective_from__lte=today)
            .order_by("-effective_from")
            .first()
        )
        if current is None:
            continue
        moved += (
            Membership.objects.filter(plan__code=code)
            .exclude(plan=current)
            .exclude(status=MembershipStatus.CANCELLED)
            .filter(plan__effective_from__lt=current.effective_from)
            .update(plan=current)
        )
    return moved
