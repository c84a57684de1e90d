"""Identifier validators, in one place, reused by models, forms and serializers.

Each `validate_*` raises django.core.exceptions.ValidationError with a message a person
can act on; each `normalize_*` returns the canonical stored form (and validates).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.us import ein as stdnum_ein
from stdnum.us import rtn as stdnum_rtn

US_STATES: dict[str, str] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico", "GU": "Guam", "VI": "U.S. Virgin Islands", "AS": "American Samoa",
    "MP": "Northern Mariana Islands",
}  # fmt: skip

_DIGITS = re.compile(r"\D")


def _luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def npi_check_digit(first_nine: str) -> str:
    """The check digit that makes '80840' + first_nine + digit pass Luhn (for generating NPIs)."""
    for digit in "0123456789":
        if _luhn_valid("80840" + first_nine + digit):
            return digit
    raise ValueError(first_nine)


def is_valid_npi(value: str) -> bool:
    """An NPI is 10 digits whose last is a Luhn check digit over '80840' + the first nine."""
    return bool(re.fullmatch(r"\d{10}", value or "")) and _luhn_valid("80840" + value)


def validate_npi(value: str) -> None:
    text = str(value or "").strip()
    if not re.fullmatch(r"\d{10}", text):
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if text[0] not in "12":
        raise ValidationError(
            "An NPI starts with 1 (individual) or 2 (organization).", code="npi_prefix"
        )
    if not is_valid_npi(text):
        raise ValidationError(
            "This NPI fails its check digit: please check it for a typing error.", code="npi_check"
        )


def normalize_ein(value: str) -> str:
    """'12-3456789' form, checked against the IRS campus prefixes."""
    try:
        return str(stdnum_ein.format(stdnum_ein.validate(str(value or ""))))
    except StdnumError:
        raise ValidationError(
            "An EIN is 9 digits (12-3456789) with a prefix the IRS issues.", code="ein"
        ) from None


def validate_ein(value: str) -> None:
    normalize_ein(value)


def normalize_routing_number(value: str) -> str:
    """Nine digits of an ABA routing number with a valid checksum."""
    try:
        return str(stdnum_rtn.validate(str(value or "")))
    except StdnumError:
        raise ValidationError(
            "An ABA routing number is 9 digits with a valid checksum.", code="routing_number"
        ) from None


def validate_routing_number(value: str) -> None:
    normalize_routing_number(value)


def served_states() -> list[str]:
    """The states of the cooperative's service area (setting SERVICE_AREA_STATES)."""
    return [s.upper() for s in settings.SERVICE_AREA_STATES]


def validate_us_state(value: str) -> None:
    """Any US state or territory code (two letters)."""
    if str(value or "").upper() not in US_STATES:
        raise ValidationError(f"'{value}' is not a US state code.", code="state")


def validate_served_state(value: str) -> None:
    """A state the cooperative serves."""
    validate_us_state(value)
    code = str(value).upper()
    if code not in served_states():
        names = ", ".join(US_STATES[s] for s in served_states())
        raise ValidationError(
            f"The cooperative does not serve {US_STATES[code]} yet; it serves {names}.",
            code="state_not_served",
        )


def served_state_choices() -> list[tuple[str, str]]:
    return [(code, US_STATES[code]) for code in served_states()]


def normalize_zip(value: str) -> str:
    """'12345' or '12345-6789'."""
    text = str(value or "").strip()
    match = re.fullmatch(r"(\d{5})(?:[- ]?(\d{4}))?", text)
    if not match:
        raise ValidationError("A ZIP code is 5 digits, or 9 as 12345-6789.", code="zip")
    return match.group(1) + (f"-{match.group(2)}" if match.group(2) else "")


def validate_zip(value: str) -> None:
    normalize_zip(value)


_NAME_RE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ '’.\-])*$")
_MARKUP_RE = re.compile(r"[<>{}\\]|[\x00-\x1f]")


def validate_person_name(value: str) -> None:
    """Letters, spaces, apostrophes, hyphens and periods (José, O'Brien, Mary-Jane, St. John)."""
    if not _NAME_RE.match(str(value or "").strip()):
        raise ValidationError(
            "Use letters, spaces, apostrophes, hyphens and periods only.", code="person_name"
        )


def validate_no_markup(value: str) -> None:
    """Names of organizations and places: no markup or control characters."""
    if _MARKUP_RE.search(str(value or "")):
        raise ValidationError("Remove the characters < > { } \\ from this name.", code="markup")


def normalize_phone(value: str) -> str:
    """US numbers in any common format, or E.164, to E.164 ('+15125550123')."""
    text = str(value or "").strip()
    if text.startswith("+") and not text.startswith("+1"):
        digits = _DIGITS.sub("", text)
        if 8 <= len(digits) <= 15:
            return "+" + digits
        raise ValidationError("An international number has 8 to 15 digits.", code="phone")
    digits = _DIGITS.sub("", text)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    # NANP: area code and exchange start with 2-9.
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        raise ValidationError(
            "Enter a US phone number with area code, e.g. (512) 555-0123.", code="phone"
        )
    return "+1" + digits


def validate_phone(value: str) -> None:
    normalize_phone(value)


def format_phone(e164: str) -> str:
    """'+15125550123' -> '(512) 555-0123' for display; other numbers unchanged."""
    if re.fullmatch(r"\+1\d{10}", e164 or ""):
        d = e164[2:]
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    return e164


# DEA registrant types: the first letter of a DEA number (practitioners A, B, F, G; mid-levels M;
# distributors, manufacturers and others the rest).
DEA_FIRST_LETTERS = frozenset("ABCDEFGHJKLMPRSTUX")


def normalize_dea(value: str) -> str:
    """A DEA registration number: two letters and seven digits, the last a check digit.

    The check digit is the last digit of (d1 + d3 + d5) + 2 × (d2 + d4 + d6).
    """
    text = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z][A-Z9]\d{7}", text):
        raise ValidationError(
            "A DEA number is two letters and seven digits, e.g. AB1234563.", code="dea_format"
        )
    if text[0] not in DEA_FIRST_LETTERS:
        raise ValidationError(
            f"A DEA number cannot start with {text[0]} (not a DEA registrant type).",
            code="dea_type",
        )
    d = [int(c) for c in text[2:]]
    if (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 != d[6]:
        raise ValidationError(
            "This DEA number fails its check digit: please check it for a typing error.",
            code="dea_check",
        )
    return text


def validate_dea(value: str) -> None:
    normalize_dea(value)
