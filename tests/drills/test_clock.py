"""Drill time: speed, pause, resume, speed changes and skips, seen from every terminal.

The wall clock is virtual; a second Workspace on the same file plays the other terminal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from ir.clock import VirtualClock, parse_instant
from ir.drills.runner import control
from ir.errors import InvalidInput, Refused
from ir.workspace import Workspace
from tests.drills.helpers import minutes, offsets, states, terminal_events

H = 3600


@pytest.fixture
def other(db_path: Path, clock: VirtualClock, ws: Workspace) -> Iterator[Workspace]:
    """Another terminal on the same workspace file (and the same wall clock)."""
    workspace = Workspace(db_path, clock=clock, actor="bob", lang="en")
    yield workspace
    workspace.close()


def scenario_offset(ws: Workspace, incident_id: str) -> float:
    return ws.drills.status(incident_id).offset


def test_scenario_time_runs_at_speed_and_players_elsewhere_are_stamped_in_it(
    ws: Workspace, other: Workspace, clock: VirtualClock, mini: Path
) -> None:
    drill = ws.drills.start("mini", speed=6)  # ten wall minutes are an hour of scenario
    clock.advance(minutes(10))
    event = other.incidents.complete_task(drill.id, "record_report")[0]

    assert parse_instant(event.at) == parse_instant("2026-11-20T02:00:00Z")
    assert event.actor == "bob"
    assert scenario_offset(other, drill.id) == H


def test_pause_freezes_scenario_time_and_resume_does_not_jump(
    ws: Workspace, other: Workspace, clock: VirtualClock, mini: Path
) -> None:
    drill = ws.drills.start("mini", speed=6)
    clock.advance(minutes(5))
    other.drills.pause(drill.id)
    clock.advance(minutes(600))  # a long lunch
    assert scenario_offset(ws, drill.id) == 0.5 * H
    assert ws.drills.deliver_due(drill.id) == []  # nothing piles up while paused
    note = other.incidents.note(drill.id, "while paused")[0]
    assert parse_instant(note.at) == parse_instant("2026-11-20T01:30:00Z")

    other.drills.resume(drill.id)
    clock.advance(minutes(5))
    delivered = ws.drills.deliver_due(drill.id)

    assert [e.payload["inject"] for e in delivered] == ["ticket"]
    assert ("ticket", H) in offsets(ws, drill.id, "inject.delivered")  # on time, not late by the pause
    assert ws.drills.deliver_due(drill.id) == []


def test_speed_change_keeps_scenario_time_continuous(ws: Workspace, other: Workspace, clock: VirtualClock, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=6)
    clock.advance(minutes(5))
    other.drills.set_speed(drill.id, 60)
    assert scenario_offset(ws, drill.id) == 0.5 * H
    clock.advance(minutes(1))
    assert scenario_offset(ws, drill.id) == 1.5 * H
    with pytest.raises(Refused, match="already runs at 60x"):
        ws.drills.set_speed(drill.id, 60)
    with pytest.raises(InvalidInput, match="speed 0"):
        ws.drills.set_speed(drill.id, 0)


def test_skip_jumps_to_the_next_inject_and_delivers_it_once(ws: Workspace, other: Workspace, clock: VirtualClock, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=1)
    ws.drills.pause(drill.id)
    skipped = other.drills.skip_to_next(drill.id)

    assert [e.kind for e in skipped] == ["drill.advanced", "inject.delivered"]  # pausing delivered the first
    assert scenario_offset(ws, drill.id) == H
    assert ws.drills.status(drill.id).state == "paused"
    other.drills.skip_to_next(drill.id)  # to +01:30: the contingency, the breach was not confirmed
    assert [(i, o) for i, o in offsets(ws, drill.id, "inject.delivered")] == [("first", 0), ("ticket", H), ("nudge", 1.5 * H)]
    assert all(len(k) == 1 for k in terminal_events(ws, drill.id).values())


def test_state_lives_in_the_workspace_not_the_process(db_path: Path, clock: VirtualClock, ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=12)
    clock.advance(minutes(10))
    ws.close()
    with Workspace(db_path, clock=clock, actor="carol") as again:
        assert again.drills.status(drill.id).offset == 2 * H
        assert again.drills.status(drill.id).next_inject["id"] == "last"  # not yet due; earlier ones await delivery


def test_controller_picks_up_pause_and_resume_from_another_terminal(
    ws: Workspace, other: Workspace, clock: VirtualClock, mini: Path
) -> None:
    drill = ws.drills.start("mini", speed=60)  # an hour a minute
    seen: list[str] = []
    script = {1.0: lambda: other.drills.pause(drill.id), 30.0: lambda: other.drills.resume(drill.id)}
    elapsed = [0.0]

    def sleep(seconds: float) -> None:
        clock.advance(dt.timedelta(seconds=seconds))
        elapsed[0] += seconds
        for when in sorted(script):
            if elapsed[0] >= when:
                script.pop(when)()

    control(ws.drills, drill.id, sink=lambda e: seen.append(e.kind), sleep=sleep, poll=0.5)

    status = ws.drills.status(drill.id)
    assert status.state == "ended" and status.ended_reason == "ENDEX: scenario time is over"
    assert {"drill.paused", "drill.resumed", "drill.ended"} <= set(seen)
    due = {"first": 0, "ticket": H, "nudge": 1.5 * H, "open_news": 2 * H, "last": 5 * H}
    assert dict(offsets(ws, drill.id, "inject.delivered")) == due  # each at its time: never late, twice or never
    assert all(len(k) == 1 for k in terminal_events(ws, drill.id).values())
    assert states(ws, drill.id)["after_contain"] == "expired"
    assert elapsed[0] == pytest.approx(6 * 60 + 29, abs=1.5)  # six scenario hours plus the pause


def test_stepped_drill_stamps_other_terminals_at_its_latest_event(ws: Workspace, other: Workspace, clock: VirtualClock, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    ws.drills.advance_to(drill.id, H)
    clock.advance(minutes(600))
    event = other.incidents.complete_task(drill.id, "record_report")[0]
    assert parse_instant(event.at) == parse_instant("2026-11-20T02:00:00Z")
    with pytest.raises(Refused, match="stepped drill"):
        other.drills.pause(drill.id)
