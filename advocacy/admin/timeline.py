"""A case's timeline in the admin: recorded rows read-only, new rows through their service."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from cooperative.exceptions import ApplicationError
from cooperative.forms import PersonChoiceField
from cooperative.uploads import attachment_check

from .. import selectors, services
from ..models import (
    WRITABLE_CASE_STATUSES,
    Case,
    CaseAttachment,
    CaseContact,
    CaseEvent,
    CaseNote,
    CasePolicyLink,
    CaseTask,
    ContactDirection,
)
from .base import _dry_run, _ReadOnlyInline

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
            # Active advocates only, by name, shown by full name.
            kwargs["queryset"] = selectors.advocates()
            kwargs["form_class"] = PersonChoiceField
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
