"""Typing what responders type into fact values."""

from __future__ import annotations

import datetime as dt

import pytest

from ir.engine.facts import coerce, guess, render, split_assignment
from ir.errors import InvalidInput

NOW = dt.datetime(2026, 11, 20, 1, 2, 3, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize(
    ("kind", "raw", "choices", "expected"),
    [
        ("bool", "yes", (), True),
        ("bool", "否", (), False),
        ("bool", False, (), False),
        ("integer", "1,500,000", (), 1500000),
        ("integer", 7, (), 7),
        ("datetime", "2026-11-20T09:30+08:00", (), "2026-11-20T01:30:00Z"),
        ("datetime", "now", (), "2026-11-20T01:02:03Z"),
        ("text", "泄露了客户手机号", (), "泄露了客户手机号"),
        ("choice", "b", ("a", "b"), "b"),
        ("multi", "name, health,name", ("name", "health"), ["health", "name"]),
        ("multi", '["name"]', ("name", "health"), ["name"]),
        ("counts", "CN=1500000,DE=40, US-CA: 600", (), {"CN": 1500000, "DE": 40, "US-CA": 600}),
        ("counts", '{"DE": 3}', (), {"DE": 3}),
    ],
)
def test_values_are_typed(kind: str, raw: object, choices: tuple[str, ...], expected: object) -> None:
    assert coerce("f", kind, raw, choices, NOW) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "raw", "choices", "message"),
    [
        ("bool", "maybe", (), "not yes/no"),
        ("integer", "12a", (), "not a whole number"),
        ("integer", True, (), "not yes/no"),
        ("datetime", "2026-11-20T09:30", (), "no UTC offset"),
        ("datetime", "yesterday", (), "ISO 8601"),
        ("choice", "c", ("a", "b"), "not one of: a, b"),
        ("multi", "a,z", ("a", "b"), "'z' is not one of"),
        ("counts", "CN=-1", (), "KEY=NUMBER"),
        ("counts", "CN", (), "KEY=NUMBER"),
        ("text", "   ", (), "empty"),
    ],
)
def test_bad_values_name_the_fact_and_the_problem(kind: str, raw: object, choices: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidInput, match=f"fact 'f' \\({kind}\\): .*{message}"):
        coerce("f", kind, raw, choices, NOW)  # type: ignore[arg-type]


def test_undeclared_values_are_guessed_from_json() -> None:
    assert guess("true") is True
    assert guess("42") == 42
    assert guess("[1, 2]") == [1, 2]
    assert guess("Example Ltd") == "Example Ltd"


def test_assignments_need_a_key() -> None:
    assert split_assignment("a=b=c") == ("a", "b=c")
    with pytest.raises(InvalidInput):
        split_assignment("=x")
    with pytest.raises(InvalidInput):
        split_assignment("Bad-Key=1")


def test_values_render_for_people() -> None:
    assert render(True) == "yes"
    assert render(1500000) == "1,500,000"
    assert render({"CN": 1500000}) == "CN=1,500,000"
    assert render(["a", "b"]) == "a, b"
