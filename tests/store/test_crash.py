"""A process killed in the middle of commands leaves a consistent, verifiable workspace."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ir.workspace import Workspace
from tests.conftest import REPO

BUSY = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ir.workspace import Workspace
    ws = Workspace(Path(sys.argv[1]), actor="crasher")
    incident = sys.argv[2]
    tasks = ["record_report", "open_bridge", "preserve_first_evidence", "inform_dpo"]
    i = 0
    print("ready", flush=True)
    while True:
        ws.incidents.note(incident, f"note {i}")
        task = tasks[i % 4]
        ws.incidents.complete_task(incident, task, undo=ws.incidents.get(incident).task_done(task))
        ws.incidents.set_facts(incident, {"affected_count": str(i)})
        i += 1
    """
)


@pytest.mark.parametrize("seed", range(4))
def test_sigkill_mid_command_leaves_everything_or_nothing(ws: Workspace, db_path: Path, seed: int) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="crash").id
    rng = random.Random(seed)
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", BUSY, str(db_path), incident_id], cwd=REPO, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    reopened = Workspace(db_path)
    try:
        report = reopened.audit.verify()
        assert report.ok, report.problems
        events = reopened.incidents.timeline(incident_id)
        state = reopened.incidents.get(incident_id)
        assert state.seq == events[-1].seq  # projection and log agree: no half-applied command
        done = {}
        for e in events:
            if e.kind in ("task.done", "task.reopened"):
                done[e.payload["task"]] = e.kind == "task.done"
        assert {t for t, d in done.items() if d} == {t for t, s in state.tasks.items() if s.done}
        assert reopened.audit.rebuild(check_only=True).identical
        reopened.incidents.note(incident_id, "work continues after the crash")
        assert reopened.audit.verify(incident_id).ok
    finally:
        reopened.close()
