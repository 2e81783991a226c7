"""The guard condition language: what it accepts, how it evaluates, what it refuses."""

from __future__ import annotations

import pytest

from ir.engine.guards import Condition


@pytest.mark.parametrize(
    ("source", "facts", "expected"),
    [
        ("affected_count >= 1", {"affected_count": 1}, True),
        ("affected_count >= 1", {"affected_count": 0}, False),
        ("affected_count >= 1", {}, None),
        ("notification_required == false", {"notification_required": False}, True),
        ("notification_required == false", {"notification_required": True}, False),
        ("breach_confirmed", {"breach_confirmed": True}, True),
        ("not breach_confirmed", {"breach_confirmed": True}, False),
        ("'health' in data_categories", {"data_categories": ["health", "name"]}, True),
        ("'health' not in data_categories", {"data_categories": ["name"]}, True),
        ("vector in ['phishing', 'insider']", {"vector": "insider"}, True),
        ("a == true and b == true", {"a": True}, None),
        ("a == true and b == true", {"a": False}, False),
        ("a == true or b == true", {"b": True}, True),
        ("a == true or b == true", {"a": False}, None),
        ("(a == true or b == true) and c >= -5", {"a": True, "c": -5}, True),
        ("count > 1", {"count": "many"}, False),
    ],
)
def test_evaluation_is_three_valued(source: str, facts: dict[str, object], expected: bool | None) -> None:
    assert Condition(source).evaluate(facts) is expected


def test_facts_read_are_collected() -> None:
    assert Condition("a == 1 and ('x' in b or not c)").facts == {"a", "b", "c"}


@pytest.mark.parametrize(
    "source",
    [
        "__import__('os').system('ls')",
        "a.b == 1",
        "a + 1 > 2",
        "len(a) > 1",
        "a[0] == 1",
        "1 < a < 3",
        "true",
        "1 == 1",
        "lambda: 1",
        "a ==",
    ],
)
def test_anything_but_comparisons_is_refused(source: str) -> None:
    with pytest.raises(ValueError):
        Condition(source)


@pytest.mark.parametrize(
    ("source", "facts", "expected"),
    [
        ("a == null", {}, True),
        ("a == null", {"a": False}, False),
        ("a != null", {"a": 0}, True),
        ("null == a", {}, True),
        ("a == null or a == true", {}, True),
        ("a != null and a == true", {}, False),
    ],
)
def test_null_asks_whether_a_fact_is_answered(source: str, facts: dict[str, object], expected: bool) -> None:
    assert Condition(source).evaluate(facts) is expected
