"""Reads of claim disputes (their qualification for advocacy), billing reviews and referrals.

A dispute qualifies for advocacy when it is **high-dollar** (the amount in dispute, expected
minus paid, reaches ADVOCACY_HIGH_DOLLAR_THRESHOLD), **systemic** (its payer and one of its codes
recur across at least ADVOCACY_SYSTEMIC_MIN_DISPUTES disputes, or ADVOCACY_SYSTEMIC_MIN_TOTAL in
dispute, with dates of service in the last ADVOCACY_SYSTEMIC_WINDOW_DAYS days) or **payer
unresponsive** (submitted, unanswered, past the payer contract's dispute window). All three are
computed from the stored facts, in the database for the lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Greatest
from django.utils import timezone

from cooperative.exceptions import ApplicationError
from cooperative.money import format_usd
from providers.models import Payer, PayerContract

from ..models import BillLine, BillReview, ClaimDispute, DisputeOutcome, Referral

ZERO = Decimal("0.00")
QUALIFICATIONS = ("high_dollar", "systemic", "unresponsive")


def high_dollar_threshold() -> Decimal:
    return Decimal(str(settings.ADVOCACY_HIGH_DOLLAR_THRESHOLD))


def systemic_min_total() -> Decimal:
    return Decimal(str(settings.ADVOCACY_SYSTEMIC_MIN_TOTAL))


def systemic_window_start(today: date) -> date:
    """The earliest date of service inside the systemic window (today − WINDOW days, inclusive)."""
    return today - timedelta(days=int(settings.ADVOCACY_SYSTEMIC_WINDOW_DAYS))


@dataclass(frozen=True)
class Qualification:
    """Why a dispute qualifies for advocacy (any of the three), with the reasons in words."""

    is_high_dollar: bool
    is_systemic: bool
    is_payer_unresponsive: bool
    systemic_group: tuple[int, str] | None
    reasons: list[str]
    # For a dispute that qualifies for nothing: why not, in one sentence with the figures.
    not_qualified_reason: str = ""

    @property
    def qualifies(self) -> bool:
        return self.is_high_dollar or self.is_systemic or self.is_payer_unresponsive


@dataclass(frozen=True)
class SystemicGroup:
    """One payer and code recurring across disputes in the window: how many, how much, which."""

    payer: Payer
    code: str
    dispute_count: int
    total_in_dispute: Decimal
    dispute_ids: tuple[int, ...]


def in_dispute_expression() -> Greatest:
    """expected − paid, never below zero (ClaimDispute.amount_in_dispute, in SQL)."""
    return Greatest(
        F("expected_amount") - F("paid_amount"),
        Value(ZERO),
        output_field=DecimalField(max_digits=12, decimal_places=2),
    )


def response_due_expression() -> ExpressionWrapper:
    """The last day the payer may answer: submitted + the contract's dispute window (date + int)."""
    return ExpressionWrapper(
        F("submitted_on") + F("payer_contract__dispute_deadline_days"), output_field=DateField()
    )


def _unresponsive_condition(today: date) -> Q:
    return Q(
        submitted_on__isnull=False,
        payer_responded_on__isnull=True,
        payer_contract__isnull=False,
        response_due_on__lt=today,
    )


_SYSTEMIC_SQL = """
SELECT d.payer_id, c.code, COUNT(*) AS dispute_count,
       SUM(GREATEST(d.expected_amount - d.paid_amount, 0)) AS total_in_dispute,
       ARRAY_AGG(d.id ORDER BY d.id) AS dispute_ids
FROM {table} AS d
CROSS JOIN LATERAL (SELECT DISTINCT unnest(d.codes) AS code) AS c
WHERE d.service_date >= %s AND d.service_date <= %s
GROUP BY d.payer_id, c.code
HAVING COUNT(*) >= %s
    OR (COUNT(*) >= 2 AND SUM(GREATEST(d.expected_amount - d.paid_amount, 0)) >= %s)
ORDER BY total_in_dispute DESC, dispute_count DESC, d.payer_id, c.code
"""


def systemic_groups(today: date | None = None) -> list[SystemicGroup]:
    """Every payer and code that recurs across enough disputes, or enough money in dispute, with
    dates of service in the window ending today; largest total first (two queries)."""
    today = today or timezone.localdate()
    sql = _SYSTEMIC_SQL.format(table=connection.ops.quote_name(ClaimDispute._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                systemic_window_start(today),
                today,
                int(settings.ADVOCACY_SYSTEMIC_MIN_DISPUTES),
                systemic_min_total(),
            ],
        )
        rows = cursor.fetchall()
    payers = Payer.objects.in_bulk({row[0] for row in rows})
    return [
        SystemicGroup(
            payer=payers[payer_id],
            code=code,
            dispute_count=count,
            total_in_dispute=total,
            dispute_ids=tuple(ids),
        )
        for payer_id, code, count, total, ids in rows
    ]


_CODE_COUNTS_SQL = """
SELECT d.payer_id, c.code, COUNT(*) AS dispute_count
FROM {table} AS d
CROSS JOIN LATERAL (SELECT DISTINCT unnest(d.codes) AS code) AS c
WHERE d.service_date >= %s AND d.service_date <= %s AND d.payer_id = ANY(%s)
GROUP BY d.payer_id, c.code
"""


def _code_counts(payer_ids: set[int], today: date) -> dict[tuple[int, str], int]:
    """How many disputes each payer and code has in the systemic window (one query)."""
    if not payer_ids:
        return {}
    sql = _CODE_COUNTS_SQL.format(table=connection.ops.quote_name(ClaimDispute._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [systemic_window_start(today), today, sorted(payer_ids)])
        return {(payer_id, code): count for payer_id, code, count in cursor.fetchall()}


def _not_qualified_reason(
    dispute: ClaimDispute,
    *,
    in_dispute: Decimal,
    threshold: Decimal,
    code_counts: dict[tuple[int, str], int],
    contract_days: dict[int, int],
    today: date,
) -> str:
    """ "Does not qualify yet: …" with the figure behind each of the three tests."""
    window = int(settings.ADVOCACY_SYSTEMIC_WINDOW_DAYS)
    needed = int(settings.ADVOCACY_SYSTEMIC_MIN_DISPUTES)
    parts = [f"{format_usd(in_dispute)} below the {format_usd(threshold)} high-dollar threshold"]
    if not dispute.codes:
        parts.append("no procedure code to compare with other disputes")
    elif not systemic_window_start(today) <= dispute.service_date <= today:
        parts.append(
            f"the date of service ({dispute.service_date.isoformat()}) is outside the last "
            f"{window} days"
        )
    else:
        # The code closest to making the dispute systemic speaks for the dispute.
        count = max(code_counts.get((dispute.payer_id, code), 0) for code in dispute.codes)
        parts.append(
            f"{count} of {needed} disputes needed for this code at this payer in {window} days"
        )
    if dispute.submitted_on is None:
        parts.append("not yet submitted to the payer")
    elif dispute.payer_responded_on is not None:
        parts.append(f"the payer answered on {dispute.payer_responded_on.isoformat()}")
    elif dispute.payer_contract_id not in contract_days:
        parts.append("no payer contract sets a deadline for the payer's answer")
    else:
        assert dispute.payer_contract_id is not None  # in contract_days
        due = dispute.submitted_on + timedelta(days=contract_days[dispute.payer_contract_id])
        parts.append(f"the payer's answer is not overdue (due {due.isoformat()})")
    return "Does not qualify yet: " + "; ".join(parts) + "."


def _contract_days(disputes: list[ClaimDispute]) -> dict[int, int]:
    """Each contract's dispute window in days, from the loaded relation or one query."""
    days: dict[int, int] = {}
    missing: set[int] = set()
    for dispute in disputes:
        if dispute.payer_contract_id is None:
            continue
        if ClaimDispute.payer_contract.is_cached(dispute):
            contract = dispute.payer_contract
            assert contract is not None  # the id is set
            days[contract.pk] = contract.dispute_deadline_days
        else:
            missing.add(dispute.payer_contract_id)
    missing -= days.keys()
    if missing:
        days.update(
            PayerContract.objects.filter(pk__in=missing).values_list("pk", "dispute_deadline_days")
        )
    return days


def dispute_qualifications(
    disputes: Iterable[ClaimDispute], today: date | None = None
) -> dict[int, Qualification]:
    """Each dispute's qualification (high-dollar, systemic, payer unresponsive) and why, by id;
    a fixed number of queries whatever the number of disputes."""
    today = today or timezone.localdate()
    disputes = list(disputes)
    if not disputes:
        return {}
    threshold = high_dollar_threshold()
    window = int(settings.ADVOCACY_SYSTEMIC_WINDOW_DAYS)
    group_of: dict[int, SystemicGroup] = {}
    for group in systemic_groups(today):  # largest first: a dispute shows its largest group
        for dispute_id in group.dispute_ids:
            group_of.setdefault(dispute_id, group)
    days = _contract_days(disputes)
    code_counts: dict[tuple[int, str], int] | None = None  # loaded once, only when needed
    result: dict[int, Qualification] = {}
    for dispute in disputes:
        reasons: list[str] = []
        in_dispute = max(dispute.expected_amount - dispute.paid_amount, ZERO)
        is_high_dollar = in_dispute >= threshold
        if is_high_dollar:
            reasons.append(
                f"High-dollar: {format_usd(in_dispute)} in dispute "
                f"(threshold {format_usd(threshold)})."
            )
        systemic = group_of.get(dispute.pk)
        if systemic is not None:
            reasons.append(
                f"Systemic: code {systemic.code} with {systemic.payer.name} across "
                f"{systemic.dispute_count} dispute(s), {format_usd(systemic.total_in_dispute)} in "
                f"dispute, dates of service in the last {window} days."
            )
        is_unresponsive = False
        if (
            dispute.submitted_on is not None
            and dispute.payer_responded_on is None
            and dispute.payer_contract_id in days
        ):
            window_days = days[dispute.payer_contract_id]
            due = dispute.submitted_on + timedelta(days=window_days)
            is_unresponsive = today > due
            if is_unresponsive:
                reasons.append(
                    f"Payer unresponsive: submitted {dispute.submitted_on:%b %d, %Y}, no answer "
                    f"within the payer's {window_days}-day dispute window (due {due:%b %d, %Y})."
                )
        not_qualified_reason = ""
        if not (is_high_dollar or systemic is not None or is_unresponsive):
            if code_counts is None:
                code_counts = _code_counts({d.payer_id for d in disputes}, today)
            not_qualified_reason = _not_qualified_reason(
                dispute,
                in_dispute=in_dispute,
                threshold=threshold,
                code_counts=code_counts,
                contract_days=days,
                today=today,
            )
        result[dispute.pk] = Qualification(
            is_high_dollar=is_high_dollar,
            is_systemic=systemic is not None,
            is_payer_unresponsive=is_unresponsive,
            systemic_group=(systemic.payer.pk, systemic.code) if systemic is not None else None,
            reasons=reasons,
            not_qualified_reason=not_qualified_reason,
        )
    return result


def disputes_list(
    *,
    qualification: str | None = None,
    payer_id: Any = None,
    outcome: str | None = None,
    today: date | None = None,
) -> QuerySet[ClaimDispute]:
    """Claim disputes, newest date of service first, with their case, member, payer and contract
    (one query), each annotated with `in_dispute` and `response_due_on`; filterable by
    qualification (high_dollar, systemic, unresponsive), payer and outcome."""
    today = today or timezone.localdate()
    disputes = ClaimDispute.objects.select_related(
        "case", "case__member", "payer", "payer_contract"
    ).annotate(in_dispute=in_dispute_expression(), response_due_on=response_due_expression())
    if qualification:
        if qualification == "high_dollar":
            disputes = disputes.filter(in_dispute__gte=high_dollar_threshold())
        elif qualification == "unresponsive":
            disputes = disputes.filter(_unresponsive_condition(today))
        elif qualification == "systemic":
            ids = {i for group in systemic_groups(today) for i in group.dispute_ids}
            disputes = disputes.filter(pk__in=ids)
        else:
            raise ApplicationError(
                f"Unknown qualification '{qualification}'.",
                errors={"qualification": [f"Choose one of: {', '.join(QUALIFICATIONS)}."]},
            )
    if payer_id not in (None, ""):
        try:
            disputes = disputes.filter(payer_id=int(payer_id))
        except (TypeError, ValueError):
            raise ApplicationError(
                f"Unknown payer '{payer_id}'.", errors={"payer_id": ["Choose a payer."]}
            ) from None
    if outcome:
        if outcome not in DisputeOutcome.values:
            raise ApplicationError(
                f"Unknown outcome '{outcome}'.",
                errors={"outcome": [f"Choose one of: {', '.join(DisputeOutcome.values)}."]},
            )
        disputes = disputes.filter(outcome=outcome)
    return disputes.order_by("-service_date", "-id")


def dispute_detail(dispute_id: Any) -> ClaimDispute | None:
    """One dispute with its case, member, payer and contract; None when there is no such dispute."""
    try:
        pk = int(dispute_id)
    except (TypeError, ValueError):
        return None
    return (
        ClaimDispute.objects.select_related("case", "case__member", "payer", "payer_contract")
        .filter(pk=pk)
        .first()
    )


# --- Billing reviews ---------------------------------------------------------------------


def bill_review_detail(review_id: Any) -> BillReview | None:
    """One bill review with its case, member, provider, agreement and lines in order; None when
    there is no such review."""
    try:
        pk = int(review_id)
    except (TypeError, ValueError):
        return None
    return (
        BillReview.objects.select_related(
            "case", "case__member", "practitioner", "agreement", "agreement__clinic"
        )
        .prefetch_related(Prefetch("lines", queryset=BillLine.objects.order_by("line_number")))
        .filter(pk=pk)
        .first()
    )


def bill_review_totals(review: BillReview) -> dict[str, Any]:
    """The bill's totals as sums of its lines: billed, agreed (priced lines only), overcharge,
    and how many lines have no agreed price."""
    lines = list(review.lines.all())
    return {
        "billed": sum((line.billed_amount for line in lines), ZERO),
        "agreed": sum(
            (line.agreed_amount for line in lines if line.agreed_amount is not None), ZERO
        ),
        "overcharge": sum((line.overcharge for line in lines), ZERO),
        "unpriced_count": sum(1 for line in lines if line.agreed_amount is None),
    }


def case_bill_reviews(case_id: int) -> QuerySet[BillReview]:
    """A case's bill reviews with their provider and lines (two queries)."""
    return (
        BillReview.objects.filter(case_id=case_id)
        .select_related("practitioner", "agreement")
        .prefetch_related(Prefetch("lines", queryset=BillLine.objects.order_by("line_number")))
        .order_by("-service_date", "-id")
    )


# --- Referrals ---------------------------------------------------------------------------


def case_referrals(case_id: int) -> QuerySet[Referral]:
    """A case's referrals, newest first, with the directory practitioner when in network."""
    return (
        Referral.objects.filter(case_id=case_id)
        .select_related("practitioner")
        .order_by("-created_at", "-id")
    )


__all__ = [
    "QUALIFICATIONS", "Qualification", "SystemicGroup", "bill_review_detail",
    "bill_review_totals", "case_bill_reviews", "case_referrals", "dispute_detail",
    "dispute_qualifications", "disputes_list", "high_dollar_threshold", "in_dispute_expression",
    "response_due_expression", "systemic_groups",
]  # fmt: skip
