"""The `ir` command line through its real entry point: contract, exit codes and messages."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from ir.cli import cli
from tests.conftest import REPO, IrRunner, ir_process

DETECT_TASKS = ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo")


def open_incident(ir: IrRunner, *extra: str) -> str:
    return ir.ok("incident", "open", "personal-data-leak", "--title", "Customer table exposed", *extra).stdout.strip()


def contain(ir: IrRunner, incident_id: str) -> None:
    for task in DETECT_TASKS:
        ir.ok("incident", "done", incident_id, task)
    ir.ok("incident", "answer", incident_id, "aware_at", "2026-11-20T09:30+08:00")
    ir.ok("incident", "answer", incident_id, "breach_confirmed", "yes")
    ir.ok("incident", "fire", incident_id, "start_containment")


def all_commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    ctx = click.Context(group)
    out = []
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"'ir {prefix}{name}' is listed but cannot be loaded"
        out.append((f"{prefix}{name}", cmd))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, f"{prefix}{name} "))
    return out


@pytest.mark.parametrize(("name", "command"), all_commands(cli), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help(name: str, command: click.Command) -> None:
    assert command.help and command.help.strip(), f"'ir {name}' has no help text"


def test_the_installed_console_script_and_python_m_both_work(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ir"
    assert script.exists()
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ir, version")
    result = ir_process("incident", "list", db=tmp_path / "x.db")
    assert result.returncode == 0 and "No open incidents" in result.stdout


def test_open_prints_the_id_and_show_json_keeps_its_contract(ir: IrRunner) -> None:
    incident_id = open_incident(ir, "--severity", "high", "--fact", "affected_count=1,200")
    assert incident_id == "INC-2026-0001" or incident_id.startswith("INC-")
    view = ir.ok("incident", "show", incident_id, "--json").json()
    assert {"id", "title", "mode", "playbook", "phase", "final", "severity", "facts", "roles", "tasks", "decisions", "triggers"} <= set(view)
    assert view["mode"] == "live" and view["phase"] == "detect" and view["final"] is False
    assert view["playbook"]["id"] == "personal-data-leak" and view["playbook"]["version"] == "1.0"
    assert view["facts"] == {"affected_count": 1200}
    assert view["roles"] == {"commander": "tester"}
    assert {"id", "phase", "title", "role", "required", "done"} <= set(view["tasks"][0])
    assert {"id", "phase", "fact", "type", "choices", "answered"} <= set(view["decisions"][0])
    trigger = view["triggers"][0]
    assert {"name", "dest", "allowed", "blocked_by"} <= set(trigger)
    assert trigger["allowed"] is False and trigger["blocked_by"]
    opened = ir.ok("incident", "open", "personal-data-leak", "--title", "x", "--json").json()
    assert opened["id"] != incident_id and opened["phase"] == "detect"


def test_walking_commands_record_who_did_what(ir: IrRunner) -> None:
    incident_id = open_incident(ir)
    ir.ok("incident", "done", incident_id, "record_report", actor="bob")
    ir.ok("incident", "answer", incident_id, "breach_confirmed", "yes", "--why", "listing seen", actor="carol")
    ir.ok("incident", "note", incident_id, "bucket", "closed", "at", "10:12")
    ir.ok("incident", "assign", incident_id, "dpo", "dora")
    ir.ok("incident", "assign", incident_id, "record_report", "scribe")
    ir.ok("incident", "set", incident_id, "encrypted=false", "cii_operator=true")
    ir.ok("incident", "update", incident_id, "--severity", "critical")
    log = ir.ok("incident", "log", incident_id, "--json").json()
    kinds = [e["kind"] for e in log]
    assert kinds == ["incident.opened", "task.done", "decision.answered", "note.added", "role.assigned", "task.assigned", "fact.set", "incident.updated"]
    assert log[1]["actor"] == "bob" and log[2]["actor"] == "carol"
    assert log[2]["payload"]["rationale"] == "listing seen"
    assert log[3]["payload"]["text"] == "bucket closed at 10:12"
    assert log[6]["payload"]["facts"] == {"encrypted": False, "cii_operator": True}
    notes = ir.ok("incident", "log", incident_id, "--kind", "note.added", "--json").json()
    assert [e["kind"] for e in notes] == ["note.added"]
    text = ir.ok("incident", "log", incident_id).stdout
    assert "done: 'Record how the leak was reported' (record_report)" in text and "bob" in text


def test_a_transition_moves_the_phase_once_its_guards_hold(ir: IrRunner) -> None:
    incident_id = open_incident(ir)
    blocked = ir("incident", "fire", incident_id, "start_containment")
    assert blocked.exit_code == 2
    assert blocked.stderr.startswith("ir: error: cannot start_containment: task 'record_report'")
    assert blocked.stderr.count("\n") == 1
    contain(ir, incident_id)
    view = ir.ok("incident", "show", incident_id, "--json").json()
    assert view["phase"] == "contain" and [p["phase"] for p in view["path"]] == ["detect", "contain"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("incident", "show", "INC-1999-0001"), "no incident 'INC-1999-0001'"),
        (("incident", "fire", "{id}", "warp"), "no trigger 'warp'"),
        (("incident", "done", "{id}", "nope"), "no task 'nope'"),
        (("incident", "answer", "{id}", "breach_confirmed", "perhaps"), "fact 'breach_confirmed' (bool): 'perhaps' is not yes/no"),
        (("incident", "answer", "{id}", "aware_at", "yesterday"), "fact 'aware_at' (datetime)"),
        (("incident", "answer", "{id}", "nosuch", "1"), "has no decision 'nosuch'"),
        (("incident", "set", "{id}", "novalue"), "'novalue' is not KEY=VALUE"),
        (("incident", "assign", "{id}", "astronaut", "x"), "'astronaut' is neither a role"),
        (("incident", "open", "no-such-playbook", "--title", "x"), "no playbook 'no-such-playbook'"),
        (("incident", "open", "personal-data-leak", "--title", "x", "--fact", "aware_at=soon"), "fact 'aware_at'"),
        (("incident", "done", "{id}", "record_report", "--undo"), "task 'record_report' is not done"),
    ],
)
def test_bad_requests_exit_2_with_one_line_and_change_nothing(ir: IrRunner, db_path: Path, args: tuple[str, ...], message: str) -> None:
    incident_id = open_incident(ir)
    before = sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM events").fetchone()[0]
    result = ir(*[a.format(id=incident_id) for a in args])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("ir: error: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert sqlite3.connect(db_path).execute("SELECT COUNT(*) FROM events").fetchone()[0] == before


def test_usage_errors_exit_2_with_one_line_naming_the_command(ir: IrRunner, tmp_path: Path) -> None:
    cases = {
        ("incident", "open", "personal-data-leak"): "ir: error: ir incident open: Missing option '--title'.",
        ("incident", "frobnicate"): "ir: error: ir incident: No such command 'frobnicate'.",
        ("obligations", "--facts", str(tmp_path)): f"ir: error: ir obligations: Invalid value for '--facts': File '{tmp_path}' is a directory.",
        ("incident", "list", "--format", "xml"): "ir: error: ir incident list: No such option '--format'.",
    }
    for args, message in cases.items():
        result = ir(*args)
        assert result.exit_code == 2, args
        assert result.stderr.startswith(message) and result.stderr.count("\n") == 1, result.stderr
        assert "-h)" in result.stderr, "it says where the usage is"
    assert ir("--version").exit_code == 0 and ir("incident", "-h").exit_code == 0


def test_a_declined_confirmation_changes_nothing(ir: IrRunner, tmp_path: Path) -> None:
    incident = ir.ok("incident", "open", "personal-data-leak", "--title", "keep").stdout.strip()
    ir.ok("backup", str(tmp_path / "copy.db"))
    ir.ok("incident", "note", incident, "after the backup")
    result = ir("restore", str(tmp_path / "copy.db"), input="n\n")
    assert result.exit_code == 2 and result.stderr.endswith("ir: error: restore cancelled; nothing was changed\n")
    assert "after the backup" in ir.ok("incident", "log", incident).stdout


def test_workspace_options_work_before_and_after_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    db = tmp_path / "after.db"
    runner = CliRunner()
    opened = runner.invoke(cli, ["incident", "open", "personal-data-leak", "--title", "t", "--db", str(db), "--as", "zoe"])
    assert opened.exit_code == 0, opened.stderr
    listed = runner.invoke(cli, ["incident", "list", "--json"], env={"IR_DB": str(db)})
    assert [i["owner"] for i in listed.stdout and __import__("json").loads(listed.stdout)] == ["zoe"]


def test_list_filters_closed_and_drills(ir: IrRunner) -> None:
    assert "No open incidents" in ir.ok("incident", "list").stdout
    first = open_incident(ir)
    second = open_incident(ir)
    for task in ("record_report", "inform_dpo"):
        ir.ok("incident", "done", second, task)
    ir.ok("incident", "answer", second, "breach_confirmed", "no")
    ir.ok("incident", "answer", second, "dismissal_reason", "test data only, no real customers")
    ir.ok("incident", "fire", second, "dismiss")
    assert [i["id"] for i in ir.ok("incident", "list", "--json").json()] == [first]
    assert {i["id"] for i in ir.ok("incident", "list", "--all", "--json").json()} == {first, second}
    assert ir.ok("incident", "list", "--drills", "--json").json() == []
    table = ir.ok("incident", "list").stdout
    assert first in table and "personal-data-leak" in table and "detect" in table


def test_audit_verify_names_an_event_changed_with_plain_sql(ir: IrRunner, db_path: Path) -> None:
    incident_id = open_incident(ir)
    contain(ir, incident_id)
    ok = ir.ok("audit", "verify")
    assert f"ok: {incident_id} head" in ok.stdout and "verified 8 events" in ok.stdout
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET payload = '{\"decision\":\"breach_confirmed\",\"fact\":\"breach_confirmed\",\"value\":false}' WHERE incident_id = ? AND seq = 7", (incident_id,))
    conn.commit()
    bad = ir("audit", "verify", incident_id)
    assert bad.exit_code == 2
    assert f"{incident_id} event #7 (decision.answered" in bad.stderr and "does not match its hash" in bad.stderr
    assert ir("audit", "verify", "--json").json()["ok"] is False


def test_admin_rebuild_reports_identical_projections(ir: IrRunner) -> None:
    contain(ir, open_incident(ir))
    out = ir.ok("admin", "rebuild", "--json").json()
    assert out["identical"] is True and out["events"] == 8
    assert "rebuilt projections from 8 events" in ir.ok("admin", "rebuild").stdout


def test_postmortem_is_built_from_the_timeline(ir: IrRunner, tmp_path: Path) -> None:
    incident_id = open_incident(ir)
    ir.ok("incident", "answer", incident_id, "breach_confirmed", "yes", "--why", "bucket listing", now="2026-11-20T02:00:00Z")
    for task in DETECT_TASKS:
        ir.ok("incident", "done", incident_id, task)
    ir.ok("incident", "answer", incident_id, "aware_at", "2026-11-20T09:30+08:00")
    ir.ok("incident", "fire", incident_id, "start_containment")
    ir.ok("incident", "answer", incident_id, "root_cause", "storage bucket made public by a deployment script")
    out = tmp_path / "pm.md"
    ir.ok("report", "postmortem", incident_id, "--out", str(out), now="2026-11-21T02:00:00Z")
    text = out.read_text(encoding="utf-8")
    for heading in ("# Post-mortem: Customer table exposed", "## Summary", "## Root cause", "## Timeline", "## Decisions", "## Time in each phase", "## Actions"):
        assert heading in text
    assert "storage bucket made public by a deployment script" in text
    assert "| 2026-11-20T02:00:00.000Z | tester | Has personal information been, or may it have been, leaked, altered or lost? | yes | bucket listing |" in text
    assert "start_containment: Detect and triage (detect) → Contain (contain)" in text


def test_playbook_commands(ir: IrRunner, tmp_path: Path) -> None:
    listed = ir.ok("playbook", "list", "--json").json()
    assert {"id": "personal-data-leak", "title": "Personal data leak", "version": "1.0"} in listed
    assert "ok: " in ir.ok("playbook", "validate").stdout
    graph = ir.ok("playbook", "graph", "personal-data-leak").stdout
    assert "stateDiagram-v2" in graph and "assess --> recover: no_notification" in graph
    shown = ir.ok("playbook", "show", "personal-data-leak", "--json").json()
    assert shown["initial"] == "detect" and shown["phases"][-1]["final"] is True
    broken = tmp_path / "broken.yaml"
    broken.write_text((REPO / "playbooks" / "personal-data-leak.yaml").read_text(encoding="utf-8").replace("role: scribe", "role: scrib", 1), encoding="utf-8")
    result = ir("playbook", "validate", str(broken))
    assert result.exit_code == 2
    assert "broken.yaml:" in result.stderr and "role: unknown role 'scrib'" in result.stderr
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text((REPO / "playbooks" / "personal-data-leak.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    result = ir("playbook", "validate", str(renamed))
    assert result.exit_code == 2
    assert "renamed.yaml:1: id: id 'personal-data-leak' must match the file name 'renamed'" in result.stderr


def test_profile_facts_flow_into_new_incidents(ir: IrRunner) -> None:
    ir.ok("profile", "set", "organisation=Example Ltd", "cii_operator=yes")
    assert ir.ok("profile", "show", "--json").json()["cii_operator"]["value"] is True
    assert ir("profile", "set", "cii_operator=maybe").exit_code == 2
    incident_id = open_incident(ir, "--fact", "cii_operator=false")
    facts = ir.ok("incident", "show", incident_id, "--json").json()["facts"]
    assert facts == {"organisation": "Example Ltd", "cii_operator": False}
    ir.ok("profile", "unset", "cii_operator")
    assert "cii_operator" not in ir.ok("profile", "show", "--json").json()


def test_chinese_display(ir: IrRunner) -> None:
    incident_id = open_incident(ir)
    shown = ir.ok("--lang", "zh-CN", "incident", "show", incident_id).stdout
    assert "发现与研判" in shown and "记录泄露线索的来源" in shown
    assert ir("--lang", "fr", "incident", "show", incident_id).exit_code == 2


def test_a_closed_pipe_is_not_an_internal_error(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "ir"
    cmd = f"'{script}' --db '{tmp_path / 'p.db'}' playbook show personal-data-leak | head -n 1"
    result = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout.startswith("Personal data leak")


def test_every_recorded_event_kind_reads_as_text_in_a_fresh_process(tmp_path: Path) -> None:
    """A process that never loads a capability still describes its events in the timeline."""
    code = (
        "import sys\n"
        "from ir.engine import views\n"
        "from ir.store import projection\n"
        "import ir.workspace\n"
        "missing = sorted(k for k in projection.known_kinds() if k not in views._DESCRIBERS)\n"
        "assert not missing, missing\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_data_categories_are_shown_with_their_sensitivity(ir: IrRunner) -> None:
    incident_id = open_incident(ir, "--fact", "data_categories=name,health,contact")
    text = ir.ok("incident", "show", incident_id).stdout
    assert "data_categories = contact [internal], health [sensitive, PIPL sensitive], name [public]" in text
    classes = ir.ok("incident", "show", incident_id, "--json").json()["data_classification"]
    assert classes["health"] == {"sensitivity": "sensitive", "pipl_sensitive": True}
    assert classes["name"] == {"sensitivity": "public", "pipl_sensitive": False}
