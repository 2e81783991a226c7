"""Shipped templates against golden files, template validation, the sandbox, and fast rendering."""

from __future__ import annotations

import csv
import os
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest

from ir.errors import ContentErrors
from ir.notices.letters import Renderer
from ir.notices.templates import load_template
from ir.workspace import Workspace
from tests.conftest import REPO, IrRunner
from tests.notices.conftest import FACTS, PEOPLE, set_facts, write_people

GOLDEN = Path(__file__).parent / "golden"
SHIPPED = sorted(p.name[: -len(".j2")] for p in (REPO / "notice_templates").glob("*.j2"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
"""Run with UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change (then review the diff)."""


def rendered(out: Path) -> dict[str, str]:
    """reference (or '') -> the text of the file the manifest lists for it."""
    with (out / "manifest.csv").open(encoding="utf-8", newline="") as f:
        return {row["reference"]: (out / row["file"]).read_text(encoding="utf-8") for row in csv.DictReader(f)}


def compare(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}; run with UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def test_every_required_template_ships() -> None:
    required = {
        "pipl-individual-zh", "pipl-regulator-zh", "cac-incident-report-zh", "gdpr-authority-en", "gdpr-individual-en",
        "us-individual-en", "hipaa-individual-en", "public-statement-en", "public-statement-zh", "staff-brief-en",
        "staff-brief-zh",
    }
    assert required <= set(SHIPPED)


@pytest.mark.parametrize("template", SHIPPED)
def test_shipped_template_matches_its_golden_file(ws: Workspace, incident: str, tmp_path: Path, template: str) -> None:
    result = ws.notices.render(incident, template, tmp_path / "out")
    letters = rendered(tmp_path / "out")
    audience = ws.notices.template(template).meta.audience
    assert result.count == len(letters) == 1, "each shipped template goes to one person of the fixture (or is one document)"
    (text,) = letters.values()
    compare(f"{template}.txt", text)
    if audience == "individual":
        assert list(letters) != [""]


def test_rules_of_shipped_templates_are_the_agreed_ones(ws: Workspace) -> None:
    rules = {t.id: t.meta.rules for t in ws.notices.templates()[0]}
    assert rules["pipl-individual-zh"] == ["cn-pipl-individuals"]
    assert rules["pipl-regulator-zh"] == ["cn-pipl-regulator"]
    assert rules["cac-incident-report-zh"] == ["cn-cac-report", "cn-cac-summary"]
    assert rules["gdpr-authority-en"] == ["eu-gdpr-authority", "gb-ukgdpr-authority"]
    assert rules["gdpr-individual-en"] == ["eu-gdpr-individuals", "gb-ukgdpr-individuals"]
    assert rules["hipaa-individual-en"] == ["us-hipaa-individuals"]
    assert set(rules["us-individual-en"]) == {f"us-{s}-individuals" for s in ("ca", "ny", "tx", "fl", "ma", "wa", "co")}


def test_us_letter_has_californias_title_and_headings(ws: Workspace, incident: str, tmp_path: Path) -> None:
    ws.notices.render(incident, "us-individual-en", tmp_path / "out")
    (text,) = rendered(tmp_path / "out").values()
    lines = text.splitlines()
    assert lines[0] == "Notice of Data Breach"
    headings = ["What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"]
    positions = [lines.index(h) for h in headings]
    assert positions == sorted(positions)


def test_html_letter_is_escaped_and_structured(ws: Workspace, tmp_path: Path) -> None:
    state = ws.incidents.open("personal-data-leak", title="html")
    people = [["R1", "<script>alert(1)</script> & Co", "r1@example.com", "", "", "US-NY", "en", ""]]
    ws.subjects.import_csv(state.id, write_people(tmp_path / "p.csv", people))
    set_facts(ws, state.id, {**FACTS, "incident_summary": "A <b>bold</b> claim & more"})
    ws.notices.render(state.id, "us-individual-en", tmp_path / "out", fmt="html")
    (html,) = rendered(tmp_path / "out").values()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "A &lt;b&gt;bold&lt;/b&gt; claim &amp; more" in html
    assert "<h1>Notice of Data Breach</h1>" in html and "<h2>What Happened</h2>" in html
    compare("us-individual-en.html", html)


def test_email_letter_parses_with_headers_and_both_parts(ws: Workspace, incident: str, tmp_path: Path) -> None:
    ws.notices.render(incident, "pipl-individual-zh", tmp_path / "out", fmt="eml", sender="privacy@example.cn")
    with (tmp_path / "out" / "manifest.csv").open(encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    raw = (tmp_path / "out" / row["file"]).read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    message = message_from_bytes(raw, policy=default_policy)
    assert message["To"].addresses[0].display_name == "张三"
    assert message["To"].addresses[0].addr_spec == "zhangsan@example.cn"
    assert message["Subject"] == "示例零售有限公司关于您个人信息安全事件的告知"
    assert message["Message-ID"].endswith("@example.cn>")
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "尊敬的张三：" in plain and "尊敬的张三：" in html
    assert row["recipient"] == "张三 <zhangsan@example.cn>"


def test_drill_notices_are_marked_exercise_in_subject_and_body(ws: Workspace, tmp_path: Path) -> None:
    state = ws.incidents.open("personal-data-leak", title="tabletop", mode="drill")
    ws.subjects.import_csv(state.id, write_people(tmp_path / "p.csv", PEOPLE))
    set_facts(ws, state.id, {**FACTS, "affected_count": 3, "subjects": {"CN": 1, "DE": 1, "US-CA": 1}})
    ws.notices.render(state.id, "pipl-individual-zh", tmp_path / "txt")
    (text,) = rendered(tmp_path / "txt").values()
    assert text.startswith("EXERCISE 演练") and text.rstrip().endswith("未涉及真实个人信息。")
    compare("pipl-individual-zh.exercise.txt", text)
    ws.notices.render(state.id, "gdpr-individual-en", tmp_path / "eml", fmt="eml", sender="dpo@example.com")
    with (tmp_path / "eml" / "manifest.csv").open(encoding="utf-8") as f:
        (row,) = list(csv.DictReader(f))
    message = message_from_bytes((tmp_path / "eml" / row["file"]).read_bytes(), policy=default_policy)
    assert message["Subject"].startswith("[EXERCISE] ")
    assert message.get_body(("plain",)).get_content().startswith("EXERCISE - ")
    ws.notices.render(state.id, "gdpr-authority-en", tmp_path / "doc", fmt="html")
    (html,) = rendered(tmp_path / "doc").values()
    assert '<p class="exercise">EXERCISE - ' in html and "<title>[EXERCISE] Personal data breach notification" in html


@pytest.mark.parametrize("fmt", ["txt", "html", "eml"])
@pytest.mark.parametrize("template", ["pipl-individual-zh", "us-individual-en", "gdpr-individual-en", "hipaa-individual-en"])
def test_filled_in_letters_equal_letters_rendered_in_full(ws: Workspace, incident: str, template: str, fmt: str) -> None:
    state = ws.incidents.get(incident)
    tpl = ws.notices.template(template)
    assert tpl.fast, "shipped letters read person fields only as plain outputs"
    import datetime as dt

    plan = ws.notices.plan(state, tpl, fmt, dt.datetime(2026, 11, 20, 1, tzinfo=dt.timezone.utc), sender="dpo@example.com")
    cipher = ws.keys.cipher("the test")
    fast = Renderer(plan, cipher)
    full = Renderer(type(plan)(**{**plan.__dict__, "fast": False}), cipher)
    with ws.store.read():
        pass
    rows = [row for page in ws.notices.people(incident, "", []) for row in page]
    assert len(rows) == 3
    for row in rows:
        assert fast.letter(row).data == full.letter(row).data


def write_template(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.j2"
    path.write_text(text, encoding="utf-8")
    return path


HEADER = """---
id: {id}
title: Test
audience: individual
locale: en
subject: "Hello"
needs:
  facts: [organisation]
---
"""


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("Dear {{ person.name }},\n{{ organsation }}\n", 11, "reads 'organsation', which is not declared"),
        ("Hello\n{% if %}\n", 11, "template syntax error"),
        ("Hi {{ person.nmae }}\n", 10, "person has no field 'nmae'"),
    ],
)
def test_template_errors_name_file_line_and_field(tmp_path: Path, body: str, line: int, message: str) -> None:
    path = write_template(tmp_path, "t-one", HEADER.format(id="t-one") + body)
    with pytest.raises(ContentErrors) as caught:
        load_template(path, "t-one.j2")
    first = caught.value.errors[0]
    assert (first.path, first.line) == ("t-one.j2", line)
    assert message in str(first)


def test_header_errors_point_at_the_line(tmp_path: Path) -> None:
    text = HEADER.format(id="t-two").replace("audience: individual", "audience: everyone").replace("locale: en", "locale: fr")
    path = write_template(tmp_path, "t-two", text + "x\n")
    with pytest.raises(ContentErrors) as caught:
        load_template(path, "t-two.j2")
    found = {(e.line, e.field) for e in caught.value.errors}
    assert (4, "audience") in found and (5, "locale") in found
    wrong_id = write_template(tmp_path, "t-three", HEADER.format(id="other") + "x\n")
    with pytest.raises(ContentErrors, match=r"t-three.j2:2: id: id 'other' must match the file name"):
        load_template(wrong_id, "t-three.j2")


@pytest.mark.parametrize(
    "payload",
    [
        "{{ organisation.__class__.__mro__[1].__subclasses__() }}",
        "{{ notice.date.__class__.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
    ],
)
def test_templates_cannot_reach_python_internals(ws: Workspace, incident: str, tmp_path: Path, payload: str, ir: IrRunner) -> None:
    write_template(
        ws.store.path.parent / "notice_templates", "evil", HEADER.format(id="evil").replace("individual", "public") + payload + "\n"
    )
    run = ir("notices", "render", incident, "--template", "evil", "--out", str(tmp_path / "out"))
    assert run.exit_code != 0
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "out" / "manifest.csv").exists()


def test_workspace_template_overrides_the_shipped_one(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    shipped = (REPO / "notice_templates" / "staff-brief-en.j2").read_text(encoding="utf-8")
    write_template(ws.store.path.parent / "notice_templates", "staff-brief-en", shipped.replace("Staff brief:", "Team brief:"))
    ws.notices.render(incident, "staff-brief-en", tmp_path / "out")
    (text,) = rendered(tmp_path / "out").values()
    assert text.startswith("Team brief: data security incident")


def test_templates_command_lists_id_audience_locale_rules(ir: IrRunner) -> None:
    listed = ir.ok("notices", "templates", "--json").json()
    by_id = {t["id"]: t for t in listed}
    assert by_id["pipl-individual-zh"]["audience"] == "individual"
    assert by_id["pipl-individual-zh"]["locale"] == "zh-CN"
    assert by_id["cac-incident-report-zh"]["rules"] == ["cn-cac-report", "cn-cac-summary"]
    text = ir.ok("notices", "templates").stdout
    assert "gdpr-authority-en" in text and "regulator" in text


def test_a_broken_workspace_template_is_reported_not_fatal(ws: Workspace, ir: IrRunner) -> None:
    write_template(ws.store.path.parent / "notice_templates", "broken", "no header\n")
    run = ir("notices", "templates")
    assert run.exit_code == 0
    assert "broken.j2:1: a template starts with a '---' line" in run.stderr
    assert "us-individual-en" in run.stdout
