"""Deadline arithmetic: hours, calendar and business days, months, local midnight and DST."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ir.obligations import clocks
from ir.obligations.clocks import Period, due, holiday_calendar, is_business_day, zone

UTC = dt.timezone.utc


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("start", "period", "tz", "calendar", "expected"),
    [
        # 72 hours run from the instant, straight through the EU's autumn clock change.
        ("2026-10-24T10:00:00+02:00", Period("hours", 72), "Europe/Brussels", "EU", "2026-10-27T08:00:00+00:00"),
        # 30 days end at local midnight; the deadline falls after the US autumn change (PST).
        ("2026-10-15T12:00:00-07:00", Period("days", 30), "America/Los_Angeles", "US-CA", "2026-11-15T07:59:59+00:00"),
        # ... and before it, when the deadline is still in summer time (PDT).
        ("2026-09-15T12:00:00-07:00", Period("days", 30), "America/Los_Angeles", "US-CA", "2026-10-16T06:59:59+00:00"),
        # Spring forward: a deadline in summer time from a start in winter time.
        ("2026-02-20T09:00:00-05:00", Period("days", 30), "America/New_York", "US", "2026-03-23T03:59:59+00:00"),
        # The day is the local day: 23:30 in Los Angeles is already the next day in UTC.
        ("2026-11-19T23:30:00-08:00", Period("days", 1), "America/Los_Angeles", "US-CA", "2026-11-21T07:59:59+00:00"),
        # Business days skip Thanksgiving (Thu 2026-11-26): Wed, Fri, Mon, Tue.
        ("2026-11-24T15:00:00-05:00", Period("business_days", 4), "America/New_York", "US", "2026-12-02T04:59:59+00:00"),
        # The observed Independence Day (Fri 2026-07-03) is not a business day either.
        ("2026-07-01T10:00:00-04:00", Period("business_days", 2), "America/New_York", "US", "2026-07-07T03:59:59+00:00"),
        # Brazil: Tiradentes (Tue 2026-04-21) is skipped; Mon, Wed, Thu.
        ("2026-04-17T10:00:00-03:00", Period("business_days", 3), "America/Sao_Paulo", "BR", "2026-04-24T02:59:59+00:00"),
        # A start on a weekend counts from the next business day.
        ("2026-11-21T10:00:00-05:00", Period("business_days", 1), "America/New_York", "US", "2026-11-24T04:59:59+00:00"),
        # One month: the same date next month, or the month's last day.
        ("2027-01-31T10:00:00+01:00", Period("months", 1), "Europe/Brussels", "EU", "2027-02-28T22:59:59+00:00"),
        ("2028-01-31T10:00:00+01:00", Period("months", 1), "Europe/Brussels", "EU", "2028-02-29T22:59:59+00:00"),
        ("2026-03-15T10:00:00+01:00", Period("months", 1), "Europe/Brussels", "EU", "2026-04-15T21:59:59+00:00"),
        # 60 days after the end of the calendar year (HIPAA's annual log): 1 March 2027.
        ("2026-11-20T10:00:00-05:00", Period("days", 60, from_year_end=True), "America/New_York", "US", "2027-03-02T04:59:59+00:00"),
    ],
)
def test_due(start: str, period: Period, tz: str, calendar: str, expected: str) -> None:
    assert due(at(start), period, zone(tz), calendar) == at(expected)


def test_business_days_use_the_subdivisions_calendar() -> None:
    cesar_chavez = dt.date(2026, 3, 31)  # a California state holiday, a Tuesday
    assert not is_business_day(cesar_chavez, "US-CA")
    assert is_business_day(cesar_chavez, "US")
    assert not is_business_day(dt.date(2026, 11, 26), "US")  # Thanksgiving
    assert not is_business_day(dt.date(2026, 11, 28), "US")  # Saturday


@pytest.mark.parametrize(
    ("code", "problem"),
    [("XX", "no holiday calendar for 'XX'"), ("US-ZZ", "has no US subdivision 'ZZ'"), ("ZZ-AA", "no holiday calendar for 'ZZ' ")],
)
def test_unknown_calendars_are_refused(code: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        holiday_calendar(code)


def test_unknown_time_zones_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        zone("Mars/Olympus")


# No per-example deadline: the first example pays for loading time zones and holiday data.
@settings(deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 12, 31), timezones=st.just(UTC)),
    days=st.integers(min_value=0, max_value=400),
    tz=st.sampled_from(["America/Los_Angeles", "Europe/London", "Asia/Shanghai", "Australia/Sydney", "America/Sao_Paulo"]),
)
def test_day_periods_end_at_local_midnight_exactly_n_days_later(start: dt.datetime, days: int, tz: str) -> None:
    zone_ = zone(tz)
    end = due(start, Period("days", days), zone_, "US").astimezone(zone_)
    assert (end.hour, end.minute, end.second) == (23, 59, 59)
    assert (end.date() - start.astimezone(zone_).date()).days == days
    assert end > start


@settings(deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2022, 1, 1), max_value=dt.datetime(2030, 12, 31), timezones=st.just(UTC)),
    count=st.integers(min_value=1, max_value=30),
)
def test_business_day_periods_end_on_a_business_day_with_exactly_n_before_it(start: dt.datetime, count: int) -> None:
    tz = zone("America/New_York")
    end = due(start, Period("business_days", count), tz, "US").astimezone(tz).date()
    first = start.astimezone(tz).date()
    assert is_business_day(end, "US")
    between = [first + dt.timedelta(days=n) for n in range(1, (end - first).days + 1)]
    assert sum(is_business_day(d, "US") for d in between) == count


def test_add_months_clamps_to_the_months_last_day() -> None:
    assert clocks.add_months(dt.date(2026, 8, 31), 1) == dt.date(2026, 9, 30)
    assert clocks.add_months(dt.date(2026, 12, 15), 1) == dt.date(2027, 1, 15)
