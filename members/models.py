"""Members: plans, employer groups, members and households, memberships, PCP assignments, consents."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.db import models
from django.db.models import F, Func, Q

from cooperative.models import TimeStampedModel
from cooperative.validators import (
    validate_ein,
    validate_person_name,
    validate_phone,
    validate_served_state,
    validate_us_state,
    validate_zip,
)
from providers.models import Practitioner, PractitionerRole


class Plan(TimeStampedModel):
    """One version of a plan: the cooperative's monthly portion (advocacy, network, outreach),
    effective from a date. A new price is a new version; old versions are kept."""

    code = models.SlugField(max_length=30)
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=100)
    advocacy_portion = models.DecimalField(max_digits=12, decimal_places=2)
    network_portion = models.DecimalField(max_digits=12, decimal_places=2)
    outreach_portion = models.DecimalField(max_digits=12, decimal_places=2)
    effective_from = models.DateField()
    is_open_for_enrollment = models.BooleanField(default=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="plan_unique_version"),
            models.UniqueConstraint(
                fields=["code", "effective_from"], name="plan_unique_effective_date"
            ),
            models.CheckConstraint(
                condition=Q(
                    advocacy_portion__gte=0, network_portion__gte=0, outreach_portion__gte=0
                ),
                name="plan_portions_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def cooperative_portion(self) -> Decimal:
        return self.advocacy_portion + self.network_portion + self.outreach_portion


class ContributionKind(models.TextChoices):
    FIXED = "fixed", "Fixed dollars per employee per month"
    PERCENT = "percent", "Percent of the monthly dues"


class EmployerGroupStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    ENDED = "ended", "Ended"


class EmployerGroup(TimeStampedModel):
    """An employer contributing to its employees' dues; employees type its code at enrollment."""

    name = models.CharField(max_length=200)
    ein = models.CharField("EIN", max_length=10, validators=[validate_ein])
    contact_name = models.CharField(max_length=200)
    contact_email = models.EmailField()
    state = models.CharField(max_length=2, validators=[validate_us_state])
    employer_code = models.CharField(max_length=20, unique=True)
    contribution_kind = models.CharField(max_length=10, choices=ContributionKind.choices)
    contribution_value = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(
        max_length=20, choices=EmployerGroupStatus.choices, default=EmployerGroupStatus.ACTIVE
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(contribution_value__gte=0)
                & (Q(contribution_kind="fixed") | Q(contribution_value__lte=100)),
                name="employer_contribution_in_range",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.employer_code})"


class Member(TimeStampedModel):
    """A person in the cooperative; dependents point at their subscriber (the household)."""

    member_number = models.CharField(max_length=16, unique=True)
    first_name = models.CharField(max_length=100, validators=[validate_person_name])
    last_name = models.CharField(max_length=100, validators=[validate_person_name])
    date_of_birth = models.DateField()
    email = models.EmailField()
    phone = models.CharField(max_length=16, validators=[validate_phone])
    street = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, validators=[validate_served_state])
    zip_code = models.CharField(max_length=10, validators=[validate_zip])
    preferred_language = models.CharField(max_length=5, default="en")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member",
    )
    subscriber = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="dependents"
    )

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="member_name_idx"),
            models.Index(fields=["email"], name="member_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.member_number})"


class MembershipStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACTIVE = "active", "Active"
    LAPSED = "lapsed", "Lapsed"
    CANCELLED = "cancelled", "Cancelled"


class Membership(TimeStampedModel):
    """A member's membership under a plan version, from the first of a month."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="memberships")
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="memberships")
    employer_group = models.ForeignKey(
        EmployerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="memberships"
    )
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=MembershipStatus.choices, default=MembershipStatus.PENDING
    )

    class Meta:
        ordering = ["-start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__day=1), name="membership_starts_on_the_first"
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="membership_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.plan} from {self.start_date}"


class DateRangeOpenEnd(Func):
    """daterange(effective_from, effective_to, '[)'), an open end meaning 'until further notice'."""

    function = "daterange"
    output_field = DateRangeField()


class PcpAssignment(TimeStampedModel):
    """A member's PCP from a date until a date (exclusive); never two at once for one member."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="pcp_assignments")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="pcp_assignments"
    )
    practitioner_role = models.ForeignKey(
        PractitionerRole, on_delete=models.PROTECT, related_name="pcp_assignments"
    )
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True, help_text="First day no longer covered.")

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            ExclusionConstraint(
                name="pcp_assignment_no_overlap",
                expressions=[
                    ("member", RangeOperators.EQUAL),
                    (
                        DateRangeOpenEnd("effective_from", "effective_to", models.Value("[)")),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                violation_error_message="This member already has a PCP for part of this period.",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gt=F("effective_from")),
                name="pcp_assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.practitioner_id} from {self.effective_from}"


class ConsentKind(models.TextChoices):
    TERMS = "terms", "Membership terms"
    PRIVACY = "privacy", "Privacy notice"
    ASSIGNMENT_OF_BENEFITS = "assignment_of_benefits", "Assignment of benefits to the provider"


class Consent(models.Model):
    """What a member accepted, which version of the text, and when."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consents")
    kind = models.CharField(max_length=30, choices=ConsentKind.choices)
    text_version = models.CharField(max_length=20)
    accepted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["member", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "kind", "text_version"], name="consent_unique_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.kind} {self.text_version}"
