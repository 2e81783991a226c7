"""Injected time: the core never reads the wall clock itself.

Live incidents use :class:`SystemClock`; drills and tests use :class:`VirtualClock`.
All instants are timezone-aware UTC ``datetime`` values.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.timezone.utc


class Clock(Protocol):
    """Anything that can tell the current instant."""

    def now(self) -> dt.datetime:
        """Return the current instant as an aware UTC datetime."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        """Return the wall-clock time in UTC."""
        return dt.datetime.now(UTC)


class VirtualClock:
    """A clock that only moves when told to: for drills and tests.

    Args:
        start: the initial instant (aware; converted to UTC).
    """

    def __init__(self, start: dt.datetime) -> None:
        self._now = as_utc(start)

    def now(self) -> dt.datetime:
        """Return the virtual instant."""
        return self._now

    def set(self, instant: dt.datetime) -> None:
        """Jump to ``instant``; time never moves backwards."""
        instant = as_utc(instant)
        if instant < self._now:
            raise ValueError(f"virtual clock cannot go back from {self._now} to {instant}")
        self._now = instant

    def advance(self, delta: dt.timedelta) -> None:
        """Move forward by ``delta``."""
        self.set(self._now + delta)


def as_utc(instant: dt.datetime) -> dt.datetime:
    """Convert an aware datetime to UTC; refuse naive ones (they hide a time-zone bug)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"datetime {instant.isoformat()} has no UTC offset")
    return instant.astimezone(UTC)


def format_instant(instant: dt.datetime) -> str:
    """Format an event time: UTC, fixed millisecond precision, so text order is time order."""
    u = as_utc(instant)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}"
        f".{u.microsecond // 1000:03d}Z"
    )


def format_fact_time(instant: dt.datetime) -> str:
    """Format a user-facing instant (a fact such as ``aware_at``): UTC to the second."""
    return as_utc(instant).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_instant(text: str) -> dt.datetime:
    """Parse an ISO 8601 instant that carries a UTC offset (``Z`` or ``+08:00``).

    Raises:
        ValueError: the text is not ISO 8601 or has no offset.
    """
    value = dt.datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        raise ValueError(f"'{text}' has no UTC offset (write e.g. {text.strip()}+08:00 or ...Z)")
    return value.astimezone(UTC)
