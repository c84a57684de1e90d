"""Reads of the payouts app: runs, statements, the document a statement PDF is made from."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from cooperative.periods import Period

from .models import LineKind, PayoutRun, PayoutRunStatus, Statement, StatementLine

if TYPE_CHECKING:
    from .documents import StatementDocument


def payout_date(period: Period) -> date:
    """The day a period may be paid out: the last business day (Monday–Friday) of the month,
    moved by PAYOUT_DAY_OFFSET business days (negative: earlier; positive: into next month)."""
    day = period.last_day
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    offset = int(getattr(settings, "PAYOUT_DAY_OFFSET", 0))
    step = 1 if offset > 0 else -1
    for _ in range(abs(offset)):
        day += timedelta(days=step)
        while day.weekday() >= 5:
            day += timedelta(days=step)
    return day


def next_unpaid_period(*, today: date | None = None) -> Period | None:
    """The month the start form proposes: an unfinished (failed or underway) run's month first,
    to resume it; else the month after the last completed one (the previous month when nothing
    was ever paid); None when that month's payout date has not come yet (all is paid)."""
    today = today or timezone.localdate()
    runs = PayoutRun.objects.exclude(status=PayoutRunStatus.CANCELLED)
    unfinished = runs.exclude(status=PayoutRunStatus.COMPLETED).order_by("period").first()
    if unfinished is not None:
        return Period.of(unfinished.period)
    latest = runs.order_by("-period").values_list("period", flat=True).first()
    candidate = Period.of(latest).next() if latest else Period.of(today).previous()
    return candidate if payout_date(candidate) <= today else None


def payout_runs() -> QuerySet[PayoutRun]:
    return PayoutRun.objects.select_related("started_by", "bank_account").order_by("-period", "-pk")


def positive_pay_versions(run: PayoutRun) -> QuerySet[Any]:
    """The stored versions of a run's positive-pay file, first to last, with who made each."""
    from .models import PositivePayFile

    return PositivePayFile.objects.filter(run=run).select_related("created_by").order_by("version")


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


def run_report(run: PayoutRun) -> dict[str, Any]:
    """The run report: totals by state (the clinic's remit-to state), by clinic and by
    practitioner, the adjustments, and the reconciliation — from the snapshot's lines (the
    statements as first issued; a reissue repeats its voided statement's lines)."""
    from django.db.models import Count, Q, Sum

    from .services import reconciliation

    lines = StatementLine.objects.filter(statement__run=run, statement__reissue_of__isnull=True)
    month = Q(kind=LineKind.MONTH)
    sums = {
        "member_months": Count("pk", filter=month),
        "roster_total": Sum("amount", filter=month),
        "adjustments": Sum("amount", filter=~month),
        "total": Sum("amount"),
    }
    by_state = list(
        lines.values(state=models.F("statement__clinic__remit_to_state"))
        .annotate(**sums)
        .order_by("state")
    )
    by_clinic = list(
        lines.values(
            "statement__check_number", "statement__payee_name", "statement__payment_method"
        )
        .annotate(**sums)
        .order_by("statement__payee_name", "statement__check_number")
    )
    by_practitioner = list(
        lines.values("practitioner_name", "statement__payee_name")
        .annotate(**sums)
        .order_by("practitioner_name", "statement__payee_name")
    )
    adjustments = list(
        lines.exclude(month)
        .values(
            "kind",
            "member_number",
            "last_name",
            "first_name",
            "period",
            "practitioner_name",
            "statement__payee_name",
            "amount",
        )  # fmt: skip
        .order_by("statement__payee_name", "last_name", "first_name", "period")
    )
    return {
        "run": run, "by_state": by_state, "by_clinic": by_clinic, "by_practitioner": by_practitioner,
        "adjustments": adjustments, "reconciliation": reconciliation(run), "reasons": run_reasons(run),
    }  # fmt: skip


_REASON_GROUPS = (("held", "Held"), ("adjustments", "Adjustment"), ("deferred", "Deferred"))
_KIND_LABELS = {"month": "month", "late": "month paid late", "reversal": "reversal"}


def run_reasons(run: PayoutRun) -> list[dict[str, Any]]:
    """What the snapshot held, adjusted and deferred, by reason (from the stored figures)."""
    rows = []
    for key, label in _REASON_GROUPS:
        for entry in run.figures.get(key, []):
            rows.append({
                "group": key, "what": f"{label}: {_KIND_LABELS.get(entry['kind'], entry['kind'])}",
                "reason": entry["reason"], "count": entry["count"], "amount": Decimal(entry["amount"]),
            })  # fmt: skip
    return rows


def run_report_csv(run: PayoutRun) -> str:
    """The run report as one CSV: a section column, then the figures of each row."""
    import csv
    import io

    report = run_report(run)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["section", "name", "clinic", "check_number", "member_months", "roster_total",
                     "adjustments", "total"])  # fmt: skip

    def money(value: Any) -> str:
        return f"{value or 0:.2f}"

    for row in report["by_state"]:
        writer.writerow(["state", row["state"], "", "", row["member_months"], money(row["roster_total"]),
                         money(row["adjustments"]), money(row["total"])])  # fmt: skip
    for row in report["by_clinic"]:
        writer.writerow(["clinic", row["statement__payee_name"], row["statement__payee_name"],
                         row["statement__check_number"] or "", row["member_months"], money(row["roster_total"]),
                         money(row["adjustments"]), money(row["total"])])  # fmt: skip
    for row in report["by_practitioner"]:
        writer.writerow(["practitioner", row["practitioner_name"], row["statement__payee_name"], "",
                         row["member_months"], money(row["roster_total"]), money(row["adjustments"]),
                         money(row["total"])])  # fmt: skip
    for row in report["adjustments"]:
        writer.writerow([f"adjustment:{row['kind']}", f"{row['last_name']}, {row['first_name']} ({row['member_number']}, {row['period']:%Y-%m})",
                         row["statement__payee_name"], "", "", "", money(row["amount"]), money(row["amount"])])  # fmt: skip
    balance = report["reconciliation"]
    writer.writerow(["reconciliation", "balances" if balance.balances else "DOES NOT BALANCE", "", "",
                     balance.on_statements, money(balance.roster_fees_total), money(balance.adjustments_total),
                     money(balance.statements_total)])  # fmt: skip
    for row in report["reasons"]:
        if row["group"] != "adjustments":  # adjustments are listed line by line above
            writer.writerow(
                [row["group"], row["reason"], "", "", row["count"], "", "", money(row["amount"])]
            )
    return buffer.getvalue()


def _void_line(statement: Statement) -> str:
    from django.utils import timezone

    from .void_stamp import void_line

    assert statement.voided_at is not None
    return void_line(timezone.localtime(statement.voided_at).date())


def statement_pdf_download(statement: Statement) -> tuple[Any, bytes]:
    """A statement's stored PDF, opened, and what to append to it as it is downloaded: for a
    voided check, the update that marks every page VOID with the void date (the stored file
    itself never changes); else nothing."""
    from .models import StatementStatus
    from .void_stamp import void_update

    handle = statement.pdf.open("rb")
    if statement.status != StatementStatus.VOIDED:
        return handle, b""
    try:
        return handle, void_update(handle, _void_line(statement))
    except BaseException:
        handle.close()
        raise


def print_batch_download(run: PayoutRun) -> tuple[Any, bytes]:
    """The run's stored print batch, opened, and the update that marks the pages of each check
    voided since (VOID and its void date), found by the batch's bookmarks."""
    from .models import StatementStatus
    from .void_stamp import statement_pages_in_batch, void_update

    handle = run.print_batch.open("rb")
    voided = {
        s.check_number: s
        for s in Statement.objects.filter(
            run=run, status=StatementStatus.VOIDED, check_number__isnull=False
        )
        if s.check_number is not None
    }
    if not voided:
        return handle, b""
    try:
        pages = statement_pages_in_batch(handle, set(voided))
        stamps = {
            index: _void_line(voided[number])
            for number, indexes in pages.items()
            for index in indexes
        }
        first_pages = {indexes[0] for indexes in pages.values() if indexes}
        return handle, void_update(handle, stamps, first_pages)
    except BaseException:
        handle.close()
        raise


def dashboard_figures_for(*, user: Any) -> list[dict[str, Any]]:
    """Finance's dashboard: months ready to pay out (in red while any: checks are due) and
    failed runs to resume, each opening the list of what it counts. One query."""
    from django.urls import reverse

    from cooperative.permissions import has_role
    from cooperative.roles import Role

    if not has_role(user, Role.FINANCE):
        return []
    months, failed = months_ready_to_pay_out()
    ready = len(months)
    return [
        # The payouts page lists these months (#ready-months); the admin lists the failed runs.
        {"label": "months ready to pay out" if ready != 1 else "month ready to pay out",
         "count": ready, "url": reverse("payouts:runs") + "#ready-months", "attention": ready > 0},
        {"label": "failed payout runs to resume", "count": failed,
         "url": reverse("admin:payouts_payoutrun_changelist") + f"?status__exact={PayoutRunStatus.FAILED}",
         "attention": failed > 0},
    ]  # fmt: skip


def months_ready_to_pay_out(today: date | None = None) -> tuple[list[Period], int]:
    """The months that can be paid out and are not paid yet (from the first unfinished run, or
    the month after the last one, to the last payable month), and the number of failed runs
    to resume. One query."""
    from django.db.models import Count, Max, Min, Q

    today = today or timezone.localdate()
    runs = PayoutRun.objects.exclude(status=PayoutRunStatus.CANCELLED).aggregate(
        failed=Count("pk", filter=Q(status=PayoutRunStatus.FAILED)),
        latest=Max("period"),
        unfinished=Min("period", filter=~Q(status=PayoutRunStatus.COMPLETED)),
    )
    current = Period.of(today)
    payable = current if payout_date(current) <= today else current.previous()
    if runs["unfinished"] is not None:
        first = Period.of(runs["unfinished"])
    elif runs["latest"] is not None:
        first = Period.of(runs["latest"]).next()
    else:
        first = current.previous()
    months = []
    month = first
    while (month.year, month.month) <= (payable.year, payable.month):
        months.append(month)
        month = month.next()
    return months, runs["failed"]


def provider_home_statement(*, clinic_id: int) -> list[dict[str, Any]]:
    """The provider home's latest statement: its month, amount, check number and PDF link (the
    month's issued check before a voided one). One query."""
    from .models import StatementStatus

    latest = (
        statements_for_clinic(clinic_id)
        .order_by(
            "-run__period",
            # Within a month the issued check comes before a voided one.
            models.Case(
                models.When(status=StatementStatus.VOIDED, then=models.Value(1)),
                default=models.Value(0),
            ),
            "-pk",
        )
        .first()
    )
    return [
        {
            "order": 30,
            "template": "payouts/_provider_home_statement.html",
            # Its month, amount and check number name no member: not a read of member data
            # (the PDF, with the paid-member list, is audited when it is opened).
            "statement": latest,
        }
    ]
