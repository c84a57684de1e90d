"""Celery entry points of the members app (ids in, one service call each)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from cooperative.periods import Period

from . import selectors, services
from .models import RosterEntryStatus


@shared_task(name="members.invoices_generate", soft_time_limit=1700, time_limit=1800)
def invoices_generate(period: str | None = None) -> dict[str, Any]:
    """Monthly (the 1st): invoice this month's dues; idempotent, so a rerun creates nothing."""
    run = services.invoices_generate(period=Period.parse(period) if period else Period.current())
    return {
        "period": str(run.period), "created": run.created, "already_invoiced": run.already_invoiced,
        "without_pcp": len(run.without_pcp), "without_price": len(run.without_price),
    }  # fmt: skip


@shared_task(name="members.memberships_daily", soft_time_limit=540, time_limit=600)
def memberships_daily() -> dict[str, int]:
    """Daily: start pending memberships, move memberships to new plan versions, lapse overdue ones."""
    return {
        "activated": services.memberships_activate_started(),
        "moved_to_new_plan_version": services.memberships_move_plan_versions(),
        "lapsed": services.memberships_lapse_overdue(),
    }


@shared_task(
    name="members.enrollment_confirmation_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def enrollment_confirmation_send(member_id: int) -> None:
    """Email the new member their number, PCP, start date and first invoice amount."""
    summary = selectors.member_summary(member_id)
    if summary is None:
        return
    context = {"summary": summary, "cooperative_name": settings.COOPERATIVE_NAME}
    send_mail(
        subject=f"Welcome to {settings.COOPERATIVE_NAME}: member {summary.member.member_number}",
        message=render_to_string("members/email/enrollment_confirmation.txt", context),
        from_email=None,
        recipient_list=[summary.member.email],
    )


@shared_task(
    name="members.roster_invitation_send",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=60,
    time_limit=90,
)
def roster_invitation_send(entry_id: int) -> None:
    """Email an employee on their employer's roster the link to finish enrolling."""
    entry = selectors.roster_entry_get(entry_id)
    if entry is None or entry.status != RosterEntryStatus.INVITED:
        return
    path = reverse("members:enroll-invite", args=[services.roster_invite_token(entry)])
    context = {
        "entry": entry,
        "link": f"{settings.PUBLIC_BASE_URL}{path}",
        "days": services.ROSTER_INVITE_MAX_AGE_DAYS,
        "cooperative_name": settings.COOPERATIVE_NAME,
    }
    send_mail(
        subject=f"{entry.employer_group.name} offers you a {settings.COOPERATIVE_NAME} membership",
        message=render_to_string("members/email/roster_invitation.txt", context),
        from_email=None,
        recipient_list=[entry.email],
    )
