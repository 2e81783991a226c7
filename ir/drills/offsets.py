"""Scenario time offsets: ``+01:30`` (1 h 30 min) and ``+2d04:00`` (2 days 4 hours) from STARTEX."""

from __future__ import annotations

import datetime as dt
import re

from ir.clock import as_utc

_OFFSET = re.compile(r"^\+?(?:(?P<d>\d{1,3})d)?(?:(?P<h>\d{1,4}):(?P<m>[0-5]\d)(?::(?P<s>[0-5]\d))?)?$")

MAX_OFFSET = 366 * 86400
"""Longest scenario accepted: a year of scenario time."""


def parse_offset(text: str) -> int:
    """Seconds from the scenario start for an offset such as ``+01:30`` or ``+2d04:00``.

    Raises:
        ValueError: the text is not an offset (the message shows the accepted forms).
    """
    if not isinstance(text, str):
        raise ValueError(f"expected an offset such as '+01:30' or '+2d04:00', not {text!r}")
    match = _OFFSET.match(text.strip())
    if not match or not any(match.group(g) for g in ("d", "h")):
        raise ValueError(f"'{text}' is not an offset such as '+01:30', '+72:00' or '+2d04:00'")
    days, hours, minutes, seconds = (int(match.group(g) or 0) for g in ("d", "h", "m", "s"))
    total = ((days * 24 + hours) * 60 + minutes) * 60 + seconds
    if total > MAX_OFFSET:
        raise ValueError(f"'{text}' is beyond a year of scenario time")
    return total


def format_offset(seconds: float) -> str:
    """Write seconds from the start as an offset: ``+01:30``, ``+2d04:00`` or ``+00:00:45``."""
    whole = int(round(seconds))
    days, rest = divmod(max(0, whole), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"+{days}d" if days else "+"
    text += f"{hours:02d}:{minutes:02d}"
    return text + (f":{secs:02d}" if secs else "")


def offset_between(start: dt.datetime, instant: dt.datetime) -> float:
    """Seconds of scenario time from ``start`` to ``instant`` (to the millisecond)."""
    return round((as_utc(instant) - as_utc(start)).total_seconds(), 3)


def instant_at(start: dt.datetime, seconds: float) -> dt.datetime:
    """The instant ``seconds`` of scenario time after ``start``."""
    return as_utc(start) + dt.timedelta(milliseconds=round(seconds * 1000))
