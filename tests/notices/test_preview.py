"""Previewing a notice for one real person: the renderer's own words, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.notices.conftest import write_people


def _state(ws: Workspace, incident: str, tmp_path: Path) -> tuple[int, list[str]]:
    """The incident's last event and the files under the test folder (besides the workspace's)."""
    files = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and ".db" not in p.name)
    return ws.incidents.timeline(incident)[-1].seq, files


def test_preview_shows_one_person_s_letter_and_writes_nothing(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner
) -> None:
    before = _state(ws, incident, tmp_path)
    run = ir.ok("notices", "preview", incident, "--template", "gdpr-individual-en", "--person", "C-0002")
    lines = run.stdout.splitlines()
    assert lines[0] == f"gdpr-individual-en for {incident}, to C-0002: Anna Schmidt, Hauptstraße 5, 10115 Berlin"
    assert lines[1] == "Subject: Important information about your personal data at Example Retail Ltd"
    assert "Dear Anna Schmidt," in run.stdout and "quote your reference C-0002" in run.stdout
    assert _state(ws, incident, tmp_path) == before, "a preview records no event and writes no file"


def test_preview_is_the_letter_render_writes(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    shown = ir.ok("notices", "preview", incident, "--template", "pipl-individual-zh", "--json").json()
    assert (shown["ready"], shown["people"], shown["reference"]) == (True, 1, "C-0001")
    assert shown["subject"] and "张三" in shown["body"]
    out = tmp_path / "out"
    ir.ok("notices", "render", incident, "--template", "pipl-individual-zh", "--out", str(out))
    (letter,) = (out / "letters").rglob("*.txt")
    assert letter.read_text(encoding="utf-8") == shown["body"]


def test_preview_lists_what_is_missing_with_exit_2(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    case = ws.incidents.open("personal-data-leak", title="No facts yet").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", [["R1", "", "r@example.de", "", "", "DE", "en", ""]]))
    run = ir("notices", "preview", case, "--template", "gdpr-individual-en", "--json")
    assert run.exit_code == 2
    report = run.json()
    assert report["ready"] is False and report["body"] == ""
    assert {m["name"] for m in report["missing"]} >= {"organisation", "incident_summary", "contact"}
    plain = ir("notices", "preview", case, "--template", "gdpr-individual-en")
    assert plain.exit_code == 2 and plain.stdout == ""
    assert "ir: missing fact organisation: not set" in plain.stderr


def test_preview_of_an_unknown_person_or_without_the_key_is_one_line(
    incident: str, ir: IrRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = ir("notices", "preview", incident, "--template", "gdpr-individual-en", "--person", "NOPE")
    assert nobody.exit_code != 0 and nobody.stderr.count("\n") == 1 and "nobody with that reference" in nobody.stderr
    monkeypatch.delenv("IR_KEY_FILE")
    locked = ir("notices", "preview", incident, "--template", "gdpr-individual-en")
    assert locked.exit_code != 0 and locked.stderr.count("\n") == 1 and "IR_KEY_FILE" in locked.stderr
    assert "Traceback" not in locked.stderr
    # A notice to a regulator names nobody: it needs no key.
    doc = ir.ok("notices", "preview", incident, "--template", "gdpr-authority-en", "--json").json()
    assert doc["ready"] and doc["reference"] == "" and doc["recipient"] == "regulator" and "Example Retail Ltd" in doc["body"]
