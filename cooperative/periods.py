"""Periods: a dues or payout period is a calendar month ('2026-10') in the cooperative's time zone."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django.utils import timezone

COOPERATIVE_TZ = ZoneInfo("America/Chicago")
_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A string that is not a calendar month in the form YYYY-MM."""


@dataclass(frozen=True, order=True)
class Period:
    """One calendar month, e.g. Period(2026, 10) == Period.parse('2026-10')."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise PeriodError(f"Month must be 01-12, got {self.month:02d}.")
        if not 1900 <= self.year <= 9998:
            raise PeriodError(f"Year must be between 1900 and 9998, got {self.year}.")

    @classmethod
    def parse(cls, value: str) -> Period:
        """'2026-10' -> Period(2026, 10); anything else raises PeriodError saying why."""
        match = _PERIOD_RE.match(str(value).strip())
        if not match:
            raise PeriodError(f"'{value}' is not a period: use the form YYYY-MM, e.g. 2026-10.")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date | datetime) -> Period:
        """The period containing a date, or an aware datetime (read in America/Chicago)."""
        if isinstance(day, datetime):
            if timezone.is_naive(day):
                raise PeriodError("A naive datetime has no period: give it a time zone.")
            day = day.astimezone(COOPERATIVE_TZ).date()
        return cls(day.year, day.month)

    @classmethod
    def current(cls, now: datetime | None = None) -> Period:
        """This month in the cooperative's time zone."""
        return cls.of(now or timezone.now())

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        """'October 2026'."""
        return f"{calendar.month_name[self.month]} {self.year}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def next(self) -> Period:
        return Period(self.year + 1, 1) if self.month == 12 else Period(self.year, self.month + 1)

    def previous(self) -> Period:
        return Period(self.year - 1, 12) if self.month == 1 else Period(self.year, self.month - 1)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    @property
    def starts_at(self) -> datetime:
        """Midnight of the first day in America/Chicago (aware)."""
        return datetime.combine(self.first_day, time.min, tzinfo=COOPERATIVE_TZ)

    @property
    def ends_at(self) -> datetime:
        """Midnight of the first day of the next period (exclusive end, aware)."""
        return self.next().starts_at


def add_business_days(start: date, days: int) -> date:
    """The date `days` business days (Monday to Friday) after `start`."""
    current = start
    remaining = days
    while remaining > 0:
        current = date.fromordinal(current.toordinal() + 1)
        if current.weekday() < 5:
            remaining -= 1
    return current


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end` (negative when end is earlier)."""
    if end < start:
        return -business_days_between(end, start)
    count = 0
    current = start
    while current < end:
        current = date.fromordinal(current.toordinal() + 1)
        if current.weekday() < 5:
            count += 1
    return count
