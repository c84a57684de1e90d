"""Cases in the admin: their add and change forms, the case admin, priority targets and the
read-only case history."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from cooperative.audit import audit_record
from cooperative.exceptions import ApplicationError
from cooperative.forms import PersonChoiceField
from cooperative.models import AuditAction

from .. import selectors, services
from ..models import (
    CASE_TRANSITIONS,
    PRIORITY_ORDER,
    WRITABLE_CASE_STATUSES,
    BillReview,
    CareCoordinationRequirement,
    Case,
    CaseEvent,
    CaseNote,
    CasePriority,
    CaseStatus,
    ClaimDispute,
    PriorityTarget,
    Referral,
    TreatmentPlan,
)
from .base import (
    BR,
    SAVINGS_FIELDS,
    AdvocacyAdmin,
    AdvocacyViewAdmin,
    AssigneeFilter,
    OverdueFilter,
    _change_url,
    _dry_run,
    _each,
    _link,
    _member_label,
    _MemberByNumberForm,
)
from .timeline import (
    TIMELINE_ADD,
    CaseAttachmentInline,
    CaseAttachmentUploadInline,
    CaseContactInline,
    CaseEventInline,
    CaseNoteInline,
    CasePolicyLinkInline,
    CaseTaskInline,
)

# --- Case forms -----------------------------------------------------------------------------


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
            # Active advocates only, by name, shown by full name.
            kwargs["queryset"] = selectors.advocates()
            kwargs["form_class"] = PersonChoiceField
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
            return format_html('<strong class="overdue coop-alert">{} · overdue</strong>',
                               f"{case.due_on:%m/%d/%Y}")  # fmt: skip
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
        # The workspace, not the member admin: advocates may not open member records there.
        return format_html("{} · {} · <a href=\"{}\">open in the workspace</a>",
                           _member_label(member), member.state,
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
