"""Input forms of the credentialing workflow (admin step pages and the staff pages)."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from .models import (
    AttachmentKind,
    Decision,
    ExclusionSource,
    VerificationItem,
    VerificationResult,
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Reason or note"
    )


class RequiredReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reason")


class RequestDocumentsForm(forms.Form):
    extra_items = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        label="Also ask for",
        help_text="One item per line, in addition to what the checklist finds missing.",
    )
    reason = forms.CharField(required=False, label="Note to the file")

    def clean_extra_items(self) -> list[str]:
        return [
            line.strip() for line in self.cleaned_data["extra_items"].splitlines() if line.strip()
        ]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=Decision.choices, widget=forms.RadioSelect)
    decided_on = forms.DateField(
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Committee date",
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Required for a denial: the reasons appear in the applicant's letter.",
    )


class NotifiedForm(forms.Form):
    notified_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    method = forms.CharField(max_length=40, initial="Mail and email")


class RenewForm(forms.Form):
    expires_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), label="New expiry date"
    )
    issued_on = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Renewed on"
    )


class VerificationForm(forms.Form):
    item = forms.ChoiceField(choices=VerificationItem.choices)
    result = forms.ChoiceField(choices=VerificationResult.choices)
    verified_on = forms.DateField(
        initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"})
    )
    source = forms.CharField(required=False, help_text="Leave empty for the usual source.")
    reference = forms.CharField(required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(choices=AttachmentKind.choices)
    file = forms.FileField(help_text="PDF, PNG or JPEG.")


class ScreeningUploadForm(forms.Form):
    source = forms.ChoiceField(choices=ExclusionSource.choices)
    file = forms.FileField(help_text="The list as published (CSV).")
    file_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The date the list was published; today when empty.",
    )


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[
            ("confirmed", "Confirmed: the same person or organization (listing stays suspended)"),
            ("cleared", "Cleared: not the same (listing restored if nothing else holds it)"),
        ],
        widget=forms.RadioSelect,
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))


class ChecklistVerificationForm(forms.Form):
    """One checklist item's verification: today and the item's usual primary source prefilled."""

    result = forms.ChoiceField(
        choices=VerificationResult.choices,
        initial=VerificationResult.VERIFIED,
        widget=forms.RadioSelect,
    )
    verified_on = forms.DateField(
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
        label="Verified on",
    )
    source = forms.CharField(
        max_length=200, label="Primary source", widget=forms.TextInput(attrs={"size": 50})
    )
    reference = forms.CharField(
        max_length=200,
        label="Reference",
        widget=forms.TextInput(attrs={"size": 50}),
        help_text="Confirmation number, query id or web address of the check.",
    )
    notes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Required for an adverse finding or when it could not be verified.",
    )
