"""HTML input of the advocacy workspace (validation of the input only: the rules are in services)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone

from cooperative.forms import PersonChoiceField
from cooperative.periods import Period, PeriodError
from members.forms import apply_service_errors  # noqa: F401  (re-exported for the views)

from .models import (
    CasePriority,
    CaseStatus,
    CaseType,
    ComplexCondition,
    ContactChannel,
    ContactDirection,
    ContactParty,
    NoticeMethod,
    ReferralKind,
    SourceChannel,
    UtilizationType,
)
from .selectors import QUEUES, advocates

DATE = forms.DateInput(attrs={"type": "date"})
BLANK = [("", "Any")]


def _advocate_field(required: bool = False, label: str = "Assignee") -> forms.ModelChoiceField:
    """Active advocates only, by name (shown by full name)."""
    return PersonChoiceField(
        queryset=advocates(), required=required, label=label, empty_label="Unassigned"
    )


class QueueFilterForm(forms.Form):
    queue = forms.ChoiceField(choices=list(QUEUES.items()), required=False)
    case_type = forms.ChoiceField(label="Type", choices=BLANK + CaseType.choices, required=False)
    priority = forms.ChoiceField(choices=BLANK + CasePriority.choices, required=False)
    status = forms.ChoiceField(choices=BLANK + CaseStatus.choices, required=False)
    state = forms.ChoiceField(
        label="Member's state",
        choices=BLANK + [(s, s) for s in settings.SERVICE_AREA_STATES],
        required=False,
    )
    q = forms.CharField(label="Search", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Member number, name, C-000123"}))  # fmt: skip
    sort = forms.ChoiceField(
        choices=[("due", "Due date, soonest first"), ("-due", "Due date, latest first"),
                 ("priority", "Priority"), ("opened", "Newest first")],
        required=False,
    )  # fmt: skip
    # The dashboard's figures: the cases a chart bar or a tile counts (hidden on the form).
    overdue_on = forms.DateField(required=False, widget=forms.HiddenInput)
    resolved_in = forms.CharField(required=False, max_length=7, widget=forms.HiddenInput)
    resolved_from = forms.CharField(required=False, max_length=7, widget=forms.HiddenInput)

    def _period(self, name: str) -> Period | None:
        value = self.cleaned_data.get(name) or ""
        if not value:
            return None
        try:
            return Period.parse(value)
        except PeriodError:
            raise forms.ValidationError("A month as YYYY-MM.") from None

    def clean_resolved_in(self) -> Period | None:
        return self._period("resolved_in")

    def clean_resolved_from(self) -> Period | None:
        return self._period("resolved_from")


class CaseOpenForm(forms.Form):
    member_number = forms.CharField(
        max_length=16, help_text="From the member's card, e.g. M00001234."
    )
    case_type = forms.ChoiceField(label="Type", choices=CaseType.choices)
    priority = forms.ChoiceField(choices=CasePriority.choices, initial=CasePriority.NORMAL)
    source = forms.ChoiceField(label="How it came in", choices=SourceChannel.choices)
    summary = forms.CharField(max_length=300)
    note = forms.CharField(
        label="First note", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    assign_to_me = forms.BooleanField(label="Assign it to me", required=False, initial=True)


class NoteForm(forms.Form):
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 3}))
    is_shared = forms.BooleanField(
        label="Share with the member (shows in their portal)", required=False
    )


class ContactForm(forms.Form):
    channel = forms.ChoiceField(choices=ContactChannel.choices)
    direction = forms.ChoiceField(choices=ContactDirection.choices)
    party = forms.ChoiceField(label="With", choices=ContactParty.choices)
    with_whom = forms.CharField(label="Name or office", max_length=200)
    occurred_at = forms.DateTimeField(
        label="When", required=False, help_text="Leave empty for now.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )  # fmt: skip
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))

    def clean_occurred_at(self) -> datetime | None:
        # The service's check, here too, so that it shows with the other fields' errors.
        value: datetime | None = self.cleaned_data["occurred_at"]
        if value is not None and value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("This is in the future.")
        return value


class TaskForm(forms.Form):
    title = forms.CharField(label="Task", max_length=200)
    due_on = forms.DateField(label="Due", widget=DATE)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its ids are its own: the case page also holds the assign form's "assignee".
        kwargs.setdefault("auto_id", "id_task_%s")
        super().__init__(*args, **kwargs)
        field = _advocate_field(label="Who")
        field.empty_label = "The case's advocate"
        self.fields["assignee"] = field

    def clean_due_on(self) -> date:
        # The service's check, here too, so that it shows with the other fields' errors.
        value: date = self.cleaned_data["due_on"]
        if value < timezone.localdate() - timedelta(days=365):
            raise forms.ValidationError("Check the date: it is more than a year ago.")
        return value


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(label="New status", choices=CaseStatus.choices)
    reason = forms.CharField(max_length=500, required=False)
    resolution = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text="When resolving: what was done.")  # fmt: skip


class AssignForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assignee"] = _advocate_field()


class PriorityForm(forms.Form):
    priority = forms.ChoiceField(choices=CasePriority.choices)


class SavingsForm(forms.Form):
    billed_amount = forms.DecimalField(
        label="Billed", required=False, min_value=0, decimal_places=2, max_digits=12
    )
    expected_amount = forms.DecimalField(
        label="Agreed or expected", required=False, min_value=0, decimal_places=2, max_digits=12
    )
    paid_amount = forms.DecimalField(
        label="Finally paid", required=False, min_value=0, decimal_places=2, max_digits=12
    )
    recovered_amount = forms.DecimalField(
        label="Recovered or avoided", required=False, min_value=0, decimal_places=2, max_digits=12
    )


class PolicyLinkForm(forms.Form):
    """Link a payer policy update to the case (the case's payer's first)."""

    policy_update: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=None, label="Payer policy update"
    )
    note = forms.CharField(
        max_length=300, required=False, help_text="Why it matters for this case."
    )

    def __init__(self, *args: Any, payer_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from django.db.models import Case as When_
        from django.db.models import IntegerField, Value, When

        from providers.models import PayerPolicyUpdate

        field = self.fields["policy_update"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above: narrows the type
        field.queryset = (
            PayerPolicyUpdate.objects.select_related("payer")
            .annotate(is_case_payer=When_(When(payer_id=payer_id, then=Value(0)), default=Value(1), output_field=IntegerField()))
            .order_by("is_case_payer", "-effective_on", "-pk")
        )  # fmt: skip
        field.label_from_instance = _policy_label  # type: ignore[method-assign,assignment]


def _policy_label(policy: Any) -> str:
    return f"{policy.payer.name}, effective {policy.effective_on:%b %-d, %Y}: {policy.summary[:80]}"


class AttachmentForm(forms.Form):
    description = forms.CharField(max_length=200)
    file = forms.FileField(help_text="PDF, PNG or JPEG.")


class UtilizationForm(forms.Form):
    member_number = forms.CharField(max_length=16)
    event_type = forms.ChoiceField(label="Type", choices=UtilizationType.choices)
    occurred_on = forms.DateField(label="Date (admission for a stay)", widget=DATE)
    discharged_on = forms.DateField(label="Discharge date", required=False, widget=DATE)
    condition = forms.ChoiceField(
        label="Complex condition", choices=[("", "—")] + ComplexCondition.choices, required=False
    )
    provider_name = forms.CharField(label="Provider", max_length=200)
    description = forms.CharField(max_length=300, required=False)


class UtilizationImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: member_number,type,date,discharge_date,condition,provider,description",
    )


class NoticeSentForm(forms.Form):
    sent_on = forms.DateField(widget=DATE)
    method = forms.ChoiceField(choices=NoticeMethod.choices)


class ResponseForm(forms.Form):
    response = forms.ChoiceField(
        choices=[("accepted", "Accepted care coordination"), ("declined", "Declined")]
    )
    responded_on = forms.DateField(widget=DATE)
    note = forms.CharField(max_length=500, required=False)


class ExpenseForm(forms.Form):
    service_date = forms.DateField(widget=DATE)
    description = forms.CharField(max_length=200)
    code = forms.CharField(max_length=5, required=False)
    provider_name = forms.CharField(label="Provider", max_length=200)
    billed_amount = forms.DecimalField(label="Billed", min_value=0, decimal_places=2, max_digits=12)
    plan_amount = forms.DecimalField(
        label="Plan would pay", min_value=0, decimal_places=2, max_digits=12
    )


class PlanForm(forms.Form):
    goals = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    interventions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    other_responsible = forms.CharField(
        label="Responsible providers", max_length=300, required=False
    )
    starts_on = forms.DateField(widget=DATE)
    review_interval_days = forms.IntegerField(
        label="Review every (days)", min_value=7, max_value=365, initial=30
    )
    requires_submission = forms.BooleanField(
        label="Progress must be submitted at each review", required=False
    )


class ReviewForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("complete", "Completed"),
            ("excuse", "Excuse the miss"),
            ("confirm", "Confirm failure to cooperate"),
        ]
    )
    completed_on = forms.DateField(required=False, widget=DATE)
    submission_received_on = forms.DateField(required=False, widget=DATE)
    notes = forms.CharField(required=False, max_length=500)


class DisputeForm(forms.Form):
    payer: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None)
    claim_number = forms.CharField(max_length=40)
    service_date = forms.DateField(label="Date of service", widget=DATE)
    decision_on = forms.DateField(label="Payer decision date", widget=DATE)
    codes = forms.CharField(help_text="CPT/HCPCS codes separated by commas, e.g. 99214, 80053.")
    billed_amount = forms.DecimalField(label="Billed", min_value=0, decimal_places=2, max_digits=12)
    allowed_amount = forms.DecimalField(
        label="Allowed", min_value=0, decimal_places=2, max_digits=12
    )
    paid_amount = forms.DecimalField(label="Paid", min_value=0, decimal_places=2, max_digits=12)
    expected_amount = forms.DecimalField(label="Expected", required=False, min_value=0, decimal_places=2, max_digits=12,
                                         help_text="Leave empty to use the provider's fee schedule.")  # fmt: skip
    filing_deadline = forms.DateField(
        required=False, widget=DATE, help_text="Only when the payer has no contract on file."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from providers.models import Payer

        self.fields["payer"].queryset = Payer.objects.order_by("name")  # type: ignore[attr-defined]

    def clean_codes(self) -> list[str]:
        return [
            c.strip().upper()
            for c in self.cleaned_data["codes"].replace(";", ",").split(",")
            if c.strip()
        ]

    def clean(self) -> dict[str, Any]:
        """The service's checks across fields, here too, so that they show at once with the
        errors of single fields (the service checks them again)."""
        super().clean()
        data = self.cleaned_data
        billed, paid = data.get("billed_amount"), data.get("paid_amount")
        if billed is not None and paid is not None and paid > billed:
            self.add_error("paid_amount", "The paid amount cannot be more than the billed amount.")
        service_on, decided_on = data.get("service_date"), data.get("decision_on")
        today = timezone.localdate()
        if service_on is not None and service_on > today:
            self.add_error("service_date", "The date of service cannot be in the future.")
        if decided_on is not None and decided_on > today:
            self.add_error("decision_on", "The payer decision date cannot be in the future.")
        if service_on and decided_on and decided_on < service_on:
            self.add_error(
                "decision_on", "The payer's decision cannot be before the date of service."
            )
        return data


class DisputeOutcomeForm(forms.Form):
    action = forms.ChoiceField(
        choices=[
            ("submit", "Submitted to the payer"),
            ("response", "Payer answered"),
            ("outcome", "Outcome"),
        ]
    )
    on = forms.DateField(label="On", widget=DATE)
    outcome = forms.ChoiceField(
        choices=[
            ("", "—"),
            ("won", "Won"),
            ("partial", "Partially won"),
            ("lost", "Lost"),
            ("withdrawn", "Withdrawn"),
        ],
        required=False,
    )
    recovered_amount = forms.DecimalField(
        label="Recovered", required=False, min_value=0, decimal_places=2, max_digits=12
    )


class BillReviewForm(forms.Form):
    practitioner_npi = forms.CharField(
        label="Provider's NPI",
        max_length=10,
        required=False,
        help_text="Only while the case names no practitioner: the bill is compared with their fee schedule.",
    )
    bill_reference = forms.CharField(label="Bill or account number", max_length=60, required=False)
    service_date = forms.DateField(label="Date of service", widget=DATE)
    lines = forms.CharField(
        label="Bill lines", widget=forms.Textarea(attrs={"rows": 5}),
        help_text="One line per service: code, amount[, units][, description] — e.g. 99214, 310.00",
    )  # fmt: skip

    def clean_lines(self) -> list[dict[str, Any]]:
        rows = []
        for number, raw in enumerate(self.cleaned_data["lines"].splitlines(), start=1):
            if not raw.strip():
                continue
            parts = [p.strip() for p in raw.split(",")]
            if len(parts) < 2:
                raise forms.ValidationError(f"Line {number}: give a code and an amount.")
            row: dict[str, Any] = {
                "code": parts[0].upper(),
                "billed_amount": parts[1].replace("$", ""),
            }
            if len(parts) > 2 and parts[2]:
                row["units"] = parts[2]
            if len(parts) > 3:
                row["description"] = ", ".join(parts[3:])
            rows.append(row)
        if not rows:
            raise forms.ValidationError("Enter at least one line.")
        return rows


class ReferralForm(forms.Form):
    kind = forms.ChoiceField(choices=ReferralKind.choices)
    practitioner_npi = forms.CharField(label="In-network practitioner's NPI", max_length=10, required=False,
                                       help_text="Find them in the provider directory.")  # fmt: skip
    out_of_network_provider = forms.CharField(
        label="Out-of-network provider", max_length=300, required=False
    )
    reason = forms.CharField(max_length=300)
