"""Backups while others work, verified restores, and evidence bundles checked by standard tools."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ir.bundle import VERIFY_TEXT, verify_bundle
from ir.errors import IntegrityError, InvalidInput
from ir.workspace import Workspace
from tests.conftest import REPO, IrRunner
from tests.store.test_store import tamper, walk_a_little

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ir.workspace import Workspace
    ws = Workspace(Path(sys.argv[1]), actor="writer")
    print("ready", flush=True)
    i = 0
    while True:
        ws.incidents.note(sys.argv[2], f"while backing up {i}")
        i += 1
    """
)


def test_a_backup_taken_while_another_process_writes_is_consistent(ws: Workspace, db_path: Path, tmp_path: Path) -> None:
    incident_id = walk_a_little(ws)
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db_path), incident_id], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        reports = [ws.audit.backup(tmp_path / f"copy{i}.db") for i in range(3)]
    finally:
        proc.kill()
        proc.wait()
    for report in reports:
        assert report.verify.ok, report.verify.problems
        conn = sqlite3.connect(report.path)
        seq = conn.execute("SELECT seq FROM incidents WHERE id = ?", (incident_id,)).fetchone()[0]
        last = conn.execute("SELECT MAX(seq) FROM events WHERE incident_id = ?", (incident_id,)).fetchone()[0]
        assert seq == last  # projection and log from the same instant
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one self-contained file
        conn.close()
    with pytest.raises(InvalidInput, match="already exists"):
        ws.audit.backup(reports[0].path)


def test_restore_verifies_first_and_keeps_the_previous_workspace(ir: IrRunner, db_path: Path, tmp_path: Path) -> None:
    first = ir.ok("incident", "open", "personal-data-leak", "--title", "before the backup").stdout.strip()
    backup = tmp_path / "b.db"
    assert "backed up 1 events" in ir.ok("backup", str(backup)).stdout
    second = ir.ok("incident", "open", "personal-data-leak", "--title", "after the backup").stdout.strip()
    cancelled = ir("restore", str(backup), input="n\n")
    assert cancelled.exit_code == 2 and "nothing was changed" in cancelled.stderr
    restored = ir.ok("restore", str(backup), "--yes")
    safety = Path(re.search(r"kept at (.+)$", restored.stdout, re.M).group(1))  # type: ignore[union-attr]
    assert [i["id"] for i in ir.ok("incident", "list", "--json").json()] == [first]
    assert ir.ok("audit", "verify").stdout
    kept = sqlite3.connect(safety)
    assert {r[0] for r in kept.execute("SELECT id FROM incidents")} == {first, second}
    kept.close()
    ir.ok("incident", "note", first, "work continues on the restored workspace")


def test_a_tampered_backup_is_not_restored(ir: IrRunner, db_path: Path, tmp_path: Path) -> None:
    incident_id = ir.ok("incident", "open", "personal-data-leak", "--title", "x").stdout.strip()
    ir.ok("incident", "note", incident_id, "original")
    backup = tmp_path / "b.db"
    ir.ok("backup", str(backup))
    tamper(backup, "UPDATE events SET payload = '{\"text\":\"forged\"}' WHERE seq = 2")
    ir.ok("incident", "note", incident_id, "after")
    result = ir("restore", str(backup), "--yes")
    assert result.exit_code == 2
    assert "does not verify" in result.stderr and "event #2 (note.added" in result.stderr and "nothing was replaced" in result.stderr
    assert [e["payload"]["text"] for e in ir.ok("incident", "log", incident_id, "--json").json()[1:]] == ["original", "after"]
    assert ir("restore", str(tmp_path / "missing.db"), "--yes").exit_code == 2


def export(ws: Workspace, tmp_path: Path) -> tuple[str, Path]:
    incident_id = walk_a_little(ws)
    ws.incidents.note(incident_id, "中文备注：已通知网信部门")
    out = tmp_path / "bundle"
    ws.audit.export(incident_id, out)
    return incident_id, out


def test_an_exported_bundle_verifies_and_names_tampering(ws: Workspace, tmp_path: Path) -> None:
    incident_id, out = export(ws, tmp_path)
    report = verify_bundle(out)
    assert report.ok and report.incident_id == incident_id
    assert report.head == ws.incidents.timeline(incident_id)[-1].hash
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["events"] == report.events and manifest["exported_by"] == "alice"
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("alice", "mallory")
    (out / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "events.jsonl: its SHA-256 does not match the manifest" in verify_bundle(out).problems[0]
    with pytest.raises(InvalidInput, match="not empty"):
        ws.audit.export(incident_id, out)


def test_a_forged_but_rehashed_bundle_still_fails_on_the_chain(ws: Workspace, tmp_path: Path) -> None:
    _, out = export(ws, tmp_path)
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace("alice", "mallory")
    (out / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    import hashlib

    manifest["files"]["events.jsonl"] = hashlib.sha256((out / "events.jsonl").read_bytes()).hexdigest()
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    problem = verify_bundle(out).problems[0]
    assert problem.startswith("events.jsonl line 5 (event #5 task.done): its hash")


@pytest.mark.skipif(not all(shutil.which(t) for t in ("jq", "sha256sum", "awk", "bash")), reason="needs jq, sha256sum, awk")
def test_the_documented_standard_tool_checks_work(ws: Workspace, tmp_path: Path) -> None:
    _, out = export(ws, tmp_path)
    blocks = re.findall(r"\n\n((?:       .*\n?)+)", VERIFY_TEXT)
    commands = [textwrap.dedent(b) for b in blocks]
    assert len(commands) == 4
    outputs = [subprocess.run(["bash", "-c", c], cwd=out, capture_output=True, text=True) for c in commands]
    assert all(o.returncode == 0 for o in outputs[:3]), [o.stderr for o in outputs]
    assert "OK" in outputs[0].stdout and "hashes match" in outputs[1].stdout and "chain intact" in outputs[2].stdout
    digest_lines = outputs[3].stdout.split()
    assert digest_lines[0] == digest_lines[1]  # the event's digest equals sha256sum of the playbook file
    lines = (out / "events.jsonl").read_text(encoding="utf-8").splitlines()
    event = json.loads(lines[6])
    event["actor"] = "mallory"
    lines[6] = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    (out / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert subprocess.run(["bash", "-c", commands[1]], cwd=out, capture_output=True).returncode != 0


def test_bundles_through_the_command_line(ir: IrRunner, tmp_path: Path) -> None:
    incident_id = ir.ok("incident", "open", "personal-data-leak", "--title", "x").stdout.strip()
    out = tmp_path / "evidence"
    assert "exported 1 events" in ir.ok("audit", "export", incident_id, "--out", str(out)).stdout
    assert f"ok: bundle {out}: {incident_id}, 1 events" in ir.ok("audit", "verify", str(out)).stdout
    (out / "chain.txt").write_text("1 " + "0" * 64 + "\n", encoding="utf-8")
    bad = ir("audit", "verify", str(out))
    assert bad.exit_code == 2 and "chain.txt: its SHA-256 does not match the manifest" in bad.stderr


def test_export_refuses_a_record_that_does_not_verify(ws: Workspace, db_path: Path, tmp_path: Path) -> None:
    incident_id = walk_a_little(ws)
    tamper(db_path, "UPDATE events SET actor = 'x' WHERE seq = 3")
    with pytest.raises(IntegrityError, match="does not verify"):
        ws.audit.export(incident_id, tmp_path / "b")


def test_workspace_files_are_not_readable_by_other_accounts(tmp_path: Path) -> None:
    db = tmp_path / "team" / "ws.db"
    ir = IrRunner(db)
    old = os.umask(0o002)  # a team sharing a group: its members may read and write
    try:
        ir.ok("incident", "open", "personal-data-leak", "--title", "modes")
        ir.ok("backup", str(tmp_path / "copy.db"))
    finally:
        os.umask(old)
    for path in (db, db.with_name("ws.db-wal"), db.with_name("ws.db-shm")):
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o660, path
    assert stat.S_IMODE((tmp_path / "copy.db").stat().st_mode) == 0o600


def _rewrite_from(db_path: Path, incident_id: str, seq: int, note: str) -> None:
    """Change event ``seq``'s text and re-hash it and every later event, as someone with write
    access to the file and this program's source could: every link checks out afterwards."""
    from ir.store.chain import event_body

    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "SELECT seq, at, recorded_at, actor, kind, payload, prev_hash, os_user FROM events "
        "WHERE incident_id = ? ORDER BY seq", (incident_id,)).fetchall()
    conn.close()
    prev: str | None = None
    for number, at, recorded, actor, kind, payload, prev_hash, os_user in rows:
        if number < seq:
            continue
        body = json.loads(payload)
        if number == seq:
            body["text"] = note
        prev = prev_hash if prev is None else prev  # the first rewritten event keeps its link
        digest = hashlib.sha256(event_body(incident_id, number, at, recorded, actor, kind, body, prev, os_user).encode()).hexdigest()
        tamper(db_path, "UPDATE events SET payload = ?, prev_hash = ?, hash = ? WHERE incident_id = ? AND seq = ?",
               (json.dumps(body), prev, digest, incident_id, number))
        prev = digest
    tamper(db_path, "UPDATE incidents SET head_hash = ? WHERE id = ?", (prev, incident_id))


def test_a_rewritten_and_rehashed_log_is_caught_by_a_head_noted_earlier(ir: IrRunner, db_path: Path, tmp_path: Path) -> None:
    incident_id = ir.ok("incident", "open", "personal-data-leak", "--title", "x").stdout.strip()
    ir.ok("incident", "note", incident_id, "the bucket was public for 3 days")
    noted = ir.ok("audit", "verify", "--json").json()["heads"][incident_id]
    ir.ok("incident", "note", incident_id, "later note")
    later = ir.ok("audit", "verify", incident_id, "--expect-head", noted)
    assert "1 noted head(s) found" in later.stdout, "an honest log that only grew keeps its old heads"
    ir.ok("audit", "export", incident_id, "--out", str(tmp_path / "before"))

    _rewrite_from(db_path, incident_id, 2, "the bucket was public for 3 hours")
    assert ir("audit", "verify").exit_code == 0, "re-hashed links verify on their own"
    caught = ir("audit", "verify", "--expect-head", noted)
    assert caught.exit_code == 2
    assert f"head {noted} noted earlier is not in the log: the record was rewritten" in caught.stderr
    ir.ok("audit", "export", incident_id, "--out", str(tmp_path / "after"))
    assert ir("audit", "verify", str(tmp_path / "before"), "--expect-head", noted).exit_code == 0
    in_bundle = ir("audit", "verify", str(tmp_path / "after"), "--expect-head", noted)
    assert in_bundle.exit_code == 2 and "is not in bundle" in in_bundle.stderr
    wrong = ir("audit", "verify", "--expect-head", "abc")
    assert wrong.exit_code == 2 and "is not a SHA-256 hash" in wrong.stderr
