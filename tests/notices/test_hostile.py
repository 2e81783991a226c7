"""Hostile input on the notices side: template injection, runaway templates, any CSV, any file name."""

from __future__ import annotations

import concurrent.futures
import csv
import io
import string
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ir.errors import ContentErrors, IrError
from ir.notices import letters
from ir.notices.letters import Plan, Renderer, TemplateFailed
from ir.notices.people import FORMULA_START, safe_cell, unformula
from ir.notices.render import letter_path
from ir.notices.templates import load_template, safe_name
from ir.workspace import Workspace
from tests.conftest import IrRunner

FAST = settings(max_examples=120, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

HEADER = """---
id: {id}
title: Test
audience: public
locale: en
subject: "Hello"
needs:
  facts: [organisation, incident_summary]
---
"""

PAYLOADS = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}",
    "{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}",
    "{{ self._TemplateReference__context }}",
    "{{ self.__init__.__globals__ }}",
    "{{ joiner().__class__ }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ range(10) | list }}",
    "{{ organisation | attr('__class__') }}",
    "{{ organisation['__class__'] }}",
    "{{ (organisation | string).__class__.__base__ }}",
    "{{ '{0.__class__}'.format(organisation) }}",
    "{{ organisation.format_map(incident) }}",
    "{{ '%s' % organisation }}",
    "{{ '%999999999d' % 1 }}",
    "{{ organisation | format('x') }}",
    "{{ organisation | center(999999999) }}",
    "{{ organisation.center(999999999) }}",
    "{{ organisation | replace('', incident_summary) }}",
    "{{ 9 ** 9 ** 9 }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    "{% include '/etc/passwd' %}",
    "{% import 'os' as os %}{{ os }}",
    "{% extends 'base' %}",
    "{{ config.items() }}",
    "{{ request.application.__globals__.__builtins__ }}",
    "{{ organisation.__len__() }}",
    "{{ incident.items() | map(attribute='__class__') | list }}",
]
"""Known Jinja2 template-injection and resource-exhaustion payloads ({marker}: a file they would create)."""


def write_template(folder: Path, name: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.j2"
    path.write_text(HEADER.format(id=name) + body + "\n", encoding="utf-8")
    return path


def plan_for(body: str) -> Plan:
    """A plan that renders ``body`` straight away (no load-time checks): the sandbox on its own."""
    return Plan(
        template_id="raw", title="t", audience="public", locale="en", zone="UTC", body=body, subject="s", fast=False,
        fmt="txt", variables={"organisation": "Org", "incident_summary": "x" * 200, "incident": {"id": "INC"}}, titles={},
    )


@pytest.mark.parametrize("payload", PAYLOADS)
def test_injection_payloads_are_refused_when_loaded(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, payload: str) -> None:
    marker = tmp_path / "pwned"
    write_template(ws.store.path.parent / "notice_templates", "evil", payload.replace("{marker}", str(marker)))
    before = len(ws.incidents.timeline(incident))
    run = ir("notices", "render", incident, "--template", "evil", "--out", str(tmp_path / "out"))
    assert run.exit_code == 2, run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and run.stderr.startswith("ir: error: ")
    assert "notice_templates/evil.j2:10: body: " in run.stderr
    assert "Traceback" not in run.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()
    assert len(ws.incidents.timeline(incident)) == before


@pytest.mark.parametrize("payload", [p for p in PAYLOADS if "extends" not in p])
def test_the_sandbox_alone_also_refuses_them(tmp_path: Path, payload: str) -> None:
    """Defence in depth: rendered without the load-time checks, nothing reaches Python either."""
    marker = tmp_path / "pwned"
    body = payload.replace("{marker}", str(marker))
    try:
        text = Renderer(plan_for(body)).document().data.decode()
    except TemplateFailed as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith(("template raw: the body cannot be rendered: ", "template raw: the body cannot be compiled: "))
    else:
        assert "class" not in text and "globals" not in text.lower() and len(text) < 10_000, text[:200]
    assert not marker.exists()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("{% for a in incident_summary %}{% for b in incident_summary %}{{ incident_summary }}{% endfor %}{% endfor %}",
         "more than 2,000,000 characters"),
        ("{{ 'x' * 999999999 }}", "* would build a value of 999,999,999 items"),
        ("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}", "recurses too deeply"),
        ("{% for a in incident_summary %}{% for b in incident_summary %}{% for c in incident_summary %}"
         "{% for d in incident_summary %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}", "ran for more than 1 seconds"),
    ],
)
def test_runaway_templates_are_stopped(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch, body: str, why: str
) -> None:
    monkeypatch.setattr(letters, "TIME_LIMIT", 1.0)
    write_template(ws.store.path.parent / "notice_templates", "runaway", body)
    run = ir("notices", "render", incident, "--template", "runaway", "--out", str(tmp_path / "out"))
    assert run.exit_code == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "template runaway: the body cannot be rendered" in run.stderr and why in run.stderr
    assert [e for e in ws.incidents.timeline(incident) if e.kind == "notices.rendered"] == []


def test_a_runaway_template_is_stopped_in_a_thread_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal app renders in a worker thread, where no signal can reach: a watchdog does."""
    monkeypatch.setattr(letters, "TIME_LIMIT", 0.5)
    loops = ("{% for a in incident_summary %}{% for b in incident_summary %}{% for c in incident_summary %}"
             "{% for d in incident_summary %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}")

    def render(body: str) -> str:
        try:
            return Renderer(plan_for(body)).document().data.decode()
        except TemplateFailed as exc:
            return f"failed: {exc}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        began = time.monotonic()
        stopped = pool.submit(render, loops).result(timeout=30)
        took = time.monotonic() - began
        after = pool.submit(render, "Dear {{ organisation }}").result(timeout=30)
    assert stopped.startswith("failed: template raw: the body cannot be rendered") and "ran for more than 0.5 seconds" in stopped
    assert took < 5, "stopped near its limit, not when the loops ran out"
    assert after.startswith("Dear "), "the same thread renders the next letter normally"


def test_the_watchdog_thread_ends_when_nothing_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(letters._Watchdog, "IDLE", 0.2)
    watchdog = letters._Watchdog()

    def one_render() -> None:
        with watchdog.limit(5):
            pass

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(one_render).result()
    assert watchdog.thread is not None, "a render in a thread started the watching thread"
    began = time.monotonic()
    while watchdog.thread is not None and time.monotonic() - began < 10:
        time.sleep(0.05)
    assert watchdog.thread is None, "an idle watchdog does not keep waking"


def test_an_oversized_template_is_refused(tmp_path: Path) -> None:
    path = write_template(tmp_path, "big", "x" * 300_000)
    with pytest.raises(ContentErrors, match=r"big.j2: file is \d+ bytes; the limit is 262144"):
        load_template(path, "big.j2")


# ------------------------------------------------------------- property tests

JINJA_BITS = ["{{", "}}", "{%", "%}", "{#", "#}", "|", ".", "(", ")", "[", "]", "'", '"', "_", "__", "person", "organisation",
              "if", "for", "in", "endfor", "endif", "set", "=", "~", "*", "**", "%", "-", "\n", " ", "name", "date", "x"]
bodies = st.lists(st.one_of(st.sampled_from(JINJA_BITS), st.text(max_size=5)), max_size=40).map("".join)
headers = st.fixed_dictionaries({
    "audience": st.sampled_from(["individual", "public", "regulator", "everyone", ""]),
    "locale": st.sampled_from(["en", "zh-CN", "fr", "1"]),
    "extra": st.sampled_from(["", "rules: [x]\n", "needs: {person: [name]}\n", "needs: 3\n", "timezone: Mars/Base\n", "- a\n",
                              "subject: '{{ person.name'\n", "jurisdictions: [DE, de]\n"]),
})


@FAST
@given(body=bodies, header=headers)
def test_any_template_loads_and_renders_or_gives_one_line_errors(tmp_path_factory: pytest.TempPathFactory, body: str, header: dict) -> None:
    folder = tmp_path_factory.mktemp("t")
    text = (f"---\nid: fuzz\ntitle: T\naudience: {header['audience']}\nlocale: {header['locale']}\nsubject: \"S\"\n"
            f"needs:\n  facts: [organisation]\n{header['extra']}---\n{body}\n")
    path = folder / "fuzz.j2"
    path.write_text(text, encoding="utf-8")
    try:
        tpl = load_template(path, "fuzz.j2")
    except ContentErrors as exc:
        for error in exc.errors:
            assert "\n" not in str(error) and str(error).startswith("fuzz.j2")
        return
    plan = Plan(
        template_id=tpl.id, title="T", audience=tpl.meta.audience, locale=tpl.meta.locale, zone="UTC", body=tpl.body,
        subject=tpl.meta.subject, fast=tpl.fast, fmt="txt", variables={"organisation": "Org", "notice": {}, "incident": {},
                                                                        "exercise": False}, titles={},
    )
    try:
        renderer = Renderer(plan)
        if tpl.meta.audience != "individual":
            renderer.document()
    except IrError as exc:
        assert "\n" not in str(exc)


@FAST
@given(st.text(max_size=60))
def test_any_cell_written_to_a_csv_output_is_not_a_formula_and_reads_back(value: str) -> None:
    cell = safe_cell(value)
    assert not cell.startswith(FORMULA_START), cell
    assert unformula(cell) == value
    buffer = io.StringIO()
    csv.writer(buffer).writerow([cell])
    (read,) = csv.reader(io.StringIO(buffer.getvalue()))
    assert read == [cell]


@FAST
@given(st.text(max_size=80), st.text(alphabet=string.hexdigits.lower(), min_size=8, max_size=64))
def test_any_reference_gives_a_file_name_inside_the_output_folder(reference: str, key: str) -> None:
    name = safe_name(reference)
    assert name and "/" not in name and "\\" not in name and name not in (".", "..") and not name.startswith(".")
    relative = letter_path(reference, key.ljust(8, "0"), "txt")
    out = Path("/srv/out")
    assert (out / relative).resolve().is_relative_to(out), relative


# ------------------------------------------------------------------- the CSV import

cells = st.one_of(
    st.sampled_from(["", "DE", "CN", "us-ca", "Germany", "=1+1", "'=x", "+49 30 1234567", "a@b.cn", "not@", "name;health",
                     "shoe", "中文", "张三", "\x00", "\x1f", "line\r\nbreak", '"', "x" * 300]),
    st.text(max_size=12),
)
PLAUSIBLE = {
    "reference": st.text(alphabet=string.ascii_uppercase + string.digits + "-", min_size=1, max_size=6),
    "jurisdiction": st.sampled_from(["DE", "CN", "US-CA", "us-ny", "FR"]),
    "email": st.emails(),
    "name": st.text(max_size=10),
    "categories": st.sampled_from(["", "name", "name;health", "contact、national_id", "Health"]),
    "locale": st.sampled_from(["", "en", "zh", "fr_FR"]),
    "phone": st.sampled_from(["", "+49 30 1234567", "12"]),
}
"""Values that pass each column's checks (mixed with anything at all)."""
known = ["reference", "name", "email", "phone", "postal_address", "jurisdiction", "locale", "categories"]
headings = st.one_of(
    st.lists(st.sampled_from(known[1:5] + known[6:]), max_size=6, unique=True).map(lambda h: ["reference", "jurisdiction", *h]),
    st.lists(st.sampled_from(known[1:5] + known[6:]), max_size=6, unique=True).map(lambda h: [*h, "jurisdiction", "reference"]),
    st.lists(st.sampled_from(known[1:5] + known[6:]), max_size=6, unique=True).map(lambda h: ["reference", "jurisdiction", *h]),
    st.lists(st.one_of(st.sampled_from([*known, "编号", "地区", "Notes", "", "E-mail"]), st.text(max_size=6)), min_size=1, max_size=6),
)


@FAST
@given(data=st.data(), header=headings, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
       noise=st.sampled_from([b"", b"", b"", b"", b"\xff\xfe\x00", b"\x00\n", b"\r", b"\xe4\xb8"]))
def test_any_csv_imports_or_gives_a_one_line_error_and_changes_nothing(
    ws: Workspace, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, header: list[str], encoding: str, noise: bytes
) -> None:
    case = _case(ws)
    folder = tmp_path_factory.mktemp("csv")
    row = st.tuples(*(st.one_of(PLAUSIBLE.get(h, cells), PLAUSIBLE.get(h, cells), cells) for h in header)).map(list)
    rows = data.draw(st.lists(st.one_of(row, row, row, st.lists(cells, max_size=len(header) + 1)), max_size=10))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    try:
        raw = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        raw = buffer.getvalue().encode("utf-8", "replace")
    path = folder / "people.csv"
    path.write_bytes(raw + noise)
    before = _snapshot(ws, case)
    try:
        result = ws.subjects.import_csv(case, path, rejects=folder / "rejects.csv")
    except IrError as exc:
        event(f"refused: {type(exc).__name__}")
        assert "\n" not in str(exc) and str(exc).strip()
        assert _snapshot(ws, case) == before, "a refused import changes nothing"
        return
    event("imported" if result.imported + result.updated else "read, nobody new")
    assert result.rows == result.imported + result.updated + result.unchanged + result.rejected
    assert not list(ws.store.path.parent.glob(".ir-import-*"))


_CASES: dict[str, str] = {}


def _case(ws: Workspace) -> str:
    """One incident per workspace for the whole property run (examples share the test's workspace)."""
    key = str(ws.store.path)
    if key not in _CASES:
        _CASES[key] = ws.incidents.open("personal-data-leak", title="fuzz").id
    return _CASES[key]


def _snapshot(ws: Workspace, case: str) -> tuple[object, ...]:
    with ws.store.read():
        people = ws.store.query("SELECT ref_hash, jurisdiction, locale, categories, hex(pii) AS p FROM subjects ORDER BY ref_hash")
        imports = ws.store.query("SELECT id, state, merged_key FROM subject_imports ORDER BY id")
    return len(ws.incidents.timeline(case)), [tuple(r.values()) for r in people], [tuple(r.values()) for r in imports]

