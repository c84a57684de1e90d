"""Kernel forms: HTML input only (the rules are in cooperative.services and cooperative.mfa)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone

EXPIRY_CHOICES = (("30", "30 days"), ("90", "90 days"), ("365", "1 year"))


class ApiTokenCreateForm(forms.Form):
    """A new API token: what it is for and when it stops working."""

    label = forms.CharField(
        label="Name",
        max_length=100,
        help_text="What the token is for, so you can tell your tokens apart (e.g. “Billing export”).",
    )
    expires_in = forms.ChoiceField(label="Expires after", initial="90")
    expires_on = forms.DateField(
        label="Or on this date",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Choose “On a date” above to use it. The token stops working at the start of that day (Central time).",
    )

    def __init__(self, *args: Any, max_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_days = max_days
        choices = [(days, text) for days, text in EXPIRY_CHOICES if int(days) <= max_days]
        expires_in = self.fields["expires_in"]
        assert isinstance(expires_in, forms.ChoiceField)
        expires_in.choices = [*choices, ("date", "On a date")]
        self.fields["expires_in"].help_text = f"At most {max_days} days."
        today = timezone.localdate()
        self.fields["expires_on"].widget.attrs.update(
            min=(today + timedelta(days=1)).isoformat(),
            max=(today + timedelta(days=max_days)).isoformat(),
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        choice = data.get("expires_in")
        if choice == "date":
            on = data.get("expires_on")
            if on is None:
                if "expires_on" not in self.errors:
                    self.add_error("expires_on", "Give the date the token stops working.")
                return data
            data["expires_at"] = timezone.make_aware(datetime.combine(on, time.min))
        elif choice:
            data["expires_at"] = timezone.now() + timedelta(days=int(choice))
        return data

    def expiry_field(self) -> str:
        """The field a refused expiry is shown next to."""
        return "expires_on" if self.data.get("expires_in") == "date" else "expires_in"


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


class ChoiceListField(forms.TypedMultipleChoiceField):
    """An ArrayField of choice codes edited as a list of checkboxes showing each choice's label
    (the codes stay what is stored). The value is a list in the choices' order."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, *, choices: Any, **kwargs: Any) -> None:
        for ignored in ("base_field", "max_length", "size", "delimiter"):
            kwargs.pop(ignored, None)
        kwargs.setdefault("coerce", str)
        kwargs.setdefault("empty_value", [])
        super().__init__(choices=choices, **kwargs)

    def clean(self, value: Any) -> list[str]:
        chosen = {str(code) for code in super().clean(value) or []}
        order = [str(code) for code, _label in self.widget.choices]
        return [code for code in order if code in chosen]


def choice_list_formfield(model_field: Any, **kwargs: Any) -> ChoiceListField:
    """The checkbox list for an ArrayField whose base field has choices (label, help, required
    and initial taken from the model field)."""
    return ChoiceListField(
        choices=model_field.base_field.choices,
        label=kwargs.pop("label", str(model_field.verbose_name).capitalize()),
        required=kwargs.pop("required", not model_field.blank),
        help_text=kwargs.pop("help_text", model_field.help_text),
        **kwargs,
    )


class PersonChoiceField(forms.ModelChoiceField):
    """A choice of user shown by full name (the username when there is none)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())
