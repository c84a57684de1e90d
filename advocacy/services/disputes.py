"""Claim disputes, billing reviews and referrals: the money side of a case.

Every write checks the actor (an advocate, or the system passed as None), locks the case row
first and then the dispute or review (one fixed order), refuses a closed case, writes an audit
row, and lets the case's savings follow through `case_set_savings` (one event per change):

- billed, expected and paid are the sums over the case's disputes and bill reviews (a review's
  unpriced line counts at its billed amount as expected; paid comes from disputes only);
- recovered moves by exactly what each dispute outcome or completed review changes, so that it
  stays the sum of the disputes' recovered amounts and the reviews' avoided amounts.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case as SqlCase
from django.db.models import Count, F, Max, Q, Sum, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_date

from cooperative.audit import audit_record, user_or_none
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditAction
from cooperative.money import MoneyError, format_usd, quantize_cents, to_decimal
from cooperative.periods import Period
from providers.models import (
    PAYER_CONTRACT_IN_FORCE,
    CapPeriod,
    FeeScheduleLine,
    Payer,
    PayerContract,
    PayerContractStatus,
    Practitioner,
    RateAgreement,
    validate_service_code,
)
from providers.selectors import active_agreement_for, listable_roles

from ..models import (
    BillLine,
    BillReview,
    BillReviewStatus,
    Case,
    ClaimDispute,
    DisputeOutcome,
    ExpectedSource,
    Referral,
    ReferralKind,
    ReferralStatus,
)
from .cases import _locked, _require_writable, case_set_savings, case_update, require_advocate

ZERO = Decimal("0.00")
# NUMERIC(12, 2): the largest amount a column holds.
MAX_AMOUNT = Decimal("9999999999.99")
MAX_UNITS = 9999
MAX_BILL_FILE_BYTES = 1024 * 1024
MAX_BILL_FILE_LINES = 2000
# Contracts whose terms govern the claims of their term: active, due for renewal, decided
# (renewed or not) and expired ones alike; the date of service picks the term.
IN_FORCE_CONTRACT_STATUSES = PAYER_CONTRACT_IN_FORCE
NEVER_IN_FORCE_CONTRACT_STATUSES = (
    PayerContractStatus.NEGOTIATING,
    PayerContractStatus.OFFERED_TO_PROVIDERS,
)
REFERRAL_TRANSITIONS: dict[str, set[str]] = {
    ReferralStatus.REQUESTED: {ReferralStatus.SENT, ReferralStatus.CANCELLED},
    ReferralStatus.SENT: {ReferralStatus.SCHEDULED, ReferralStatus.CANCELLED},
    ReferralStatus.SCHEDULED: {ReferralStatus.COMPLETED, ReferralStatus.CANCELLED},
    ReferralStatus.COMPLETED: set(),
    ReferralStatus.CANCELLED: set(),
}
BILL_FILE_COLUMNS = ("code", "amount", "units", "description")

Errors = dict[str, list[str]]


# --- Input checks (each adds a person-readable message under its field) ------------------


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _raise_if(errors: Errors) -> None:
    """Refuse the request with every field error found so far (nothing has been written)."""
    if errors:
        raise ApplicationError(next(iter(errors.values()))[0], errors=errors)


def _amount_or_error(value: Any, label: str) -> tuple[Decimal | None, str]:
    """An amount of money rounded half-up to cents, or the reason it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, f"Enter the {label}."
    try:
        amount = quantize_cents(to_decimal(value))
    except MoneyError:
        return None, f"The {label} '{value}' is not an amount of money."
    if amount < 0:
        return None, f"The {label} cannot be negative."
    if amount > MAX_AMOUNT:
        return None, f"The {label} is too large."
    return amount, ""


def _amount(value: Any, *, field: str, label: str, errors: Errors) -> Decimal | None:
    amount, problem = _amount_or_error(value, label)
    if problem:
        _add(errors, field, problem)
    return amount


def _date(
    value: Any,
    *,
    field: str,
    label: str,
    errors: Errors,
    required: bool = True,
    past_only: bool = True,
) -> date | None:
    """A date (or an ISO 'YYYY-MM-DD' string); a fact (a service, a decision) is not in the future."""
    if value is None or value == "":
        if required:
            _add(errors, field, f"Enter the {label}.")
        return None
    if isinstance(value, datetime):  # a timestamp: its day where the cooperative is
        value = timezone.localdate(value) if timezone.is_aware(value) else value.date()
    try:
        parsed = value if isinstance(value, date) else parse_date(str(value).strip())
    except ValueError:
        parsed = None
    if parsed is None:
        _add(errors, field, f"The {label} '{value}' is not a date (YYYY-MM-DD).")
        return None
    if past_only and parsed > timezone.localdate():
        _add(errors, field, f"The {label} cannot be in the future.")
        return None
    return parsed


def _code_or_error(value: Any) -> tuple[str, str]:
    code = str(value or "").strip().upper()
    if not code:
        return "", "Enter the service code."
    try:
        validate_service_code(code)
    except ValidationError as error:
        return "", f"{code}: {error.messages[0]}"
    return code, ""


def _codes(value: Any, errors: Errors) -> list[str]:
    """CPT/HCPCS codes, upper case, each once, in the order given; at least one."""
    raw = re.split(r"[\s,;]+", value) if isinstance(value, str) else list(value or [])
    codes: list[str] = []
    for item in raw:
        if not str(item or "").strip():
            continue
        code, problem = _code_or_error(item)
        if problem:
            _add(errors, "codes", problem)
        elif code not in codes:
            codes.append(code)
    if not codes and "codes" not in errors:
        _add(errors, "codes", "Enter at least one CPT or HCPCS code from the claim.")
    return codes


def _text(value: Any, *, field: str, label: str, max_length: int, errors: Errors) -> str:
    text = str(value or "").strip()
    if len(text) > max_length:
        _add(errors, field, f"The {label} is longer than {max_length} characters.")
    return text


def _sentence(problem: str) -> str:
    """A problem as a sentence: a capital first letter and one full stop."""
    problem = problem.strip().rstrip(".")
    return f"{problem[:1].upper()}{problem[1:]}."


def _lock_dispute(dispute: ClaimDispute) -> tuple[Case, ClaimDispute]:
    """Lock the case, then the dispute (the one order every writer uses)."""
    case = _locked(Case(pk=dispute.case_id))
    return case, ClaimDispute.objects.select_for_update().get(pk=dispute.pk)


def _lock_review(review: BillReview) -> tuple[Case, BillReview]:
    case = _locked(Case(pk=review.case_id))
    return case, BillReview.objects.select_for_update().get(pk=review.pk)


# --- The case's savings ------------------------------------------------------------------


def _case_savings_follow(
    *, case: Case, actor: Any, reason: str, recovered_change: Decimal = ZERO
) -> Case:
    """Billed, expected and paid as the sums over the case's disputes and bill reviews; recovered
    moved by what this change recovered or avoided."""
    disputes = ClaimDispute.objects.filter(case_id=case.pk).aggregate(
        count=Count("id"),
        billed=Sum("billed_amount"),
        expected=Sum("expected_amount"),
        paid=Sum("paid_amount"),
    )
    lines = BillLine.objects.filter(review__case_id=case.pk).aggregate(
        count=Count("id"),
        billed=Sum("billed_amount"),
        # A line over its cap: what the member owed is what was left under the cap.
        expected=Sum(
            SqlCase(
                When(~Q(cap_flag=""), then=F("billed_amount") - F("overcharge")),
                default=Coalesce("agreed_amount", "billed_amount"),
            )
        ),
    )
    amounts: dict[str, Decimal | None] = {}
    if disputes["count"] or lines["count"]:
        amounts["billed_amount"] = (disputes["billed"] or ZERO) + (lines["billed"] or ZERO)
        amounts["expected_amount"] = (disputes["expected"] or ZERO) + (lines["expected"] or ZERO)
    if disputes["count"]:
        amounts["paid_amount"] = disputes["paid"] or ZERO
    if recovered_change:
        current = Case.objects.values_list("recovered_amount", flat=True).get(pk=case.pk)
        amounts["recovered_amount"] = max((current or ZERO) + recovered_change, ZERO)
    if not amounts:
        return case
    return case_set_savings(case=case, actor=actor, reason=reason, **amounts)


# --- Claim disputes ----------------------------------------------------------------------


def _contract_for(
    payer: Payer, service_date: date, contract: PayerContract | None, errors: Errors
) -> PayerContract | None:
    """The given contract when it is the payer's and in force on the date of service; else the
    payer's contract in force on that date, if any."""
    if contract is None:
        return (
            PayerContract.objects.filter(
                payer=payer,
                status__in=IN_FORCE_CONTRACT_STATUSES,
                term_start__lte=service_date,
                term_end__gte=service_date,
            )
            .order_by("-term_start", "-pk")
            .first()
        )
    if contract.payer_id != payer.pk:
        _add(errors, "payer_contract", f"This contract is not one of {payer.name}'s.")
    elif not contract.term_start <= service_date <= contract.term_end:
        _add(
            errors,
            "payer_contract",
            f"The contract runs {contract.term_start:%b %d, %Y}–{contract.term_end:%b %d, %Y}; "
            f"it does not cover the date of service {service_date:%b %d, %Y}.",
        )
    elif contract.status in NEVER_IN_FORCE_CONTRACT_STATUSES:
        _add(errors, "payer_contract", "This contract was never in force (still being negotiated).")
    return contract


def fee_schedule_price(
    practitioner: Practitioner | None, service_date: date, codes: list[str]
) -> tuple[Decimal | None, str]:
    """The sum of the member prices of the codes on the practitioner's fee schedule in force on
    the date of service, or (None, why not)."""
    if practitioner is None:
        return None, "the case names no provider whose fee schedule could price the claim"
    agreement = active_agreement_for(practitioner, service_date)
    if agreement is None:
        return None, f"{practitioner} has no rate agreement in force on {service_date:%b %d, %Y}"
    prices = dict(
        FeeScheduleLine.objects.filter(agreement=agreement, code__in=codes).values_list(
            "code", "member_price"
        )
    )
    missing = [code for code in codes if code not in prices]
    if missing:
        return None, f"{', '.join(missing)} not on {practitioner}'s fee schedule"
    return sum((prices[code] for code in codes), ZERO), ""


@transaction.atomic
def dispute_create(
    *,
    case: Case,
    actor: Any,
    payer: Payer,
    claim_number: str,
    service_date: date,
    codes: list[str],
    billed_amount: Decimal,
    allowed_amount: Decimal,
    paid_amount: Decimal,
    decision_on: date,
    expected_amount: Decimal | None = None,
    payer_contract: PayerContract | None = None,
    filing_deadline: date | None = None,
    submitted_on: date | None = None,
) -> ClaimDispute:
    """Dispute a claim with its payer: expected from the provider's fee schedule unless entered,
    filed by the payer contract's deadline (or the one the advocate gives without a contract)."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "claim dispute")
    errors: Errors = {}
    if payer is None:
        _add(errors, "payer", "Choose the payer the claim was sent to.")
    claim_number = _text(
        claim_number, field="claim_number", label="claim number", max_length=40, errors=errors
    )
    if not claim_number and "claim_number" not in errors:
        _add(errors, "claim_number", "Enter the claim number from the EOB or denial.")
    service_on = _date(service_date, field="service_date", label="date of service", errors=errors)
    decided_on = _date(decision_on, field="decision_on", label="payer decision date", errors=errors)
    submitted = _date(
        submitted_on, field="submitted_on", label="submission date", errors=errors, required=False
    )
    clean_codes = _codes(codes, errors)
    billed = _amount(billed_amount, field="billed_amount", label="billed amount", errors=errors)
    allowed = _amount(allowed_amount, field="allowed_amount", label="allowed amount", errors=errors)
    paid = _amount(paid_amount, field="paid_amount", label="paid amount", errors=errors)
    expected = None
    if expected_amount is not None and expected_amount != "":
        expected = _amount(
            expected_amount, field="expected_amount", label="expected amount", errors=errors
        )
    if billed is not None and paid is not None and paid > billed:
        _add(errors, "paid_amount", "The paid amount cannot be more than the billed amount.")
    if service_on and decided_on and decided_on < service_on:
        _add(errors, "decision_on", "The payer's decision cannot be before the date of service.")
    if decided_on and submitted and submitted < decided_on:
        _add(errors, "submitted_on", "A dispute is submitted after the payer's decision.")
    if payer is None or service_on is None or decided_on is None:
        _raise_if(errors)  # the checks below need these three; every other error waits for them
    # Checked above (an error was raised otherwise): the asserts only narrow the types.
    assert payer is not None
    assert service_on is not None
    assert decided_on is not None

    contract = _contract_for(payer, service_on, payer_contract, errors)
    if expected is not None:
        source = ExpectedSource.MANUAL
    else:
        expected, why_not = fee_schedule_price(case.practitioner, service_on, clean_codes)
        source = ExpectedSource.FEE_SCHEDULE
        if expected is None and "codes" not in errors:
            _add(errors, "expected_amount", f"Enter the expected amount: {why_not}.")
    deadline = _date(
        filing_deadline,
        field="filing_deadline",
        label="filing deadline",
        errors=errors,
        required=False,
        past_only=False,
    )
    if contract is not None and "payer_contract" not in errors:
        by_contract = decided_on + timedelta(days=contract.dispute_deadline_days)
        if deadline is not None and deadline != by_contract:
            _add(
                errors,
                "filing_deadline",
                f"The contract sets the deadline: {contract.dispute_deadline_days} days after the "
                f"decision, {by_contract:%b %d, %Y}. Leave the deadline blank.",
            )
        deadline = by_contract
    elif contract is None:
        if deadline is None and "filing_deadline" not in errors:
            _add(
                errors,
                "filing_deadline",
                f"{payer.name} has no contract in force on the date of service: "
                "enter the filing deadline from the payer's dispute process.",
            )
        elif deadline is not None and deadline < decided_on:
            _add(errors, "filing_deadline", "The filing deadline cannot be before the decision.")
    _raise_if(errors)

    # Every value below was checked: the asserts only narrow the types.
    assert billed is not None
    assert allowed is not None
    assert paid is not None
    assert expected is not None
    assert deadline is not None
    if ClaimDispute.objects.filter(payer=payer, claim_number=claim_number).exists():
        raise ConflictError(
            f"Claim {claim_number} is already disputed with {payer.name}.",
            errors={"claim_number": ["This claim is already disputed with this payer."]},
        )
    dispute = ClaimDispute(
        case=case,
        payer=payer,
        payer_contract=contract,
        claim_number=claim_number,
        service_date=service_on,
        codes=clean_codes,
        billed_amount=billed,
        allowed_amount=allowed,
        paid_amount=paid,
        expected_amount=expected,
        expected_source=source,
        decision_on=decided_on,
        filing_deadline=deadline,
        submitted_on=submitted,
        created_by=user_or_none(actor),
    )
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:  # the unique constraint: another advocate was faster
        raise ConflictError(
            f"Claim {claim_number} is already disputed with {payer.name}.",
            errors={"claim_number": ["This claim is already disputed with this payer."]},
        ) from None
    audit_record(actor=actor, action=AuditAction.CREATE, obj=dispute)
    if case.payer_id is None:
        case = case_update(
            case=case, actor=actor, payer=payer, reason="payer of the disputed claim"
        )
    _case_savings_follow(case=case, actor=actor, reason=f"Claim {claim_number} disputed")
    return dispute


@transaction.atomic
def dispute_submit(*, dispute: ClaimDispute, actor: Any, submitted_on: date) -> ClaimDispute:
    """Record the day the dispute went to the payer (after the payer's decision, once)."""
    require_advocate(actor)
    case, dispute = _lock_dispute(dispute)
    _require_writable(case, "dispute submission")
    if dispute.submitted_on is not None:
        raise ConflictError(
            f"Claim {dispute.claim_number} was already submitted on {dispute.submitted_on:%b %d, %Y}.",
            errors={"submitted_on": ["Already submitted."]},
        )
    if dispute.outcome != DisputeOutcome.PENDING:
        raise ConflictError(
            f"Claim {dispute.claim_number} already has an outcome.",
            errors={"submitted_on": ["The dispute is decided."]},
        )
    errors: Errors = {}
    submitted = _date(submitted_on, field="submitted_on", label="submission date", errors=errors)
    if submitted is not None and submitted < dispute.decision_on:
        _add(errors, "submitted_on", "A dispute is submitted after the payer's decision.")
    _raise_if(errors)
    dispute.submitted_on = submitted
    dispute.save(update_fields=["submitted_on", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=dispute, detail=f"submitted {submitted}"
    )
    return dispute


@transaction.atomic
def dispute_record_payer_response(
    *, dispute: ClaimDispute, actor: Any, responded_on: date
) -> ClaimDispute:
    """Record the day the payer answered the submitted dispute (once, not before submission)."""
    require_advocate(actor)
    case, dispute = _lock_dispute(dispute)
    _require_writable(case, "payer response")
    if dispute.submitted_on is None:
        raise ConflictError(
            "The payer answers a submitted dispute: record the submission first.",
            errors={"responded_on": ["The dispute has not been submitted."]},
        )
    if dispute.payer_responded_on is not None:
        raise ConflictError(
            f"The payer's answer was already recorded ({dispute.payer_responded_on:%b %d, %Y}).",
            errors={"responded_on": ["Already recorded."]},
        )
    errors: Errors = {}
    responded = _date(responded_on, field="responded_on", label="response date", errors=errors)
    if responded is not None and responded < dispute.submitted_on:
        _add(errors, "responded_on", "The payer answers after the dispute was submitted.")
    _raise_if(errors)
    dispute.payer_responded_on = responded
    dispute.save(update_fields=["payer_responded_on", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=dispute, detail=f"payer answered {responded}"
    )
    return dispute


@transaction.atomic
def dispute_record_outcome(
    *,
    dispute: ClaimDispute,
    actor: Any,
    outcome: str,
    outcome_on: date,
    recovered_amount: Decimal,
) -> ClaimDispute:
    """Record how the dispute ended and what it recovered (nothing when lost); recording it again
    corrects it, and the case's recovered amount follows the difference."""
    require_advocate(actor)
    case, dispute = _lock_dispute(dispute)
    _require_writable(case, "dispute outcome")
    errors: Errors = {}
    decided = [o for o in DisputeOutcome.values if o != DisputeOutcome.PENDING]
    if outcome not in decided:
        _add(errors, "outcome", f"Choose one of: {', '.join(decided)}.")
    ended_on = _date(outcome_on, field="outcome_on", label="outcome date", errors=errors)
    recovered = _amount(
        recovered_amount, field="recovered_amount", label="recovered amount", errors=errors
    )
    if ended_on is not None:
        if ended_on < dispute.decision_on:
            _add(errors, "outcome_on", "The outcome cannot be before the payer's decision.")
        elif dispute.submitted_on is not None and ended_on < dispute.submitted_on:
            _add(errors, "outcome_on", "The outcome cannot be before the dispute was submitted.")
    if outcome == DisputeOutcome.LOST and recovered:
        _add(errors, "recovered_amount", "A lost dispute recovers nothing: enter 0.")
    _raise_if(errors)
    assert recovered is not None  # checked above: narrows the type
    before = (dispute.outcome, dispute.recovered_amount)
    dispute.outcome = outcome
    dispute.outcome_on = ended_on
    dispute.recovered_amount = recovered
    dispute.save(update_fields=["outcome", "outcome_on", "recovered_amount", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=dispute,
        detail=f"outcome {before[0]} → {outcome}, recovered {before[1]} → {recovered}",
    )
    _case_savings_follow(
        case=case,
        actor=actor,
        reason=f"Claim {dispute.claim_number}: {DisputeOutcome(outcome).label.lower()}, "
        f"{format_usd(recovered)} recovered",
        recovered_change=recovered - before[1],
    )
    return dispute


# --- Billing reviews ---------------------------------------------------------------------


@dataclass(frozen=True)
class _CheckedLine:
    code: str
    billed_amount: Decimal
    units: int
    description: str


def _line_check(data: Any) -> tuple[_CheckedLine | None, list[str]]:
    """One bill line (code, billed amount or amount, units, description), or its problems."""
    if not isinstance(data, dict):
        return None, ["give the line's code and amount"]
    problems: list[str] = []
    code, problem = _code_or_error(data.get("code"))
    if problem:
        problems.append(problem)
    raw_amount = data.get("billed_amount", data.get("amount"))
    billed, problem = _amount_or_error(raw_amount, "billed amount")
    if problem:
        problems.append(problem)
    raw_units = data.get("units")
    units = 1
    if raw_units is not None and str(raw_units).strip() != "":
        if isinstance(raw_units, bool) or not str(raw_units).strip().isdigit():
            problems.append(f"units '{raw_units}' is not a whole number")
        else:
            units = int(str(raw_units).strip())
            if not 1 <= units <= MAX_UNITS:
                problems.append(f"units run from 1 to {MAX_UNITS:,}")
    description = str(data.get("description") or "").strip()
    if len(description) > 200:
        problems.append("the description is longer than 200 characters")
    if problems or billed is None:
        return None, problems
    return _CheckedLine(code, billed, units, description), []


def cap_period_of(period: str, day: date) -> tuple[date, date, str]:
    """The calendar month or calendar year of a fee line's cap containing the date of service:
    (first day, last day, label)."""
    if period == CapPeriod.MONTH:
        month = Period.of(day)
        return month.first_day, month.last_day, month.label
    return date(day.year, 1, 1), date(day.year, 12, 31), f"calendar year {day.year}"


def _counted_toward_cap(
    review: BillReview, agreement: RateAgreement, code: str, first: date, last: date
) -> Decimal:
    """What the member's bills of this code from the agreement's clinic, dated in the period and
    already reviewed, count toward the cap: each line's billed amount less the overcharge found
    (what the member properly owed), so an overcharge flagged once is not counted twice."""
    total = BillLine.objects.filter(
        review__case__member_id=review.case.member_id,
        review__agreement__clinic_id=agreement.clinic_id,
        review__service_date__range=(first, last),
        code=code,
    ).aggregate(total=Sum(F("billed_amount") - F("overcharge")))["total"]
    return total or ZERO


def _priced_lines(
    review: BillReview, agreement: RateAgreement, checked: list[_CheckedLine], first_number: int
) -> list[BillLine]:
    """Each line against the agreed price (member price × units): the overcharge when above;
    no agreed price when the code is not on the fee schedule. A fee line with a cap (an amount
    per calendar month or year per member) also limits what the member owes: the member's
    earlier bills of the code in that period (this bill's earlier lines included) count toward
    it, and a line that takes them past the cap is flagged with the cap and the period, the
    amount beyond the room left counting as overcharge."""
    fee_lines = {
        fee.code: fee
        for fee in FeeScheduleLine.objects.filter(
            agreement=agreement, code__in={line.code for line in checked}
        )
    }
    counted: dict[str, Decimal] = {}  # by capped code: counted toward the cap so far
    lines = []
    for number, line in enumerate(checked, start=first_number):
        fee = fee_lines.get(line.code)
        agreed = quantize_cents(fee.member_price * line.units) if fee is not None else None
        allowed = agreed
        bill_line = BillLine(
            review=review,
            line_number=number,
            code=line.code,
            description=line.description,
            units=line.units,
            billed_amount=line.billed_amount,
            agreed_amount=agreed,
        )
        if fee is not None and fee.cap_amount is not None and agreed is not None:
            first, last, label = cap_period_of(fee.cap_period, review.service_date)
            if line.code not in counted:
                counted[line.code] = _counted_toward_cap(review, agreement, line.code, first, last)
            before = counted[line.code]
            room = max(fee.cap_amount - before, ZERO)
            bill_line.cap_amount = fee.cap_amount
            bill_line.cap_period = fee.cap_period
            if line.billed_amount > room:
                allowed = min(agreed, room)
                bill_line.cap_flag = (
                    f"Above the cap of {format_usd(fee.cap_amount)} "
                    f"{CapPeriod(fee.cap_period).label} ({label}): {format_usd(before)} billed "
                    f"earlier in the period left {format_usd(room)}."
                )
        bill_line.overcharge = (
            max(line.billed_amount - allowed, ZERO) if allowed is not None else ZERO
        )
        if bill_line.cap_amount is not None:
            counted[line.code] += line.billed_amount - bill_line.overcharge
        lines.append(bill_line)
    return lines


@transaction.atomic
def bill_review_create(
    *,
    case: Case,
    actor: Any,
    practitioner: Practitioner,
    service_date: date,
    lines: list[dict[str, Any]],
    bill_reference: str = "",
) -> BillReview:
    """Review a provider's bill line by line against the agreement in force on the date of
    service: a line above its agreed price is an overcharge, a code off the schedule is flagged."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "bill review")
    errors: Errors = {}
    if practitioner is None:
        _add(errors, "practitioner", "Choose the provider who sent the bill.")
    service_on = _date(service_date, field="service_date", label="date of service", errors=errors)
    reference = _text(
        bill_reference, field="bill_reference", label="bill reference", max_length=60, errors=errors
    )
    checked: list[_CheckedLine] = []
    for number, data in enumerate(lines or [], start=1):
        line, problems = _line_check(data)
        if line is not None:
            checked.append(line)
        for problem in problems:
            _add(errors, "lines", f"Line {number}: {_sentence(problem)}")
    _raise_if(errors)
    assert service_on is not None  # checked above: narrows the type
    agreement = active_agreement_for(practitioner, service_on)
    if agreement is None:
        raise ApplicationError(
            f"{practitioner} has no rate agreement in force on {service_on:%b %d, %Y}: "
            "there is no agreed price to compare the bill with.",
            errors={"practitioner": ["No rate agreement in force on the date of service."]},
        )
    review = BillReview.objects.create(
        case=case,
        practitioner=practitioner,
        agreement=agreement,
        bill_reference=reference,
        service_date=service_on,
        created_by=user_or_none(actor),
    )
    BillLine.objects.bulk_create(_priced_lines(review, agreement, checked, 1))
    audit_record(
        actor=actor, action=AuditAction.CREATE, obj=review, detail=f"{len(checked)} line(s)"
    )
    if case.practitioner_id is None:
        case = case_update(
            case=case, actor=actor, practitioner=practitioner, reason="provider of the bill"
        )
    _case_savings_follow(case=case, actor=actor, reason=f"Bill of {service_on:%b %d, %Y} reviewed")
    return review


def _bill_file_rows(content: bytes) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """The CSV's columns (code and amount required; units and description optional) and rows."""
    if len(content) > MAX_BILL_FILE_BYTES:
        raise ApplicationError(
            "The file is larger than 1 MB: a bill is a few lines.",
            errors={"file": ["Larger than 1 MB."]},
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError(
            "The file is not UTF-8 text: export it as CSV (UTF-8).",
            errors={"file": ["Not a UTF-8 CSV file."]},
        ) from None
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None) or []
        rows = list(enumerate(reader, start=2))
    except csv.Error as error:
        raise ApplicationError(
            f"The file is not a readable CSV ({error}).", errors={"file": ["Not a CSV file."]}
        ) from None
    columns = {name.strip().lower(): index for index, name in enumerate(header)}
    missing = [name for name in ("code", "amount") if name not in columns]
    if missing:
        raise ApplicationError(
            f"The first line must name the columns {','.join(BILL_FILE_COLUMNS)}; "
            f"missing: {', '.join(missing)}.",
            errors={"file": [f"Missing columns: {', '.join(missing)}."]},
        )
    if len(rows) > MAX_BILL_FILE_LINES:
        raise ApplicationError(
            f"The file has more than {MAX_BILL_FILE_LINES:,} lines: split it.",
            errors={"file": ["Too many lines."]},
        )
    return {k: v for k, v in columns.items() if k in BILL_FILE_COLUMNS}, rows


@transaction.atomic
def bill_lines_import(*, review: BillReview, actor: Any, content: bytes) -> dict[str, Any]:
    """Add a bill's lines from a CSV (code,amount,units,description) to an open review: each good
    line is priced and appended after the existing ones, each bad one reported by its line."""
    require_advocate(actor)
    case, review = _lock_review(review)
    _require_writable(case, "bill line")
    if review.status != BillReviewStatus.OPEN:
        raise ConflictError(
            "This bill review is completed: start a new review for more lines.",
            errors={"file": ["The review is completed."]},
        )
    columns, rows = _bill_file_rows(content)
    checked: list[_CheckedLine] = []
    rejected: list[dict[str, Any]] = []
    for line_number, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        data = {name: (row[i] if i < len(row) else "") for name, i in columns.items()}
        line, problems = _line_check(data)
        if line is None:
            rejected.append(
                {"line": line_number, "error": " ".join(_sentence(p) for p in problems)}
            )
        else:
            checked.append(line)
    if checked:
        agreement = review.agreement or active_agreement_for(
            review.practitioner, review.service_date
        )
        if agreement is None:
            raise ApplicationError(
                "The provider has no rate agreement in force on the date of service.",
                errors={"practitioner": ["No rate agreement in force on the date of service."]},
            )
        last = review.lines.aggregate(last=Max("line_number"))["last"] or 0
        BillLine.objects.bulk_create(_priced_lines(review, agreement, checked, last + 1))
        BillReview.objects.filter(pk=review.pk).update(updated_at=timezone.now())
        _case_savings_follow(case=case, actor=actor, reason=f"{len(checked)} bill line(s) imported")
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        obj=review,
        detail=f"lines imported: {len(checked)}, rejected: {len(rejected)}",
    )
    return {"imported": len(checked), "rejected": rejected}


@transaction.atomic
def bill_review_complete(
    *, review: BillReview, actor: Any, avoided_amount: Decimal | None = None
) -> BillReview:
    """Close the review: what the member was spared (the total overcharge unless the advocate
    says otherwise, at most the bill) counts toward the case's recovered or avoided amount."""
    require_advocate(actor)
    case, review = _lock_review(review)
    _require_writable(case, "bill review")
    if review.status != BillReviewStatus.OPEN:
        raise ConflictError(
            "This bill review is already completed.", errors={"status": ["Already completed."]}
        )
    totals = review.lines.aggregate(
        count=Count("id"), billed=Sum("billed_amount"), overcharge=Sum("overcharge")
    )
    if not totals["count"]:
        raise ConflictError(
            "Add the bill's lines before completing the review.",
            errors={"lines": ["The bill has no lines."]},
        )
    avoided = totals["overcharge"] or ZERO
    if avoided_amount is not None and avoided_amount != "":
        errors: Errors = {}
        given = _amount(
            avoided_amount, field="avoided_amount", label="avoided amount", errors=errors
        )
        if given is not None and given > totals["billed"]:
            _add(
                errors,
                "avoided_amount",
                f"The avoided amount cannot be more than the bill ({format_usd(totals['billed'])}).",
            )
        _raise_if(errors)
        assert given is not None  # checked above: narrows the type
        avoided = given
    review.status = BillReviewStatus.COMPLETED
    review.avoided_amount = avoided
    review.save(update_fields=["status", "avoided_amount", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=review, detail=f"completed, avoided {avoided}"
    )
    _case_savings_follow(
        case=case,
        actor=actor,
        reason=f"Bill of {review.service_date:%b %d, %Y} reviewed: {format_usd(avoided)} avoided",
        recovered_change=avoided,
    )
    return review


# --- Referrals ---------------------------------------------------------------------------


@transaction.atomic
def referral_create(
    *,
    case: Case,
    actor: Any,
    kind: str,
    reason: str,
    practitioner: Practitioner | None = None,
    out_of_network_provider: str = "",
) -> Referral:
    """Refer the member to a specialist: in network, one listed in the directory; out of network,
    the provider named in words."""
    require_advocate(actor)
    case = _locked(case)
    _require_writable(case, "referral")
    errors: Errors = {}
    if kind not in ReferralKind.values:
        _add(errors, "kind", f"Choose one of: {', '.join(ReferralKind.values)}.")
    reason = _text(reason, field="reason", label="reason", max_length=300, errors=errors)
    if not reason and "reason" not in errors:
        _add(errors, "reason", "Say why the member is referred.")
    provider = _text(
        out_of_network_provider,
        field="out_of_network_provider",
        label="provider",
        max_length=300,
        errors=errors,
    )
    if kind == ReferralKind.IN_NETWORK:
        if practitioner is None:
            _add(errors, "practitioner", "Choose the specialist from the directory.")
        elif not listable_roles().filter(practitioner=practitioner).exists():
            _add(
                errors,
                "practitioner",
                f"{practitioner} is not listed in the directory: choose a listed provider "
                "or refer out of network.",
            )
        if provider:
            _add(
                errors,
                "out_of_network_provider",
                "An in-network referral names no outside provider.",
            )
    elif kind == ReferralKind.OUT_OF_NETWORK:
        if practitioner is not None:
            _add(errors, "practitioner", "An out-of-network referral names no directory provider.")
        if not provider and "out_of_network_provider" not in errors:
            _add(errors, "out_of_network_provider", "Name the provider (and where they practise).")
    _raise_if(errors)
    referral = Referral.objects.create(
        case=case,
        kind=kind,
        practitioner=practitioner if kind == ReferralKind.IN_NETWORK else None,
        out_of_network_provider=provider if kind == ReferralKind.OUT_OF_NETWORK else "",
        reason=reason,
        created_by=user_or_none(actor),
    )
    Case.objects.filter(pk=case.pk).update(updated_at=timezone.now())
    audit_record(actor=actor, action=AuditAction.CREATE, obj=referral)
    return referral


@transaction.atomic
def referral_set_status(*, referral: Referral, actor: Any, status: str) -> Referral:
    """Move a referral along requested → sent → scheduled → completed; an open one may be
    cancelled; nothing else."""
    require_advocate(actor)
    case = _locked(Case(pk=referral.case_id))
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    _require_writable(case, "referral change")
    if status not in ReferralStatus.values:
        raise ApplicationError(
            f"Unknown referral status '{status}'.",
            errors={"status": [f"Choose one of: {', '.join(ReferralStatus.values)}."]},
        )
    allowed = REFERRAL_TRANSITIONS[referral.status]
    if status not in allowed:
        raise ConflictError(
            f"A referral cannot go from {referral.get_status_display().lower()} to "
            f"{ReferralStatus(status).label.lower()} (allowed: {', '.join(sorted(allowed)) or 'none'}).",
            errors={"status": [f"Not allowed from {referral.status}."]},
        )
    before = referral.status
    referral.status = status
    referral.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor, action=AuditAction.UPDATE, obj=referral, detail=f"status {before} → {status}"
    )
    return referral


__all__ = [
    "REFERRAL_TRANSITIONS", "bill_lines_import", "bill_review_complete", "bill_review_create",
    "dispute_create", "dispute_record_outcome", "dispute_record_payer_response", "dispute_submit",
    "fee_schedule_price", "referral_create", "referral_set_status",
]  # fmt: skip
