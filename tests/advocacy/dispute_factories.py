"""Test data for claim disputes, billing reviews and referrals: payers and their contracts, a PCP
with a priced fee schedule, a case on that PCP, and disputes made through the service."""

from __future__ import annotations

import datetime
import itertools
from decimal import Decimal
from typing import Any

from advocacy import services
from advocacy.models import Case, ClaimDispute
from providers.models import FeeScheduleLine, Payer, PayerContract, Practitioner
from providers.selectors import active_agreement_for
from tests.advocacy.factories import make_case
from tests.members.factories import make_pcp

# The PCP's agreement (tests.members.factories.make_pcp) runs 2026-01-01..2027-12-31.
FEE_SCHEDULE = {"99213": Decimal("85.00"), "99214": Decimal("125.50"), "80053": Decimal("18.25")}
SERVICE_DAY = datetime.date(2026, 3, 2)
DECISION_DAY = datetime.date(2026, 3, 20)

_payers = itertools.count(1)
_claims = itertools.count(1)


def make_payer(name: str = "Lone Star Health Plan") -> Payer:
    n = next(_payers)
    return Payer.objects.create(name=f"{name} {n}", payer_id=f"LS{n:05d}")


def make_contract(
    payer: Payer,
    *,
    term_start: datetime.date = datetime.date(2026, 1, 1),
    term_end: datetime.date = datetime.date(2026, 12, 31),
    dispute_deadline_days: int = 60,
    status: str = "active",
) -> PayerContract:
    return PayerContract.objects.create(
        payer=payer, name=f"{term_start.year} commercial", term_start=term_start, term_end=term_end,
        status=status, reimbursement_basis="percent_of_medicare", percent_of_medicare=Decimal("125.0"),
        timely_filing_days=90, dispute_process="Written reconsideration within the window, then appeal.",
        dispute_deadline_days=dispute_deadline_days, termination_notice_days=90,
    )  # fmt: skip


def make_priced_pcp(prices: dict[str, Decimal] | None = None) -> Practitioner:
    """A listed PCP whose clinic's active agreement (2026–2027) prices these codes."""
    practitioner = make_pcp()
    agreement = active_agreement_for(practitioner, SERVICE_DAY)
    assert agreement is not None
    FeeScheduleLine.objects.bulk_create(
        FeeScheduleLine(agreement=agreement, code=code, description=f"Service {code}", member_price=price)
        for code, price in (prices or FEE_SCHEDULE).items()
    )  # fmt: skip
    return practitioner


def make_dispute_case(
    *, actor: Any, practitioner: Practitioner | None = None, **kwargs: Any
) -> Case:
    kwargs.setdefault("case_type", "claim_dispute")
    kwargs.setdefault("summary", "Denied claim")
    return make_case(actor=actor, practitioner=practitioner, **kwargs)


def make_dispute(*, case: Case, actor: Any, payer: Payer, **overrides: Any) -> ClaimDispute:
    """A dispute through the service; the expected amount is entered unless overridden."""
    data: dict[str, Any] = {
        "claim_number": f"CLM-{next(_claims):06d}",
        "service_date": SERVICE_DAY,
        "codes": ["99213"],
        "billed_amount": Decimal("200.00"),
        "allowed_amount": Decimal("150.00"),
        "paid_amount": Decimal("0.00"),
        "decision_on": DECISION_DAY,
        "expected_amount": Decimal("100.00"),
    }
    data.update(overrides)
    return services.dispute_create(case=case, actor=actor, payer=payer, **data)
