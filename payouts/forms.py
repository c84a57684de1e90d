"""Payouts forms: starting a run (with the password typed again) and voiding a check."""

from __future__ import annotations

from typing import Any

from django import forms

from cooperative.periods import Period, PeriodError


class StartRunForm(forms.Form):
    period = forms.CharField(
        label="Month to pay out", max_length=7, help_text="YYYY-MM, e.g. 2026-10.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "YYYY-MM"}),
    )  # fmt: skip
    password = forms.CharField(
        label="Your password, again",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Starting a payout issues checks: confirm it is you.",
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_period(self) -> Period:
        try:
            return Period.parse(self.cleaned_data["period"])
        except PeriodError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.user is None or not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class VoidCheckForm(forms.Form):
    """Voiding a check takes money back out of a provider's hands: the reason, and the
    password typed again (as when starting a run)."""

    reason = forms.CharField(label="Why is the check void?", max_length=300)
    reissue = forms.BooleanField(label="Issue a new check for the same lines", required=False)
    password = forms.CharField(
        label="Your password, again",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the check is void.")
        return reason

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if self.user is None or not self.user.check_password(password):
            raise forms.ValidationError("That is not your password.")
        return password


class StatementSearchForm(forms.Form):
    q = forms.CharField(label="Search by provider", required=False, max_length=100)
