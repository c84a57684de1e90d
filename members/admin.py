"""Admin for members (read-only in this slice: every write goes through members.services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Consent, EmployerGroup, Member, Membership, PcpAssignment, Plan


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


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


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = ["member_number", "last_name", "first_name", "email", "state", "created_at"]
    list_filter = ["state", "memberships__status", "memberships__plan__code"]
    search_fields = ["member_number", "first_name", "last_name", "email"]
    inlines = [MembershipInline, PcpAssignmentInline, ConsentInline]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        from cooperative.audit import audit_record
        from cooperative.models import AuditAction

        audit_record(
            actor=request.user,
            action=AuditAction.VIEW,
            object_type="members.member",
            object_id=object_id,
        )
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["member", "plan", "employer_group", "start_date", "end_date", "status"]
    list_filter = ["status", "plan__code", "employer_group"]
    search_fields = ["member__member_number", "member__last_name", "member__email"]
    list_select_related = ["member", "plan", "employer_group"]


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdmin):
    list_display = [
        "code",
        "version",
        "name",
        "advocacy_portion",
        "network_portion",
        "outreach_portion",
        "effective_from",
    ]
    list_filter = ["code"]


@admin.register(EmployerGroup)
class EmployerGroupAdmin(ReadOnlyAdmin):
    list_display = [
        "name",
        "employer_code",
        "state",
        "contribution_kind",
        "contribution_value",
        "status",
    ]
    list_filter = ["status", "state"]
    search_fields = ["name", "employer_code", "ein"]
