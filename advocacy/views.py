"""The advocate workspace (/advocacy/) and the member's view of their own cases (/me/cases/).

Views are thin: check the role, validate the form, call a service or a selector. Every staff
view of a member's case writes an audit row. The forms on a case page post normally (and
redirect back) without JavaScript; with htmx they swap the timeline in place.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cooperative.audit import audit_list_read, audit_record, record_denied
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction
from cooperative.periods import COOPERATIVE_TZ
from cooperative.permissions import role_required
from cooperative.roles import Role
from cooperative.uploads import download_filename
from members import selectors as member_selectors
from members.models import Member
from providers import selectors as provider_selectors

from . import selectors, services
from .forms import (
    AssignForm,
    AttachmentForm,
    BillReviewForm,
    CaseOpenForm,
    ContactForm,
    DisputeForm,
    DisputeOutcomeForm,
    ExpenseForm,
    NoteForm,
    NoticeSentForm,
    PlanForm,
    PolicyLinkForm,
    PriorityForm,
    QueueFilterForm,
    ReferralForm,
    ResponseForm,
    ReviewForm,
    SavingsForm,
    StatusForm,
    TaskForm,
    UtilizationForm,
    UtilizationImportForm,
    apply_service_errors,
)
from .models import (
    CASE_TRANSITIONS,
    Case,
    CaseAttachment,
    CaseStatus,
    CaseTask,
    ClaimDispute,
    PlanReview,
    Referral,
    ReferralStatus,
    RequirementNotice,
    UtilizationEvent,
)

advocate_required = role_required(Role.ADVOCATE)


def _case_or_404(pk: int) -> Case:
    case = selectors.case_get(pk)
    if case is None:
        raise Http404("No such case.")
    return case


def _posted_id(request: HttpRequest, name: str) -> int:
    """A record id posted by a form; anything else reads as no record (0), never a 500."""
    value = request.POST.get(name, "")
    return int(value) if value.isdigit() else 0


def _case_url(case: Case, anchor: str = "") -> str:
    return reverse("advocacy:case", args=[case.pk]) + (f"#{anchor}" if anchor else "")


# --- Queues ---------------------------------------------------------------------------------


@never_cache
@advocate_required
def workspace(request: HttpRequest) -> HttpResponse:
    """The queues: mine, unassigned, waiting, overdue (highlighted), with filters and counts."""
    today = timezone.localdate()
    form = QueueFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    queue = filters.pop("queue", "mine")
    # A dashboard's figure names what it counts above the list it opens.
    scope = []
    if day := filters.get("overdue_on"):
        scope.append(f"overdue at the end of {day:%b} {day.day}, {day.year}")
    if period := filters.get("resolved_in"):
        scope.append(f"resolved in {period.label}")
    if period := filters.get("resolved_from"):
        scope.append(f"resolved since the start of {period.label}")
    cases = selectors.case_queue(user=request.user, queue=queue, today=today, **filters)
    page = Paginator(cases, 25).get_page(request.GET.get("page"))
    # A list of members' cases read by staff is audited too: which cases were on the screen.
    audit_list_read(request, model=Case, ids=[c.pk for c in page], what=f"queue {queue}")
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "form": form, "queue": queue, "queue_label": selectors.QUEUES.get(queue, "My open cases"), "page": page, "today": today,
        "scope": scope,
        "counts": selectors.queue_counts(user=request.user, today=today),
        "querystring": params.urlencode(), "nav": "advocacy",
    }  # fmt: skip
    template = "advocacy/workspace.html#results" if request.htmx else "advocacy/workspace.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@never_cache
@advocate_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Open cases by type, the overdue trend, time to resolution, savings by month and advocate."""
    figures = selectors.dashboard(today=timezone.localdate())
    links = dashboard_links(figures)
    return render(
        request,
        "advocacy/dashboard.html",
        {"figures": figures, "charts": _charts(figures, links), "links": links, "nav": "advocacy"},
    )


def _bars(
    values: list[tuple[str, float, str, str]], width: int = 44, money: bool = False
) -> dict[str, Any]:
    """Server-drawn SVG bars: (label, value, tooltip, url of the cases it counts) → geometry,
    each with its figure on top and a link to the list."""
    top = max([v for _l, v, _t, _u in values] + [1])
    bars = []
    for index, (label, value, tip, url) in enumerate(values):
        height = int(value * 92 / top)
        shown = (f"${value:,.0f}" if money else f"{value:g}") if value else ""
        bars.append({"label": label, "value": value, "tip": tip, "url": url, "x": index * width + 8,
                     "y": 110 - height, "height": height, "label_x": index * width + 8 + (width - 12) // 2,
                     "shown": shown, "shown_y": 110 - height - 3,
                     "bar_width": width - 12})  # fmt: skip
    return {"bars": bars, "width": max(88, len(values) * width + 16)}


def dashboard_links(figures: selectors.Dashboard) -> dict[str, Any]:
    """The workspace list each figure of the dashboard counts (tiles, bars, table rows)."""
    base = reverse("advocacy:workspace")
    return {
        "open": f"{base}?queue=open",
        "overdue": f"{base}?queue=overdue",
        "savings": f"{base}?queue=all&resolved_from={figures.first_period}",
        "by_type": {value: f"{base}?queue=open&case_type={value}" for value, _l, _n in figures.open_by_type},
        "overdue_on": {day: f"{base}?queue=all&overdue_on={day.isoformat()}" for day, _n in figures.overdue_trend},
        "resolved_in": {period: f"{base}?queue=all&resolved_in={period}" for period, _d, _n in figures.resolution_by_month},
    }  # fmt: skip


def _charts(figures: selectors.Dashboard, links: dict[str, Any]) -> dict[str, Any]:
    return {
        "by_type": _bars([(label.split()[0], float(n), f"{label}: {n} open", links["by_type"][v]) for v, label, n in figures.open_by_type], 64),
        "overdue": _bars([(day.strftime("%-m/%-d"), float(n), f"Week ending {day:%b %-d}: {n} overdue", links["overdue_on"][day]) for day, n in figures.overdue_trend]),
        "resolution": _bars([(p.label[:3], float(d or 0), f"{p.label}: {'—' if d is None else d} days median, {n} resolved", links["resolved_in"][p]) for p, d, n in figures.resolution_by_month], 56),
        "savings": _bars([(p.label[:3], float(total), f"{p.label}: ${total:,.2f} over {n} case(s)", links["resolved_in"][p]) for p, total, n in figures.savings_by_month], 56, money=True),
    }  # fmt: skip


# --- Opening a case ---------------------------------------------------------------------------


@never_cache
@advocate_required
def case_new(request: HttpRequest) -> HttpResponse:
    form = CaseOpenForm(
        request.POST or None, initial={"member_number": request.GET.get("member", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        member = member_selectors.member_by_number(data["member_number"])
        if member is None:
            form.add_error("member_number", f"We don't know member number {data['member_number']}.")
        else:
            try:
                case = services.case_open(
                    actor=request.user, member=member, case_type=data["case_type"],
                    priority=data["priority"], source=data["source"], summary=data["summary"],
                    note=data["note"], assignee=request.user if data["assign_to_me"] else None,
                )  # fmt: skip
            except ApplicationError as error:
                apply_service_errors(
                    form, error, {"member": "member_number", "case_type": "case_type"}
                )
            else:
                messages.success(
                    request, f"Case {case.reference} is open, due {case.due_on:%b %-d}."
                )
                return redirect(_case_url(case))
    return render(request, "advocacy/case_new.html", {"form": form, "nav": "advocacy"})


# --- The case page ----------------------------------------------------------------------------


def _case_context(request: HttpRequest, case: Case, **forms: Any) -> dict[str, Any]:
    today = timezone.localdate()
    context: dict[str, Any] = {
        "case": case,
        "today": today,
        "summary": selectors.case_member_summary(case, today),
        "timeline": selectors.case_timeline(case),
        "tasks": list(selectors.case_tasks(case)),
        "allowed_statuses": [(s, CaseStatus(s).label) for s in CaseStatus.values if s in CASE_TRANSITIONS[case.status] and (s != CaseStatus.ASSIGNED or case.assignee_id)],
        "is_overdue": case.is_open and case.due_on < today,
        "note_form": NoteForm(), "contact_form": ContactForm(), "task_form": TaskForm(),
        "status_form": StatusForm(), "assign_form": AssignForm(initial={"assignee": case.assignee_id}),
        "priority_form": PriorityForm(initial={"priority": case.priority}),
        "savings_form": SavingsForm(initial={f: getattr(case, f) for f in services.SAVINGS_FIELDS}),
        "attachment_form": AttachmentForm(), "policy_form": PolicyLinkForm(payer_id=case.payer_id),
        "requirement": getattr(case, "requirement", None) if _has_requirement(case) else None,
        "disputes": list(case.disputes.select_related("payer").all()),
        "bill_reviews": list(case.bill_reviews.select_related("practitioner").prefetch_related("lines")),
        "referrals": list(case.referrals.select_related("practitioner")),
        "nav": "advocacy",
    }  # fmt: skip
    context.update(forms)
    return context


def _has_requirement(case: Case) -> bool:
    from .models import CareCoordinationRequirement

    return CareCoordinationRequirement.objects.filter(case=case).exists()


@never_cache
@advocate_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case: member summary, status and assignee, the timeline newest first, forms in place."""
    case = _case_or_404(pk)
    services.case_view_record(case=case, actor=request.user, request=request)
    return render(request, "advocacy/case_detail.html", _case_context(request, case))


def _timeline_response(request: HttpRequest, case: Case, **forms: Any) -> HttpResponse:
    """After a write from the page: the timeline (and the form, fresh or with its errors) via
    htmx, or the whole page without JavaScript (a redirect on success)."""
    context = _case_context(request, case, **forms)
    return render(request, "advocacy/case_detail.html#work", context)


def _case_write(
    request: HttpRequest,
    pk: int,
    form_class: type,
    form_name: str,
    write: Callable[[Case, dict[str, Any]], Any],
    success: str,
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    case = _case_or_404(pk)
    form = form_class(request.POST, request.FILES)
    extra: dict[str, Any] = {form_name: form}
    if form.is_valid():
        try:
            write(case, form.cleaned_data)
        except ApplicationError as error:
            apply_service_errors(form, error, aliases)
            extra["flash_error"] = error.message
        else:
            case = _case_or_404(pk)
            if request.htmx:  # type: ignore[attr-defined]
                return _timeline_response(request, case, flash=success)
            messages.success(request, success)
            return redirect(_case_url(case, "timeline"))
    if request.htmx:  # type: ignore[attr-defined]
        return _timeline_response(request, case, **extra)
    return render(
        request, "advocacy/case_detail.html", _case_context(request, case, **extra), status=400
    )


@require_POST
@advocate_required
def case_note(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, NoteForm, "note_form",
        lambda case, d: services.note_add(case=case, actor=request.user, body=d["body"], is_shared=d["is_shared"]),
        "Note added.",
    )  # fmt: skip


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if timezone.is_aware(value) else value.replace(tzinfo=COOPERATIVE_TZ)


@require_POST
@advocate_required
def case_contact(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, ContactForm, "contact_form",
        lambda case, d: services.contact_log(
            case=case, actor=request.user, channel=d["channel"], direction=d["direction"], party=d["party"],
            with_whom=d["with_whom"], outcome=d["outcome"], occurred_at=_aware(d["occurred_at"]),
        ),
        "Contact logged.",
    )  # fmt: skip


@require_POST
@advocate_required
def case_task(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, TaskForm, "task_form",
        lambda case, d: services.task_add(case=case, actor=request.user, title=d["title"], due_on=d["due_on"], assignee=d["assignee"]),
        "Task added.",
    )  # fmt: skip


@require_POST
@advocate_required
def case_task_done(request: HttpRequest, pk: int, task_id: int) -> HttpResponse:
    case = _case_or_404(pk)
    task = CaseTask.objects.filter(pk=task_id, case=case).first()
    if task is None:
        raise Http404("No such task on this case.")
    try:
        services.task_finish(
            task=task, actor=request.user, status=request.POST.get("status", "done")
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    if request.htmx:  # type: ignore[attr-defined]
        return _timeline_response(request, case, flash="Task done.")
    return redirect(_case_url(case, "tasks"))


@require_POST
@advocate_required
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, StatusForm, "status_form",
        lambda case, d: services.case_transition(case=case, actor=request.user, to_status=d["to_status"], reason=d["reason"], resolution=d["resolution"]),
        "Status changed.", {"status": "to_status"},
    )  # fmt: skip


@require_POST
@advocate_required
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, AssignForm, "assign_form",
        lambda case, d: services.case_assign(case=case, actor=request.user, assignee=d["assignee"]),
        "Assignee changed.",
    )  # fmt: skip


@require_POST
@advocate_required
def case_priority(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, PriorityForm, "priority_form",
        lambda case, d: services.case_update(case=case, actor=request.user, priority=d["priority"]),
        "Priority changed; the due date follows.",
    )  # fmt: skip


@require_POST
@advocate_required
def case_savings(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, SavingsForm, "savings_form",
        lambda case, d: services.case_set_savings(case=case, actor=request.user, **d),
        "Savings saved.",
    )  # fmt: skip


@require_POST
@advocate_required
def case_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, AttachmentForm, "attachment_form",
        lambda case, d: services.attachment_add(case=case, actor=request.user, upload=d["file"], description=d["description"]),
        "Document added.",
    )  # fmt: skip


@require_POST
@advocate_required
def case_policy(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_write(
        request, pk, PolicyLinkForm, "policy_form",
        lambda case, d: services.policy_link_add(case=case, actor=request.user, policy_update=d["policy_update"], note=d["note"]),
        "Policy update linked.",
    )  # fmt: skip


@never_cache
@advocate_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = CaseAttachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise Http404("No such document.")
    content = services.attachment_open(attachment=attachment, actor=request.user, request=request)
    response = HttpResponse(content, content_type=attachment.content_type)
    # Our name and the detected type's extension, never the uploader's file name.
    name = download_filename(
        f"case-{attachment.case_id}-document-{attachment.pk}", attachment.content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Care coordination --------------------------------------------------------------------------


def _requirement_of(case: Case) -> Any:
    from .models import CareCoordinationRequirement

    requirement = CareCoordinationRequirement.objects.filter(case=case).first()
    if requirement is None:
        raise Http404("This case has no care-coordination requirement.")
    return requirement


@never_cache
@advocate_required
def case_coordination(request: HttpRequest, pk: int) -> HttpResponse:
    """The requirement of a care-coordination case: notice, response, expenses and the penalty,
    treatment plans and their reviews."""
    case = _case_or_404(pk)
    requirement = _requirement_of(case)
    forms: dict[str, Any] = {
        "sent_form": NoticeSentForm(initial={"sent_on": timezone.localdate()}),
        "response_form": ResponseForm(initial={"responded_on": timezone.localdate()}),
        "expense_form": ExpenseForm(), "plan_form": PlanForm(initial={"starts_on": timezone.localdate()}),
        "review_form": ReviewForm(initial={"completed_on": timezone.localdate()}),
    }  # fmt: skip
    status = 200
    if request.method == "POST":
        action = request.POST.get("action_name", "")
        result = _coordination_action(request, case, requirement, action)
        if isinstance(result, HttpResponse):
            return result
        forms.update(result)
        status = 400
    elif not request.htmx:  # type: ignore[attr-defined]
        # The letter's progress poll (htmx) re-reads the same page: one audit row per visit.
        services.case_view_record(
            case=case, actor=request.user, request=request, detail="coordination"
        )
    detail = selectors.requirement_detail(requirement.pk)
    template = "advocacy/case_coordination.html"
    if request.htmx and request.method == "GET":  # type: ignore[attr-defined]
        template += "#notices"
    return render(
        request, template,
        {"case": case, "requirement": detail, "penalty_totals": selectors.penalty_totals_for(case.member),
         "expense_totals": selectors.requirement_expense_totals(detail), "today": timezone.localdate(), "nav": "advocacy", **forms},
        status=status,
    )  # fmt: skip


def _coordination_action(
    request: HttpRequest, case: Case, requirement: Any, action: str
) -> HttpResponse | dict[str, Any]:
    """Run one action of the coordination page; a redirect on success, the bound form on error."""
    user = request.user
    back = reverse("advocacy:case-coordination", args=[case.pk])
    specs: dict[str, tuple[type, str, Callable[[dict[str, Any]], Any], str]] = {
        "notice": (_EmptyForm, "notice_form", lambda d: services.notice_request(requirement=requirement, actor=user), "The notice letter is being prepared."),
        "sent": (NoticeSentForm, "sent_form", lambda d: services.notice_mark_sent(notice=_latest_notice(requirement), actor=user, sent_on=d["sent_on"], method=d["method"]), "The notice is recorded as sent."),
        "response": (ResponseForm, "response_form", lambda d: services.requirement_record_response(requirement=requirement, actor=user, response=d["response"], responded_on=d["responded_on"], note=d["note"]), "The member's response is recorded."),
        "expense": (ExpenseForm, "expense_form", lambda d: services.expense_add(requirement=requirement, actor=user, **d), "The expense is recorded."),
        "plan": (PlanForm, "plan_form", lambda d: services.treatment_plan_create(case=case, actor=user, requirement=requirement, **d), "The treatment plan is saved."),
        "review": (ReviewForm, "review_form", lambda d: _review_action(request, requirement, d), "The review is recorded."),
    }  # fmt: skip
    if action not in specs:
        raise Http404("Unknown action.")
    form_class, name, write, success = specs[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            write(form.cleaned_data)
        except ApplicationError as error:
            apply_service_errors(form, error)
            messages.error(request, error.message)
        else:
            messages.success(request, success)
            return redirect(back)
    return {name: form}


class _EmptyForm(django_forms.Form):
    """A form with no fields (a button)."""


def _latest_notice(requirement: Any) -> RequirementNotice:
    notice = requirement.notices.order_by("-created_at", "-id").first()
    if notice is None:
        raise ApplicationError("Prepare the notice letter first.")
    return notice


def _review_action(request: HttpRequest, requirement: Any, data: dict[str, Any]) -> Any:
    review = PlanReview.objects.filter(
        pk=_posted_id(request, "review_id"), plan__requirement=requirement
    ).first()
    if review is None:
        raise ApplicationError("Choose a review of this case's plan.")
    if data["action"] == "complete":
        return services.plan_review_complete(
            review=review,
            actor=request.user,
            completed_on=data["completed_on"] or timezone.localdate(),
            notes=data["notes"],
            submission_received_on=data["submission_received_on"],
        )
    if data["action"] == "excuse":
        return services.plan_review_excuse(review=review, actor=request.user, note=data["notes"])
    return services.plan_review_confirm_failure(
        review=review, actor=request.user, note=data["notes"]
    )


@never_cache
@advocate_required
def notice_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    notice = RequirementNotice.objects.select_related("requirement__case").filter(pk=pk).first()
    if notice is None or not notice.file:
        raise Http404("The letter is not ready yet.")
    audit_record(actor=request.user, action=AuditAction.EXPORT, obj=notice, request=request)
    return FileResponse(notice.file.open("rb"), content_type="application/pdf", as_attachment=False,
                        filename=f"care-coordination-notice-{notice.pk}.pdf")  # type: ignore[return-value]  # fmt: skip


# --- Utilization ----------------------------------------------------------------------------------


@never_cache
@advocate_required
def utilization(request: HttpRequest) -> HttpResponse:
    """Record one utilization event, or import a CSV of them; triggers fire on each new event."""
    form = UtilizationForm(prefix="event")
    import_form = UtilizationImportForm(prefix="import")
    result = None
    status = 200
    if request.method == "POST" and "import-file" in request.FILES:
        import_form = UtilizationImportForm(request.POST, request.FILES, prefix="import")
        if import_form.is_valid():
            upload = import_form.cleaned_data["file"]
            try:
                result = services.utilization_import(
                    actor=request.user, file_name=upload.name, content=upload.read()
                )
            except ApplicationError as error:
                apply_service_errors(import_form, error, {"content": "file"})
                status = 400
        else:
            status = 400
    elif request.method == "POST":
        form = UtilizationForm(request.POST, prefix="event")
        if form.is_valid():
            data = form.cleaned_data
            member = member_selectors.member_by_number(data.pop("member_number"))
            if member is None:
                form.add_error("member_number", "We don't know this member number.")
                status = 400
            else:
                try:
                    _event, created = services.utilization_record(
                        actor=request.user, member=member, **data
                    )
                except ApplicationError as error:
                    apply_service_errors(form, error)
                    status = 400
                else:
                    if created:
                        messages.warning(
                            request,
                            "Care coordination is now required: "
                            + "; ".join(
                                f"{r.get_reason_display()} (case {r.case.reference})"
                                for r in created
                            )
                            + ".",
                        )
                    else:
                        messages.success(request, "The event is recorded; no new requirement.")
                    return redirect("advocacy:utilization")
        else:
            status = 400
    recent = list(selectors.utilization_recent()[:25])
    audit_list_read(request, model=UtilizationEvent, ids=[e.pk for e in recent], what="recent")
    return render(request, "advocacy/utilization.html", {"form": form, "import_form": import_form, "result": result, "recent": recent, "nav": "advocacy"}, status=status)  # fmt: skip


# --- Disputes, bills, referrals ---------------------------------------------------------------


@never_cache
@advocate_required
def disputes(request: HttpRequest) -> HttpResponse:
    """Every dispute with its qualification (high-dollar, systemic, payer unresponsive), filterable."""
    qualification = request.GET.get("qualification", "")
    today = timezone.localdate()
    try:
        rows = selectors.disputes_list(qualification=qualification or None, today=today)
    except ApplicationError as error:
        messages.error(request, error.message)
        qualification = ""
        rows = selectors.disputes_list(today=today)
    page = Paginator(rows, 25).get_page(request.GET.get("page"))
    audit_list_read(request, model=ClaimDispute, ids=[d.pk for d in page], what="claim disputes")
    qualifications = selectors.dispute_qualifications(list(page.object_list), today=today)
    return render(request, "advocacy/disputes.html", {
        "page": page, "qualification": qualification, "qualifications": qualifications,
        "groups": selectors.systemic_groups(today=today), "nav": "advocacy",
    })  # fmt: skip


@never_cache
@advocate_required
def case_disputes(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    form = DisputeForm(initial={"payer": case.payer_id})
    outcome_form = DisputeOutcomeForm(initial={"on": timezone.localdate()})
    status = 200
    if request.method == "POST":
        if request.POST.get("dispute_id"):
            dispute = ClaimDispute.objects.filter(
                pk=_posted_id(request, "dispute_id"), case=case
            ).first()
            if dispute is None:
                raise Http404("No such dispute on this case.")
            outcome_form = DisputeOutcomeForm(request.POST)
            if outcome_form.is_valid():
                d = outcome_form.cleaned_data
                try:
                    if d["action"] == "submit":
                        services.dispute_submit(
                            dispute=dispute, actor=request.user, submitted_on=d["on"]
                        )
                    elif d["action"] == "response":
                        services.dispute_record_payer_response(
                            dispute=dispute, actor=request.user, responded_on=d["on"]
                        )
                    else:
                        services.dispute_record_outcome(
                            dispute=dispute,
                            actor=request.user,
                            outcome=d["outcome"],
                            outcome_on=d["on"],
                            recovered_amount=d["recovered_amount"] or Decimal("0.00"),
                        )
                except ApplicationError as error:
                    apply_service_errors(
                        outcome_form,
                        error,
                        {"submitted_on": "on", "responded_on": "on", "outcome_on": "on"},
                    )
                    messages.error(request, error.message)
                else:
                    messages.success(request, f"Claim {dispute.claim_number} updated.")
                    return redirect("advocacy:case-disputes", pk=case.pk)
        else:
            form = DisputeForm(request.POST)
            if form.is_valid():
                try:
                    services.dispute_create(case=case, actor=request.user, **form.cleaned_data)
                except ApplicationError as error:
                    apply_service_errors(form, error)
                else:
                    messages.success(request, "The claim dispute is recorded.")
                    return redirect("advocacy:case-disputes", pk=case.pk)
        status = 400
    else:
        services.case_view_record(case=case, actor=request.user, request=request, detail="disputes")
    rows = list(case.disputes.select_related("payer", "payer_contract"))
    return render(request, "advocacy/case_disputes.html", {
        "case": case, "disputes": rows, "form": form, "outcome_form": outcome_form,
        "qualifications": selectors.dispute_qualifications(rows), "nav": "advocacy",
    }, status=status)  # fmt: skip


@never_cache
@advocate_required
def case_bills(request: HttpRequest, pk: int) -> HttpResponse:
    """Billing review: a bill's lines against the provider's agreed fee schedule."""
    case = _case_or_404(pk)
    form = BillReviewForm()
    status = 200
    if request.method == "POST":
        form = BillReviewForm(request.POST)
        practitioner = case.practitioner
        if form.is_valid():
            data = dict(form.cleaned_data)
            npi = data.pop("practitioner_npi", "").strip()
            if practitioner is None:
                practitioner = provider_selectors.practitioner_by_npi(npi)
            if practitioner is None:
                form.add_error(
                    "practitioner_npi",
                    f"We don't know NPI {npi}."
                    if npi
                    else "Give the NPI of the provider who sent the bill.",
                )
        if form.is_valid() and practitioner is not None:
            try:
                review = services.bill_review_create(
                    case=case, actor=request.user, practitioner=practitioner, **data
                )
            except ApplicationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(request, "The bill is reviewed against the agreed prices.")
                return redirect("advocacy:bill-review", pk=review.pk)
        status = 400
    else:
        services.case_view_record(case=case, actor=request.user, request=request, detail="bills")
    reviews = list(case.bill_reviews.prefetch_related("lines"))
    for review in reviews:
        review.totals = selectors.bill_review_totals(review)  # type: ignore[attr-defined]
    return render(
        request,
        "advocacy/case_bills.html",
        {"case": case, "reviews": reviews, "form": form, "nav": "advocacy"},
        status=status,
    )


@never_cache
@advocate_required
def bill_review(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.bill_review_detail(pk)
    if review is None:
        raise Http404("No such bill review.")
    if request.method == "POST":
        try:
            upload = request.FILES.get("lines_file")
            if upload is not None:
                outcome = services.bill_lines_import(
                    review=review, actor=request.user, content=upload.read()
                )
                messages.success(
                    request,
                    f"{outcome['imported']} line(s) imported; {len(outcome['rejected'])} refused.",
                )
                for rejected in outcome["rejected"]:
                    messages.error(request, f"Line {rejected['line']}: {rejected['error']}")
            else:
                services.bill_review_complete(review=review, actor=request.user)
                messages.success(request, "The review is complete; the case's savings include it.")
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect("advocacy:bill-review", pk=pk)
    services.case_view_record(
        case=review.case, actor=request.user, request=request, detail=f"bill review {pk}"
    )
    return render(
        request,
        "advocacy/bill_review.html",
        {
            "review": review,
            "case": review.case,
            "totals": selectors.bill_review_totals(review),
            "nav": "advocacy",
        },
    )


@never_cache
@advocate_required
def case_referrals(request: HttpRequest, pk: int) -> HttpResponse:
    case = _case_or_404(pk)
    form = ReferralForm()
    status = 200
    if request.method == "POST":
        if request.POST.get("referral_id"):
            referral = Referral.objects.filter(
                pk=_posted_id(request, "referral_id"), case=case
            ).first()
            if referral is None:
                raise Http404("No such referral on this case.")
            try:
                services.referral_set_status(
                    referral=referral, actor=request.user, status=request.POST.get("status", "")
                )
            except ApplicationError as error:
                messages.error(request, error.message)
            return redirect("advocacy:case-referrals", pk=case.pk)
        form = ReferralForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            practitioner = provider_selectors.practitioner_by_npi(d["practitioner_npi"])
            if d["kind"] == "in_network" and practitioner is None:
                form.add_error("practitioner_npi", "We don't know this NPI in the directory.")
            else:
                try:
                    services.referral_create(
                        case=case,
                        actor=request.user,
                        kind=d["kind"],
                        reason=d["reason"],
                        practitioner=practitioner,
                        out_of_network_provider=d["out_of_network_provider"],
                    )
                except ApplicationError as error:
                    apply_service_errors(form, error, {"practitioner": "practitioner_npi"})
                else:
                    messages.success(request, "The referral is recorded.")
                    return redirect("advocacy:case-referrals", pk=case.pk)
        status = 400
    else:
        services.case_view_record(
            case=case, actor=request.user, request=request, detail="referrals"
        )
    return render(request, "advocacy/case_referrals.html", {"case": case, "referrals": list(case.referrals.select_related("practitioner")), "form": form, "statuses": ReferralStatus.choices, "transitions": {k: sorted(v) for k, v in services.REFERRAL_TRANSITIONS.items()}, "nav": "advocacy"}, status=status)  # fmt: skip


# --- The member's own view --------------------------------------------------------------------


def _portal_member(request: HttpRequest) -> Member:
    member = member_selectors.member_for_user(request.user)
    if member is None:
        raise PermissionDenied("This page is for members.")
    return member


@never_cache
@role_required(Role.MEMBER)
def my_cases(request: HttpRequest) -> HttpResponse:
    """A member's own cases: the status and the notes marked as shared, nothing else."""
    member = _portal_member(request)
    return render(
        request,
        "advocacy/my_cases.html",
        {"cases": list(selectors.member_cases(member)), "viewer": member, "nav": "me"},
    )


@never_cache
@role_required(Role.MEMBER)
def my_case(request: HttpRequest, pk: int) -> HttpResponse:
    member = _portal_member(request)
    case = selectors.member_case_get(member, pk)
    if case is None:
        record_denied(request, detail=f"case {pk} is not the member's")
        raise Http404("No such case.")
    return render(request, "advocacy/my_case.html", {"case": case, "viewer": member, "nav": "me"})
