"""Where each duty stands at a given moment: pending, overdue, met, late or waived. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from ir.clock import parse_instant
from ir.engine.report import duration_text

if TYPE_CHECKING:
    from ir.obligations.engine import Obligation

Status = Literal["pending", "overdue", "met", "late", "waived"]
STATUSES: tuple[Status, ...] = ("pending", "overdue", "met", "late", "waived")


@dataclass(frozen=True)
class Outcome:
    """What was done about a duty (from the record)."""

    fulfilled_at: str | None = None
    fulfilled_by: str | None = None
    note: str | None = None
    waived_reason: str | None = None
    waived_by: str | None = None
    waived_at: str | None = None


@dataclass(frozen=True)
class Tracked:
    """A duty of an incident with its status at ``now``.

    Attributes:
        status: ``pending`` (not done, not past due), ``overdue`` (not done, past the legal
            deadline), ``met`` (done by the deadline, or done where there is no fixed
            deadline), ``late`` (done after the deadline) or ``waived`` (a recorded decision
            not to notify, with its reason).
        remaining_seconds: time to the legal deadline (negative once overdue); None when the
            duty is done or waived, or has no legal deadline yet.
        past_target: not done and past the organisation's own target.
    """

    obligation: Obligation
    status: Status
    outcome: Outcome
    remaining_seconds: int | None
    past_target: bool

    @property
    def remaining_text(self) -> str | None:
        """Time left in words (``1d 3h 5m``, or ``overdue 2h 0m``)."""
        if self.remaining_seconds is None:
            return None
        if self.remaining_seconds < 0:
            return f"overdue {duration_text(-self.remaining_seconds)}"
        return duration_text(self.remaining_seconds)

    def as_dict(self) -> dict[str, Any]:
        """The obligation's fields plus its status, as JSON-ready data."""
        o = self.outcome
        return {
            **self.obligation.as_dict(),
            "status": self.status,
            "fulfilled_at": o.fulfilled_at,
            "fulfilled_by": o.fulfilled_by,
            "fulfil_note": o.note,
            "waived_reason": o.waived_reason,
            "waived_by": o.waived_by,
            "waived_at": o.waived_at,
            "remaining_seconds": self.remaining_seconds,
            "remaining_text": self.remaining_text,
            "past_target": self.past_target,
        }


@dataclass(frozen=True)
class NextDeadline:
    """The soonest deadline of an incident's open duties, for a countdown.

    Attributes:
        kind: ``legal`` (the law's deadline) or ``target`` (the organisation's own target
            for a duty with no fixed period).
        remaining_seconds: negative once passed.
    """

    rule: str
    recipient_name: str
    citation: str
    at: str
    kind: Literal["legal", "target"]
    remaining_seconds: int
    verified: bool

    @property
    def overdue(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining_seconds < 0


def track(obligation: Obligation, outcome: Outcome | None, now: dt.datetime) -> Tracked:
    """The status of ``obligation`` at ``now``, given what was done about it."""
    o = outcome or Outcome()
    due = parse_instant(obligation.due_at) if obligation.due_at else None
    if o.fulfilled_at is not None:
        late = due is not None and parse_instant(o.fulfilled_at) > due
        return Tracked(obligation, "late" if late else "met", o, None, False)
    if o.waived_reason is not None:
        return Tracked(obligation, "waived", o, None, False)
    remaining = int((due - now).total_seconds()) if due is not None else None
    status: Status = "overdue" if remaining is not None and remaining < 0 else "pending"
    target = parse_instant(obligation.target_at) if obligation.target_at else None
    return Tracked(obligation, status, o, remaining, target is not None and now > target)


def track_all(
    obligations: list[Obligation], outcomes: Mapping[str, Outcome], now: dt.datetime
) -> list[Tracked]:
    """Every duty's status at ``now``."""
    return [track(ob, outcomes.get(ob.rule), now) for ob in obligations]
