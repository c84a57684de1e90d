"""Admin for the kernel: the audit log, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.http import HttpRequest

from .audit import audit_list_read, audit_read, read_is_audited
from .models import AuditEvent


class AuditedAutocompleteJsonView(AutocompleteJsonView):
    """The admin's autocomplete (e.g. a payment's member, typed by name) lists member data too:
    when the listed model's admin is audited, one VIEW row names the ids offered (never the
    term typed)."""

    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, str]:
        self.offered_ids = [*getattr(self, "offered_ids", []), obj.pk]
        return super().serialize_result(obj, to_field_name)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = super().get(request, *args, **kwargs)
        if isinstance(self.model_admin, AuditedReadAdmin) and response.status_code == 200:
            audit_list_read(
                request, model=self.model_admin.model, ids=getattr(self, "offered_ids", []),
                what=f"admin autocomplete for {self.source_field.model._meta.label_lower}",
            )  # fmt: skip
        return response


def audited_autocomplete_view(request: HttpRequest) -> Any:
    return AuditedAutocompleteJsonView.as_view(admin_site=admin.site)(request)


# The one admin site's autocomplete goes through the audited view (set before its URLs are built).
admin.site.autocomplete_view = audited_autocomplete_view  # type: ignore[method-assign]


class AuditedReadAdmin(admin.ModelAdmin):
    """For admins of member data (and practitioners' credentialing files): the changelist writes
    one VIEW row naming the model, the filters (never a search term) and the ids on the page;
    a record's page and its history write one VIEW row for the record. A refused page writes the
    DENIED row of the 403 handler instead."""

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        response = super().changelist_view(request, extra_context)
        changelist = (
            getattr(response, "context_data", {}).get("cl") if response.status_code == 200 else None
        )
        if changelist is not None and not read_is_audited(request):
            # Evaluated once here and handed back: the page renders the same rows, no new query.
            changelist.result_list = list(changelist.result_list)
            audit_list_read(request, model=self.model, ids=[row.pk for row in changelist.result_list], what="admin")  # fmt: skip
        return response

    def _audit_record_page(self, request: HttpRequest, object_id: str, what: str) -> None:
        obj = self.get_object(request, object_id)
        if obj is not None and self.has_view_or_change_permission(request, obj):
            audit_read(request, obj=obj, detail=what)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        self._audit_record_page(request, object_id, "admin")
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> Any:
        self._audit_record_page(request, object_id, "admin history")
        return super().history_view(request, object_id, extra_context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records kept as history: listed and shown, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The audit log is append-only: staff with view permission can read and filter it, nobody edits it."""

    list_display = (
        "occurred_at",
        "actor_username",
        "role",
        "action",
        "object_type",
        "object_id",
        "ip_address",
        "request_id",
    )
    list_filter = ("action", "role", "object_type", ("occurred_at", admin.DateFieldListFilter))
    search_fields = ("actor_username", "object_id", "request_id", "ip_address", "detail")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
