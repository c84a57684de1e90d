"""Admin for the kernel: the audit log, read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEvent


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
