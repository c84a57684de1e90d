"""Finance pages for payouts (/finance/payouts/) and the provider's statements
(/provider/statements/). Views check permission, validate, call a service; files are streamed
from storage, and every statement download is audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from cooperative.audit import audit_list_read, audit_record, record_denied
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction
from cooperative.periods import Period
from cooperative.permissions import role_required
from cooperative.roles import Role

from . import selectors, services
from .forms import StartRunForm, StatementSearchForm, VoidCheckForm
from .models import PayoutRun, PayoutRunStatus, Statement
from .permissions import can_view_statement, clinic_of_provider

ACTIVE = (PayoutRunStatus.PENDING, PayoutRunStatus.SNAPSHOTTING, PayoutRunStatus.RENDERING,
          PayoutRunStatus.FINALIZING)  # fmt: skip


def _chart(runs: list[PayoutRun]) -> list[dict[str, Any]]:
    """Bars of the last twelve completed months (server-drawn SVG; the table repeats them)."""
    done = sorted(
        (r for r in runs if r.status == PayoutRunStatus.COMPLETED), key=lambda r: r.period
    )[-12:]
    top = max((r.total for r in done), default=Decimal("0"))
    bars = []
    for index, run in enumerate(done):
        height = int(run.total * 100 / top) if top else 0
        bars.append({"run": run, "x": index * 80 + 10, "y": 110 - height, "height": height,
                     "label_x": index * 80 + 40})  # fmt: skip
    return bars


@never_cache
@role_required(Role.FINANCE)
def run_list(request: HttpRequest) -> HttpResponse:
    """The runs, newest first, a chart of totals by month, and the form to start one."""
    proposed = selectors.next_unpaid_period()
    form = StartRunForm(
        request.POST or None, user=request.user,
        initial={"period": str(proposed) if proposed else ""},
    )  # fmt: skip
    if request.method == "POST" and form.is_valid():
        try:
            run = services.payout_run_start(period=form.cleaned_data["period"], actor=request.user)
        except ApplicationError as error:
            form.add_error("period", error.message)
        else:
            label = Period.of(run.period).label
            if run.status == PayoutRunStatus.COMPLETED:
                messages.info(request, f"{label} was paid out already: nothing changed.")
            else:
                messages.success(request, f"The payout of {label} is running.")
            return redirect("payouts:run", pk=run.pk)
    runs = list(selectors.payout_runs()[:60])
    return render(
        request, "payouts/run_list.html",
        {"form": form, "runs": runs, "proposed": proposed,
         "next_payout_date": selectors.payout_date(Period.current()), "chart": (chart := _chart(runs)), "chart_width": max(80, len(chart) * 80),
         "ready_months": selectors.months_ready_to_pay_out()[0],
         "nav": "payouts"},
    )  # fmt: skip


@never_cache
@role_required(Role.FINANCE)
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.payout_runs(), pk=pk)
    search = StatementSearchForm(request.GET or None)
    query = search.cleaned_data["q"].strip() if search.is_valid() else ""
    page = Paginator(selectors.run_statements(run, search=query), 50).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    audit_list_read(request, model=Statement, ids=[s.pk for s in page], what=f"payout run {run.pk}")  # fmt: skip
    context = {
        "run": run, "progress": selectors.run_progress(run), "page_obj": page, "search": search,
        "is_active": run.status in ACTIVE, "nav": "payouts",
        "balance": services.reconciliation(run) if run.status == PayoutRunStatus.COMPLETED else None,
        "reasons": selectors.run_reasons(run),
        "voided_total": Statement.objects.filter(run=run, status="voided").aggregate(t=Sum("amount"))["t"],
        "positive_pay_versions": list(selectors.positive_pay_versions(run)),
    }  # fmt: skip
    return render(request, "payouts/run_detail.html", context)


@never_cache
@role_required(Role.FINANCE)
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress block alone (htmx polls it every two seconds while the run works); once
    the run is done it tells the browser to reload the whole page."""
    run = get_object_or_404(PayoutRun, pk=pk)
    response = render(
        request, "payouts/run_detail.html#progress",
        {"run": run, "progress": selectors.run_progress(run), "is_active": run.status in ACTIVE},
    )  # fmt: skip
    if run.status not in ACTIVE:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@role_required(Role.FINANCE)
def run_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Cancel a run that has issued no check yet (a month started by mistake)."""
    run = get_object_or_404(PayoutRun, pk=pk)
    try:
        services.payout_run_cancel(
            run=run, actor=request.user, reason=request.POST.get("reason", "").strip()
        )
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"The payout of {Period.of(run.period).label} is cancelled: no check was issued.",
        )
    return redirect("payouts:run", pk=run.pk)


@require_POST
@role_required(Role.FINANCE)
def run_resume(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(PayoutRun, pk=pk)
    services.payout_run_resume(run=run, actor=request.user)
    messages.success(request, "The run is resuming: only what is missing is done again.")
    return redirect("payouts:run", pk=run.pk)


def _stamped(opened: tuple[Any, bytes], name: str) -> HttpResponse:
    """A stored PDF streamed as it is, followed by its VOID update when there is one."""
    from .void_stamp import stamped_chunks

    handle, update = opened
    if not update:
        return FileResponse(  # type: ignore[return-value]
            handle, as_attachment=True, filename=name, content_type="application/pdf"
        )
    size = handle.size + len(update)
    response = StreamingHttpResponse(stamped_chunks(handle, update), content_type="application/pdf")
    response["Content-Length"] = str(size)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response  # type: ignore[return-value]


def _file(field: Any, name: str, content_type: str) -> HttpResponse:
    """Stream a stored file (a FileResponse is a streaming response; typed as the views are)."""
    if not field:
        raise Http404("Not ready yet.")
    return FileResponse(  # type: ignore[return-value]
        field.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )


@role_required(Role.FINANCE)
def run_file(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """The print batch (PDF) or the positive-pay file (CSV) of a completed run."""
    run = get_object_or_404(PayoutRun, pk=pk)
    period = f"{run.period:%Y-%m}"
    audit_record(actor=request.user, action=AuditAction.VIEW, obj=run, detail=f"download {kind}", request=request)  # fmt: skip
    if kind == "print-batch":  # the checks voided since carry VOID and their void date
        if not run.print_batch:
            raise Http404("Not ready yet.")
        return _stamped(selectors.print_batch_download(run), f"payout-{period}-print-batch.pdf")
    if kind == "positive-pay":  # as of now: voids and reissues included
        statements = list(
            Statement.objects.filter(run=run)
            .select_related("bank_account")
            .order_by("check_number")
        )
        response = HttpResponse(services.positive_pay_csv(statements), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="payout-{period}-positive-pay.csv"'
        return response
    if kind == "report-pdf":
        return _file(run.report_pdf, f"payout-{period}-report.pdf", "application/pdf")
    if kind == "report-csv":
        response = HttpResponse(selectors.run_report_csv(run), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="payout-{period}-report.csv"'
        return response
    if kind == "ach":
        return _file(run.ach_file, f"payout-{period}-ach.txt", "text/plain")
    raise Http404("No such file.")


@role_required(Role.FINANCE)
def run_positive_pay_version(request: HttpRequest, pk: int, version: int) -> HttpResponse:
    """One stored version of a run's positive-pay file, as it was made (never regenerated)."""
    stored = get_object_or_404(
        selectors.positive_pay_versions(get_object_or_404(PayoutRun, pk=pk)), version=version
    )
    audit_record(
        actor=request.user, action=AuditAction.VIEW, obj=stored.run,
        detail=f"download positive-pay version {version}", request=request,
    )  # fmt: skip
    return _file(
        stored.file, f"payout-{stored.run.period:%Y-%m}-positive-pay-v{version}.csv", "text/csv"
    )


def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """One statement's PDF: Finance, or the provider of that clinic (anyone else: 404, audited)."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    statement = Statement.objects.select_related("run").filter(pk=pk).first()
    if statement is None or not can_view_statement(request.user, statement):
        record_denied(request, detail=f"statement {pk}")
        raise Http404("No such statement.")
    audit_record(
        actor=request.user,
        action=AuditAction.VIEW,
        obj=statement,
        detail="statement PDF",
        request=request,
    )
    number = statement.check_number or f"dd{statement.pk}"
    if not statement.pdf:
        raise Http404("Not ready yet.")
    # A voided check carries a large VOID and its void date (the stored PDF is unchanged).
    return _stamped(
        selectors.statement_pdf_download(statement),
        f"statement-{statement.run.period:%Y-%m}-{number}.pdf",
    )


@never_cache
@role_required(Role.PROVIDER)
def provider_statements(request: HttpRequest) -> HttpResponse:
    """A provider's own statements and paid-member lists, newest first."""
    clinic_id = clinic_of_provider(request.user)
    if clinic_id is None:
        raise Http404("Your account is not linked to a clinic yet: ask provider services.")
    page = Paginator(selectors.statements_for_clinic(clinic_id), 24).get_page(
        request.GET.get("page")
    )
    page.object_list = list(page.object_list)
    audit_list_read(request, model=Statement, ids=[s.pk for s in page], what=f"clinic {clinic_id}")  # fmt: skip
    return render(
        request, "payouts/provider_statements.html", {"page_obj": page, "nav": "statements"}
    )


@require_POST
@role_required(Role.FINANCE)
def statement_void(request: HttpRequest, pk: int) -> HttpResponse:
    """Void a check, with the reason; by default a new check is issued for the same lines."""
    statement = get_object_or_404(Statement, pk=pk)
    form = VoidCheckForm(request.POST, user=request.user)
    if not form.is_valid():
        problems = [f"{form.fields[name].label}: {' '.join(str(e) for e in errors)}"
                    if name in form.fields else " ".join(str(e) for e in errors)
                    for name, errors in form.errors.items()]  # fmt: skip
        messages.error(
            request, f"Check {statement.check_number} was not voided. " + " ".join(problems)
        )
        return redirect("payouts:run", pk=statement.run_id)
    try:
        new = services.statement_void(
            statement=statement, actor=request.user, reason=form.cleaned_data["reason"],
            reissue=form.cleaned_data["reissue"],
        )  # fmt: skip
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            f"Check {statement.check_number} is void"
            + (f"; check {new.check_number} replaces it (its PDF is being made)." if new else "."),
        )
    return redirect("payouts:run", pk=statement.run_id)
