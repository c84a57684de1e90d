from decimal import Decimal

import pytest

from cooperative.money import (
    MoneyError,
    amount_in_words,
    format_usd,
    percent_of,
    quantize_cents,
    sum_amounts,
)


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("1.005", Decimal("1.01")),
        ("1.004", Decimal("1.00")),
        ("2.675", Decimal("2.68")),
        ("-1.005", Decimal("-1.01")),
        (3, Decimal("3.00")),
        ("$1,234.565", Decimal("1234.57")),
    ],
)
def test_quantize_rounds_half_up_to_cents(raw, cents):
    assert quantize_cents(raw) == cents
    assert quantize_cents(raw).as_tuple().exponent == -2


def test_floats_are_refused():
    with pytest.raises(MoneyError, match="not float"):
        quantize_cents(1.1)  # type: ignore[arg-type]


def test_garbage_is_refused():
    with pytest.raises(MoneyError, match="'abc' is not an amount of money"):
        quantize_cents("abc")
    with pytest.raises(MoneyError):
        quantize_cents("NaN")


def test_percent_rounds_once():
    assert percent_of(Decimal("85.00"), Decimal("33.333")) == Decimal("28.33")
    assert percent_of(Decimal("0.15"), Decimal("50")) == Decimal("0.08")


def test_total_is_sum_of_lines():
    assert sum_amounts([Decimal("10.10"), Decimal("0.20"), Decimal("5")]) == Decimal("15.30")
    assert sum_amounts([]) == Decimal("0.00")


def test_format_usd():
    assert format_usd(Decimal("1234.5")) == "$1,234.50"
    assert format_usd("-12") == "-$12.00"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1234.56", "One thousand two hundred thirty-four and 56/100 dollars"),
        ("0", "Zero and 00/100 dollars"),
        ("0.07", "Zero and 07/100 dollars"),
        ("15", "Fifteen and 00/100 dollars"),
        ("100.10", "One hundred and 10/100 dollars"),
        ("21", "Twenty-one and 00/100 dollars"),
        ("1000000", "One million and 00/100 dollars"),
        ("2019403.99", "Two million nineteen thousand four hundred three and 99/100 dollars"),
        ("999999999.995", "One billion and 00/100 dollars"),
    ],
)
def test_amount_in_words_for_checks(amount, words):
    assert amount_in_words(amount) == words


def test_negative_check_is_refused():
    with pytest.raises(MoneyError, match="negative"):
        amount_in_words("-1.00")
