"""Two exercise controllers and a facilitator's terminal on one paced drill, each its own process.

Both controllers deliver injects as they fall due and race to ENDEX, while a third process
pauses, resumes, changes the speed and skips ahead. No inject may be delivered twice or
never, both controllers must finish cleanly, and the drill's chain must verify.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ir.workspace import Workspace
from tests.conftest import REPO, IrRunner, ir_process
from tests.drills.helpers import MINI, write_scenario

FACILITATOR = textwrap.dedent(
    """
    import random, sys, time
    from pathlib import Path
    from ir.errors import Refused
    from ir.workspace import Workspace
    ws = Workspace(Path(sys.argv[1]), actor="facilitator")
    ident, rng = sys.argv[2], random.Random(int(sys.argv[3]))
    done = refused = 0
    while True:
        if ws.drills.context(ident).ended:
            break
        action = rng.choice(["pause", "resume", "speed", "skip", "deliver"])
        try:
            if action == "pause":
                ws.drills.pause(ident)
                time.sleep(rng.uniform(0.05, 0.3))
                ws.drills.resume(ident)
            elif action == "resume":
                ws.drills.resume(ident)
            elif action == "speed":
                ws.drills.set_speed(ident, rng.choice([2000.0, 4000.0, 8000.0]))
            elif action == "skip":
                ws.drills.skip_to_next(ident)
            else:
                ws.drills.deliver_due(ident)
            done += 1
        except Refused:
            refused += 1  # the drill was paused, ended or changed meanwhile: a clear refusal
        time.sleep(rng.uniform(0.0, 0.2))
    print(done, refused)
    """
)


def _start(db: Path, scenario: str) -> str:
    """A paced drill on the wall clock (the processes read the same clock)."""
    ws = Workspace(db, actor="starter")
    try:
        return ws.drills.start(scenario, speed=4000.0).id
    finally:
        ws.close()


@pytest.mark.parametrize("seed", range(2))
def test_two_controllers_and_a_facilitator_deliver_each_inject_once(ws: Workspace, db_path: Path, ir: IrRunner, seed: int) -> None:
    # A longer mini: 18 hours of scenario time, about five seconds of wall time at 4000x.
    write_scenario(ws, MINI.replace('duration: "+06:00"', 'duration: "+18:00"').replace('at: "+05:00"', 'at: "+17:00"'))
    ident = _start(db_path, "mini")
    env = {"IR_ACTOR": "controller"}
    controllers = [
        subprocess.Popen([sys.executable, "-m", "ir", "--db", str(db_path), "drill", "control", ident], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**__import__("os").environ, **env})
        for _ in range(2)
    ]
    facilitator = subprocess.Popen([sys.executable, "-c", FACILITATOR, str(db_path), ident, str(seed)], cwd=REPO,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outputs = [p.communicate(timeout=180) for p in controllers]
    f_out, f_err = facilitator.communicate(timeout=180)
    for proc, (out, err) in zip(controllers, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err and "internal error" not in err
    assert facilitator.returncode == 0, f_err

    timeline = ws.incidents.timeline(ident)
    delivered: dict[str, list[str]] = {}
    for ev in timeline:
        if ev.kind.startswith("inject."):
            delivered.setdefault(ev.payload["inject"], []).append(ev.kind)
    scenario = ws.drills.scenarios.get("mini")[0]
    assert set(delivered) == {i.id for i in scenario.injects}  # none never
    assert all(len(kinds) == 1 for kinds in delivered.values()), delivered  # none twice
    assert [e.kind for e in timeline].count("drill.ended") == 1
    assert ws.drills.context(ident).ended
    assert ws.audit.verify(ident).ok
    assert ir("admin", "rebuild", "--check").exit_code == 0
    verified = ir_process("audit", "verify", db=db_path)
    assert verified.returncode == 0, verified.stderr
