"""The after-action report: overview, ratings, timeline, decisions, discussion, hot wash, plan."""

from __future__ import annotations

from pathlib import Path

from ir.drills.report import render_report
from ir.drills.runner import run_instant
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.drills.helpers import DETECT_TASKS, at

H = 3600


def played(ws: Workspace) -> str:
    drill = ws.drills.start("mini", speed=None, players={"security": "li", "dpo": "wang"})
    ws.drills.advance_to(drill.id, 600)
    for task in DETECT_TASKS:
        at(ws, drill.id, 600, "li").complete_task(drill.id, task)
    ws.drills.advance_to(drill.id, 1.5 * H)
    at(ws, drill.id, 1.5 * H, "li").answer(drill.id, "breach_confirmed", "yes", rationale="listing | shows names")
    ws.drills.discuss(drill.id, "q1", "The security lead decides.", actor="chen")
    run_instant(ws.drills, drill.id)
    ws.drills.hotwash(drill.id, "Strength: <b>quick</b> bridge; improve: confirmation was late.", actor="facilitator")
    return drill.id


def test_markdown_report_has_every_section(ws: Workspace, mini: Path) -> None:
    drill = played(ws)
    text = render_report(ws.drills, drill, "md")

    assert text.startswith("> **EXERCISE — EXERCISE — EXERCISE.**") and text.rstrip().endswith("**EXERCISE — EXERCISE — EXERCISE.**")
    for heading in ("## Exercise overview", "## Objectives and ratings", "## Strengths", "## Areas for improvement",
                    "## Timeline: injects and the team's actions", "## Decision log", "## Discussion", "## Hot wash",
                    "## Improvement plan"):
        assert heading in text
    assert "| Triage | Detection | **S** — Performed with some challenges | 83.3 |" in text
    assert "| Contain | Containment | **U** — Unable to be performed | 0 |" in text
    assert "| +00:00 | first · email · Reporter → commander: First report |  |  |" in text
    assert "| +00:10 |  | done: 'Record how the leak was reported' (record_report) | li |" in text
    assert "| +02:00 | (closed_news skipped: condition not met: task stop_exposure done) |  |  |" in text
    assert "| +01:30 | li | Has personal information been, or may it have been, leaked, altered or lost? | yes | listing \\| shows names |" in text
    assert "  - chen: The security lead decides." in text
    assert "facilitator: Strength: <b>quick</b> bridge" in text  # Markdown is not HTML-escaped
    assert f"| `{drill}:contained` | Contain | Move to containment: missed by +03:00 |" in text
    assert "| li |" in text  # owner of the containment gap: the security player


def test_html_report_escapes_what_people_typed(ws: Workspace, mini: Path) -> None:
    drill = played(ws)
    html = render_report(ws.drills, drill, "html")
    assert html.startswith("<!DOCTYPE html>") and html.count("EXERCISE — EXERCISE — EXERCISE") == 2
    assert "&lt;b&gt;quick&lt;/b&gt;" in html and "<b>quick</b>" not in html
    assert '<td class="rating">S — Performed with some challenges</td>' in html


def test_report_of_a_running_drill_is_provisional(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    ws.drills.advance_to(drill.id, 0)
    text = render_report(ws.drills, drill.id, "md")
    assert "*Provisional: the drill has not reached ENDEX" in text
    assert "Raised at ENDEX from the expectations missed or met late." in text


def test_report_command_writes_a_file(ws: Workspace, ir: IrRunner, mini: Path, tmp_path: Path) -> None:
    drill = played(ws)
    ws.close()
    out = tmp_path / "aar.html"
    assert ir.ok("drill", "report", drill, "--format", "html", "--out", str(out)).stdout.strip() == f"wrote {out}"
    assert "After-action report" in out.read_text(encoding="utf-8")
    assert "## Improvement plan" in ir.ok("drill", "report", drill).stdout
    missing = ir("drill", "report", "DRL-2026-0999")
    assert missing.exit_code == 2 and missing.stderr.startswith("ir: error: no incident 'DRL-2026-0999'")
