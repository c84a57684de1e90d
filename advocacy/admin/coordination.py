"""Required care coordination in the admin: benefit penalties, utilization imports and events,
requirements and treatment plans."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from cooperative.exceptions import ApplicationError

from .. import services
from ..models import (
    CareCoordinationRequirement,
    PenaltyAccumulator,
    PenaltyLine,
    PlanReview,
    RelatedExpense,
    RequirementNotice,
    TreatmentPlan,
    UtilizationEvent,
    UtilizationImport,
)
from ..services.coordination import IMPORT_MAX_BYTES
from .base import (
    BR,
    AdvocacyAdmin,
    AdvocacyViewAdmin,
    _change_url,
    _dry_run,
    _each,
    _link,
    _member_label,
    _MemberByNumberForm,
    _ReadOnlyInline,
)


@admin.register(PenaltyLine)
class PenaltyLineAdmin(AdvocacyViewAdmin):
    list_display = [
        "applied_at",
        "member_label",
        "requirement",
        "expense",
        "percent",
        "base_amount",
        "amount",
        "year",
    ]
    list_filter = ["year", "requirement__reason"]
    search_fields = ["member__member_number", "member__last_name"]
    list_select_related = ["member", "requirement", "expense"]

    @admin.display(description="member", ordering="member__member_number")
    def member_label(self, line: PenaltyLine) -> str:
        return _member_label(line.member)


@admin.register(PenaltyAccumulator)
class PenaltyAccumulatorAdmin(AdvocacyViewAdmin):
    """Benefit penalties per member and year: a separate accumulator, never counted toward
    deductibles or out-of-pocket limits."""

    list_display = ["member_label", "year", "total", "line_count", "counts_toward_deductible",
                    "counts_toward_out_of_pocket"]  # fmt: skip
    list_filter = ["year"]
    search_fields = ["member__member_number", "member__last_name"]
    list_select_related = ["member"]

    @admin.display(description="member", ordering="member__member_number")
    def member_label(self, accumulator: PenaltyAccumulator) -> str:
        return _member_label(accumulator.member)


class UtilizationImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="First line: " + ",".join(services.IMPORT_COLUMNS) + " (dates YYYY-MM-DD).",
    )


@admin.register(UtilizationImport)
class UtilizationImportAdmin(AdvocacyViewAdmin):
    """Each CSV file of utilization events; add = upload one (utilization_import: a bad line is
    listed, the rest imported; a fact already recorded is a duplicate, never recorded twice)."""

    list_display = ["created_at", "file_name", "uploaded_by", "imported_count", "duplicate_count",
                    "rejected_count", "requirements_created"]  # fmt: skip
    list_filter = [("created_at", admin.DateFieldListFilter)]
    search_fields = ["file_name"]
    list_select_related = ["uploaded_by"]
    readonly_fields = ["file_name", "uploaded_by", "created_at", "imported_count", "duplicate_count",
                       "rejected_count", "requirements_created", "rejected_lines_table"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("advocacy.add_utilizationimport")

    @admin.display(description="rejected lines")
    def rejected_lines_table(self, batch: UtilizationImport) -> str:
        if not batch.rejected_lines:
            return "None"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>",
                                ((r.get("line"), r.get("error")) for r in batch.rejected_lines))  # fmt: skip
        return format_html("<table><tr><th>Line</th><th>Why</th></tr>{}</table>", rows)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = UtilizationImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.utilization_import(
                    actor=request.user, file_name=upload.name,
                    content=upload.read(IMPORT_MAX_BYTES + 1),
                )  # fmt: skip
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                messages.success(
                    request,
                    f"{batch.imported_count} events imported, {batch.duplicate_count} duplicates skipped, "
                    f"{batch.rejected_count} lines rejected, {batch.requirements_created} new requirement(s).",
                )
                return redirect(reverse("admin:advocacy_utilizationimport_change", args=[batch.pk]))
        context = {**self.admin_site.each_context(request), "form": form, "opts": self.model._meta,
                   "title": "Import utilization events", "columns": services.IMPORT_COLUMNS}  # fmt: skip
        return TemplateResponse(request, "admin/advocacy/utilization_import.html", context)


# --- Utilization events ---------------------------------------------------------------------


class UtilizationAddForm(_MemberByNumberForm):
    """Record one utilization fact for a member (by member number): utilization_record keeps it
    once and evaluates the member's trigger rules."""

    class Meta:
        model = UtilizationEvent
        fields = ["event_type", "occurred_on", "discharged_on", "condition", "provider_name",
                  "practitioner", "description"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            _dry_run(self, lambda: self.record(self.actor))
        return data

    def record(self, actor: Any) -> tuple[UtilizationEvent, list[CareCoordinationRequirement]]:
        data = self.cleaned_data
        assert self.member is not None
        return services.utilization_record(
            actor=actor, member=self.member, event_type=data["event_type"], occurred_on=data["occurred_on"],
            provider_name=data.get("provider_name") or "", discharged_on=data.get("discharged_on"),
            condition=data.get("condition") or "", practitioner=data.get("practitioner"),
            description=data.get("description") or "",
        )  # fmt: skip


@admin.register(UtilizationEvent)
class UtilizationEventAdmin(AdvocacyAdmin):
    list_display = ["occurred_on", "member_label", "event_type", "discharged_on", "inpatient_days",
                    "condition", "provider_name", "source", "utilization_import"]  # fmt: skip
    list_filter = ["event_type", "source", ("occurred_on", admin.DateFieldListFilter), "condition"]
    search_fields = ["member__member_number", "member__last_name", "provider_name"]
    date_hierarchy = "occurred_on"
    list_select_related = ["member", "utilization_import"]
    autocomplete_fields = ["practitioner"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a recorded fact is history: a wrong one is answered with a new record

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = UtilizationAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [(None, {"fields": ["member_number", *UtilizationAddForm.Meta.fields]})]
        return [(None, {"fields": ["member", "event_type", "occurred_on", "discharged_on", "condition",
                                   "provider_name", "practitioner", "description", "source",
                                   "utilization_import", "recorded_by", "created_at", "requirements_triggered"]})]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["requirements_triggered"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        event, created = form.record(request.user)
        if created:
            messages.warning(request, "Care coordination is now required: " + "; ".join(
                f"{r.get_reason_display()} (case {r.case.reference})" for r in created) + ".")  # fmt: skip
        obj.pk = event.pk
        obj.refresh_from_db()
        obj._state.adding = False

    @admin.display(description="member", ordering="member__member_number")
    def member_label(self, event: UtilizationEvent) -> str:
        return _member_label(event.member)

    @admin.display(description="inpatient days")
    def inpatient_days(self, event: UtilizationEvent) -> Any:
        return event.inpatient_days or "—"

    @admin.display(description="requirements it triggered")
    def requirements_triggered(self, event: UtilizationEvent) -> str:
        rows = [(_change_url(r), str(r)) for r in event.requirements.all()]
        return format_html_join(BR, '<a href="{}">{}</a>', rows) if rows else "None"


# --- Care-coordination requirements ---------------------------------------------------------


class NoticeInline(_ReadOnlyInline):
    model = RequirementNotice
    fields = [
        "letter_date",
        "response_due_on",
        "letter",
        "sha256",
        "rendered_at",
        "sent_on",
        "method",
        "sent_by",
    ]
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name_plural = "written notices"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("sent_by")

    @admin.display(description="letter")
    def letter(self, notice: RequirementNotice) -> str:
        if not notice.file:
            return "Being rendered…"
        return format_html(
            '<a href="{}">Letter (PDF)</a>', reverse("advocacy:notice-pdf", args=[notice.pk])
        )


class ExpenseInline(_ReadOnlyInline):
    model = RelatedExpense
    fields = [
        "service_date",
        "description",
        "code",
        "provider_name",
        "billed_amount",
        "plan_amount",
        "penalty_amount",
    ]
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name_plural = "related expenses (with the 40% benefit penalty where it applies)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("penalty")

    @admin.display(description="penalty")
    def penalty_amount(self, expense: RelatedExpense) -> Any:
        penalty = getattr(expense, "penalty", None)
        if penalty is None:
            return "—"
        return format_html(
            '<strong class="coop-alert">{} ({}%)</strong>', penalty.amount, penalty.percent
        )


class PlanInline(_ReadOnlyInline):
    model = TreatmentPlan
    fields = ["plan", "starts_on", "status", "review_interval_days", "requires_submission", "goals"]
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name_plural = "treatment plans"

    @admin.display(description="plan")
    def plan(self, plan: TreatmentPlan) -> str:
        return _link(plan)


@admin.register(CareCoordinationRequirement)
class CareCoordinationRequirementAdmin(AdvocacyViewAdmin):
    list_display = ["triggered_on", "member_label", "reason", "status", "response_due_on", "responded_on",
                    "penalty_since", "case_link"]  # fmt: skip
    list_filter = ["reason", "status", "member__state"]
    search_fields = ["member__member_number", "member__last_name", "case__id__exact"]
    date_hierarchy = "triggered_on"
    list_select_related = ["member", "case"]
    inlines = [NoticeInline, ExpenseInline, PlanInline]
    readonly_fields = ["member", "case_link", "reason", "status", "triggered_on", "triggering",
                                "response_due_on", "responded_on", "response_note", "penalty_percent",
                                "penalty_since", "penalty_total"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["request_notice"]

    @admin.display(description="member", ordering="member__member_number")
    def member_label(self, requirement: CareCoordinationRequirement) -> str:
        return _member_label(requirement.member)

    @admin.display(description="case", ordering="case_id")
    def case_link(self, requirement: CareCoordinationRequirement) -> str:
        return _link(requirement.case, requirement.case.reference)

    @admin.display(description="triggering events")
    def triggering(self, requirement: CareCoordinationRequirement) -> str:
        rows = [(_change_url(e), str(e), e.provider_name)
                for e in requirement.triggering_events.order_by("occurred_on", "id")]  # fmt: skip
        return format_html_join(BR, '<a href="{}">{}</a> · {}', rows) if rows else "None"

    @admin.display(description="penalties applied")
    def penalty_total(self, requirement: CareCoordinationRequirement) -> str:
        totals = requirement.penalty_lines.aggregate(total=Sum("amount"), n=Count("pk"))
        if not totals["n"]:
            return "None"
        return f"{totals['total']} on {totals['n']} expense line(s) (not counted toward deductibles or out-of-pocket limits)"

    @admin.action(description="Prepare the written notice (dated today)", permissions=["work"])
    def request_notice(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _each(request, queryset, "Notices prepared (the letters are being rendered)",
              lambda r: services.notice_request(requirement=r, actor=request.user))  # fmt: skip


class PlanReviewInline(_ReadOnlyInline):
    model = PlanReview
    fields = [
        "due_on",
        "status",
        "submission_received_on",
        "completed_on",
        "notes",
        "decided_by",
        "decided_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("decided_by")


@admin.register(TreatmentPlan)
class TreatmentPlanAdmin(AdvocacyViewAdmin):
    list_display = ["__str__", "case_link", "member_label", "status", "review_interval_days",
                    "requires_submission", "requirement"]  # fmt: skip
    list_filter = ["status", "requires_submission"]
    search_fields = ["case__member__member_number", "case__member__last_name", "case__id__exact"]
    list_select_related = ["case__member", "requirement"]
    inlines = [PlanReviewInline]
    readonly_fields = ["case_link", "requirement", "goals", "interventions", "practitioners",
                                "other_responsible", "starts_on", "review_interval_days",
                                "requires_submission", "status", "created_by", "created_at"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]

    @admin.display(description="case", ordering="case_id")
    def case_link(self, plan: TreatmentPlan) -> str:
        return _link(plan.case, plan.case.reference)

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, plan: TreatmentPlan) -> str:
        return _member_label(plan.case.member)

    @admin.display(description="responsible practitioners")
    def practitioners(self, plan: TreatmentPlan) -> str:
        return ", ".join(str(p) for p in plan.responsible_practitioners.all()) or "—"
