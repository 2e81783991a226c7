"""Importing the list of affected people: encodings, broken rows, re-import, mapping, crashes."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pytest

from ir.notices import pii
from ir.workspace import Workspace
from tests.conftest import IrRunner, ir_process
from tests.notices.conftest import PEOPLE, generated, ir_popen, kill, wait_for, write_people


def stored(ws: Workspace, incident_id: str) -> dict[str, pii.Personal]:
    """Everyone stored for the incident, by reference (opened with the configured key)."""
    cipher = ws.keys.cipher("the test")
    people = [cipher.open(incident_id, row[0], row[4]) for page in ws.notices.people(incident_id, "", []) for row in page]
    return {person.reference: person for person in people}


def rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def events(ws: Workspace, incident_id: str, kind: str) -> list[dict]:
    return [e.payload for e in ws.incidents.timeline(incident_id) if e.kind == kind]


@pytest.fixture
def case(ws: Workspace) -> str:
    return ws.incidents.open("personal-data-leak", title="import").id


CHINESE = [
    ["A1", "张三", "zs@example.cn", "", "北京市朝阳区建国路1号", "CN", "", "姓名;身份证件号码"],
    ["A2", "李四", "", "+86 139 0000 0000", "上海市浦东新区世纪大道2号", "CN", "", "联系方式"],
]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_each_encoding_is_detected_and_read(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner, encoding: str) -> None:
    header = ["编号", "姓名", "邮箱", "手机", "地址", "地区", "语言", "数据类别"]
    path = write_people(tmp_path / "people.csv", CHINESE, header=header, encoding=encoding)
    result = ir.ok("subjects", "import", case, str(path), "--json").json()
    assert result["encoding"] == {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "gb18030": "GB18030"}[encoding]
    assert (result["rows"], result["imported"], result["rejected"]) == (2, 2, 0)
    people = stored(ws, case)
    assert people["A1"].name == "张三" and people["A2"].postal_address == "上海市浦东新区世纪大道2号"
    assert result["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_encoding_can_be_given(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    path = write_people(tmp_path / "gbk.csv", CHINESE, encoding="gbk")
    result = ir.ok("subjects", "import", case, str(path), "--encoding", "gbk", "--json").json()
    assert result["imported"] == 2 and stored(ws, case)["A2"].name == "李四"
    bad = ir("subjects", "import", case, str(path), "--encoding", "klingon")
    assert bad.exit_code == 2 and "unknown encoding" in bad.stderr


def test_a_file_in_no_known_encoding_is_refused_whole(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"reference,jurisdiction\nA1,CN\nA2,\xff\xfe\xff\n")
    run = ir("subjects", "import", case, str(path))
    assert run.exit_code == 2
    assert run.stderr.startswith("ir: error: ") and "bad.csv:3: not UTF-8 text" in run.stderr and "--encoding" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert stored(ws, case) == {} and events(ws, case, "subjects.imported") == []


def test_broken_rows_go_to_the_rejects_file_with_line_and_reason(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    rows = [
        ["G1", "Good One", "g1@example.com", "", "1 Road\nTown", "de", "", "name"],          # lines 2-3
        ["", "No Reference", "x@example.com", "", "", "DE", "", ""],                      # line 4
        ["B2", "Bad Mail", "not-an-address", "", "", "DE", "", ""],                      # line 5
        ["B3", "Bad Place", "b3@example.com", "", "", "Germany", "", ""],                # line 6
        ["B4", "Bad Kind", "b4@example.com", "", "", "DE", "", "shoe size"],             # line 7
        ["=HYPERLINK(\"http://x\")", "Formula", "", "", "", "", "", ""],                  # line 8
        ["G1", "Repeat", "r@example.com", "", "", "DE", "", ""],                         # line 9
        ["B5", "Bad Phone", "", "call me", "", "DE", "", ""],                             # line 10
    ]
    path = write_people(tmp_path / "people.csv", rows)
    with path.open("a", encoding="utf-8") as f:
        f.write("B6,Short Row\n")                                                        # line 11
    result = ir.ok("subjects", "import", case, str(path), "--json").json()
    assert (result["rows"], result["imported"], result["rejected"]) == (9, 1, 8)
    found = {r["line"]: r for r in rejects(Path(result["rejects"]))}
    assert sorted(found) == ["10", "11", "4", "5", "6", "7", "8", "9"]
    assert found["4"]["reason"] == "reference is empty"
    assert "not an e-mail address" in found["5"]["reason"]
    assert "'Germany' is not a code" in found["6"]["reason"]
    assert "unknown data category 'shoe size'" in found["7"]["reason"]
    assert found["8"]["reference"].startswith("'=HYPERLINK"), "a cell starting with = is escaped"
    assert found["9"]["reason"] == "reference repeats line 2"
    assert "not a phone number" in found["10"]["reason"]
    assert found["11"]["reason"] == "has 2 fields where the header has 8"
    assert stored(ws, case)["G1"].postal_address == "1 Road\nTown"
    (event,) = events(ws, case, "subjects.imported")
    assert event["rows"] == 9 and event["rejected"] == 8 and event["by_jurisdiction"] == {"DE": 1}


def test_rejects_file_can_be_fixed_and_imported(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    path = write_people(tmp_path / "people.csv", [["P1", "Plus", "", "+49 30 1234567", "", "Germany", "", ""]])
    result = ir.ok("subjects", "import", case, str(path), "--json").json()
    fixed = rejects(Path(result["rejects"]))
    assert fixed[0]["phone"] == "'+49 30 1234567"
    for row in fixed:
        row["jurisdiction"] = "DE"
    again = tmp_path / "fixed.csv"
    with again.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(fixed[0]))
        writer.writeheader()
        writer.writerows(fixed)
    second = ir.ok("subjects", "import", case, str(again), "--json").json()
    assert second["imported"] == 1 and second["ignored_columns"] == ["line", "reason"]
    assert stored(ws, case)["P1"].phone == "+49 30 1234567"


def test_reimport_is_idempotent_by_reference(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    path = write_people(tmp_path / "people.csv", PEOPLE)
    first = ir.ok("subjects", "import", case, str(path), "--json").json()
    second = ir.ok("subjects", "import", case, str(path), "--json").json()
    assert (first["imported"], second["imported"], second["unchanged"]) == (3, 0, 3)
    changed = [list(p) for p in PEOPLE]
    changed[0][2] = "new-address@example.cn"
    changed.append(["C-0004", "New Person", "", "", "", "CN", "", ""])
    third = ir.ok("subjects", "import", case, str(write_people(tmp_path / "v2.csv", changed)), "--json").json()
    assert (third["imported"], third["updated"], third["unchanged"]) == (1, 1, 2)
    assert stored(ws, case)["C-0001"].email == "new-address@example.cn"
    summary = ir.ok("subjects", "show", case, "--json").json()
    assert summary["total"] == 4 and summary["by_jurisdiction"] == {"CN": 2, "DE": 1, "US-CA": 1}
    assert len(events(ws, case, "subjects.imported")) == 3


def test_import_sets_the_subjects_and_affected_count_facts(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    ir.ok("subjects", "import", case, str(write_people(tmp_path / "people.csv", PEOPLE)))
    facts = ws.incidents.get(case).facts
    assert facts["subjects"] == {"CN": 1, "DE": 1, "US-CA": 1} and facts["affected_count"] == 3
    timeline = ws.incidents.timeline(case)
    imported = [e for e in timeline if e.kind == "subjects.imported"][0]
    fact = [e for e in timeline if e.kind == "fact.set"][-1]
    assert fact.seq == imported.seq + 1 and fact.recorded_at == imported.recorded_at
    assert set(imported.payload) >= {"file_sha256", "rows", "imported", "updated", "rejected", "by_jurisdiction"}
    fresh = ir_process("incident", "log", case, db=ws.store.path)
    assert "imported 3 rows of affected people from people.csv" in fresh.stdout, "a new process describes the event too"


def test_columns_can_be_mapped(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    header = ["Customer No", "Full Name", "Mail To", "Country", "Notes"]
    path = write_people(tmp_path / "export.csv", [["K1", "Kim", "kim@example.com", "KR", "vip"]], header=header)
    missing = ir("subjects", "import", case, str(path))
    assert missing.exit_code == 2 and "no column holds reference" in missing.stderr and "--map" in missing.stderr
    run = ir("subjects", "import", case, str(path), "--map", "Customer No=reference", "--map", "Mail To=email",
             "--map", "Country=jurisdiction")
    assert run.exit_code == 0, run.stderr
    assert "ignored columns: Notes" in run.stderr
    assert stored(ws, case)["K1"].email == "kim@example.com" and stored(ws, case)["K1"].name == "Kim"
    unknown = ir("subjects", "import", case, str(path), "--map", "Nope=reference")
    assert unknown.exit_code == 2 and "--map 'Nope': no such column" in unknown.stderr
    bad_field = ir("subjects", "import", case, str(path), "--map", "Country=nation")
    assert bad_field.exit_code == 2 and "unknown field 'nation'" in bad_field.stderr


@pytest.mark.parametrize("target", ["missing.csv", "."])
def test_a_wrong_path_is_one_line_and_changes_nothing(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner, target: str) -> None:
    before = len(ws.incidents.timeline(case))
    run = ir("subjects", "import", case, str(tmp_path / target))
    assert run.exit_code == 2 and len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr
    assert len(ws.incidents.timeline(case)) == before


def test_unknown_incident_and_closed_incident_are_refused(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    path = write_people(tmp_path / "people.csv", PEOPLE)
    assert "no incident 'INC-1999-0001'" in ir("subjects", "import", "INC-1999-0001", str(path)).stderr
    closed = ws.incidents.open("personal-data-leak", title="closed").id
    for task in ("record_report", "inform_dpo"):
        ws.incidents.complete_task(closed, task)
    ws.incidents.answer(closed, "breach_confirmed", "no")
    ws.incidents.answer(closed, "dismissal_reason", "test alarm")
    ws.incidents.fire(closed, "dismiss")
    run = ir("subjects", "import", closed, str(path))
    assert run.exit_code == 2 and "is closed" in run.stderr


def test_rebuild_leaves_the_people_alone(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    ir.ok("subjects", "import", case, str(write_people(tmp_path / "people.csv", PEOPLE)))
    ir.ok("admin", "rebuild")
    assert len(stored(ws, case)) == 3
    assert ir.ok("subjects", "show", case, "--json").json()["total"] == 3
    ir.ok("audit", "verify")


def test_personal_fields_are_one_sealed_column(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    ir.ok("subjects", "import", case, str(write_people(tmp_path / "people.csv", PEOPLE)))
    rows = ws.store.query("SELECT * FROM subjects WHERE incident_id = ?", (case,))
    assert {"pii", "key_id", "ref_hash", "jurisdiction", "locale", "categories"} <= set(rows[0])
    cipher = ws.keys.cipher("the test")
    for row in rows:
        clear = {k: v for k, v in row.items() if k != "pii"}
        assert "张三" not in json.dumps(clear, ensure_ascii=False) and "@" not in json.dumps(clear)
        assert row["key_id"] == cipher.key_id and pii.key_id_of(row["pii"]) == cipher.key_id
        assert b"example" not in row["pii"] and "张三".encode() not in row["pii"]
        reference = cipher.open(case, row["ref_hash"], row["pii"]).reference
        assert row["ref_hash"] == hashlib.sha256(reference.encode()).hexdigest()


def test_locale_defaults_by_jurisdiction(ws: Workspace, case: str, tmp_path: Path, ir: IrRunner) -> None:
    rows = [["L1", "", "", "", "", "CN", "", ""], ["L2", "", "", "", "", "FR", "", ""], ["L3", "", "", "", "", "FR", "fr_FR", ""],
            ["L4", "", "", "", "", "CN", "English", ""]]
    ir.ok("subjects", "import", case, str(write_people(tmp_path / "people.csv", rows)))
    summary = ir.ok("subjects", "show", case, "--json").json()
    assert summary["by_locale"] == {"en": 2, "fr-FR": 1, "zh-CN": 1}


@pytest.mark.slow
def test_an_import_killed_midway_resumes_without_duplicates(ws: Workspace, case: str, tmp_path: Path, db_path: Path) -> None:
    total = 70_000
    path = write_people(tmp_path / "big.csv", generated(total, "DE") + [["P0000007", "Repeat", "", "", "", "DE", "", ""]])
    proc = ir_popen("subjects", "import", case, str(path), db=db_path)
    try:
        wait_for(lambda: ws.subjects.summary(case)["total"] > 0 or proc.poll() is not None, 120, "a first committed batch")
    finally:
        if proc.poll() is None:
            kill(proc)
    assert proc.returncode != 0, "the import was killed before it finished (make the file bigger if this fails)"
    assert 0 < ws.subjects.summary(case)["total"] < total
    assert events(ws, case, "subjects.imported") == []
    elsewhere = ws.incidents.open("personal-data-leak", title="other").id
    refused = ir_process("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(tmp_path / "o"), db=db_path)
    assert refused.returncode == 2 and "did not finish" in refused.stderr
    other = ir_process("subjects", "import", case, str(write_people(tmp_path / "x.csv", PEOPLE)), db=db_path)
    assert other.returncode == 2 and "--abandon-unfinished" in other.stderr
    done = ir_process("subjects", "import", case, str(path), "--json", db=db_path, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["resumed"] and result["rows"] == total + 1 and result["rejected"] == 1
    assert result["imported"] == total and result["updated"] == 0 and result["unchanged"] == 0
    assert ws.subjects.summary(case)["total"] == total
    (event,) = events(ws, case, "subjects.imported")
    assert event["imported"] == total and event["by_jurisdiction"] == {"DE": total}
    assert ws.incidents.get(case).facts["affected_count"] == total
    assert ws.subjects.summary(elsewhere)["total"] == 0


@pytest.mark.slow
def test_parallel_import_finds_exactly_what_a_single_process_finds(ws: Workspace, tmp_path: Path) -> None:
    rows = generated(60_000, "FR")
    rows[10][2] = "broken@"                       # a bad address
    rows[20_000][4] = "Line one\r\nLine two"      # a quoted address over two lines
    rows[30_000][1] = "Unit\x1fSeparator"         # a control character the workers' packing uses
    rows[59_999][0] = rows[5][0]                  # a repeated reference
    path = write_people(tmp_path / "big.csv", rows)
    assert path.stat().st_size > 4 << 20, "big enough for the workers to be used"
    results = {}
    for workers in (1, 2):
        case = ws.incidents.open("personal-data-leak", title=f"workers {workers}").id
        result = ws.subjects.import_csv(case, path, workers=workers, rejects=tmp_path / f"rejects-{workers}.csv")
        results[workers] = (result.rows, result.imported, result.rejected, rejects(Path(result.rejects)), stored(ws, case))
    assert results[1] == results[2]
    rows_read, imported, rejected, rejected_rows, people = results[2]
    assert (rows_read, imported, rejected) == (60_000, 59_997, 3)
    assert [r["line"] for r in rejected_rows] == ["12", "30003", "60002"]
    assert people[rows[20_000][0]].postal_address == "Line one\nLine two"


def test_an_unwritable_rejects_file_is_refused_before_anything_is_written(
    ws: Workspace, case: str, tmp_path: Path, ir: IrRunner
) -> None:
    path = write_people(tmp_path / "people.csv", PEOPLE)
    run = ir("subjects", "import", case, str(path), "--rejects", str(tmp_path / "missing-folder" / "r.csv"))
    assert run.exit_code == 2 and "cannot write the rejects file" in run.stderr and "--rejects PATH" in run.stderr
    assert stored(ws, case) == {} and ws.subjects.unfinished(case) == []
    done = ir.ok("subjects", "import", case, str(path), "--json").json()
    assert done["imported"] == 3 and not list(ws.store.path.parent.glob(".ir-import-*"))
