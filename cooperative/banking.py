"""Banking days: the days the Federal Reserve settles ACH entries (Monday to Friday, less the
Federal Reserve holidays).

The Fed's own rule differs from the federal government's: a holiday on a Sunday is observed
the Monday after, but a holiday on a Saturday is *not* moved to the Friday before (the banks
are open that Friday). Holidays are computed, never listed by hand, so every year is known."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

JUNETEENTH_FIRST_YEAR = 2021  # made a federal holiday in June 2021


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday = 0) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year, month, 28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


@cache
def federal_reserve_holidays(year: int) -> dict[date, str]:
    """The days the Federal Reserve is closed in `year` because of a holiday (the observed
    days: a Sunday holiday closes the Monday; a Saturday holiday closes nothing extra)."""
    fixed = [
        (date(year, 1, 1), "New Year's Day"),
        (date(year, 7, 4), "Independence Day"),
        (date(year, 11, 11), "Veterans Day"),
        (date(year, 12, 25), "Christmas Day"),
    ]
    if year >= JUNETEENTH_FIRST_YEAR:
        fixed.append((date(year, 6, 19), "Juneteenth National Independence Day"))
    moving = [
        (_nth_weekday(year, 1, 0, 3), "Birthday of Martin Luther King, Jr."),
        (_nth_weekday(year, 2, 0, 3), "Washington's Birthday"),
        (_nth_weekday(year, 5, 0, -1), "Memorial Day"),
        (_nth_weekday(year, 9, 0, 1), "Labor Day"),
        (_nth_weekday(year, 10, 0, 2), "Columbus Day"),
        (_nth_weekday(year, 11, 3, 4), "Thanksgiving Day"),
    ]
    closed: dict[date, str] = {}
    for day, name in fixed:
        if day.weekday() == 6:  # Sunday: observed Monday
            closed[day + timedelta(days=1)] = f"{name} (observed)"
        elif day.weekday() < 5:  # a Saturday holiday is not moved to Friday by the Fed
            closed[day] = name
    closed.update(moving)
    return dict(sorted(closed.items()))


def is_banking_day(day: date) -> bool:
    """Monday to Friday and not a Federal Reserve holiday."""
    return day.weekday() < 5 and day not in federal_reserve_holidays(day.year)


def banking_days_after(day: date, count: int) -> date:
    """The `count`-th banking day after `day` (count 0: `day` itself if it is a banking day,
    else the next one)."""
    if count < 0:
        raise ValueError(f"Banking days are counted forward, not {count}.")
    current = day
    if count == 0:
        while not is_banking_day(current):
            current += timedelta(days=1)
        return current
    for _ in range(count):
        current += timedelta(days=1)
        while not is_banking_day(current):
            current += timedelta(days=1)
    return current
