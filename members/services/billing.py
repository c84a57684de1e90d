"""Dues: one invoice per membership and month, employer invoices, payments (recorded by finance
or imported from CSV), credits from overpayments, lapsing and reinstatement."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from cooperative.audit import audit_record
from cooperative.bulk import insert_rows, values_in
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import MoneyError, quantize_cents, to_decimal
from cooperative.periods import Period
from cooperative.uploads import CSV_MAX_BYTES, csv_text
from providers.models import Practitioner
from providers.selectors import PcpStanding, active_agreement_for, pcp_standings

from ..models import (
    EmployerGroup,
    EmployerGroupStatus,
    EmployerInvoice,
    Invoice,
    InvoiceStatus,
    Member,
    Membership,
    MembershipEvent,
    MembershipStatus,
    Payment,
    PaymentAllocation,
    PaymentImport,
    PaymentReturnKind,
    PaymentSource,
    PcpAssignment,
    Plan,
)
from .enrollment import age_on, employer_share

__all__ = [
    "IMPORT_MAX_BYTES", "InvoiceRun", "invoice_reprice_for_pcp", "invoice_void_for_membership", "invoices_generate", "memberships_activate_started",
    "memberships_lapse_overdue", "payment_record", "payment_return", "payment_validate", "payments_import_csv",
]  # fmt: skip

ZERO = Decimal("0.00")
IMPORT_MAX_BYTES = CSV_MAX_BYTES
BILLABLE_STATUSES = (MembershipStatus.PENDING, MembershipStatus.ACTIVE)
_CHUNK = 5000


@dataclass
class InvoiceRun:
    """What one invoicing pass did for a month."""

    period: Period
    created: int = 0
    already_invoiced: int = 0
    without_pcp: list[str] = field(default_factory=list)
    without_price: list[str] = field(default_factory=list)
    # Invoiced without a primary-care fee: (member number, why the PCP is not in good standing).
    without_pcp_fee: list[tuple[str, str]] = field(default_factory=list)


def _fee_bands(
    practitioner_ids: Iterable[int], on: date
) -> dict[int, list[tuple[int, int, Decimal]]]:
    """Each PCP's age bands (min, max, fee) in the agreement in force on `on`."""
    table: dict[int, list[tuple[int, int, Decimal]]] = {}
    for pk in practitioner_ids:
        agreement = active_agreement_for(Practitioner(pk=pk), on)
        table[pk] = (
            [(b.min_age, b.max_age, b.monthly_fee) for b in agreement.age_bands.all()]
            if agreement
            else []
        )
    return table


def _band(bands: list[tuple[int, int, Decimal]], age: int) -> tuple[int, int, Decimal] | None:
    return next((band for band in bands if band[0] <= age <= band[1]), None)


def invoices_generate(
    *, period: Period, membership_ids: list[int] | None = None, now: datetime | None = None
) -> InvoiceRun:
    """Invoice every membership billable in `period` (pending or active, started by the first
    of the month, not ended before it) that has no invoice for it yet. Idempotent: the unique
    (membership, month) constraint makes a second run create nothing. The PCP is the one
    assigned on the first of the month; the fee the agreement's band for the member's age then.
    A PCP not in good standing on the first of the month (suspended, excluded, no role, no
    agreement in force, ...) is not charged for: the invoice carries no primary-care fee, only
    the cooperative's portion, and the member is listed with the reason (and the standing
    review tells them to choose a new PCP). Employer shares are billed on one employer invoice
    per group and month, whose amount is recomputed as the sum of its lines. Available credits
    are applied at the end."""
    first = period.first_day
    now = now or timezone.now()
    run = InvoiceRun(period=period)
    billable = (
        Membership.objects.filter(start_date__lte=first)
        .filter(
            Q(status__in=BILLABLE_STATUSES, end_date__isnull=True)
            | Q(status__in=[*BILLABLE_STATUSES, MembershipStatus.CANCELLED], end_date__gte=first)
        )
        .exclude(invoices__period=first)
        .order_by("pk")
    )
    if membership_ids is not None:
        billable = billable.filter(pk__in=membership_ids)
    # Plain values, not model instances: at 100,000 memberships building objects cost more
    # than the database work. Plans and employer groups are few: loaded once.
    plans = {p.pk: p for p in Plan.objects.filter(pk__in=billable.values("plan_id").distinct())}
    groups = {
        g.pk: g
        for g in EmployerGroup.objects.filter(
            pk__in=billable.values("employer_group_id").distinct()
        )
    }
    fee_cache: dict[int, list[tuple[int, int, Decimal]]] = {}
    standing_cache: dict[int, PcpStanding] = {}
    touched_groups: set[int] = set()
    bill_tos: set[int] = set()
    chunk: list[tuple[Any, ...]] = []
    group_invoices: dict[int, int] = {}
    fields = ("membership_id", "member_id", "bill_to_id", "period", "practitioner_id",
              "pcp_assignment_id", "age", "age_band", "pcp_fee", "cooperative_portion", "amount",
              "employer_share", "member_amount", "member_paid", "employer_invoice_id",
              "member_paid_at", "settled_at", "status")  # fmt: skip

    def flush() -> None:
        member_ids = [row[1] for row in chunk]
        pcp_of = {
            member_id: (assignment_id, practitioner_id)
            for member_id, assignment_id, practitioner_id in PcpAssignment.objects.filter(
                values_in(PcpAssignment, "member_id", member_ids), effective_from__lte=first
            )
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gt=first))
            .values_list("member_id", "pk", "practitioner_id")
        }
        missing = {p for _, p in pcp_of.values() if p not in fee_cache}
        fee_cache.update(_fee_bands(sorted(missing), first))
        standing_cache.update(pcp_standings(missing, first))
        rows: list[tuple[Any, ...]] = []
        for membership_id, member_id, plan_id, group_id, number, birth, subscriber_id in chunk:
            if member_id not in pcp_of:
                run.without_pcp.append(number)
                continue
            assignment_id, practitioner_id = pcp_of[member_id]
            age = age_on(birth, first)
            standing = standing_cache[practitioner_id]
            if standing.is_good:
                band = _band(fee_cache[practitioner_id], age)
                if band is None:
                    run.without_price.append(number)
                    continue
                fee, band_label = band[2], f"{band[0]}–{band[1]}"
            else:
                fee, band_label = ZERO, ""
                run.without_pcp_fee.append((number, standing.reason))
            portion = plans[plan_id].cooperative_portion
            amount = quantize_cents(fee + portion)
            group = groups.get(group_id) if group_id else None
            # A suspended or ended employer is not billed: the member's invoice carries it all.
            share = employer_share(
                group if group and group.status == EmployerGroupStatus.ACTIVE else None, amount
            )
            group_invoice_id = None
            if group_id and share > 0:
                if group_id not in group_invoices:
                    group_invoices[group_id] = EmployerInvoice.objects.get_or_create(
                        employer_group_id=group_id, period=first
                    )[0].pk
                group_invoice_id = group_invoices[group_id]
                touched_groups.add(group_id)
            member_amount = amount - share
            paid_now = member_amount == 0
            settled_now = paid_now and group_invoice_id is None
            rows.append((
                membership_id, member_id, subscriber_id or member_id, first, practitioner_id,
                assignment_id, age, band_label, fee, portion, amount, share,
                member_amount, ZERO, group_invoice_id, now if paid_now else None,
                now if settled_now else None, InvoiceStatus.PAID if settled_now else InvoiceStatus.OPEN,
            ))  # fmt: skip
            bill_tos.add(subscriber_id or member_id)
        created = insert_rows(Invoice, fields, rows, ignore_conflicts=True).inserted
        run.created += created
        run.already_invoiced += len(rows) - created
        chunk.clear()

    with transaction.atomic():
        for row in billable.values_list(
            "pk", "member_id", "plan_id", "employer_group_id", "member__member_number",
            "member__date_of_birth", "member__subscriber_id",
        ).iterator(chunk_size=_CHUNK):  # fmt: skip
            chunk.append(row)
            if len(chunk) >= _CHUNK:
                flush()
        if chunk:
            flush()
        for group_id in sorted(touched_groups):
            _employer_invoice_recompute(group_id, first)
    with_credit = (
        Payment.objects.filter(values_in(Payment, "member_id", bill_tos), unapplied__gt=0)
        .values_list("member_id", flat=True)
        .distinct()
    )
    for member_id in sorted(set(with_credit)):
        with transaction.atomic():
            _member_credit_apply(Member.objects.select_for_update().get(pk=member_id), now)
    groups_with_credit = (
        Payment.objects.filter(employer_group_id__in=touched_groups, unapplied__gt=0)
        .values_list("employer_group_id", flat=True)
        .distinct()
    )
    for group_id in sorted(set(groups_with_credit)):
        with transaction.atomic():
            _employer_credit_apply(EmployerGroup.objects.select_for_update().get(pk=group_id), now)
    return run


def _employer_invoice_recompute(group_id: int, first: date) -> None:
    """An employer invoice's amount is the sum of its member lines (locked while recomputed)."""
    invoice = EmployerInvoice.objects.select_for_update().get(
        employer_group_id=group_id, period=first
    )
    total = (
        invoice.member_invoices.exclude(status=InvoiceStatus.VOID).aggregate(
            total=Sum("employer_share")
        )["total"]
        or ZERO
    )
    EmployerInvoice.objects.filter(pk=invoice.pk).update(amount=total)


def invoice_void_for_membership(*, membership: Membership, now: datetime | None = None) -> int:
    """Void a membership's invoices (a membership cancelled before it started). What was paid
    on them goes back to the payer as credit (the allocations are kept, marked reversed); the
    employer invoices they were on are recomputed without them."""
    now = now or timezone.now()
    invoices = list(
        Invoice.objects.select_for_update(of=("self",))
        .select_related("employer_invoice")
        .filter(membership=membership)
        .exclude(status=InvoiceStatus.VOID)
    )
    allocations = list(
        PaymentAllocation.objects.select_for_update()
        .filter(invoice__in=invoices, reversed_at__isnull=True)
        .order_by("pk")
    )
    for allocation in allocations:
        Payment.objects.filter(pk=allocation.payment_id).update(
            unapplied=F("unapplied") + allocation.amount
        )
    PaymentAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(reversed_at=now)
    Invoice.objects.filter(pk__in=[i.pk for i in invoices]).update(
        status=InvoiceStatus.VOID, member_paid=ZERO, member_paid_at=None, settled_at=None
    )
    for invoice in invoices:
        if invoice.employer_invoice is not None:
            _employer_invoice_recompute(invoice.employer_invoice.employer_group_id, invoice.period)
    return len(invoices)


def invoice_reprice_for_pcp(*, assignment: PcpAssignment) -> None:
    """A PCP change taking effect on the first of a month already invoiced (a choice changed
    before the membership started): that invoice follows the new PCP and its fee. Refused once
    money was applied to it — the change then has to wait a month."""
    invoice = (
        Invoice.objects.select_for_update(of=("self",))
        .select_related("membership__employer_group", "employer_invoice")
        .filter(member=assignment.member, period=assignment.effective_from)
        .exclude(status=InvoiceStatus.VOID)
        .first()
    )
    if invoice is None:
        return
    if invoice.member_paid > 0 or (
        invoice.employer_invoice is not None and invoice.employer_invoice.amount_paid > 0
    ):
        raise ApplicationError(
            f"The invoice for {invoice.period:%B %Y} is already being paid: choose the new provider "
            "next month, or ask member services.",
            errors={"pcp_npi": ["The invoice for that month is already being paid."]},
        )
    band = _band(
        _fee_bands([assignment.practitioner_id], invoice.period)[assignment.practitioner_id],
        invoice.age,
    )
    if band is None:
        raise ApplicationError(
            f"This provider has no price for {invoice.period:%B %Y}.",
            errors={"pcp_npi": ["No price for that month."]},
        )
    amount = quantize_cents(band[2] + invoice.cooperative_portion)
    share = employer_share(invoice.membership.employer_group, amount)
    Invoice.objects.filter(pk=invoice.pk).update(
        practitioner_id=assignment.practitioner_id, pcp_assignment=assignment, pcp_fee=band[2],
        age_band=f"{band[0]}–{band[1]}", amount=amount, employer_share=share, member_amount=amount - share,
    )  # fmt: skip
    if invoice.employer_invoice is not None:
        _employer_invoice_recompute(invoice.employer_invoice.employer_group_id, invoice.period)


def _member_invoice_settle(invoice: Invoice, now: datetime) -> None:
    """Mark the member's part paid when it is, and the invoice settled when the employer's
    part (if any) is paid too."""
    updates: dict[str, Any] = {"member_paid": invoice.member_paid}
    if invoice.member_paid == invoice.member_amount and invoice.member_paid_at is None:
        invoice.member_paid_at = now
        updates["member_paid_at"] = now
    employer_done = invoice.employer_invoice_id is None or (
        EmployerInvoice.objects.filter(
            pk=invoice.employer_invoice_id, paid_at__isnull=False
        ).exists()
    )
    if invoice.member_paid_at and employer_done and invoice.settled_at is None:
        updates.update(settled_at=now, status=InvoiceStatus.PAID)
    Invoice.objects.filter(pk=invoice.pk).update(**updates)


def _member_credit_apply(bill_to: Member, now: datetime) -> Decimal:
    """Apply the household's unapplied payments, oldest first, to its open invoices, oldest
    month first. The caller holds the lock on the bill-to member row."""
    payments = list(
        Payment.objects.select_for_update()
        .filter(member=bill_to, unapplied__gt=0)
        .order_by("received_on", "pk")
    )
    if not payments:
        return ZERO
    invoices = list(
        Invoice.objects.select_for_update()
        .filter(bill_to=bill_to, status=InvoiceStatus.OPEN, member_paid__lt=F("member_amount"))
        .order_by("period", "pk")
    )
    applied = ZERO
    for invoice in invoices:
        for payment in payments:
            if payment.unapplied <= 0 or invoice.member_paid >= invoice.member_amount:
                continue
            part = min(payment.unapplied, invoice.member_amount - invoice.member_paid)
            PaymentAllocation.objects.create(payment=payment, invoice=invoice, amount=part)
            payment.unapplied -= part
            invoice.member_paid += part
            applied += part
        _member_invoice_settle(invoice, now)
    for payment in payments:
        Payment.objects.filter(pk=payment.pk).update(unapplied=payment.unapplied)
    _household_reinstate_if_current(bill_to, now)
    return applied


def _employer_credit_apply(group: EmployerGroup, now: datetime) -> Decimal:
    """Apply the group's unapplied payments to its employer invoices, oldest month first; a
    paid employer invoice settles the member invoices whose own part is already paid."""
    payments = list(
        Payment.objects.select_for_update()
        .filter(employer_group=group, unapplied__gt=0)
        .order_by("received_on", "pk")
    )
    invoices = list(
        EmployerInvoice.objects.select_for_update()
        .filter(employer_group=group, paid_at__isnull=True, amount__gt=F("amount_paid"))
        .order_by("period", "pk")
    )
    applied = ZERO
    for invoice in invoices:
        for payment in payments:
            if payment.unapplied <= 0 or invoice.amount_paid >= invoice.amount:
                continue
            part = min(payment.unapplied, invoice.amount - invoice.amount_paid)
            PaymentAllocation.objects.create(payment=payment, employer_invoice=invoice, amount=part)
            payment.unapplied -= part
            invoice.amount_paid += part
            applied += part
        updates: dict[str, Any] = {"amount_paid": invoice.amount_paid}
        if invoice.amount_paid == invoice.amount:
            updates["paid_at"] = now
            invoice.member_invoices.filter(
                member_paid_at__isnull=False, settled_at__isnull=True
            ).update(settled_at=now, status=InvoiceStatus.PAID)
        EmployerInvoice.objects.filter(pk=invoice.pk).update(**updates)
    for payment in payments:
        Payment.objects.filter(pk=payment.pk).update(unapplied=payment.unapplied)
    return applied


def _grace_days() -> int:
    return int(getattr(settings, "DUES_GRACE_DAYS", 15))


def _overdue_q(today: date) -> Q:
    """Invoices whose member part is unpaid past the grace period."""
    return Q(
        status=InvoiceStatus.OPEN,
        member_paid__lt=F("member_amount"),
        period__lt=today - timedelta(days=_grace_days()),
    )


def _status_events(memberships: list[Membership], to_status: str, reason: str, actor: Any) -> None:
    MembershipEvent.objects.bulk_create(
        [
            MembershipEvent(
                membership=m, from_status=m.status, to_status=to_status, reason=reason, actor=actor
            )
            for m in memberships
        ]
    )
    Membership.objects.filter(pk__in=[m.pk for m in memberships]).update(status=to_status)


def _household_reinstate_if_current(bill_to: Member, now: datetime) -> None:
    """A lapsed membership of the household comes back once nothing is overdue any more."""
    today = timezone.localdate(now)
    if Invoice.objects.filter(_overdue_q(today), bill_to=bill_to).exists():
        return
    lapsed = list(
        Membership.objects.select_for_update().filter(
            Q(member=bill_to) | Q(member__subscriber=bill_to), status=MembershipStatus.LAPSED
        )
    )
    if lapsed:
        _status_events(lapsed, MembershipStatus.ACTIVE, "reinstated: dues paid", None)


@transaction.atomic
def memberships_lapse_overdue(*, today: date | None = None) -> int:
    """Active memberships whose dues are unpaid `DUES_GRACE_DAYS` after the month began become
    lapsed (with an event each); a later payment reinstates them."""
    today = today or timezone.localdate()
    bill_tos = Invoice.objects.filter(_overdue_q(today)).values("bill_to_id")
    overdue = list(
        Membership.objects.select_for_update()
        .filter(status=MembershipStatus.ACTIVE)
        .filter(Q(member_id__in=bill_tos) | Q(member__subscriber_id__in=bill_tos))
        .order_by("pk")
    )
    if overdue:
        _status_events(overdue, MembershipStatus.LAPSED, f"dues unpaid {_grace_days()} days", None)
    return len(overdue)


@transaction.atomic
def memberships_activate_started(*, today: date | None = None) -> int:
    """Pending memberships whose start date has come become active (with an event each)."""
    today = today or timezone.localdate()
    started = list(
        Membership.objects.select_for_update()
        .filter(status=MembershipStatus.PENDING, start_date__lte=today)
        .order_by("pk")
    )
    if started:
        _status_events(started, MembershipStatus.ACTIVE, "start date reached", None)
    return len(started)


def payment_validate(
    *, reference: str, received_on: Any, amount: Any, member: Member | None,
    employer_group: EmployerGroup | None, check_duplicate: bool = False,
) -> tuple[str, date, Decimal]:  # fmt: skip
    errors: dict[str, list[str]] = {}
    reference = str(reference or "").strip()
    if not reference:
        errors["reference"] = ["Give the payment's reference (check or transfer number)."]
    elif len(reference) > 64:
        errors["reference"] = ["A reference has at most 64 characters."]
    if not isinstance(received_on, date):
        errors["received_on"] = ["Give the date the payment was received."]
    elif received_on > timezone.localdate():
        errors["received_on"] = ["The payment date is in the future."]
    value = ZERO
    try:
        value = to_decimal(amount)
        if value != value.quantize(Decimal("0.01")):
            errors["amount"] = ["An amount has at most two decimals."]
        elif value <= 0:
            errors["amount"] = ["The amount must be more than zero."]
        elif value >= Decimal("10000000"):
            errors["amount"] = ["The amount is too large."]
    except MoneyError as error:
        errors["amount"] = [str(error)]
    if (member is None) == (employer_group is None):
        errors["payer"] = ["A payment comes from one member or one employer group."]
    elif check_duplicate and reference and Payment.objects.filter(reference=reference).exists():
        errors["reference"] = [f"Payment {reference} is already recorded."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    return reference, received_on, quantize_cents(value)


@transaction.atomic
def payment_record(
    *, reference: str, received_on: date, amount: Decimal | str, member: Member | None = None,
    employer_group: EmployerGroup | None = None, actor: Any = None,
    source: str = PaymentSource.ADMIN, payment_import: PaymentImport | None = None, note: str = "",
) -> Payment:  # fmt: skip
    """Record money received and apply it at once: a member's payment to the household's open
    invoices (oldest month first), an employer's to its employer invoices. What is left is a
    credit for the next invoice. A reference is recorded once: a second time is refused (409)."""
    reference, received_on, value = payment_validate(
        reference=reference, received_on=received_on, amount=amount, member=member,
        employer_group=employer_group,
    )  # fmt: skip
    now = timezone.now()
    if member is not None:
        bill_to = Member.objects.select_for_update().get(pk=member.subscriber_id or member.pk)
    else:
        assert employer_group is not None
        employer_group = EmployerGroup.objects.select_for_update().get(pk=employer_group.pk)
    if Payment.objects.filter(reference=reference).exists():
        raise ConflictError(
            f"Payment {reference} is already recorded.",
            errors={"reference": ["Already recorded."]},
        )
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                reference=reference, received_on=received_on, amount=value, unapplied=value,
                member=bill_to if member is not None else None, employer_group=employer_group,
                source=source, payment_import=payment_import, recorded_by=actor, note=note[:200],
            )  # fmt: skip
    except IntegrityError:
        raise ConflictError(
            f"Payment {reference} is already recorded.", errors={"reference": ["Already recorded."]}
        ) from None
    if member is not None:
        _member_credit_apply(bill_to, now)
    else:
        assert employer_group is not None
        _employer_credit_apply(employer_group, now)
    payment.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=payment, detail=f"payment {value} ({source})"
    )
    return payment


@transaction.atomic
def payment_return(
    *, payment: Payment, kind: str, returned_on: Any, reason: str = "", actor: Any = None
) -> Payment:
    """A payment the bank returned (NSF, closed account) or the cooperative refunded: every
    allocation it made is reversed, so each member-month it paid is unpaid again (and a
    provider already paid for one gets a reversal line on the next statement); its unapplied
    credit is gone too. Other credit the payer holds is then applied as usual. The payment
    stays on record, marked; a payment goes back once: a second return is refused (409)."""
    errors: dict[str, list[str]] = {}
    if kind not in PaymentReturnKind.values:
        errors["return_kind"] = ["Say whether the bank returned the payment or it was refunded."]
    if not isinstance(returned_on, date):
        errors["returned_on"] = ["Give the date the money went back."]
    elif returned_on > timezone.localdate():
        errors["returned_on"] = ["The date is in the future."]
    elif returned_on < payment.received_on:
        errors["returned_on"] = ["The money cannot go back before it was received."]
    reason = str(reason or "").strip()
    if len(reason) > 200:
        errors["return_reason"] = ["A reason has at most 200 characters."]
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)
    now = timezone.now()
    # Locks in the order payment_record takes them: the payer, then the payment.
    if payment.member_id is not None:
        payer: Any = Member.objects.select_for_update().get(pk=payment.member_id)
    else:
        assert payment.employer_group_id is not None
        payer = EmployerGroup.objects.select_for_update().get(pk=payment.employer_group_id)
    payment = Payment.objects.select_for_update().get(pk=payment.pk)
    if payment.return_kind:
        raise ConflictError(
            f"Payment {payment.reference} already went back on {payment.returned_on:%B %-d, %Y}.",
            errors={"return_kind": ["Already returned."]},
        )
    allocations = list(
        PaymentAllocation.objects.select_for_update()
        .filter(payment=payment, reversed_at__isnull=True)
        .order_by("pk")
    )
    for allocation in allocations:
        if allocation.invoice_id is not None:
            invoice = Invoice.objects.select_for_update().get(pk=allocation.invoice_id)
            paid = invoice.member_paid - allocation.amount
            updates: dict[str, Any] = {"member_paid": paid}
            if paid < invoice.member_amount:
                updates.update(member_paid_at=None, settled_at=None)
                if invoice.status == InvoiceStatus.PAID:
                    updates["status"] = InvoiceStatus.OPEN
            Invoice.objects.filter(pk=invoice.pk).update(**updates)
        else:
            assert allocation.employer_invoice_id is not None
            employer_invoice = EmployerInvoice.objects.select_for_update().get(
                pk=allocation.employer_invoice_id
            )
            paid = employer_invoice.amount_paid - allocation.amount
            EmployerInvoice.objects.filter(pk=employer_invoice.pk).update(
                amount_paid=paid, paid_at=None if paid < employer_invoice.amount else employer_invoice.paid_at
            )  # fmt: skip
            if paid < employer_invoice.amount:
                employer_invoice.member_invoices.filter(settled_at__isnull=False).update(
                    settled_at=None, status=InvoiceStatus.OPEN
                )
    PaymentAllocation.objects.filter(pk__in=[a.pk for a in allocations]).update(reversed_at=now)
    Payment.objects.filter(pk=payment.pk).update(
        unapplied=ZERO, return_kind=kind, returned_on=returned_on, return_reason=reason,
        returned_by=actor if getattr(actor, "pk", None) else None,
    )  # fmt: skip
    # Other credit the payer holds fills the months this payment no longer pays.
    if payment.member_id is not None:
        _member_credit_apply(payer, now)
    else:
        _employer_credit_apply(payer, now)
    payment.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=payment,
        detail=f"payment {payment.amount} {kind} on {returned_on}: {len(allocations)} allocations reversed"
        + (f" ({reason})" if reason else ""),
    )  # fmt: skip
    return payment


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y")
_PAYER_COLUMNS = ("payer", "member_or_employer", "member number or employer code", "member_number",
                  "employer_code", "member", "employer")  # fmt: skip


def _parse_date(text: str) -> date | None:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 - a calendar date
        except ValueError:
            continue
    return None


def _header_key(name: str) -> str:
    return re.sub(r"\s+", " ", name.strip().lower().replace("_", " "))


_NOT_RETURNED = ("", "no", "n", "false", "0")
_RETURN_MARKERS = {
    "returned": PaymentReturnKind.RETURNED, "return": PaymentReturnKind.RETURNED,
    "nsf": PaymentReturnKind.RETURNED, "yes": PaymentReturnKind.RETURNED, "y": PaymentReturnKind.RETURNED,
    "true": PaymentReturnKind.RETURNED, "1": PaymentReturnKind.RETURNED,
    "refunded": PaymentReturnKind.REFUNDED, "refund": PaymentReturnKind.REFUNDED,
}  # fmt: skip


def _import_return_line(cells: dict[str, str], marker: str, actor: Any) -> str:
    """One `returned` line of a payments file: "" when recorded, "duplicate" when that payment
    already went back, otherwise the reason the line is rejected."""
    kind = _RETURN_MARKERS.get(marker)
    if kind is None:
        return f"returned '{marker}' is not returned, refunded or empty"
    payment = (
        Payment.objects.select_related("member", "employer_group")
        .filter(reference=cells["reference"])
        .first()
    )
    if payment is None:
        return f"no payment {cells['reference'] or '(no reference)'} to return"
    if payment.return_kind:
        return "duplicate"
    payer = cells["payer"].upper()
    recorded_payer = (
        payment.member.member_number
        if payment.member is not None
        else payment.employer_group.employer_code.upper()  # type: ignore[union-attr]
    )
    if payer != recorded_payer:
        return f"payment {payment.reference} came from {recorded_payer}, not {cells['payer']}"
    try:
        amount = quantize_cents(to_decimal(cells["amount"]))
    except MoneyError as error:
        return str(error)
    if amount != payment.amount:
        return f"payment {payment.reference} was {payment.amount}, not {amount}: a payment goes back whole"
    returned_on = _parse_date(cells["date"])
    if returned_on is None:
        return f"date '{cells['date']}' is not YYYY-MM-DD or MM/DD/YYYY"
    try:
        payment_return(payment=payment, kind=kind, returned_on=returned_on, actor=actor,
                       reason="imported file")  # fmt: skip
    except ConflictError:
        return "duplicate"
    except ApplicationError as error:
        return error.message
    return ""


def payments_import_csv(*, file_name: str, content: bytes, actor: Any) -> PaymentImport:
    """Import a CSV of payments (reference, date, member number or employer code, amount, and
    an optional `returned` column). Each good line is recorded and applied on its own; a
    reference already recorded (now or earlier in the file) is skipped as a duplicate; every
    other bad line is rejected with its line number and reason. A line marked `returned` (or
    `refunded`) names a payment already recorded — same reference, payer and amount — that went
    back on the line's date (`payment_return`); one already marked is a duplicate. Importing the
    same file twice records nothing twice."""
    reader = csv.reader(io.StringIO(csv_text(content)))
    header = next(reader, None)
    keys = [_header_key(h) for h in header or []]
    wanted: dict[str, int | None] = {"reference": None, "date": None, "payer": None, "amount": None}
    for index, key in enumerate(keys):
        if key in ("reference", "date", "amount"):
            wanted[key] = index
        elif key in {_header_key(c) for c in _PAYER_COLUMNS}:
            wanted["payer"] = index
    returned_column = next((i for i, key in enumerate(keys) if key in ("returned", "return")), None)
    missing = [k for k, v in wanted.items() if v is None]
    if missing:
        raise ApplicationError(
            "The first line must name the columns reference, date, member number or employer "
            f"code, amount; missing: {', '.join(missing)}.",
            errors={"file": [f"Missing columns: {', '.join(missing)}."]},
        )
    batch = PaymentImport.objects.create(
        file_name=file_name[:200], sha256=hashlib.sha256(content).hexdigest(), uploaded_by=actor
    )
    seen: set[str] = set()
    rejected: list[dict[str, Any]] = []
    applied = duplicates = returned = 0
    total = ZERO
    for line_number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {
            k: (row[i].strip() if i is not None and i < len(row) else "") for k, i in wanted.items()
        }
        reference = cells["reference"]
        marker = (
            row[returned_column].strip().lower()
            if returned_column is not None and returned_column < len(row)
            else ""
        )
        if marker not in _NOT_RETURNED:
            outcome = _import_return_line(cells, marker, actor)
            if outcome == "duplicate":
                duplicates += 1
            elif outcome:
                rejected.append({"line": line_number, "reference": reference, "reason": outcome})
            else:
                returned += 1
            continue
        if reference and (
            reference in seen or Payment.objects.filter(reference=reference).exists()
        ):
            duplicates += 1
            continue
        received_on = _parse_date(cells["date"])
        payer = cells["payer"].upper()
        member = (
            Member.objects.filter(member_number=payer).first() if payer.startswith("CC-") else None
        )
        group = (
            None if member else EmployerGroup.objects.filter(employer_code__iexact=payer).first()
        )
        reason = ""
        if received_on is None:
            reason = f"date '{cells['date']}' is not YYYY-MM-DD or MM/DD/YYYY"
        elif member is None and group is None:
            reason = f"no member number or employer code '{cells['payer']}'"
        if not reason and received_on is not None:
            try:
                payment = payment_record(
                    reference=reference, received_on=received_on, amount=cells["amount"],
                    member=member, employer_group=group, actor=actor,
                    source=PaymentSource.IMPORT, payment_import=batch,
                )  # fmt: skip
            except ConflictError:
                duplicates += 1
                continue
            except ApplicationError as error:
                reason = error.message
            else:
                seen.add(reference)
                applied += 1
                total += payment.amount
                continue
        rejected.append({"line": line_number, "reference": reference, "reason": reason})
    PaymentImport.objects.filter(pk=batch.pk).update(
        applied_count=applied, duplicate_count=duplicates, returned_count=returned, rejected_count=len(rejected),
        total_applied=total, rejected_lines=rejected,
    )  # fmt: skip
    batch.refresh_from_db()
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=batch,
        detail=f"import: {applied} applied, {returned} returned, {duplicates} duplicates, {len(rejected)} rejected",
    )  # fmt: skip
    return batch
