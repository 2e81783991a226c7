"""A locked workspace, a full disk, and eight busy processes: clear errors, no damage, no loss."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ir.errors import WorkspaceError
from ir.workspace import Workspace
from tests.conftest import REPO, ir_process

HOLDER = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("ROLLBACK")
    """
)


def test_a_workspace_locked_too_long_gives_a_clear_error(ws: Workspace, db_path: Path) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="locked").id
    # The holder keeps the lock far longer than the command will wait, so success would
    # mean the timeout was not honoured.
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path), "30"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        result = ir_process("incident", "note", incident_id, "blocked", db=db_path, env={"IR_BUSY_TIMEOUT": "0.5"})
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert result.returncode == 2
    assert "is busy: another process held it for over 0.5s; nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert [e.kind for e in ws.incidents.timeline(incident_id)] == ["incident.opened"]


def test_a_short_lock_is_waited_for(ws: Workspace, db_path: Path) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="waits").id
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_path), "0.5"], stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    result = ir_process("incident", "note", incident_id, "waited", db=db_path)
    holder.wait(timeout=30)
    assert result.returncode == 0, result.stderr
    assert ws.incidents.timeline(incident_id)[-1].payload == {"text": "waited"}


def test_a_full_disk_gives_a_clear_error_and_no_damage(ws: Workspace) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="full").id
    pages = ws.store.conn.execute("PRAGMA page_count").fetchone()[0]
    ws.store.conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # the file may grow by two pages only
    with pytest.raises(WorkspaceError, match="is full; nothing was changed") as info:
        for i in range(10_000):
            ws.incidents.note(incident_id, f"filling the disk {i} " + "x" * 500)
    assert "\n" not in str(info.value)
    ws.store.conn.execute("PRAGMA max_page_count = 1073741823")
    events = ws.incidents.timeline(incident_id)
    assert ws.incidents.get(incident_id).seq == events[-1].seq
    assert ws.audit.verify().ok
    assert ws.audit.rebuild(check_only=True).identical
    ws.incidents.note(incident_id, "space freed; work continues")


STRESS = textwrap.dedent(
    """
    import random, sys
    from pathlib import Path
    from ir.errors import Refused
    from ir.workspace import Workspace
    db, who, n = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    ids = sys.argv[4].split(",")
    ws = Workspace(db, actor=who)
    rng = random.Random(who)
    tasks = ["record_report", "open_bridge", "preserve_first_evidence", "inform_dpo"]
    mine = ws.incidents.open("personal-data-leak", title=f"{who}'s own").id
    done = refused = 0
    for i in range(n):
        target = rng.choice(ids + [mine])
        roll = rng.random()
        if roll < 0.6:
            ws.incidents.note(target, f"{who} {i}")
        elif roll < 0.8:
            ws.incidents.set_facts(target, {f"counter_{who}": str(i)})
        else:
            task = rng.choice(tasks)
            try:
                # Another process may toggle the same task between our look and our act.
                ws.incidents.complete_task(target, task, undo=ws.incidents.get(target).task_done(task))
            except Refused:
                refused += 1
                continue
        done += 1
    ws.close()
    print(mine, done, refused)
    """
)


@pytest.mark.slow
def test_eight_processes_thousands_of_events(ws: Workspace, db_path: Path) -> None:
    shared = [ws.incidents.open("personal-data-leak", title=f"shared {i}").id for i in range(3)]
    procs = [
        subprocess.Popen([sys.executable, "-c", STRESS, str(db_path), f"w{n}", "300", ",".join(shared)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(8)
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    results = [out.split() for out, _ in outputs]
    assert all(int(done) + int(refused) == 300 for _, done, refused in results)
    total = ws.store.query("SELECT COUNT(*) AS n FROM events")[0]["n"]
    assert total == 3 + 8 + sum(int(done) for _, done, _ in results)  # every accepted command landed exactly once
    report = ws.audit.verify()
    assert report.ok and report.incidents == 3 + 8
    assert ws.audit.rebuild(check_only=True).identical
    for n in range(8):
        notes = [e for i in shared + [results[n][0]] for e in ws.incidents.timeline(i) if e.actor == f"w{n}" and e.kind == "note.added"]
        numbers = sorted(int(e.payload["text"].split()[1]) for e in notes)
        assert numbers == sorted(set(numbers))  # no duplicates
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
