"""HTML input of the enrollment pages and the member portal (the rules live in services)."""

from __future__ import annotations

from typing import Any

from django import forms

from cooperative.exceptions import ApplicationError
from cooperative.validators import served_state_choices
from providers.models import CareApproach, Language

from .models import EmployerGroup, EmployerGroupStatus, PaymentReturnKind, Plan

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def apply_service_errors(
    form: forms.Form, error: ApplicationError, aliases: dict[str, str] | None = None
) -> None:
    """Show a service's field errors next to the form's fields (the rest at the top)."""
    aliases = aliases or {}
    if not error.errors:
        form.add_error(None, error.message)
        return
    for key, messages in error.errors.items():
        name = aliases.get(key, key)
        form.add_error(name if name in form.fields else None, messages)


class PersonForm(forms.Form):
    """Personal details: name, birth date, contact and address. No health questions, ever."""

    first_name = forms.CharField(
        max_length=100,
        label="First name",
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        max_length=100,
        label="Last name",
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        widget=DATE_INPUT,
        help_text="Members are under 65 on their start date.",
    )
    email = forms.CharField(
        max_length=254, label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        max_length=30,
        label="Phone",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    street = forms.CharField(
        max_length=200,
        label="Street address",
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    city = forms.CharField(
        max_length=100,
        label="City",
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    state = forms.ChoiceField(
        label="State", choices=[("", "Choose your state"), *served_state_choices()]
    )
    zip = forms.CharField(max_length=10, label="ZIP code", widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}))  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["state"].help_text = (
            "We serve members living in " + ", ".join(n for _, n in served_state_choices()) + "."
        )


class PlanForm(forms.Form):
    plan = forms.ChoiceField(label="Plan", widget=forms.RadioSelect)
    employer_code = forms.CharField(
        max_length=20, required=False, label="Employer code (optional)",
        help_text="If your employer contributes to your membership, type the code it gave you.",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plans: dict[str, Plan] = {}
        for plan in Plan.objects.filter(is_open_for_enrollment=True).order_by(
            "code", "-effective_from"
        ):
            plans.setdefault(plan.code, plan)
        self.fields["plan"].choices = [  # type: ignore[attr-defined]
            (
                p.code,
                f"{p.name} — cooperative portion ${p.cooperative_portion} a month plus your PCP's fee",
            )
            for p in plans.values()
        ]
        if len(plans) == 1:
            self.fields["plan"].initial = next(iter(plans))


class PcpSearchForm(forms.Form):
    """The PCP step's search: the directory limited to PCPs with room, near a ZIP."""

    near = forms.CharField(max_length=10, required=False, label="Near ZIP code")
    radius = forms.IntegerField(required=False, min_value=1, max_value=200, label="Within (miles)")
    q = forms.CharField(max_length=100, required=False, label="Name")
    approach = forms.ChoiceField(
        required=False, label="Care approach", choices=[("", "Any approach"), *CareApproach.choices]
    )
    language = forms.ChoiceField(required=False, label="Language", choices=[("", "Any language"), *Language.choices])  # fmt: skip


class DependentForm(forms.Form):
    """A family member's name and birth date; their PCP is chosen next, from the list."""

    first_name = forms.CharField(
        max_length=100, label="First name",
        error_messages={"required": "Enter their first name."},
    )  # fmt: skip
    last_name = forms.CharField(
        max_length=100, label="Last name", error_messages={"required": "Enter their last name."}
    )
    date_of_birth = forms.DateField(
        label="Date of birth", widget=DATE_INPUT,
        help_text="Under 18 on the start date: you choose among providers who see children.",
        error_messages={"required": "Enter their date of birth.", "invalid": "Enter the date of birth as a date, for example 2015-04-30."},
    )  # fmt: skip


class ReviewForm(forms.Form):
    accept_terms = forms.BooleanField(
        label="I accept the membership terms.",
        error_messages={"required": "Accept the membership terms to join."},
    )
    accept_privacy = forms.BooleanField(
        label="I have read the privacy notice.",
        error_messages={"required": "Confirm that you have read the privacy notice to join."},
    )
    accept_assignment = forms.BooleanField(
        label="I assign my insurance reimbursement rights for services to the provider (assignment of benefits).",
        error_messages={"required": "Accept the assignment of benefits to join."},
    )
    password = forms.CharField(
        label="Choose a password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; you sign in with your email and this password.",
        error_messages={"required": "Choose a password."},
    )  # fmt: skip
    password_again = forms.CharField(
        label="Type the password again", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages={"required": "Type the password again."},
    )  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", "The two passwords differ.")
        return data


class EnrollmentConfirmForm(forms.Form):
    """The confirmation link's page: the password chosen at sign-up (and, when the chosen PCP's
    panel filled up meanwhile, another PCP)."""

    password = forms.CharField(
        label="The password you chose when you enrolled",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    full_pcp_npi = forms.CharField(required=False, widget=forms.HiddenInput)
    pcp_npi = forms.CharField(required=False, widget=forms.HiddenInput)


class ContactForm(forms.Form):
    email = forms.CharField(
        max_length=254, label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        max_length=30, label="Phone", widget=forms.TextInput(attrs={"autocomplete": "tel"})
    )
    street = forms.CharField(max_length=200, label="Street address")
    city = forms.CharField(max_length=100, label="City")
    state = forms.ChoiceField(label="State", choices=served_state_choices())
    zip_code = forms.CharField(max_length=10, label="ZIP code")  # fmt: skip


class CancelForm(forms.Form):
    confirm = forms.BooleanField(label="Yes, cancel my membership at the end of this month.")


class PaymentImportForm(forms.Form):
    file = forms.FileField(
        label="Payments file (CSV)",
        help_text="Columns: reference, date, member number or employer code, amount; optional "
        "returned (returned or refunded: that payment went back on the line's date).",
    )


class PaymentReturnForm(forms.Form):
    """Finance records that a payment went back: returned by the bank or refunded."""

    return_kind = forms.ChoiceField(
        label="What happened", choices=PaymentReturnKind.choices, widget=forms.RadioSelect
    )
    returned_on = forms.DateField(label="Date the money went back", widget=DATE_INPUT)
    return_reason = forms.CharField(
        label="Reason (as the bank or the payer gave it)", max_length=200, required=False
    )


class RosterUploadForm(forms.Form):
    employer_group = forms.ModelChoiceField(
        queryset=EmployerGroup.objects.filter(status=EmployerGroupStatus.ACTIVE),
        label="Employer group",
    )
    file = forms.FileField(
        label="Roster file (CSV)",
        help_text="Columns: employee id, first name, last name, date of birth, email, street, "
        "city, state, zip, plan.",
    )


class FamilyMemberForm(DependentForm):
    """A family member added from the portal; the subscriber accepts the terms for them."""

    accept_terms = forms.BooleanField(
        label="I accept the membership terms, the privacy notice and the assignment of benefits "
        "on their behalf.",
        error_messages={
            "required": "Accept the terms, the privacy notice and the assignment of benefits for them."
        },
    )
