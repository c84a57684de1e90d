"""HTML (and API query) input of the providers app."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from cooperative.exceptions import ApplicationError

from .models import CareApproach, Language
from .selectors import DirectoryQuery, specialty_choices

MAX_RADIUS_MILES = 200
DEFAULT_RADIUS_MILES = 25


class DirectorySearchForm(forms.Form):
    """The directory's filters: one rule book for the page and GET /api/v1/providers/."""

    near = forms.CharField(
        label="Near ZIP code",
        required=False,
        max_length=10,
        widget=forms.TextInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "postal-code",
                "placeholder": "e.g. 77002",
            }
        ),
    )
    radius = forms.IntegerField(
        label="Within (miles)",
        required=False,
        min_value=1,
        max_value=MAX_RADIUS_MILES,
        widget=forms.NumberInput(attrs={"placeholder": str(DEFAULT_RADIUS_MILES)}),
    )
    q = forms.CharField(label="Name", required=False, max_length=100)
    specialty = forms.CharField(
        label="Specialty", required=False, max_length=20, widget=forms.Select
    )
    approach = forms.ChoiceField(
        label="Care approach", required=False, choices=[("", "Any approach"), *CareApproach.choices]
    )
    language = forms.ChoiceField(
        label="Language", required=False, choices=[("", "Any language"), *Language.choices]
    )
    code = forms.CharField(
        label="Service code",
        required=False,
        max_length=5,
        help_text="CPT or HCPCS, e.g. 99213",
        widget=forms.TextInput(attrs={"placeholder": "e.g. 99213"}),
    )
    accepting = forms.BooleanField(label="Accepting new members", required=False)
    primary_care = forms.BooleanField(label="Primary care", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["specialty"].widget.choices = [("", "Any specialty"), *specialty_choices()]

    def clean_specialty(self) -> str:
        """A specialty's slug (from the page) or its NUCC code (from integrators)."""
        from .models import Specialty

        value = self.cleaned_data.get("specialty", "").strip()
        if value and not Specialty.objects.filter(slug=value).exists():
            found = Specialty.objects.filter(nucc_code=value).values_list("slug", flat=True).first()
            if found is None:
                raise forms.ValidationError(
                    f"We don't know the specialty '{value}'.", code="unknown_specialty"
                )
            value = found
        return value

    def clean_near(self) -> Any:
        from .services import zip_code_get

        value = self.cleaned_data.get("near", "").strip()
        if not value:
            return None
        try:
            return zip_code_get(value)
        except ApplicationError as error:
            raise forms.ValidationError(error.message, code="unknown_zip") from None

    def clean_code(self) -> str:
        from .models import validate_service_code

        value = self.cleaned_data.get("code", "").strip().upper()
        if value:
            validate_service_code(value)
        return value

    def to_query(self) -> DirectoryQuery:
        data = self.cleaned_data
        return DirectoryQuery(
            near=data.get("near"),
            radius_miles=data.get("radius") or DEFAULT_RADIUS_MILES,
            q=data.get("q", "").strip(),
            specialty=data.get("specialty", ""),
            approach=data.get("approach", ""),
            language=data.get("language", ""),
            accepting=bool(data.get("accepting")),
            primary_care=bool(data.get("primary_care")),
            code=data.get("code", ""),
        )


class OfferRejectForm(forms.Form):
    reason = forms.CharField(
        label="Why do you reject these terms?",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class OfferCounterForm(forms.Form):
    """One field per band fee and per service price, prefilled with the terms on offer."""

    note = forms.CharField(
        label="Note to the cooperative",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, agreement: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bands = list(agreement.age_bands.all())
        self.lines = list(agreement.fee_lines.all())
        for band in self.bands:
            self.fields[f"band_{band.min_age}"] = forms.DecimalField(
                label=f"Ages {band.min_age}–{band.max_age}, per month", max_digits=12, decimal_places=2,
                min_value=0, initial=band.monthly_fee,
            )  # fmt: skip
        for line in self.lines:
            self.fields[f"line_{line.code}"] = forms.DecimalField(
                label=f"{line.code} {line.description}", max_digits=12, decimal_places=2, min_value=Decimal("0.01"),
                initial=line.member_price,
            )  # fmt: skip

    def band_fields(self) -> list[Any]:
        return [self[f"band_{band.min_age}"] for band in self.bands]

    def line_fields(self) -> list[Any]:
        return [self[f"line_{line.code}"] for line in self.lines]

    def band_fees(self) -> dict[int, Decimal]:
        return {band.min_age: self.cleaned_data[f"band_{band.min_age}"] for band in self.bands}

    def line_prices(self) -> dict[str, Decimal]:
        return {line.code: self.cleaned_data[f"line_{line.code}"] for line in self.lines}


class PayerAnswerForm(forms.Form):
    answer = forms.ChoiceField(
        label="Your answer",
        choices=[
            ("accepted", "Join this contract"),
            ("countered", "Counter: ask for other terms"),
            ("rejected", "Decline"),
        ],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label="Why you decline, or what you ask for",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
