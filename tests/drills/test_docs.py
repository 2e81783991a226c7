"""docs/scenarios.md: its complete example validates and runs with its response script."""

from __future__ import annotations

import re
from pathlib import Path

from ir.drills.runner import run_instant
from ir.drills.script import load_script
from ir.workspace import Workspace
from tests.conftest import REPO
from tests.drills.helpers import terminal_events, write_scenario

DOC = REPO / "docs" / "scenarios.md"


def yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_documented_scenario_runs_with_the_documented_script(ws: Workspace, tmp_path: Path) -> None:
    scenario_text, script_text = yaml_blocks()[:2]
    write_scenario(ws, scenario_text, name="public-share")
    script_path = tmp_path / "public-share.responses.yaml"
    script_path.write_text(script_text, encoding="utf-8")
    scenario, pb = ws.drills.scenarios.get("public-share")
    script = load_script(script_path, scenario, pb)

    drill = ws.drills.start("public-share", speed=None, players=dict(script.script.players))
    run_instant(ws.drills, drill.id, script)

    status = ws.drills.status(drill.id)
    assert status.state == "ended"
    assert {i["id"]: i["status"] for i in status.injects} == {
        "report": "delivered", "still_open": "skipped", "regulator": "delivered", "wrap_up": "delivered"
    }
    assert {e["id"]: e["status"] for e in status.expectations} == {
        "link_closed": "met", "in_containment": "met", "confirmed": "met", "cac": "met"
    }
    assert (status.score, status.rating) == (100.0, "P")
    assert all(len(k) == 1 for k in terminal_events(ws, drill.id).values())
