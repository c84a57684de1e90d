"""Admin for provider services: clinics, locations, practitioners and their roles.

Every save goes through providers.services, so the admin, the API and the pages share one
rule book and every change is audited (who, when, which fields).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from cooperative.exceptions import ApplicationError
from cooperative.forms import choice_list_formfield
from cooperative.permissions import has_role
from cooperative.roles import Role
from cooperative.selectors import users_named

from . import services
from .models import (
    EDITABLE_STATUSES,
    AgeBand,
    AgreementEvent,
    AgreementStatus,
    CareApproach,
    Clinic,
    ClinicStatus,
    ClinicStatusEvent,
    FeeScheduleLine,
    Language,
    Location,
    LocationHours,
    Payer,
    PayerContract,
    PayerContractEvent,
    PayerContractOffer,
    PayerContractOfferEvent,
    PayerContractOfferStatus,
    PayerContractStatus,
    PayerPolicyUpdate,
    Practitioner,
    PractitionerRole,
    PractitionerStatus,
    ProviderAccount,
    QualityTerm,
    RateAgreement,
    Specialty,
)
from .selectors import VERIFICATION_MAX_AGE_DAYS


def _model_data(form: forms.ModelForm, fields: list[str]) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}


def _mark_saved(formset: Any, new: list[Any], changed: list[tuple[Any, list[str]]]) -> None:
    """What formset.save() would record, for the admin's change message (history)."""
    formset.new_objects = new
    formset.changed_objects = changed
    formset.deleted_objects = []


class ClinicAdminForm(forms.ModelForm):
    bank_account_number = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False),
        help_text="Stored encrypted; only the last 4 digits are ever shown. Leave empty to keep it.",
    )

    class Meta:
        model = Clinic
        fields = [
            "legal_name", "dba_name", "slug", "ein", "group_npi", "description", "website",
            "phone", "remit_to_name", "remit_to_street", "remit_to_street2", "remit_to_city",
            "remit_to_state", "remit_to_zip", "payment_method", "bank_routing_number",
            "bank_account_type",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A view-only user's form has no editable fields at all (the admin shows them read-only).
        if slug := self.fields.get("slug"):
            slug.required = False
            slug.help_text = "The clinic page's address; leave empty to derive it from the name."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        method = data.get("payment_method")
        has_account = bool(data.get("bank_account_number")) or bool(
            self.instance.bank_account_encrypted
        )
        if method == "direct_deposit" and not (data.get("bank_routing_number") and has_account):
            raise forms.ValidationError(
                "Direct deposit needs a routing number and an account number."
            )
        return data


class BulkOfferForm(forms.Form):
    template = forms.ModelChoiceField(
        queryset=RateAgreement.objects.filter(status=AgreementStatus.DRAFT).select_related(
            "clinic"
        ),
        label="Terms of this draft agreement",
        help_text="Each selected clinic receives its own private offer with these terms.",
    )


class LocationAdminForm(forms.ModelForm):
    """Refuses a ZIP the offline data set does not know, next to the field."""

    class Meta:
        model = Location
        fields = [
            "clinic",
            "name",
            "street",
            "street2",
            "city",
            "state",
            "zip_code",
            "phone",
            "is_active",
        ]

    def clean_zip_code(self) -> str:
        value = self.cleaned_data["zip_code"]
        try:
            services.zip_code_get(value[:5])
        except ApplicationError:
            raise forms.ValidationError(f"We don't know ZIP {value}.") from None
        return value


class LocationInline(admin.StackedInline):
    model = Location
    form = LocationAdminForm
    extra = 0
    can_delete = False
    show_change_link = True
    fields = (("name", "is_active"), ("street", "street2"), ("city", "state", "zip_code"), "phone")


class ClinicStatusEventInline(admin.TabularInline):
    model = ClinicStatusEvent
    extra = 0
    can_delete = False
    fields = ("occurred_at", "from_status", "to_status", "actor", "reason")
    readonly_fields = ("occurred_at", "from_status", "to_status", "actor", "reason")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    form = ClinicAdminForm
    list_display = [
        "display_name",
        "status",
        "ein",
        "group_npi",
        "payment_method",
        "remit_to_state",
        "updated_at",
    ]
    list_filter = ["status", "payment_method", "remit_to_state"]
    search_fields = ["legal_name", "dba_name", "ein", "group_npi", "slug"]
    readonly_fields = ["status", "bank_account_last4", "created_at", "updated_at"]
    inlines = [LocationInline, ClinicStatusEventInline]
    actions = ["activate", "suspend", "offer_terms"]
    fieldsets = [
        (None, {"fields": ["legal_name", "dba_name", "slug", "status", "ein", "group_npi"]}),
        ("Public profile", {"fields": ["description", "website", "phone"]}),
        (
            "Remit to (the monthly check)",
            {
                "fields": [
                    "remit_to_name",
                    "remit_to_street",
                    "remit_to_street2",
                    ("remit_to_city", "remit_to_state", "remit_to_zip"),
                ]  # fmt: skip
            },
        ),
        (
            "Payment",
            {
                "fields": [
                    "payment_method",
                    "bank_routing_number",
                    "bank_account_type",
                    "bank_account_last4",
                    "bank_account_number",
                ]
            },
        ),
        ("Record", {"fields": ["created_at", "updated_at"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Clinic, form: Any, change: bool) -> None:
        data = _model_data(form, services.CLINIC_FIELDS + ["slug"])
        account = form.cleaned_data.get("bank_account_number") or None
        if change:
            saved = services.clinic_update(
                clinic=obj, actor=request.user, bank_account_number=account, **data
            )
        else:
            saved = services.clinic_create(actor=request.user, bank_account_number=account, **data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Location:
            return super().save_formset(request, form, formset, change)
        new: list[Any] = []
        changed: list[tuple[Any, list[str]]] = []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.is_valid():
                continue
            data = _model_data(inline_form, services.LOCATION_FIELDS)
            if inline_form.instance.pk:
                location = services.location_update(
                    location=inline_form.instance, actor=request.user, **data
                )
                changed.append((location, inline_form.changed_data))
            else:
                new.append(
                    services.location_create(clinic=form.instance, actor=request.user, **data)
                )
        _mark_saved(formset, new, changed)
        return None

    def _transition(
        self, request: HttpRequest, queryset: QuerySet[Clinic], to_status: str, reason: str
    ) -> None:
        done = 0
        for clinic in queryset:
            try:
                services.clinic_transition(
                    clinic=clinic, to_status=to_status, actor=request.user, reason=reason
                )
                done += 1
            except ApplicationError as error:
                messages.error(request, f"{clinic}: {error.message}")
        if done:
            messages.success(
                request, f"{done} clinic(s) now {ClinicStatus(to_status).label.lower()}."
            )

    @admin.action(description="Activate selected clinics", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Clinic]) -> None:
        self._transition(request, queryset, ClinicStatus.ACTIVE, "Activated from the admin")

    @admin.action(
        description="Offer the terms of a draft agreement to selected clinics",
        permissions=["change"],
    )
    def offer_terms(self, request: HttpRequest, queryset: QuerySet[Clinic]) -> Any:
        """A bulk offer: each selected clinic gets its own private copy of the draft's terms."""
        from django.template.response import TemplateResponse

        form = BulkOfferForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                offers = services.offers_send_to_clinics(
                    template=form.cleaned_data["template"],
                    clinics=list(queryset),
                    actor=request.user,
                )
            except ApplicationError as error:
                messages.error(request, error.message)
                return None
            messages.success(request, f"Offered the terms privately to {len(offers)} clinic(s).")
            return None
        return TemplateResponse(
            request,
            "admin/providers/bulk_offer.html",
            {**self.admin_site.each_context(request), "title": "Offer terms to clinics", "clinics": queryset,
             "form": form, "opts": self.model._meta, "action_name": "offer_terms"},
        )  # fmt: skip

    @admin.action(description="Suspend selected clinics", permissions=["change"])
    def suspend(self, request: HttpRequest, queryset: QuerySet[Clinic]) -> None:
        self._transition(request, queryset, ClinicStatus.SUSPENDED, "Suspended from the admin")


class LocationHoursInline(admin.TabularInline):
    model = LocationHours
    extra = 1


class RoleInline(admin.TabularInline):
    model = PractitionerRole
    extra = 0
    can_delete = False
    autocomplete_fields = ["practitioner", "location"]
    fields = ["practitioner", "location", "is_primary_care", "specialty", "start_date", "end_date"]


def _save_role_formset(request: HttpRequest, formset: Any) -> None:
    new: list[Any] = []
    changed: list[tuple[Any, list[str]]] = []
    for inline_form in formset.forms:
        if not inline_form.has_changed() or not inline_form.is_valid():
            continue
        role = inline_form.instance
        data = inline_form.cleaned_data
        if role.pk is None:
            role = services.practitioner_role_start(
                practitioner=data["practitioner"],
                location=data["location"],
                actor=request.user,
                start_date=data["start_date"],
                is_primary_care=data.get("is_primary_care", True),
                specialty=data.get("specialty"),
            )
            new.append(role)
        elif data.get("end_date") and "end_date" in inline_form.changed_data:
            role = services.practitioner_role_end(
                role=role, actor=request.user, end_date=data["end_date"]
            )
            changed.append((role, ["end_date"]))
    _mark_saved(formset, new, changed)


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "clinic", "city", "state", "zip_code", "is_active"]
    list_filter = ["state", "is_active", "clinic__status"]
    search_fields = ["name", "city", "zip_code", "clinic__legal_name", "clinic__dba_name"]
    list_select_related = ["clinic"]
    form = LocationAdminForm
    readonly_fields = ["latitude", "longitude", "created_at", "updated_at"]
    autocomplete_fields = ["clinic"]
    inlines = [LocationHoursInline, RoleInline]

    def save_model(self, request: HttpRequest, obj: Location, form: Any, change: bool) -> None:
        data = _model_data(form, services.LOCATION_FIELDS)
        if change:
            saved = services.location_update(location=obj, actor=request.user, **data)
        else:
            saved = services.location_create(
                clinic=form.cleaned_data["clinic"], actor=request.user, **data
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is PractitionerRole:
            _save_role_formset(request, formset)
            return
        if formset.model is LocationHours:
            spans = [
                {k: f.cleaned_data[k] for k in ("weekday", "opens_at", "closes_at")}
                for f in formset.forms
                if f.is_valid() and f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            if formset.has_changed():
                services.location_hours_set(location=form.instance, hours=spans, actor=request.user)
            _mark_saved(formset, [], [])
            return
        super().save_formset(request, form, formset, change)


class VerificationAgeFilter(admin.SimpleListFilter):
    title = "listing verification"
    parameter_name = "verification"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("overdue", f"Not verified in {VERIFICATION_MAX_AGE_DAYS} days"),
            ("current", f"Verified in the last {VERIFICATION_MAX_AGE_DAYS} days"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        cutoff = timezone.localdate() - timedelta(days=VERIFICATION_MAX_AGE_DAYS)
        if self.value() == "overdue":
            from django.db.models import Q

            return queryset.filter(
                Q(last_verified_on__isnull=True) | Q(last_verified_on__lt=cutoff)
            )
        if self.value() == "current":
            return queryset.filter(last_verified_on__gte=cutoff)
        return queryset


class PractitionerAdminForm(forms.ModelForm):
    # Checkbox lists showing labels ("Holistic", "Spanish"); the model keeps the codes.
    credentials = choice_list_formfield(Practitioner._meta.get_field("credentials"))
    care_approaches = choice_list_formfield(
        Practitioner._meta.get_field("care_approaches"),
        help_text="At least one: how the practitioner practises.",
    )
    languages = choice_list_formfield(
        Practitioner._meta.get_field("languages"), label="Languages spoken"
    )

    class Meta:
        model = Practitioner
        fields = [
            "npi", "first_name", "last_name", "slug", "credentials", "specialties",
            "care_approaches", "languages", "gender", "bio", "photo", "accepting_new_members",
            "sees_adults", "sees_children", "panel_capacity", "status", "last_verified_on",
        ]  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A view-only user's form has no editable fields at all (the admin shows them read-only).
        if slug := self.fields.get("slug"):
            slug.required = False
            slug.help_text = "The profile's address; leave empty to derive it from the name."

    def clean_photo(self) -> Any:
        photo = self.cleaned_data.get("photo")
        if photo and "photo" in self.changed_data:
            try:
                services.photo_check(photo)
            except ApplicationError as error:
                raise forms.ValidationError(error.message) from None
        return photo


class _ChoiceListFilter(admin.SimpleListFilter):
    """Filter on one code of an ArrayField of choices, listed by label."""

    field_name = ""
    options: Any = ()

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(code), str(label)) for code, label in self.options]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in {str(code) for code, _label in self.options}:
            return queryset.filter(**{f"{self.field_name}__contains": [self.value()]})
        return queryset


class CareApproachFilter(_ChoiceListFilter):
    title = "care approach"
    parameter_name = "approach"
    field_name = "care_approaches"
    options = CareApproach.choices


class LanguageFilter(_ChoiceListFilter):
    title = "language"
    parameter_name = "language"
    field_name = "languages"
    options = Language.choices


class PractitionerStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from cooperative.validators import served_state_choices

        return served_state_choices()

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(
                roles__location__state=self.value(), roles__end_date__isnull=True
            ).distinct()
        return queryset


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    form = PractitionerAdminForm
    list_display = [
        "display_name", "npi", "status", "approaches", "languages_spoken",
        "accepting_new_members", "panel_capacity", "panel_member_count", "last_verified_on",
    ]  # fmt: skip
    list_filter = [
        "status",
        "accepting_new_members",
        "sees_adults",
        "sees_children",
        VerificationAgeFilter,
        PractitionerStateFilter,
        CareApproachFilter,
        LanguageFilter,
        "specialties",
    ]
    search_fields = ["npi", "first_name", "last_name", "slug"]
    readonly_fields = ["panel_member_count", "created_at", "updated_at"]
    filter_horizontal = ["specialties"]
    inlines = [RoleInline]
    actions = ["activate", "deactivate", "mark_verified_today"]

    @admin.display(description="care approaches")
    def approaches(self, obj: Practitioner) -> str:
        return ", ".join(obj.care_approach_labels)

    @admin.display(description="languages")
    def languages_spoken(self, obj: Practitioner) -> str:
        return ", ".join(obj.language_labels) or "—"

    def save_model(self, request: HttpRequest, obj: Practitioner, form: Any, change: bool) -> None:
        data = _model_data(form, services.PRACTITIONER_FIELDS + ["status", "slug"])
        photo = form.cleaned_data.get("photo") if "photo" in form.changed_data else None
        if change:
            saved = services.practitioner_update(
                practitioner=obj, actor=request.user, photo=photo or None, **data
            )
        else:
            saved = services.practitioner_create(actor=request.user, photo=photo or None, **data)
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        services.practitioner_update(
            practitioner=form.instance,
            actor=request.user,
            specialties=form.cleaned_data.get("specialties", []),
        )
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is PractitionerRole:
            _save_role_formset(request, formset)
            return
        super().save_formset(request, form, formset, change)

    def _set_status(
        self, request: HttpRequest, queryset: QuerySet[Practitioner], status: str
    ) -> None:
        for practitioner in queryset:
            services.practitioner_set_status(
                practitioner=practitioner, status=status, actor=request.user
            )
        messages.success(
            request,
            f"{queryset.count()} practitioner(s) now {PractitionerStatus(status).label.lower()}.",
        )

    @admin.action(description="Activate selected practitioners", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Practitioner]) -> None:
        self._set_status(request, queryset, PractitionerStatus.ACTIVE)

    @admin.action(description="Deactivate selected practitioners", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Practitioner]) -> None:
        self._set_status(request, queryset, PractitionerStatus.INACTIVE)

    @admin.action(description="Mark listing verified today", permissions=["change"])
    def mark_verified_today(self, request: HttpRequest, queryset: QuerySet[Practitioner]) -> None:
        for practitioner in queryset:
            services.practitioner_mark_verified(practitioner=practitioner, actor=request.user)
        messages.success(request, f"{queryset.count()} listing(s) marked verified today.")


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ["display", "nucc_code", "slug"]
    search_fields = ["display", "nucc_code"]
    prepopulated_fields = {"slug": ["display"]}


# --- Rate agreements -------------------------------------------------------------------


class AgeBandFormSet(forms.BaseInlineFormSet):
    """Bands are checked together: ages 0–64, no gap, no overlap (the same rule as the API)."""

    def clean(self) -> None:
        super().clean()
        if self.instance.pk and self.instance.status not in EDITABLE_STATUSES:
            return  # read-only: nothing submitted to check
        bands = [
            services.Band(
                f.cleaned_data["min_age"], f.cleaned_data["max_age"], f.cleaned_data["monthly_fee"]
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        try:
            services.bands_check(bands)
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None


class FeeLineFormSet(forms.BaseInlineFormSet):
    def clean(self) -> None:
        super().clean()
        if self.instance.pk and self.instance.status not in EDITABLE_STATUSES:
            return
        try:
            services.lines_check(self.lines())
        except ApplicationError as error:
            raise forms.ValidationError(error.message) from None

    def lines(self) -> list[Any]:
        return [
            services.Line(
                f.cleaned_data["code"], f.cleaned_data["description"], f.cleaned_data["member_price"],
                f.cleaned_data.get("cap_amount"), f.cleaned_data.get("cap_period") or "",
            )
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]  # fmt: skip


class TermsInlineMixin:
    """Terms can change only while the agreement is a draft or a counter being answered."""

    def _editable(self, obj: Any) -> bool:
        return obj is None or obj.status in EDITABLE_STATUSES

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class AgeBandInline(TermsInlineMixin, admin.TabularInline):
    model = AgeBand
    formset = AgeBandFormSet
    extra = 0
    min_num = 1


class FeeLineInline(TermsInlineMixin, admin.TabularInline):
    model = FeeScheduleLine
    formset = FeeLineFormSet
    extra = 0


class QualityTermInline(TermsInlineMixin, admin.TabularInline):
    model = QualityTerm
    extra = 0
    fields = ("measure", "target", "last_reviewed_on")


class AgreementEventInline(admin.TabularInline):
    model = AgreementEvent
    extra = 0
    can_delete = False
    fields = (
        "occurred_at", "from_status", "to_status", "actor", "on_behalf_of_provider", "reason",
        "accepted_summary",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="what the provider confirmed")
    def accepted_summary(self, obj: AgreementEvent) -> str:
        """An acceptance's summary (dates, fees, prices old → new) as the provider saw it."""
        from django.template.loader import render_to_string

        summary = (obj.details or {}).get("accepted_summary")
        if not summary:
            return "—"
        return render_to_string("providers/_acceptance_summary.html", {"summary": summary})


class RenewalDueFilter(admin.SimpleListFilter):
    title = "renewal"
    parameter_name = "renewal"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("due", "Ending within 90 days, not yet renewed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "due":
            from .selectors import agreements_ending_within

            return queryset.filter(pk__in=agreements_ending_within(90).values("pk"))
        return queryset


class RateAgreementForm(forms.ModelForm):
    years = forms.TypedChoiceField(
        choices=[(1, "One year"), (2, "Two years")],
        coerce=int,
        initial=1,
        required=False,
        empty_value=1,  # type: ignore[arg-type]
    )

    class Meta:
        model = RateAgreement
        fields = ["clinic", "practitioner", "term_start", "scope_of_services"]


@admin.register(RateAgreement)
class RateAgreementAdmin(admin.ModelAdmin):
    """Agreements are drafted here with their bands, lines and quality terms; every save and
    every status change goes through providers.services."""

    form = RateAgreementForm
    list_display = ["__str__", "clinic", "status", "term_start", "term_end"]
    list_filter = ["status", RenewalDueFilter, "clinic__remit_to_state"]
    search_fields = [
        "clinic__legal_name",
        "clinic__dba_name",
        "practitioner__last_name",
        "practitioner__npi",
    ]
    list_select_related = ["clinic", "practitioner"]
    autocomplete_fields = ["clinic", "practitioner"]
    readonly_fields = ["status", "term_end", "renewed_from", "created_at", "updated_at"]
    inlines = [AgeBandInline, FeeLineInline, QualityTermInline, AgreementEventInline]
    actions = ["offer", "record_acceptance", "activate", "renew"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = [
            "clinic",
            "practitioner",
            "term_start",
            "scope_of_services",
            "status",
            "term_end",
            "renewed_from",
        ]
        return (["years"] + fields) if obj is None else fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        base = list(self.readonly_fields)
        if obj is not None:
            base += ["clinic", "practitioner", "term_start"]
            if obj.status not in EDITABLE_STATUSES:
                base.append("scope_of_services")
        return base

    def save_model(self, request: HttpRequest, obj: RateAgreement, form: Any, change: bool) -> None:
        """Nothing here: the agreement and its terms are saved together in save_related."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change and form.instance.status not in EDITABLE_STATUSES:
            for formset in formsets:
                _mark_saved(formset, [], [])
            return  # terms are read-only past the draft: nothing to save
        by_model = {formset.model: formset for formset in formsets}
        bands = [
            services.Band(
                f.cleaned_data["min_age"], f.cleaned_data["max_age"], f.cleaned_data["monthly_fee"]
            )
            for f in by_model[AgeBand].forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        lines = by_model[FeeScheduleLine].lines()
        quality = [
            services.Quality(f.cleaned_data["measure"], f.cleaned_data["target"])
            for f in by_model[QualityTerm].forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]
        if change:
            saved = services.agreement_terms_update(
                agreement=form.instance,
                actor=request.user,
                bands=bands,
                lines=lines,
                quality=quality,
                scope_of_services=form.cleaned_data.get("scope_of_services", ""),
            )
        else:
            saved = services.agreement_draft(
                clinic=form.cleaned_data["clinic"],
                practitioner=form.cleaned_data.get("practitioner"),
                actor=request.user,
                term_start=form.cleaned_data["term_start"],
                years=form.cleaned_data["years"],
                bands=bands,
                lines=lines,
                quality=quality,
                scope_of_services=form.cleaned_data.get("scope_of_services", ""),
            )
        form.instance.pk = saved.pk
        form.instance.refresh_from_db()
        for formset in formsets:
            _mark_saved(formset, [], [])

    def _step(
        self, request: HttpRequest, queryset: QuerySet[RateAgreement], to_status: str, **kwargs: Any
    ) -> None:
        done = 0
        for agreement in queryset:
            try:
                services.agreement_transition(
                    agreement=agreement, to_status=to_status, actor=request.user, **kwargs
                )
                done += 1
            except ApplicationError as error:
                messages.error(request, f"{agreement}: {error.message}")
        if done:
            messages.success(
                request, f"{done} agreement(s) now {AgreementStatus(to_status).label.lower()}."
            )

    def _answer(
        self,
        request: HttpRequest,
        queryset: QuerySet[RateAgreement],
        service: Any,
        done_message: str,
    ) -> None:
        done = 0
        for agreement in queryset:
            try:
                service(agreement)
                done += 1
            except ApplicationError as error:
                messages.error(request, f"{agreement}: {error.message}")
        if done:
            messages.success(request, f"{done} agreement(s) {done_message}.")

    @admin.action(description="Offer selected drafts to their providers", permissions=["change"])
    def offer(self, request: HttpRequest, queryset: QuerySet[RateAgreement]) -> None:
        self._answer(
            request,
            queryset,
            lambda a: services.offer_send(agreement=a, actor=request.user),
            "offered",
        )

    @admin.action(
        description="Accept: the provider's answer (on their behalf), or the provider's counter",
        permissions=["change"],
    )
    def record_acceptance(self, request: HttpRequest, queryset: QuerySet[RateAgreement]) -> None:
        def accept(agreement: RateAgreement) -> Any:
            on_behalf = agreement.status == AgreementStatus.OFFERED
            return services.offer_accept(
                agreement=agreement, actor=request.user, on_behalf_of_provider=on_behalf
            )

        self._answer(request, queryset, accept, "accepted")

    @admin.action(description="Activate selected accepted agreements", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[RateAgreement]) -> None:
        self._step(request, queryset, AgreementStatus.ACTIVE)

    @admin.action(
        description="Renew selected agreements (new draft, same terms)", permissions=["change"]
    )
    def renew(self, request: HttpRequest, queryset: QuerySet[RateAgreement]) -> None:
        for agreement in queryset:
            try:
                renewal = services.agreement_renew(agreement=agreement, actor=request.user)
                messages.success(request, f"Drafted renewal {renewal}.")
            except ApplicationError as error:
                messages.error(request, f"{agreement}: {error.message}")


class ProviderAccountForm(forms.ModelForm):
    """The user named by username or email: provider services may not browse the user list, so
    a raw id with a look-up link to it was of no use to them."""

    user = forms.CharField(
        label="Provider user", max_length=254,
        help_text="The username or email address of a user with the Provider role.",
    )  # fmt: skip

    class Meta:
        model = ProviderAccount
        fields = ["user", "clinic"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and "user" in self.fields:
            self.initial["user"] = self.instance.user.username

    def clean_user(self) -> Any:
        name = self.cleaned_data["user"].strip()
        users = users_named(name)
        if len(users) != 1:
            raise forms.ValidationError(
                f"No user is called {name!r}." if not users else
                f"More than one user has {name!r}; give the username.",
            )  # fmt: skip
        if not has_role(users[0], Role.PROVIDER):
            raise forms.ValidationError(f"{users[0].username} does not have the Provider role.")
        return users[0]


@admin.register(ProviderAccount)
class ProviderAccountAdmin(admin.ModelAdmin):
    """Which clinic a Provider user answers for in the provider portal."""

    form = ProviderAccountForm
    list_display = ["user", "clinic", "created_at"]
    search_fields = ["user__username", "user__email", "clinic__legal_name", "clinic__dba_name"]
    autocomplete_fields = ["clinic"]

    def save_model(
        self, request: HttpRequest, obj: ProviderAccount, form: Any, change: bool
    ) -> None:
        saved = services.provider_account_link(
            user=form.cleaned_data["user"], clinic=form.cleaned_data["clinic"], actor=request.user
        )
        obj.pk = saved.pk
        obj.refresh_from_db()


# --- Payers ----------------------------------------------------------------------------


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    list_display = ["name", "payer_id"]
    search_fields = ["name", "payer_id"]

    def save_model(self, request: HttpRequest, obj: Payer, form: Any, change: bool) -> None:
        services.payer_save(payer=obj, actor=request.user)


class PayerContractOfferInline(admin.TabularInline):
    model = PayerContractOffer
    extra = 0
    can_delete = False
    fields = (
        "clinic", "status", "answer_note", "answered_by", "answered_on_behalf", "answered_at",
        "cooperative_note",
    )  # fmt: skip
    readonly_fields = fields
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class NoteForm(forms.Form):
    """What an admin action needs in words: a reason, or what a new offer changes."""

    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


def _note_step(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    title: str,
    intro: str,
    label: str,
    perform: Any,
) -> Any:
    """An admin action that asks for a note first (a page listing the selected rows), then calls
    `perform(obj, note)` per row; refusals are reported per row, nothing else changes."""
    from django.template.response import TemplateResponse

    form = NoteForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        done = 0
        for obj in queryset:
            try:
                perform(obj, form.cleaned_data["note"])
                done += 1
            except ApplicationError as error:
                messages.error(request, f"{obj}: {error.message}")
        if done:
            messages.success(request, f"{title}: {done} done.")
        return None
    form.fields["note"].label = label
    return TemplateResponse(
        request,
        "admin/providers/action_note.html",
        {**model_admin.admin_site.each_context(request), "title": title, "intro": intro,
         "objects": queryset, "form": form, "opts": model_admin.model._meta, "action_name": action},
    )  # fmt: skip


@admin.register(PayerContract)
class PayerContractAdmin(admin.ModelAdmin):
    """Payer contracts with their participation; offers go to clinics privately through a service."""

    list_display = [
        "__str__",
        "status",
        "term_start",
        "term_end",
        "accepted",
        "pending",
        "declined",
    ]
    list_filter = ["status", "payer", "reimbursement_basis"]
    search_fields = ["name", "payer__name", "payer__payer_id"]
    readonly_fields = [
        "status", "renewed_from", "renewal_due_on", "history", "created_at", "updated_at",
    ]  # fmt: skip
    inlines = [PayerContractOfferInline]
    actions = ["offer_to_active_clinics", "make_active", "renew", "end_at_term"]

    @admin.display(description="renewal due on")
    def renewal_due_on(self, obj: PayerContract) -> Any:
        return services.payer_contract_renewal_due_on(obj) if obj.pk else "—"

    @admin.display(description="status history")
    def history(self, obj: PayerContract) -> Any:
        """The contract's status events, newest first (shown, not a formset: nothing to post)."""
        from django.utils.html import format_html, format_html_join

        if not obj.pk:
            return "—"
        rows = [
            (f"{e.occurred_at:%Y-%m-%d %H:%M}", e.get_from_status_display() or "—",
             e.get_to_status_display(), e.actor or "system", e.reason)
            for e in PayerContractEvent.objects.filter(contract=obj).select_related("actor")
        ]  # fmt: skip
        if not rows:
            return "—"
        return format_html(
            "<table><thead><tr><th>When</th><th>From</th><th>To</th><th>By</th><th>Why</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        from .selectors import payer_contracts_with_participation

        return payer_contracts_with_participation()

    @admin.display(description="accepted")
    def accepted(self, obj: Any) -> int:
        return int(obj.accepted_count)

    @admin.display(description="awaiting answer")
    def pending(self, obj: Any) -> int:
        return int(obj.pending_count)

    @admin.display(description="rejected or countered")
    def declined(self, obj: Any) -> int:
        return int(obj.rejected_count + obj.countered_count)

    def save_model(self, request: HttpRequest, obj: PayerContract, form: Any, change: bool) -> None:
        services.payer_contract_save(contract=obj, actor=request.user)

    @admin.action(
        description="Offer to every active clinic (privately, one offer each)",
        permissions=["change"],
    )
    def offer_to_active_clinics(
        self, request: HttpRequest, queryset: QuerySet[PayerContract]
    ) -> None:
        clinics = list(Clinic.objects.filter(status=ClinicStatus.ACTIVE))
        for contract in queryset:
            try:
                offers = services.payer_contract_offer_to_clinics(
                    contract=contract, clinics=clinics, actor=request.user
                )
                messages.success(request, f"{contract}: offered to {len(offers)} clinic(s).")
            except ApplicationError as error:
                messages.error(request, f"{contract}: {error.message}")

    @admin.action(description="Mark active", permissions=["change"])
    def make_active(self, request: HttpRequest, queryset: QuerySet[PayerContract]) -> None:
        for contract in queryset:
            try:
                services.payer_contract_transition(
                    contract=contract, to_status=PayerContractStatus.ACTIVE, actor=request.user
                )
            except ApplicationError as error:
                messages.error(request, f"{contract}: {error.message}")

    @admin.action(
        description="Renew: a new contract for the next term (same terms, negotiating)",
        permissions=["change"],
    )
    def renew(self, request: HttpRequest, queryset: QuerySet[PayerContract]) -> None:
        for contract in queryset:
            try:
                renewal = services.payer_contract_renew(contract=contract, actor=request.user)
                messages.success(
                    request,
                    f"{contract}: renewed as contract {renewal.pk}, "
                    f"{renewal.term_start:%b %d, %Y}–{renewal.term_end:%b %d, %Y}.",
                )
            except ApplicationError as error:
                messages.error(request, f"{contract}: {error.message}")

    @admin.action(
        description="End at the term's end (not renewed; give the reason)", permissions=["change"]
    )
    def end_at_term(self, request: HttpRequest, queryset: QuerySet[PayerContract]) -> Any:
        return _note_step(
            self, request, queryset, action="end_at_term", title="End contracts at their term",
            intro="Each contract stays in force until its term ends, then expires; it is not renewed.",
            label="Why it is not renewed",
            perform=lambda c, note: services.payer_contract_end(
                contract=c, actor=request.user, reason=note
            ),
        )  # fmt: skip


@admin.register(PayerContractOffer)
class PayerContractOfferAdmin(admin.ModelAdmin):
    """Each clinic's answer to a payer contract; staff answer counters here (like rate-agreement
    counters): accept, reject with a reason, or offer again saying what changed."""

    list_display = [
        "contract",
        "clinic",
        "status",
        "answer_note",
        "answered_at",
        "cooperative_note",
    ]
    list_filter = ["status", "contract__payer"]
    search_fields = ["clinic__legal_name", "clinic__dba_name", "contract__name"]
    list_select_related = ["contract__payer", "clinic"]
    readonly_fields = [
        "contract", "clinic", "status", "answer_note", "answered_by", "answered_on_behalf",
        "answered_at", "offered_at", "cooperative_note",
    ]  # fmt: skip
    actions = ["accept_counter", "reject_counter", "offer_again"]

    class EventInline(admin.TabularInline):
        model = PayerContractOfferEvent
        extra = 0
        can_delete = False
        fields = ("occurred_at", "side", "from_status", "to_status", "actor", "note")
        readonly_fields = fields

        def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
            return False

    inlines = [EventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _answer(
        self, request: HttpRequest, offer: PayerContractOffer, answer: str, note: str
    ) -> Any:
        return services.payer_contract_counter_answer(
            offer=offer, actor=request.user, answer=answer, note=note
        )

    @admin.action(description="Accept the clinic's counter", permissions=["change"])
    def accept_counter(self, request: HttpRequest, queryset: QuerySet[PayerContractOffer]) -> None:
        done = 0
        for offer in queryset:
            try:
                self._answer(request, offer, PayerContractOfferStatus.ACCEPTED, "")
                done += 1
            except ApplicationError as error:
                messages.error(request, f"{offer}: {error.message}")
        if done:
            messages.success(request, f"{done} counter(s) accepted.")

    @admin.action(
        description="Reject the clinic's counter (give the reason)", permissions=["change"]
    )
    def reject_counter(self, request: HttpRequest, queryset: QuerySet[PayerContractOffer]) -> Any:
        return _note_step(
            self, request, queryset, action="reject_counter", title="Reject counters",
            intro="The clinic sees the reason; its offer is closed as rejected.",
            label="Why the counter is rejected",
            perform=lambda o, note: self._answer(request, o, PayerContractOfferStatus.REJECTED, note),
        )  # fmt: skip

    @admin.action(
        description="Offer again (say what changed; the clinic answers anew)",
        permissions=["change"],
    )
    def offer_again(self, request: HttpRequest, queryset: QuerySet[PayerContractOffer]) -> Any:
        return _note_step(
            self, request, queryset, action="offer_again", title="Offer again",
            intro="The clinic sees what changed and answers the offer again.",
            label="What the new offer changes",
            perform=lambda o, note: self._answer(request, o, PayerContractOfferStatus.OFFERED, note),
        )  # fmt: skip


@admin.register(PayerPolicyUpdate)
class PayerPolicyUpdateAdmin(admin.ModelAdmin):
    list_display = ["payer", "published_on", "effective_on", "summary"]
    list_filter = ["payer"]
    search_fields = ["summary", "affected_codes"]
    date_hierarchy = "published_on"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """The log is kept as published: a correction is a new entry."""
        return False

    def save_model(
        self, request: HttpRequest, obj: PayerPolicyUpdate, form: Any, change: bool
    ) -> None:
        saved = services.payer_policy_record(
            payer=form.cleaned_data["payer"], actor=request.user, published_on=form.cleaned_data["published_on"],
            effective_on=form.cleaned_data["effective_on"], summary=form.cleaned_data["summary"],
            affected_codes=form.cleaned_data.get("affected_codes") or [],
            action_needed=form.cleaned_data.get("action_needed", ""),
        )  # fmt: skip
        obj.pk = saved.pk
        obj.refresh_from_db()
