"""Several processes on one workspace file: nothing lost, the chain intact, stale actions refused."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from ir.workspace import Workspace
from tests.conftest import REPO, ir_process

WORKER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ir.workspace import Workspace
    db, incident, who, n = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
    ws = Workspace(db, actor=who)
    for i in range(n):
        ws.incidents.note(incident, f"{who} note {i}")
    ws.close()
    """
)


def test_parallel_writers_lose_nothing_and_keep_the_chain(ws: Workspace, db_path: Path) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="shared").id
    workers, notes = 4, 60
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, str(db_path), incident_id, f"p{w}", str(notes)], cwd=REPO)
        for w in range(workers)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    events = ws.incidents.timeline(incident_id)
    assert [e.seq for e in events] == list(range(1, 2 + workers * notes))
    for w in range(workers):
        mine = [e.payload["text"] for e in events if e.actor == f"p{w}"]
        assert mine == [f"p{w} note {i}" for i in range(notes)]  # each writer's order preserved
    assert ws.audit.verify().ok
    assert ws.incidents.get(incident_id).seq == len(events)
    assert ws.audit.rebuild(check_only=True).identical


def test_only_one_of_two_racing_transitions_applies(ws: Workspace, db_path: Path) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="race").id
    for task in ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo"):
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.answer(incident_id, "aware_at", "now")
    ws.incidents.answer(incident_id, "breach_confirmed", "yes")
    args = ["incident", "fire", incident_id, "start_containment", "--expect-phase", "detect"]
    procs = [
        subprocess.Popen([sys.executable, "-m", "ir", "--db", str(db_path), *args], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in procs]  # type: ignore[union-attr]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 2], results
    refusal = next(err for code, err in results if code == 2)
    assert "is now in phase 'contain', not 'detect'" in refusal
    assert [e.kind for e in ws.incidents.timeline(incident_id)].count("phase.changed") == 1


def test_a_stale_version_is_refused_by_the_command_line(ws: Workspace, db_path: Path) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="stale").id
    seen = ws.incidents.get(incident_id).seq
    ws.incidents.note(incident_id, "someone else acted")
    result = ir_process("incident", "done", incident_id, "record_report", db=db_path)
    assert result.returncode == 0
    result = ir_process("incident", "fire", incident_id, "dismiss", "--expect-seq", str(seen), db=db_path)
    assert result.returncode == 2
    assert "changed since your view" in result.stderr
