"""Hostile values in a ``--facts`` file and in an incident's facts: refused in one line, no crash.

Instants at the edge of the calendar, targets of a trillion hours, numbers no column holds,
and keys that carry newlines reached code that computes deadlines or prints warnings; each
was an internal error (exit 1) or a forged line before.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ir.errors import ContentErrors, InvalidInput
from ir.workspace import Workspace
from tests.conftest import IrRunner

NOW = "2026-11-20T02:00:00Z"
GOOD = {"aware_at": "2026-11-20T09:30+08:00", "subjects": {"CN": 1500, "DE": 40}}


def _file(tmp_path: Path, data: dict[str, Any], fmt: str) -> Path:
    path = tmp_path / f"facts.{fmt}"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")  # JSON is YAML too
    return path


def _events(db: Path) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    finally:
        conn.close()


HOSTILE_VALUES = [
    ("aware_at", "0001-01-01T00:00:00+01:00", "aware_at: '0001-01-01T00:00:00+01:00' is out of range"),
    ("aware_at", "9999-12-31T23:00:00Z", "is not between the years 1900 and 2999"),
    ("determined_at", "0002-01-01T00:00:00Z", "is not between the years 1900 and 2999"),
    ("notice_targets", {"default": 99_999_999_999_999}, "99999999999999 hours is more than 100,000"),
    ("notice_targets", "default=1000000", "1000000 hours is more than 100,000"),
    ("subjects", {"CN\nFORGED": 5}, "is not a jurisdiction code"),
    ("subjects", {"CN": -1}, "-1 is negative"),
    ("subjects", {"CN": "1e9"}, "is not a whole number"),
    ("affected_count", "9" * 5000, "is too large a number"),
    ("data_categories", ["name", "x\ny"], "unknown data category"),
]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize(("key", "value", "says"), HOSTILE_VALUES, ids=[f"{k}-{i}" for i, (k, _, _) in enumerate(HOSTILE_VALUES)])
def test_a_hostile_value_in_a_facts_file_is_refused_in_one_line(
    ws: Workspace, ir: IrRunner, db_path: Path, tmp_path: Path, fmt: str, key: str, value: Any, says: str
) -> None:
    ws.incidents.open("personal-data-leak", title="bystander")
    before = _events(db_path)
    path = _file(tmp_path, {**GOOD, key: value}, fmt)
    with pytest.raises(ContentErrors) as info:
        ws.obligations.evaluate_file(path)
    assert says in str(info.value)
    result = ir("obligations", "--facts", str(path), now=NOW)
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ir: error: {path}:") and says in lines[0], result.stderr
    assert result.stdout == ""
    assert _events(db_path) == before


def test_the_latest_accepted_instant_and_target_still_give_deadlines(ws: Workspace, tmp_path: Path) -> None:
    # The bounds leave room: a deadline counted from the edge is still inside the calendar.
    path = _file(tmp_path, {"aware_at": "2999-12-31T23:59:59Z", "subjects": {"CN": 5, "DE": 5, "US-CA": 5},
                            "notice_targets": {"default": 100_000}}, "yaml")
    result = ws.obligations.evaluate_file(path)
    dated = [o for o in result.obligations if o.due_at]
    assert dated and all(o.due_at.startswith(("2999", "30")) for o in dated)


def test_a_key_with_a_newline_warns_in_one_line(ir: IrRunner, tmp_path: Path) -> None:
    path = _file(tmp_path, {**GOOD, "risk\nir: error: forged": True}, "yaml")
    result = ir("obligations", "--facts", str(path), now=NOW)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ir: warning: ") and "\\n" in lines[0], result.stderr


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_an_instant_without_a_utc_equivalent_is_refused_as_an_incident_fact(ws: Workspace, ir: IrRunner, value: str) -> None:
    incident_id = ws.incidents.open("personal-data-leak", title="edge").id
    before = ws.incidents.get(incident_id).seq
    with pytest.raises(InvalidInput, match="out of range"):
        ws.incidents.answer(incident_id, "aware_at", value)
    result = ir("incident", "answer", incident_id, "aware_at", value)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1, result.stderr
    assert ws.incidents.get(incident_id).seq == before


def test_an_incident_fact_out_of_the_rules_range_is_ignored_not_fatal(ws: Workspace, ir: IrRunner) -> None:
    # Accepted by the playbook (a valid instant), refused by the rules: the incident's
    # commands keep working and the obligations show the problem instead of crashing.
    incident_id = ws.incidents.open("personal-data-leak", title="far future", facts={"subjects": {"CN": 10}}).id
    ws.incidents.answer(incident_id, "aware_at", "9999-12-30T00:00:00Z")
    ws.incidents.note(incident_id, "still works")
    result = ir("obligations", incident_id)
    assert result.exit_code == 0, result.stderr
    assert "aware_at" in result.stderr and "between the years" in result.stderr
    assert ws.audit.verify(incident_id).ok
