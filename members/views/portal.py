"""The member portal (/me/): membership, PCP change, dues and receipts, the card, contact
details and cancellation. A member sees only their own household: any other member's id or
invoice id answers 404 and is audited as a refused access."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache

from cooperative.audit import audit_record, record_denied
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction
from cooperative.pdf import render_pdf
from cooperative.periods import Period
from providers.models import ADULT_AGE
from providers.selectors import practitioner_by_npi

from .. import selectors, services
from ..forms import CancelForm, ContactForm, FamilyMemberForm, apply_service_errors
from ..models import Member, MembershipStatus, PcpAssignment
from .enroll import pcp_offer, pcp_search_results


def member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in members only; the view gets the signed-in member as `viewer`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        viewer = selectors.member_for_user(request.user)
        if viewer is None:
            raise PermissionDenied("The member portal is for members.")
        return never_cache(view)(request, viewer, *args, **kwargs)

    return wrapped


def _household_member(request: HttpRequest, viewer: Member, member_id: int) -> Member:
    member = selectors.household_member_get(viewer, member_id)
    if member is None:
        record_denied(request, detail=f"member {member_id} is outside the household")
        raise Http404("No such member in your household.")
    return member


def _subscriber_only(viewer: Member) -> None:
    if viewer.subscriber_id is not None:
        raise PermissionDenied("Only the household's subscriber can change the membership.")


@member_required
def portal_home(request: HttpRequest, viewer: Member) -> HttpResponse:
    household = selectors.household_summaries(viewer)
    head = viewer.subscriber or viewer
    # The dues page's own figures, so "You owe" is the same number on both pages.
    dues = selectors.household_dues(head)
    latest = selectors.household_invoices(head).first()
    return render(
        request, "members/portal_home.html",
        {"viewer": viewer, "household": household, "dues": dues, "latest_invoice": latest,
         "member_services_phone": settings.MEMBER_SERVICES_PHONE, "nav": "me",
         **selectors.household_notices(viewer)},
    )  # fmt: skip


@member_required
def portal_pcp(request: HttpRequest, viewer: Member, member_id: int) -> HttpResponse:
    """Change PCP from the first of next month; the history shows past and pending choices."""
    member = _household_member(request, viewer, member_id)
    next_first = Period.current().next().first_day
    current = selectors.pcp_current_for(member)
    if request.method == "GET" and request.GET.get("npi") and not getattr(request, "htmx", False):
        # "Choose as my PCP" on a profile: that practitioner, preselected, to confirm.
        _subscriber_only(viewer)
        return _portal_pcp_confirm(request, viewer, member, current, next_first, request.GET["npi"])
    if request.method == "POST":
        _subscriber_only(viewer)
        if request.POST.get("confirmed") != "yes":
            return _portal_pcp_confirm(
                request, viewer, member, current, next_first, request.POST.get("pcp_npi", "")
            )
        try:
            assignment = services.pcp_change(
                member=member, pcp_npi=request.POST.get("pcp_npi", ""), actor=request.user
            )
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                f"{assignment.practitioner.display_name} is {member.first_name}'s primary care provider from {assignment.effective_from:%B %-d, %Y}.",
            )
            return redirect("members:portal-pcp", member_id=member.pk)
    membership = selectors.membership_current(member)
    plan = membership.plan if membership else None
    group = membership.employer_group if membership else None
    context = {
        "viewer": viewer, "member": member, "history": list(selectors.pcp_assignments_for(member)),
        "effective": next_first, "today": timezone.localdate(), "nav": "me",
        "action_url": reverse("members:portal-pcp", args=[member.pk]),
        "current_pcp": current, "current_npi": current.practitioner.npi if current else None,
        **pcp_search_results(request, birth=member.date_of_birth, plan=plan, group=group, default_zip=member.zip_code[:5]),
    }  # fmt: skip
    template = (
        "members/portal_pcp.html#results"
        if getattr(request, "htmx", False)
        else "members/portal_pcp.html"
    )
    return render(request, template, context)


def _portal_pcp_confirm(
    request: HttpRequest,
    viewer: Member,
    member: Member,
    current: PcpAssignment | None,
    effective: date,
    npi: str,
) -> HttpResponse:
    """The confirmation step of a PCP change: who from, who to, from when. Nothing changes
    until the member posts it back with `confirmed=yes`. A choice the change would refuse
    (their age, a full panel, no price) is said here, before the confirmation."""
    chosen = practitioner_by_npi(npi)
    if chosen is None:
        messages.error(request, "Choose a primary care provider from the list.")
        return redirect("members:portal-pcp", member_id=member.pk)
    if current is not None and current.practitioner_id == chosen.pk:
        messages.error(
            request,
            f"{chosen.display_name} is already {member.first_name}'s primary care provider.",
        )
        return redirect("members:portal-pcp", member_id=member.pk)
    try:
        services.pcp_choice_check(pcp_npi=chosen.npi, birth=member.date_of_birth, start=effective)
    except ApplicationError as error:
        messages.error(request, error.message)
        return redirect("members:portal-pcp", member_id=member.pk)
    return render(
        request, "members/portal_pcp_confirm.html",
        {"viewer": viewer, "member": member, "current": current, "chosen": chosen,
         "effective": effective, "nav": "me",
         "action_url": reverse("members:portal-pcp", args=[member.pk])},
    )  # fmt: skip


@member_required
def portal_dues(request: HttpRequest, viewer: Member) -> HttpResponse:
    """What the household owes (the sum of its open invoices), when each is due, who each is
    for, and how to pay; then every invoice and payment."""
    head = viewer.subscriber or viewer
    return render(
        request, "members/portal_dues.html",
        {"viewer": viewer, "dues": selectors.household_dues(head),
         "invoices": list(selectors.household_invoices(head)[:120]),
         "payments": list(selectors.household_payments(head)[:60]), "nav": "me"},
    )  # fmt: skip


@member_required
def portal_receipt(request: HttpRequest, viewer: Member, invoice_id: int) -> HttpResponse:
    """A printable invoice and receipt for one month."""
    head = viewer.subscriber or viewer
    invoice = selectors.household_invoice_get(head, invoice_id)
    if invoice is None:
        record_denied(request, detail=f"invoice {invoice_id} is outside the household")
        raise Http404("No such invoice.")
    return render(
        request, "members/portal_receipt.html",
        {"viewer": viewer, "invoice": invoice, "head": head, "cooperative_name": settings.COOPERATIVE_NAME,
         "member_services_phone": settings.MEMBER_SERVICES_PHONE, "nav": "me"},
    )  # fmt: skip


@member_required
def portal_card(request: HttpRequest, viewer: Member, member_id: int) -> HttpResponse:
    """The membership card as a PDF. A one-page card renders in tens of milliseconds, like a
    page, so it is rendered here rather than through a worker (long PDFs go through Celery)."""
    member = _household_member(request, viewer, member_id)
    summary = selectors.member_summary(member.pk)
    assert summary is not None
    pcp = summary.pcp or summary.pending_pcp
    pdf = render_pdf(
        "members/card.html",
        {"summary": summary, "pcp": pcp, "cooperative_name": settings.COOPERATIVE_NAME,
         "member_services_phone": settings.MEMBER_SERVICES_PHONE},
    )  # fmt: skip
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        obj=member,
        detail="membership card",
        request=request,
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="membership-card-{member.member_number}.pdf"'
    )
    return response


@member_required
def portal_contact(request: HttpRequest, viewer: Member) -> HttpResponse:
    _subscriber_only(viewer)
    initial = {
        k: getattr(viewer, k) for k in ("email", "phone", "street", "city", "state", "zip_code")
    }
    form = ContactForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.member_contact_update(
                member=viewer, data=form.cleaned_data, actor=request.user
            )
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Your contact details are saved.")
            return redirect("members:portal")
    return render(
        request, "members/portal_contact.html", {"viewer": viewer, "form": form, "nav": "me"}
    )


@member_required
def portal_cancel(request: HttpRequest, viewer: Member) -> HttpResponse:
    """Cancellation with a confirmation step: it takes effect at the end of this month."""
    _subscriber_only(viewer)
    membership = selectors.membership_current(viewer)
    if membership is None or membership.status == MembershipStatus.CANCELLED:
        messages.info(request, "Your membership is already cancelled.")
        return redirect("members:portal")
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_cancel(member=viewer, actor=request.user)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(
                request, f"Your membership is cancelled from the end of {Period.current().label}."
            )
            return redirect("members:portal")
    return render(
        request, "members/portal_cancel.html",
        {"viewer": viewer, "form": form, "ends": Period.current().last_day, "membership": membership,
         "dependents": list(viewer.dependents.all()), "nav": "me"},
    )  # fmt: skip


FAMILY_DRAFT_KEY = "family_add"


@member_required
def portal_family_add(request: HttpRequest, viewer: Member) -> HttpResponse:
    """The subscriber adds a family member: their own PCP and age-band fee, billed to the
    subscriber, from the first of next month. Their name and birth date first; then their PCP
    from the list of those who see their age."""
    _subscriber_only(viewer)
    draft = request.session.get(FAMILY_DRAFT_KEY) or {}
    initial = dict(draft, accept_terms=bool(draft)) if draft else None
    form = FamilyMemberForm(request.POST or None, initial=initial)
    start = services.start_date_for_enrollment()
    if request.method == "POST" and form.is_valid():
        try:
            person = services.family_member_person_check(data=form.cleaned_data, start=start)
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            request.session[FAMILY_DRAFT_KEY] = {
                "first_name": person["first_name"], "last_name": person["last_name"],
                "date_of_birth": person["date_of_birth"].isoformat(),
            }  # fmt: skip
            return redirect("members:portal-family-pcp")
    return render(
        request, "members/portal_family_add.html",
        {"viewer": viewer, "form": form, "start": start, "nav": "me",
         "consent_texts": selectors.consent_texts_current()},
    )  # fmt: skip


@member_required
def portal_family_pcp(request: HttpRequest, viewer: Member) -> HttpResponse:
    """The family member's PCP, chosen from the directory list (yours offered first when they
    can take them); choosing one adds them to the household."""
    _subscriber_only(viewer)
    draft = request.session.get(FAMILY_DRAFT_KEY)
    if not draft:
        return redirect("members:portal-family-add")
    birth = date.fromisoformat(draft["date_of_birth"])
    error = ""
    if request.method == "POST":
        data = dict(draft, date_of_birth=birth, pcp_npi=request.POST.get("pcp_npi", "").strip(),
                    accept_terms=True)  # fmt: skip
        if not data["pcp_npi"]:
            error = "Choose a primary care provider from the list."
        else:
            try:
                result = services.dependent_add(subscriber=viewer, data=data, actor=request.user)
            except ApplicationError as refused:
                error = refused.message
            else:
                request.session.pop(FAMILY_DRAFT_KEY, None)
                messages.success(
                    request,
                    f"{result.member.first_name} joins your household on {result.membership.start_date:%B %-d, %Y} "
                    f"with {result.assignment.practitioner.display_name}: ${result.quote.member_pays:,.2f} a month "
                    f"(member number {result.member.member_number}).",
                )
                return redirect("members:portal")
    membership = selectors.membership_current(viewer)
    plan = membership.plan if membership else None
    group = membership.employer_group if membership else None
    start = services.start_date_for_enrollment()
    own = selectors.pcp_assignments_for(viewer).first()
    context = {
        "viewer": viewer, "draft": draft, "error": error, "nav": "me", "chosen": None,
        "is_child": services.age_on(birth, start) < ADULT_AGE, "start": start,
        "offer": pcp_offer(own.practitioner.npi if own else None, birth=birth, plan=plan, group=group, start=start),
        "offer_title": "The same provider as yours",
        "action_url": reverse("members:portal-family-pcp"),
        **pcp_search_results(request, birth=birth, plan=plan, group=group, default_zip=viewer.zip_code[:5]),
    }  # fmt: skip
    template = (
        "members/_pcp_results.html"
        if getattr(request, "htmx", False)
        else "members/portal_family_pcp.html"
    )
    return render(request, template, context)
