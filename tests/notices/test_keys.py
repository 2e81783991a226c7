"""Personal fields encrypted at rest: the key outside the workspace, what works without it, rotation."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from ir.notices import keys, pii
from ir.store import Event
from ir.store import events as eventlog
from ir.store.db import Store
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.notices.conftest import PEOPLE, Behaviour, Mailbox, approve_release, write_people

SECRETS = [value for row in PEOPLE for value in row[:5] if value] + ["Hauptstraße 5", "10115 Berlin", "0013 8000"]
"""Every name, e-mail address, phone number, postal address (and its lines) and reference of the fixture."""


def raw_text(db: Path) -> tuple[bytes, str]:
    """The workspace's bytes on disk (database, log, shared memory) and a plain `sqlite3 .dump` of it."""
    data = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    dump = subprocess.run(["sqlite3", str(db), ".dump"], capture_output=True, text=True, check=True).stdout
    return data, dump


def workspace_events(ws: Workspace, kind: str) -> list[Event]:
    """Events of one kind on the workspace chain."""
    with ws.store.read() as conn:
        return list(eventlog.read_events(conn, "WORKSPACE", kinds=[kind]))


def without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IR_KEY_FILE", raising=False)
    monkeypatch.delenv("IR_KEY", raising=False)


def test_a_raw_dump_of_the_workspace_shows_no_personal_data(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    approve_release(ws, incident, "gdpr-individual-en", tmp_path / "letters")
    box = mailbox(Behaviour(reject={"anna@example.de"}))
    ir.ok("notices", "send", incident, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com")
    ws.close()
    data, dump = raw_text(ws.store.path)
    assert "INSERT INTO subjects" in dump and "INSERT INTO deliveries" in dump, "the dump holds the people and deliveries"
    for secret in SECRETS:
        assert secret.encode("utf-8") not in data, f"{secret!r} is in the workspace file"
        assert secret not in dump, f"{secret!r} is in the sqlite3 dump"
    assert "<recipient>" in dump, "the server's refusal is kept without the address it echoed"


def test_without_the_key_people_cannot_be_read_but_counts_stay_usable(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    approve_release(ws, incident, "gdpr-individual-en", tmp_path / "approved")
    before = len(ws.incidents.timeline(incident))
    without_key(monkeypatch)
    shown = ir.ok("subjects", "show", incident, "--json").json()
    assert shown["total"] == 3 and shown["by_jurisdiction"] == {"CN": 1, "DE": 1, "US-CA": 1}
    assert {c["id"] for c in shown["categories"]} >= {"name", "national_id"}
    check = ir("notices", "check", incident, "gdpr-individual-en", "--json").json()
    assert check["people"] == 1 and any("IR_KEY_FILE" in note for note in check["notes"])
    refused = {
        "import": ir("subjects", "import", incident, str(write_people(tmp_path / "more.csv", PEOPLE))),
        "render": ir("notices", "render", incident, "--template", "gdpr-individual-en", "--out", str(tmp_path / "out")),
        "send": ir("notices", "send", incident, "--template", "gdpr-individual-en", "--smtp", "127.0.0.1:1", "--from", "a@b.cn"),
        "find": ir("subjects", "find", incident, "C-0002"),
    }
    for what, run in refused.items():
        assert run.exit_code == 2, what
        assert run.stderr.startswith("ir: error: ") and len(run.stderr.strip().splitlines()) == 1, what
        assert "set IR_KEY_FILE" in run.stderr and "Traceback" not in run.stderr, what
    assert not (tmp_path / "out").exists()
    assert len(ws.incidents.timeline(incident)) == before and ws.subjects.unfinished(incident) == []
    assert ws.store.query("SELECT COUNT(*) AS n FROM deliveries")[0]["n"] == 0


def test_a_value_moved_to_another_row_does_not_decrypt(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    rows = ws.store.query("SELECT ref_hash, pii FROM subjects WHERE incident_id = ? ORDER BY ref_hash", (incident,))
    # Someone with write access to the file swaps two people's sealed fields.
    with sqlite3.connect(ws.store.path) as conn:
        conn.execute("UPDATE subjects SET pii = ? WHERE ref_hash = ?", (rows[1]["pii"], rows[0]["ref_hash"]))
    run = ir("notices", "render", incident, "--template", "us-individual-en", "--out", str(tmp_path / "o"), "--jurisdiction", "ALL")
    assert run.exit_code == 2 and "do not decrypt" in run.stderr and "altered or moved from another row" in run.stderr
    cipher = ws.keys.cipher("the test")
    other = ws.incidents.open("personal-data-leak", title="elsewhere").id
    with pytest.raises(Exception, match="altered or moved"):
        cipher.open(other, rows[1]["ref_hash"], rows[1]["pii"])


def test_a_key_file_others_can_read_is_refused(incident: str, tmp_path: Path, ir: IrRunner, data_key: Path) -> None:
    data_key.chmod(0o640)
    run = ir("subjects", "import", incident, str(write_people(tmp_path / "p.csv", PEOPLE)))
    assert run.exit_code == 2 and "permissions 0640" in run.stderr and f"chmod 600 {data_key}" in run.stderr


def test_key_new_writes_an_owner_only_file_and_never_overwrites(tmp_path: Path, ir: IrRunner) -> None:
    target = tmp_path / "secrets" / "ws.key"
    made = ir.ok("key", "new", "--out", str(target), "--json").json()
    assert (target.stat().st_mode & 0o777) == 0o600
    key = keys.read_key_file(target)
    assert made["fingerprint"] == key.fingerprint and len(key.secret) == 32
    text = ir.ok("key", "new", "--out", str(tmp_path / "b.key")).stdout
    assert f"export IR_KEY_FILE={tmp_path / 'b.key'}" in text
    again = ir("key", "new", "--out", str(target))
    assert again.exit_code == 2 and "never overwritten" in again.stderr
    assert keys.read_key_file(target).secret == key.secret


def test_the_key_can_come_from_ir_key_but_not_from_both(
    ws: Workspace, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch, data_key: Path
) -> None:
    case = ws.incidents.open("personal-data-leak", title="env").id
    both = ir("subjects", "import", case, str(write_people(tmp_path / "p.csv", PEOPLE)))
    assert both.exit_code == 0, "IR_KEY_FILE alone"
    token = keys.token(keys.read_key_file(data_key))
    monkeypatch.setenv("IR_KEY", token)
    clash = ir("subjects", "show", case)
    assert clash.exit_code == 0, "counts need no key"
    refused = ir("subjects", "find", case, "C-0001")
    assert refused.exit_code == 2 and "set only one of them" in refused.stderr
    monkeypatch.delenv("IR_KEY_FILE")
    found = ir.ok("subjects", "find", case, "C-0001", "--json").json()
    assert found["fields"]["name"] == "张三"
    monkeypatch.setenv("IR_KEY", "ir-key-v1:c2hvcnQ")
    assert "the key is 5 bytes" in ir("subjects", "find", case, "C-0001").stderr


def test_status_names_the_configured_key_and_counts_rows_per_key(ws: Workspace, incident: str, ir: IrRunner, data_key: Path) -> None:
    fingerprint = keys.read_key_file(data_key).fingerprint
    report = ir.ok("key", "status", "--json").json()
    assert report["configured"] == {"fingerprint": fingerprint, "source": f"IR_KEY_FILE {data_key}"}
    assert report["keys"] == {fingerprint: {"people": 3, "incidents": 1}}
    text = ir.ok("key", "status").stdout
    assert f"configured key: {fingerprint}" in text and f"{fingerprint} (configured)" in text


def test_rotation_reseals_every_row_and_is_recorded(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch, data_key: Path
) -> None:
    old = keys.read_key_file(data_key)
    new_file = keys.write_key_file(tmp_path / "new.key", keys.generate())
    new = keys.read_key_file(new_file)
    before = {r["ref_hash"]: r["pii"] for r in ws.store.query("SELECT ref_hash, pii FROM subjects")}
    result = ir.ok("key", "rotate", "--new-key-file", str(new_file), "--json").json()
    assert result["moved"] == {old.fingerprint: 3} and result["remaining"] == 0 and result["already"] == 0
    after = {r["ref_hash"]: (r["pii"], r["key_id"]) for r in ws.store.query("SELECT ref_hash, pii, key_id FROM subjects")}
    assert all(key_id == new.fingerprint and sealed != before[k] for k, (sealed, key_id) in after.items())
    (event,) = workspace_events(ws, "keys.rotated")
    assert event.payload == {"to": new.fingerprint, "from": {old.fingerprint: 3}, "rows": 3, "already": 0, "remaining": 0,
                             "configured": old.fingerprint}
    old_only = ir("subjects", "find", incident, "C-0001")
    assert old_only.exit_code == 2 and f"sealed with key {new.fingerprint}" in old_only.stderr
    monkeypatch.setenv("IR_KEY_FILE", str(new_file))
    assert ir.ok("subjects", "find", incident, "C-0001", "--json").json()["fields"]["email"] == "zhangsan@example.cn"
    again = ir("key", "rotate", "--new-key-file", str(new_file))
    assert again.exit_code == 2 and "nothing to rotate" in again.stderr
    ir.ok("audit", "verify")


def test_rotation_refuses_rows_sealed_with_a_key_it_does_not_have(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = keys.write_key_file(tmp_path / "stranger.key", keys.generate())
    monkeypatch.setenv("IR_KEY_FILE", str(stranger))
    target = keys.write_key_file(tmp_path / "target.key", keys.generate())
    run = ir("key", "rotate", "--new-key-file", str(target))
    assert run.exit_code == 2 and "3 people's personal fields are sealed with key" in run.stderr
    assert workspace_events(ws, "keys.rotated") == []


def test_rows_stored_before_encryption_are_sealed_by_a_rotation(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, data_key: Path
) -> None:
    # Put the workspace back the way a version of ir without encryption left it: the old table
    # shape with the packed fields in the clear, and the encryption migration not yet applied.
    rows = ws.store.query("SELECT * FROM subjects")
    cipher = ws.keys.cipher("the test")
    ws.close()
    with sqlite3.connect(ws.store.path) as conn:
        conn.execute("DROP TABLE subjects")
        conn.execute(
            "CREATE TABLE subjects (incident_id TEXT NOT NULL, ref_hash TEXT NOT NULL, jurisdiction TEXT NOT NULL,"
            " locale TEXT NOT NULL, categories TEXT NOT NULL, pii TEXT NOT NULL, import_id INTEGER NOT NULL,"
            " line INTEGER NOT NULL, PRIMARY KEY (incident_id, ref_hash)) STRICT, WITHOUT ROWID"
        )
        conn.executemany(
            "INSERT INTO subjects VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r["incident_id"], r["ref_hash"], r["jurisdiction"], r["locale"], r["categories"],
              cipher.open_packed(r["incident_id"], r["ref_hash"], r["pii"]), r["import_id"], r["line"]) for r in rows],
        )
        conn.execute("DELETE FROM _sqlite_migrations WHERE migration_set = 'ir.subjects' AND name = 'm002_sealed_pii'")
    Store(ws.store.path).close()  # opening applies the migration
    status = ir.ok("key", "status", "--json").json()
    assert status["keys"] == {"plain": {"people": 3, "incidents": 1}}
    assert "plain (stored before encryption: run ir key rotate)" in ir.ok("key", "status").stdout
    assert ir.ok("subjects", "find", incident, "C-0003", "--json").json()["fields"]["name"] == "Ann Lee"
    result = ir.ok("key", "rotate", "--new-key-file", str(data_key), "--json").json()
    assert result["moved"] == {"plain": 3}
    assert b"Ann Lee" not in b"".join(r["pii"] for r in Workspace(ws.store.path).store.query("SELECT pii FROM subjects"))
    assert ir.ok("subjects", "find", incident, "C-0003", "--json").json()["fields"]["name"] == "Ann Lee"


def _seal_in_child(cipher: pii.Cipher, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    out.put([cipher.seal("INC", "k", "x")[pii.HEADER : pii.HEADER + pii.NONCE] for _ in range(50)])


def test_forked_workers_never_reuse_a_nonce(data_key: Path) -> None:
    cipher = pii.Cipher(keys.read_key_file(data_key))
    parent = [cipher.seal("INC", "k", "x")[pii.HEADER : pii.HEADER + pii.NONCE] for _ in range(10)]
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    children = [context.Process(target=_seal_in_child, args=(cipher, out)) for _ in range(3)]
    for child in children:
        child.start()
    nonces = parent + [n for _ in children for n in out.get(timeout=30)]
    nonces += [cipher.seal("INC", "k", "x")[pii.HEADER : pii.HEADER + pii.NONCE] for _ in range(50)]
    for child in children:
        child.join()
    assert len(nonces) == len(set(nonces)) == 210


def test_the_packed_fields_survive_sealing_for_any_text(data_key: Path) -> None:
    cipher = pii.Cipher(keys.read_key_file(data_key))
    for values in (("R", "", "", "", ""), ("名字", "张三", "a@b.cn", "+86 1", "北京\n朝阳"), ("\"'\\", "\u2028", "x" * 500, "", "")):
        sealed = cipher.seal("INC-1", "h", pii.pack(*values))
        assert pii.key_id_of(sealed) == cipher.key_id
        assert cipher.open("INC-1", "h", sealed) == pii.Personal(*values)
    assert json.loads(pii.pack("a", "b", "c", "d", "e")) == ["a", "b", "c", "d", "e"]
