"""Shared pieces of the advocacy admin: helpers, the no-delete audited bases, the list filters
and the member-number add form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from cooperative.admin import AuditedReadAdmin, ReadOnlyAdmin
from cooperative.exceptions import ApplicationError
from members import selectors as member_selectors
from members.models import Member

from .. import selectors, services
from ..models import OPEN_CASE_STATUSES, Case
from ..permissions import can_work_cases

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


class AdvocacyAdmin(AuditedReadAdmin):
    """Nothing of advocacy is ever deleted (history is kept), and every staff view of one of its
    records (a member's case, utilization, penalties) or of a list of them writes an audit row."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_work_permission(self, request: HttpRequest) -> bool:
        """Actions that call advocacy services: advocates (the services check it again)."""
        return can_work_cases(request.user)


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


# --- Add forms naming their member by member number (cases, utilization events) ---------


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
