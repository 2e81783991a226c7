"""Long and deeply nested guard conditions: parsed or refused with a ValueError, never a crash.

The existing property test tries texts of up to 80 characters; a playbook condition can be
as long as its YAML scalar. ``not not not ... x`` made Python's parser give up with
MemoryError, and nesting past the recursion limit raised RecursionError: both escaped the
loader as internal errors.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ir.engine.guards import MAX_LENGTH, Condition
from ir.engine.playbook import playbook_from_document
from ir.content.yamlfile import parse_document
from ir.errors import ContentErrors
from tests.engine.test_playbook_validation import VALID
from tests.properties.test_loader_properties import one_line

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ATOMS = ["x", "x == 1", "y != null", "z in ['a', 'b']", "1", "-1", "true", "[1, [2, [3]]]", "count >= -5"]
WRAPS = [("not ", ""), ("(", ")"), ("-", ""), ("[", "]"), ("x in [", "]"), ("x == 1 and ", ""), ("", " or y")]


@st.composite
def nested(draw: st.DrawFn) -> str:
    """A condition made of an atom wrapped many times, up to twice the length limit."""
    text = draw(st.sampled_from(ATOMS))
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        before, after = draw(st.sampled_from(WRAPS))
        text = before * (n := draw(st.integers(min_value=1, max_value=400))) + text + after * n
        if len(text) > 2 * MAX_LENGTH:
            break
    return text


@FAST
@given(nested())
def test_a_nested_condition_is_parsed_or_refused(text: str) -> None:
    try:
        cond = Condition(text)
    except ValueError as exc:
        one_line(exc)
        return
    assert len(text.strip()) <= MAX_LENGTH
    assert cond.evaluate({"x": 1, "y": 2, "z": "a", "count": 3}) in (True, False, None)


@pytest.mark.parametrize(
    ("condition", "says"),
    [
        ("not " * 20_000 + "x", "characters long; the limit is"),
        ("(" * 900 + "count >= 1" + ")" * 900, "cannot parse condition"),
        ("count >= " + "-" * 1500 + "1", "is nested too deeply"),
    ],
)
def test_a_playbook_guard_past_the_limits_is_a_named_problem(condition: str, says: str) -> None:
    text = VALID.replace('conditions: ["confirmed == true", "count >= 1"]', f'conditions: ["confirmed == true", "{condition}"]')
    assert text != VALID
    with pytest.raises(ContentErrors) as info:
        playbook_from_document(parse_document(text, "mini.yaml"))
    first = str(info.value.errors[0])
    one_line(info.value.errors[0])
    assert first.startswith("mini.yaml:34: transitions[0].guards.conditions[1]: ") and says in first, first
