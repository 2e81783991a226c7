"""Headless runs: every shipped scenario with its script, determinism, speed, script errors."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest

from ir.clock import VirtualClock
from ir.content.paths import shipped_dir
from ir.drills.runner import ScriptFailed, run_instant
from ir.drills.script import load_script
from ir.errors import ContentErrors
from ir.workspace import Workspace
from tests.conftest import START
from tests.drills.helpers import MINI, terminal_events, write_scenario

SHIPPED = sorted(p.stem for p in shipped_dir("scenarios").glob("*.yaml"))


def run_shipped(ws: Workspace, scenario_id: str) -> str:
    scenario, pb = ws.drills.scenarios.get(scenario_id)
    path = ws.drills.scenarios.script_for(scenario_id)
    assert path is not None, f"{scenario_id} ships without a response script"
    script = load_script(path, scenario, pb)
    drill = ws.drills.start(scenario_id, speed=None, players=dict(script.script.players))
    run_instant(ws.drills, drill.id, script)
    return drill.id


def test_at_least_five_scenarios_ship_covering_the_kinds_of_leak() -> None:
    assert len(SHIPPED) >= 5
    assert {"customer-db-ransom", "open-bucket-reporter", "insider-selling-records", "lost-laptop-unencrypted",
            "vendor-breach-support-desk"} <= set(SHIPPED)


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_shipped_scenario_is_a_real_exercise(ws: Workspace, scenario_id: str) -> None:
    scenario, pb = ws.drills.scenarios.get(scenario_id)
    assert len(scenario.injects) >= 8
    assert any(i.when for i in scenario.injects), "no branching"
    assert any(c.kind == "missed" for i in scenario.injects for c in i.when), "no contingency inject"
    for inj in scenario.injects:
        for text in (inj.title, inj.text, inj.sender):
            assert {"en", "zh-CN"} <= set(text), f"{scenario_id}:{inj.id} is not in English and Chinese"
    assert scenario.playbook == pb.id and len(scenario.objectives) >= 3


@pytest.mark.parametrize("scenario_id", SHIPPED)
def test_shipped_scenario_runs_end_to_end_with_its_script(ws: Workspace, scenario_id: str) -> None:
    drill = run_shipped(ws, scenario_id)

    status = ws.drills.status(drill)
    assert status.state == "ended" and status.phase == "closed"
    assert all(len(kinds) == 1 for kinds in terminal_events(ws, drill).values())
    assert {i["status"] for i in status.injects} <= {"delivered", "skipped", "expired"}
    assert status.score is not None and status.rating in ("P", "S", "M", "U")
    assert all(e["status"] in ("met", "late", "missed") for e in status.expectations)  # nothing left n/a


def _log(ws: Workspace, incident_id: str) -> list[tuple[Any, ...]]:
    return [(e.seq, e.at, e.actor, e.kind, e.payload) for e in ws.incidents.timeline(incident_id)]


def test_same_scenario_and_script_give_the_same_log_and_score(tmp_path: Path) -> None:
    logs, scores, walls = [], [], []
    for n, wall in enumerate((START, START + dt.timedelta(days=40, hours=7))):
        with Workspace(tmp_path / f"run{n}.db", clock=VirtualClock(wall), actor="facilitator", lang="en") as ws:
            drill = run_shipped(ws, "customer-db-ransom")
            logs.append(_log(ws, drill))
            scores.append(ws.drills.score(drill).payload())
            walls.append({e.recorded_at for e in ws.incidents.timeline(drill)})
    assert logs[0] == logs[1]
    assert scores[0] == scores[1]
    assert walls[0].isdisjoint(walls[1])  # only the wall-clock stamps differ


def test_the_longest_scenario_replays_in_under_two_seconds(ws: Workspace) -> None:
    longest = max(SHIPPED, key=lambda s: ws.drills.scenarios.get(s)[0].length)
    scenario, pb = ws.drills.scenarios.get(longest)
    assert scenario.length >= 72 * 3600
    script = load_script(ws.drills.scenarios.script_for(longest), scenario, pb)  # type: ignore[arg-type]
    drill = ws.drills.start(longest, speed=None, players=dict(script.script.players))
    began = time.perf_counter()
    run_instant(ws.drills, drill.id, script)
    assert time.perf_counter() - began < 2.0


def _problems(ws: Workspace, path: Path, text: str) -> list[str]:
    path.write_text(text, encoding="utf-8")
    scenario, pb = ws.drills.scenarios.get("mini")
    with pytest.raises(ContentErrors) as caught:
        load_script(path, scenario, pb, path.name)
    return [str(e) for e in caught.value.errors]


def test_a_script_is_checked_before_anything_runs(ws: Workspace, tmp_path: Path) -> None:
    write_scenario(ws)
    shape = _problems(ws, tmp_path / "shape.yaml", (
        "scenario: mini\nresponses:\n"
        "  - {at: \"+00:20\", answer: aware_at}\n"
        "  - {at: \"+00:30\", done: open_bridge, fire: dismiss}\n"
        "  - {at: \"soon\", note: hello}\n"
    ))
    assert shape[0] == "shape.yaml:3: responses[0]: 'answer' needs 'value'"
    assert shape[1].startswith("shape.yaml:4: responses[1]: a response does exactly one of:")
    assert shape[2].startswith("shape.yaml:5: responses[2].at: 'soon' is not an offset")

    refs = _problems(ws, tmp_path / "refs.yaml", (
        "scenario: mini\nplayers: {ciso: kim}\nresponses:\n"
        "  - {at: \"+00:10\", done: record_reprot}\n"
        "  - {at: \"+09:00\", note: too late}\n"
        "  - {at: \"+00:20\", record: made.up, payload: {}}\n"
    ))
    assert refs[0].startswith("refs.yaml:2: players.ciso: unknown role 'ciso'")
    assert refs[1].startswith("refs.yaml:4: responses[0].done: unknown task 'record_reprot'")
    assert refs[2] == "refs.yaml:5: responses[1].at: +09:00 is after ENDEX (+06:00)"
    assert refs[3] == "refs.yaml:6: responses[2].record: no capability in this installation records 'made.up' events"
    assert ws.drills.list() == []


def test_a_refused_scripted_action_names_the_line_and_ends_the_drill(ws: Workspace, tmp_path: Path) -> None:
    write_scenario(ws)
    script_path = tmp_path / "early.yaml"
    script_path.write_text("responses:\n  - {at: \"+00:10\", done: record_report}\n  - {at: \"+00:20\", fire: start_containment}\n", encoding="utf-8")
    scenario, pb = ws.drills.scenarios.get("mini")
    script = load_script(script_path, scenario, pb, "early.yaml")
    drill = ws.drills.start("mini", speed=None)
    with pytest.raises(ScriptFailed, match=r"^early.yaml:3: responses\[1\]: fire refused: .*start_containment"):
        run_instant(ws.drills, drill.id, script)
    status = ws.drills.status(drill.id)
    assert status.state == "ended" and "script error at early.yaml:3" in (status.ended_reason or "")
    assert all(len(k) == 1 for k in terminal_events(ws, drill.id).values())


def test_scripted_players_act_in_their_roles(ws: Workspace, tmp_path: Path) -> None:
    write_scenario(ws, MINI)
    path = tmp_path / "cast.yaml"
    path.write_text(
        "players: {security: li, dpo: wang}\nresponses:\n"
        "  - {at: \"+00:10\", done: preserve_first_evidence}\n"
        "  - {at: \"+00:20\", answer: aware_at, value: now}\n"
        "  - {at: \"+00:30\", note: bridge is open, as: zhou}\n"
        "  - {at: \"+00:40\", hotwash: good start}\n",
        encoding="utf-8",
    )
    scenario, pb = ws.drills.scenarios.get("mini")
    script = load_script(path, scenario, pb)
    drill = ws.drills.start("mini", speed=None, players=dict(script.script.players))
    run_instant(ws.drills, drill.id, script)
    actors = {e.kind: e.actor for e in ws.incidents.timeline(drill.id) if e.kind in ("task.done", "decision.answered", "note.added", "hotwash.note")}
    assert actors == {"task.done": "li", "decision.answered": "wang", "note.added": "zhou", "hotwash.note": "alice"}
    answered = ws.incidents.timeline(drill.id, kinds=["decision.answered"])[0]
    assert answered.payload["value"] == "2026-11-20T01:20:00Z" == answered.at.replace(".000", "")
