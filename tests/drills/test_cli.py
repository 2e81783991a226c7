"""``ir drill`` through the real entry point: runs, control from other processes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ir.workspace import Workspace
from tests.conftest import REPO, IrRunner, ir_process
from tests.drills.helpers import MINI, write_scenario

SCRIPT = (
    "players: {security: li}\n"
    "responses:\n"
    "  - {at: \"+00:10\", done: record_report}\n"
    "  - {at: \"+00:20\", answer: breach_confirmed, value: yes, why: listing}\n"
    "  - {at: \"+00:30\", discuss: q1, text: The security lead.}\n"
)


def test_instant_run_with_a_script(ws: Workspace, ir: IrRunner, mini: Path, tmp_path: Path) -> None:
    ws.close()
    script = tmp_path / "responses.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    run = ir.ok("drill", "run", "mini", "--instant", "--script", str(script))

    lines = run.stdout.splitlines()
    assert lines[0] == "EXERCISE DRL-2026-0001: EXERCISE: Mini drill"
    assert "[EXERCISE] +00:00 INJECT first · email · Reporter → commander" in run.stdout
    assert "[EXERCISE] +00:10 tester: done: 'Record how the leak was reported' (record_report)" in run.stdout
    assert "[EXERCISE] +00:20 li: answered Has personal information" in run.stdout  # the security player
    assert lines[-2].startswith("EXERCISE DRL-2026-0001: ENDEX · score ")
    assert "DRL-2026-0001" not in ir.ok("incident", "list").stdout  # kept out of live lists
    assert "DRL-2026-0001 [EXERCISE]" in ir.ok("incident", "list", "--drills", "--all").stdout
    assert ir.ok("drill", "list", "--json").json()[0]["status"] == "ended"
    status = ir.ok("drill", "status", "DRL-2026-0001", "--json").json()
    assert status["state"] == "ended" and status["exercise"] is True and status["offset_text"] == "+06:00"
    scored = ir.ok("drill", "score", "DRL-2026-0001", "--json").json()
    log = ir.ok("incident", "log", "DRL-2026-0001", "--json", "--kind", "drill.scored").json()
    assert scored == log[0]["payload"]


def test_json_run_prints_only_json(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    ws.close()
    out = ir.ok("drill", "run", "mini", "--instant", "--json").json()
    assert out["state"] == "ended" and out["rating"] == "U"


def test_bad_requests_are_one_line_errors(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    ws.close()
    ir.ok("drill", "run", "mini", "--instant")
    cases = [
        (("drill", "run", "nope", "--instant"), "ir: error: no scenario 'nope' (available: "),
        (("drill", "run", "mini", "--instant", "--speed", "5"), "ir: error: give --speed or --instant, not both"),
        (("drill", "pause", "DRL-2026-0001"), "ir: error: DRL-2026-0001 has ended"),
        (("drill", "discuss", "DRL-2026-0001", "q9", "x"), "ir: error: scenario 'mini' has no discussion question 'q9'"),
        (("drill", "status", "INC-2026-0001"), "ir: error: no incident 'INC-2026-0001'"),
        (("drill", "run", "mini", "--speed", "5"), "ir: error: IR_NOW freezes the clock"),
        (("drill", "run", "mini", "--instant", "--player", "ciso=kim"), "ir: error: unknown role 'ciso' in players"),
    ]
    for args, message in cases:
        run = ir(*args, now="2026-11-20T09:00:00+08:00") if "--speed" in args and "--instant" not in args else ir(*args)
        assert run.exit_code == 2, (args, run.stdout, run.stderr)
        assert run.stderr.startswith(message), (args, run.stderr)
        assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_invalid_scenario_errors_name_file_line_and_field(ws: Workspace, ir: IrRunner) -> None:
    write_scenario(ws, MINI.replace("to: security, title: Bucket public", "to: ciso, title: Bucket public")
                   .replace('at: "+05:00"', 'at: "5 hours"'), name="broken")
    ws.close()
    run = ir("drill", "validate")
    assert run.exit_code == 2
    assert "ir: error: scenarios/broken.yaml:" in run.stderr or "broken.yaml:" in run.stderr
    assert "injects[6].at: '5 hours' is not an offset" in run.stderr
    assert "ok: " in run.stdout  # the shipped scenarios still validate
    started = ir("drill", "run", "broken", "--instant")
    assert started.exit_code == 2 and "broken.yaml" in started.stderr
    assert ir.ok("drill", "list", "--json").json() == []


def test_scenarios_lists_shipped_and_workspace_scenarios(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    ws.close()
    ids = {s["id"] for s in ir.ok("drill", "scenarios", "--json").json()}
    assert {"mini", "customer-db-ransom", "open-bucket-reporter", "insider-selling-records",
            "lost-laptop-unencrypted", "vendor-breach-support-desk"} <= ids


def test_rebuild_and_verify_after_drills(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    ws.close()
    ir.ok("drill", "run", "mini", "--instant")
    ir.ok("drill", "run", "mini", "--instant")
    ir.ok("audit", "verify")
    assert "rebuilt projections" in ir.ok("admin", "rebuild").stdout
    ir.ok("admin", "rebuild", "DRL-2026-0002")


def _ir(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return ir_process(*args, db=db)


def test_paced_drill_controlled_from_other_processes(ws: Workspace, db_path: Path, mini: Path) -> None:
    ws.close()
    env = {**os.environ, "IR_ACTOR": "facilitator", "IR_LANG": "en"}
    controller = subprocess.Popen(
        [sys.executable, "-m", "ir", "--db", str(db_path), "drill", "run", "mini", "--speed", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not json.loads(_ir(db_path, "drill", "list", "--json").stdout or "[]"):
            time.sleep(0.1)
        assert _ir(db_path, "drill", "pause", "DRL-2026-0001").returncode == 0
        frozen = json.loads(_ir(db_path, "drill", "status", "DRL-2026-0001", "--json").stdout)
        done = json.loads(_ir(db_path, "incident", "done", "DRL-2026-0001", "record_report", "--json").stdout)[0]
        assert done["at"] == frozen["now"]  # a player elsewhere is stamped in (paused) scenario time
        time.sleep(1.0)
        assert json.loads(_ir(db_path, "drill", "status", "DRL-2026-0001", "--json").stdout)["offset"] == frozen["offset"]
        assert _ir(db_path, "drill", "resume", "DRL-2026-0001").returncode == 0
        assert _ir(db_path, "drill", "speed", "DRL-2026-0001", "40000").returncode == 0
        out, err = controller.communicate(timeout=60)
    finally:
        if controller.poll() is None:
            controller.kill()
    assert controller.returncode == 0, err
    for text in ("exercise paused at", "exercise resumed at", "exercise speed 600x → 40000x", "ENDEX at +06:00"):
        assert text in out
    log = json.loads(_ir(db_path, "incident", "log", "DRL-2026-0001", "--json").stdout)
    injects = [e["payload"]["inject"] for e in log if e["kind"].startswith("inject.")]
    assert sorted(injects) == sorted(set(injects)) and len(injects) == 7  # each inject exactly once
    delivered = {e["payload"]["inject"]: e["at"] for e in log if e["kind"] == "inject.delivered"}
    assert delivered["ticket"] == "2026-11-20T02:00:00.000Z"  # at its time despite pause and speed change


def test_exercise_control_commands(ws: Workspace, ir: IrRunner, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=60).id  # wall 2026-11-20T01:00Z is STARTEX
    ws.close()
    at = "2026-11-20T01:01:00Z"  # one wall minute later: +01:00
    status = ir.ok("drill", "status", drill, now=at).stdout
    assert status.startswith(f"EXERCISE — {drill}: EXERCISE: Mini drill")
    assert "running · 60x · scenario time +01:00 of +06:00" in status
    assert "next inject: nudge at +01:30, in 30 s: Confirm it" in status
    assert ir.ok("drill", "pause", drill, now=at).stdout.splitlines()[-1] == f"{drill} #5 [EXERCISE]: exercise paused at +01:00"
    skipped = ir.ok("drill", "skip", drill, now=at).stdout
    assert f"[EXERCISE]: exercise skipped ahead +01:00 → +01:30 (next inject nudge)" in skipped
    assert "[EXERCISE]: inject nudge (phone) from CISO to commander: Confirm it" in skipped
    ir.ok("drill", "discuss", drill, "q1", "The", "security", "lead.", now=at)
    ir.ok("drill", "hotwash", drill, "Paused", "for", "a", "fire", "drill.", now=at)
    ended = ir.ok("drill", "end", drill, "--reason", "out of time", now=at).stdout.splitlines()
    assert ended[0].endswith("[EXERCISE]: EXERCISE ENDEX at +01:30: out of time")
    assert "scored" in ended[1]
    log = ir.ok("incident", "log", drill, "--json").json()
    assert [e["payload"].get("answer") or e["payload"].get("text") for e in log if e["kind"] in ("discussion.answered", "hotwash.note")] == [
        "The security lead.", "Paused for a fire drill."
    ]
