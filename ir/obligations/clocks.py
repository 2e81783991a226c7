"""Deadline arithmetic: hours, calendar days, business days and months in local time.

A period counted in hours runs from the exact instant its clock started. A period counted
in days, business days or months follows the usual legal reading: the day the clock
starts is not counted, and the period ends at the end of its last day (23:59:59) in the
jurisdiction's local time, so a deadline that crosses a daylight-saving change still ends
at local midnight. Business days skip weekends and the public holidays of the
jurisdiction's calendar from the maintained ``holidays`` library.
"""

from __future__ import annotations

import calendar as _calendar
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    import holidays

UTC = dt.timezone.utc
_LAST_SECOND = dt.time(23, 59, 59)

Unit = Literal["hours", "days", "business_days", "months"]


@dataclass(frozen=True)
class Period:
    """A legal period.

    Attributes:
        unit: hours, calendar days, business days or calendar months.
        amount: how many.
        from_year_end: count from the end of the calendar year in which the clock started
            (HIPAA's annual log), instead of from the clock itself.
    """

    unit: Unit
    amount: int
    from_year_end: bool = False

    def text(self, calendar_code: str | None = None) -> str:
        """The period as a person reads it: ``72 hours``, ``4 business days (US holidays)``."""
        words = {"hours": "hour", "days": "calendar day", "business_days": "business day", "months": "month"}
        noun = words[self.unit] + ("" if self.amount == 1 else "s")
        text = f"{self.amount} {noun}"
        if self.unit == "business_days" and calendar_code:
            text += f" ({calendar_code} public holidays excluded)"
        return text


@lru_cache(maxsize=None)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``.

    Raises:
        ValueError: no such zone.
    """
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone '{name}' (use an IANA name such as Asia/Shanghai)") from None


@lru_cache(maxsize=None)
def holiday_calendar(code: str) -> holidays.HolidayBase:
    """The public-holiday calendar for ``code``: a country (``US``) or a subdivision (``US-CA``).

    Raises:
        ValueError: the ``holidays`` library has no such country or subdivision.
    """
    # Imported here: the library takes a third of a second to load, and most commands never
    # count business days.
    import holidays

    country, _, subdiv = code.partition("-")
    try:
        return holidays.country_holidays(country, subdiv=subdiv or None)
    except NotImplementedError:
        if subdiv and _has_country(country):
            problem = f"the holidays library has no {country} subdivision '{subdiv}'"
            raise ValueError(f"no holiday calendar for '{code}' ({problem})") from None
        raise ValueError(f"no holiday calendar for '{country}' (the holidays library has no such country)") from None


def _has_country(country: str) -> bool:
    import holidays

    try:
        holidays.country_holidays(country)
    except NotImplementedError:
        return False
    return True


def is_business_day(day: dt.date, calendar_code: str) -> bool:
    """Whether ``day`` is a working day in the calendar (not a weekend, not a public holiday)."""
    return bool(holiday_calendar(calendar_code).is_working_day(day))


def end_of_day(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The last second of ``day`` in ``tz``, as a UTC instant."""
    return dt.datetime.combine(day, _LAST_SECOND, tzinfo=tz).astimezone(UTC)


def local_date(instant: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar date of ``instant`` in ``tz``."""
    return instant.astimezone(tz).date()


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, or the month's last day if it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(day.day, _calendar.monthrange(year, month)[1]))


def add_business_days(day: dt.date, count: int, calendar_code: str) -> dt.date:
    """The ``count``-th business day after ``day`` (``day`` itself is not counted)."""
    current = day
    left = count
    while left > 0:
        current += dt.timedelta(days=1)
        if is_business_day(current, calendar_code):
            left -= 1
    return current


def due(start: dt.datetime, period: Period, tz: ZoneInfo, calendar_code: str) -> dt.datetime:
    """When ``period`` ends for a clock that started at ``start`` (an aware instant).

    Args:
        start: when the clock started.
        period: the legal period.
        tz: the jurisdiction's local time (where days begin and end).
        calendar_code: the holiday calendar for business days.
    """
    if period.unit == "hours" and not period.from_year_end:
        return (start + dt.timedelta(hours=period.amount)).astimezone(UTC)
    day = local_date(start, tz)
    if period.from_year_end:
        day = dt.date(day.year, 12, 31)
    if period.unit == "hours":
        # Only reached from a year end: hours after the end of 31 December.
        return end_of_day(day, tz) + dt.timedelta(seconds=1, hours=period.amount)
    if period.unit == "days":
        day += dt.timedelta(days=period.amount)
    elif period.unit == "business_days":
        day = add_business_days(day, period.amount, calendar_code)
    else:
        day = add_months(day, period.amount)
    return end_of_day(day, tz)
