"""The NACHA ACH file of direct deposits: built to the format, and the validator catches what
a bank would refuse."""

import datetime
from decimal import Decimal

import pytest

from cooperative.exceptions import ApplicationError
from payouts.nacha import AchCredit, ach_file, ach_validate, fit_words

CREDITS = [
    AchCredit("111000025", "123456789", Decimal("1234.56"), "121000015", "Bayou Family Care"),
    AchCredit("021000021", "000987654321", Decimal("75.00"), "121000016", "Cedar Health Cooperative PLLC"),
    AchCredit("111000025", "55501", Decimal("0.01"), "121000017", "Mesa Clinic"),
]  # fmt: skip


def build(credits=CREDITS, **overrides):
    return ach_file(**{
        "credits": credits, "origin_routing": "111000025", "bank_name": "Prairie Community Bank",
        "company_name": "CoopCare Cooperative", "company_id": "1990000001",
        "effective_date": datetime.date(2026, 2, 27), "created_at": datetime.datetime(2026, 2, 27, 9, 30),
        "reference": "202602",
    } | overrides)  # fmt: skip


def test_the_file_has_the_records_totals_hashes_and_blocking_of_the_format():
    text = build()
    records = text.split("\r\n")[:-1]
    assert text.endswith("\r\n")
    assert (
        len(records) == 10
    )  # header, batch header, 3 entries, batch control, file control, 3 fillers
    assert all(len(r) == 94 for r in records)
    header, batch, *entries_and_rest = records
    assert header[:40] == "101 1110000251990000001260227" + "0930A094101"
    assert header[40:86] == "PRAIRIE COMMUNITY BANK " + "COOPCARE COOPERATIVE   "
    # The company name is cut to 16 at a word boundary, never mid-word ("COOPCARE COOPERA").
    assert batch[:75] == "5220COOPCARE        " + " " * 20 + "1990000001CCDPAYOUT    260227260227"
    entries = entries_and_rest[:3]
    assert entries[0] == (
        "622111000025123456789        0000123456121000015      BAYOU FAMILY CARE       0111000020000001"
    )
    assert entries[1][29:39] == "0000007500"
    assert entries[1][54:76] == "CEDAR HEALTH COOPERATI"  # names cut at 22
    control = entries_and_rest[3]
    # entry hash: 11100002 + 02100002 + 11100002 = 24300006
    assert control[:44] == "8220000003" + "0024300006" + "000000000000" + "000000130957"
    file_control = entries_and_rest[4]
    assert (
        file_control[:55]
        == "9000001000001" + "00000003" + "0024300006" + "000000000000" + "000000130957"
    )
    assert entries_and_rest[5:] == ["9" * 94] * 3
    assert ach_validate(text) == []


@pytest.mark.parametrize(
    ("tamper", "error"),
    [
        (lambda r: r[:2] + [r[2][:29] + "0000999999" + r[2][39:]] + r[3:], "batch 1: control totals do not match the entries"),
        (lambda r: r[:2] + [r[2][:3] + "11100003" + r[2][11:]] + r[3:], "batch 1 entry 1: routing 111000035 fails its check digit"),
        (lambda r: r[:-1], "9 records are not blocked to 10"),
        (lambda r: [r[0][:-1]] + r[1:], "record 1 is 93 characters, not 94"),
        (lambda r: r[:2] + [r[3], r[2]] + r[4:], "batch 1 entry 1: trace number out of order"),
        (lambda r: r[:2] + ["623" + r[2][3:]] + r[3:], "batch 1 entry 1: transaction code 23 is not a credit or debit to checking or savings"),
        (lambda r: r[:2] + [r[2][:29] + "0000000000" + r[2][39:]] + r[3:], "batch 1 entry 1: amount is not above zero"),
        (lambda r: [r[0][:33] + "a" + r[0][34:]] + r[1:], "file ID modifier 'a' is not A-Z or 0-9"),
        (lambda r: [r[0][:4] + "111000024" + r[0][13:]] + r[1:], "the destination routing 111000024 fails its check digit"),
    ],
)  # fmt: skip
def test_the_validator_names_what_is_wrong(tamper, error):
    records = build().split("\r\n")[:-1]
    assert error in ach_validate("\r\n".join(tamper(records)) + "\r\n")


def test_a_file_needs_a_credit_and_amounts_in_cents():
    with pytest.raises(ValueError, match="at least one credit"):
        build([])
    with pytest.raises(ValueError, match="is not in cents"):
        build([AchCredit("111000025", "1", Decimal("1.005"), "1", "X")])


def test_savings_accounts_take_transaction_code_32_and_checking_22():
    text = build([
        AchCredit("111000025", "123456789", Decimal("10.00"), "1", "Checking Clinic"),
        AchCredit("123456780", "44001122", Decimal("20.00"), "2", "Savings Clinic", "savings"),
    ])  # fmt: skip
    entries = [r for r in text.split("\r\n") if r.startswith("6")]
    assert [(e[1:3], e[3:12], e[12:29].strip(), e[29:39]) for e in entries] == [
        ("22", "111000025", "123456789", "0000001000"),
        ("32", "123456780", "44001122", "0000002000"),
    ]
    assert ach_validate(text) == []


def test_the_file_id_modifier_is_in_the_header_and_must_be_a_letter_or_digit():
    assert build(file_id_modifier="C").split("\r\n")[0][33] == "C"
    assert build(file_id_modifier="7").split("\r\n")[0][33] == "7"
    with pytest.raises(ValueError, match="'a' is not a file ID modifier"):
        build(file_id_modifier="a")


def test_a_zero_entry_is_refused():
    with pytest.raises(ApplicationError) as error:
        build([*CREDITS, AchCredit("111000025", "1", Decimal("0.00"), "9", "Zero Clinic")])
    assert error.value.message == (
        "An ACH credit of $0.00 to Zero Clinic is refused: only amounts above zero are paid by "
        "direct deposit."
    )


@pytest.mark.parametrize(
    ("name", "width", "fitted"),
    [
        ("CoopCare Coop", 16, "COOPCARE COOP"),
        ("Gulf Coast Direct Primary Care", 16, "GULF COAST"),  # "GULF COAST DIRECT" is 17
        ("Gulf Coast Direct Primary Care", 23, "GULF COAST DIRECT"),
        ("  Sixteen  Chars  Exactly ", 16, "SIXTEEN CHARS"),
        ("ABCDEFGHIJKLMNOP", 16, "ABCDEFGHIJKLMNOP"),
    ],
)
def test_the_company_name_is_cut_only_at_a_word_boundary(name, width, fitted):
    assert fit_words(name, width) == fitted


def test_a_company_name_whose_first_word_is_too_long_is_refused_clearly():
    with pytest.raises(ApplicationError) as error:
        build(company_name="Cooperativecarecompany Houston")
    assert error.value.message == (
        "The ACH company name 'Cooperativecarecompany Houston' cannot be cut to 16 characters "
        "at a word boundary: set ACH_COMPANY_NAME to a short name of at most 16 characters."
    )
    with pytest.raises(ApplicationError, match="'\\(empty\\)' cannot be cut"):
        fit_words("   ", 16)
