"""Members: plans, employer groups, members and households, memberships, PCP assignments, consents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateRangeField, RangeOperators
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.functions import Cast, Upper
from django.utils import timezone

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


TRIGRAM_MEMBER_FIELDS = ("member_number", "first_name", "last_name", "email")


def trigram_index(field: str, name: str) -> GinIndex:
    """A trigram index on UPPER(field::text): the expression Django's `icontains` compares on
    PostgreSQL, so a search for part of a name or number can use it (pg_trgm, migration 0006)."""
    return GinIndex(OpClass(Upper(Cast(field, models.TextField())), name="gin_trgm_ops"), name=name)


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
            # The admin's search (`icontains` is UPPER(field::text) LIKE '%…%' in PostgreSQL)
            # answers from these at a million members instead of reading every row.
            *(trigram_index(field, f"member_{field}_trgm") for field in TRIGRAM_MEMBER_FIELDS),
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


class MembershipEvent(models.Model):
    """One change of a membership's status: who, when, from, to and why."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=MembershipStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=MembershipStatus.choices)
    reason = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["membership", "occurred_at", "pk"]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.from_status or '—'} → {self.to_status}"


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
            # effective_to == effective_from: a pending choice replaced before it took effect.
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=F("effective_from")),
                name="pcp_assignment_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} → {self.practitioner_id} from {self.effective_from}"


class StandingResolution(models.TextChoices):
    NEW_PCP = "new_pcp", "Member chose a new PCP"
    RESTORED = "restored", "PCP back in good standing"
    MEMBERSHIP_ENDED = "membership_ended", "Membership ended"


class PcpStandingIssue(TimeStampedModel):
    """A member whose PCP can no longer serve them (suspended, excluded, left the clinic, the
    location closed, no agreement in force): found by the standing review, the member told by
    email and on their portal, listed for staff until the member has a new PCP (or the PCP is
    back in good standing). Until then their invoices carry no primary-care fee. History kept:
    one open issue per assignment at a time."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="standing_issues")
    assignment = models.ForeignKey(
        PcpAssignment, on_delete=models.PROTECT, related_name="standing_issues"
    )
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="standing_issues"
    )
    kind = models.CharField(max_length=20)
    reason = models.CharField(max_length=200)
    effective_on = models.DateField(help_text="The first day the PCP is not in good standing.")
    notified_at = models.DateTimeField(null=True, blank=True)
    resolved_on = models.DateField(null=True, blank=True)
    resolution = models.CharField(max_length=20, choices=StandingResolution.choices, blank=True)

    class Meta:
        ordering = ["-effective_on", "-pk"]
        verbose_name = "member needing a new PCP"
        verbose_name_plural = "members needing a new PCP"
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(resolved_on__isnull=True),
                name="standing_issue_one_open_per_assignment",
            ),
            models.CheckConstraint(
                condition=Q(resolved_on__isnull=True, resolution="")
                | (Q(resolved_on__isnull=False) & ~Q(resolution="")),
                name="standing_issue_resolved_with_reason",
            ),
        ]
        indexes = [models.Index(fields=["resolved_on", "effective_on"], name="standing_open_idx")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.reason} (from {self.effective_on})"


class AgeOutNotice(models.Model):
    """A member turning 65 is told 90 days ahead that the membership ends at the end of the
    month before the 65th birthday (the cooperative serves members under 65): one notice per
    member, kept as proof."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="age_out_notice")
    birthday_65 = models.DateField()
    ends_on = models.DateField(help_text="The membership's last day: the end of the month before.")
    notified_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ends_on", "pk"]

    def __str__(self) -> str:
        return f"{self.member_id} ends {self.ends_on}"


class ConsentKind(models.TextChoices):
    TERMS = "terms", "Membership terms"
    PRIVACY = "privacy", "Privacy notice"
    ASSIGNMENT_OF_BENEFITS = "assignment_of_benefits", "Assignment of benefits to the provider"


# Every published version of the consent texts, with the day it came into force, oldest first.
# The words of each are templates/members/consents/<kind>/<version>.html, served at
# /consents/<kind>/<version>/; a published text is never edited: new words, new version.
CONSENT_VERSIONS: dict[str, date] = {"2026-01": date(2026, 1, 1)}
CONSENT_TEXT_VERSION = "2026-01"  # the version a person accepts today


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


class EmployerInvoice(TimeStampedModel):
    """What an employer group owes for one month: the sum of its employees' employer shares."""

    employer_group = models.ForeignKey(
        EmployerGroup, on_delete=models.PROTECT, related_name="invoices"
    )
    period = models.DateField(help_text="The first day of the month billed.")
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period", "employer_group"]
        constraints = [
            models.UniqueConstraint(
                fields=["employer_group", "period"], name="employer_invoice_once_a_month"
            ),
            models.CheckConstraint(
                condition=Q(period__day=1), name="employer_invoice_period_first"
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=F("amount")),
                name="employer_invoice_paid_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employer_group.employer_code} {self.period:%Y-%m}"

    @property
    def balance(self) -> Decimal:
        return self.amount - self.amount_paid


class InvoiceStatus(models.TextChoices):
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"


class Invoice(TimeStampedModel):
    """One month's dues of one membership, billed to the household's subscriber. The PCP on the
    first of the month, the member's age then and the PCP's fee are kept: payouts read them."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="invoices")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="invoices")
    bill_to = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="billed_invoices")
    period = models.DateField(help_text="The first day of the month billed.")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="member_invoices"
    )
    pcp_assignment = models.ForeignKey(
        PcpAssignment, on_delete=models.PROTECT, related_name="invoices"
    )
    age = models.PositiveSmallIntegerField()
    age_band = models.CharField(max_length=10, help_text="The agreement's band, e.g. '18–44'.")
    pcp_fee = models.DecimalField(max_digits=12, decimal_places=2)
    cooperative_portion = models.DecimalField(max_digits=12, decimal_places=2)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    employer_share = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    member_amount = models.DecimalField(max_digits=12, decimal_places=2)
    member_paid = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    member_paid_at = models.DateTimeField(null=True, blank=True)
    employer_invoice = models.ForeignKey(
        EmployerInvoice,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="member_invoices",
    )
    settled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the member's and the employer's parts were both paid.",
    )
    status = models.CharField(
        max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN
    )

    class Meta:
        ordering = ["-period", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["membership", "period"], name="invoice_once_a_month"),
            models.CheckConstraint(condition=Q(period__day=1), name="invoice_period_first"),
            models.CheckConstraint(
                condition=Q(amount=F("pcp_fee") + F("cooperative_portion")),
                name="invoice_amount_is_fee_plus_portion",
            ),
            models.CheckConstraint(
                condition=Q(member_amount=F("amount") - F("employer_share"))
                & Q(employer_share__gte=0)
                & Q(member_amount__gte=0),
                name="invoice_member_amount_is_rest",
            ),
            models.CheckConstraint(
                condition=Q(member_paid__gte=0) & Q(member_paid__lte=F("member_amount")),
                name="invoice_paid_within_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["period", "settled_at"], name="invoice_period_settled_idx"),
            models.Index(fields=["settled_at"], name="invoice_settled_idx"),
            models.Index(fields=["bill_to", "period"], name="invoice_bill_to_idx"),
            # The admin's list, newest month first: read backwards, no sort of the table.
            models.Index(fields=["period", "id"], name="invoice_period_pk_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period:%Y-%m}"

    @property
    def member_balance(self) -> Decimal:
        return self.member_amount - self.member_paid

    @property
    def is_settled(self) -> bool:
        return self.settled_at is not None


class PaymentImport(TimeStampedModel):
    """One CSV file of payments imported by finance, with its summary."""

    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_count = models.PositiveIntegerField(default=0)
    duplicate_count = models.PositiveIntegerField(default=0)
    returned_count = models.PositiveIntegerField(
        default=0,
        db_default=0,
        help_text="Lines marked returned or refunded: payments that went back.",
    )
    rejected_count = models.PositiveIntegerField(default=0)
    total_applied = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    rejected_lines = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        # In the cooperative's time zone, as staff read the time of day.
        return f"{self.file_name} ({timezone.localtime(self.created_at):%Y-%m-%d %H:%M})"


class PaymentSource(models.TextChoices):
    ADMIN = "admin", "Recorded by finance"
    IMPORT = "import", "Imported file"


class PaymentReturnKind(models.TextChoices):
    RETURNED = "returned", "Returned by the bank (NSF, closed account, stopped)"
    REFUNDED = "refunded", "Refunded to the payer"


class Payment(TimeStampedModel):
    """Money received from a member (the household's subscriber) or an employer group. The part
    not yet applied to an invoice is a credit for the next one. A payment the bank returns or
    the cooperative refunds stays on record, marked with how and when it went back."""

    reference = models.CharField(max_length=64, unique=True)
    received_on = models.DateField()
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    employer_group = models.ForeignKey(
        EmployerGroup, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    unapplied = models.DecimalField(max_digits=12, decimal_places=2)
    source = models.CharField(max_length=10, choices=PaymentSource.choices)
    payment_import = models.ForeignKey(
        PaymentImport, null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    # Database defaults too: payments are bulk-loaded by COPY (imports at scale, the demo).
    return_kind = models.CharField(
        max_length=10, choices=PaymentReturnKind.choices, blank=True, default="", db_default="",
        help_text="Set once, when the money went back: every month it paid is unpaid again.",
    )  # fmt: skip
    returned_on = models.DateField(null=True, blank=True)
    return_reason = models.CharField(max_length=200, blank=True, default="", db_default="")
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(member__isnull=False, employer_group__isnull=True)
                | Q(member__isnull=True, employer_group__isnull=False),
                name="payment_from_member_or_employer",
            ),
            models.CheckConstraint(
                condition=Q(return_kind="", returned_on__isnull=True)
                | (~Q(return_kind="") & Q(returned_on__isnull=False, unapplied=0)),
                name="payment_return_complete",
                violation_error_message="A returned payment has its kind and date, and no credit left.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0) & Q(unapplied__gte=0) & Q(unapplied__lte=F("amount")),
                name="payment_amounts_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["received_on"], name="payment_received_idx"),
            models.Index(fields=["received_on", "id"], name="payment_received_pk_idx"),
            trigram_index("reference", "payment_reference_trgm"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount}"


class PaymentAllocation(models.Model):
    """The part of a payment applied to one member invoice or employer invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    employer_invoice = models.ForeignKey(
        EmployerInvoice, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    reversed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Set when the invoice was voided (the amount went back to credit) or the "
        "payment was returned or refunded (the amount left the cooperative).",
    )

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(invoice__isnull=False, employer_invoice__isnull=True)
                | Q(invoice__isnull=True, employer_invoice__isnull=False),
                name="allocation_to_one_invoice",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id or self.employer_invoice_id}: {self.amount}"


class RosterEntryStatus(models.TextChoices):
    INVITED = "invited", "Invited to enroll"
    ENROLLED = "enrolled", "Enrolled"
    TERMINATED = "terminated", "No longer on the roster"


class RosterEntry(TimeStampedModel):
    """One employee on an employer's roster: invited to enroll until they do (then linked to
    their member record), terminated when a later roster no longer lists them."""

    employer_group = models.ForeignKey(
        EmployerGroup, on_delete=models.PROTECT, related_name="roster_entries"
    )
    employee_id = models.CharField(max_length=40)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    email = models.EmailField()
    street = models.CharField(max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=10)
    plan_code = models.SlugField(max_length=30)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="roster_entries"
    )
    status = models.CharField(
        max_length=20, choices=RosterEntryStatus.choices, default=RosterEntryStatus.INVITED
    )
    invited_at = models.DateTimeField(null=True, blank=True)
    terminated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["employer_group", "employee_id"]
        verbose_name_plural = "roster entries"
        constraints = [
            models.UniqueConstraint(
                fields=["employer_group", "employee_id"], name="roster_entry_unique_employee"
            ),
            models.UniqueConstraint(
                fields=["employer_group", "member"],
                condition=~Q(status="terminated"),
                name="roster_entry_one_open_per_member",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.employee_id} {self.first_name} {self.last_name}"


class RosterUploadStatus(models.TextChoices):
    PREVIEWED = "previewed", "Waiting for confirmation"
    APPLIED = "applied", "Applied"
    DISCARDED = "discarded", "Discarded"


class RosterUpload(TimeStampedModel):
    """An employer roster file: its differences with the current members (adds, changes,
    terminations, rejected lines) are shown first and applied only when staff confirm."""

    employer_group = models.ForeignKey(
        EmployerGroup, on_delete=models.PROTECT, related_name="roster_uploads"
    )
    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=20, choices=RosterUploadStatus.choices, default=RosterUploadStatus.PREVIEWED
    )
    rows = models.JSONField(default=list, help_text="The file's good lines, as read.")
    preview = models.JSONField(default=dict, help_text="adds, changes, terminations, rejected.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    summary = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.employer_group.employer_code})"


class PendingEnrollmentStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the email to be confirmed"
    CONFIRMED = "confirmed", "Confirmed"
    EXPIRED = "expired", "Expired unconfirmed"


class PendingEnrollment(TimeStampedModel):
    """An enrollment waiting for its email address to be confirmed: it holds no panel place and
    creates no account; following the emailed link (before `expires_at`) and giving the
    password chosen at sign-up creates the member. Expired ones keep only the address and dates
    (the answers and the password hash are wiped)."""

    email = models.EmailField()
    status = models.CharField(
        max_length=10,
        choices=PendingEnrollmentStatus.choices,
        default=PendingEnrollmentStatus.PENDING,
    )
    answers = models.JSONField(default=dict, blank=True)
    password_hash = models.CharField(max_length=128, blank=True)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "expires_at"], name="pending_enrollment_due")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="confirmed", member__isnull=False, confirmed_at__isnull=False)
                | (~Q(status="confirmed") & Q(member__isnull=True)),
                name="pending_enrollment_confirmed_has_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"
