"""A malicious scenario or response script: it cannot forge the record, break the drill, or escape.

A response script's ``record`` once appended any installed event kind with any payload: it
could deliver an inject twice, jump to a final phase past its guards, or store a payload the
drill's readers choke on, after which every command on that drill was an internal error.
Names and ids from content cannot point outside their folders, and a start date at the edge
of the calendar is refused before STARTEX.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ir.drills.runner import run_instant
from ir.drills.script import load_script
from ir.errors import ContentErrors, InvalidInput, IrError
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.drills.helpers import MINI, terminal_events, write_scenario

SHA = "ab" * 32


def _events(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def _refused(ir: IrRunner, db: Path, *args: str, says: str) -> str:
    """Run a command that must be refused in one line, recording nothing."""
    before = _events(db) if db.exists() else []
    result = ir(*args)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines and all(line.startswith("ir: error: ") for line in lines), result.stderr
    assert says in result.stderr, result.stderr
    assert (_events(db) if db.exists() else []) == before
    return result.stderr


FORGERIES = [
    ("inject.delivered", "{inject: first}"),
    ("inject.delivered", "{}"),
    ("phase.changed", "{trigger: x, from: detect, to: closed, final: true}"),
    ("drill.ended", "{reason: forged, offset: '+00:10'}"),
    ("drill.started", "{}"),
    ("obligation.fulfilled", "{rule: eu-gdpr-authority}"),
    ("fact.set", "{facts: {breach_confirmed: true}}"),
    ("improvement.raised", "{}"),
]


@pytest.mark.parametrize(("kind", "payload"), FORGERIES)
def test_a_script_cannot_record_the_events_commands_own(ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, kind: str, payload: str) -> None:
    write_scenario(ws)
    script = tmp_path / "forge.yaml"
    script.write_text(f'responses:\n  - {{at: "+00:05", record: {kind}, payload: {payload}}}\n', encoding="utf-8")
    stderr = _refused(ir, db_path, "drill", "run", "mini", "--instant", "--script", str(script),
                      says=f"forge.yaml:2: responses[0].record: a script records '{kind}' events only through the action")
    assert len(stderr.splitlines()) == 1
    assert ws.drills.list() == []


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ("{template: letter, count: abc, format: md, manifest_sha256: " + SHA + "}", "payload.count: Input should be a valid integer"),
        ("{template: letter, count: 5, format: md}", "payload.manifest_sha256: required but missing"),
        ("{template: ../../etc/passwd, count: 5, format: md, manifest_sha256: " + SHA + "}", "payload.template: String should match pattern"),
        ("{template: letter, count: -1, format: md, manifest_sha256: " + SHA + "}", "payload.count: Input should be greater than or equal to 0"),
        ("{template: letter, count: 5, format: md, manifest_sha256: " + SHA + ", extra: 1}", "payload.extra: Extra inputs are not permitted"),
    ],
)
def test_a_scripted_rendering_must_have_the_shape_its_readers_expect(
    ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, payload: str, says: str
) -> None:
    write_scenario(ws)
    script = tmp_path / "render.yaml"
    script.write_text(f'responses:\n  - {{at: "+00:05", record: notices.rendered, payload: {payload}}}\n', encoding="utf-8")
    _refused(ir, db_path, "drill", "run", "mini", "--instant", "--script", str(script), says=f"render.yaml:2: responses[0].{says}")


def test_a_well_formed_scripted_rendering_is_recorded_and_scored(ws: Workspace, tmp_path: Path) -> None:
    write_scenario(ws, MINI.replace(
        "expectations:\n",
        "expectations:\n  - {id: notices, objective: contain, title: Render the notices, notice: individual-letter, count: 100}\n",
    ))
    script = tmp_path / "render.yaml"
    script.write_text(
        'responses:\n  - {at: "+00:05", record: notices.rendered, payload: '
        f'{{template: individual-letter, count: "120", format: md, manifest_sha256: {SHA}}}}}\n',
        encoding="utf-8",
    )
    scenario, pb = ws.drills.scenarios.get("mini")
    loaded = load_script(script, scenario, pb, "render.yaml")
    drill = ws.drills.start("mini", speed=None)
    run_instant(ws.drills, drill.id, loaded)
    rendered = [e for e in ws.incidents.timeline(drill.id) if e.kind == "notices.rendered"]
    # Recorded as the notices capability records it: the count a number, not the text "120".
    assert [e.payload for e in rendered] == [{"template": "individual-letter", "count": 120, "format": "md", "manifest_sha256": SHA}]
    assert ws.drills.score(drill.id).result("notices").status == "met"
    assert {k: len(v) for k, v in terminal_events(ws, drill.id).items()} == {i.id: 1 for i in scenario.injects}


# --------------------------------------------------------------------------- names and ids


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("id", "../../evil", "id: String should match pattern"),
        ("id", "evil/../../x", "id: String should match pattern"),
        ("playbook", "../../../tmp/evil", "playbook: String should match pattern"),
        ("playbook", "/etc/passwd", "playbook: String should match pattern"),
    ],
)
def test_ids_from_a_scenario_cannot_name_paths(ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, field: str, value: str, says: str) -> None:
    text = MINI.replace("id: mini\n", f"id: {value!r}\n" if field == "id" else "id: mini\n")
    if field == "playbook":
        text = text.replace("playbook: personal-data-leak", f"playbook: {value!r}")
    path = tmp_path / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    _refused(ir, db_path, "drill", "validate", str(path), says=f"evil.yaml:")
    _refused(ir, db_path, "drill", "run", str(path), "--instant", says=says)


def test_a_scenario_reference_is_a_name_or_a_yaml_file_never_another_file(ws: Workspace, ir: IrRunner, db_path: Path) -> None:
    write_scenario(ws)
    _refused(ir, db_path, "drill", "run", "../../../../etc/passwd", "--instant", says="no scenario '../../../../etc/passwd'")
    _refused(ir, db_path, "drill", "run", "../scenarios/mini", "--instant", says="no scenario '../scenarios/mini'")
    with pytest.raises(IrError):
        ws.drills.scenarios.get("../../etc/hostname")


def test_a_response_script_is_found_only_by_a_scenario_id(ws: Workspace) -> None:
    # script_for builds a path from the id; only ids the scenario schema accepts reach it.
    outside = ws.store.path.parent / "escaped.yaml"
    outside.write_text("responses: []\n", encoding="utf-8")
    (ws.store.path.parent / "scenarios" / "responses").mkdir(parents=True)
    assert ws.drills.scenarios.script_for("../../escaped") is None
    (ws.store.path.parent / "scenarios" / "responses" / "mini.yaml").write_text("responses: []\n", encoding="utf-8")
    assert ws.drills.scenarios.script_for("mini") == ws.store.path.parent / "scenarios" / "responses" / "mini.yaml"
    with pytest.raises(ContentErrors, match="id: String should match pattern"):
        write_scenario(ws, MINI.replace("id: mini\n", "id: ../../escaped\n"), name="sneaky")
        ws.drills.scenarios.load(ws.store.path.parent / "scenarios" / "sneaky.yaml", check_name=False)


def test_a_rule_file_cannot_name_a_template_outside_its_folder(ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path) -> None:
    rules = db_path.parent / "rules"
    rules.mkdir()
    shipped = (Path(__file__).resolve().parents[2] / "ir" / "obligations" / "rules" / "eu-gdpr.yaml").read_text(encoding="utf-8")
    (rules / "eu-gdpr.yaml").write_text(shipped.replace("template: gdpr-authority-en", "template: ../../../etc/passwd"), encoding="utf-8")
    facts = tmp_path / "facts.yaml"
    facts.write_text("aware_at: 2026-11-20T09:00:00+08:00\nsubjects: {DE: 10}\n", encoding="utf-8")
    _refused(ir, db_path, "obligations", "--facts", str(facts), says="template: String should match pattern")


# --------------------------------------------------------------------------- the edges of the calendar


@pytest.mark.parametrize(
    ("start", "says"),
    [
        ("0001-01-01T00:00:00+01:00", "is out of range"),
        ("9999-12-31T00:00:00Z", "is not between the years 1900 and 2999"),
        ("1066-10-14T09:00:00Z", "is not between the years 1900 and 2999"),
    ],
)
def test_a_start_at_the_edge_of_the_calendar_is_refused(ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, start: str, says: str) -> None:
    write_scenario(ws, MINI.replace('start: "2026-11-20T01:00:00Z"', f'start: "{start}"'))
    stderr = _refused(ir, db_path, "drill", "validate", "mini", says=says)
    assert "mini.yaml:8: start: " in stderr
    _refused(ir, db_path, "drill", "run", "mini", "--instant", says=says)
    write_scenario(ws)
    script = tmp_path / "late.yaml"
    script.write_text(f'start: "{start}"\nresponses: []\n', encoding="utf-8")
    _refused(ir, db_path, "drill", "run", "mini", "--instant", "--script", str(script), says=f"late.yaml:1: start: ")


def test_a_start_given_to_the_service_is_checked_too(ws: Workspace) -> None:
    write_scenario(ws)
    with pytest.raises(InvalidInput, match="between the years 1900 and 2999"):
        ws.drills.start("mini", speed=None, start=dt.datetime(9999, 12, 31, tzinfo=dt.timezone.utc))
    assert ws.drills.list() == []


# --------------------------------------------------------------------------- size


def test_a_scenario_of_too_many_injects_is_refused_before_it_runs_for_hours(ws: Workspace, ir: IrRunner, db_path: Path) -> None:
    head, rest = MINI.split("injects:\n")
    _injects, expectations = rest.split("expectations:\n")
    many = [f'  - {{id: i{n}, at: "+{n // 60:02d}:{n % 60:02d}", channel: email, from: R, to: commander, title: T, text: X}}'
            for n in range(201)]
    write_scenario(ws, head + "injects:\n" + "\n".join(many) + "\nexpectations:\n" + expectations)
    _refused(ir, db_path, "drill", "run", "mini", "--instant", says="injects: List should have at most 200 items after validation, not 201")


def test_a_script_of_too_many_responses_is_refused(ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path) -> None:
    write_scenario(ws)
    script = tmp_path / "long.yaml"
    script.write_text("responses:\n" + "".join(f'  - {{at: "+00:{n % 60:02d}", note: n{n}}}\n' for n in range(501)), encoding="utf-8")
    _refused(ir, db_path, "drill", "run", "mini", "--instant", "--script", str(script),
             says="long.yaml:1: responses: List should have at most 500 items after validation, not 501")
