"""Drills under SIGKILL: a headless run or the scheduler's catch-up killed anywhere.

Each run is the real ``ir`` command in its own process, killed with SIGKILL either at a
random moment or just before its Nth event is appended (mid-transaction, or between two
transactions). Afterwards the workspace opens, every chain verifies, the projections rebuild
identically, no inject is settled twice, and the facilitator can do what they would expect:
a second headless run of the scenario is refused while the interrupted one is unfinished,
``ir drill end`` ends it (settling every inject exactly once), and the scenario runs again.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from ir.clock import VirtualClock
from ir.workspace import Workspace
from tests.conftest import REPO, IrRunner

SCENARIO = "open-bucket-reporter"
SCRIPT = str(REPO / "scenarios" / "responses" / f"{SCENARIO}.yaml")
RUN = ["drill", "run", SCENARIO, "--instant", "--script", SCRIPT]

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    import ir.store.events as events

    # Kill this process just before its Nth event is appended (0: never; then print the count).
    target, count, real = int(sys.argv[1]), 0, events.append

    def append(*args, **kwargs):
        global count
        count += 1
        if count == target:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)

    events.append = append
    if target == 0:
        import atexit
        atexit.register(lambda: print(f"appended {count}", file=sys.stderr))
    from ir.cli import main
    main(sys.argv[2:])
    """
)


def _env(now: str | None = None) -> dict[str, str]:
    env = {**os.environ, "IR_ACTOR": "tester", "IR_LANG": "en"}
    if now:
        env["IR_NOW"] = now
    return env


def killed_at(n: int, db: Path, *args: str, now: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``ir ARGS`` in its own process, SIGKILLed just before its ``n``th event append."""
    return subprocess.run(
        [sys.executable, "-c", KILLER, str(n), "--db", str(db), *args],
        capture_output=True, text=True, env=_env(now), cwd=REPO, timeout=120,
    )


def killed_after(seconds: float, db: Path, *args: str) -> None:
    """Run ``ir ARGS`` in its own process and SIGKILL it after ``seconds`` (if still running)."""
    proc = subprocess.Popen([sys.executable, "-m", "ir", "--db", str(db), *args], cwd=REPO, env=_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def appends(tmp_path_factory: pytest.TempPathFactory) -> int:
    """How many events a whole scripted run appends (the range of kill points)."""
    db = tmp_path_factory.mktemp("count") / "ws.db"
    result = killed_at(0, db, *RUN)
    assert result.returncode == 0, result.stderr
    return int(result.stderr.strip().splitlines()[-1].split()[-1])


def settled(ws: Workspace, incident_id: str) -> dict[str, list[str]]:
    """Inject id -> the inject.* events recorded for it."""
    out: dict[str, list[str]] = {}
    for ev in ws.incidents.timeline(incident_id):
        if ev.kind.startswith("inject."):
            out.setdefault(ev.payload["inject"], []).append(ev.kind)
    return out


def consistent(db: Path, ir: IrRunner) -> list[dict[str, Any]]:
    """The workspace after a crash: opens, verifies, rebuilds identically, nothing settled twice."""
    ws = Workspace(db)
    try:
        report = ws.audit.verify()
        assert report.ok, report.problems
        drills = ws.drills.list()
        for d in drills:
            counts = settled(ws, d["incident_id"])
            assert all(len(kinds) == 1 for kinds in counts.values()), counts
            states = ws.drills.inject_states(d["incident_id"])
            assert states == {k: kinds[0].split(".")[1] for k, kinds in counts.items()}  # projection = log
    finally:
        ws.close()
    assert ir("audit", "verify").exit_code == 0
    rebuilt = ir("admin", "rebuild", "--check")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    return drills


def facilitator_recovers(db: Path, ir: IrRunner, drills: list[dict[str, Any]], scenario_injects: int) -> None:
    """What a facilitator does next: end the interrupted run, then run the scenario again."""
    unfinished = [d["incident_id"] for d in drills if d["status"] != "ended"]
    assert len(unfinished) <= 1
    for ident in unfinished:
        again = ir(*RUN)
        assert again.exit_code == 2, again.stdout
        assert again.stderr.strip() == (
            f"ir: error: {ident} is an unfinished headless run of scenario '{SCENARIO}' "
            f"(interrupted, or running now); end it first with: ir drill end {ident}"
        )
        began = time.monotonic()
        control = ir("drill", "control", ident)
        assert control.exit_code == 2 and "end it with: ir drill end" in control.stderr
        assert time.monotonic() - began < 10  # refused, not a control loop waiting forever
        ended = ir("drill", "end", ident, "--reason", "runner was killed")
        assert ended.exit_code == 0, ended.stderr
    ws = Workspace(db)
    try:
        for d in ws.drills.list():
            assert d["status"] == "ended"
            counts = settled(ws, d["incident_id"])
            assert len(counts) == scenario_injects and all(len(k) == 1 for k in counts.values()), counts
    finally:
        ws.close()
    rerun = ir(*RUN)
    assert rerun.exit_code == 0, rerun.stderr
    consistent(db, ir)


@pytest.fixture(scope="module")
def injects(tmp_path_factory: pytest.TempPathFactory) -> int:
    """How many injects the scenario has (each must end settled exactly once)."""
    ws = Workspace(tmp_path_factory.mktemp("scenario") / "ws.db")
    try:
        return len(ws.drills.scenarios.get(SCENARIO)[0].injects)
    finally:
        ws.close()


@pytest.mark.parametrize("seed", range(5))
def test_sigkill_before_a_random_event_of_a_headless_run(db_path: Path, ir: IrRunner, appends: int, injects: int, seed: int) -> None:
    n = random.Random(seed).randint(1, appends)
    result = killed_at(n, db_path, *RUN)
    assert result.returncode == -signal.SIGKILL, (n, result.returncode, result.stderr)
    facilitator_recovers(db_path, ir, consistent(db_path, ir), injects)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_sigkill_while_the_drill_opens(db_path: Path, ir: IrRunner, injects: int, n: int) -> None:
    # incident.opened and drill.started commit together: never an incident without its clock.
    killed_at(n, db_path, *RUN)
    drills = consistent(db_path, ir)
    ws = Workspace(db_path)
    try:
        assert len(ws.incidents.list(mode=None, include_closed=True)) == len(drills)
    finally:
        ws.close()
    facilitator_recovers(db_path, ir, drills, injects)


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_at_a_random_moment_of_a_headless_run(db_path: Path, ir: IrRunner, injects: int, seed: int) -> None:
    killed_after(random.Random(seed).uniform(0.5, 3.0), db_path, *RUN)
    facilitator_recovers(db_path, ir, consistent(db_path, ir), injects)


# --------------------------------------------------------------------------- the scheduler

DUE = "2026-11-20T10:00:00.000Z"
NOW = "2026-11-20T10:30:00Z"


def _schedule(db: Path) -> None:
    ws = Workspace(db, clock=VirtualClock(dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)), actor="planner")
    try:
        # Hourly, so catch-up at 10:30 finds the 09:00 occurrence missed and runs 10:00 late.
        ws.drills.schedules.add(SCENARIO, "0 * * * *", participants={"commander": "chen"}, speed=60.0,
                                schedule_id="hourly", grace=dt.timedelta(minutes=45))
    finally:
        ws.close()


@pytest.mark.parametrize("n", range(1, 6))
def test_sigkill_during_scheduler_catch_up_never_runs_a_drill_twice_or_loses_it(db_path: Path, ir: IrRunner, n: int) -> None:
    _schedule(db_path)
    killed_at(n, db_path, "scheduler", "--once", now=NOW)
    consistent(db_path, ir)
    restarted = subprocess.run([sys.executable, "-m", "ir", "--db", str(db_path), "scheduler", "--once"],
                               capture_output=True, text=True, env=_env(NOW), cwd=REPO, timeout=120)
    assert restarted.returncode == 0, restarted.stderr
    consistent(db_path, ir)
    ws = Workspace(db_path)
    try:
        runs = ws.drills.schedules.runs("hourly")
        drills = [d for d in ws.drills.list() if d["schedule_id"] == "hourly"]
    finally:
        ws.close()
    # Exactly one drill for the 10:00 occurrence (started after the restart if the kill came
    # first), recorded as run late; 09:00 recorded as missed; nothing twice.
    assert [(d["schedule_due"]) for d in drills] == [DUE]
    assert [(r["due"], r["status"]) for r in runs] == [("2026-11-20T09:00:00.000Z", "missed"), (DUE, "ran_late")]
