from datetime import UTC, date, datetime

import pytest

from cooperative.periods import Period, PeriodError


def test_parse_and_format():
    period = Period.parse("2026-10")
    assert period == Period(2026, 10)
    assert str(period) == "2026-10"
    assert period.label == "October 2026"


@pytest.mark.parametrize("raw", ["2026-13", "2026-00", "2026-1", "26-10", "2026/10", "", "October"])
def test_invalid_periods_say_why(raw):
    with pytest.raises(PeriodError) as error:
        Period.parse(raw)
    assert "2026-10" in str(error.value) or "Month must be 01-12" in str(error.value)


def test_first_and_last_day_including_leap_february():
    assert Period(2028, 2).first_day == date(2028, 2, 1)
    assert Period(2028, 2).last_day == date(2028, 2, 29)
    assert Period(2026, 2).last_day == date(2026, 2, 28)
    assert Period(2026, 12).last_day == date(2026, 12, 31)


def test_next_and_previous_cross_years():
    assert Period(2026, 12).next() == Period(2027, 1)
    assert Period(2027, 1).previous() == Period(2026, 12)
    assert Period(2026, 5).next().previous() == Period(2026, 5)


def test_period_of_a_utc_instant_is_read_in_chicago():
    # 2026-11-01 03:00 UTC is still October 31st, 22:00 in Chicago.
    assert Period.of(datetime(2026, 11, 1, 3, 0, tzinfo=UTC)) == Period(2026, 10)
    assert Period.of(datetime(2026, 11, 1, 6, 0, tzinfo=UTC)) == Period(2026, 11)


def test_naive_datetime_is_refused():
    with pytest.raises(PeriodError, match="naive"):
        Period.of(datetime(2026, 11, 1, 3, 0))


def test_bounds_are_aware_chicago_midnights():
    period = Period(2026, 10)
    assert period.starts_at.isoformat() == "2026-10-01T00:00:00-05:00"
    assert period.ends_at.isoformat() == "2026-11-01T00:00:00-05:00"
    assert period.contains(date(2026, 10, 31))
    assert not period.contains(date(2026, 11, 1))


def test_current_uses_the_given_instant():
    assert Period.current(datetime(2026, 11, 24, 12, tzinfo=UTC)) == Period(2026, 11)


def test_periods_order():
    assert sorted([Period(2026, 2), Period(2025, 12), Period(2026, 1)]) == [
        Period(2025, 12),
        Period(2026, 1),
        Period(2026, 2),
    ]
