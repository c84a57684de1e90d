"""Writes of the payouts app: start a run, take its snapshot (one transaction: statements,
lines, check numbers, the ledger), render each statement (claimed with SKIP LOCKED, so any
number of workers share the work), finalize (print batch, positive-pay file, reconciliation).

Exactly once: the ledger's unique (member, month) means no member-month is paid twice; the
snapshot runs once per run (status checked under a row lock); rendering a statement is
idempotent (its PDF is rebuilt from stored lines, so the same bytes and the same number)."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import tempfile
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cooperative.audit import audit_record, user_or_none
from cooperative.bulk import insert_rows
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.periods import Period
from members.models import Invoice, InvoiceStatus
from members.selectors import paid_member_months
from providers.models import PaymentMethod

from .models import (
    AchFile,
    BankAccount,
    LineKind,
    PaidOutMonth,
    PayoutHold,
    PayoutRun,
    PayoutRunEvent,
    PayoutRunStatus,
    PositivePayFile,
    Statement,
    StatementLine,
    StatementStatus,
)
from .selectors import payout_date

logger = logging.getLogger(__name__)
ZERO = Decimal("0.00")

RUN_TRANSITIONS: dict[str, set[str]] = {
    PayoutRunStatus.PENDING: {PayoutRunStatus.SNAPSHOTTING, PayoutRunStatus.CANCELLED, PayoutRunStatus.FAILED},
    PayoutRunStatus.SNAPSHOTTING: {PayoutRunStatus.RENDERING, PayoutRunStatus.FAILED},
    PayoutRunStatus.RENDERING: {PayoutRunStatus.FINALIZING, PayoutRunStatus.FAILED},
    PayoutRunStatus.FINALIZING: {PayoutRunStatus.COMPLETED, PayoutRunStatus.FAILED},
    PayoutRunStatus.FAILED: {PayoutRunStatus.PENDING, PayoutRunStatus.RENDERING, PayoutRunStatus.CANCELLED},
    PayoutRunStatus.COMPLETED: set(),
    PayoutRunStatus.CANCELLED: set(),
}  # fmt: skip


def _transition(run: PayoutRun, to_status: str, actor: Any = None, reason: str = "") -> None:
    """Move a locked run along its allowed transitions, with an event row."""
    if to_status not in RUN_TRANSITIONS[run.status]:
        raise ConflictError(
            f"A {run.get_status_display().lower()} payout run cannot become {to_status}."
        )
    PayoutRunEvent.objects.create(
        run=run, from_status=run.status, to_status=to_status, actor=actor, reason=reason[:500]
    )
    PayoutRun.objects.filter(pk=run.pk).update(status=to_status, updated_at=timezone.now())
    run.status = to_status


@transaction.atomic
def payout_run_start(*, period: Period, actor: Any, today: date | None = None) -> PayoutRun:
    """Start the payout of a month (or resume it when it is underway or failed; a completed
    month is returned unchanged). Refused before the month's payout date. The snapshot is
    taken by a worker once this commits."""
    today = today or timezone.localdate()
    due = payout_date(period)
    if today < due:
        raise ApplicationError(
            f"{period.label} can be paid out from {due:%A %B %-d, %Y}.",
            errors={"period": [f"Not before {due:%B %-d, %Y}."]},
        )
    existing = (
        PayoutRun.objects.select_for_update()
        .filter(period=period.first_day)
        .exclude(status=PayoutRunStatus.CANCELLED)
        .first()
    )
    if existing is not None:
        if existing.status != PayoutRunStatus.COMPLETED:
            payout_run_resume(run=existing, actor=actor)
        return existing
    account = BankAccount.objects.filter(is_default=True).first()
    if account is None:
        raise ApplicationError(
            "Set up the bank account checks are drawn on first (admin → Payouts → Bank accounts)."
        )
    run = PayoutRun.objects.create(
        period=period.first_day, bank_account=account, started_by=actor, started_at=timezone.now()
    )
    PayoutRunEvent.objects.create(
        run=run, from_status="", to_status=PayoutRunStatus.PENDING, actor=actor, reason="started"
    )
    audit_record(actor=actor, action=AuditAction.CREATE, obj=run, detail=f"payout {period}")
    transaction.on_commit(lambda: _enqueue("payouts.run_snapshot", run.pk))
    return run


def payout_run_resume(*, run: PayoutRun, actor: Any = None) -> PayoutRun:
    """Pick a run up where it stopped: snapshot if not taken, render what is not rendered,
    finalize when everything is. Safe to call any number of times."""
    with transaction.atomic():
        locked = PayoutRun.objects.select_for_update().get(pk=run.pk)
        if locked.status in (PayoutRunStatus.COMPLETED, PayoutRunStatus.CANCELLED):
            return locked
        if locked.status == PayoutRunStatus.FAILED:
            has_snapshot = locked.snapshot_at is not None
            _transition(
                locked,
                PayoutRunStatus.RENDERING if has_snapshot else PayoutRunStatus.PENDING,
                actor,
                "resumed",
            )
            PayoutRun.objects.filter(pk=locked.pk).update(last_error="")
        status = locked.status
        missing = list(
            Statement.objects.filter(run=locked, rendered_at__isnull=True)
            .order_by("-member_count", "pk")
            .values_list("pk", flat=True)
        )
    if status == PayoutRunStatus.PENDING:
        transaction.on_commit(lambda: _enqueue("payouts.run_snapshot", locked.pk))
    elif status in (PayoutRunStatus.RENDERING, PayoutRunStatus.FINALIZING):
        if missing:
            transaction.on_commit(lambda: _enqueue_all("payouts.statement_render", missing))
        else:
            transaction.on_commit(lambda: _enqueue("payouts.run_finalize", locked.pk))
    return locked


@transaction.atomic
def payout_run_cancel(*, run: PayoutRun, actor: Any, reason: str) -> PayoutRun:
    """Cancel a run before any check is issued (before its snapshot)."""
    locked = PayoutRun.objects.select_for_update().get(pk=run.pk)
    if locked.snapshot_at is not None:
        raise ConflictError("Checks were issued for this run: it cannot be cancelled.")
    _transition(locked, PayoutRunStatus.CANCELLED, actor, reason or "cancelled")
    audit_record(actor=actor, action=AuditAction.UPDATE, obj=locked, detail="cancelled")
    return locked


def payout_run_fail(*, run_id: int, error: str) -> None:
    """Record a failure; the run can be resumed (`run_payouts` again, or the run page)."""
    with transaction.atomic():
        locked = PayoutRun.objects.select_for_update().get(pk=run_id)
        if PayoutRunStatus.FAILED in RUN_TRANSITIONS[locked.status]:
            _transition(locked, PayoutRunStatus.FAILED, None, error[:500])
        PayoutRun.objects.filter(pk=run_id).update(last_error=error[:4000])


# --- the snapshot ------------------------------------------------------------------------


@dataclass(slots=True)
class _Line:
    kind: str
    invoice_id: int
    member_id: int
    period: date
    practitioner_id: int
    member_number: str
    last_name: str
    first_name: str
    practitioner_name: str
    age_band: str
    amount: Decimal
    reverses: int | None = None  # the ledger row a reversal line reverses
    reason: str = ""  # why an adjustment is made (shown in the reconciliation)


# What a line needs of an invoice, read as plain values: at 100,000 member-months building
# model instances cost more than the database work.
_INVOICE_VALUES = ("pk", "member_id", "period", "practitioner_id", "member__member_number",
                   "member__last_name", "member__first_name", "age_band", "pcp_fee",
                   "pcp_assignment__practitioner_role__location__clinic_id")  # fmt: skip


def _lines_from_invoices(queryset: Any, kind: str) -> list[tuple[int, _Line]]:
    return [
        (clinic_id, _Line(kind, pk, member_id, period, practitioner_id, number, last, first, "", band, fee,
                          reason="paid late" if kind == LineKind.LATE else ""))
        for pk, member_id, period, practitioner_id, number, last, first, band, fee, clinic_id
        in queryset.values_list(*_INVOICE_VALUES).iterator(chunk_size=10_000)
    ]  # fmt: skip


def _holds_split(
    candidates: list[tuple[int, _Line]],
) -> tuple[list[tuple[int, _Line]], list[tuple[_Line, str]]]:
    """The member-months to pay, and those to hold with the reason: the invoice carried no
    primary-care fee; the PCP was excluded (LEIE/SAM) from a day of the month or before; the
    PCP was not in good standing on the month's rule date, its first day (read through the
    providers selector, once per month and practitioner)."""
    from providers.models import Practitioner
    from providers.selectors import pcp_standings

    by_period: dict[date, set[int]] = defaultdict(set)
    for _, line in candidates:
        by_period[line.period].add(line.practitioner_id)
    standings = {
        (pk, period): standing
        for period, pcps in by_period.items()
        for pk, standing in pcp_standings(pcps, period).items()
    }
    excluded_from = dict(
        Practitioner.objects.filter(
            pk__in={pk for pcps in by_period.values() for pk in pcps}, excluded_from__isnull=False
        ).values_list("pk", "excluded_from")
    )
    pay: list[tuple[int, _Line]] = []
    held: list[tuple[_Line, str]] = []
    for clinic_id, line in candidates:
        excluded = excluded_from.get(line.practitioner_id)
        standing = standings[(line.practitioner_id, line.period)]
        if excluded is not None and excluded <= Period.of(line.period).last_day:
            held.append((line, f"PCP excluded (LEIE/SAM) from {excluded:%B %-d, %Y}"))
        elif line.amount <= 0:
            held.append((line, "No primary-care fee on the invoice (PCP not in good standing)"))
        elif not standing.is_good:
            held.append(
                (line, f"PCP not in good standing on {line.period:%B %-d, %Y}: {standing.reason}")
            )
        else:
            pay.append((clinic_id, line))
    return pay, held


def _already_paid_out() -> Exists:
    """The invoice's member-month is in the ledger (and not reversed)."""
    return Exists(
        PaidOutMonth.objects.filter(
            member_id=OuterRef("member_id"), period=OuterRef("period"), reversed_by__isnull=True
        )
    )


def _already_held() -> Exists:
    """A run already held the invoice's member-month (it is never taken again)."""
    return Exists(PayoutHold.objects.filter(invoice_id=OuterRef("pk")))


def payout_run_snapshot(*, run_id: int, today: date | None = None) -> PayoutRun:
    """In one transaction: the paid member-months of the period not paid out before, the
    earlier months paid late (since the first payout run), the reversals of paid-out months
    whose payment went back; grouped by clinic; one statement per clinic with a positive
    total, check numbers taken in payee order from the bank account under a row lock; the
    ledger rows. Runs once: a second call finds the run past `pending` and does nothing."""
    from providers.models import Practitioner

    with transaction.atomic():
        run = PayoutRun.objects.select_for_update().get(pk=run_id)
        if run.status != PayoutRunStatus.PENDING:
            return run
        _transition(run, PayoutRunStatus.SNAPSHOTTING)
        period = Period.of(run.period)
        paid_out = PaidOutMonth.objects.filter(reversed_by__isnull=True)
        by_clinic: dict[int, list[_Line]] = defaultdict(list)
        candidates = _lines_from_invoices(
            paid_member_months(period).exclude(_already_paid_out()).exclude(_already_held()),
            LineKind.MONTH,
        )
        first_run = (
            PayoutRun.objects.exclude(status=PayoutRunStatus.CANCELLED)
            .order_by("period")
            .values_list("period", flat=True)
            .first()
        )
        late = (
            Invoice.objects.filter(
                period__lt=run.period, period__gte=first_run, settled_at__isnull=False
            )
            .exclude(status=InvoiceStatus.VOID)
            .exclude(_already_paid_out())
            .exclude(_already_held())
            .order_by("period", "pk")
        )
        candidates += _lines_from_invoices(late, LineKind.LATE)
        to_pay, held = _holds_split(candidates)
        for clinic_id, line in to_pay:
            by_clinic[clinic_id].append(line)
        _holds_create(run, held)
        # Reversals: a paid-out month whose payment went back (or invoice was voided), and any
        # paid-out month of a practitioner excluded from a day of that month or before — even
        # when the exclusion is found later.
        excluded = Q(
            line__practitioner__excluded_from__isnull=False,
            period__gte=TruncMonth("line__practitioner__excluded_from"),
        )
        reversed_rows = (
            paid_out.filter(
                Q(invoice__settled_at__isnull=True)
                | Q(invoice__status=InvoiceStatus.VOID)
                | excluded
            )
            .select_related("line__statement", "line__practitioner", "invoice")
            .order_by("pk")
        )
        for ledger in reversed_rows:
            original = ledger.line
            excluded_from = original.practitioner.excluded_from
            if excluded_from is not None and Period.of(original.period).last_day >= excluded_from:
                reason = f"PCP excluded (LEIE/SAM) from {excluded_from:%B %-d, %Y}"
            elif ledger.invoice.status == InvoiceStatus.VOID:
                reason = "invoice voided"
            else:
                reason = "payment returned or refunded"
            by_clinic[original.statement.clinic_id].append(
                _Line(
                    kind=LineKind.REVERSAL, invoice_id=original.invoice_id, member_id=original.member_id,
                    period=original.period, practitioner_id=original.practitioner_id,
                    member_number=original.member_number, last_name=original.last_name,
                    first_name=original.first_name, practitioner_name=original.practitioner_name,
                    age_band=original.age_band, amount=-original.amount, reverses=ledger.pk,
                    reason=reason,
                )
            )  # fmt: skip
        names = {
            p.pk: p.display_name
            for p in Practitioner.objects.filter(
                pk__in={line.practitioner_id for lines in by_clinic.values() for line in lines}
            )
        }
        for lines in by_clinic.values():
            for line in lines:
                line.practitioner_name = line.practitioner_name or names[line.practitioner_id]
        _statements_create(run, by_clinic, today or timezone.localdate())
        run.refresh_from_db()
        # The month's figures as of this instant, in this transaction: what the run shows
        # forever after, whatever is paid late later.
        taken = replace(reconciliation_compute(run), taken_at=timezone.now().isoformat())
        paid_clinics = set(Statement.objects.filter(run=run).values_list("clinic_id", flat=True))
        run.figures = {
            **run.figures, "reconciliation": taken.as_json(),
            # Adjustments on the statements, and those of clinics whose total was not positive
            # (deferred: taken again next month), each by kind and reason.
            "adjustments": _reasons(line for clinic, lines in by_clinic.items() for line in lines
                                    if line.kind != LineKind.MONTH and clinic in paid_clinics),
            "deferred": _reasons(line for clinic, lines in by_clinic.items() for line in lines
                                 if clinic not in paid_clinics),
            "held": _reasons(replace(line, reason=reason) for line, reason in held),
        }  # fmt: skip
        PayoutRun.objects.filter(pk=run.pk).update(figures=run.figures)
        _transition(run, PayoutRunStatus.RENDERING, reason="snapshot taken")
        # Largest first: the workers stay busy to the end instead of waiting on one long statement.
        pending = list(
            Statement.objects.filter(run=run)
            .order_by("-member_count", "pk")
            .values_list("pk", flat=True)
        )
        audit_record(
            actor=None, action=AuditAction.UPDATE, obj=run,
            detail=f"snapshot: {run.statement_count} statements, {run.member_month_count} member-months, total {run.total}",
        )  # fmt: skip
        if pending:
            # The run report depends only on the snapshot: it is queued first, so one worker
            # renders it while the others start on the largest statements.
            transaction.on_commit(lambda: _enqueue("payouts.run_report_build", run.pk))
            transaction.on_commit(lambda: _enqueue_all("payouts.statement_render", pending))
        else:
            transaction.on_commit(lambda: _enqueue("payouts.run_finalize", run.pk))
    return run


def _holds_create(run: PayoutRun, held: list[tuple[_Line, str]]) -> None:
    PayoutHold.objects.bulk_create(
        [
            PayoutHold(
                run=run, invoice_id=line.invoice_id, member_id=line.member_id, period=line.period,
                practitioner_id=line.practitioner_id, amount=line.amount, reason=reason[:200],
            )
            for line, reason in held
        ],
        batch_size=5000,
    )  # fmt: skip


def _reasons(lines: Any) -> list[dict[str, Any]]:
    """Adjustment or held lines summed by kind and reason, for the stored reconciliation."""
    sums: dict[tuple[str, str], list[Any]] = {}
    for line in lines:
        entry = sums.setdefault((line.kind, line.reason), [0, ZERO])
        entry[0] += 1
        entry[1] += line.amount
    return [
        {"kind": kind, "reason": reason, "count": count, "amount": str(amount)}
        for (kind, reason), (count, amount) in sorted(sums.items())
    ]


_LINE_FIELDS = ("statement_id", "kind", "invoice_id", "member_id", "period", "practitioner_id",
                "member_number", "last_name", "first_name", "practitioner_name", "age_band", "amount")  # fmt: skip


def _statements_create(run: PayoutRun, by_clinic: dict[int, list[_Line]], check_date: date) -> None:
    """The statements (a few hundred, through the ORM), then every line and ledger row in two
    COPY streams (line ids taken first, so the ledger can point at them)."""
    from providers.models import Clinic

    clinics = {c.pk: c for c in Clinic.objects.filter(pk__in=by_clinic)}
    payable = [
        clinics[pk]
        for pk, lines in by_clinic.items()
        if sum((line.amount for line in lines), ZERO) > 0
    ]
    payable.sort(key=lambda c: (c.remit_to_name.lower(), c.pk))
    account = BankAccount.objects.select_for_update().get(pk=run.bank_account_id)
    checks = [c for c in payable if c.payment_method != PaymentMethod.DIRECT_DEPOSIT]
    deposits = [c for c in payable if c.payment_method == PaymentMethod.DIRECT_DEPOSIT]
    number = account.next_check_number
    period = Period.of(run.period)
    roster_total = adjustments_total = ZERO
    member_months = 0
    written: list[tuple[int, _Line]] = []
    for clinic in [*checks, *deposits]:
        lines = by_clinic[clinic.pk]
        month_total = sum((line.amount for line in lines if line.kind == LineKind.MONTH), ZERO)
        adjustment_total = sum((line.amount for line in lines if line.kind != LineKind.MONTH), ZERO)
        is_deposit = clinic.payment_method == PaymentMethod.DIRECT_DEPOSIT
        count = sum(1 for line in lines if line.kind == LineKind.MONTH)
        statement = Statement.objects.create(
            run=run, clinic=clinic, bank_account=account,
            check_number=None if is_deposit else number, check_date=check_date,
            payee_name=clinic.remit_to_name, remit_to=_remit_to(clinic),
            payment_method=clinic.payment_method,
            deposit_account_last4=clinic.bank_account_last4 if is_deposit else "",
            amount=month_total + adjustment_total, roster_total=month_total,
            adjustments_total=adjustment_total, member_count=count,
            memo=f"Primary care, {period.label}",
        )  # fmt: skip
        if not is_deposit:
            number += 1
        written.extend((statement.pk, line) for line in lines)
        roster_total += month_total
        adjustments_total += adjustment_total
        member_months += count
    line_ids = insert_rows(
        StatementLine, _LINE_FIELDS,
        ((pk, ln.kind, ln.invoice_id, ln.member_id, ln.period, ln.practitioner_id, ln.member_number,
          ln.last_name, ln.first_name, ln.practitioner_name, ln.age_band, ln.amount) for pk, ln in written),
        returning_ids=True,
    ).ids  # fmt: skip
    insert_rows(
        PaidOutMonth, ("member_id", "period", "invoice_id", "line_id", "run_id"),
        ((ln.member_id, ln.period, ln.invoice_id, line_id, run.pk)
         for (_, ln), line_id in zip(written, line_ids, strict=True) if ln.kind != LineKind.REVERSAL),
    )  # fmt: skip
    for (_, line), line_id in zip(written, line_ids, strict=True):
        if line.reverses is not None:
            PaidOutMonth.objects.filter(pk=line.reverses, reversed_by__isnull=True).update(
                reversed_by_id=line_id
            )
    BankAccount.objects.filter(pk=account.pk).update(next_check_number=number)
    PayoutRun.objects.filter(pk=run.pk).update(
        snapshot_at=timezone.now(), statement_count=len(payable), member_month_count=member_months,
        roster_total=roster_total, adjustments_total=adjustments_total,
        total=roster_total + adjustments_total,
    )  # fmt: skip


def _remit_to(clinic: Any) -> str:
    lines = [clinic.remit_to_street, clinic.remit_to_street2,
             f"{clinic.remit_to_city}, {clinic.remit_to_state} {clinic.remit_to_zip}"]  # fmt: skip
    return "\n".join(line for line in lines if line)


# --- rendering ---------------------------------------------------------------------------


def statement_render(*, statement_id: int) -> bool:
    """Render one statement's PDF if nobody has (claimed with SKIP LOCKED: a statement being
    rendered by another worker is left to it). Returns True when this call rendered it. When
    the run's last statement is rendered, the finalize step is queued.

    The row lock is the claim and is held while rendering (up to about a minute for 100,000
    members): a worker killed mid-render loses its connection and PostgreSQL drops the lock at
    once, so a resumed run re-renders that statement straight away — no lease to expire."""
    from .documents import render_statement_pdf
    from .selectors import statement_document

    with transaction.atomic():
        statement = (
            Statement.objects.select_for_update(skip_locked=True)
            .filter(pk=statement_id, rendered_at__isnull=True)
            .first()
        )
        if statement is None:
            return False
        Statement.objects.filter(pk=statement.pk).update(render_attempts=F("render_attempts") + 1)
        content = render_statement_pdf(statement_document(statement))
        name = f"{statement.run.period:%Y-%m}-{statement.check_number or f'dd{statement.pk}'}.pdf"
        statement.pdf.save(name, ContentFile(content), save=False)
        Statement.objects.filter(pk=statement.pk).update(
            pdf=statement.pdf.name, sha256=hashlib.sha256(content).hexdigest(),
            rendered_at=timezone.now(), render_error="",
        )  # fmt: skip
        if statement.reissue_of_id is None:  # a reissue is not part of the run's progress
            PayoutRun.objects.filter(pk=statement.run_id).update(
                rendered_count=F("rendered_count") + 1
            )
        run_id = statement.run_id
    if not Statement.objects.filter(run_id=run_id, rendered_at__isnull=True).exists():
        _enqueue("payouts.run_finalize", run_id)
    return True


def statement_render_failed(*, statement_id: int, error: str) -> None:
    """A rendering attempt failed: counted on the run and kept on the statement."""
    with transaction.atomic():
        statement = Statement.objects.filter(pk=statement_id).first()
        if statement is None:
            return
        Statement.objects.filter(pk=statement_id).update(render_error=error[:4000])
        PayoutRun.objects.filter(pk=statement.run_id).update(failure_count=F("failure_count") + 1)


# --- finalizing --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reconciliation:
    statements_total: Decimal
    lines_total: Decimal
    roster_fees_total: Decimal
    adjustments_total: Decimal
    paid_member_months: int
    on_statements: int
    deferred: int  # paid this month but on no statement (their clinic's total was not positive)
    taken_at: str = ""  # when the snapshot took these figures (ISO); "" when computed now
    held: int = 0  # paid this month but held: the PCP was not in good standing (see PayoutHold)
    held_total: Decimal = ZERO

    @property
    def balances(self) -> bool:
        return (
            self.statements_total
            == self.lines_total
            == self.roster_fees_total + self.adjustments_total
            and self.paid_member_months == self.on_statements + self.deferred + self.held
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "statements_total": str(self.statements_total),
            "lines_total": str(self.lines_total),
            "roster_fees_total": str(self.roster_fees_total),
            "adjustments_total": str(self.adjustments_total),
            "paid_member_months": self.paid_member_months,
            "on_statements": self.on_statements,
            "deferred": self.deferred,
            "taken_at": self.taken_at,
            "held": self.held,
            "held_total": str(self.held_total),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reconciliation:
        return cls(
            statements_total=Decimal(data["statements_total"]),
            lines_total=Decimal(data["lines_total"]),
            roster_fees_total=Decimal(data["roster_fees_total"]),
            adjustments_total=Decimal(data["adjustments_total"]),
            paid_member_months=int(data["paid_member_months"]),
            on_statements=int(data["on_statements"]),
            deferred=int(data["deferred"]),
            taken_at=data.get("taken_at", ""),
            held=int(data.get("held", 0)),
            held_total=Decimal(data.get("held_total", "0.00")),
        )


def reconciliation(run: PayoutRun) -> Reconciliation:
    """The run's reconciliation as its snapshot took it: a closed month's figures never move
    when an earlier month is paid late (that is an adjustment on the later run). Runs from
    before figures were stored are computed now."""
    if run.figures.get("reconciliation"):
        return Reconciliation.from_json(run.figures["reconciliation"])
    return reconciliation_compute(run)


def reconciliation_compute(run: PayoutRun) -> Reconciliation:
    """Sum of statements = sum of their lines = the PCP fees of the period's member-months
    on them + adjustments; every paid member-month of the period is on exactly one statement
    (or deferred with its clinic's negative balance) — as the database holds it now."""
    lines = StatementLine.objects.filter(statement__run=run, statement__reissue_of__isnull=True)
    months = lines.filter(kind=LineKind.MONTH)
    on_statements = months.count()
    paid = paid_member_months(Period.of(run.period))
    paid_count = paid.count()
    in_ledger = PaidOutMonth.objects.filter(
        period=run.period, reversed_by__isnull=True, invoice__in=paid.values("pk")
    ).count()
    holds = PayoutHold.objects.filter(run=run, period=run.period, invoice__in=paid.values("pk"))
    held = holds.aggregate(n=Count("pk"), t=Sum("amount"))
    return Reconciliation(
        statements_total=Statement.objects.filter(run=run, reissue_of__isnull=True).aggregate(
            t=Sum("amount")
        )["t"]
        or ZERO,
        lines_total=lines.aggregate(t=Sum("amount"))["t"] or ZERO,
        roster_fees_total=months.aggregate(t=Sum("amount"))["t"] or ZERO,
        adjustments_total=lines.exclude(kind=LineKind.MONTH).aggregate(t=Sum("amount"))["t"]
        or ZERO,
        paid_member_months=paid_count,
        on_statements=on_statements,
        deferred=paid_count - in_ledger - held["n"],
        held=held["n"],
        held_total=held["t"] or ZERO,
    )


def payout_run_finalize(*, run_id: int) -> PayoutRun:
    """When every statement is rendered: the reconciliation must balance; the positive-pay
    and ACH files are written here (small); the print batch is built by a task of its own,
    and so is the run report (queued with the statements, usually done by now; queued again
    here if missing); whichever part finishes last completes the run. Safe to call again:
    what exists is kept."""
    with transaction.atomic():
        run = PayoutRun.objects.select_for_update().get(pk=run_id)
        if run.status not in (PayoutRunStatus.RENDERING, PayoutRunStatus.FINALIZING):
            return run
        if Statement.objects.filter(run=run, rendered_at__isnull=True).exists():
            return run
        if run.status == PayoutRunStatus.RENDERING:
            _transition(run, PayoutRunStatus.FINALIZING)
        balance = reconciliation(run)
        # The statements and lines cannot change (database triggers), but the stored figures
        # are checked against them once more before any money file is written.
        now = reconciliation_compute(run)
        if not balance.balances or (now.statements_total, now.lines_total) != (
            balance.statements_total,
            balance.lines_total,
        ):
            raise ApplicationError(f"The run does not reconcile: {balance}")
        if not run.positive_pay:
            statements = _run_statements(run)
            period = f"{run.period:%Y-%m}"
            deposits = [s for s in statements if s.payment_method == PaymentMethod.DIRECT_DEPOSIT]
            # The ACH file first: when it is refused, no file is left behind in storage.
            ach_text = ach_file_for(run, deposits) if deposits else ""
            run.positive_pay.save(
                f"{period}-positive-pay.csv",
                ContentFile(positive_pay_csv(statements).encode()),
                save=False,
            )
            if ach_text:
                run.ach_file.save(f"{period}-ach.txt", ContentFile(ach_text.encode()), save=False)
            PayoutRun.objects.filter(pk=run.pk).update(
                positive_pay=run.positive_pay.name, ach_file=run.ach_file.name or ""
            )
            PositivePayFile.objects.create(
                run=run, version=1, file=run.positive_pay.name, reason="Run finalized",
                check_count=sum(1 for s in statements if s.check_number is not None),
            )  # fmt: skip
        parts = [
            task
            for task, done in (
                ("payouts.print_batch_build", run.print_batch),
                ("payouts.run_report_build", run.report_pdf),
            )
            if not done
        ]
        if parts:
            for task in parts:
                transaction.on_commit(partial(_enqueue, task, run.pk))
        else:
            _complete(run)
    return run


def _run_statements(run: PayoutRun) -> list[Statement]:
    """The run's statements (reissues included) in check-number order, direct deposits last."""
    return list(
        Statement.objects.filter(run=run)
        .select_related("bank_account", "clinic")
        .order_by("check_number", "pk")
    )


# A print batch larger than this is spooled to a temporary file while it is joined.
PRINT_BATCH_SPOOL_BYTES = 32 * 1024 * 1024


def _print_batch_content(run: PayoutRun) -> File:
    """The print batch, joined from each statement read through the storage API (one at a
    time) into a spooled temporary file, to be saved through the storage API: no media path
    is opened, so it works the same on local files and on an S3-compatible bucket."""
    from .documents import print_batch_pdf_write

    def files() -> Any:
        for statement in _run_statements(run):
            with statement.pdf.storage.open(str(statement.pdf.name), "rb") as handle:
                yield (
                    f"{statement.check_number or 'Deposit'} {statement.payee_name}",
                    handle.read(),
                )

    spool = tempfile.SpooledTemporaryFile(max_size=PRINT_BATCH_SPOOL_BYTES)  # noqa: SIM115
    try:
        print_batch_pdf_write(
            files(),
            spool,  # type: ignore[arg-type]
            title=f"Payout {run.period:%Y-%m} print batch",
            author=settings.COOPERATIVE_NAME,
        )
    except BaseException:
        spool.close()
        raise
    content = File(spool, name="print-batch.pdf")
    content.size = spool.tell()
    spool.seek(0)
    return content


def _report_content(run: PayoutRun) -> ContentFile:
    from .documents import render_run_report_pdf
    from .selectors import run_report

    return ContentFile(render_run_report_pdf(run_report(run), settings.COOPERATIVE_NAME))


_FINAL_PARTS = {
    "print_batch": ("print-batch.pdf", _print_batch_content),
    "report_pdf": ("report.pdf", _report_content),
}


def payout_run_part_build(*, run_id: int, part: str) -> PayoutRun:
    """Build one of a run's long files ('print_batch': every statement in check-number
    order, once every statement is rendered; 'report_pdf': the run report, from the snapshot
    on) outside any lock, then store it under the run's row lock unless another worker stored
    it first; on a finalizing run the last part completes it. A part that exists is not built
    again."""
    filename, build = _FINAL_PARTS[part]
    # The report may be built while statements render (it depends only on the snapshot); the
    # print batch needs every statement, so only a finalizing run builds it.
    allowed: tuple[str, ...] = (PayoutRunStatus.FINALIZING,)
    if part == "report_pdf":
        allowed = (PayoutRunStatus.RENDERING, PayoutRunStatus.FINALIZING)
    run = PayoutRun.objects.get(pk=run_id)
    content = None
    if run.status in allowed and not getattr(run, part):
        content = build(run)
    try:
        with transaction.atomic():
            run = PayoutRun.objects.select_for_update().get(pk=run_id)
            if run.status not in allowed:
                return run
            field = getattr(run, part)
            if not field and content is not None:
                field.save(f"{run.period:%Y-%m}-{filename}", content, save=False)
                PayoutRun.objects.filter(pk=run.pk).update(**{part: field.name})
            if run.status == PayoutRunStatus.FINALIZING and all(
                getattr(run, name) for name in _FINAL_PARTS
            ):
                _complete(run)
    finally:
        if content is not None:
            content.close()
    return run


def _complete(run: PayoutRun) -> None:
    """A locked, finalizing run whose files all exist becomes `completed`."""
    PayoutRun.objects.filter(pk=run.pk).update(completed_at=timezone.now())
    _transition(run, PayoutRunStatus.COMPLETED, reason="reconciled")
    audit_record(actor=None, action=AuditAction.UPDATE, obj=run, detail=f"completed: {run.total}")


def ach_file_id_modifier_take(*, bank_account: BankAccount, created_on: date) -> str:
    """The next unused file ID modifier of a day on a bank account (A to Z, then 0 to 9),
    read under the account's row lock (the AchFile row that uses it is written in the same
    transaction; a unique constraint backs it). Refused once all 36 are used."""
    from .nacha import FILE_ID_MODIFIERS

    BankAccount.objects.select_for_update().filter(pk=bank_account.pk).first()
    used = set(
        AchFile.objects.filter(bank_account=bank_account, created_on=created_on).values_list(
            "file_id_modifier", flat=True
        )
    )
    for modifier in FILE_ID_MODIFIERS:
        if modifier not in used:
            return modifier
    raise ApplicationError(
        f"All 36 ACH file ID modifiers of {created_on:%B %-d, %Y} are used on {bank_account}: "
        "no more ACH files can be created on this account today; resume the run tomorrow."
    )


def ach_effective_date(created_on: date) -> date:
    """The effective entry date of a file created on `created_on`: ACH_EFFECTIVE_DAYS banking
    days later (1 by default: the next banking day; never a weekend or a Fed holiday)."""
    from cooperative.banking import banking_days_after

    days = settings.ACH_EFFECTIVE_DAYS
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise ApplicationError(
            f"ACH_EFFECTIVE_DAYS must be a whole number of banking days, 0 or more (not {days!r})."
        )
    return banking_days_after(created_on, days)


def ach_file_for(run: PayoutRun, statements: list[Statement], *, now: Any = None) -> str:
    """The NACHA file crediting each direct-deposit provider (account numbers decrypted here
    only; checking or savings from the clinic's bank details), dated now, effective
    ACH_EFFECTIVE_DAYS banking days later, with the day's next file ID modifier; recorded as an
    AchFile of the run. Refused if the file would not pass validation."""
    from cooperative.crypto import decrypt_text

    from .nacha import AchCredit, ach_file, ach_validate

    created_at = timezone.localtime(now or timezone.now())
    effective_date = ach_effective_date(created_at.date())
    account = run.bank_account
    modifier = ach_file_id_modifier_take(bank_account=account, created_on=created_at.date())
    credits = []
    for statement in statements:
        clinic = statement.clinic
        credits.append(
            AchCredit(
                routing_number=clinic.bank_routing_number,
                account_number=decrypt_text(clinic.bank_account_encrypted),
                amount=statement.amount,
                payee_id=clinic.ein.replace("-", ""),
                payee_name=statement.payee_name,
                account_type=clinic.bank_account_type,
            )  # fmt: skip
        )
    text = ach_file(
        credits=credits, origin_routing=account.routing_number, bank_name=account.bank_name,
        company_name=settings.ACH_COMPANY_NAME, company_id=settings.ACH_COMPANY_ID,
        effective_date=effective_date, created_at=created_at, reference=f"{run.period:%Y%m}",
        file_id_modifier=modifier,
    )  # fmt: skip
    problems = ach_validate(text)
    if problems:
        raise ApplicationError("The ACH file does not validate: " + "; ".join(problems))
    AchFile.objects.create(
        bank_account=account, run=run, created_on=created_at.date(), file_id_modifier=modifier,
        effective_date=effective_date, entry_count=len(credits),
        total=sum((credit.amount for credit in credits), ZERO),
    )  # fmt: skip
    return text


def positive_pay_version_store(*, run: PayoutRun, reason: str, actor: Any) -> PositivePayFile:
    """A new version of the run's positive-pay file — every check of the run as of now, voids
    and reissues included — stored next to the earlier ones (which never change), numbered
    under the run's row lock; audited. Called in the transaction that voids or reissues."""
    locked = PayoutRun.objects.select_for_update().get(pk=run.pk)
    last = (
        PositivePayFile.objects.filter(run=locked).order_by("-version").values_list(
            "version", flat=True
        ).first()
        or 0
    )  # fmt: skip
    statements = _run_statements(locked)
    version = PositivePayFile(
        run=locked, version=last + 1, reason=reason[:300], created_by=user_or_none(actor),
        check_count=sum(1 for s in statements if s.check_number is not None),
    )  # fmt: skip
    version.file.save(
        f"{locked.period:%Y-%m}-positive-pay-v{version.version}.csv",
        ContentFile(positive_pay_csv(statements).encode()),
        save=False,
    )
    version.save()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=locked,
        detail=f"positive-pay version {version.version}: {reason}",
    )  # fmt: skip
    return version


def positive_pay_csv(statements: list[Statement]) -> str:
    """The bank's positive-pay file: every paper check issued (or voided) on the account."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["account", "check_number", "amount", "issue_date", "payee", "action"])
    for statement in statements:
        if statement.check_number is None:
            continue
        writer.writerow([
            statement.bank_account.account_number, statement.check_number, f"{statement.amount:.2f}",
            f"{statement.check_date:%Y-%m-%d}", statement.payee_name,
            "V" if statement.status == StatementStatus.VOIDED else "I",
        ])  # fmt: skip
    return buffer.getvalue()


def _enqueue(task_name: str, object_id: int) -> None:
    """Queue a payouts task ('payouts.statement_render' → tasks.statement_render)."""
    from . import tasks

    task = getattr(tasks, task_name.removeprefix("payouts."))
    task.apply_async(args=[object_id], queue=settings.PAYOUTS_QUEUE)


def _enqueue_all(task_name: str, object_ids: list[int]) -> None:
    for object_id in object_ids:
        _enqueue(task_name, object_id)


@transaction.atomic
def statement_void(
    *,
    statement: Statement,
    actor: Any,
    reason: str,
    reissue: bool = True,
    today: date | None = None,
) -> Statement | None:
    """Void a paper check (lost, stale, wrong address): the number stays used, with the reason,
    who and when. With `reissue` a new statement pays the same lines with the next check
    number, linked to the voided one; it is rendered by a worker. Returns the reissue."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why the check is voided.", errors={"reason": ["Required."]})
    locked = Statement.objects.select_for_update().select_related("run").get(pk=statement.pk)
    if locked.check_number is None:
        raise ApplicationError("A direct deposit is not a check: it cannot be voided here.")
    if locked.status == StatementStatus.VOIDED:
        raise ConflictError(f"Check {locked.check_number} is already void.")
    if locked.run.status != PayoutRunStatus.COMPLETED:
        raise ConflictError(
            "Checks of a run still underway cannot be voided: wait for it to complete."
        )
    now = timezone.now()
    Statement.objects.filter(pk=locked.pk).update(
        status=StatementStatus.VOIDED, voided_at=now, voided_by=actor, void_reason=reason[:300]
    )
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=locked,
        detail=f"check {locked.check_number} voided: {reason}",
    )
    if not reissue:
        positive_pay_version_store(
            run=locked.run, reason=f"Check {locked.check_number} voided", actor=actor
        )
        return None
    account = BankAccount.objects.select_for_update().get(pk=locked.bank_account_id)
    new = Statement.objects.create(
        run=locked.run, clinic=locked.clinic, bank_account=account, check_number=account.next_check_number,
        check_date=today or timezone.localdate(), payee_name=locked.payee_name, remit_to=locked.remit_to,
        payment_method=locked.payment_method, amount=locked.amount, member_count=locked.member_count,
        roster_total=locked.roster_total, adjustments_total=locked.adjustments_total, memo=locked.memo,
        reissue_of=locked,
    )  # fmt: skip
    BankAccount.objects.filter(pk=account.pk).update(next_check_number=F("next_check_number") + 1)
    StatementLine.objects.bulk_create(
        [
            StatementLine(
                statement=new,
                kind=line.kind,
                invoice_id=line.invoice_id,
                member_id=line.member_id,
                period=line.period,
                practitioner_id=line.practitioner_id,
                member_number=line.member_number,
                last_name=line.last_name,
                first_name=line.first_name,
                practitioner_name=line.practitioner_name,
                age_band=line.age_band,
                amount=line.amount,
            )  # fmt: skip
            for line in StatementLine.objects.filter(statement=locked).order_by("pk")
        ],
        batch_size=5000,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        obj=new,
        detail=f"reissue of check {locked.check_number}",
    )
    positive_pay_version_store(
        run=locked.run,
        reason=f"Check {locked.check_number} voided; check {new.check_number} reissued",
        actor=actor,
    )
    transaction.on_commit(lambda: _enqueue("payouts.statement_render", new.pk))
    return new
