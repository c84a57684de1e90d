"""The advocacy admin: cases with their timeline, priority targets, required care coordination,
claim disputes, bill reviews and referrals.

Every write goes through advocacy.services (the case form, its inlines and the actions alike), so
the admin, the workspace and the API share one rule book: a service's refusal shows next to the
field (the services run once as a rolled-back dry run while the form is validated) and nothing is
written. Nothing here is ever deleted (history is kept), notes and events are never edited, and
every staff view of a member's record writes an audit row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from cooperative.admin import ReadOnlyAdmin
from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError
from cooperative.models import AuditAction
from cooperative.uploads import attachment_check
from members import selectors as member_selectors
from members.models import Member

from . import selectors, services
from .models import (
    CASE_TRANSITIONS,
    OPEN_CASE_STATUSES,
    PRIORITY_ORDER,
    WRITABLE_CASE_STATUSES,
    BillLine,
    BillReview,
    BillReviewStatus,
    CareCoordinationRequirement,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseNote,
    CasePolicyLink,
    CasePriority,
    CaseStatus,
    CaseTask,
    ClaimDispute,
    ContactDirection,
    PenaltyAccumulator,
    PenaltyLine,
    PlanReview,
    PriorityTarget,
    Referral,
    ReferralStatus,
    RelatedExpense,
    RequirementNotice,
    TreatmentPlan,
    UtilizationEvent,
    UtilizationImport,
)
from .permissions import can_work_cases
from .services.coordination import IMPORT_MAX_BYTES

RED = "#b42318"
BR = mark_safe("<br>")  # noqa: S308 (a constant)
SAVINGS_FIELDS = list(services.SAVINGS_FIELDS)


# --- Helpers ------------------------------------------------------------------------------


def _change_url(obj: Any) -> str:
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def _link(obj: Any, label: Any = None) -> str:
    if obj is None:
        return "—"
    return format_html('<a href="{}">{}</a>', _change_url(obj), label or str(obj))


def _member_label(member: Member) -> str:
    return f"{member.member_number} · {member.last_name}, {member.first_name}"


def _service_errors_to_form(form: forms.BaseForm, error: ApplicationError, aliases: dict[str, str] | None = None) -> None:  # fmt: skip
    """A service's refusal on the form: its message on top, its field messages next to the fields."""
    form.add_error(None, error.message)
    for field, field_messages in (error.errors or {}).items():
        name = (aliases or {}).get(field, field)
        if name in form.fields and name not in form.errors:
            form.add_error(name, field_messages)


def _dry_run(form: forms.BaseForm, run: Callable[[], Any], aliases: dict[str, str] | None = None) -> None:  # fmt: skip
    """Run the services in a transaction that is rolled back: a refusal becomes a form error and
    nothing is written until save_model (or save_formset) runs them for real."""
    try:
        with transaction.atomic():
            run()
            transaction.set_rollback(True)
    except ApplicationError as error:
        _service_errors_to_form(form, error, aliases)


def _each(request: HttpRequest, objects: Any, done_label: str, run: Callable[[Any], Any]) -> None:
    """An admin action on each selected record in its own transaction (in a fixed order): one
    refusal is reported with the record's name and does not undo the others."""
    done = 0
    for obj in objects.order_by("pk"):
        try:
            with transaction.atomic():
                run(obj)
        except ApplicationError as error:
            name = obj.reference if isinstance(obj, Case) else str(obj)
            messages.error(request, f"{name}: {error.message}")
        else:
            done += 1
    if done:
        messages.success(request, f"{done_label}: {done} record(s).")


# --- Bases: no deletes, audited views -----------------------------------------------------


class AdvocacyAdmin(admin.ModelAdmin):
    """Nothing of advocacy is ever deleted (history is kept), and every staff view of one of its
    records (a member's case, utilization, penalties) writes an audit row."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_work_permission(self, request: HttpRequest) -> bool:
        """Actions that call advocacy services: advocates (the services check it again)."""
        return can_work_cases(request.user)

    def audit_view(self, request: HttpRequest, obj: Any) -> None:
        audit_record(
            actor=request.user, action=AuditAction.VIEW, obj=obj, request=request, detail="admin"
        )

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_or_change_permission(request, obj):
            self.audit_view(request, obj)
        return super().change_view(request, object_id, form_url, extra_context)


class AdvocacyViewAdmin(AdvocacyAdmin, ReadOnlyAdmin):
    """Listed and shown here; changed only through the workspace's services (or an action)."""


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- Filters ------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "due date"
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Open, on time")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_CASE_STATUSES, due_on__lt=today)
        if self.value() == "no":
            return queryset.filter(status__in=OPEN_CASE_STATUSES, due_on__gte=today)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("me", "Assigned to me"), ("none", "Unassigned")] + [
            (str(u.pk), u.get_full_name() or u.get_username()) for u in selectors.advocates()
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user.pk)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


class QualificationFilter(admin.SimpleListFilter):
    """Disputes that qualify for advocacy, as the workspace computes it (never a stored flag)."""

    title = "qualifies for advocacy"
    parameter_name = "qualification"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("high_dollar", "High-dollar"), ("systemic", "Systemic"),
                ("unresponsive", "Payer unresponsive")]  # fmt: skip

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value not in selectors.QUALIFICATIONS:
            return queryset
        return queryset.filter(pk__in=selectors.disputes_list(qualification=value).values("pk"))


# --- Case forms -----------------------------------------------------------------------------


class _MemberByNumberForm(forms.ModelForm):
    """An admin add form that names its member by member number (as on the card)."""

    member_number = forms.CharField(max_length=16, help_text="As on the membership card.")
    actor: Any = None  # the signed-in user, set per request by the admin's get_form
    member: Member | None = None

    def clean_member_number(self) -> str:
        number = self.cleaned_data["member_number"].strip()
        self.member = member_selectors.member_by_number(number)
        if self.member is None:
            raise ValidationError("We don't know this member number.")
        return self.member.member_number


class CaseAddForm(_MemberByNumberForm):
    """Open a case for a member (by member number): case_open sets its due date and writes its
    first event."""

    note = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A first note (optional; notes are never edited afterwards).",
    )

    class Meta:
        model = Case
        fields = ["case_type", "priority", "source", "summary", "practitioner", "clinic", "payer",
                  "assignee"]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            _dry_run(self, lambda: self.open_case(self.actor))
        return data

    def open_case(self, actor: Any) -> Case:
        data = self.cleaned_data
        return services.case_open(
            actor=actor, member=self.member, case_type=data["case_type"], summary=data["summary"],
            priority=data["priority"], source=data["source"], practitioner=data.get("practitioner"),
            clinic=data.get("clinic"), payer=data.get("payer"), assignee=data.get("assignee"),
            note=data.get("note") or "",
        )  # fmt: skip


class CaseChangeForm(forms.ModelForm):
    """A case's editable facts, each change through its service: case_update (priority, summary,
    parties), case_set_savings, case_assign and case_transition (the "move to" field)."""

    move_to = forms.ChoiceField(
        required=False,
        label="Move to",
        choices=[("", "— keep the status —"), *CaseStatus.choices],
        help_text="Only the moves allowed from the current status are offered.",
    )
    reason = forms.CharField(
        required=False,
        max_length=500,
        help_text="Why (required to reopen a case or to close an unresolved one; kept on the events).",
    )
    resolution_text = forms.CharField(
        required=False,
        label="Resolution",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="When resolving: what was done for the member.",
    )
    actor: Any = None

    class Meta:
        model = Case
        fields = [
            "summary",
            "priority",
            "assignee",
            "practitioner",
            "clinic",
            "payer",
            *SAVINGS_FIELDS,
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = CASE_TRANSITIONS.get(self.instance.status, set())
        cast(forms.ChoiceField, self.fields["move_to"]).choices = [
            ("", "— keep the status —"),
            *((value, label) for value, label in CaseStatus.choices if value in allowed),
        ]
        assignee = self.fields.get("assignee")
        if assignee is not None and self.instance.assignee_id:
            # The current assignee stays selectable even if no longer an advocate, so that saving
            # another change does not silently unassign the case.
            advocate_ids = selectors.advocates().values("pk")
            cast(forms.ModelChoiceField, assignee).queryset = (
                get_user_model()
                .objects.filter(Q(pk__in=advocate_ids) | Q(pk=self.instance.assignee_id))
                .order_by("first_name", "last_name", "username")
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and self.has_changed():
            _dry_run(
                self,
                lambda: case_changes_apply(self.instance, self.actor, data, self.changed_data),
                {"status": "move_to", "to_status": "move_to", "resolution": "resolution_text"},
            )
        return data


def case_changes_apply(case: Case, actor: Any, data: dict[str, Any], changed: list[str]) -> Case:
    """The case form's changes, each through its service, in an order the status machine accepts:
    a reopen first (a closed case takes no change), any other move last (after the assignee)."""
    move_to = data.get("move_to") or ""
    reason = (data.get("reason") or "").strip()

    def move(current: Case) -> Case:
        return services.case_transition(case=current, actor=actor, to_status=move_to, reason=reason,
                                        resolution=data.get("resolution_text") or "")  # fmt: skip

    if move_to == CaseStatus.REOPENED:
        case = move(case)
    update = {
        n: data[n]
        for n in ("priority", "summary", "practitioner", "clinic", "payer")
        if n in changed
    }
    if update:
        case = services.case_update(case=case, actor=actor, reason=reason, **update)
    amounts = {n: data[n] for n in SAVINGS_FIELDS if n in changed}
    if amounts:
        case = services.case_set_savings(case=case, actor=actor, reason=reason, **amounts)
    if "assignee" in changed:
        case = services.case_assign(case=case, actor=actor, assignee=data.get("assignee"))
    if move_to and move_to != CaseStatus.REOPENED:
        case = move(case)
    return case


# --- Case timeline inlines: recorded rows read-only, new rows through their service --------


def _note_add(*, case: Case, actor: Any, data: dict[str, Any]) -> Any:
    return services.note_add(case=case, actor=actor, body=data.get("body") or "",
                             is_shared=bool(data.get("is_shared")), corrects=data.get("corrects"))  # fmt: skip


def _contact_log(*, case: Case, actor: Any, data: dict[str, Any]) -> Any:
    return services.contact_log(
        case=case, actor=actor, channel=data["channel"], party=data["party"],
        with_whom=data.get("with_whom") or "", outcome=data.get("outcome") or "",
        occurred_at=data.get("occurred_at"), direction=data.get("direction") or ContactDirection.OUTBOUND,
    )  # fmt: skip


def _task_add(*, case: Case, actor: Any, data: dict[str, Any]) -> Any:
    return services.task_add(case=case, actor=actor, title=data.get("title") or "",
                             due_on=data["due_on"], assignee=data.get("assignee"))  # fmt: skip


def _policy_link_add(*, case: Case, actor: Any, data: dict[str, Any]) -> Any:
    return services.policy_link_add(case=case, actor=actor, policy_update=data["policy_update"],
                                    note=data.get("note") or "")  # fmt: skip


def _attachment_add(*, case: Case, actor: Any, data: dict[str, Any]) -> Any:
    return services.attachment_add(case=case, actor=actor, upload=data["file"],
                                   description=data.get("description") or "")  # fmt: skip


TIMELINE_ADD: dict[type, Callable[..., Any]] = {
    CaseNote: _note_add,
    CaseContact: _contact_log,
    CaseTask: _task_add,
    CasePolicyLink: _policy_link_add,
    CaseAttachment: _attachment_add,
}


class TimelineRowForm(forms.ModelForm):
    """A new row of a case's timeline, checked by its service in a rolled-back dry run."""

    actor: Any = None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors and self.has_changed():
            case = Case.objects.get(pk=self.instance.case_id)
            add = TIMELINE_ADD[type(self.instance)]
            _dry_run(self, lambda: add(case=case, actor=self.actor, data=data))
        return data


class AttachmentUploadForm(forms.ModelForm):
    """Checked by content and size here; stored by attachment_add (no dry run: it writes a file)."""

    class Meta:
        model = CaseAttachment
        fields = ["description", "file"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("file") is not None:
            try:
                attachment_check(data["file"])
            except ApplicationError as error:
                self.add_error("file", error.message)
        return data


class _TimelineInline(admin.TabularInline):
    """Recorded rows are history (shown, never changed or deleted); a new row is added through its
    service while the case is not closed."""

    extra = 0
    can_delete = False
    form: type[forms.ModelForm] = TimelineRowForm

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (
            obj is not None
            and obj.status in WRITABLE_CASE_STATUSES
            and super().has_add_permission(request, obj)
        )

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        formset.form.actor = request.user  # type: ignore[attr-defined]
        return formset

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assignee":
            kwargs["queryset"] = selectors.advocates()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CaseNoteInline(_TimelineInline):
    """Notes are append-only: a correction is a new note naming the one it corrects."""

    model = CaseNote
    extra = 1
    fields = ["created_at", "author", "body", "is_shared", "corrects"]
    readonly_fields = ["created_at", "author"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 60})}
    }
    verbose_name = "note"
    verbose_name_plural = "notes (append-only: a correction is a new note)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("author", "corrects")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None and "corrects" in formset.form.base_fields:
            formset.form.base_fields["corrects"].queryset = CaseNote.objects.filter(case=obj)
        return formset


class CaseContactInline(_TimelineInline):
    model = CaseContact
    fields = ["occurred_at", "channel", "direction", "party", "with_whom", "outcome", "logged_by"]
    readonly_fields = ["logged_by"]
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}
    }
    verbose_name_plural = "contacts (calls, emails, letters)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("logged_by")


class CaseTaskInline(_TimelineInline):
    model = CaseTask
    fields = ["title", "due_on", "assignee", "status", "completed_at", "created_by"]
    readonly_fields = ["status", "completed_at", "created_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("assignee", "created_by")


class CasePolicyLinkInline(_TimelineInline):
    model = CasePolicyLink
    fields = ["policy_update", "note", "linked_by", "linked_at"]
    readonly_fields = ["linked_by", "linked_at"]
    autocomplete_fields = ["policy_update"]
    verbose_name_plural = "payer policy updates"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("policy_update__payer", "linked_by")


class CaseAttachmentInline(_ReadOnlyInline):
    """The documents on file, each behind the workspace's audited download (never a public URL)."""

    model = CaseAttachment
    fields = [
        "description",
        "document",
        "content_type",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name_plural = "documents on file"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="document")
    def document(self, attachment: CaseAttachment) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("advocacy:attachment", args=[attachment.pk]),
            attachment.original_name,
        )

    @admin.display(description="size")
    def size(self, attachment: CaseAttachment) -> str:
        return f"{max(1, attachment.size_bytes // 1024)} KB"


class CaseAttachmentUploadInline(_TimelineInline):
    model = CaseAttachment
    form = AttachmentUploadForm
    fields = ["description", "file"]
    verbose_name = "document to attach"
    verbose_name_plural = "attach documents (PDF, PNG or JPEG)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).none()


class CaseEventInline(_ReadOnlyInline):
    model = CaseEvent
    fields = ["occurred_at", "kind", "from_value", "to_value", "reason", "actor"]
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name_plural = "history (events)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("actor")


# --- Cases ----------------------------------------------------------------------------------


@admin.register(Case)
class CaseAdmin(AdvocacyAdmin):
    list_display = ["reference", "member_label", "case_type", "priority", "status", "assignee",
                    "due", "opened_at"]  # fmt: skip
    list_display_links = ["reference", "member_label"]
    list_filter = [
        "status",
        "case_type",
        "priority",
        AssigneeFilter,
        OverdueFilter,
        "member__state",
        "source",
    ]
    search_fields = ["member__member_number", "member__last_name", "summary", "id__exact"]
    search_help_text = (
        "Member number, member's last name, summary, or the case number (C-000123 or 123)."
    )
    date_hierarchy = "opened_at"
    list_select_related = ["member", "assignee"]
    list_per_page = 50
    autocomplete_fields = ["practitioner", "clinic", "payer"]
    actions = ["assign_to_me", "move_to_in_progress", "resolve", "clear_flag"]
    change_readonly = ["reference", "member_summary", "case_type", "source", "status", "due_display",
                       "flag_reason", "opened_at", "opened_by", "resolved_at", "closed_at",
                       "resolution", "related_records"]  # fmt: skip
    inlines = [CaseNoteInline, CaseContactInline, CaseTaskInline, CaseAttachmentInline,
               CaseAttachmentUploadInline, CasePolicyLinkInline, CaseEventInline]  # fmt: skip

    # -- forms

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = CaseAddForm if obj is None else CaseChangeForm
        form = super().get_form(request, obj, change=change, **kwargs)
        form.actor = request.user  # type: ignore[attr-defined]
        return form

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return [
                (None, {"fields": ["member_number", "case_type", "priority", "source", "summary",
                                   "assignee", "note"]}),
                ("Parties", {"fields": ["practitioner", "clinic", "payer"]}),
            ]  # fmt: skip
        status = ["status", "due_display", "priority", "assignee"]
        if self.has_change_permission(request, obj):
            status += ["move_to", "reason", "resolution_text"]
        return [
            (None, {"fields": ["reference", "member_summary", "case_type", "source", "summary"]}),
            ("Status", {"fields": [*status, "flag_reason"]}),
            (
                "Dates",
                {"fields": ["opened_at", "opened_by", "resolved_at", "closed_at", "resolution"]},
            ),
            ("Parties", {"fields": ["practitioner", "clinic", "payer"]}),
            ("Savings", {"fields": SAVINGS_FIELDS}),
            ("Related records", {"fields": ["related_records"]}),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        fixed = list(self.change_readonly)
        if obj.status not in WRITABLE_CASE_STATUSES:  # closed: reopen it first
            fixed += [
                "summary",
                "priority",
                "assignee",
                "practitioner",
                "clinic",
                "payer",
                *SAVINGS_FIELDS,
            ]
        return fixed

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.inlines if obj is not None else []

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assignee":
            kwargs["queryset"] = selectors.advocates()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # -- saving through the services

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            case = case_changes_apply(obj, request.user, form.cleaned_data, form.changed_data)
        else:
            case = form.open_case(request.user)
        obj.pk = case.pk
        obj.refresh_from_db()
        obj._state.adding = False

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        add = TIMELINE_ADD.get(formset.model)
        new: list[Any] = []
        if add is not None:
            for row in formset.extra_forms:
                if row.has_changed():
                    new.append(add(case=form.instance, actor=request.user, data=row.cleaned_data))
        formset.new_objects, formset.changed_objects, formset.deleted_objects = new, [], []

    def changeform_view(self, request: HttpRequest, object_id: Any = None, form_url: str = "",
                        extra_context: Any = None) -> Any:  # fmt: skip
        """A rule a service refuses only on the real run (e.g. a note added while the case is being
        closed) comes back as a message, with nothing written, never as a 500."""
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def audit_view(self, request: HttpRequest, obj: Any) -> None:
        services.case_view_record(case=obj, actor=request.user, request=request, detail="admin")

    # -- search by the case number too

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> Any:
        term = search_term.strip()
        if term.upper().startswith("C-") and term[2:].isdigit():
            return queryset.filter(pk=int(term[2:])), False
        return super().get_search_results(request, queryset, search_term)

    # -- columns and panels

    @admin.display(description="case", ordering="id")
    def reference(self, case: Case) -> str:
        return case.reference

    @admin.display(description="member", ordering="member__member_number")
    def member_label(self, case: Case) -> str:
        return _member_label(case.member)

    def _due(self, case: Case) -> str:
        if case.is_open and case.due_on < timezone.localdate():
            return format_html('<strong class="overdue" style="color:{}">{} · overdue</strong>',
                               RED, f"{case.due_on:%m/%d/%Y}")  # fmt: skip
        return f"{case.due_on:%m/%d/%Y}"

    @admin.display(description="due", ordering="due_on")
    def due(self, case: Case) -> str:
        return self._due(case)

    @admin.display(description="due")
    def due_display(self, case: Case) -> str:
        return self._due(case)

    @admin.display(description="member")
    def member_summary(self, case: Case) -> str:
        member = case.member
        return format_html("{} · {} · <a href=\"{}\">open in the workspace</a>",
                           _link(member, _member_label(member)), member.state,
                           reverse("advocacy:case", args=[case.pk]))  # fmt: skip

    @admin.display(description="linked records")
    def related_records(self, case: Case) -> str:
        rows: list[tuple[str, str]] = []
        requirement = CareCoordinationRequirement.objects.filter(case=case).first()
        if requirement is not None:
            rows.append((_change_url(requirement), f"Care-coordination requirement: {requirement}"))
        rows += [(_change_url(p), str(p)) for p in TreatmentPlan.objects.filter(case=case)]
        rows += [
            (_change_url(d), f"{d} ({d.get_outcome_display()})")
            for d in ClaimDispute.objects.filter(case=case)
        ]
        rows += [
            (_change_url(b), f"{b} ({b.get_status_display()})")
            for b in BillReview.objects.filter(case=case)
        ]
        rows += [(_change_url(r), f"{r} ({r.get_status_display()})")
                 for r in Referral.objects.filter(case=case).select_related("practitioner")]  # fmt: skip
        if not rows:
            return "None"
        return format_html_join(BR, '<a href="{}">{}</a>', rows)

    # -- actions (each through a service; a refusal is a message naming the case)

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        _each(request, queryset, "Assigned to you",
              lambda c: services.case_assign(case=c, actor=request.user, assignee=request.user))  # fmt: skip

    @admin.action(description="Move to in progress", permissions=["change"])
    def move_to_in_progress(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        _each(request, queryset, "Moved to in progress",
              lambda c: services.case_transition(case=c, actor=request.user, to_status=CaseStatus.IN_PROGRESS))  # fmt: skip

    @admin.action(description="Resolve", permissions=["change"])
    def resolve(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        _each(request, queryset, "Resolved",
              lambda c: services.case_transition(case=c, actor=request.user, to_status=CaseStatus.RESOLVED,
                                                 reason="Resolved from the admin"))  # fmt: skip

    @admin.action(description="Clear the flag", permissions=["change"])
    def clear_flag(self, request: HttpRequest, queryset: QuerySet[Case]) -> None:
        _each(request, queryset.exclude(flag_reason=""), "Flag cleared",
              lambda c: services.case_flag_clear(case=c, actor=request.user, reason="Cleared from the admin"))  # fmt: skip


@admin.register(PriorityTarget)
class PriorityTargetAdmin(admin.ModelAdmin):
    """Business days to the due date per priority: one row per priority, edited, never deleted.
    A change applies to cases opened (or re-prioritised, or reopened) afterwards."""

    list_display = ["priority", "business_days"]
    list_editable = ["business_days"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rank = models.Case(
            *(models.When(priority=p, then=models.Value(i)) for i, p in enumerate(PRIORITY_ORDER)),
            output_field=models.IntegerField(),
        )
        return super().get_queryset(request).annotate(rank=rank).order_by("rank")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and PriorityTarget.objects.count() < len(
            CasePriority.values
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["priority"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # Configuration, not a member's record: saved as is, and every change audited.
        before = form.initial.get("business_days") if change else None
        super().save_model(request, obj, form, change)
        audit_record(actor=request.user, action=AuditAction.UPDATE if change else AuditAction.CREATE, obj=obj,
                     request=request, detail=f"{obj.priority}: {before} → {obj.business_days} business days")  # fmt: skip


# --- History (read-only) --------------------------------------------------------------------


@admin.register(CaseEvent)
class CaseEventAdmin(AdvocacyViewAdmin):
    list_display = ["occurred_at", "case_link", "kind", "from_value", "to_value", "actor", "reason"]
    list_filter = ["kind", ("occurred_at", admin.DateFieldListFilter)]
    search_fields = ["case__member__member_number", "case__id__exact", "reason"]
    date_hierarchy = "occurred_at"
    list_select_related = ["case", "actor"]
    show_full_result_count = False

    @admin.display(description="case", ordering="case_id")
    def case_link(self, event: CaseEvent) -> str:
        return _link(event.case, event.case.reference)


@admin.register(CaseNote)
class CaseNoteAdmin(AdvocacyViewAdmin):
    list_display = ["created_at", "case_link", "author", "is_shared", "excerpt", "corrects"]
    list_filter = ["is_shared", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["case__member__member_number", "case__member__last_name", "case__id__exact"]
    date_hierarchy = "created_at"
    list_select_related = ["case", "author", "corrects"]
    show_full_result_count = False

    @admin.display(description="case", ordering="case_id")
    def case_link(self, note: CaseNote) -> str:
        return _link(note.case, note.case.reference)

    @admin.display(description="note")
    def excerpt(self, note: CaseNote) -> str:
        return note.body if len(note.body) <= 80 else note.body[:79] + "…"


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
            '<strong style="color:{}">{} ({}%)</strong>', RED, penalty.amount, penalty.percent
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


# --- Disputes, bill reviews, referrals ------------------------------------------------------


@admin.register(ClaimDispute)
class ClaimDisputeAdmin(AdvocacyViewAdmin):
    list_display = ["claim_number", "payer", "member_label", "service_date", "billed_amount", "paid_amount",
                    "expected_amount", "in_dispute", "filing_deadline", "qualifies", "outcome",
                    "recovered_amount"]  # fmt: skip
    list_filter = ["outcome", QualificationFilter, "payer", "expected_source"]
    search_fields = [
        "claim_number",
        "case__member__member_number",
        "case__member__last_name",
        "case__id__exact",
    ]
    date_hierarchy = "service_date"
    list_select_related = ["payer", "case__member"]

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        # The page's qualifications in a fixed number of queries, kept on the rows themselves.
        qualifications = selectors.dispute_qualifications(changelist.result_list)
        for dispute in changelist.result_list:
            dispute.qualification = qualifications.get(dispute.pk)
        return changelist

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, dispute: ClaimDispute) -> str:
        return _member_label(dispute.case.member)

    @admin.display(description="in dispute")
    def in_dispute(self, dispute: ClaimDispute) -> Any:
        return dispute.amount_in_dispute

    @admin.display(description="qualifies")
    def qualifies(self, dispute: ClaimDispute) -> str:
        qualification = getattr(dispute, "qualification", None)
        if qualification is None:
            qualification = selectors.dispute_qualifications([dispute]).get(dispute.pk)
        if qualification is None or not qualification.qualifies:
            return "—"
        labels = [label for flag, label in ((qualification.is_high_dollar, "high-dollar"),
                  (qualification.is_systemic, "systemic"), (qualification.is_payer_unresponsive, "payer unresponsive")) if flag]  # fmt: skip
        return format_html(
            '<span title="{}">{}</span>', " ".join(qualification.reasons), ", ".join(labels)
        )

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["case_link", *[f.name for f in ClaimDispute._meta.fields if f.name not in ("id", "case")],
                "in_dispute", "qualifies"]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.get_fields(request, obj)

    @admin.display(description="case")
    def case_link(self, dispute: ClaimDispute) -> str:
        return _link(dispute.case, dispute.case.reference)


class BillLineInline(_ReadOnlyInline):
    model = BillLine
    fields = [
        "line_number",
        "code",
        "description",
        "units",
        "billed_amount",
        "agreed",
        "overcharge_display",
    ]
    readonly_fields = fields  # type: ignore[assignment]

    @admin.display(description="agreed price")
    def agreed(self, line: BillLine) -> Any:
        if line.agreed_amount is None:
            return format_html('<em style="color:{}">not on the fee schedule</em>', RED)
        return line.agreed_amount

    @admin.display(description="overcharge")
    def overcharge_display(self, line: BillLine) -> Any:
        if line.is_overcharge:
            return format_html('<strong style="color:{}">{}</strong>', RED, line.overcharge)
        return line.overcharge


@admin.register(BillReview)
class BillReviewAdmin(AdvocacyViewAdmin):
    list_display = ["__str__", "case_link", "member_label", "practitioner", "bill_reference", "status",
                    "line_count", "total_billed", "total_overcharge"]  # fmt: skip
    list_filter = ["status", ("service_date", admin.DateFieldListFilter)]
    search_fields = ["bill_reference", "case__member__member_number", "case__member__last_name",
                     "practitioner__npi", "practitioner__last_name"]  # fmt: skip
    list_select_related = ["case__member", "practitioner"]
    inlines = [BillLineInline]
    readonly_fields = ["case_link", "practitioner", "agreement", "bill_reference", "service_date",
                                "status", "created_by", "created_at", "total_billed", "total_overcharge"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["complete"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_lines=Count("lines"),
                billed=Sum("lines__billed_amount"),
                over=Sum("lines__overcharge"),
            )
        )

    @admin.display(description="case", ordering="case_id")
    def case_link(self, review: BillReview) -> str:
        return _link(review.case, review.case.reference)

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, review: BillReview) -> str:
        return _member_label(review.case.member)

    @admin.display(description="lines", ordering="n_lines")
    def line_count(self, review: Any) -> int:
        return review.n_lines

    @admin.display(description="billed", ordering="billed")
    def total_billed(self, review: Any) -> Any:
        return review.billed if review.billed is not None else "—"

    @admin.display(description="overcharge", ordering="over")
    def total_overcharge(self, review: Any) -> Any:
        if review.over:
            return format_html('<strong style="color:{}">{}</strong>', RED, review.over)
        return review.over if review.over is not None else "—"

    @admin.action(
        description="Complete the review (savings: the total overcharge)", permissions=["work"]
    )
    def complete(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        _each(request, queryset.filter(status=BillReviewStatus.OPEN), "Reviews completed",
              lambda r: services.bill_review_complete(review=r, actor=request.user))  # fmt: skip


@admin.register(Referral)
class ReferralAdmin(AdvocacyViewAdmin):
    list_display = ["created_at", "case_link", "member_label", "kind", "target", "reason", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["case__member__member_number", "case__member__last_name", "practitioner__last_name",
                     "practitioner__npi", "out_of_network_provider", "case__id__exact"]  # fmt: skip
    list_select_related = ["case__member", "practitioner"]
    readonly_fields = ["case_link", "kind", "practitioner", "out_of_network_provider", "reason",
                                "status", "created_by", "created_at", "updated_at"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["mark_sent", "mark_scheduled", "mark_completed", "cancel"]

    @admin.display(description="case", ordering="case_id")
    def case_link(self, referral: Referral) -> str:
        return _link(referral.case, referral.case.reference)

    @admin.display(description="member", ordering="case__member__member_number")
    def member_label(self, referral: Referral) -> str:
        return _member_label(referral.case.member)

    @admin.display(description="to")
    def target(self, referral: Referral) -> str:
        return (
            str(referral.practitioner)
            if referral.practitioner
            else f"{referral.out_of_network_provider} (out of network)"
        )

    def _set(self, request: HttpRequest, queryset: QuerySet[Any], status: str) -> None:
        _each(request, queryset, f"Referrals {ReferralStatus(status).label.lower()}",
              lambda r: services.referral_set_status(referral=r, actor=request.user, status=status))  # fmt: skip

    @admin.action(description="Mark sent to the provider", permissions=["work"])
    def mark_sent(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.SENT)

    @admin.action(description="Mark appointment scheduled", permissions=["work"])
    def mark_scheduled(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.SCHEDULED)

    @admin.action(description="Mark completed", permissions=["work"])
    def mark_completed(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.COMPLETED)

    @admin.action(description="Cancel", permissions=["work"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._set(request, queryset, ReferralStatus.CANCELLED)
