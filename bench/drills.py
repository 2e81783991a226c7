"""Drill replay speed: the longest shipped scenario played with --instant and its script.

The issue's target is a 72-hour scenario replayed in under 2 seconds. Prints, for every shipped
scenario, the replay time of the runner (median of several runs, each in a fresh workspace)
and the events it recorded; then the whole command `ir drill run SCENARIO --instant --script
...` for the longest one, as a user runs it (a new process: start-up included). The baseline,
measured in the same run, is the rate of bare durable SQLite commits on the same disk: each
replay is also given as the number of such commits it costs.

    .venv/bin/python bench/drills.py            # 5 runs per scenario
    .venv/bin/python bench/drills.py --quick    # 1 run per scenario
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ir.clock import VirtualClock
from ir.content.paths import shipped_dir
from ir.drills.runner import run_instant
from ir.drills.script import load_script
from ir.workspace import Workspace

from engine import bare_commit_rate  # bench/ is the script's folder, first on sys.path

REPO = Path(__file__).resolve().parent.parent
START = dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc)


def replay(folder: Path, scenario_id: str, n: int) -> tuple[float, int, int]:
    """Median seconds of run_instant over ``n`` fresh workspaces; events and hours of scenario."""
    times, events, hours = [], 0, 0
    for i in range(n):
        with Workspace(folder / f"{scenario_id}-{i}.db", clock=VirtualClock(START), actor="bench") as ws:
            scenario, pb = ws.drills.scenarios.get(scenario_id)
            path = ws.drills.scenarios.script_for(scenario_id)
            script = load_script(path, scenario, pb) if path else None
            drill = ws.drills.start(scenario_id, speed=None, players=dict(script.script.players) if script else {})
            began = time.perf_counter()
            run_instant(ws.drills, drill.id, script)
            times.append(time.perf_counter() - began)
            events = len(ws.incidents.timeline(drill.id))
            hours = scenario.length // 3600
    return statistics.median(times), events, hours


def whole_command(folder: Path, scenario_id: str) -> float:
    """Wall seconds of `ir drill run SCENARIO --instant --script ...` in a new process."""
    script = shipped_dir("scenarios") / "responses" / f"{scenario_id}.yaml"
    env = {**os.environ, "IR_ACTOR": "bench", "IR_LANG": "en"}
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ir", "--db", str(folder / "cli.db"), "drill", "run", scenario_id, "--instant",
         "--script", str(script), "--json"],
        check=True, capture_output=True, env=env, cwd=REPO,
    )
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per scenario")
    args = parser.parse_args()
    runs = 1 if args.quick else 5
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rate = bare_commit_rate(folder, 300)
        print(f"baseline: {rate:,.0f} bare durable SQLite commits/s")
        scenarios = sorted(p.stem for p in shipped_dir("scenarios").glob("*.yaml"))
        results = {s: replay(folder, s, runs) for s in scenarios}
        print(f"{'scenario':28} {'hours':>5} {'events':>6} {'replay s':>9} {'events/s':>9} {'x commits':>9}")
        for sid, (seconds, events, hours) in results.items():
            print(f"{sid:28} {hours:5d} {events:6d} {seconds:9.3f} {events / seconds:9.0f} {seconds * rate:9.0f}")
        longest = max(results, key=lambda s: (results[s][2], results[s][1]))
        seconds = results[longest][0]
        print(f"longest: {longest} ({results[longest][2]} h): replay {seconds:.3f} s (target < 2 s)")
        print(f"whole command incl. interpreter start-up: {whole_command(folder, longest):.2f} s")


if __name__ == "__main__":
    main()
