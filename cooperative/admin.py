"""Admin for the kernel: the audit log, read-only; API tokens, read-only but for revoking."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from .audit import audit_list_read, audit_read, read_is_audited
from .exceptions import ApplicationError
from .models import ApiToken, AuditEvent
from .services import api_token_revoke


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


class _BlankNamedFilter(admin.AllValuesFieldListFilter):
    """The field's values, with the blank one named (an empty link text names nothing)."""

    def choices(self, changelist: Any) -> Iterator[Any]:
        for choice in super().choices(changelist):
            if choice["display"] == "":
                choice = {**choice, "display": "(none)"}
            yield choice


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
    list_filter = (
        "action",
        ("role", _BlankNamedFilter),
        ("object_type", _BlankNamedFilter),
        ("occurred_at", admin.DateFieldListFilter),
    )
    search_fields = ("actor_username", "object_id", "request_id", "ip_address", "detail")
    date_hierarchy = "occurred_at"
    list_select_related = ("actor",)
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


# --- Two-step sign-in devices ----------------------------------------------------------------
# django-otp's own admin shows every user's secret key and its QR code to an administrator, who
# could then copy a staff member's authenticator. Here the devices are listed without secrets,
# and the one thing an administrator does is reset a user's two-step sign-in (a lost phone).

from django_otp.plugins.otp_static.models import StaticDevice  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402

for _model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(ReadOnlyAdmin):
    """Who has an authenticator, since when and when it was last used; never its secret."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__email")
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields
    actions = ["reset_two_step_sign_in"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The reset action deletes through the service; Django's own delete action stays off.
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("reset_two_step_sign_in", None)
        return actions

    @admin.action(description="Reset two-step sign-in of the selected users (lost phone)")
    def reset_two_step_sign_in(self, request: HttpRequest, queryset: Any) -> None:
        from .exceptions import ApplicationError
        from .mfa import mfa_reset

        users = {device.user for device in queryset.select_related("user")}
        for user in sorted(users, key=lambda u: u.pk):
            try:
                mfa_reset(user=user, actor=request.user)
            except ApplicationError as error:
                self.message_user(request, error.message, messages.ERROR)
                return
        self.message_user(
            request,
            f"Two-step sign-in reset for {len(users)} user{'s' if len(users) != 1 else ''}: "
            "their sessions ended; staff set up a new authenticator at their next sign-in.",
            messages.SUCCESS,
        )


class ApiTokenStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "Active"), ("expired", "Expired"), ("revoked", "Revoked")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> QuerySet[ApiToken]:
        now = timezone.now()
        if self.value() == "active":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Every user's API tokens, for superusers (no role is granted these permissions): listed,
    never added, edited or deleted here; the one action revokes through the service. The
    secret itself is nowhere: only its first characters and its hash are stored."""

    list_display = (
        "label",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "status",
        "revoked_at",
        "revoked_by",
    )
    list_filter = (ApiTokenStatusFilter, ("expires_at", admin.DateFieldListFilter))
    search_fields = ("label", "prefix", "user__username", "user__email")
    list_select_related = ("user", "revoked_by")
    readonly_fields = (
        "user",
        "label",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "status",
        "revoked_at",
        "revoked_by",
    )
    exclude = ("key_hash",)
    actions = ("revoke_tokens",)

    @admin.display(description="status")
    def status(self, obj: ApiToken) -> str:
        return obj.status_at(timezone.now()).capitalize()

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        revoked, refused = 0, []
        for token in queryset.order_by("pk"):
            try:
                api_token_revoke(token=token, actor=request.user)
            except ApplicationError as error:
                refused.append(error.message)
            else:
                revoked += 1
        if revoked:
            self.message_user(request, f"{revoked} token(s) revoked.", messages.SUCCESS)
        for message in refused:
            self.message_user(request, message, messages.WARNING)
