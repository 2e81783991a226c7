"""SIGKILL at random points, with encryption on: import, render, send, key rotation and purge.

After each kill: the workspace opens, ``ir audit verify`` passes, what the killed command did
is either fully there or fully absent (per committed batch for the batched commands), and
running the same command again completes it without duplicates.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ir.clock import format_instant
from ir.notices import keys
from ir.notices.pii import Cipher
from ir.store import events as eventlog
from ir.workspace import Workspace
from tests.conftest import START, ir_process
from tests.notices.conftest import Mailbox, approve_release, generated, ir_popen, kill, set_facts, write_people
from tests.notices.test_purge import close

SEEDS = (1, 5, 2)
"""Random kill points early, midway and late in each command (their first draws: 0.13, 0.62, 0.96)."""
T = "gdpr-individual-en"

pytestmark = pytest.mark.slow


def kill_at_random(proc: object, seed: int, low: float, high: float) -> bool:
    """Let ``proc`` run for a random time, then SIGKILL it (and check its workers die); True if it was killed."""
    deadline = time.monotonic() + random.Random(seed).uniform(low, high)
    while time.monotonic() < deadline and proc.poll() is None:  # type: ignore[attr-defined]
        time.sleep(0.01)
    if proc.poll() is not None:  # type: ignore[attr-defined]
        return False
    kill(proc)  # type: ignore[arg-type]
    return True


def verified(db: Path) -> None:
    """The workspace opens in a new process and every chain verifies."""
    run = ir_process("audit", "verify", db=db)
    assert run.returncode == 0, run.stderr


def events(ws: Workspace, case: str, kind: str) -> list[dict]:
    return [e.payload for e in ws.incidents.timeline(case) if e.kind == kind]


def everyone_opens(ws: Workspace, case: str, cipher: Cipher) -> int:
    """Open every stored person's sealed fields; return how many there are."""
    n = 0
    for page in ws.notices.people(case, "", []):
        for row in page:
            assert cipher.open(case, row[0], row[4]).reference
            n += 1
    return n


@pytest.mark.parametrize("seed", SEEDS)
def test_import_killed_at_a_random_point(ws: Workspace, tmp_path: Path, db_path: Path, seed: int) -> None:
    total = 40_000
    case = ws.incidents.open("personal-data-leak", title=f"import {seed}").id
    path = write_people(tmp_path / "big.csv", generated(total, "DE"))
    proc = ir_popen("subjects", "import", case, str(path), db=db_path)
    killed = kill_at_random(proc, seed, 0.5, 6.0)
    verified(db_path)
    cipher = ws.keys.cipher("the test")
    stored = everyone_opens(ws, case, cipher)
    record = ws.store.query("SELECT state, imported FROM subject_imports WHERE incident_id = ?", (case,))
    if events(ws, case, "subjects.imported"):
        assert stored == total and record[0]["state"] == "done"
    else:
        # Killed before its last transaction: every committed batch is there and counted,
        # and the import is left 'running' for the rerun to finish (even if every batch made it).
        assert killed and stored <= total
        assert stored == (record[0]["imported"] if record else 0), "every committed batch is counted, no more"
        assert not record or record[0]["state"] == "running"
    done = ir_process("subjects", "import", case, str(path), "--json", db=db_path, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ws.subjects.summary(case)["total"] == total == everyone_opens(ws, case, cipher)
    finished = [e for e in events(ws, case, "subjects.imported") if not e.get("abandoned")]
    assert sum(e["imported"] for e in finished) == total, "nobody added twice"
    assert ws.incidents.get(case).facts["affected_count"] == total
    assert not list(db_path.parent.glob(".ir-import-*"))
    verified(db_path)


@pytest.mark.parametrize("seed", SEEDS)
def test_render_killed_at_a_random_point(ws: Workspace, tmp_path: Path, db_path: Path, seed: int) -> None:
    total = 6_000
    case = ws.incidents.open("personal-data-leak", title=f"render {seed}").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(total, "DE")))
    set_facts(ws, case)
    out = tmp_path / "out"
    args = ("notices", "render", case, "--template", T, "--out", str(out))
    proc = ir_popen(*args, db=db_path)
    kill_at_random(proc, seed, 0.5, 5.0)
    verified(db_path)
    assert len(events(ws, case, "notices.rendered")) <= 1
    done = ir_process(*args, "--json", db=db_path, timeout=300)
    assert done.returncode == 0, done.stderr
    with (out / "manifest.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    references = [r["reference"] for r in rows]
    assert len(references) == len(set(references)) == total
    for row in rows[:: total // 40]:
        assert hashlib.sha256((out / row["file"]).read_bytes()).hexdigest() == row["sha256"]
    (event,) = events(ws, case, "notices.rendered")
    assert event["count"] == total and event["manifest_sha256"] == json.loads(done.stdout)["manifest_sha256"]
    verified(db_path)


@pytest.mark.parametrize("seed", SEEDS)
def test_send_killed_at_a_random_point(
    ws: Workspace, tmp_path: Path, db_path: Path, mailbox: Callable[..., Mailbox], seed: int
) -> None:
    total = 40
    case = ws.incidents.open("personal-data-leak", title=f"send {seed}").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(total, "DE")))
    set_facts(ws, case)
    approve_release(ws, case, T, tmp_path / "approved")
    box = mailbox()
    args = ("notices", "send", case, "--template", T, "--smtp", box.address, "--from", "dpo@example.com")
    proc = ir_popen(*args, "--rate", "40", db=db_path)
    kill_at_random(proc, seed, 0.8, 2.5)
    verified(db_path)
    done = ir_process(*args, "--json", db=db_path)
    assert done.returncode == 0, done.stderr
    status = {r["ref_hash"]: r for r in ws.store.query("SELECT ref_hash, status, message_id FROM deliveries WHERE incident_id = ?", (case,))}
    assert len(status) == total and {r["status"] for r in status.values()} <= {"sent", "sending"}
    received = box.per_recipient()
    assert all(n == 1 for n in received.values()), "nobody got the notice twice"
    ids = {m.message_id for m in box.received}
    for row in status.values():
        if row["status"] == "sent":
            assert row["message_id"] in ids, "a notice recorded as sent reached the server"
    unconfirmed = [r for r in status.values() if r["status"] == "sending"]
    assert len(received) >= total - len(unconfirmed) and len(unconfirmed) <= 1, "one message is in flight at a time"
    verified(db_path)


@pytest.mark.parametrize("seed", SEEDS)
def test_rotation_killed_at_a_random_point_resumes(ws: Workspace, tmp_path: Path, db_path: Path, data_key: Path, seed: int) -> None:
    total = 40_000
    case = ws.incidents.open("personal-data-leak", title=f"rotate {seed}").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(total, "FR")))
    old = keys.read_key_file(data_key)
    new_file = keys.write_key_file(tmp_path / "new.key", keys.generate())
    new = keys.read_key_file(new_file)
    proc = ir_popen("key", "rotate", "--new-key-file", str(new_file), db=db_path)
    kill_at_random(proc, seed, 1.0, 4.0)
    verified(db_path)
    counts = {k: v["people"] for k, v in ws.keys.status()["keys"].items()}
    assert sum(counts.values()) == total and set(counts) <= {old.fingerprint, new.fingerprint}
    assert everyone_opens(ws, case, Cipher(new, [old])) == total, "every row is sealed by exactly one of the two keys"
    finished = bool(_rotations(ws))
    if finished:
        assert counts == {new.fingerprint: total}
    done = ir_process("key", "rotate", "--new-key-file", str(new_file), "--json", db=db_path)
    if finished:
        assert done.returncode == 2 and "nothing to rotate" in done.stderr
    else:
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        assert result["already"] + sum(result["moved"].values()) == total and result["remaining"] == 0
        assert result["already"] == counts.get(new.fingerprint, 0), "the rerun skips what the killed run finished"
    assert ws.keys.status()["keys"] == {new.fingerprint: {"people": total, "incidents": 1}}
    assert everyone_opens(ws, case, Cipher(new)) == total
    assert len(_rotations(ws)) == 1, "the finished rotation is on the workspace chain once"
    verified(db_path)


def _rotations(ws: Workspace) -> list[dict]:
    with ws.store.read() as conn:
        return [e.payload for e in eventlog.read_events(conn, "WORKSPACE", kinds=["keys.rotated"])]


@pytest.mark.parametrize("seed", SEEDS[:2])
def test_purge_killed_at_a_random_point_is_all_or_nothing(ws: Workspace, tmp_path: Path, db_path: Path, seed: int) -> None:
    total = 40_000
    case = ws.incidents.open("personal-data-leak", title=f"purge {seed}").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(total, "DE")))
    close(ws, case)
    ws.profile.set({"retention_days": "1"})
    later = {"IR_NOW": format_instant(START + dt.timedelta(days=2))}
    proc = ir_popen("subjects", "purge", case, "--yes", db=db_path, env=later)
    kill_at_random(proc, seed, 0.3, 2.0)
    verified(db_path)
    destroyed = ws.store.query("SELECT COUNT(*) AS n FROM subjects WHERE pii IS NULL")[0]["n"]
    purged = events(ws, case, "subjects.purged")
    assert (destroyed, len(purged)) in ((0, 0), (total, 1)), "the destruction and its record commit together"
    if not purged:
        done = ir_process("subjects", "purge", case, "--yes", db=db_path, env=later)
        assert done.returncode == 0, done.stderr
    assert ws.store.query("SELECT COUNT(*) AS n FROM subjects WHERE pii IS NULL")[0]["n"] == total
    assert [p["people"] for p in events(ws, case, "subjects.purged")] == [total]
    verified(db_path)
