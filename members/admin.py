"""Admin for members, memberships, invoices and payments. Records are read-only here except
payments, which finance records (or imports from CSV) through members.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from cooperative.admin import AuditedReadAdmin, ReadOnlyAdmin
from cooperative.admin_lists import (
    LargeTableAdmin,
    choices_filter,
    exists_filter,
    matching_ids,
)
from cooperative.audit import audit_read
from cooperative.exceptions import ApplicationError
from cooperative.validators import served_state_choices

from . import services
from .forms import PaymentImportForm, PaymentReturnForm, RosterUploadForm, apply_service_errors
from .models import (
    AgeOutNotice,
    Consent,
    EmployerGroup,
    EmployerInvoice,
    Invoice,
    Member,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentReturnKind,
    PcpAssignment,
    PcpStandingIssue,
    Plan,
    RosterEntry,
    RosterUpload,
    RosterUploadStatus,
)


def _copy_saved(saved: Any, shown: Any) -> None:
    """The admin's confirmation and history name the object the service saved, not the one
    Django built from the form (the version number, the code as stored)."""
    for field in saved._meta.concrete_fields:
        setattr(shown, field.attname, getattr(saved, field.attname))


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ("plan", "employer_group", "start_date", "end_date", "status")
    readonly_fields = fields


class PcpAssignmentInline(admin.TabularInline):
    model = PcpAssignment
    extra = 0
    can_delete = False
    fields = ("practitioner", "practitioner_role", "effective_from", "effective_to")
    readonly_fields = fields


class ConsentInline(admin.TabularInline):
    model = Consent
    extra = 0
    can_delete = False
    fields = ("kind", "text_version", "accepted_at")
    readonly_fields = fields


class NeedsNewPcpFilter(admin.SimpleListFilter):
    """Members whose PCP can no longer serve them and who have not chosen a new one."""

    title = "needs a new PCP"
    parameter_name = "needs_new_pcp"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        open_issues = PcpStandingIssue.objects.filter(resolved_on__isnull=True).values("member_id")
        if self.value() == "yes":
            return queryset.filter(pk__in=open_issues)
        if self.value() == "no":
            return queryset.exclude(pk__in=open_issues)
        return queryset


# What a member is searched by, here and from their invoices and payments: each field has a
# trigram index on UPPER(field) (migration 0006), which is what `icontains` asks PostgreSQL.
MEMBER_SEARCH_FIELDS = ("member_number", "first_name", "last_name", "email")


def _plan_codes() -> list[tuple[str, str]]:
    return [(code, code) for code in Plan.objects.order_by("code").values_list("code", flat=True).distinct()]  # fmt: skip


def _employer_groups() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in EmployerGroup.objects.order_by("name").values_list("pk", "name")]  # fmt: skip


def _membership_filter(title: str, parameter: str, choices: Any, lookup: str) -> Any:
    return exists_filter(title, parameter, choices, Membership.objects.all, "member", lookup)


class MemberSearchAdmin(LargeTableAdmin):
    """Lists of rows that belong to members (invoices, payments): a search finds the people
    first, on their own table's indexes, then keeps the rows of those people
    (`member_search_paths`) or whose own `own_search_fields` match."""

    member_search_paths: tuple[str, ...] = ("member",)
    own_search_fields: tuple[str, ...] = ()
    employer_search_paths: tuple[str, ...] = ()
    search_fields = ("member__member_number",)  # shows the search box; the search is below

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        if not search_term.strip():
            return queryset, False
        people = matching_ids(Member.objects.all(), search_term, MEMBER_SEARCH_FIELDS)
        found = Q()
        for relation in self.member_search_paths:
            found |= Q(**{f"{relation}__in": people})
        if self.own_search_fields:
            own = matching_ids(self.model.objects.all(), search_term, self.own_search_fields)
            found |= Q(pk__in=own)
        if self.employer_search_paths:
            groups = matching_ids(
                EmployerGroup.objects.all(), search_term, ("employer_code", "name")
            )
            for relation in self.employer_search_paths:
                found |= Q(**{f"{relation}__in": groups})
        return queryset.filter(found), False


@admin.register(Member)
class MemberAdmin(AuditedReadAdmin, ReadOnlyAdmin, LargeTableAdmin):
    list_display = ["member_number", "last_name", "first_name", "email", "state", "created_at"]
    # Choices come from code, to-many filters are EXISTS (cooperative.admin_lists); the query
    # parameters are Django's own names, so links to a filtered list keep working.
    list_filter = [
        NeedsNewPcpFilter,
        choices_filter("state", "state", served_state_choices, "state"),
        _membership_filter("membership status", "memberships__status__exact",
                           lambda: MembershipStatus.choices, "status"),
        _membership_filter("plan", "memberships__plan__code", _plan_codes, "plan__code"),
        _membership_filter("employer group", "memberships__employer_group__id__exact",
                           _employer_groups, "employer_group_id"),
    ]  # fmt: skip
    search_fields = list(MEMBER_SEARCH_FIELDS)
    inlines = [MembershipInline, PcpAssignmentInline, ConsentInline]


class MembershipEventInline(admin.TabularInline):
    model = MembershipEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "from_status", "to_status", "reason", "actor")
    readonly_fields = fields


@admin.register(Membership)
class MembershipAdmin(AuditedReadAdmin, ReadOnlyAdmin, MemberSearchAdmin):
    inlines = [MembershipEventInline]
    list_display = ["member", "plan", "employer_group", "start_date", "end_date", "status"]
    list_filter = [
        "status",
        choices_filter("plan", "plan__code", _plan_codes, "plan__code"),
        choices_filter("employer group", "employer_group__id__exact", _employer_groups,
                       "employer_group_id"),
    ]  # fmt: skip
    list_select_related = ["member", "plan", "employer_group"]


class PlanAdminForm(forms.ModelForm):
    """A new price is a new version of a plan from the first of a future month (members move
    to it on that date); the service numbers the version and checks the dates."""

    class Meta:
        model = Plan
        fields = ["code", "name", "advocacy_portion", "network_portion", "outreach_portion",
                  "effective_from"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                services.plan_version_create(actor=None, **data)
                transaction.set_rollback(True)  # a dry run: save_model writes it
        except ApplicationError as error:
            for field, errors in (error.errors or {}).items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    form = PlanAdminForm
    list_display = ["code", "version", "name", "advocacy_portion", "network_portion",
                    "outreach_portion", "effective_from", "is_open_for_enrollment"]  # fmt: skip
    list_filter = ["code", "is_open_for_enrollment"]
    search_fields = ["code", "name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A version is never edited (invoices quote it): a new price is a new version.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # memberships and invoices point at every version

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*PlanAdminForm.Meta.fields, "version"] if obj is not None else []

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        latest = Plan.objects.order_by("code", "-version").first()
        if latest is None:
            return {}
        return {"code": latest.code, "name": latest.name, "advocacy_portion": latest.advocacy_portion,
                "network_portion": latest.network_portion, "outreach_portion": latest.outreach_portion}  # fmt: skip

    def save_model(self, request: HttpRequest, obj: Plan, form: Any, change: bool) -> None:
        plan = services.plan_version_create(actor=request.user, **form.cleaned_data)
        _copy_saved(plan, obj)


class EmployerGroupAdminForm(forms.ModelForm):
    """The service checks the group (EIN, unique code, contribution range) and audits it."""

    class Meta:
        model = EmployerGroup
        fields = ["name", "ein", "contact_name", "contact_email", "state", "employer_code",
                  "contribution_kind", "contribution_value", "status"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            with transaction.atomic():
                services.employer_group_save(
                    data=data, actor=None, group=self.instance if self.instance.pk else None
                )
                transaction.set_rollback(True)  # a dry run: save_model writes it
        except ApplicationError as error:
            for field, errors in (error.errors or {}).items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(EmployerGroup)
class EmployerGroupAdmin(admin.ModelAdmin):
    form = EmployerGroupAdminForm
    list_display = ["name", "employer_code", "state", "contribution_kind", "contribution_value",
                    "status", "open_memberships"]  # fmt: skip
    list_filter = ["status", "state", "contribution_kind"]
    search_fields = ["name", "employer_code", "ein"]
    change_form_template = "admin/members/employergroup/change_form.html"

    def get_queryset(self, request: HttpRequest) -> Any:
        from django.db.models import Count, Q

        return (
            super()
            .get_queryset(request)
            .annotate(
                open_count=Count(
                    "memberships", filter=~Q(memberships__status="cancelled"), distinct=True
                )
            )
        )

    @admin.display(description="Open memberships", ordering="open_count")
    def open_memberships(self, obj: EmployerGroup) -> int:
        return obj.open_count  # type: ignore[attr-defined]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # invoices and payments depend on it: end it instead (status)

    def save_model(self, request: HttpRequest, obj: EmployerGroup, form: Any, change: bool) -> None:
        group = services.employer_group_save(
            data=form.cleaned_data, actor=request.user, group=obj if change else None
        )
        _copy_saved(group, obj)


class AllocationInline(admin.TabularInline):
    model = PaymentAllocation
    extra = 0
    can_delete = False
    fields = ("payment", "invoice", "employer_invoice", "amount", "created_at", "reversed_at")
    readonly_fields = fields
    fk_name = "invoice"


@admin.register(Invoice)
class InvoiceAdmin(AuditedReadAdmin, ReadOnlyAdmin, MemberSearchAdmin):
    list_display = ["period", "member", "bill_to", "practitioner", "age_band", "amount", "employer_share",
                    "member_amount", "member_paid", "status", "settled_at"]  # fmt: skip
    list_filter = [
        "status",
        "period",
        choices_filter("plan", "membership__plan__code", _plan_codes, "membership__plan__code"),
        choices_filter("employer group", "membership__employer_group__id__exact",
                       _employer_groups, "membership__employer_group_id"),
        choices_filter("state", "member__state", served_state_choices, "member__state"),
    ]  # fmt: skip
    member_search_paths = ("member", "bill_to")
    ordering = ["-period", "-pk"]  # index invoice_period_pk_idx, read backwards
    list_select_related = ["member", "bill_to", "practitioner"]
    inlines = [AllocationInline]


@admin.register(EmployerInvoice)
class EmployerInvoiceAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    list_display = ["period", "employer_group", "amount", "amount_paid", "paid_at"]
    list_filter = ["period", "employer_group"]
    search_fields = ["employer_group__name", "employer_group__employer_code"]
    list_select_related = ["employer_group"]


class PaymentAdminForm(forms.ModelForm):
    """Finance records a payment: the service validates it, applies it and audits it."""

    class Meta:
        model = Payment
        fields = ["reference", "received_on", "member", "employer_group", "amount", "note"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            services.payment_validate(
                reference=data.get("reference", ""), received_on=data.get("received_on"),
                amount=data.get("amount"), member=data.get("member"), employer_group=data.get("employer_group"), check_duplicate=True,
            )  # fmt: skip
        except ApplicationError as error:
            for field, errors in (error.errors or {}).items():
                self.add_error(field if field in self.fields else None, errors)
        return data


@admin.register(Payment)
class PaymentAdmin(AuditedReadAdmin, MemberSearchAdmin):
    form = PaymentAdminForm
    list_display = [
        "reference",
        "received_on",
        "member",
        "employer_group",
        "amount",
        "unapplied",
        "source",
        "return_kind",
    ]
    list_filter = ["source", "return_kind", "received_on", "employer_group"]
    change_form_template = "admin/members/payment/change_form.html"
    own_search_fields = ("reference",)
    employer_search_paths = ("employer_group",)
    ordering = ["-received_on", "-pk"]  # index payment_received_pk_idx, read backwards
    list_select_related = ["member", "employer_group"]
    autocomplete_fields = ["member", "employer_group"]
    change_list_template = "admin/members/payment/change_list.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A recorded payment is never edited: the page shows it read-only.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [
                *PaymentAdminForm.Meta.fields,
                "unapplied",
                "source",
                "payment_import",
                "recorded_by",
                "return_kind",
                "returned_on",
                "return_reason",
                "returned_by",
            ]
        return []

    def save_model(self, request: HttpRequest, obj: Payment, form: Any, change: bool) -> None:
        data = form.cleaned_data
        payment = services.payment_record(
            reference=data["reference"], received_on=data["received_on"], amount=data["amount"],
            member=data.get("member"), employer_group=data.get("employer_group"), actor=request.user,
            note=data.get("note", ""),
        )  # fmt: skip
        obj.pk = payment.pk
        obj.unapplied = payment.unapplied

    def get_urls(self) -> list[Any]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="members_payment_import",
            ),
            path(
                "<int:pk>/return/",
                self.admin_site.admin_view(self.return_view),
                name="members_payment_return",
            ),
            *super().get_urls(),
        ]

    def return_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Record that a payment went back (returned by the bank or refunded): the months it
        paid become unpaid; a provider already paid for one gets a reversal next month."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(
            Payment.objects.select_related("member", "employer_group"), pk=pk
        )
        form = PaymentReturnForm(request.POST or None)
        if request.method == "POST" and form.is_valid() and not payment.return_kind:
            try:
                services.payment_return(
                    payment=payment, kind=form.cleaned_data["return_kind"],
                    returned_on=form.cleaned_data["returned_on"],
                    reason=form.cleaned_data["return_reason"], actor=request.user,
                )  # fmt: skip
            except ApplicationError as error:
                apply_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"Payment {payment.reference} recorded as "
                    f"{PaymentReturnKind(form.cleaned_data['return_kind']).label.lower()}: "
                    "the months it paid are unpaid again.",
                )
                return redirect(reverse("admin:members_payment_change", args=[payment.pk]))
        allocations = list(
            payment.allocations.filter(reversed_at__isnull=True).select_related(
                "invoice__member", "employer_invoice"
            )
        )
        context = {
            **self.admin_site.each_context(request), "form": form, "payment": payment,
            "allocations": allocations, "title": f"Record a return or refund of payment {payment.reference}",
            "opts": self.model._meta,
        }  # fmt: skip
        return TemplateResponse(request, "admin/members/payment/return.html", context)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV of payments; the summary lists what was applied, skipped and rejected."""
        if not self.has_add_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        form = PaymentImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = services.payments_import_csv(
                    file_name=upload.name,
                    content=upload.read(services.IMPORT_MAX_BYTES + 1),
                    actor=request.user,
                )
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                messages.success(
                    request,
                    f"{batch.applied_count} payments applied, "
                    + (f"{batch.returned_count} returned, " if batch.returned_count else "")
                    + f"{batch.duplicate_count} duplicates skipped, "
                    f"{batch.rejected_count} lines rejected.",
                )
                return redirect(reverse("admin:members_paymentimport_change", args=[batch.pk]))
        context = {**self.admin_site.each_context(request), "form": form, "title": "Import payments",
                   "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/members/payment/import.html", context)


@admin.register(PaymentImport)
class PaymentImportAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "file_name", "uploaded_by", "applied_count", "returned_count", "duplicate_count", "rejected_count",
                    "total_applied"]  # fmt: skip
    fields = readonly_fields = ("file_name", "sha256", "uploaded_by", "created_at", "applied_count",
                                "returned_count", "duplicate_count", "rejected_count", "total_applied", "rejected_lines_table")  # fmt: skip

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Rejected lines")
    def rejected_lines_table(self, obj: PaymentImport) -> str:
        from django.utils.html import format_html, format_html_join

        if not obj.rejected_lines:
            return "None"
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((r["line"], r["reference"], r["reason"]) for r in obj.rejected_lines),
        )  # fmt: skip
        return format_html(
            "<table><tr><th>Line</th><th>Reference</th><th>Reason</th></tr>{}</table>", rows
        )


@admin.register(RosterEntry)
class RosterEntryAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    list_display = ["employee_id", "first_name", "last_name", "employer_group", "plan_code",
                    "member", "status", "invited_at"]  # fmt: skip
    list_filter = ["status", "employer_group"]
    search_fields = ["employee_id", "last_name", "email", "member__member_number"]
    list_select_related = ["employer_group", "member"]


@admin.register(RosterUpload)
class RosterUploadAdmin(AuditedReadAdmin):
    """Upload an employer roster → preview of adds, changes, terminations and rejected lines →
    Apply (or Discard). Nothing about members changes before Apply."""

    list_display = ["created_at", "employer_group", "file_name", "status", "uploaded_by", "summary"]
    list_filter = ["status", "employer_group"]
    list_select_related = ["employer_group", "uploaded_by"]
    change_form_template = "admin/members/rosterupload/preview.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # decided with Apply / Discard, never edited

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", view(self.decide_view), name="members_rosterupload_decide"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """Choose the employer group and the file; the next page is the preview."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        initial = {"employer_group": request.GET.get("employer_group")}
        form = RosterUploadForm(request.POST or None, request.FILES or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                roster = services.roster_upload_preview(
                    employer_group=form.cleaned_data["employer_group"], file_name=upload.name,
                    content=upload.read(services.ROSTER_MAX_BYTES + 1), actor=request.user,
                )  # fmt: skip
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                return redirect(reverse("admin:members_rosterupload_change", args=[roster.pk]))
        context = {**self.admin_site.each_context(request), "form": form,
                   "title": "Upload an employer roster", "opts": self.model._meta}  # fmt: skip
        return TemplateResponse(request, "admin/members/rosterupload/upload.html", context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: Any = None) -> HttpResponse:  # fmt: skip
        if not self.has_view_permission(request):
            raise PermissionDenied
        roster = get_object_or_404(
            RosterUpload.objects.select_related("employer_group", "uploaded_by", "decided_by"),
            pk=object_id,
        )
        audit_read(request, obj=roster, detail="admin roster preview")  # its rows are employees
        context = {
            **self.admin_site.each_context(request), "roster": roster, "preview": roster.preview,
            "title": f"Roster {roster.file_name} — {roster.employer_group.name}",
            "opts": self.model._meta, "can_decide": self.has_add_permission(request)
            and roster.status == RosterUploadStatus.PREVIEWED,
        }  # fmt: skip
        return TemplateResponse(request, self.change_form_template, context)

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if request.method != "POST" or not self.has_add_permission(request):
            raise PermissionDenied
        roster = get_object_or_404(RosterUpload, pk=pk)
        try:
            if request.POST.get("decision") == "apply":
                roster = services.roster_upload_apply(upload=roster, actor=request.user)
                messages.success(request, f"Roster applied: {roster.summary}.")
            else:
                services.roster_upload_discard(upload=roster, actor=request.user)
                messages.success(request, "Roster discarded: nothing changed.")
        except ApplicationError as error:
            messages.error(request, error.message)
        return redirect(reverse("admin:members_rosterupload_change", args=[pk]))


class OpenIssueFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "open"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Still needing a new PCP"), ("no", "Resolved")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        if self.value() == "yes":
            return queryset.filter(resolved_on__isnull=True)
        if self.value() == "no":
            return queryset.filter(resolved_on__isnull=False)
        return queryset


@admin.register(PcpStandingIssue)
class PcpStandingIssueAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    """Members needing a new PCP: found by the standing review; resolved when the member chooses
    a new PCP, the PCP is back in good standing or the membership ends. Staff phone the member
    (the portal and the email already told them)."""

    list_display = ["member_link", "member_phone", "practitioner", "reason", "effective_on",
                    "notified_at", "resolved_on", "resolution"]  # fmt: skip
    list_filter = [
        OpenIssueFilter,
        "kind",
        "resolution",
        ("effective_on", admin.DateFieldListFilter),
    ]
    search_fields = ["member__member_number", "member__last_name", "practitioner__last_name",
                     "practitioner__npi"]  # fmt: skip
    list_select_related = ["member", "practitioner"]
    fields = readonly_fields = ("member", "assignment", "practitioner", "kind", "reason",
                                "effective_on", "notified_at", "resolved_on", "resolution")  # fmt: skip

    @admin.display(description="member", ordering="member__last_name")
    def member_link(self, obj: PcpStandingIssue) -> str:
        return f"{obj.member.last_name}, {obj.member.first_name} ({obj.member.member_number})"

    @admin.display(description="phone")
    def member_phone(self, obj: PcpStandingIssue) -> str:
        return obj.member.phone

    def get_ordering(self, request: HttpRequest) -> Any:
        # The members still needing a new PCP first, the most recent first.
        return [F("resolved_on").asc(nulls_first=True), "-effective_on", "pk"]


@admin.register(AgeOutNotice)
class AgeOutNoticeAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    """Members told they turn 65: the day the membership ends (the month before the birthday)."""

    list_display = ["member", "birthday_65", "ends_on", "notified_at"]
    list_filter = [("ends_on", admin.DateFieldListFilter)]
    search_fields = ["member__member_number", "member__last_name"]
    list_select_related = ["member"]
    fields = readonly_fields = ("member", "birthday_65", "ends_on", "notified_at")
