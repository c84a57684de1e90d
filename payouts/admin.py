"""Admin for payouts: bank accounts (Finance sets them up); runs and statements read-only (the
Finance pages at /finance/payouts/ run them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from cooperative.admin import AuditedReadAdmin, ReadOnlyAdmin

from .models import BankAccount, PayoutRun, PayoutRunEvent, Statement


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "bank_name",
        "routing_number",
        "masked_account",
        "next_check_number",
        "is_default",
    ]
    fields = [
        "name",
        "bank_name",
        "routing_number",
        "account_number",
        "next_check_number",
        "is_default",
    ]

    @admin.display(description="Account")
    def masked_account(self, obj: BankAccount) -> str:
        return f"…{obj.account_number[-4:]}"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Once checks are drawn, the numbers only move forward (through the runs).
        return ["next_check_number"] if obj is not None and obj.statements.exists() else []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PayoutRunEventInline(admin.TabularInline):
    model = PayoutRunEvent
    readonly_fields = ("occurred_at", "from_status", "to_status", "actor", "reason")
    fields = readonly_fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PayoutRun)
class PayoutRunAdmin(ReadOnlyAdmin):
    list_display = [
        "period",
        "status",
        "statement_count",
        "member_month_count",
        "total",
        "finance_page",
    ]
    list_filter = ["status"]
    inlines = [PayoutRunEventInline]

    @admin.display(description="Run page")
    def finance_page(self, obj: PayoutRun) -> str:
        return format_html('<a href="{}">Open</a>', reverse("payouts:run", args=[obj.pk]))


@admin.register(Statement)
class StatementAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    list_display = [
        "check_number",
        "payee_name",
        "run",
        "payment_method",
        "amount",
        "status",
        "rendered_at",
    ]
    list_filter = ["status", "payment_method", "run"]
    search_fields = ["payee_name", "clinic__legal_name", "check_number"]
    list_select_related = ["run"]
