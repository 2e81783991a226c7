"""Drill time: scenario time computed from the drill's persisted clock state.

Scenario time is modelled explicitly: an anchor (a scenario offset and the wall-clock
instant it was taken) moves whenever the drill is started, paused, resumed, sped up or
skipped ahead, and between anchors scenario time runs at ``speed`` times the wall clock,
or not at all while paused. A pause therefore never adds to an inject's offset, and a long
pause never makes injects fire at once on resume. Every process computes the same time from
the same row, so players acting from any terminal are stamped in scenario time.

A drill with no speed is *stepped*: its time moves only when its controller records an
event (``ir drill run --instant``), so another terminal acting meanwhile is stamped at the
latest event's time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ir.clock import Clock, as_utc, parse_instant
from ir.drills.offsets import instant_at, offset_between

if TYPE_CHECKING:
    from ir.engine.state import IncidentState
    from ir.workspace import Workspace


@dataclass(frozen=True)
class ClockState:
    """A drill's clock as persisted in the ``drills`` projection.

    Attributes:
        start: the scenario's STARTEX instant.
        length: seconds from STARTEX to ENDEX; scenario time stops there.
        speed: scenario seconds per wall second; None for a stepped drill.
        status: running, paused or ended.
        anchor_offset: scenario offset (s) at the last anchor.
        anchor_wall: wall-clock instant of the last anchor.
    """

    start: dt.datetime
    length: float
    speed: float | None
    status: str
    anchor_offset: float
    anchor_wall: dt.datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ClockState:
        """Build from a ``drills`` row."""
        return cls(
            start=parse_instant(row["start"]),
            length=float(row["duration_s"]),
            speed=row["speed"],
            status=row["status"],
            anchor_offset=row["anchor_offset_ms"] / 1000.0,
            anchor_wall=parse_instant(row["anchor_wall"]),
        )

    @property
    def running(self) -> bool:
        """Whether scenario time advances with the wall clock."""
        return self.status == "running" and self.speed is not None

    def offset(self, wall_now: dt.datetime, floor: float = 0.0) -> float:
        """Scenario offset at wall instant ``wall_now``, never behind ``floor`` (the latest event)."""
        offset = self.anchor_offset
        if self.running:
            elapsed = max(0.0, (as_utc(wall_now) - self.anchor_wall).total_seconds())
            offset += elapsed * (self.speed or 0.0)
        return round(max(min(offset, self.length), floor), 3)

    def wall_seconds_until(self, target: float, wall_now: dt.datetime) -> float | None:
        """Wall seconds until scenario offset ``target`` (None if time is not running)."""
        if not self.running or not self.speed:
            return None
        return max(0.0, (target - self.offset(wall_now)) / self.speed)


class DrillClock:
    """The clock of one drill: scenario time from its state and the wall clock.

    Args:
        state: the drill's clock state.
        wall: the wall clock.
        floor: scenario offset of the incident's latest event.
    """

    def __init__(self, state: ClockState, wall: Clock, floor: float = 0.0) -> None:
        self.state = state
        self.wall = wall
        self.floor = floor

    def offset(self) -> float:
        """The current scenario offset (seconds from STARTEX)."""
        return self.state.offset(self.wall.now(), self.floor)

    def now(self) -> dt.datetime:
        """The current scenario instant."""
        return instant_at(self.state.start, self.offset())


def floor_of(start: dt.datetime, updated_at: str) -> float:
    """Scenario offset of an incident's latest event."""
    return max(0.0, offset_between(start, parse_instant(updated_at)))


def recorded_clock(ws: Workspace, state: IncidentState) -> DrillClock | None:
    """A drill's scenario clock as its run's record says (None if it has no run).

    Reading it needs only the store: listing drills (the dashboard at launch) does not import
    the rest of the drills capability.
    """
    from ir.store import drills as drilldb

    with ws.store.read() as conn:
        row = drilldb.get_drill(conn, state.id)
    if row is None:
        return None
    cs = ClockState.from_row(row)
    return DrillClock(cs, ws.clock, floor_of(cs.start, state.updated_at))
