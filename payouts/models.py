"""Payouts: the month-end run, its provider statements (checks) and their lines, the ledger of
member-months paid out, and the bank accounts checks are drawn on."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from cooperative.crypto import EncryptedTokenField, decrypt_text, encrypt_text
from cooperative.models import TimeStampedModel
from cooperative.validators import validate_routing_number
from members.models import Invoice, Member
from providers.models import Clinic, PaymentMethod, Practitioner


class BankAccount(TimeStampedModel):
    """The cooperative's account checks are drawn on. Check numbers come from it, gapless:
    the next number is taken under a row lock, inside the transaction that uses it."""

    name = models.CharField(max_length=100)
    bank_name = models.CharField(max_length=100)
    routing_number = models.CharField(max_length=9, validators=[validate_routing_number])
    # The account number is stored only encrypted (cooperative.crypto), like the clinics';
    # pages and lists show the last 4.
    account_number_encrypted = EncryptedTokenField()
    account_number_last4 = models.CharField(max_length=4, blank=True)
    next_check_number = models.PositiveBigIntegerField(default=100001)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="bank_account_one_default"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} (…{self.account_number_last4})"

    @property
    def account_number(self) -> str:
        """The full account number, decrypted (for the positive-pay file and the check's MICR line)."""
        return decrypt_text(self.account_number_encrypted) if self.account_number_encrypted else ""

    @account_number.setter
    def account_number(self, digits: str) -> None:
        digits = (digits or "").strip()
        self.account_number_encrypted = encrypt_text(digits) if digits else ""
        self.account_number_last4 = digits[-4:]


class PayoutRunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SNAPSHOTTING = "snapshotting", "Taking the snapshot"
    RENDERING = "rendering", "Rendering statements"
    FINALIZING = "finalizing", "Finalizing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed (resumable)"
    CANCELLED = "cancelled", "Cancelled"


class PayoutRun(TimeStampedModel):
    """The payout of one month: one per period (a cancelled run does not count)."""

    period = models.DateField(help_text="The first day of the month paid out.")
    status = models.CharField(
        max_length=20, choices=PayoutRunStatus.choices, default=PayoutRunStatus.PENDING
    )
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="runs")
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    statement_count = models.PositiveIntegerField(default=0)
    rendered_count = models.PositiveIntegerField(default=0)
    failure_count = models.PositiveIntegerField(default=0)
    member_month_count = models.PositiveIntegerField(default=0)
    roster_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    adjustments_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    last_error = models.TextField(blank=True)
    print_batch = models.FileField(upload_to="payouts/batches/", blank=True)
    positive_pay = models.FileField(upload_to="payouts/positive-pay/", blank=True)
    report_pdf = models.FileField(upload_to="payouts/reports/", blank=True)
    ach_file = models.FileField(
        upload_to="payouts/ach/", blank=True, help_text="NACHA file of the direct deposits."
    )
    figures = models.JSONField(
        default=dict,
        blank=True,
        help_text="The reconciliation as the snapshot took it (totals, counts, held amounts): "
        "what the run's page, CSV and report show forever after.",
    )

    class Meta:
        ordering = ["-period"]
        constraints = [
            models.UniqueConstraint(
                fields=["period"],
                condition=~Q(status="cancelled"),
                name="payout_run_one_per_period",
            ),
            models.CheckConstraint(condition=Q(period__day=1), name="payout_run_period_first"),
        ]

    def __str__(self) -> str:
        return f"Payout {self.period:%Y-%m} ({self.status})"


class PayoutRunEvent(models.Model):
    """One change of a run's status: who, when, from, to and why."""

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=20, choices=PayoutRunStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=PayoutRunStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "occurred_at", "pk"]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.from_status or '—'} → {self.to_status}"


class StatementStatus(models.TextChoices):
    ISSUED = "issued", "Issued"
    VOIDED = "voided", "Voided"


class Statement(TimeStampedModel):
    """One provider's payment for a run: a check (or a direct deposit) whose amount is the sum
    of its lines, with the PDF of the check and the paid-member list."""

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="statements")
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="statements")
    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, related_name="statements"
    )
    check_number = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Paper checks only; direct deposits have none."
    )
    check_date = models.DateField()
    payee_name = models.CharField(max_length=200)
    remit_to = models.TextField(help_text="The address lines, one per line.")
    payment_method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    deposit_account_last4 = models.CharField(max_length=4, blank=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    member_count = models.PositiveIntegerField(default=0)
    roster_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    adjustments_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    memo = models.CharField(max_length=100)
    status = models.CharField(
        max_length=20, choices=StatementStatus.choices, default=StatementStatus.ISSUED
    )
    reissue_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reissued_as"
    )
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    void_reason = models.CharField(max_length=300, blank=True)
    pdf = models.FileField(upload_to="payouts/statements/", blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    rendered_at = models.DateTimeField(null=True, blank=True)
    render_attempts = models.PositiveIntegerField(default=0)
    render_error = models.TextField(blank=True)

    class Meta:
        ordering = ["check_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "check_number"], name="statement_check_number_once"
            ),
            models.UniqueConstraint(
                fields=["run", "clinic"],
                condition=Q(reissue_of__isnull=True),
                name="statement_one_per_clinic_and_run",
            ),
            models.CheckConstraint(
                condition=Q(status="voided", voided_at__isnull=False)
                | Q(status="issued", voided_at__isnull=True),
                name="statement_void_has_time",
            ),
            models.CheckConstraint(
                condition=Q(amount=F("roster_total") + F("adjustments_total")),
                name="statement_amount_is_its_totals",
            ),
        ]
        indexes = [
            models.Index(fields=["run", "rendered_at"], name="statement_render_queue_idx"),
            models.Index(fields=["clinic", "-check_date"], name="statement_clinic_idx"),
        ]

    def __str__(self) -> str:
        return f"Check {self.check_number} to {self.payee_name}: {self.amount}"


class LineKind(models.TextChoices):
    MONTH = "month", "Paid member"
    LATE = "late", "Paid late (earlier month)"
    REVERSAL = "reversal", "Reversal (payment refunded)"


class StatementLine(models.Model):
    """One member-month on a statement (or an adjustment), with the names and fee as they
    were at the snapshot: a closed statement never changes when a member's record does."""

    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="lines")
    kind = models.CharField(max_length=10, choices=LineKind.choices)
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payout_lines")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payout_lines")
    period = models.DateField(help_text="The month of membership this line pays.")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="payout_lines"
    )
    member_number = models.CharField(max_length=16)
    last_name = models.CharField(max_length=100)
    first_name = models.CharField(max_length=100)
    practitioner_name = models.CharField(max_length=200)
    age_band = models.CharField(max_length=10)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["statement", "kind", "last_name", "first_name", "pk"]
        indexes = [models.Index(fields=["statement", "kind"], name="statement_line_kind_idx")]

    def __str__(self) -> str:
        return f"{self.member_number} {self.period:%Y-%m} {self.amount}"


class PaidOutMonth(models.Model):
    """The ledger: a member-month paid out to a provider. Unique while not reversed, so no
    member-month is ever paid twice, across all runs."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="paid_out_months")
    period = models.DateField()
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="paid_out")
    line = models.OneToOneField(StatementLine, on_delete=models.PROTECT, related_name="ledger")
    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="ledger")
    reversed_by = models.OneToOneField(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="reverses"
    )

    class Meta:
        ordering = ["period", "member"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "period"],
                condition=Q(reversed_by__isnull=True),
                name="paid_out_month_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period:%Y-%m}"


class AchFile(models.Model):
    """One NACHA file created on a bank account. Its file ID modifier is the next unused one
    of its creation day on that account (A to Z, then 0 to 9): unique per account and day."""

    bank_account = models.ForeignKey(
        BankAccount, on_delete=models.PROTECT, related_name="ach_files"
    )
    run = models.ForeignKey(
        PayoutRun, null=True, blank=True, on_delete=models.PROTECT, related_name="ach_files"
    )
    created_on = models.DateField(help_text="The file's creation date (America/Chicago).")
    file_id_modifier = models.CharField(max_length=1)
    effective_date = models.DateField()
    entry_count = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_on", "file_id_modifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["bank_account", "created_on", "file_id_modifier"],
                name="ach_file_modifier_once_a_day",
            ),
            models.CheckConstraint(
                condition=Q(file_id_modifier__regex=r"^[A-Z0-9]$"),
                name="ach_file_modifier_is_a_letter_or_digit",
            ),
            models.CheckConstraint(condition=Q(total__gt=0), name="ach_file_total_positive"),
        ]

    def __str__(self) -> str:
        return f"ACH {self.created_on:%Y-%m-%d} {self.file_id_modifier} ({self.total})"


class PositivePayFile(models.Model):
    """One version of a run's positive-pay file as sent to the bank: version 1 when the run is
    finalized, a new one (kept alongside, never overwriting) each time a check of the run is
    voided or reissued."""

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="positive_pay_files")
    version = models.PositiveIntegerField()
    file = models.FileField(upload_to="payouts/positive-pay/")
    reason = models.CharField(max_length=300)
    check_count = models.PositiveIntegerField(help_text="Checks listed (issued and void).")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "version"]
        constraints = [
            models.UniqueConstraint(fields=["run", "version"], name="positive_pay_version_once"),
            models.CheckConstraint(condition=Q(version__gte=1), name="positive_pay_version_from_1"),
        ]

    def __str__(self) -> str:
        return f"{self.run} positive pay v{self.version}"


class PayoutHold(models.Model):
    """A paid member-month the cooperative does not pass on to the PCP's clinic: the PCP was not
    in good standing on the month's rule date (its first day), was excluded (LEIE/SAM) from a
    date in the month or before, or the invoice carried no primary-care fee. Taken once, by the
    run that found it (never considered again as a late month), and shown in that run's
    reconciliation with its reason."""

    run = models.ForeignKey(PayoutRun, on_delete=models.PROTECT, related_name="holds")
    invoice = models.OneToOneField(Invoice, on_delete=models.PROTECT, related_name="payout_hold")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="payout_holds")
    period = models.DateField(help_text="The month of membership held.")
    practitioner = models.ForeignKey(
        Practitioner, on_delete=models.PROTECT, related_name="payout_holds"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.CharField(max_length=200)

    class Meta:
        ordering = ["period", "member"]
        indexes = [models.Index(fields=["run", "period"], name="payout_hold_run_idx")]

    def __str__(self) -> str:
        return f"{self.member_id} {self.period:%Y-%m} held: {self.reason}"
