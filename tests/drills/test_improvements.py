"""The improvement plan across drills: gaps raise items, later drills retest them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.clock import VirtualClock
from ir.drills.runner import run_instant
from ir.errors import InvalidInput, NotFound, Refused
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.drills.helpers import DETECT_TASKS, at


def idle_drill(ws: Workspace, **players: str) -> str:
    drill = ws.drills.start("mini", speed=None, players=players)
    run_instant(ws.drills, drill.id)
    return drill.id


def good_drill(ws: Workspace) -> str:
    drill = ws.drills.start("mini", speed=None)
    for n, task in enumerate(DETECT_TASKS):
        at(ws, drill.id, 60 * (n + 1)).complete_task(drill.id, task)
    at(ws, drill.id, 600).answer(drill.id, "aware_at", "now")
    at(ws, drill.id, 700).answer(drill.id, "breach_confirmed", "yes")
    at(ws, drill.id, 800).fire(drill.id, "start_containment")
    run_instant(ws.drills, drill.id)
    return drill.id


def by_expectation(ws: Workspace) -> dict[str, dict[str, object]]:
    return {i["expectation_id"]: i for i in ws.drills.improvements(scenario_id="mini")}


def test_gaps_become_items_with_owner_and_due_date(ws: Workspace, mini: Path) -> None:
    drill = idle_drill(ws, security="li")
    items = by_expectation(ws)

    assert set(items) == {"reported", "confirmed", "contained"}
    contained = items["contained"]
    assert contained["item"] == f"{drill}:contained" and contained["origin"] == drill
    assert contained["owner"] == "li"  # the expectation's owner role, as played in the drill
    assert contained["due"] == "2026-12-20"  # thirty days after the wall-clock day it was scored
    assert (contained["status"], contained["result"], contained["retests"]) == ("open", "missed", 0)
    assert items["reported"]["owner"] == "alice"  # no owner role given: the incident commander


def test_a_later_drill_retests_each_item(ws: Workspace, clock: VirtualClock, mini: Path) -> None:
    first = idle_drill(ws)
    second = good_drill(ws)
    after_fix = by_expectation(ws)
    assert {k: (v["status"], v["last_result"], v["last_retest"]) for k, v in after_fix.items()} == {
        "reported": ("verified", "fixed", second), "confirmed": ("verified", "fixed", second),
        "contained": ("verified", "fixed", second),
    }
    assert all(v["origin"] == first for v in after_fix.values())

    third = idle_drill(ws)  # the gaps come back: reopened, not raised again
    again = by_expectation(ws)
    assert {v["status"] for v in again.values()} == {"open"}
    assert {v["retests"] for v in again.values()} == {2} and {v["last_retest"] for v in again.values()} == {third}
    assert len(ws.drills.improvements()) == 3


def test_people_update_items_but_only_a_retest_verifies(ws: Workspace, mini: Path) -> None:
    drill = idle_drill(ws)
    item = f"{drill}:contained"
    ws.drills.update_improvement(item, owner="li", due="2027-01-15", status="done", note="runbook written")
    updated = by_expectation(ws)["contained"]
    assert (updated["owner"], updated["due"], updated["status"], updated["note"]) == ("li", "2027-01-15", "done", "runbook written")
    assert ws.incidents.timeline(drill, kinds=["improvement.updated"])[0].actor == "alice"

    with pytest.raises(InvalidInput, match="a retest verifies"):
        ws.drills.update_improvement(item, status="verified")
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        ws.drills.update_improvement(item, due="next week")
    with pytest.raises(Refused, match="nothing to change"):
        ws.drills.update_improvement(item, owner="li")
    with pytest.raises(NotFound):
        ws.drills.update_improvement("DRL-2026-9999:nope", owner="x")

    good_drill(ws)
    assert by_expectation(ws)["contained"]["status"] == "verified"


def test_improvements_on_the_command_line(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    drill = idle_drill(ws)
    ws.close()
    listing = ir.ok("drill", "improvements").stdout
    assert f"{drill}:contained" in listing and "not retested yet" in listing
    ir.ok("drill", "improvements", "update", f"{drill}:contained", "--status", "done", "--owner", "li")
    rows = ir.ok("drill", "improvements", "--json").json()
    assert {r["expectation_id"]: r["status"] for r in rows}["contained"] == "done"
    bad = ir("drill", "improvements", "update", f"{drill}:contained", "--due", "soon")
    assert bad.exit_code == 2 and bad.stderr.strip() == "ir: error: due date 'soon' is not YYYY-MM-DD"
