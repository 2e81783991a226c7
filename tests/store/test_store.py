"""The workspace store on a real SQLite file: schema, transactions, the chain and rebuilds."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ir.clock import VirtualClock
from ir.errors import WorkspaceError
from ir.store import GENESIS, Store
from ir.store import events as eventlog
from ir.workspace import Workspace
from tests.conftest import REPO


def walk_a_little(ws: Workspace) -> str:
    inc = ws.incidents.open("personal-data-leak", title="Customer table exposed", severity="high")
    for task in ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo"):
        ws.incidents.complete_task(inc.id, task)
    ws.incidents.answer(inc.id, "aware_at", "2026-11-20T09:30+08:00")
    ws.incidents.answer(inc.id, "breach_confirmed", "yes", rationale="listing shows customers.csv")
    ws.incidents.fire(inc.id, "start_containment")
    ws.incidents.assign(inc.id, "dpo", "bob")
    ws.incidents.assign(inc.id, "stop_exposure", "carol")
    ws.incidents.note(inc.id, "bucket ACL set to private")
    return inc.id


def tamper(db_path: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    """Change the file behind the application's back, as an attacker with file access could."""
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER IF EXISTS events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS events_no_delete")
    conn.execute(sql, params)
    conn.commit()
    conn.close()


def test_a_new_workspace_is_wal_with_full_sync(ws: Workspace) -> None:
    conn = ws.store.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert {"events", "incidents", "incident_tasks", "incident_phases", "playbook_snapshots"} <= set(ws.store.db.table_names())


def test_reopening_applies_no_migration_twice(db_path: Path, clock: VirtualClock) -> None:
    Workspace(db_path, clock=clock).close()
    store = Store(db_path)
    applied = store.conn.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0]
    store.close()
    store = Store(db_path)
    assert store.conn.execute("SELECT COUNT(*) FROM _sqlite_migrations").fetchone()[0] == applied
    store.close()


def test_a_workspace_from_a_newer_version_is_refused(db_path: Path) -> None:
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('ir.core', 'm999_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceError, match="written by a newer ir"):
        Store(db_path)


def test_other_files_are_not_taken_for_workspaces(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(WorkspaceError, match="not an ir workspace"):
        Store(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(WorkspaceError, match="not a usable ir workspace"):
        Store(junk)
    with pytest.raises(WorkspaceError, match="is a folder"):
        Store(tmp_path)
    with pytest.raises(WorkspaceError, match="no workspace at"):
        Store(tmp_path / "missing.db", create=False)


def test_a_failure_inside_a_command_leaves_nothing_behind(ws: Workspace) -> None:
    inc = ws.incidents.open("personal-data-leak", title="t")
    before = ws.store.query("SELECT COUNT(*) AS n FROM events")[0]["n"]

    def exploding_reactor(ctx: object) -> list[object]:
        raise RuntimeError("boom")

    ws.reactors.append(exploding_reactor)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        ws.incidents.complete_task(inc.id, "record_report")
    ws.reactors.clear()
    assert ws.store.query("SELECT COUNT(*) AS n FROM events")[0]["n"] == before
    assert not ws.incidents.get(inc.id).task_done("record_report")
    assert ws.audit.verify().ok


def test_the_event_log_is_append_only_to_the_application(ws: Workspace) -> None:
    walk_a_little(ws)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws.store.conn.execute("UPDATE events SET actor = 'mallory'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        ws.store.conn.execute("DELETE FROM events")


def test_each_event_hash_is_sha256_of_its_canonical_body(ws: Workspace) -> None:
    incident_id = walk_a_little(ws)
    prev = GENESIS
    for ev in ws.incidents.timeline(incident_id):
        assert ev.prev_hash == prev
        fields = {"actor": ev.actor, "at": ev.at, "incident_id": ev.incident_id, "kind": ev.kind, "payload": ev.payload,
                  "prev_hash": ev.prev_hash, "recorded_at": ev.recorded_at, "seq": ev.seq}
        if ev.os_user:
            fields["os_user"] = ev.os_user
        body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert hashlib.sha256(body.encode("utf-8")).hexdigest() == ev.hash
        assert ev.body() == body
        prev = ev.hash


def test_each_event_records_the_operating_system_account_that_wrote_it(ws: Workspace, db_path: Path) -> None:
    import getpass

    incident_id = walk_a_little(ws)
    accounts = {e.os_user for e in ws.incidents.timeline(incident_id)}
    assert accounts == {getpass.getuser()}  # whatever name the actor was given
    tamper(db_path, "UPDATE events SET os_user = 'someone-else' WHERE seq = 2")
    assert "event #2 (task.done" in str(ws.audit.verify(incident_id).problems[0])


def test_the_account_comes_from_the_process_not_from_its_environment(db_path: Path) -> None:
    import pwd

    from tests.conftest import ir_process

    env = {"USER": "mallory", "LOGNAME": "mallory", "LNAME": "mallory", "USERNAME": "mallory", "IR_ACTOR": "mallory"}
    opened = ir_process("incident", "open", "personal-data-leak", "--title", "who", db=db_path, env=env)
    assert opened.returncode == 0, opened.stderr
    ws = Workspace(db_path)
    try:
        (event,) = ws.incidents.timeline(opened.stdout.strip())
    finally:
        ws.close()
    assert event.actor == "mallory", "the name acted under is a claim, recorded as given"
    assert event.os_user == pwd.getpwuid(os.geteuid()).pw_name != "mallory"


def test_events_written_before_accounts_were_recorded_still_verify(ws: Workspace, db_path: Path) -> None:
    """An event without an account has the body it had before the column existed."""
    from ir.store.chain import event_body

    assert '"os_user"' not in event_body("INC-1", 1, "a", "b", "c", "k", {}, "0" * 64)
    assert '"os_user":"root"' in event_body("INC-1", 1, "a", "b", "c", "k", {}, "0" * 64, "root")


def test_verify_passes_on_an_honest_log(ws: Workspace) -> None:
    incident_id = walk_a_little(ws)
    report = ws.audit.verify()
    assert report.ok
    assert report.events == len(ws.incidents.timeline(incident_id))
    assert report.heads[incident_id] == ws.incidents.timeline(incident_id)[-1].hash


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("UPDATE events SET payload = replace(payload, 'bucket ACL', 'nothing') WHERE kind = 'note.added'",
         "event #11 (note.added at 2026-11-20T01:00:00.000Z): content does not match its hash"),
        ("UPDATE events SET actor = 'mallory' WHERE seq = 3", "event #3 (task.done"),
        ("UPDATE events SET at = '2026-11-19T00:00:00.000Z' WHERE seq = 8", "event #8 (phase.changed at 2026-11-19T00:00:00.000Z): content"),
        ("DELETE FROM events WHERE seq = 5", "event #6 (decision.answered at 2026-11-20T01:00:00.000Z): sequence number 6 where 5 was expected"),
        ("DELETE FROM events WHERE seq = 11", "the log ends before the incident's recorded last event"),
        ("UPDATE events SET hash = hex(randomblob(32)) WHERE seq = 4", "event #4 (task.done at 2026-11-20T01:00:00.000Z): content does not match"),
        ("UPDATE events SET prev_hash = hex(randomblob(32)) WHERE seq = 5", "event #5 (task.done at 2026-11-20T01:00:00.000Z): previous-hash link"),
    ],
)
def test_verify_names_the_first_altered_event(ws: Workspace, db_path: Path, sql: str, expected: str) -> None:
    incident_id = walk_a_little(ws)
    tamper(db_path, sql)
    report = ws.audit.verify(incident_id)
    assert not report.ok
    assert expected in str(report.problems[0]), str(report.problems[0])


def test_verify_detects_an_altered_playbook_snapshot(ws: Workspace, db_path: Path) -> None:
    incident_id = walk_a_little(ws)
    tamper(db_path, "UPDATE playbook_snapshots SET definition = replace(definition, 'Contain', 'Ignore')")
    report = ws.audit.verify(incident_id)
    assert "playbook snapshot" in str(report.problems[0]) and "was altered" in str(report.problems[0])


def test_rebuild_reproduces_the_projections_exactly(ws: Workspace) -> None:
    walk_a_little(ws)
    walk_a_little(ws)
    ws.profile.set({"organisation": "Example Ltd"})
    dump = {t: ws.store.query(f"SELECT * FROM {t} ORDER BY 1, 2") for t in ("incidents", "incident_tasks", "incident_phases", "workspace_profile")}
    report = ws.audit.rebuild()
    assert report.identical, report.differences
    assert report.events == ws.store.query("SELECT COUNT(*) AS n FROM events")[0]["n"]
    after = {t: ws.store.query(f"SELECT * FROM {t} ORDER BY 1, 2") for t in dump}
    assert after == dump


def test_rebuild_repairs_and_reports_a_drifted_projection(ws: Workspace, db_path: Path) -> None:
    incident_id = walk_a_little(ws)
    tamper(db_path, "UPDATE incidents SET phase = 'closed', final = 1")
    report = ws.audit.rebuild(check_only=True)
    assert any("incidents" in d for d in report.differences)
    assert ws.incidents.get(incident_id).phase == "closed"  # a check changes nothing
    ws.audit.rebuild()
    assert ws.incidents.get(incident_id).phase == "contain"


def test_rebuild_refuses_a_tampered_log(ws: Workspace, db_path: Path) -> None:
    walk_a_little(ws)
    tamper(db_path, "UPDATE events SET actor = 'mallory' WHERE seq = 2")
    with pytest.raises(Exception, match="does not verify"):
        ws.audit.rebuild()


def test_read_only_workspace_gives_a_clear_error_and_no_damage(ws: Workspace, db_path: Path, clock: VirtualClock) -> None:
    incident_id = walk_a_little(ws)
    reader = Workspace(db_path, clock=clock)
    reader.store.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(WorkspaceError, match="read-only"):
        reader.incidents.note(incident_id, "should not land")
    reader.close()
    assert ws.audit.verify().ok
    assert ws.incidents.timeline(incident_id)[-1].kind == "note.added"
    assert "should not land" not in json.dumps([e.payload for e in ws.incidents.timeline(incident_id)])


def test_task_rows_keep_their_phase_whatever_happens_first(ws: Workspace) -> None:
    incident_id = walk_a_little(ws)
    rows = ws.store.query("SELECT task_id, phase, assignee FROM incident_tasks WHERE incident_id = ? AND task_id = 'stop_exposure'", (incident_id,))
    assert rows == [{"task_id": "stop_exposure", "phase": "contain", "assignee": "carol"}]


def test_snapshots_are_stored_once_per_content(ws: Workspace) -> None:
    walk_a_little(ws)
    walk_a_little(ws)
    assert ws.store.query("SELECT COUNT(*) AS n FROM playbook_snapshots")[0]["n"] == 1
    with ws.store.read() as conn:
        digest = ws.incidents.get("INC-2026-0001").playbook_digest
        assert eventlog.get_snapshot(conn, digest)["id"] == "personal-data-leak"


def test_one_incident_can_be_rebuilt_alone(ws: Workspace, db_path: Path) -> None:
    first = walk_a_little(ws)
    second = walk_a_little(ws)
    tamper(db_path, "UPDATE incident_tasks SET done = 0 WHERE incident_id = ?", (second,))
    report = ws.audit.rebuild(first, check_only=True)
    assert report.identical and report.events == len(ws.incidents.timeline(first))
    report = ws.audit.rebuild(second)
    assert not report.identical
    assert ws.incidents.get(second).task_done("record_report")
    assert ws.audit.rebuild(check_only=True).identical


def test_a_reentry_can_reopen_decisions(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    from tests.engine.test_playbook_validation import VALID

    text = VALID.replace("  - trigger: close\n", "  - trigger: recheck\n    title: Recheck\n    source: work\n    dest: triage\n    reopen_tasks: true\n    reopen_decisions: true\n  - trigger: close\n")
    (folder / "mini.yaml").write_text(text, encoding="utf-8")
    custom = Workspace(ws.store.path, clock=ws.clock, actor="alice")
    custom.content.extra["playbooks"] = [folder]
    incident_id = custom.incidents.open("mini", title="recheck").id
    custom.incidents.complete_task(incident_id, "look")
    for decision, value in (("confirmed", "yes"), ("kind", "leak"), ("count", "3")):
        custom.incidents.answer(incident_id, decision, value)
    custom.incidents.fire(incident_id, "start")
    event = custom.incidents.fire(incident_id, "recheck")[-1]
    assert event.payload["reopened_tasks"] == ["look"]
    assert event.payload["cleared_facts"] == ["confirmed", "kind", "count"]
    state = custom.incidents.get(incident_id)
    assert state.facts == {} and not state.task_done("look")
    assert custom.audit.rebuild(check_only=True).identical
    custom.close()


def test_opening_a_current_workspace_does_not_import_sqlite_utils(db_path: Path) -> None:
    """The schema tool is needed to migrate, not to work: every command and the app's launch
    would otherwise pay for importing it."""
    Workspace(db_path).close()  # created and migrated
    probe = (
        "import sys; from pathlib import Path; from ir.workspace import Workspace\n"
        f"ws = Workspace(Path({str(db_path)!r}))\n"
        "ws.incidents.open('personal-data-leak', title='probe'); ws.close()\n"
        "print('sqlite_utils' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO).stdout
    assert out.strip() == "False"


def test_a_workspace_missing_a_migration_gets_it_on_opening(db_path: Path) -> None:
    Workspace(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM _sqlite_migrations WHERE migration_set = 'ir.core' AND name = 'm004_event_os_user'")
    conn.execute("ALTER TABLE events DROP COLUMN os_user")
    conn.commit()
    conn.close()
    ws = Workspace(db_path)
    try:
        incident = ws.incidents.open("personal-data-leak", title="after an upgrade").id
        assert ws.incidents.timeline(incident)[0].os_user
        assert ws.audit.verify().ok
    finally:
        ws.close()
