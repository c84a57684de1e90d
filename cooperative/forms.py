"""Kernel forms: the second step of sign-in."""

from __future__ import annotations

from django import forms


class SecondStepForm(forms.Form):
    """A 6-digit authenticator code, or (when `allow_recovery`) a recovery code."""

    code = forms.CharField(
        label="Code",
        max_length=20,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )

    def __init__(self, *args: object, allow_recovery: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["code"]
        if allow_recovery:
            field.label = "Code from your authenticator app, or a recovery code"
            field.help_text = "The 6 digits change every 30 seconds. A recovery code works once."
        else:
            field.label = "Code from your authenticator app"
            field.help_text = "The 6 digits the app shows for this account now."
            field.widget.attrs["inputmode"] = "numeric"
