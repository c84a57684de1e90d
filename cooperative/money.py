"""Money: Decimal amounts in USD, rounded half-up to cents once, and written in words for checks."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


class MoneyError(ValueError):
    """An amount that cannot be money (not a number, float, or out of range)."""


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Parse an amount exactly. Floats are refused: they cannot hold cents exactly."""
    if isinstance(value, (bool, float)):
        raise MoneyError(f"Amounts must be Decimal, int or str, not {type(value).__name__}.")
    if isinstance(value, Decimal):
        result = value
    else:
        text = str(value).strip().replace(",", "").removeprefix("$")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyError(f"'{value}' is not an amount of money.") from None
    if not result.is_finite():
        raise MoneyError(f"'{value}' is not an amount of money.")
    return result


def quantize_cents(value: Decimal | int | str) -> Decimal:
    """Round to cents, half-up (0.005 -> 0.01), the cooperative's one rounding rule."""
    return to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def percent_of(amount: Decimal, percent: Decimal) -> Decimal:
    """`percent`% of `amount`, rounded to cents once."""
    return quantize_cents(to_decimal(amount) * to_decimal(percent) / Decimal(100))


def sum_amounts(amounts: list[Decimal]) -> Decimal:
    """A total is the sum of its (already rounded) lines."""
    return sum((quantize_cents(a) for a in amounts), Decimal("0.00"))


def format_usd(amount: Decimal | int | str) -> str:
    """'$1,234.56' (negative as '-$1,234.56')."""
    value = quantize_cents(amount)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"


_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
    "eighteen", "nineteen",
]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**9, "billion"), (10**6, "million"), (1000, "thousand")]


def _below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_TENS[tens] + (f"-{_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_ONES[rest])
    return words


def integer_in_words(n: int) -> str:
    """12345 -> 'twelve thousand three hundred forty-five'."""
    if n < 0:
        raise MoneyError("Only non-negative whole numbers can be written in words.")
    if n == 0:
        return "zero"
    words: list[str] = []
    for scale, name in _SCALES:
        if n >= scale:
            count, n = divmod(n, scale)
            words += _below_thousand(count) + [name]
    words += _below_thousand(n)
    return " ".join(words)


def amount_in_words(amount: Decimal | int | str) -> str:
    """The check's legal line: 1234.56 -> 'One thousand two hundred thirty-four and 56/100 dollars'."""
    value = quantize_cents(amount)
    if value < 0:
        raise MoneyError("A check cannot be written for a negative amount.")
    if value >= Decimal(10**12):
        raise MoneyError("Amount is too large for a check.")
    dollars = int(value)
    cents = int((value - dollars) * 100)
    text = f"{integer_in_words(dollars)} and {cents:02d}/100 dollars"
    return text[0].upper() + text[1:]
