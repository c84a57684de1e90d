"""Reads of the payouts app: runs, statements, the document a statement PDF is made from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import QuerySet

from cooperative.periods import Period

from .models import LineKind, PayoutRun, Statement, StatementLine

if TYPE_CHECKING:
    from .documents import StatementDocument


def payout_runs() -> QuerySet[PayoutRun]:
    return PayoutRun.objects.select_related("started_by", "bank_account").order_by("-period", "-pk")


def run_statements(run: PayoutRun, *, search: str = "") -> QuerySet[Statement]:
    """A run's statements in check-number order (direct deposits last), optionally searched by
    payee or clinic name."""
    statements = Statement.objects.filter(run=run).select_related("clinic", "reissue_of")
    if search:
        from django.db.models import Q

        statements = statements.filter(
            Q(payee_name__icontains=search)
            | Q(clinic__legal_name__icontains=search)
            | Q(clinic__dba_name__icontains=search)
        )
    return statements.order_by("check_number", "pk")


def statements_for_clinic(clinic_id: int) -> QuerySet[Statement]:
    """A provider's own statements, newest first (completed runs only)."""
    return (
        Statement.objects.filter(clinic_id=clinic_id, run__status="completed")
        .select_related("run")
        .order_by("-run__period", "-pk")
    )


def run_progress(run: PayoutRun) -> dict[str, Any]:
    """What the run page's progress bar shows."""
    from django.utils import timezone

    total = run.statement_count
    done = run.rendered_count
    end = run.completed_at or timezone.now()
    return {
        "total": total,
        "done": done,
        "percent": 100 if run.status == "completed" else (int(done * 100 / total) if total else 0),
        "failures": run.failure_count,
        "elapsed_seconds": int((end - run.started_at).total_seconds()) if run.started_at else 0,
    }


def statement_document(statement: Statement) -> StatementDocument:
    """Everything a statement PDF prints, from the stored statement and lines only (so the
    same statement always renders to the same bytes)."""
    from .documents import AdjustmentLine, RosterLine, StatementDocument

    lines = StatementLine.objects.filter(statement=statement).order_by(
        "last_name", "first_name", "member_number", "period", "pk"
    )
    roster: list[RosterLine] = []
    adjustments: list[AdjustmentLine] = []
    for line in lines.iterator(chunk_size=5000):
        if line.kind == LineKind.MONTH:
            roster.append(
                RosterLine(
                    line.member_number,
                    line.last_name,
                    line.first_name,
                    line.practitioner_name,
                    line.age_band,
                    line.amount,
                )  # fmt: skip
            )
        else:
            adjustments.append(
                AdjustmentLine(
                    line.member_number,
                    f"{line.last_name}, {line.first_name}",
                    Period.of(line.period).label,
                    line.practitioner_name,
                    "Paid late" if line.kind == LineKind.LATE else "Payment refunded",
                    line.amount,
                )  # fmt: skip
            )
    account = statement.bank_account
    clinic = statement.clinic
    return StatementDocument(
        cooperative_name=settings.COOPERATIVE_NAME,
        cooperative_address=tuple(settings.COOPERATIVE_ADDRESS),
        bank_name=account.bank_name, bank_routing=account.routing_number,
        bank_account=account.account_number, payee_name=statement.payee_name,
        remit_to=tuple(statement.remit_to.splitlines()), provider_name=clinic.display_name,
        amount=statement.amount, check_number=statement.check_number or 0,
        check_date=statement.check_date, period_label=Period.of(statement.run.period).label,
        memo=statement.memo, is_direct_deposit=statement.check_number is None,
        deposit_account_last4=statement.deposit_account_last4,
        lines=tuple(roster), adjustments=tuple(adjustments),
    )  # fmt: skip
