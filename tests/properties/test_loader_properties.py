"""Hostile and broken input to the core loaders: a result or a one-line error, never a crash."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ir.content.yamlfile import parse_document
from ir.engine.facts import coerce
from ir.engine.guards import Condition
from ir.engine.playbook import playbook_from_document
from ir.errors import ContentError, ContentErrors, InvalidInput
from tests.conftest import IrRunner
from tests.engine.test_playbook_validation import VALID

NOW = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=20)


def one_line(error: Exception) -> None:
    assert "\n" not in str(error), str(error)
    assert str(error).strip()


@FAST
@given(st.text(max_size=300))
def test_any_text_parses_or_gives_a_one_line_error(text: str) -> None:
    try:
        parse_document(text, "fuzz.yaml")
    except ContentError as exc:
        one_line(exc)
        assert str(exc).startswith("fuzz.yaml")


@FAST
@given(values)
def test_any_yaml_value_is_a_playbook_or_named_problems(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        playbook_from_document(parse_document(text, "fuzz.yaml"))
    except ContentErrors as exc:
        for error in exc.errors:
            one_line(error)
            assert str(error).startswith("fuzz.yaml")
    except ContentError as exc:
        one_line(exc)


def _mutate(data: Any, path: list[Any], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(data, dict) and data:
        key = list(data)[head % len(data)]
        return {**data, key: _mutate(data[key], rest, new)}
    if isinstance(data, list) and data:
        idx = head % len(data)
        return data[:idx] + [_mutate(data[idx], rest, new)] + data[idx + 1 :]
    return new


@FAST
@given(st.lists(st.integers(min_value=0, max_value=50), max_size=6), values)
def test_a_damaged_valid_playbook_is_reported_not_crashed(path: list[int], new: Any) -> None:
    base = yaml.safe_load(VALID)
    text = yaml.safe_dump(_mutate(base, path, new), allow_unicode=True)
    try:
        playbook_from_document(parse_document(text, "mini.yaml"))
    except ContentErrors as exc:
        for error in exc.errors:
            one_line(error)
    except ContentError as exc:
        one_line(exc)


@FAST
@given(st.text(max_size=80))
def test_any_condition_text_is_parsed_or_refused(text: str) -> None:
    try:
        cond = Condition(text)
    except ValueError as exc:
        one_line(exc)
        return
    assert cond.evaluate({}) in (True, False, None)


@FAST
@given(st.sampled_from(["bool", "integer", "datetime", "text", "choice", "multi", "counts"]), st.one_of(st.text(max_size=40), values))
def test_any_fact_value_is_typed_or_refused(kind: str, raw: Any) -> None:
    try:
        coerce("f", kind, raw, ["a", "b"], NOW)  # type: ignore[arg-type]
    except InvalidInput as exc:
        one_line(exc)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200))
def test_the_validate_command_never_crashes(ir: IrRunner, tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    result = ir("playbook", "validate", str(path))
    assert result.exit_code in (0, 2)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
