"""The NACHA ACH file of direct deposits: built to the format, and the validator catches what
a bank would refuse."""

import datetime
from decimal import Decimal

import pytest

from payouts.nacha import AchCredit, ach_file, ach_validate

CREDITS = [
    AchCredit("111000025", "123456789", Decimal("1234.56"), "121000015", "Bayou Family Care"),
    AchCredit("021000021", "000987654321", Decimal("75.00"), "121000016", "Cedar Health Cooperative PLLC"),
    AchCredit("111000025", "55501", Decimal("0.01"), "121000017", "Mesa Clinic"),
]  # fmt: skip


def build(credits=CREDITS):
    return ach_file(
        credits=credits, origin_routing="111000025", bank_name="Prairie Community Bank",
        company_name="CoopCare Cooperative", company_id="1990000001",
        effective_date=datetime.date(2026, 2, 27), created_at=datetime.datetime(2026, 2, 27, 9, 30),
        reference="202602",
    )  # fmt: skip


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
    assert batch[:75] == "5220COOPCARE COOPERA" + " " * 20 + "1990000001CCDPAYOUT    260227260227"
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
