"""Billing review: each line against the agreed fee schedule (overcharges in cents, unpriced codes
flagged), CSV import of lines, completion, and the case's savings."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advocacy import selectors, services
from advocacy.models import BillLine, BillReview, Case, CaseEvent
from cooperative.exceptions import ApplicationError, ConflictError
from cooperative.models import AuditEvent
from cooperative.roles import Role
from tests.advocacy.dispute_factories import (
    SERVICE_DAY,
    make_contract,
    make_dispute,
    make_dispute_case,
    make_payer,
    make_priced_pcp,
)
from tests.providers.factories import PractitionerFactory

pytestmark = pytest.mark.django_db

D = Decimal
LINES = [
    {"code": "99213", "billed_amount": D("120.00"), "description": "Office visit"},
    {"code": "80053", "amount": "40.00", "units": 2, "description": "Metabolic panel"},
    {"code": "99214", "billed_amount": D("100.00")},
    {"code": "j3301", "billed_amount": D("55.55"), "description": "Triamcinolone"},
]


@pytest.fixture
def world(advocate):
    pcp = make_priced_pcp()  # 99213 $85.00, 99214 $125.50, 80053 $18.25
    case = make_dispute_case(
        actor=advocate, case_type="billing_review", summary="Bill above the agreed price"
    )
    return {"pcp": pcp, "case": case}


def _review(world, advocate, lines=LINES, **kwargs):
    return services.bill_review_create(
        case=world["case"],
        actor=advocate,
        practitioner=world["pcp"],
        service_date=SERVICE_DAY,
        lines=lines,
        **kwargs,
    )


def _lines(review):
    return list(
        BillLine.objects.filter(review=review)
        .order_by("line_number")
        .values_list("line_number", "code", "units", "billed_amount", "agreed_amount", "overcharge")
    )


def _savings(case):
    case.refresh_from_db()
    return (case.billed_amount, case.expected_amount, case.paid_amount, case.recovered_amount)


def test_each_line_is_compared_with_the_agreed_price_times_units(world, advocate):
    review = _review(world, advocate, bill_reference=" INV-2231 ")
    assert review.agreement_id is not None
    assert review.bill_reference == "INV-2231"
    assert review.status == "open"
    assert _lines(review) == [
        (1, "99213", 1, D("120.00"), D("85.00"), D("35.00")),
        (2, "80053", 2, D("40.00"), D("36.50"), D("3.50")),
        (3, "99214", 1, D("100.00"), D("125.50"), D("0.00")),  # below the agreed price
        (4, "J3301", 1, D("55.55"), None, D("0.00")),  # not on the fee schedule: flagged
    ]
    flagged = {line.code: (line.is_overcharge, line.is_unpriced) for line in review.lines.all()}
    assert flagged == {
        "99213": (True, False),
        "80053": (True, False),
        "99214": (False, False),
        "J3301": (False, True),
    }
    detail = selectors.bill_review_detail(review.pk)
    assert selectors.bill_review_totals(detail) == {
        "billed": D("315.55"), "agreed": D("247.00"), "overcharge": D("38.50"), "unpriced_count": 1,
    }  # fmt: skip
    # The case: billed is the bill, expected the agreed prices with the unpriced line at its billed amount.
    assert _savings(world["case"]) == (D("315.55"), D("302.55"), None, None)
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.billreview", object_id=str(review.pk), action="create"
        ).count()
        == 1
    )
    case = Case.objects.get(pk=world["case"].pk)
    assert case.practitioner_id == world["pcp"].pk  # the case had no provider: it takes the bill's


def test_billed_amounts_are_rounded_half_up_once_at_the_line(world, advocate):
    review = _review(
        world,
        advocate,
        lines=[{"code": "99213", "amount": "85.005"}, {"code": "99213", "amount": "85.004"}],
    )
    assert [(line[3], line[5]) for line in _lines(review)] == [
        (D("85.01"), D("0.01")),
        (D("85.00"), D("0.00")),
    ]
    assert selectors.bill_review_totals(review)["overcharge"] == D("0.01")


def test_bad_lines_are_refused_with_their_numbers_and_nothing_is_written(world, advocate):
    lines = [
        {"code": "99213", "amount": "120.00"},
        {"code": "9921", "amount": "10.00"},
        {"code": "99214", "amount": "-3.00", "units": 0},
        {"code": "80053"},
        {"code": "80053", "amount": "1.00", "units": "two"},
    ]
    with pytest.raises(ApplicationError) as error:
        _review(world, advocate, lines=lines)
    assert error.value.errors == {
        "lines": [
            "Line 2: 9921: A service code is CPT (5 digits, or 4 digits and a letter: 99213, 0001U) or HCPCS Level II (a letter and 4 digits: J3301).",
            "Line 3: The billed amount cannot be negative.",
            "Line 3: Units run from 1 to 9,999.",
            "Line 4: Enter the billed amount.",
            "Line 5: Units 'two' is not a whole number.",
        ]
    }
    assert BillReview.objects.count() == 0
    assert BillLine.objects.count() == 0
    assert _savings(world["case"]) == (None, None, None, None)
    assert Case.objects.get(pk=world["case"].pk).practitioner_id is None


@pytest.mark.parametrize(
    "practitioner_and_day",
    ["no_role", "before_the_agreement"],
)
def test_no_agreement_in_force_is_refused_on_the_practitioner(
    world, advocate, practitioner_and_day
):
    practitioner, day = (
        (PractitionerFactory(), SERVICE_DAY)
        if practitioner_and_day == "no_role"
        else (world["pcp"], datetime.date(2025, 12, 31))
    )
    with pytest.raises(ApplicationError) as error:
        services.bill_review_create(
            case=world["case"],
            actor=advocate,
            practitioner=practitioner,
            service_date=day,
            lines=LINES,
        )
    assert error.value.errors == {
        "practitioner": ["No rate agreement in force on the date of service."]
    }
    assert BillReview.objects.count() == 0
    assert BillLine.objects.count() == 0
    assert _savings(world["case"]) == (None, None, None, None)


def test_completing_counts_the_total_overcharge_as_avoided(world, advocate):
    review = _review(world, advocate)
    review = services.bill_review_complete(review=review, actor=advocate)
    review.refresh_from_db()
    assert (review.status, review.avoided_amount) == ("completed", D("38.50"))
    assert _savings(world["case"]) == (D("315.55"), D("302.55"), None, D("38.50"))
    event = CaseEvent.objects.filter(case=world["case"], kind="savings").latest("id")
    assert event.reason == "Bill of Mar 02, 2026 reviewed: $38.50 avoided"
    with pytest.raises(ConflictError):
        services.bill_review_complete(review=review, actor=advocate)
    assert _savings(world["case"])[3] == D("38.50")


def test_the_advocate_may_say_what_was_avoided_up_to_the_bill(world, advocate):
    review = _review(world, advocate)
    with pytest.raises(ApplicationError) as error:
        services.bill_review_complete(review=review, actor=advocate, avoided_amount=D("315.56"))
    assert error.value.errors == {
        "avoided_amount": ["The avoided amount cannot be more than the bill ($315.55)."]
    }
    review.refresh_from_db()
    assert review.status == "open"
    assert _savings(world["case"])[3] is None
    review.refresh_from_db()
    assert review.avoided_amount is None
    services.bill_review_complete(review=review, actor=advocate, avoided_amount=D("90.00"))
    assert _savings(world["case"])[3] == D("90.00")
    review.refresh_from_db()
    assert review.avoided_amount == D("90.00")


def test_a_review_without_lines_cannot_be_completed(world, advocate):
    review = _review(world, advocate, lines=[])
    with pytest.raises(ConflictError) as error:
        services.bill_review_complete(review=review, actor=advocate)
    assert error.value.errors == {"lines": ["The bill has no lines."]}
    review.refresh_from_db()
    assert review.status == "open"


def test_recovered_is_the_disputes_recovered_plus_the_reviews_avoided(world, advocate):
    payer = make_payer()
    make_contract(payer)
    dispute = make_dispute(
        case=world["case"],
        actor=advocate,
        payer=payer,
        billed_amount=D("200.00"),
        expected_amount=D("150.00"),
        paid_amount=D("50.00"),
    )
    services.bill_review_complete(review=_review(world, advocate), actor=advocate)
    assert _savings(world["case"]) == (D("515.55"), D("452.55"), D("50.00"), D("38.50"))
    services.dispute_record_outcome(
        dispute=dispute,
        actor=advocate,
        outcome="won",
        outcome_on=datetime.date(2026, 5, 1),
        recovered_amount=D("100.00"),
    )
    assert _savings(world["case"])[3] == D("138.50")
    services.dispute_record_outcome(
        dispute=dispute,
        actor=advocate,
        outcome="partial",
        outcome_on=datetime.date(2026, 5, 2),
        recovered_amount=D("60.00"),
    )
    assert _savings(world["case"])[3] == D("98.50")


# --- Import ----------------------------------------------------------------------------------


def test_import_appends_the_good_lines_and_reports_the_bad_ones(world, advocate):
    review = _review(world, advocate, lines=[LINES[0]])
    content = (
        "\ufeffCode,Amount,Units,Description\n"
        "99214,130.50,1,Office visit level 4\n"
        "ABCDE,10.00,1,Bad code\n"
        "\n"
        "80053,18.25,,Panel\n"
        "99213,-1,1,Negative\n"
        "80053,60.00,3,Three panels\n"
        "99213,90.00,0,No units\n"
    ).encode()
    result = services.bill_lines_import(review=review, actor=advocate, content=content)
    assert result["imported"] == 3
    assert result["rejected"] == [
        {
            "line": 3,
            "error": "ABCDE: A service code is CPT (5 digits, or 4 digits and a letter: 99213, 0001U) or HCPCS Level II (a letter and 4 digits: J3301).",
        },
        {"line": 6, "error": "The billed amount cannot be negative."},
        {"line": 8, "error": "Units run from 1 to 9,999."},
    ]
    assert _lines(review) == [
        (1, "99213", 1, D("120.00"), D("85.00"), D("35.00")),
        (2, "99214", 1, D("130.50"), D("125.50"), D("5.00")),
        (3, "80053", 1, D("18.25"), D("18.25"), D("0.00")),
        (4, "80053", 3, D("60.00"), D("54.75"), D("5.25")),
    ]
    assert _savings(world["case"]) == (D("328.75"), D("283.50"), None, None)
    assert (
        AuditEvent.objects.filter(
            object_type="advocacy.billreview",
            object_id=str(review.pk),
            detail="lines imported: 3, rejected: 3",
        ).count()
        == 1
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"code,units\n99213,1\n", "Missing columns: amount."),
        (b"\xff\xfecode,amount\n", "Not a UTF-8 CSV file."),
        (b"", "Missing columns: code, amount."),
    ],
)
def test_an_unreadable_file_is_refused_and_nothing_is_added(world, advocate, content, message):
    review = _review(world, advocate, lines=[LINES[0]])
    with pytest.raises(ApplicationError) as error:
        services.bill_lines_import(review=review, actor=advocate, content=content)
    assert error.value.errors == {"file": [message]}
    assert BillLine.objects.filter(review=review).count() == 1


def test_a_completed_review_takes_no_import(world, advocate):
    review = services.bill_review_complete(review=_review(world, advocate), actor=advocate)
    with pytest.raises(ConflictError):
        services.bill_lines_import(
            review=review, actor=advocate, content=b"code,amount\n99213,10\n"
        )
    assert BillLine.objects.filter(review=review).count() == 4


# --- Permissions, closed cases, queries --------------------------------------------------------


def test_finance_is_refused_everywhere(world, advocate, make_user):
    finance = make_user(Role.FINANCE)
    with pytest.raises(ApplicationError) as error:
        services.bill_review_create(
            case=world["case"],
            actor=finance,
            practitioner=world["pcp"],
            service_date=SERVICE_DAY,
            lines=LINES,
        )
    assert error.value.status_code == 403
    assert BillReview.objects.count() == 0
    review = _review(world, advocate)
    for call in (
        lambda: services.bill_lines_import(
            review=review, actor=finance, content=b"code,amount\n99213,10\n"
        ),
        lambda: services.bill_review_complete(review=review, actor=finance),
    ):
        with pytest.raises(ApplicationError) as error:
            call()
        assert error.value.status_code == 403
    review.refresh_from_db()
    assert review.status == "open"
    assert review.lines.count() == 4


def test_a_closed_case_takes_no_review(world, advocate):
    review = _review(world, advocate)
    services.case_transition(
        case=world["case"], actor=advocate, to_status="closed", reason="Member moved"
    )
    with pytest.raises(ConflictError):
        _review(world, advocate)
    with pytest.raises(ConflictError):
        services.bill_review_complete(review=review, actor=advocate)
    assert BillReview.objects.count() == 1
    review.refresh_from_db()
    assert review.status == "open"


def test_the_review_detail_and_totals_take_the_same_queries_for_any_number_of_lines(
    world, advocate
):
    small = _review(world, advocate, lines=LINES[:1])
    large = _review(world, advocate, lines=LINES * 5)

    def queries(review_id):
        with CaptureQueriesContext(connection) as captured:
            review = selectors.bill_review_detail(review_id)
            _ = (
                review.case.member.member_number,
                review.practitioner.last_name,
                review.agreement.clinic.legal_name,
            )
            totals = selectors.bill_review_totals(review)
            _ = [line.code for line in review.lines.all()]
        return totals, len(captured.captured_queries)

    assert queries(small.pk) == (
        {
            "billed": D("120.00"),
            "agreed": D("85.00"),
            "overcharge": D("35.00"),
            "unpriced_count": 0,
        },
        2,
    )
    assert queries(large.pk) == (
        {
            "billed": D("1577.75"),
            "agreed": D("1235.00"),
            "overcharge": D("192.50"),
            "unpriced_count": 5,
        },
        2,
    )
    assert selectors.bill_review_detail("nope") is None
    assert selectors.bill_review_detail(999999) is None
