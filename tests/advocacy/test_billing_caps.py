"""Billing review against fee schedule caps: a fee line's cap (an amount per calendar month or
year per member) limits what the member owes for the code; the member's earlier bills of the
code in the period count toward it, and a line over it is flagged with the cap and the period."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from advocacy import services
from advocacy.models import BillLine, BillReview
from advocacy.services.disputes import cap_period_of
from cooperative.exceptions import ApplicationError
from providers.models import FeeScheduleLine
from providers.selectors import active_agreement_for
from tests.advocacy.dispute_factories import SERVICE_DAY, make_dispute_case, make_priced_pcp
from tests.advocacy.factories import make_case

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(advocate):
    """A PCP whose 99213 ($85.00) is capped at $200.00 a year and 80053 ($18.25) at $40.00 a
    month; a member's billing review case."""
    pcp = make_priced_pcp()
    agreement = active_agreement_for(pcp, SERVICE_DAY)
    FeeScheduleLine.objects.filter(agreement=agreement, code="99213").update(
        cap_amount=D("200.00"), cap_period="year"
    )
    FeeScheduleLine.objects.filter(agreement=agreement, code="80053").update(
        cap_amount=D("40.00"), cap_period="month"
    )
    case = make_dispute_case(actor=advocate, case_type="billing_review", summary="Capped visits")
    return {"pcp": pcp, "case": case}


def _review(world, advocate, day, lines, case=None):
    return services.bill_review_create(
        case=case or world["case"], actor=advocate, practitioner=world["pcp"], service_date=day,
        lines=lines,
    )  # fmt: skip


def _lines(review):
    return list(
        BillLine.objects.filter(review=review)
        .order_by("line_number")
        .values_list("code", "billed_amount", "agreed_amount", "overcharge", "cap_flag")
    )


def test_a_yearly_cap_counts_the_members_earlier_bills_of_the_code(world, advocate):
    first = _review(world, advocate, datetime.date(2026, 3, 2), [
        {"code": "99213", "amount": "120.00"},  # $35.00 above the price: counts $85.00
        {"code": "99213", "amount": "85.00"},
        {"code": "99214", "amount": "125.50"},  # no cap
        {"code": "99213", "amount": "85.00"},  # $170.00 counted: $30.00 left under the cap
    ])  # fmt: skip
    assert _lines(first) == [
        ("99213", D("120.00"), D("85.00"), D("35.00"), ""),
        ("99213", D("85.00"), D("85.00"), D("0.00"), ""),
        ("99214", D("125.50"), D("125.50"), D("0.00"), ""),
        ("99213", D("85.00"), D("85.00"), D("55.00"),
         "Above the cap of $200.00 per year (calendar year 2026): $170.00 billed earlier in the "
         "period left $30.00."),
    ]  # fmt: skip
    line = first.lines.get(line_number=4)
    assert (line.cap_amount, line.cap_period, line.is_over_cap) == (D("200.00"), "year", True)
    assert first.lines.get(line_number=2).cap_amount == D("200.00")
    assert first.lines.get(line_number=3).cap_amount is None

    # Later in the year, on another bill: the cap is used up.
    later = _review(world, advocate, datetime.date(2026, 11, 20), [{"code": "99213", "amount": "60.00"}])  # fmt: skip
    assert _lines(later) == [
        ("99213", D("60.00"), D("85.00"), D("60.00"),
         "Above the cap of $200.00 per year (calendar year 2026): $200.00 billed earlier in the "
         "period left $0.00."),
    ]  # fmt: skip
    # A new calendar year starts a new cap (a bill of 2027 would be dated in the future today).
    assert cap_period_of("year", datetime.date(2027, 1, 4)) == (
        datetime.date(2027, 1, 1), datetime.date(2027, 12, 31), "calendar year 2027"
    )  # fmt: skip

    # The case expects what the member owed: the capped lines at what was left under the cap.
    case = world["case"]
    case.refresh_from_db()
    assert case.billed_amount == D("475.50")
    assert case.expected_amount == D("325.50")  # 85 + 85 + 125.50 + 30 (left under the cap) + 0


def test_a_monthly_cap_uses_the_calendar_month_and_reaching_it_exactly_is_not_over(world, advocate):
    march = _review(world, advocate, datetime.date(2026, 3, 2), [
        {"code": "80053", "amount": "36.50", "units": 2},
    ])  # fmt: skip
    at_cap = _review(world, advocate, datetime.date(2026, 3, 20), [{"code": "80053", "amount": "3.50"}])  # fmt: skip
    over = _review(world, advocate, datetime.date(2026, 3, 31), [{"code": "80053", "amount": "18.25"}])  # fmt: skip
    april = _review(world, advocate, datetime.date(2026, 4, 1), [{"code": "80053", "amount": "18.25"}])  # fmt: skip

    assert _lines(march) == [("80053", D("36.50"), D("36.50"), D("0.00"), "")]
    assert _lines(at_cap) == [("80053", D("3.50"), D("18.25"), D("0.00"), "")]
    assert _lines(over) == [
        ("80053", D("18.25"), D("18.25"), D("18.25"),
         "Above the cap of $40.00 per month (March 2026): $40.00 billed earlier in the period "
         "left $0.00."),
    ]  # fmt: skip
    assert _lines(april) == [("80053", D("18.25"), D("18.25"), D("0.00"), "")]


def test_another_members_bills_do_not_count_toward_the_cap(world, advocate):
    _review(world, advocate, datetime.date(2026, 3, 2), [{"code": "99213", "amount": "190.00"}])
    other = make_case(actor=advocate, summary="Another member's bill")
    review = _review(
        world, advocate, datetime.date(2026, 3, 3), [{"code": "99213", "amount": "85.00"}], other
    )
    assert _lines(review) == [("99213", D("85.00"), D("85.00"), D("0.00"), "")]


def test_imported_lines_count_the_lines_already_on_the_bill(world, advocate):
    review = _review(world, advocate, datetime.date(2026, 6, 1), [
        {"code": "99213", "amount": "85.00"}, {"code": "99213", "amount": "85.00"},
    ])  # fmt: skip
    result = services.bill_lines_import(
        review=review, actor=advocate, content=b"code,amount\n99213,85.00\n99213,85.00\n"
    )
    assert result == {"imported": 2, "rejected": []}
    assert _lines(review)[2:] == [
        ("99213", D("85.00"), D("85.00"), D("55.00"),
         "Above the cap of $200.00 per year (calendar year 2026): $170.00 billed earlier in the "
         "period left $30.00."),
        ("99213", D("85.00"), D("85.00"), D("85.00"),
         "Above the cap of $200.00 per year (calendar year 2026): $200.00 billed earlier in the "
         "period left $0.00."),
    ]  # fmt: skip


def test_a_refused_bill_changes_nothing_and_counts_nothing(world, advocate):
    with pytest.raises(ApplicationError) as error:
        _review(world, advocate, datetime.date(2026, 3, 2), [
            {"code": "99213", "amount": "150.00"}, {"code": "99213", "amount": "-1"},
        ])  # fmt: skip
    assert error.value.errors == {"lines": ["Line 2: The billed amount cannot be negative."]}
    assert BillReview.objects.count() == 0
    review = _review(world, advocate, datetime.date(2026, 3, 2), [{"code": "99213", "amount": "200.00"}])  # fmt: skip
    assert _lines(review) == [("99213", D("200.00"), D("85.00"), D("115.00"), "")]


def test_the_bill_page_shows_the_cap_flag(world, advocate, client):
    review = _review(world, advocate, datetime.date(2026, 3, 2), [
        {"code": "99213", "amount": "150.00"}, {"code": "99213", "amount": "150.00"},
        {"code": "99213", "amount": "150.00"},
    ])  # fmt: skip
    client.force_login(advocate)
    from django.urls import reverse

    page = client.get(reverse("advocacy:bill-review", args=[review.pk])).content.decode()
    assert "Above the cap" in page
    assert (
        "Above the cap of $200.00 per year (calendar year 2026): $170.00 billed earlier in the "
        "period left $30.00." in page
    )
    assert "Cap $200.00 per year" in page
