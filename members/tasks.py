"""Celery entry points of the members app (ids in, one service call each)."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from cooperative.periods import Period

from . import selectors, services
from .models import RosterEntryStatus

logger = logging.getLogger(__name__)


@shared_task(name="members.invoices_generate", soft_time_limit=1700, time_limit=1800)
def invoices_generate(period: str | None = None) -> dict[str, Any]:
    """Monthly (the 1st): invoice this month's dues; idempotent, so a rerun creates nothing."""
    run = services.invoices_generate(period=Period.parse(period) if period else Period.current())
    # Members invoiced without a primary-care fee are told, and listed for staff, at once.
    review = services.pcp_standing_review() if run.without_pcp_fee else None
    for number, reason in run.without_pcp_fee:
        logger.warning(
            "%s invoiced for %s without a primary-care fee: %s", number, run.period, reason
        )
    for number in run.without_price:
        logger.warning("%s not invoiced for %s: no price for their age", number, run.period)
    return {
        "period": str(run.period), "created": run.created, "already_invoiced": run.already_invoiced,
        "without_pcp": len(run.without_pcp), "without_price": len(run.without_price),
        "without_pcp_fee": len(run.without_pcp_fee),
        "needing_a_new_pcp": len(review.opened) if review else 0,
    }  # fmt: skip


@shared_task(name="members.memberships_daily", soft_time_limit=540, time_limit=600)
def memberships_daily() -> dict[str, int]:
    """Daily: start pending memberships, move memberships to new plan versions, end the
    memberships of members turning 65, lapse overdue ones, review PCP standing."""
    age_out = services.members_age_out()
    standing = services.pcp_standing_review()
    return {
        "activated": services.memberships_activate_started(),
        "moved_to_new_plan_version": services.memberships_move_plan_versions(),
        "age_out_notices": age_out["notices"],
        "aged_out": age_out["ended"],
        "lapsed": services.memberships_lapse_overdue(),
        "needing_a_new_pcp": len(standing.opened),
    }


@shared_task(name="members.pcp_standing_review", soft_time_limit=540, time_limit=600)
def pcp_standing_review(practitioner_ids: list[int] | None = None) -> dict[str, int]:
    """A practitioner's standing may have changed (the kernel hook): review their members."""
    review = services.pcp_standing_review(practitioner_ids=practitioner_ids)
    return {"opened": len(review.opened), "invoices_repriced": review.invoices_repriced,
            **review.resolved}  # fmt: skip


def pcp_standing_review_later(*, practitioner_ids: list[int]) -> None:
    """The kernel hook's handler (after the commit that changed the standing): queue a review."""
    pcp_standing_review.delay(practitioner_ids)


@shared_task(
    name="members.pcp_standing_notice_send", autoretry_for=(OSError,), retry_backoff=True,
    max_retries=5, soft_time_limit=60, time_limit=90,
)  # fmt: skip
def pcp_standing_notice_send(issue_id: int) -> None:
    """Tell the member their PCP can no longer serve them, and how to choose a new one."""
    from .models import PcpStandingIssue

    issue = (
        PcpStandingIssue.objects.select_related("member", "practitioner")
        .filter(pk=issue_id, notified_at__isnull=True)
        .first()
    )
    if issue is None:
        return
    path = reverse("members:portal-pcp", args=[issue.member_id])
    context = {"issue": issue, "cooperative_name": settings.COOPERATIVE_NAME,
               "link": f"{settings.PUBLIC_BASE_URL}{path}"}  # fmt: skip
    send_mail(
        subject=f"{settings.COOPERATIVE_NAME}: please choose a new primary care provider",
        message=render_to_string("members/email/pcp_standing_notice.txt", context),
        from_email=None,
        recipient_list=[issue.member.email],
    )
    services.pcp_standing_notice_sent(issue_id=issue.pk)


@shared_task(
    name="members.age_out_notice_send", autoretry_for=(OSError,), retry_backoff=True,
    max_retries=5, soft_time_limit=60, time_limit=90,
)  # fmt: skip
def age_out_notice_send(member_id: int) -> None:
    """Tell a member turning 65 when their membership ends, and why."""
    from .models import AgeOutNotice

    notice = AgeOutNotice.objects.select_related("member").filter(member_id=member_id).first()
    if notice is None:
        return
    context = {"notice": notice, "cooperative_name": settings.COOPERATIVE_NAME}
    send_mail(
        subject=f"{settings.COOPERATIVE_NAME}: your membership ends {notice.ends_on:%B %-d, %Y}",
        message=render_to_string("members/email/age_out_notice.txt", context),
        from_email=None,
        recipient_list=[notice.member.email],
    )


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


@shared_task(
    name="members.enrollment_confirm_link_send", autoretry_for=(OSError,), retry_backoff=True,
    max_retries=5, soft_time_limit=60, time_limit=90, ignore_result=True,
)  # fmt: skip
def enrollment_confirm_link_send(pending_id: int) -> None:
    """Email the link that confirms a pending enrollment (nothing is created until it is used)."""
    from .models import PendingEnrollment, PendingEnrollmentStatus

    pending = PendingEnrollment.objects.filter(
        pk=pending_id, status=PendingEnrollmentStatus.PENDING
    ).first()
    if pending is None:
        return
    path = reverse("members:enroll-confirm", args=[services.enrollment_confirm_token(pending)])
    context = {
        "first_name": pending.answers.get("person", {}).get("first_name", ""),
        "link": f"{settings.PUBLIC_BASE_URL}{path}",
        "hours": settings.ENROLLMENT_CONFIRM_HOURS,
        "cooperative_name": settings.COOPERATIVE_NAME,
    }
    send_mail(
        subject=f"{settings.COOPERATIVE_NAME}: confirm your email to finish enrolling",
        message=render_to_string("members/email/enrollment_confirm_link.txt", context),
        from_email=None,
        recipient_list=[pending.email],
    )


@shared_task(
    name="members.enrollment_account_exists_send", autoretry_for=(OSError,), retry_backoff=True,
    max_retries=5, soft_time_limit=60, time_limit=90, ignore_result=True,
)  # fmt: skip
def enrollment_account_exists_send(email: str) -> None:
    """Someone tried to enroll with an address that already has an account: tell its owner
    how to sign in or reset the password (nothing was created)."""
    context = {
        "sign_in": f"{settings.PUBLIC_BASE_URL}{reverse('login')}",
        "reset": f"{settings.PUBLIC_BASE_URL}{reverse('password_reset')}",
        "cooperative_name": settings.COOPERATIVE_NAME,
    }
    send_mail(
        subject=f"{settings.COOPERATIVE_NAME}: you already have an account",
        message=render_to_string("members/email/enrollment_account_exists.txt", context),
        from_email=None,
        recipient_list=[email],
    )


@shared_task(name="members.enrollments_expire", soft_time_limit=240, time_limit=300)
def enrollments_expire() -> dict[str, int]:
    """Hourly: unconfirmed enrollments past their link's life expire (their answers wiped)."""
    return {"expired": services.enrollments_expire()}
