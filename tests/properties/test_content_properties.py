"""Broken input to the scenario, response-script and rule loaders and to the ``--facts`` file.

Arbitrary text, arbitrary YAML values, and damaged copies of the files ir ships (a value
replaced, a key renamed) each give a result or one-line errors naming the file, never a
traceback; through the command line the exit status is 0 or 2, stderr holds nothing but
one-line messages, and a refused command leaves the event log as it was.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ir.content.paths import shipped_dir
from ir.content.validate import validate_document
from ir.content.yamlfile import parse_document
from ir.drills.scenario import scenario_from_document
from ir.drills.script import Script, check_script
from ir.errors import ContentError, ContentErrors
from ir.obligations.book import load_book
from ir.obligations.vocabulary import DATA_CATEGORIES, FACTS
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.properties.test_loader_properties import _mutate, one_line, values

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
MEDIUM = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

SCENARIOS = sorted(shipped_dir("scenarios").glob("*.yaml"))
RESPONSES = {p.stem: p for p in sorted((shipped_dir("scenarios") / "responses").glob("*.yaml"))}
RULES = sorted(shipped_dir("rules").glob("*.yaml"))
PLAYBOOKS = sorted(shipped_dir("playbooks").glob("*.yaml"))

paths = st.lists(st.integers(min_value=0, max_value=60), max_size=6)
keys = st.one_of(st.text(max_size=12), st.sampled_from(["id", "at", "to", "when", "from", "until", "payload", "record", "as"]))


def _rename(data: Any, path: list[int], key: str) -> Any:
    """``data`` with the key found by following ``path`` renamed to ``key``."""
    if isinstance(data, list) and data:
        idx = path[0] % len(data) if path else 0
        return data[:idx] + [_rename(data[idx], path[1:], key)] + data[idx + 1 :]
    if not isinstance(data, dict) or not data:
        return data
    old = list(data)[path[0] % len(data)] if path else list(data)[0]
    if len(path) > 1:
        return {**data, old: _rename(data[old], path[1:], key)}
    return {(key if k == old else k): v for k, v in data.items()}


def _damaged(base: Any, how: str, path: list[int], new: Any, key: str) -> Any:
    return _rename(base, path, key) if how == "rename" else _mutate(base, path, new)


def named_problems(exc: ContentErrors | ContentError, name: str) -> None:
    """Every problem is one line that starts with the file's name."""
    errors = exc.errors if isinstance(exc, ContentErrors) else [exc]
    assert errors
    for error in errors:
        one_line(error)
        assert str(error).startswith(name), str(error)


def shipped_data(path: Path) -> Any:
    """A shipped file's data, read by ir's own loader (PyYAML's pure-Python parser refuses some
    flow mappings libyaml accepts)."""
    return parse_document(path.read_text(encoding="utf-8"), path.name).data


def dump(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def events_of(db: Path) -> list[tuple[Any, ...]]:
    """The event log's rows (compared before and after a refused command)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


def clean_stderr(stderr: str) -> None:
    """Only one-line messages of ir's own: no traceback, no internal error, no usage text."""
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    for line in stderr.splitlines():
        assert line.startswith(("ir: error: ", "ir: warning: ", "ir: invalid scenario: ")), stderr


# --------------------------------------------------------------------------- scenarios


@FAST
@given(st.text(max_size=300))
def test_any_text_is_a_scenario_or_named_problems(ws: Workspace, text: str) -> None:
    try:
        scenario_from_document(parse_document(text, "fuzz.yaml"), ws.playbooks)
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, "fuzz.yaml")


@FAST
@given(values)
def test_any_yaml_value_is_a_scenario_or_named_problems(ws: Workspace, data: Any) -> None:
    try:
        scenario_from_document(parse_document(dump(data), "fuzz.yaml"), ws.playbooks)
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, "fuzz.yaml")


@MEDIUM
@given(st.sampled_from(SCENARIOS), st.sampled_from(["value", "rename"]), paths, values, keys)
def test_a_damaged_shipped_scenario_is_reported_not_crashed(ws: Workspace, source: Path, how: str, path: list[int], new: Any, key: str) -> None:
    base = shipped_data(source)
    text = dump(_damaged(base, how, path, new, key))
    try:
        scenario_from_document(parse_document(text, source.name), ws.playbooks)
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, source.name)


# --------------------------------------------------------------------------- response scripts


def _load_script(ws: Workspace, scenario_id: str, text: str, name: str) -> None:
    scenario, pb = ws.drills.scenarios.get(scenario_id)
    doc = parse_document(text, name)
    script = validate_document(doc, Script)
    problems = list(check_script(script, scenario, pb))
    if problems:
        raise ContentErrors([doc.error(loc, msg) for loc, msg in problems])


@FAST
@given(values)
def test_any_yaml_value_is_a_script_or_named_problems(ws: Workspace, data: Any) -> None:
    try:
        _load_script(ws, "open-bucket-reporter", dump(data), "fuzz.yaml")
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, "fuzz.yaml")


@MEDIUM
@given(st.sampled_from(sorted(RESPONSES)), st.sampled_from(["value", "rename"]), paths, values, keys)
def test_a_damaged_shipped_script_is_reported_not_crashed(ws: Workspace, scenario_id: str, how: str, path: list[int], new: Any, key: str) -> None:
    base = shipped_data(RESPONSES[scenario_id])
    try:
        _load_script(ws, scenario_id, dump(_damaged(base, how, path, new, key)), "responses.yaml")
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, "responses.yaml")


# --------------------------------------------------------------------------- rule files


@MEDIUM
@given(st.sampled_from(RULES), st.sampled_from(["value", "rename"]), paths, values, keys)
def test_a_damaged_shipped_rule_file_is_reported_not_crashed(tmp_path: Path, source: Path, how: str, path: list[int], new: Any, key: str) -> None:
    base = shipped_data(source)
    damaged = tmp_path / source.name
    damaged.write_text(dump(_damaged(base, how, path, new, key)), encoding="utf-8")
    try:
        # Loaded, validated and compiled as a workspace's rules/ folder would load it.
        load_book([damaged])
    except ContentErrors as exc:
        for error in exc.errors:
            one_line(error)
            assert str(error).split(":")[0].endswith(".yaml"), str(error)


@FAST
@given(values)
def test_any_yaml_value_is_a_rule_file_or_named_problems(tmp_path: Path, data: Any) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(dump(data), encoding="utf-8")
    try:
        load_book([path])
    except ContentErrors as exc:
        for error in exc.errors:
            one_line(error)
            assert "fuzz.yaml" in str(error).split(":")[0]


# --------------------------------------------------------------------------- the --facts file

offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
instants = st.builds(
    lambda moment, zone: moment.replace(tzinfo=zone).isoformat(),
    st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30)),
    offsets,
)
counts = st.one_of(
    st.integers(min_value=-10, max_value=2**64),
    st.integers(min_value=0, max_value=10**7),
    st.text(max_size=10),
    st.floats(),
    st.booleans(),
)
places = st.one_of(st.sampled_from(["CN", "DE", "US-CA", "US", "GB", "EEA", "cn", "C N", "US-", "default", "eu-gdpr-authority"]), st.text(max_size=6))
FACT_VALUES = {
    "datetime": st.one_of(instants, st.text(max_size=30), st.integers(), st.none()),
    "bool": st.one_of(st.booleans(), st.sampled_from(["yes", "no", "是", "maybe", ""]), st.integers(-1, 2)),
    "counts": st.one_of(st.dictionaries(places, counts, max_size=5), st.text(max_size=30), st.lists(counts, max_size=3)),
    "integer": counts,
    "multi": st.one_of(st.lists(st.one_of(st.sampled_from(sorted(DATA_CATEGORIES)), st.text(max_size=8)), max_size=5), st.text(max_size=30)),
}
fact_sets = st.dictionaries(
    st.one_of(st.sampled_from(sorted(FACTS)), st.text(max_size=10)),
    st.none(),
    max_size=10,
).flatmap(
    lambda names: st.fixed_dictionaries(
        {name: FACT_VALUES[FACTS[name][0]] if name in FACTS else values for name in names}
    )
)


def _facts_file(tmp_path: Path, data: Any, fmt: str) -> Path:
    path = tmp_path / f"facts.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(dump(data), encoding="utf-8")
    return path


@FAST
@given(st.one_of(fact_sets, values), st.sampled_from(["yaml", "json"]))
def test_any_facts_file_gives_duties_or_named_problems(ws: Workspace, tmp_path: Path, data: Any, fmt: str) -> None:
    path = _facts_file(tmp_path, data, fmt)
    try:
        result = ws.obligations.evaluate_file(path)
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, str(path))
        return
    for warning in result.warnings:
        assert "\n" not in warning and warning.startswith(str(path))


@FAST
@given(st.text(max_size=300), st.sampled_from(["yaml", "json"]))
def test_any_text_as_a_facts_file_gives_duties_or_named_problems(ws: Workspace, tmp_path: Path, text: str, fmt: str) -> None:
    path = tmp_path / f"facts.{fmt}"
    path.write_text(text, encoding="utf-8")
    try:
        ws.obligations.evaluate_file(path)
    except (ContentErrors, ContentError) as exc:
        named_problems(exc, str(path))


# --------------------------------------------------------------------------- the command line


def _damaged_copy(tmp_path: Path, kind: str, index: int, how: str, path: list[int], new: Any, key: str) -> tuple[Path, list[str]]:
    """A damaged shipped file of ``kind`` and the command that checks it."""
    if kind == "playbook":
        source = PLAYBOOKS[index % len(PLAYBOOKS)]
    elif kind == "scenario":
        source = SCENARIOS[index % len(SCENARIOS)]
    else:
        source = list(RESPONSES.values())[index % len(RESPONSES)]
    base = shipped_data(source)
    target = tmp_path / "damaged" / source.name
    target.parent.mkdir(exist_ok=True)
    target.write_text(dump(_damaged(base, how, path, new, key)), encoding="utf-8")
    if kind == "playbook":
        return target, ["playbook", "validate", str(target)]
    if kind == "scenario":
        return target, ["drill", "validate", str(target)]
    return target, ["drill", "validate", source.stem, "--script", str(target)]


@SLOW
@given(st.sampled_from(["playbook", "scenario", "script"]), st.integers(min_value=0, max_value=20),
       st.sampled_from(["value", "rename"]), paths, values, keys)
def test_validate_commands_exit_0_or_2_and_change_nothing(
    ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, kind: str, index: int, how: str, path: list[int], new: Any, key: str
) -> None:
    if not ws.incidents.list():
        ws.incidents.open("personal-data-leak", title="bystander")
    before = events_of(db_path)
    _target, command = _damaged_copy(tmp_path, kind, index, how, path, new, key)
    result = ir(*command)
    assert result.exit_code in (0, 2), (command, result.exit_code, result.stderr)
    clean_stderr(result.stderr)
    assert events_of(db_path) == before


@SLOW
@given(st.one_of(fact_sets, values), st.sampled_from(["yaml", "json"]))
@example({" \x85": None}, "yaml")  # a key with NEL, a line break to str.splitlines, once split a warning
def test_the_facts_command_exits_0_or_2_and_changes_nothing(ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, data: Any, fmt: str) -> None:
    if not ws.incidents.list():
        ws.incidents.open("personal-data-leak", title="bystander")
    before = events_of(db_path)
    result = ir("obligations", "--facts", str(_facts_file(tmp_path, data, fmt)))
    assert result.exit_code in (0, 2), (result.exit_code, result.stderr)
    clean_stderr(result.stderr)
    assert events_of(db_path) == before


def _drills(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT incident_id, status FROM drills ORDER BY incident_id").fetchall()
    finally:
        conn.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["scenario", "script"]), st.integers(min_value=0, max_value=20),
       st.sampled_from(["value", "rename"]), paths, values, keys)
def test_a_drill_run_on_damaged_content_finishes_or_is_refused(
    ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, kind: str, index: int, how: str, path: list[int], new: Any, key: str
) -> None:
    """Damage that passes validation reaches the runner: it ends the drill or refuses it, cleanly."""
    ws.drills.list()  # the workspace exists before the first snapshot
    before, drills_before = events_of(db_path), _drills(db_path)
    target, _ = _damaged_copy(tmp_path, kind, index, how, path, new, key)
    if kind == "scenario":
        command = ["drill", "run", str(target), "--instant"]
    else:
        command = ["drill", "run", target.stem, "--instant", "--script", str(target)]
    result = ir(*command)
    assert result.exit_code in (0, 2), (command, result.exit_code, result.stderr)
    clean_stderr(result.stderr)
    drills_after = _drills(db_path)
    if drills_after == drills_before:
        assert events_of(db_path) == before  # refused before STARTEX: nothing recorded
        return
    # A drill ran: whether the script held up or was refused midway, the drill has ended,
    # every inject settled exactly once, and the chain verifies.
    (new_id, status), = set(drills_after) - set(drills_before)
    assert status == "ended", result.stderr
    settled: dict[str, int] = {}
    for ev in ws.incidents.timeline(new_id):
        if ev.kind.startswith("inject."):
            settled[ev.payload["inject"]] = settled.get(ev.payload["inject"], 0) + 1
    assert set(settled.values()) <= {1}
    assert ws.audit.verify(new_id).ok
