"""Each incident's soonest unmet deadline, read without loading the rules or the evaluator.

A dashboard lists a thousand incidents with their countdowns as it starts; what it needs
is in the store (each open duty's due time), so this reads it there, leaving the rule
books, the facts vocabulary and the deadline clocks unloaded until a duty is evaluated.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from ir.clock import parse_instant
from ir.obligations.status import NextDeadline
from ir.store import obligations as obligationdb

if TYPE_CHECKING:
    from ir.engine.state import IncidentState
    from ir.workspace import Workspace


def next_deadlines(ws: Workspace, states: list[IncidentState]) -> dict[str, NextDeadline]:
    """The soonest open duty of each incident in ``states`` (incidents with none are left
    out), in one query; each countdown runs on its incident's own clock (a drill's
    scenario time)."""
    with ws.store.read() as conn:
        soonest = obligationdb.soonest_open_duties(conn, [s.id for s in states])
    out: dict[str, NextDeadline] = {}
    for state in states:
        duty = soonest.get(state.id)
        if duty is None:
            continue
        at = duty["due_at"] if duty["legal"] else duty["target_at"]
        remaining = int((parse_instant(at) - ws.clock_for(state).now()).total_seconds())
        kind: Literal["legal", "target"] = "legal" if duty["legal"] else "target"
        out[state.id] = NextDeadline(
            duty["rule"], duty["recipient_name"], duty["citation"], at, kind, remaining, duty["verified"]
        )
    return out
