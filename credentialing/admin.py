"""The credentialing workplace in the Django admin: applications with their form data, attachments,
checklist and events; one page per workflow step; tasks, exclusion screening and change requests.

Every write goes through credentialing.services (inlines included), so the admin, the API and the
daily jobs share one rule book and every change is audited.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from cooperative.admin import AuditedReadAdmin, ReadOnlyAdmin
from cooperative.exceptions import ApplicationError
from cooperative.forms import ChoiceListField, PersonChoiceField
from cooperative.roles import Role
from cooperative.selectors import users_in_role
from cooperative.uploads import download_filename
from providers.models import Language

from . import forms as step_forms
from . import selectors, services
from .models import (
    ATTESTATION_QUESTIONS,
    DEFAULT_SOURCES,
    OPEN_STATUSES,
    ApplicationEvent,
    ApplicationStatus,
    Attachment,
    BoardCertification,
    ChangeKind,
    ChangeRequest,
    ChangeStatus,
    CommitteeDecision,
    CredentialingApplication,
    DeaRegistration,
    Education,
    HospitalAffiliation,
    License,
    MalpracticeClaim,
    MalpracticeInsurance,
    ReviewStatus,
    ScreeningResult,
    ScreeningRun,
    StaffTask,
    SubjectType,
    TaskStatus,
    Verification,
    VerificationItem,
    WorkHistory,
)
from .permissions import can_decide_application, can_download_attachment


def short_hash(value: str) -> str:
    """A long hash shortened to its first 12 characters, the whole value on hover and a button
    that copies it (static/js/coop-admin.js): a page of documents fits a laptop's screen."""
    if not value:
        return "—"
    return format_html(
        '<code class="coop-hash" title="{}">{}…</code> '
        '<button type="button" class="coop-copy" data-copy="{}" '
        'aria-label="Copy the full SHA-256 ({}…)">Copy</button>',
        value,
        value[:12],
        value,
        value[:12],
    )


def matched_record_table(record: dict[str, Any]) -> str:
    """The exclusion list's line as a labelled two-column table (not raw JSON)."""
    rows = selectors.matched_record_rows(record or {})
    if not rows:
        return "—"
    return format_html(
        '<table class="coop-record-table"><tbody>{}</tbody></table>',
        format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
    )


# --- Filters ------------------------------------------------------------------------------


# Watched credentials kept as their own rows, renewed from the application page by kind.
RENEWABLE_RECORDS: dict[str, type[Any]] = {
    "license": License,
    "dea": DeaRegistration,
    "insurance": MalpracticeInsurance,
    "board": BoardCertification,
}


class OverdueFilter(admin.SimpleListFilter):
    title = "10-day clock"
    parameter_name = "clock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "Overdue"), ("on_time", "Open, on time")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        condition = selectors.overdue_q(timezone.localdate())
        if self.value() == "overdue":
            return queryset.filter(condition)
        if self.value() == "on_time":
            return queryset.filter(status__in=OPEN_STATUSES).exclude(condition)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(credentialing_assignments__isnull=False).distinct()
        return [("me", "Assigned to me"), ("none", "Unassigned")] + [
            (str(u.pk), u.get_full_name() or u.get_username()) for u in users
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "me":
            return queryset.filter(assignee=request.user)
        if value == "none":
            return queryset.filter(assignee__isnull=True)
        if value and value.isdigit():
            return queryset.filter(assignee_id=int(value))
        return queryset


# --- Inlines: the form data, edited through the services ----------------------------------


class _DetailInline(admin.StackedInline):
    extra = 0
    classes = ["collapse"]

    def _is_open(self, obj: Any) -> bool:
        return obj is None or obj.status in OPEN_STATUSES

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_open(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_open(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_open(obj) and super().has_change_permission(request, obj)


class LicenseInline(_DetailInline):
    model = License
    classes = []
    fields = [("state", "number", "license_type"), ("issued_on", "expires_on")]


class DeaInline(_DetailInline):
    model = DeaRegistration
    fields = [("number", "state", "schedules"), ("issued_on", "expires_on")]


class EducationInline(_DetailInline):
    model = Education
    fields = [
        ("kind", "institution", "program"),
        ("city", "state_or_country"),
        ("started_on", "finished_on", "completed"),
    ]


class BoardInline(_DetailInline):
    model = BoardCertification
    fields = [("board", "specialty"), ("issued_on", "expires_on")]


class WorkHistoryInline(_DetailInline):
    model = WorkHistory
    fields = [
        ("kind", "employer", "position"),
        ("city", "state"),
        ("started_on", "ended_on"),
        "explanation",
    ]


class HospitalInline(_DetailInline):
    model = HospitalAffiliation
    fields = [("hospital", "city", "state"), ("privileges", "started_on", "ended_on")]


class InsuranceInline(_DetailInline):
    model = MalpracticeInsurance
    classes = []
    fields = [
        ("carrier", "policy_number"),
        ("per_claim_limit", "aggregate_limit"),
        ("issued_on", "expires_on"),
    ]


class ClaimInline(_DetailInline):
    model = MalpracticeClaim
    fields = [("incident_on", "filed_on", "status", "amount_paid"), "description"]


class AttachmentInlineForm(forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["kind", "file"]


class AttachmentInline(admin.TabularInline):
    """The documents on file, each with its audited download link (never a public file URL)."""

    model = Attachment
    extra = 0
    can_delete = False
    fields = ["kind", "download", "fingerprint", "uploaded_by", "uploaded_at"]
    readonly_fields = ("kind", "download", "fingerprint", "uploaded_by", "uploaded_at")
    verbose_name_plural = "documents on file"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="document")
    def download(self, attachment: Attachment) -> str:
        url = reverse("admin:credentialing_attachment_download", args=[attachment.pk])
        return format_html(
            '<a href="{}">{}</a> <span class="quiet">({} KB)</span>',
            url,
            attachment.original_name,
            max(1, attachment.size_bytes // 1024),
        )

    @admin.display(description="SHA-256")
    def fingerprint(self, attachment: Attachment) -> str:
        return short_hash(attachment.sha256)


class AttachmentUploadInline(admin.TabularInline):
    """Upload a document (checked by content) while the application is open."""

    model = Attachment
    form = AttachmentInlineForm
    extra = 1
    can_delete = False
    fields = ["kind", "file"]
    verbose_name = "document to attach"
    verbose_name_plural = "attach documents (PDF, PNG or JPEG)"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).none()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is None or obj.status in OPEN_STATUSES) and super().has_add_permission(
            request, obj
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class VerificationInlineForm(forms.ModelForm):
    class Meta:
        model = Verification
        fields = ["item", "result", "verified_on", "source", "reference", "document", "notes"]
        widgets = {"notes": forms.TextInput(attrs={"size": 16})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Absent from a view-only user's form (the admin shows them read-only).
        if source := self.fields.get("source"):
            source.required = False
            source.help_text = "Empty: the usual source."
        if verified_on := self.fields.get("verified_on"):
            verified_on.initial = timezone.localdate


class VerificationInline(admin.TabularInline):
    """Add a verification per row; recorded ones stay as history (a re-check is a new row)."""

    model = Verification
    form = VerificationInlineForm
    extra = 1
    can_delete = False
    fields = ["item", "result", "verified_on", "source", "reference", "document", "notes"]
    verbose_name = "primary-source verification"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return (obj is not None and obj.status in OPEN_STATUSES) and super().has_add_permission(
            request, obj
        )

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        if obj is not None:
            formset.form.base_fields["document"].queryset = obj.attachments.all()  # type: ignore[attr-defined]
        return formset


class EventInline(admin.TabularInline):
    model = ApplicationEvent
    extra = 0
    can_delete = False
    fields = ["occurred_at", "from_status", "to_status", "actor", "reason", "missing_items"]
    readonly_fields = fields  # type: ignore[assignment]
    verbose_name_plural = "history"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- The application ----------------------------------------------------------------------


class _ApplicationAdminFormBase(forms.ModelForm):
    """The application's own fields plus the attestation questions (yes/no, explanation for yes)."""

    class Meta:
        model = CredentialingApplication
        fields = [
            "subject_type", "kind", "practitioner", "clinic", "location", "is_primary_care",
            "assignee", "received_on", "date_of_birth", "other_names", "email", "phone",
            "facility_license_number", "facility_license_state", "facility_license_expires_on",
            "accreditation_body", "accreditation_expires_on", "attestation_signed_on",
        ]  # fmt: skip
        widgets = {
            f: forms.DateInput(attrs={"type": "date"})
            for f in (
                "received_on",
                "date_of_birth",
                "facility_license_expires_on",
                "accreditation_expires_on",
                "attestation_signed_on",
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        answers = self.instance.attestation or {}
        for code, _question in ATTESTATION_QUESTIONS:
            current = answers.get(code) or {}
            if f"att_{code}" in self.fields:
                self.initial[f"att_{code}"] = {"True": "yes", "False": "no"}.get(
                    str(current.get("answer")), ""
                )
                self.initial[f"att_{code}_why"] = current.get("explanation", "")
        if "received_on" in self.fields:
            self.fields["received_on"].initial = timezone.localdate
        assignee = self.fields.get("assignee")
        if isinstance(assignee, forms.ModelChoiceField):
            # Active provider services staff, by name; the current assignee stays selectable
            # so that saving another change does not silently take the file from them.
            people = users_in_role(Role.PROVIDER_SERVICES)
            if self.instance.assignee_id:
                people = (
                    get_user_model()
                    .objects.filter(Q(pk__in=people.values("pk")) | Q(pk=self.instance.assignee_id))
                    .order_by("first_name", "last_name", "username")
                )
            assignee.queryset = people
        if location := self.fields.get("location"):
            self._limit_locations(location)

    def _limit_locations(self, field: forms.Field) -> None:
        """Only the chosen clinic's locations are offered; before a clinic is chosen, every
        location named with its clinic (clean() refuses another clinic's)."""
        from providers.models import Location

        locations = Location.objects.select_related("clinic").order_by("clinic__legal_name", "name")
        if self.instance.pk and self.instance.clinic_id:
            field.queryset = locations.filter(clinic_id=self.instance.clinic_id)  # type: ignore[attr-defined]
            field.help_text = f"A location of {self.instance.clinic}."
        else:
            field.queryset = locations  # type: ignore[attr-defined]
            field.label_from_instance = lambda loc: f"{loc.clinic} · {loc}"  # type: ignore[attr-defined]
            field.help_text = "Must be a location of the clinic the practitioner joins."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        location = data.get("location")
        clinic = data.get("clinic") or (self.instance.clinic if self.instance.clinic_id else None)
        if location is not None and clinic is not None and location.clinic_id != clinic.pk:
            self.add_error(
                "location",
                f"{location.name} belongs to {location.clinic}: choose a location of {clinic}.",
            )
        return data

    def attestation(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for code, _question in ATTESTATION_QUESTIONS:
            value = self.cleaned_data.get(f"att_{code}")
            if value in ("yes", "no"):
                out[code] = {
                    "answer": value == "yes",
                    "explanation": (self.cleaned_data.get(f"att_{code}_why") or "").strip(),
                }
        return out


ATTESTATION_FIELDS = [
    field for code, _q in ATTESTATION_QUESTIONS for field in (f"att_{code}", f"att_{code}_why")
]


def _attestation_form_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for code, question in ATTESTATION_QUESTIONS:
        fields[f"att_{code}"] = forms.ChoiceField(
            label=question, choices=[("", "—"), ("no", "No"), ("yes", "Yes")], required=False
        )
        fields[f"att_{code}_why"] = forms.CharField(label="Explanation (for a yes)", required=False)
    return fields


# Declared on the class (not added in __init__) so the admin knows the fields of its fieldsets.
ApplicationAdminForm = type(
    "ApplicationAdminForm", (_ApplicationAdminFormBase,), _attestation_form_fields()
)


@admin.register(CredentialingApplication)
class CredentialingApplicationAdmin(AuditedReadAdmin):
    form = ApplicationAdminForm
    change_form_template = "admin/credentialing/application_change_form.html"
    list_display = [
        "id", "subject_name", "subject_type", "kind", "status", "assignee", "received_on",
        "days_in_stage", "days_since_complete", "due", "missing_count",
    ]  # fmt: skip
    list_display_links = ["id", "subject_name"]
    list_filter = ["status", OverdueFilter, AssigneeFilter, "subject_type", "kind"]
    search_fields = [
        "practitioner__npi", "practitioner__first_name", "practitioner__last_name",
        "clinic__legal_name", "clinic__dba_name", "clinic__group_npi",
    ]  # fmt: skip
    list_select_related = ["practitioner", "clinic", "assignee"]
    autocomplete_fields = ["practitioner", "clinic"]
    actions = ["assign_to_me", "request_documents", "start_verification", "send_to_committee",
               "record_decision"]  # fmt: skip
    readonly_fields = ["status", "clock", "checklist", "missing", "decision_panel", "expirables",
                       "attestation_summary"]  # fmt: skip
    inlines = [
        AttachmentUploadInline, AttachmentInline, LicenseInline, DeaInline, EducationInline, BoardInline,
        WorkHistoryInline, HospitalInline, InsuranceInline, ClaimInline, VerificationInline,
        EventInline,
    ]  # fmt: skip

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        subject = ["subject_type", "kind", "practitioner", "clinic", "location", "is_primary_care"]
        if obj is None:
            return [
                (None, {"fields": [*subject, "assignee", "received_on"]}),
                ("Identity", {"fields": ["date_of_birth", "other_names", "email", "phone"]}),
                ("Organization (clinic applications)", {"fields": [
                    "facility_license_number", "facility_license_state",
                    "facility_license_expires_on", "accreditation_body",
                    "accreditation_expires_on",
                ]}),
            ]  # fmt: skip
        sets: list[Any] = [
            ("Status and clock", {"fields": ["status", "clock", "missing", "assignee"]}),
            ("Verification checklist", {"fields": ["checklist"]}),
        ]
        if obj.status in (ApplicationStatus.APPROVED, ApplicationStatus.DENIED):
            sets.append(("Committee decision", {"fields": ["decision_panel"]}))
        if obj.is_current:
            sets.append(("Expirables (watched daily)", {"fields": ["expirables"]}))
        sets.append(("Application", {"fields": [*subject, "received_on"]}))
        if obj.subject_type == SubjectType.CLINIC:
            sets.append(("Organization", {"fields": [
                "facility_license_number", "facility_license_state",
                "facility_license_expires_on", "accreditation_body", "accreditation_expires_on",
            ]}))  # fmt: skip
        else:
            sets.append(
                ("Identity", {"fields": ["date_of_birth", "other_names", "email", "phone"]})
            )
            sets.append(
                (
                    "Attestation",
                    {
                        "fields": [*ATTESTATION_FIELDS, "attestation_signed_on"],
                        "classes": ["collapse"],
                    },
                )
            )
        return sets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fixed = list(self.readonly_fields)
        if obj is not None:
            fixed += ["subject_type", "kind", "practitioner", "clinic"]
            if obj.status not in OPEN_STATUSES:
                fixed += [f for f in _ApplicationAdminFormBase.Meta.fields if f not in fixed]
        return fixed

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        if obj.subject_type == SubjectType.CLINIC:
            return [AttachmentUploadInline, AttachmentInline, InsuranceInline, VerificationInline,
                    EventInline]  # fmt: skip
        return self.inlines

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is not None and obj.status not in OPEN_STATUSES:
            kwargs["fields"] = []
        return super().get_form(request, obj, change=change, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "assignee":
            kwargs["queryset"] = users_in_role(Role.PROVIDER_SERVICES)
            kwargs["form_class"] = PersonChoiceField
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # -- list columns

    @admin.display(description="subject")
    def subject_name(self, obj: CredentialingApplication) -> str:
        return obj.subject_name

    @admin.display(description="days in stage")
    def days_in_stage(self, obj: CredentialingApplication) -> int:
        return selectors.application_clock(obj).days_in_stage

    @admin.display(description="days since complete")
    def days_since_complete(self, obj: CredentialingApplication) -> Any:
        value = selectors.application_clock(obj).days_since_complete
        return "—" if value is None else value

    @admin.display(description="due", ordering="completed_on")
    def due(self, obj: CredentialingApplication) -> Any:
        clock = selectors.application_clock(obj)
        if clock.due_on is None:
            return "—"
        if clock.is_overdue:
            return format_html(
                '<strong class="coop-alert">{} · overdue</strong>', f"{clock.due_on:%m/%d/%Y}"
            )
        return f"{clock.due_on:%m/%d/%Y}"

    @admin.display(description="missing")
    def missing_count(self, obj: CredentialingApplication) -> Any:
        return len(obj.missing_items) or "—"

    # -- read-only panels

    @admin.display(description="clock")
    def clock(self, obj: CredentialingApplication) -> str:
        clock = selectors.application_clock(obj)
        parts = [
            f"{clock.days_in_stage} day(s) in {obj.get_status_display().lower()}",
            f"{clock.days_since_received} day(s) since received on {obj.received_on:%m/%d/%Y}",
        ]
        if obj.completed_on:
            parts.append(
                f"complete on {obj.completed_on:%m/%d/%Y}: {clock.days_since_complete} day(s) "
                + ("to decision" if obj.decided_on else "so far")
            )
            parts.append(f"due by {clock.due_on:%m/%d/%Y}")
        else:
            parts.append("the 10-day clock starts when the file is complete")
        css_class = "coop-alert coop-strong" if clock.is_overdue else ""
        suffix = " — OVERDUE" if clock.is_overdue else ""
        return format_html(
            '<span id="clock" class="{}">{}{}</span>', css_class, " · ".join(parts), suffix
        )

    @admin.display(description="missing items")
    def missing(self, obj: CredentialingApplication) -> str:
        items = (
            obj.missing_items
            if obj.status == ApplicationStatus.INCOMPLETE
            else (services.application_missing_items(obj) if obj.status in OPEN_STATUSES else [])
        )
        if not items:
            return mark_safe('<span id="missing-items">Nothing missing.</span>')  # noqa: S308 (a constant)
        return format_html(
            '<ul id="missing-items" class="coop-flush">{}</ul>',
            format_html_join("", "<li>{}</li>", ((i,) for i in items)),
        )

    @admin.display(description="checklist")
    def checklist(self, obj: CredentialingApplication) -> str:
        """Each item's state; a done item says who checked it, when and where; an outstanding
        one has its button to record the check (today and the usual source prefilled)."""
        on = obj.decided_on or timezone.localdate()
        colours = {"ok": "coop-ok", "adverse": "coop-warn", "missing": "coop-alert",
                   "stale": "coop-alert", "unable": "coop-alert"}  # fmt: skip
        is_open = obj.status in OPEN_STATUSES
        rows = []
        for row in selectors.verification_checklist(obj, on=on):
            verification = row.verification
            action: str = ""
            if is_open and row.state in ("missing", "stale", "unable"):
                action = format_html(
                    '<a class="button coop-record" href="{}">Record'
                    '<span class="coop-sr"> {}</span></a>',
                    reverse("admin:credentialing_verify_item", args=[obj.pk, row.item]),
                    row.label,
                )
            rows.append(
                (
                    row.label + ("" if row.required else " (optional)"),
                    colours[row.state],
                    {"ok": "verified", "adverse": "adverse finding"}.get(row.state, row.problem),
                    f"{verification.verified_on:%m/%d/%Y}" if verification else "—",
                    "" if row.age_days is None else f"{row.age_days} d",
                    verification.source if verification else "",
                    (
                        verification.reference
                        or (verification.document and verification.document.original_name)
                        or ""
                    )
                    if verification
                    else "",
                    (
                        verification.verified_by.get_full_name()
                        or verification.verified_by.get_username()
                    )
                    if verification and verification.verified_by
                    else "",
                    action,
                )
            )
        body = format_html_join(
            "",
            '<tr><td>{}</td><td class="{} coop-strong">{}</td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        return format_html(
            '<table id="checklist" class="coop-checklist"><thead><tr><th>Item</th><th>State</th><th>Verified on</th>'
            "<th>Age</th><th>Source</th><th>Reference</th><th>By</th>"
            '<th><span class="visually-hidden">Action</span></th></tr></thead>'
            "<tbody>{}</tbody></table>",
            body,
        )

    @admin.display(description="decision")
    def decision_panel(self, obj: CredentialingApplication) -> str:
        decision = CommitteeDecision.objects.filter(application=obj).first()
        if decision is None:
            return "—"
        letter = (
            format_html(
                '<a href="{}">Decision letter (PDF)</a>',
                reverse("admin:credentialing_decision_letter", args=[obj.pk]),
            )
            if decision.letter
            else "The letter is being prepared."
        )
        notified = (
            f"notified {decision.notified_on:%m/%d/%Y} by {decision.notification_method}"
            if decision.notified_on
            else f"not yet notified (limit {decision.notify_by:%m/%d/%Y})"
        )
        return format_html(
            "<strong>{}</strong> on {} · {} · {}<br>{}",
            decision.get_decision_display(),
            f"{decision.decided_on:%m/%d/%Y}",
            notified,
            letter,
            decision.notes,
        )

    @admin.display(description="answers")
    def attestation_summary(self, obj: CredentialingApplication) -> str:
        answers = obj.attestation or {}
        rows = [
            (question, {"True": "Yes", "False": "No"}.get(str((answers.get(code) or {}).get("answer")), "—"),
             (answers.get(code) or {}).get("explanation", ""))
            for code, question in ATTESTATION_QUESTIONS
        ]  # fmt: skip
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join(
                "", "<tr><td>{}</td><td><strong>{}</strong></td><td>{}</td></tr>", rows
            ),
        )

    @admin.display(description="expirables")
    def expirables(self, obj: CredentialingApplication) -> str:
        today = timezone.localdate()
        rows = []
        for kind, record, label, expires_on in selectors.application_expirables(obj):
            days = (expires_on - today).days
            renew = (
                format_html(
                    '<a href="{}">Record renewal</a>',
                    reverse("admin:credentialing_renew", args=[obj.pk, kind, record.pk]),
                )
                if kind in RENEWABLE_RECORDS or kind in services.APPLICATION_EXPIRABLES
                else ""
            )
            state = "expired" if days < 0 else f"{days} days left"
            rows.append((label, f"{expires_on:%m/%d/%Y}", state, renew))
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    # -- saving through the services

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        fields = [f for f in services.APPLICATION_FIELDS if f in form.cleaned_data]
        data = {f: form.cleaned_data[f] for f in fields}
        if any(f"att_{c}" in form.cleaned_data for c, _ in ATTESTATION_QUESTIONS):
            data["attestation"] = form.attestation()
        if change:
            saved = services.application_update(application=obj, actor=request.user, **data)
        else:
            data.pop("attestation", None)
            saved = services.application_create(
                actor=request.user,
                subject_type=form.cleaned_data["subject_type"],
                practitioner=form.cleaned_data.get("practitioner"),
                clinic=form.cleaned_data.get("clinic"),
                kind=form.cleaned_data.get("kind") or "initial",
                **data,
            )
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        application = form.instance
        new: list[Any] = []
        changed: list[Any] = []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.is_valid():
                continue
            if formset.can_delete and formset._should_delete_form(inline_form):
                continue
            instance = inline_form.save(commit=False)
            if formset.model is Attachment:
                upload = inline_form.cleaned_data["file"]
                saved: Any = services.attachment_add(
                    application=application,
                    actor=request.user,
                    kind=inline_form.cleaned_data["kind"],
                    upload=upload,
                )
            elif formset.model is Verification:
                data = inline_form.cleaned_data
                saved = services.verification_record(
                    application=application,
                    actor=request.user,
                    item=data["item"],
                    result=data["result"],
                    verified_on=data["verified_on"],
                    source=data.get("source") or "",
                    reference=data.get("reference") or "",
                    document=data.get("document"),
                    notes=data.get("notes") or "",
                )
            else:
                saved = services.application_detail_save(
                    application=application, actor=request.user, record=instance
                )
            (changed if instance.pk and inline_form.initial else new).append(saved)
        for obj in getattr(formset, "deleted_forms", []):
            if obj.instance.pk:
                services.application_detail_delete(
                    application=application, actor=request.user, record=obj.instance
                )
        formset.new_objects, formset.changed_objects = new, [(o, []) for o in changed]
        formset.deleted_objects = []

    def changeform_view(self, request: HttpRequest, object_id: Any = None, form_url: str = "",
                        extra_context: Any = None) -> Any:  # fmt: skip
        """A rule the services refuse comes back as a message on the page, not a 500."""
        from django.db import transaction

        extra_context = extra_context or {}
        if object_id:
            obj = self.get_object(request, object_id)
            if obj is not None:
                extra_context["steps"] = _steps_for(obj)
                extra_context["listing"] = selectors.application_listing(obj)
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as error:
            messages.error(request, error.message)
            if object_id:
                return HttpResponseRedirect(request.path)
            return HttpResponseRedirect(
                reverse("admin:credentialing_credentialingapplication_changelist")
            )

    # -- workflow pages

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/step/<str:step>/", view(self.step_view), name="credentialing_step"),
            path("<int:pk>/letter/", view(self.letter_view), name="credentialing_decision_letter"),
            path(
                "<int:pk>/verify/<str:item>/",
                view(self.verify_item_view),
                name="credentialing_verify_item",
            ),  # fmt: skip
            path(
                "<int:pk>/renew/<str:kind>/<int:record_pk>/",
                view(self.renew_view),
                name="credentialing_renew",
            ),  # fmt: skip
            path(
                "attachment/<int:pk>/",
                view(self.attachment_view),
                name="credentialing_attachment_download",
            ),  # fmt: skip
            *super().get_urls(),
        ]

    def _change_url(self, obj: CredentialingApplication) -> str:
        return reverse("admin:credentialing_credentialingapplication_change", args=[obj.pk])

    def step_view(self, request: HttpRequest, pk: int, step: str) -> HttpResponse:
        application = get_object_or_404(CredentialingApplication, pk=pk)
        if step not in STEPS or not self.has_change_permission(request, application):
            raise Http404("No such step.")
        title, form_class, perform = STEPS[step]
        if step == "decide" and not can_decide_application(request.user):
            messages.error(request, "Only provider services staff may record a committee decision.")
            return HttpResponseRedirect(self._change_url(application))
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                message = perform(application, request.user, form.cleaned_data)
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(self._change_url(application))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{title}: {application}",
            "application": application,
            "form": form,
            "opts": self.model._meta,
            "original": application,
            "step": step,
            "missing": services.application_missing_items(application)
            if application.status in OPEN_STATUSES
            else [],
            "checklist": selectors.verification_checklist(application),
        }
        return TemplateResponse(request, "admin/credentialing/step.html", context)

    def verify_item_view(self, request: HttpRequest, pk: int, item: str) -> HttpResponse:
        """Record one checklist item from its button: today and the item's usual primary source
        prefilled; the verification service decides (an item not on the checklist is refused)."""
        application = get_object_or_404(CredentialingApplication, pk=pk)
        if item not in VerificationItem.values or not self.has_change_permission(
            request, application
        ):
            raise Http404("No such checklist item.")
        label = VerificationItem(item).label
        form = step_forms.ChecklistVerificationForm(
            request.POST or None, initial={"source": DEFAULT_SOURCES.get(item, "")}
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.verification_record(
                    application=application, actor=request.user, item=item,
                    result=data["result"], verified_on=data["verified_on"],
                    source=data["source"], reference=data["reference"], notes=data["notes"],
                )  # fmt: skip
            except ApplicationError as error:
                for field, problems in (error.errors or {}).items():
                    if field in form.fields:
                        for problem in problems:
                            form.add_error(field, problem)
                form.add_error(None, error.message)
            else:
                messages.success(request, f"{label}: verification recorded.")
                return HttpResponseRedirect(self._change_url(application) + "#checklist")
        context = {
            **self.admin_site.each_context(request),
            "title": f"Record the verification — {label}: {application}",
            "application": application,
            "form": form,
            "opts": self.model._meta,
            "original": application,
            "step": "verify_item",
        }
        return TemplateResponse(request, "admin/credentialing/step.html", context)

    def letter_view(self, request: HttpRequest, pk: int) -> Any:
        decision = get_object_or_404(CommitteeDecision, application_id=pk)
        if not self.has_view_permission(request, decision.application) or not decision.letter:
            raise Http404("No letter yet.")
        from cooperative.audit import audit_record
        from cooperative.models import AuditAction

        audit_record(actor=request.user, action=AuditAction.EXPORT, obj=decision,
                     detail="decision letter", request=request)  # fmt: skip
        return FileResponse(
            decision.letter.storage.open(str(decision.letter.name), "rb"),
            as_attachment=True,
            filename=f"decision-letter-{pk}.pdf",
            content_type="application/pdf",
        )

    def attachment_view(self, request: HttpRequest, pk: int) -> Any:
        attachment = get_object_or_404(Attachment, pk=pk)
        if not can_download_attachment(request.user):
            from cooperative.audit import record_denied

            record_denied(request, detail=f"attachment {pk}")
            raise Http404("No such document.")
        handle = services.attachment_open(attachment=attachment, actor=request.user)
        response = FileResponse(
            handle,
            as_attachment=True,
            # Our name and the detected type's extension, never the uploader's file name.
            filename=download_filename(f"attachment-{attachment.pk}", attachment.content_type),
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response

    def renew_view(self, request: HttpRequest, pk: int, kind: str, record_pk: int) -> HttpResponse:
        application = get_object_or_404(CredentialingApplication, pk=pk)
        if not self.has_change_permission(request):
            raise Http404("Nothing to renew.")
        record: Any
        if kind in services.APPLICATION_EXPIRABLES:  # kept on the application itself
            field_name = services.APPLICATION_EXPIRABLES[kind]
            if record_pk != application.pk or getattr(application, field_name) is None:
                raise Http404("Nothing to renew.")
            record = next(
                label
                for k, _r, label, _e in selectors.application_expirables(application)
                if k == kind
            )
        elif kind in RENEWABLE_RECORDS:
            record = get_object_or_404(
                RENEWABLE_RECORDS[kind], pk=record_pk, application=application
            )
        else:
            raise Http404("Nothing to renew.")
        form = step_forms.RenewForm(request.POST or None)
        if kind in services.APPLICATION_EXPIRABLES:
            del form.fields["issued_on"]  # the application keeps an expiry date only
        if request.method == "POST" and form.is_valid():
            try:
                if kind in services.APPLICATION_EXPIRABLES:
                    services.application_expirable_renew(
                        application=application,
                        kind=kind,
                        actor=request.user,
                        expires_on=form.cleaned_data["expires_on"],
                    )
                else:
                    services.expirable_renew(
                        record=record,
                        actor=request.user,
                        expires_on=form.cleaned_data["expires_on"],
                        issued_on=form.cleaned_data.get("issued_on"),
                    )
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, f"{record} renewed.")
                return HttpResponseRedirect(self._change_url(application))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Record the renewal of {record}",
            "application": application,
            "form": form,
            "opts": self.model._meta,
            "original": application,
            "step": "renew",
        }
        return TemplateResponse(request, "admin/credentialing/step.html", context)

    # -- list actions (each calls a service per application; refusals are reported, not raised)

    def _each(self, request: HttpRequest, queryset: QuerySet[Any], perform: Any, done: str) -> None:
        ok = 0
        for application in queryset:
            try:
                perform(application)
                ok += 1
            except ApplicationError as error:
                messages.error(
                    request, f"#{application.pk} {application.subject_name}: {error.message}"
                )
        if ok:
            messages.success(request, f"{ok} application(s) {done}.")

    @admin.action(description="Assign to me", permissions=["change"])
    def assign_to_me(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._each(request, queryset, lambda a: services.application_assign(
            application=a, actor=request.user, assignee=request.user), "assigned to you")  # fmt: skip

    @admin.action(description="Request missing documents (mark incomplete)", permissions=["change"])
    def request_documents(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._each(request, queryset, lambda a: services.application_request_documents(
            application=a, actor=request.user), "marked incomplete with their missing items")  # fmt: skip

    @admin.action(description="Start verification (file complete)", permissions=["change"])
    def start_verification(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._each(request, queryset, lambda a: services.application_start_verification(
            application=a, actor=request.user), "moved to verification")  # fmt: skip

    @admin.action(description="Send to committee (verification done)", permissions=["change"])
    def send_to_committee(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._each(request, queryset, lambda a: services.application_send_to_committee(
            application=a, actor=request.user), "sent to the committee")  # fmt: skip

    @admin.action(description="Record the committee decision", permissions=["change"])
    def record_decision(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        if queryset.count() != 1:
            messages.error(request, "Record a decision for one application at a time.")
            return None
        return HttpResponseRedirect(
            reverse("admin:credentialing_step", args=[queryset[0].pk, "decide"])
        )


def _do_request(application: Any, user: Any, data: dict[str, Any]) -> str:
    application = services.application_request_documents(
        application=application, actor=user, extra_items=data["extra_items"], reason=data["reason"]
    )
    return f"Marked incomplete; {len(application.missing_items)} item(s) requested."


def _do_verify(application: Any, user: Any, data: dict[str, Any]) -> str:
    services.application_start_verification(
        application=application, actor=user, reason=data["reason"]
    )
    return "The file is complete: verification started and the 10-day clock is running."


def _do_committee(application: Any, user: Any, data: dict[str, Any]) -> str:
    services.application_send_to_committee(
        application=application, actor=user, reason=data["reason"]
    )
    return "Sent to the committee."


def _do_return(application: Any, user: Any, data: dict[str, Any]) -> str:
    services.application_return_to_verification(
        application=application, actor=user, reason=data["reason"]
    )
    return "Returned to verification."


def _do_decide(application: Any, user: Any, data: dict[str, Any]) -> str:
    decision = services.application_decide(
        application=application, actor=user, decision=data["decision"],
        decided_on=data["decided_on"], notes=data["notes"],
    )  # fmt: skip
    return f"Decision recorded: {decision.get_decision_display().lower()}. The letter is being prepared."


def _do_notified(application: Any, user: Any, data: dict[str, Any]) -> str:
    decision = get_object_or_404(CommitteeDecision, application=application)
    services.decision_notified(decision=decision, actor=user, notified_on=data["notified_on"],
                               method=data["method"])  # fmt: skip
    return "Notification recorded."


def _do_withdraw(application: Any, user: Any, data: dict[str, Any]) -> str:
    services.application_withdraw(application=application, actor=user, reason=data["reason"])
    return "The application is withdrawn."


STEPS: dict[str, tuple[str, type[forms.Form], Any]] = {
    "request": ("Request documents", step_forms.RequestDocumentsForm, _do_request),
    "verify": ("Start verification", step_forms.ReasonForm, _do_verify),
    "committee": ("Send to committee", step_forms.ReasonForm, _do_committee),
    "return": ("Return to verification", step_forms.RequiredReasonForm, _do_return),
    "decide": ("Record the committee decision", step_forms.DecisionForm, _do_decide),
    "notified": ("Record the notification", step_forms.NotifiedForm, _do_notified),
    "withdraw": ("Withdraw", step_forms.RequiredReasonForm, _do_withdraw),
}


def _steps_for(application: CredentialingApplication) -> list[tuple[str, str, str]]:
    """The workflow buttons shown on an application's page for its current status:
    (url, label, why it is disabled — "" when it can be done)."""
    status = application.status
    steps: list[tuple[str, str, str]] = []
    if status in (ApplicationStatus.RECEIVED, ApplicationStatus.VERIFICATION):
        steps.append(("request", "Request documents", ""))
    if status in (ApplicationStatus.RECEIVED, ApplicationStatus.INCOMPLETE):
        steps.append(("verify", "Start verification", ""))
    if status == ApplicationStatus.VERIFICATION:
        # The service's own rule: the button is disabled for exactly the reason it would refuse.
        refusal = selectors.committee_refusal(application, on=timezone.localdate())
        steps.append(("committee", "Send to committee", refusal))
    if status == ApplicationStatus.COMMITTEE:
        steps += [("decide", "Record decision", ""), ("return", "Return to verification", "")]
    if (
        status in DECIDED
        and not CommitteeDecision.objects.filter(
            application=application, notified_on__isnull=False
        ).exists()
    ):
        steps.append(("notified", "Record notification", ""))
    if status in OPEN_STATUSES:
        steps.append(("withdraw", "Withdraw", ""))
    return [
        (reverse("admin:credentialing_step", args=[application.pk, s]), label, reason)
        for s, label, reason in steps
    ]


DECIDED = (ApplicationStatus.APPROVED, ApplicationStatus.DENIED)


# --- Tasks, screening, change requests ----------------------------------------------------


@admin.register(StaffTask)
class StaffTaskAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "kind",
        "due_on",
        "status",
        "assignee",
        "practitioner",
        "clinic",
        "created_at",
    ]
    list_filter = ["status", "kind", ("due_on", admin.DateFieldListFilter)]
    search_fields = ["title", "practitioner__npi", "practitioner__last_name", "clinic__legal_name"]
    list_select_related = ["assignee", "practitioner", "clinic"]
    readonly_fields = ["kind", "title", "practitioner", "clinic", "application", "due_on", "status",
                       "created_at", "done_at", "done_by", "note"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["mark_done"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark selected tasks done", permissions=["change"])
    def mark_done(self, request: HttpRequest, queryset: QuerySet[StaffTask]) -> None:
        done = 0
        for task in queryset.filter(status=TaskStatus.OPEN):
            services.staff_task_complete(task=task, actor=request.user)
            done += 1
        messages.success(request, f"{done} task(s) marked done.")


class ScreeningResultInline(admin.TabularInline):
    model = ScreeningResult
    extra = 0
    can_delete = False
    fields = ["practitioner", "clinic", "outcome", "matched_on", "matched_line", "review_status"]
    readonly_fields = fields  # type: ignore[assignment]
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .exclude(outcome="clear")
            .select_related("practitioner", "clinic")
        )

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ScreeningRun)
class ScreeningRunAdmin(ReadOnlyAdmin):
    """Each run is the proof that everyone was screened; add = upload a published list."""

    list_display = ["__str__", "status", "file_date", "rows_read", "rows_rejected",
                    "practitioners_screened", "clinics_screened", "hits", "started_at"]  # fmt: skip
    list_filter = ["source", "status"]
    inlines = [ScreeningResultInline]
    change_form_template = "admin/credentialing/screeningrun_change_form.html"
    readonly_fields = ["source", "file_name", "file_fingerprint", "file_date", "status", "started_by",
                       "started_at", "finished_at", "rows_read", "rows_rejected", "line_error_list",
                       "practitioners_screened", "clinics_screened", "hits", "failure"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]

    @admin.display(description="file SHA-256")
    def file_fingerprint(self, run: ScreeningRun) -> str:
        return short_hash(run.file_sha256)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        """While the run works the page counts the lines read and reloads itself every 2 s
        (a meta refresh: no script, strict CSP); done, it stops and sums the result up."""
        run = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if run is not None:
            extra_context["progress"] = selectors.screening_run_progress(run)
            extra_context["run"] = run
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="lines not read")
    def line_error_list(self, run: ScreeningRun) -> str:
        if not run.line_errors:
            return "None"
        return format_html_join(
            "",
            "<div>line {}: {}</div>",
            ((e.get("line"), e.get("error")) for e in run.line_errors[:200]),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("credentialing.add_screeningrun")

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        from django.db import transaction

        from .services.exclusions import screening_run_create
        from .tasks import screening_run_execute

        if not self.has_add_permission(request):
            raise Http404
        form = step_forms.ScreeningUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                with transaction.atomic():
                    run = screening_run_create(
                        source=form.cleaned_data["source"], upload=upload, file_name=upload.name,
                        file_date=form.cleaned_data.get("file_date"), actor=request.user,
                    )  # fmt: skip
                    transaction.on_commit(lambda: screening_run_execute.delay(run.pk))
            except ApplicationError as error:
                form.add_error("file", error.message)
            else:
                messages.success(
                    request,
                    "The list is stored; screening runs now. This page shows the counts when it is done.",
                )
                return HttpResponseRedirect(
                    reverse("admin:credentialing_screeningrun_change", args=[run.pk])
                )
        context = {**self.admin_site.each_context(request), "title": "Screen against an exclusion list",
                   "form": form, "opts": self.model._meta, "step": "screen"}  # fmt: skip
        return TemplateResponse(request, "admin/credentialing/step.html", context)


@admin.register(ScreeningResult)
class ScreeningResultAdmin(AuditedReadAdmin, ReadOnlyAdmin):
    change_form_template = "admin/credentialing/application_change_form.html"
    list_display = [
        "__str__",
        "run",
        "outcome",
        "matched_on",
        "review_status",
        "reviewed_by",
        "reviewed_at",
    ]
    list_filter = ["review_status", "outcome", "run__source"]
    search_fields = ["practitioner__npi", "practitioner__last_name", "clinic__legal_name"]
    list_select_related = ["practitioner", "clinic", "run", "reviewed_by"]
    readonly_fields = ["run", "practitioner", "clinic", "outcome", "matched_on", "matched_line",
                       "matched_person", "review_status", "reviewed_by", "reviewed_at", "review_notes"]  # fmt: skip
    fields = readonly_fields  # type: ignore[assignment]
    actions = ["review"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).exclude(outcome="clear")

    @admin.display(description="the listed person")
    def matched_person(self, result: ScreeningResult) -> str:
        return matched_record_table(result.matched_record)

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<int:pk>/review/",
                self.admin_site.admin_view(self.review_view),
                name="credentialing_screening_review",
            ),  # fmt: skip
            *super().get_urls(),
        ]

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        result = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if result is not None and result.review_status == ReviewStatus.OPEN:
            extra_context["steps"] = [
                (
                    reverse("admin:credentialing_screening_review", args=[result.pk]),
                    "Review this match",
                    "",
                )
            ]
        return super().change_view(request, object_id, form_url, extra_context)

    def review_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        from .services.exclusions import screening_review_resolve

        result = get_object_or_404(ScreeningResult, pk=pk)
        if not request.user.has_perm("credentialing.change_screeningresult"):
            raise Http404
        form = step_forms.ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                screening_review_resolve(result=result, actor=request.user,
                                         decision=form.cleaned_data["decision"], notes=form.cleaned_data["notes"])  # fmt: skip
            except ApplicationError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, "Review recorded.")
                return HttpResponseRedirect(
                    reverse("admin:credentialing_screeningresult_change", args=[pk])
                )
        context = {**self.admin_site.each_context(request), "title": f"Review the match: {result}",
                   "form": form, "opts": self.model._meta, "step": "review", "result": result,
                   "matched_table": matched_record_table(result.matched_record)}  # fmt: skip
        return TemplateResponse(request, "admin/credentialing/step.html", context)

    @admin.action(description="Review the selected match", permissions=["view"])
    def review(self, request: HttpRequest, queryset: QuerySet[Any]) -> Any:
        first = queryset.filter(review_status=ReviewStatus.OPEN).first()
        if first is None:
            messages.error(request, "Choose a match that is open for review.")
            return None
        return HttpResponseRedirect(
            reverse("admin:credentialing_screening_review", args=[first.pk])
        )


class ChangeRequestForm(forms.ModelForm):
    """The request and the new values (only those its kind uses are kept)."""

    new_name = forms.CharField(required=False, label="Location name")
    street = forms.CharField(required=False)
    street2 = forms.CharField(required=False)
    city = forms.CharField(required=False)
    state = forms.CharField(required=False, max_length=2)
    zip_code = forms.CharField(required=False, label="ZIP code")
    phone = forms.CharField(required=False)
    first_name = forms.CharField(required=False, label="Practitioner's new first name")
    last_name = forms.CharField(required=False, label="Practitioner's new last name")
    languages = ChoiceListField(
        choices=Language.choices,
        required=False,
        label="Languages the practitioner speaks (all of them)",
        help_text="Leave every box empty to keep the languages on file.",
    )

    class Meta:
        model = ChangeRequest
        fields = [
            "clinic",
            "kind",
            "practitioner",
            "location",
            "requested_by",
            "received_on",
            "effective_on",
        ]
        widgets = {"received_on": forms.DateInput(attrs={"type": "date"}),
                   "effective_on": forms.DateInput(attrs={"type": "date"})}  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("received_on", "effective_on"):
            if name in self.fields:  # a recorded request shows every field read-only
                self.fields[name].required = False

    def details(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data.get("kind")
        if kind in (ChangeKind.ADD_LOCATION, ChangeKind.CHANGE_LOCATION):
            values = {"name": data.get("new_name"), "street": data.get("street"),
                      "street2": data.get("street2"), "city": data.get("city"),
                      "state": (data.get("state") or "").upper(), "zip_code": data.get("zip_code"),
                      "phone": data.get("phone")}  # fmt: skip
        elif kind == ChangeKind.CHANGE_PRACTITIONER:
            values = {"first_name": data.get("first_name"), "last_name": data.get("last_name"),
                      "languages": data.get("languages")}  # fmt: skip
        else:
            values = {}
        return {k: v for k, v in values.items() if v}


@admin.register(ChangeRequest)
class ChangeRequestAdmin(AuditedReadAdmin):
    form = ChangeRequestForm
    list_display = [
        "__str__",
        "kind",
        "status",
        "practitioner",
        "location",
        "received_on",
        "effective_on",
        "completed_at",
    ]
    list_filter = ["status", "kind"]
    search_fields = [
        "clinic__legal_name",
        "clinic__dba_name",
        "practitioner__last_name",
        "practitioner__npi",
    ]
    list_select_related = ["clinic", "practitioner", "location"]
    autocomplete_fields = ["clinic", "practitioner"]
    raw_id_fields = ["location"]
    actions = ["complete", "reject"]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is not None:
            return [(None, {"fields": ["clinic", "kind", "status", "practitioner", "location", "requested_changes",
                                       "requested_by", "received_on", "effective_on", "completed_by",
                                       "completed_at", "resolution", "created_location",
                                       "created_application"]})]  # fmt: skip
        return [
            (None, {"fields": ["clinic", "kind", "practitioner", "location", "requested_by",
                               "received_on", "effective_on"]}),
            ("New or changed location", {"fields": ["new_name", "street", "street2", "city", "state", "zip_code", "phone"]}),
            ("Practitioner's name or languages", {"fields": ["first_name", "last_name", "languages"]}),
        ]  # fmt: skip

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [f.name for f in ChangeRequest._meta.fields if f.name != "id"] + [
            "requested_changes"
        ]

    @admin.display(description="new values")
    def requested_changes(self, obj: ChangeRequest) -> str:
        """The new values in words (languages by name, never their codes)."""
        labels = dict(Language.choices)
        shown = []
        for key, value in sorted((obj.details or {}).items()):
            if key == "languages":
                value = ", ".join(str(labels.get(code, code)) for code in value)
            shown.append(f"{key.replace('_', ' ')}: {value}")
        return "; ".join(shown) or "—"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        data = form.cleaned_data
        saved = services.change_request_create(
            actor=request.user, clinic=data["clinic"], kind=data["kind"],
            requested_by=data.get("requested_by") or "", received_on=data.get("received_on"),
            effective_on=data.get("effective_on"), practitioner=data.get("practitioner"),
            location=data.get("location"), details=form.details(),
        )  # fmt: skip
        obj.pk = saved.pk
        obj.refresh_from_db()

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        from django.db import transaction

        try:
            with transaction.atomic():
                return super().add_view(request, form_url, extra_context)
        except ApplicationError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(request.path)

    @admin.action(description="Complete: apply the change", permissions=["change"])
    def complete(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        from django.db import transaction

        for change in queryset.filter(status=ChangeStatus.OPEN):
            try:
                with transaction.atomic():
                    done = services.change_request_complete(request=change, actor=request.user)
            except ApplicationError as error:
                messages.error(request, f"#{change.pk}: {error.message}")
            else:
                messages.success(request, f"#{done.pk}: {done.resolution}")

    @admin.action(description="Reject (reason: 'Rejected from the admin')", permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[ChangeRequest]) -> None:
        for change in queryset.filter(status=ChangeStatus.OPEN):
            services.change_request_reject(
                request=change, actor=request.user, reason="Rejected from the admin"
            )
        messages.success(request, "Rejected.")
