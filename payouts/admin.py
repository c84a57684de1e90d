"""Admin for payouts: bank accounts (Finance sets them up); runs and statements read-only (the
Finance pages at /finance/payouts/ run them)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.validators import RegexValidator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from cooperative.admin import AuditedReadAdmin, ReadOnlyAdmin

from .models import BankAccount, PayoutRun, PayoutRunEvent, Statement


class BankAccountAdminForm(forms.ModelForm):
    """The account number is written, never shown: it is stored encrypted (cooperative.crypto)."""

    account_number = forms.CharField(
        required=False,
        strip=True,
        max_length=17,
        validators=[RegexValidator(r"^[0-9]{4,17}$", "An account number is 4 to 17 digits.")],
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted; only the last 4 digits are ever shown. Leave empty to keep it.",
    )

    class Meta:
        model = BankAccount
        fields = ["name", "bank_name", "routing_number", "next_check_number", "is_default"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("account_number") and not self.instance.account_number_encrypted:
            self.add_error("account_number", "The account number is required.")
        return data

    def save(self, commit: bool = True) -> BankAccount:
        if number := self.cleaned_data.get("account_number"):
            self.instance.account_number = number
        return super().save(commit=commit)


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    form = BankAccountAdminForm
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
        return f"…{obj.account_number_last4}"

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
