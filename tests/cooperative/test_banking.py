"""Banking days: weekdays less the Federal Reserve holidays, with the Fed's own observance rule
(a Sunday holiday closes the Monday; a Saturday holiday closes nothing extra)."""

from datetime import date

import pytest

from cooperative.banking import banking_days_after, federal_reserve_holidays, is_banking_day

D = date


def test_2026_every_holiday_on_its_rule():
    assert federal_reserve_holidays(2026) == {
        D(2026, 1, 1): "New Year's Day",  # a Thursday
        D(2026, 1, 19): "Birthday of Martin Luther King, Jr.",  # third Monday of January
        D(2026, 2, 16): "Washington's Birthday",  # third Monday of February
        D(2026, 5, 25): "Memorial Day",  # last Monday of May
        D(2026, 6, 19): "Juneteenth National Independence Day",  # a Friday
        # July 4 is a Saturday: the Fed does not close on Friday July 3.
        D(2026, 9, 7): "Labor Day",  # first Monday of September
        D(2026, 10, 12): "Columbus Day",  # second Monday of October
        D(2026, 11, 11): "Veterans Day",  # a Wednesday
        D(2026, 11, 26): "Thanksgiving Day",  # fourth Thursday of November
        D(2026, 12, 25): "Christmas Day",  # a Friday
    }


def test_2027_a_sunday_holiday_moves_to_monday_and_saturday_ones_close_nothing():
    assert federal_reserve_holidays(2027) == {
        D(2027, 1, 1): "New Year's Day",
        D(2027, 1, 18): "Birthday of Martin Luther King, Jr.",
        D(2027, 2, 15): "Washington's Birthday",
        D(2027, 5, 31): "Memorial Day",  # May has five Mondays: the last one
        # Juneteenth is a Saturday (June 19): nothing closes.
        D(2027, 7, 5): "Independence Day (observed)",  # July 4 is a Sunday
        D(2027, 9, 6): "Labor Day",
        D(2027, 10, 11): "Columbus Day",
        D(2027, 11, 11): "Veterans Day",
        D(2027, 11, 25): "Thanksgiving Day",
        # Christmas is a Saturday: Friday December 24 is a banking day.
    }
    assert is_banking_day(D(2027, 12, 24))
    assert is_banking_day(D(2027, 6, 18))


def test_2028_new_year_and_veterans_day_on_saturdays():
    assert federal_reserve_holidays(2028) == {
        # January 1 is a Saturday: Friday December 31, 2027 stays open.
        D(2028, 1, 17): "Birthday of Martin Luther King, Jr.",
        D(2028, 2, 21): "Washington's Birthday",
        D(2028, 5, 29): "Memorial Day",
        D(2028, 6, 19): "Juneteenth National Independence Day",  # a Monday
        D(2028, 7, 4): "Independence Day",  # a Tuesday
        D(2028, 9, 4): "Labor Day",
        D(2028, 10, 9): "Columbus Day",
        # November 11 is a Saturday: Friday November 10 stays open.
        D(2028, 11, 23): "Thanksgiving Day",
        D(2028, 12, 25): "Christmas Day",  # a Monday
    }
    assert is_banking_day(D(2027, 12, 31))
    assert is_banking_day(D(2028, 11, 10))


def test_juneteenth_is_a_holiday_only_from_2021():
    assert D(2020, 6, 19) not in federal_reserve_holidays(2020)
    assert D(2021, 6, 18) not in federal_reserve_holidays(2021)  # Saturday: not moved
    assert D(2023, 6, 19) in federal_reserve_holidays(2023)


@pytest.mark.parametrize(
    ("day", "count", "expected"),
    [
        (D(2026, 2, 27), 1, D(2026, 3, 2)),  # Friday -> Monday
        (D(2026, 2, 26), 1, D(2026, 2, 27)),  # Thursday -> Friday
        (D(2026, 2, 28), 1, D(2026, 3, 2)),  # Saturday -> Monday
        (D(2026, 2, 27), 2, D(2026, 3, 3)),
        (D(2026, 12, 24), 1, D(2026, 12, 28)),  # Christmas Friday, then the weekend
        (D(2026, 11, 25), 1, D(2026, 11, 27)),  # over Thanksgiving
        (D(2027, 7, 2), 1, D(2027, 7, 6)),  # over the observed Monday July 5
        (D(2026, 12, 31), 1, D(2027, 1, 4)),  # New Year's Day Friday, then the weekend
        (D(2026, 1, 17), 0, D(2026, 1, 20)),  # Saturday, 0: the next banking day (MLK Monday)
        (D(2026, 1, 20), 0, D(2026, 1, 20)),
    ],
)
def test_banking_days_after_skip_weekends_and_holidays(day, count, expected):
    assert banking_days_after(day, count) == expected


def test_banking_days_are_counted_forward():
    with pytest.raises(ValueError, match="Banking days are counted forward, not -1."):
        banking_days_after(D(2026, 3, 2), -1)
