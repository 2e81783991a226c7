"""The compiled state machine: guards, blockers, firing, and the diagram."""

from __future__ import annotations

import re

import pytest

from ir.content.yamlfile import parse_document
from ir.engine.machine import compile_playbook
from ir.engine.playbook import playbook_from_document
from ir.engine.state import IncidentState, TaskStatus
from ir.errors import NotFound, Refused
from tests.engine.test_playbook_validation import VALID

PB = playbook_from_document(parse_document(VALID, "mini.yaml"))


def state(phase: str = "triage", **facts: object) -> IncidentState:
    return IncidentState(
        id="INC-1", title="t", mode="live", severity="low", playbook_id="mini", playbook_version="1",
        playbook_digest=PB.digest, phase=phase, final=PB.phase_map[phase].final, opened_at="", opened_by="a",
        updated_at="", seq=1, facts=dict(facts),
    )


def test_blockers_name_every_unmet_guard_and_agree_with_the_machine() -> None:
    st = state(confirmed=False)
    start = next(t for t in compile_playbook(PB).triggers(st) if t.name == "start")
    assert not start.allowed
    assert start.blocked_by == [
        "task 'look' (Look) is not done",
        "decision 'kind' is not answered",
        "condition 'confirmed == true' is not met (confirmed is false)",
        "condition 'count >= 1' needs an answer for count",
    ]


def test_a_trigger_is_allowed_exactly_when_nothing_blocks_it() -> None:
    st = state(confirmed=True, kind="leak", count=3)
    st.tasks["look"] = TaskStatus(done=True)
    statuses = {t.name: t for t in compile_playbook(PB).triggers(st)}
    assert statuses["start"].allowed and statuses["start"].blocked_by == []
    assert statuses["close"].allowed


def test_optional_tasks_do_not_block() -> None:
    st = state(confirmed=True, kind="leak", count=1)
    st.tasks["look"] = TaskStatus(done=True)
    assert compile_playbook(PB).fire(st, "start").dest == "work"


def test_firing_a_blocked_trigger_is_refused_with_reasons() -> None:
    with pytest.raises(Refused) as info:
        compile_playbook(PB).fire(state(), "start")
    assert "task 'look' (Look) is not done" in info.value.reasons


def test_unknown_and_misplaced_triggers_are_refused() -> None:
    with pytest.raises(NotFound, match="no trigger 'jump'; from 'triage' you can: close, start"):
        compile_playbook(PB).fire(state(), "jump")
    with pytest.raises(Refused, match="does not leave phase 'work'"):
        compile_playbook(PB).fire(state("work"), "start")
    with pytest.raises(Refused, match="is closed"):
        compile_playbook(PB).fire(state("closed"), "close")


def test_the_mermaid_diagram_has_every_phase_and_edge() -> None:
    text = compile_playbook(PB).mermaid()
    assert text.splitlines()[3] == "stateDiagram-v2"
    for phase in PB.phases:
        assert re.search(rf'state "{phase.title["en"]}" as {phase.id}\b', text)
    for tr in PB.transitions:
        for src in tr.source:
            assert re.search(rf"{src} --> {tr.dest}: .*{tr.trigger}", text)
    assert "[*] --> triage" in text
    assert "closed --> [*]" in text
