"""Rendering letters: the manifest as proof of notice, resuming, safe file names, checks."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from ir.workspace import Workspace
from tests.conftest import IrRunner, ir_process
from tests.notices.conftest import FACTS, PEOPLE, generated, ir_popen, kill, set_facts, wait_for, write_people


def manifest(out: Path) -> list[dict[str, str]]:
    with (out / "manifest.csv").open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def rendered_events(ws: Workspace, incident_id: str) -> list[dict]:
    return [e.payload for e in ws.incidents.timeline(incident_id) if e.kind == "notices.rendered"]


def test_render_writes_a_letter_per_person_and_a_manifest(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    out = tmp_path / "letters"
    run = ir.ok("notices", "render", incident, "--template", "pipl-individual-zh", "--out", str(out), "--json")
    assert run.stderr == "", "no progress bar when stderr is not a terminal"
    result = run.json()
    rows = manifest(out)
    assert list(rows[0]) == ["reference", "recipient", "file", "sha256"]
    assert [r["reference"] for r in rows] == ["C-0001"] and rows[0]["recipient"] == "张三, 北京市朝阳区建国路1号"
    for row in rows:
        data = (out / row["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"]
        assert (out / row["file"]).resolve().is_relative_to(out.resolve())
        assert (out / row["file"]).stat().st_mode & 0o077 == 0, "letters carry personal data: owner-only"
    digest = hashlib.sha256((out / "manifest.csv").read_bytes()).hexdigest()
    assert result["manifest_sha256"] == digest
    (event,) = rendered_events(ws, incident)
    assert {k: event[k] for k in ("template", "format", "count", "skipped", "manifest_sha256", "out")} == {
        "template": "pipl-individual-zh", "format": "txt", "count": 1, "skipped": 0, "manifest_sha256": digest, "out": str(out)}
    assert set(event["inputs"]) == {"incident", "template", "template_sha256", "jurisdictions", "facts_sha256", "subjects_seq"}
    assert len(event["inputs_sha256"]) == 64 and event["notice_date"].startswith("20")


def test_everyone_can_be_selected_and_people_lacking_a_field_are_listed(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    more = [["N1", "", "n1@example.com", "", "", "US-NY", "", ""]]
    ws.subjects.import_csv(incident, write_people(tmp_path / "more.csv", more))
    set_facts(ws, incident, {"affected_count": 1500040})
    out = tmp_path / "out"
    result = ir.ok("notices", "render", incident, "--template", "us-individual-en", "--out", str(out), "--jurisdiction", "ALL",
                   "--json").json()
    assert (result["count"], result["skipped"]) == (3, 1)
    assert {r["reference"] for r in manifest(out)} == {"C-0001", "C-0002", "C-0003"}
    with (out / "skipped.csv").open(encoding="utf-8") as f:
        assert list(csv.DictReader(f)) == [{"reference": "N1", "reason": "no name"}]


def test_rendering_again_into_a_finished_folder_changes_nothing(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    out = tmp_path / "out"
    first = ir.ok("notices", "render", incident, "--template", "gdpr-individual-en", "--out", str(out), "--json").json()
    second = ir.ok("notices", "render", incident, "--template", "gdpr-individual-en", "--out", str(out), "--json").json()
    assert second["manifest_sha256"] == first["manifest_sha256"] and second["seq"] == first["seq"] and second["rendered"] == 0
    assert len(rendered_events(ws, incident)) == 1


def test_a_folder_rendered_from_other_facts_is_not_mixed_with_new_letters(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner
) -> None:
    out = tmp_path / "out"
    ir.ok("notices", "render", incident, "--template", "gdpr-individual-en", "--out", str(out))
    set_facts(ws, incident, {"possible_harm": "Something else entirely."})
    run = ir("notices", "render", incident, "--template", "gdpr-individual-en", "--out", str(out))
    assert run.exit_code == 2 and "facts_sha256" in run.stderr and "new --out folder" in run.stderr
    other = ir("notices", "render", incident, "--template", "us-individual-en", "--out", str(out))
    assert other.exit_code == 2
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine")
    busy = ir("notices", "render", incident, "--template", "gdpr-individual-en", "--out", str(tmp_path / "full"))
    assert busy.exit_code == 2 and "not empty" in busy.stderr


def test_file_names_from_references_cannot_escape_the_folder(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    case = ws.incidents.open("personal-data-leak", title="names").id
    hostile = ["../../../etc/passwd", "/root/.ssh/id_rsa", "..", "a/b\\c", "CON", "=cmd|' /C calc'!A0", "+1", "@SUM(1)", "名字"]
    rows = [[ref, "Name", "", "", "", "DE", "", ""] for ref in hostile]
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", rows))
    set_facts(ws, case)
    out = tmp_path / "out"
    ir.ok("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(out))
    files = [p for p in out.rglob("*") if p.is_file()]
    assert all(p.resolve().is_relative_to(out.resolve()) for p in files)
    letters = [p for p in files if p.suffix == ".txt"]
    assert len(letters) == len(hostile)
    assert all(p.parent.parent == out / "letters" for p in letters)
    references = {r["reference"] for r in manifest(out)}
    assert "'=cmd|' /C calc'!A0" in references and "'+1" in references and "'@SUM(1)" in references
    assert not (tmp_path / "etc").exists()


def test_regulator_report_is_one_document(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    out = tmp_path / "report"
    ir.ok("notices", "render", incident, "--template", "cac-incident-report-zh", "--out", str(out), "--format", "html")
    (row,) = manifest(out)
    assert row["file"] == "cac-incident-report-zh.html" and row["recipient"] == "regulator"
    assert "事件级别：较大" in (out / row["file"]).read_text(encoding="utf-8")
    eml = ir("notices", "render", incident, "--template", "cac-incident-report-zh", "--out", str(tmp_path / "x"), "--format", "eml")
    assert eml.exit_code == 2 and "for letters to people" in eml.stderr


def test_check_lists_everything_missing_before_rendering(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    case = ws.incidents.open("personal-data-leak", title="check").id
    empty = ir("notices", "check", case, "pipl-individual-zh", "--json")
    assert empty.exit_code == 2
    report = empty.json()
    missing = {(m["kind"], m["name"]) for m in report["missing"]}
    assert {("fact", "organisation_zh"), ("fact", "incident_summary_zh"), ("fact", "root_cause_zh"),
            ("people", "subjects")} <= missing
    rows = [["Z1", "", "", "", "", "CN", "", ""], ["Z2", "王五", "", "", "", "CN", "", ""]]
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", rows))
    set_facts(ws, case, {k: v for k, v in FACTS.items() if k != "incident_grade"})
    us = ir("notices", "check", case, "us-individual-en", "--jurisdiction", "CN", "--json").json()
    assert {(m["kind"], m["name"], m["blocking"]) for m in us["missing"] if m["kind"] == "person"} == {("person", "name", False)}
    assert "1 of 2 people have no name" in json.dumps(us, ensure_ascii=False)
    ready = ws.notices.check(case, "pipl-individual-zh")
    assert [m for m in ready.missing if m.kind != "content" and m.blocking] == []
    brief = ir("notices", "check", case, "staff-brief-zh")
    assert brief.exit_code == 0 and "nothing missing" in brief.stdout
    grade = ir("notices", "check", case, "cac-incident-report-zh")
    assert grade.exit_code == 2 and "missing fact incident_grade: not set" in grade.stdout


def test_render_refuses_while_facts_are_missing(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    case = ws.incidents.open("personal-data-leak", title="not ready").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", PEOPLE))
    facts = {k: v for k, v in FACTS.items() if k != "root_cause_zh"}
    set_facts(ws, case, facts)
    run = ir("notices", "render", case, "--template", "pipl-individual-zh", "--out", str(tmp_path / "out"))
    assert run.exit_code == 2 and "root_cause_zh" in run.stderr and "ir notices check" in run.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_render_killed_midway_resumes_without_redoing_or_duplicating(
    ws: Workspace, tmp_path: Path, db_path: Path
) -> None:
    total = 8_000
    case = ws.incidents.open("personal-data-leak", title="resume").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(total, "DE")))
    set_facts(ws, case)
    out = tmp_path / "out"
    args = ("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(out))

    def listed() -> int:
        try:
            return sum(1 for _ in (out / "manifest.csv").open(encoding="utf-8")) - 1
        except FileNotFoundError:
            return 0

    proc = ir_popen(*args, db=db_path)
    try:
        wait_for(lambda: listed() >= 2_000 or proc.poll() is not None, 120, "letters to be listed")
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode != 0, "the render finished before it could be killed"
    before = listed()
    assert 0 < before < total and rendered_events(ws, case) == []
    done = ir_process(*args, "--json", db=db_path, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["resumed"] and result["count"] == total
    # Only the letters not yet listed were rendered again (plus at most the chunk cut back).
    assert total - before <= result["rendered"] <= total - before + 1_000
    rows = manifest(out)
    references = [r["reference"] for r in rows]
    assert len(references) == len(set(references)) == total
    assert set(references) == {f"P{i:07d}" for i in range(total)}
    letters = list((out / "letters").rglob("*.txt"))
    assert len(letters) == total
    for row in rows[:: total // 50]:
        assert hashlib.sha256((out / row["file"]).read_bytes()).hexdigest() == row["sha256"]
    (event,) = rendered_events(ws, case)
    assert event["count"] == total and event["manifest_sha256"] == hashlib.sha256((out / "manifest.csv").read_bytes()).hexdigest()


def test_bundles_hold_many_letters_each_listed_with_its_own_hash(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    case = ws.incidents.open("personal-data-leak", title="bundles").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(25, "DE")))
    set_facts(ws, case)
    out = tmp_path / "txt"
    result = ir.ok("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(out), "--bundle", "10",
                   "--json").json()
    assert result["count"] == 25
    rows = manifest(out)
    assert sorted({r["file"].split("#")[0] for r in rows}) == ["letters/000001.txt", "letters/000002.txt", "letters/000003.txt"]
    for row in rows:
        path, _, index = row["file"].partition("#")
        letter = (out / path).read_bytes().split(b"\f")[int(index) - 1]
        assert hashlib.sha256(letter).hexdigest() == row["sha256"]
        assert f"quote your reference {row['reference']}".encode() in letter
    mbox = tmp_path / "eml"
    ir.ok("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(mbox), "--format", "eml",
          "--from", "dpo@example.com", "--bundle", "25")
    import mailbox

    messages = list(mailbox.mbox(str(mbox / "letters" / "000001.mbox")))
    assert len(messages) == 25 and messages[0]["From"] == "dpo@example.com"
    html = ir("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(tmp_path / "h"), "--format", "html",
              "--bundle", "5")
    assert html.exit_code == 2 and "HTML letters are one file each" in html.stderr
