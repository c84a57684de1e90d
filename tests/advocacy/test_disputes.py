"""Claim disputes: the expected amount and deadline, refused input, the payer's answer and the
outcome (the case's savings follow), and each qualification at its boundary."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocacy import selectors, services
from advocacy.models import Case, CaseEvent, ClaimDispute
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.advocacy.dispute_factories import (
    DECISION_DAY,
    SERVICE_DAY,
    make_contract,
    make_dispute,
    make_dispute_case,
    make_payer,
    make_priced_pcp,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 10, 1)
D = Decimal


@pytest.fixture(autouse=True)
def _qualification_settings(settings):
    settings.ADVOCACY_HIGH_DOLLAR_THRESHOLD = "2500.00"
    settings.ADVOCACY_SYSTEMIC_MIN_DISPUTES = 3
    settings.ADVOCACY_SYSTEMIC_MIN_TOTAL = "5000.00"
    settings.ADVOCACY_SYSTEMIC_WINDOW_DAYS = 90


@pytest.fixture
def world(advocate):
    pcp = make_priced_pcp()
    payer = make_payer()
    contract = make_contract(payer, dispute_deadline_days=60)
    case = make_dispute_case(actor=advocate, practitioner=pcp)
    return {"pcp": pcp, "payer": payer, "contract": contract, "case": case}


def _savings(case):
    case.refresh_from_db()
    return (case.billed_amount, case.expected_amount, case.paid_amount, case.recovered_amount)


# --- Creating a dispute ----------------------------------------------------------------------


def test_the_expected_amount_comes_from_the_fee_schedule_and_the_deadline_from_the_contract(
    world, advocate
):
    dispute = services.dispute_create(
        case=world["case"], actor=advocate, payer=world["payer"], claim_number=" CLM-1001 ",
        service_date=SERVICE_DAY, codes=["99213", "99214 ", "99213"], billed_amount=D("410.00"),
        allowed_amount=D("180.00"), paid_amount=D("90.25"), decision_on=DECISION_DAY,
    )  # fmt: skip
    dispute.refresh_from_db()
    assert dispute.claim_number == "CLM-1001"
    assert dispute.codes == ["99213", "99214"]
    assert dispute.expected_amount == D("210.50")  # 85.00 + 125.50
    assert dispute.expected_source == "fee_schedule"
    assert dispute.payer_contract_id == world["contract"].pk
    assert dispute.filing_deadline == datetime.date(2026, 5, 19)  # Mar 20 + 60 days
    assert dispute.amount_in_dispute == D("120.25")
    assert dispute.outcome == "pending"
    assert dispute.recovered_amount == D("0.00")
    case = Case.objects.get(pk=world["case"].pk)
    assert case.payer_id == world["payer"].pk  # the case had no payer: it takes the dispute's
    assert _savings(case) == (D("410.00"), D("210.50"), D("90.25"), None)
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.claimdispute", object_id=str(dispute.pk), action="create"
        ).count()
        == 1
    )


def test_lower_case_codes_are_normalized(world, advocate):
    dispute = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=world["payer"],
        codes="80053, 99213",
        expected_amount=None,
    )
    assert dispute.codes == ["80053", "99213"]
    assert dispute.expected_amount == D("103.25")


def test_an_entered_expected_amount_is_manual_and_rounded_half_up(world, advocate):
    dispute = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=world["payer"],
        codes=["J3301"],
        expected_amount="312.345",
    )
    assert dispute.expected_amount == D("312.35")
    assert dispute.expected_source == "manual"


def test_a_code_off_the_fee_schedule_needs_an_entered_expected_amount(world, advocate):
    with pytest.raises(ApplicationError) as error:
        make_dispute(
            case=world["case"],
            actor=advocate,
            payer=world["payer"],
            codes=["99213", "J3301"],
            expected_amount=None,
        )
    assert list(error.value.errors) == ["expected_amount"]
    assert "J3301 not on" in error.value.errors["expected_amount"][0]
    assert ClaimDispute.objects.count() == 0
    assert _savings(world["case"]) == (None, None, None, None)


def test_a_case_without_a_provider_needs_an_entered_expected_amount(advocate):
    payer = make_payer()
    make_contract(payer)
    case = make_dispute_case(actor=advocate)
    with pytest.raises(ApplicationError) as error:
        make_dispute(case=case, actor=advocate, payer=payer, expected_amount=None)
    assert error.value.errors == {
        "expected_amount": [
            "Enter the expected amount: the case names no provider whose fee schedule could price the claim."
        ]
    }
    assert ClaimDispute.objects.count() == 0


def test_without_a_contract_in_force_the_advocate_gives_the_deadline(world, advocate):
    other = make_payer("Prairie Mutual")
    make_contract(other, status="terminated")  # not in force
    make_contract(other, term_start=datetime.date(2025, 1, 1), term_end=datetime.date(2025, 12, 31))
    with pytest.raises(ApplicationError) as error:
        make_dispute(case=world["case"], actor=advocate, payer=other)
    assert list(error.value.errors) == ["filing_deadline"]
    assert ClaimDispute.objects.count() == 0
    dispute = make_dispute(
        case=world["case"], actor=advocate, payer=other, filing_deadline=datetime.date(2026, 9, 1)
    )
    assert dispute.payer_contract_id is None
    assert dispute.filing_deadline == datetime.date(2026, 9, 1)


def test_the_contract_in_force_on_its_last_day_applies(world, advocate):
    payer = make_payer()
    contract = make_contract(
        payer, term_start=datetime.date(2025, 3, 3), term_end=SERVICE_DAY, dispute_deadline_days=30
    )
    dispute = make_dispute(case=world["case"], actor=advocate, payer=payer)
    assert dispute.payer_contract_id == contract.pk
    assert dispute.filing_deadline == datetime.date(2026, 4, 19)


def test_a_deadline_other_than_the_contracts_is_refused(world, advocate):
    with pytest.raises(ApplicationError) as error:
        make_dispute(
            case=world["case"],
            actor=advocate,
            payer=world["payer"],
            filing_deadline=datetime.date(2026, 6, 1),
        )
    assert list(error.value.errors) == ["filing_deadline"]
    assert "May 19, 2026" in error.value.errors["filing_deadline"][0]
    assert ClaimDispute.objects.count() == 0


def test_a_contract_of_another_payer_is_refused(world, advocate):
    stranger = make_contract(make_payer("Other"))
    with pytest.raises(ApplicationError) as error:
        make_dispute(
            case=world["case"], actor=advocate, payer=world["payer"], payer_contract=stranger
        )
    assert list(error.value.errors) == ["payer_contract"]
    assert ClaimDispute.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"billed_amount": D("-1.00")}, "billed_amount", "The billed amount cannot be negative."),
        ({"paid_amount": D("200.01")}, "paid_amount", "The paid amount cannot be more than the billed amount."),
        ({"allowed_amount": "lots"}, "allowed_amount", "The allowed amount 'lots' is not an amount of money."),
        ({"allowed_amount": 12.5}, "allowed_amount", "The allowed amount '12.5' is not an amount of money."),
        ({"expected_amount": D("-0.01")}, "expected_amount", "The expected amount cannot be negative."),
        ({"decision_on": datetime.date(2026, 3, 1)}, "decision_on", "The payer's decision cannot be before the date of service."),
        ({"submitted_on": datetime.date(2026, 3, 19)}, "submitted_on", "A dispute is submitted after the payer's decision."),
        ({"service_date": datetime.date(2099, 1, 1), "decision_on": datetime.date(2099, 1, 2)}, "service_date", "The date of service cannot be in the future."),
        ({"codes": []}, "codes", "Enter at least one CPT or HCPCS code from the claim."),
        ({"codes": ["99213", "ABC"]}, "codes", "ABC: A service code is CPT (5 digits, or 4 digits and a letter: 99213, 0001U) or HCPCS Level II (a letter and 4 digits: J3301)."),
        ({"claim_number": "  "}, "claim_number", "Enter the claim number from the EOB or denial."),
    ],
)  # fmt: skip
def test_bad_input_is_refused_and_nothing_is_written(world, advocate, overrides, field, message):
    with pytest.raises(ApplicationError) as error:
        make_dispute(case=world["case"], actor=advocate, payer=world["payer"], **overrides)
    assert error.value.status_code == 400
    assert error.value.errors[field] == [message]
    assert ClaimDispute.objects.count() == 0
    case = Case.objects.get(pk=world["case"].pk)
    assert case.payer_id is None
    assert _savings(case) == (None, None, None, None)
    assert not CaseEvent.objects.filter(case=case, kind="savings").exists()


def test_the_same_claim_with_the_same_payer_is_disputed_once(world, advocate):
    make_dispute(case=world["case"], actor=advocate, payer=world["payer"], claim_number="CLM-7")
    with pytest.raises(ConflictError) as error:
        make_dispute(
            case=world["case"],
            actor=advocate,
            payer=world["payer"],
            claim_number="CLM-7",
            billed_amount=D("999.00"),
        )
    assert error.value.status_code == 409
    assert error.value.errors == {
        "claim_number": ["This claim is already disputed with this payer."]
    }
    assert ClaimDispute.objects.count() == 1
    assert _savings(world["case"])[0] == D("200.00")
    other = make_payer("Another plan")
    make_contract(other)
    make_dispute(
        case=world["case"], actor=advocate, payer=other, claim_number="CLM-7"
    )  # another payer: fine
    assert ClaimDispute.objects.count() == 2


def test_a_closed_case_takes_no_dispute(world, advocate):
    case = services.case_transition(
        case=world["case"], actor=advocate, to_status="closed", reason="Duplicate"
    )
    with pytest.raises(ConflictError):
        make_dispute(case=case, actor=advocate, payer=world["payer"])
    assert ClaimDispute.objects.count() == 0


def test_finance_cannot_dispute_or_record_an_outcome(world, advocate, make_user):
    finance = make_user(Role.FINANCE)
    with pytest.raises(ApplicationError) as error:
        make_dispute(case=world["case"], actor=finance, payer=world["payer"])
    assert error.value.status_code == 403
    assert ClaimDispute.objects.count() == 0
    dispute = make_dispute(case=world["case"], actor=advocate, payer=world["payer"])
    for call in (
        lambda: services.dispute_submit(dispute=dispute, actor=finance, submitted_on=DECISION_DAY),
        lambda: services.dispute_record_outcome(dispute=dispute, actor=finance, outcome="won", outcome_on=DECISION_DAY, recovered_amount=D("1")),
    ):  # fmt: skip
        with pytest.raises(ApplicationError) as error:
            call()
        assert error.value.status_code == 403
    dispute.refresh_from_db()
    assert (dispute.submitted_on, dispute.outcome) == (None, "pending")


# --- Submission, answer, outcome -------------------------------------------------------------


def test_submission_and_the_payers_answer_are_recorded_once_and_in_order(world, advocate):
    dispute = make_dispute(case=world["case"], actor=advocate, payer=world["payer"])
    with pytest.raises(ConflictError):
        services.dispute_record_payer_response(
            dispute=dispute, actor=advocate, responded_on=datetime.date(2026, 4, 1)
        )
    with pytest.raises(ApplicationError) as error:
        services.dispute_submit(
            dispute=dispute, actor=advocate, submitted_on=datetime.date(2026, 3, 19)
        )
    assert error.value.errors == {
        "submitted_on": ["A dispute is submitted after the payer's decision."]
    }
    services.dispute_submit(
        dispute=dispute, actor=advocate, submitted_on=datetime.date(2026, 3, 25)
    )
    with pytest.raises(ConflictError):
        services.dispute_submit(
            dispute=dispute, actor=advocate, submitted_on=datetime.date(2026, 3, 26)
        )
    with pytest.raises(ApplicationError) as error:
        services.dispute_record_payer_response(
            dispute=dispute, actor=advocate, responded_on=datetime.date(2026, 3, 24)
        )
    assert error.value.errors == {
        "responded_on": ["The payer answers after the dispute was submitted."]
    }
    services.dispute_record_payer_response(
        dispute=dispute, actor=advocate, responded_on=datetime.date(2026, 4, 10)
    )
    dispute.refresh_from_db()
    assert (dispute.submitted_on, dispute.payer_responded_on) == (
        datetime.date(2026, 3, 25),
        datetime.date(2026, 4, 10),
    )
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.claimdispute", object_id=str(dispute.pk), action="update"
        ).count()
        == 2
    )


@pytest.mark.parametrize(
    ("outcome", "recovered", "field"),
    [("pending", D("0"), "outcome"), ("settled", D("0"), "outcome"), ("lost", D("0.01"), "recovered_amount"), ("won", D("-5"), "recovered_amount")],
)  # fmt: skip
def test_a_bad_outcome_is_refused_and_nothing_changes(world, advocate, outcome, recovered, field):
    dispute = make_dispute(case=world["case"], actor=advocate, payer=world["payer"])
    before = _savings(world["case"])
    with pytest.raises(ApplicationError) as error:
        services.dispute_record_outcome(
            dispute=dispute,
            actor=advocate,
            outcome=outcome,
            outcome_on=datetime.date(2026, 4, 1),
            recovered_amount=recovered,
        )
    assert list(error.value.errors) == [field]
    dispute.refresh_from_db()
    assert (dispute.outcome, dispute.outcome_on, dispute.recovered_amount) == (
        "pending",
        None,
        D("0.00"),
    )
    assert _savings(world["case"]) == before


def test_outcomes_make_the_case_recovered_the_sum_over_its_disputes(world, advocate):
    first = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=world["payer"],
        billed_amount=D("300.00"),
        paid_amount=D("20.00"),
        expected_amount=D("180.00"),
    )
    second = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=world["payer"],
        billed_amount=D("95.50"),
        paid_amount=D("0.00"),
        expected_amount=D("85.00"),
    )
    assert _savings(world["case"]) == (D("395.50"), D("265.00"), D("20.00"), None)
    services.dispute_record_outcome(
        dispute=first,
        actor=advocate,
        outcome="partial",
        outcome_on=datetime.date(2026, 5, 4),
        recovered_amount=D("100.00"),
    )
    assert _savings(world["case"])[3] == D("100.00")
    services.dispute_record_outcome(
        dispute=second,
        actor=advocate,
        outcome="won",
        outcome_on=datetime.date(2026, 5, 6),
        recovered_amount="85.005",
    )
    assert _savings(world["case"])[3] == D("185.01")
    # The partial result is appealed and won in full: recording it again corrects the sum.
    services.dispute_record_outcome(
        dispute=first,
        actor=advocate,
        outcome="won",
        outcome_on=datetime.date(2026, 6, 1),
        recovered_amount=D("160.00"),
    )
    assert _savings(world["case"])[3] == D("245.01")
    services.dispute_record_outcome(
        dispute=second,
        actor=advocate,
        outcome="lost",
        outcome_on=datetime.date(2026, 6, 2),
        recovered_amount=D("0"),
    )
    assert _savings(world["case"]) == (D("395.50"), D("265.00"), D("20.00"), D("160.00"))
    first.refresh_from_db()
    assert (first.outcome, first.outcome_on, first.recovered_amount) == (
        "won",
        datetime.date(2026, 6, 1),
        D("160.00"),
    )
    reasons = list(
        CaseEvent.objects.filter(case=world["case"], kind="savings")
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert reasons[-1] == "Claim " + second.claim_number + ": lost (denial upheld), $0.00 recovered"


def test_an_outcome_on_a_closed_case_is_refused(world, advocate):
    dispute = make_dispute(case=world["case"], actor=advocate, payer=world["payer"])
    services.case_transition(
        case=world["case"], actor=advocate, to_status="closed", reason="Member withdrew"
    )
    with pytest.raises(ConflictError):
        services.dispute_record_outcome(
            dispute=dispute,
            actor=advocate,
            outcome="won",
            outcome_on=datetime.date(2026, 4, 1),
            recovered_amount=D("10"),
        )
    dispute.refresh_from_db()
    assert dispute.outcome == "pending"


# --- Qualification -----------------------------------------------------------------------


def _on(day: datetime.date, **extra):
    """A dispute served and decided on `day` (before TODAY)."""
    return {"service_date": day, "decision_on": day, **extra}


def test_high_dollar_starts_exactly_at_the_threshold(world, advocate):
    below = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=world["payer"],
        billed_amount=D("3000"),
        expected_amount=D("2600.00"),
        paid_amount=D("100.01"),
    )
    at = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=world["payer"],
        billed_amount=D("3000"),
        expected_amount=D("2600.00"),
        paid_amount=D("100.00"),
    )
    result = selectors.dispute_qualifications([below, at], today=TODAY)
    assert result[below.pk].is_high_dollar is False
    assert result[below.pk].reasons == []
    assert result[at.pk].is_high_dollar is True
    assert result[at.pk].reasons == ["High-dollar: $2,500.00 in dispute (threshold $2,500.00)."]
    assert [d.pk for d in selectors.disputes_list(qualification="high_dollar", today=TODAY)] == [
        at.pk
    ]


def test_systemic_by_count_of_disputes_with_the_same_payer_and_code(world, advocate):
    case, payer = world["case"], world["payer"]
    days = [TODAY - datetime.timedelta(days=n) for n in (5, 30, 60)]
    two = [
        make_dispute(case=case, actor=advocate, payer=payer, codes=["99213", "80053"], **_on(day))
        for day in days[:2]
    ]
    other_payer = make_payer("Elsewhere")
    make_contract(other_payer)
    make_dispute(
        case=case, actor=advocate, payer=other_payer, codes=["99213"], **_on(days[2])
    )  # other payer
    assert selectors.systemic_groups(today=TODAY) == []
    third = make_dispute(case=case, actor=advocate, payer=payer, codes=["99213"], **_on(days[2]))
    groups = selectors.systemic_groups(today=TODAY)
    assert [(g.payer.pk, g.code, g.dispute_count, g.total_in_dispute) for g in groups] == [
        (payer.pk, "99213", 3, D("300.00"))
    ]
    assert groups[0].dispute_ids == tuple(sorted(d.pk for d in [*two, third]))
    result = selectors.dispute_qualifications([*two, third], today=TODAY)
    assert all(q.is_systemic and q.systemic_group == (payer.pk, "99213") for q in result.values())
    assert result[third.pk].reasons == [
        f"Systemic: code 99213 with {payer.name} across 3 dispute(s), $300.00 in dispute, dates of service in the last 90 days."
    ]
    listed = {d.pk for d in selectors.disputes_list(qualification="systemic", today=TODAY)}
    assert listed == {d.pk for d in [*two, third]}


def test_systemic_by_total_in_dispute(world, advocate):
    case, payer = world["case"], world["payer"]
    day = TODAY - datetime.timedelta(days=10)

    def dispute(code, paid):
        return make_dispute(
            case=case, actor=advocate, payer=payer, codes=[code], billed_amount=D("3000"),
            expected_amount=D("2500.00"), paid_amount=paid, **_on(day),
        )  # fmt: skip

    short = [dispute("97110", D("0.00")), dispute("97110", D("0.01"))]  # $4,999.99
    enough = [dispute("97112", D("0.00")), dispute("97112", D("0.00"))]  # $5,000.00
    groups = selectors.systemic_groups(today=TODAY)
    assert [(g.code, g.dispute_count, g.total_in_dispute) for g in groups] == [
        ("97112", 2, D("5000.00"))
    ]
    result = selectors.dispute_qualifications([*short, *enough], today=TODAY)
    assert [result[d.pk].is_systemic for d in [*short, *enough]] == [False, False, True, True]
    assert result[short[0].pk].systemic_group is None
    assert result[enough[0].pk].systemic_group == (payer.pk, "97112")


def test_one_large_dispute_alone_is_high_dollar_not_systemic(world, advocate):
    """Systemic means a pattern: the total rule needs the code and payer on two disputes or more."""
    case, payer = world["case"], world["payer"]
    alone = make_dispute(
        case=case, actor=advocate, payer=payer, codes=["44970"], billed_amount=D("9000"),
        expected_amount=D("7400.00"), paid_amount=D("600.00"), **_on(TODAY - datetime.timedelta(days=10)),
    )  # fmt: skip
    assert selectors.systemic_groups(today=TODAY) == []
    result = selectors.dispute_qualifications([alone], today=TODAY)[alone.pk]
    assert (result.is_high_dollar, result.is_systemic) == (True, False)


def test_the_systemic_window_counts_90_days_back_but_not_91(world, advocate):
    case, payer = world["case"], world["payer"]
    at_90 = make_dispute(
        case=case, actor=advocate, payer=payer, **_on(TODAY - datetime.timedelta(days=90))
    )
    at_91 = make_dispute(
        case=case, actor=advocate, payer=payer, **_on(TODAY - datetime.timedelta(days=91))
    )
    today_s = make_dispute(case=case, actor=advocate, payer=payer, **_on(TODAY))
    assert selectors.systemic_groups(today=TODAY) == []  # two in the window
    assert selectors.dispute_qualifications([at_91], today=TODAY)[at_91.pk].is_systemic is False
    middle = make_dispute(
        case=case, actor=advocate, payer=payer, **_on(TODAY - datetime.timedelta(days=45))
    )
    groups = selectors.systemic_groups(today=TODAY)
    assert [g.dispute_ids for g in groups] == [tuple(sorted([at_90.pk, today_s.pk, middle.pk]))]
    result = selectors.dispute_qualifications([at_90, at_91], today=TODAY)
    assert (result[at_90.pk].is_systemic, result[at_91.pk].is_systemic) == (True, False)


def test_payer_unresponsive_the_day_after_the_contracts_window(world, advocate):
    case, payer = world["case"], world["payer"]
    silent = make_dispute(
        case=case, actor=advocate, payer=payer, submitted_on=datetime.date(2026, 6, 1)
    )
    answered = make_dispute(
        case=case, actor=advocate, payer=payer, submitted_on=datetime.date(2026, 6, 1)
    )
    answered = services.dispute_record_payer_response(
        dispute=answered, actor=advocate, responded_on=datetime.date(2026, 7, 2)
    )
    unsent = make_dispute(case=case, actor=advocate, payer=payer)
    no_contract_payer = make_payer("No contract")
    no_contract = make_dispute(
        case=case,
        actor=advocate,
        payer=no_contract_payer,
        submitted_on=datetime.date(2026, 4, 1),
        filing_deadline=datetime.date(2026, 5, 1),
    )
    disputes = [silent, answered, unsent, no_contract]
    last_day = datetime.date(2026, 7, 31)  # June 1 + 60 days
    on_time = selectors.dispute_qualifications(disputes, today=last_day)
    late = selectors.dispute_qualifications(disputes, today=last_day + datetime.timedelta(days=1))
    assert [on_time[d.pk].is_payer_unresponsive for d in disputes] == [False, False, False, False]
    assert [late[d.pk].is_payer_unresponsive for d in disputes] == [True, False, False, False]
    assert late[silent.pk].reasons == [
        "Payer unresponsive: submitted Jun 01, 2026, no answer within the payer's 60-day dispute window (due Jul 31, 2026)."
    ]
    assert list(selectors.disputes_list(qualification="unresponsive", today=last_day)) == []
    listed = list(
        selectors.disputes_list(
            qualification="unresponsive", today=last_day + datetime.timedelta(days=1)
        )
    )
    assert [d.pk for d in listed] == [silent.pk]
    assert listed[0].response_due_on == last_day


def test_the_list_filters_by_payer_and_outcome_and_refuses_an_unknown_qualification(
    world, advocate
):
    first = make_dispute(case=world["case"], actor=advocate, payer=world["payer"])
    other = make_payer("Other")
    make_contract(other)
    second = make_dispute(
        case=world["case"], actor=advocate, payer=other, service_date=datetime.date(2026, 3, 5)
    )
    services.dispute_record_outcome(
        dispute=second,
        actor=advocate,
        outcome="won",
        outcome_on=datetime.date(2026, 4, 1),
        recovered_amount=D("100"),
    )
    assert [d.pk for d in selectors.disputes_list()] == [second.pk, first.pk]
    assert [d.pk for d in selectors.disputes_list(payer_id=world["payer"].pk)] == [first.pk]
    assert [d.pk for d in selectors.disputes_list(outcome="won")] == [second.pk]
    assert list(selectors.disputes_list(outcome="pending", payer_id=str(other.pk))) == []
    with pytest.raises(ApplicationError) as error:
        selectors.disputes_list(qualification="cheap")
    assert list(error.value.errors) == ["qualification"]


def _disputes(advocate, n):
    """n disputes of one new payer, each on its own case: high-dollar, systemic (by total) and
    unresponsive (submitted 70 days before TODAY, 60-day window)."""
    payer = make_payer()
    make_contract(payer)
    pcp = make_priced_pcp()
    for i in range(n):
        case = make_dispute_case(actor=advocate, practitioner=pcp)
        make_dispute(
            case=case, actor=advocate, payer=payer, billed_amount=D("3000"), expected_amount=D("3000"),
            submitted_on=TODAY - datetime.timedelta(days=70), **_on(TODAY - datetime.timedelta(days=85 - i)),
        )  # fmt: skip


def _list_queries(qualification=None):
    with CaptureQueriesContext(connection) as queries:
        disputes = list(selectors.disputes_list(qualification=qualification, today=TODAY))
        for dispute in disputes:
            _ = (
                dispute.case.member.member_number,
                dispute.payer.name,
                dispute.payer_contract.dispute_deadline_days,
                dispute.in_dispute,
            )
        qualifications = selectors.dispute_qualifications(disputes, today=TODAY)
    assert all(
        q.is_high_dollar and q.is_systemic and q.is_payer_unresponsive
        for q in qualifications.values()
    )
    return len(disputes), len(queries.captured_queries)


@pytest.mark.parametrize(
    ("qualification", "queries"),
    # The list is one query; qualifying it is two (systemic groups, their payers); filtering
    # by systemic computes the groups first (two more).
    [(None, 3), ("high_dollar", 3), ("unresponsive", 3), ("systemic", 5)],
)
def test_the_list_and_its_qualifications_take_the_same_queries_for_2_and_8_disputes(
    advocate, qualification, queries
):
    _disputes(advocate, 2)
    assert _list_queries(qualification) == (2, queries)
    _disputes(advocate, 6)
    assert _list_queries(qualification) == (8, queries)
