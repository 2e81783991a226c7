"""Scenario validation: every problem names file, line and field."""

from __future__ import annotations

import pytest

from ir.content.yamlfile import parse_document
from ir.drills.offsets import format_offset, parse_offset
from ir.drills.scenario import scenario_from_document
from ir.errors import ContentErrors
from ir.workspace import Workspace
from tests.drills.helpers import MINI


def problems(ws: Workspace, text: str) -> list[str]:
    with pytest.raises(ContentErrors) as caught:
        scenario_from_document(parse_document(text, "s.yaml"), ws.playbooks)
    return [str(e) for e in caught.value.errors]


def test_the_mini_scenario_is_valid(ws: Workspace) -> None:
    scenario, pb = scenario_from_document(parse_document(MINI, "s.yaml"), ws.playbooks)
    assert (scenario.id, pb.id, len(scenario.injects), scenario.length) == ("mini", "personal-data-leak", 7, 6 * 3600)
    assert [i.id for i in scenario.schedule][:2] == ["first", "ticket"]


@pytest.mark.parametrize(
    ("old", "new", "where", "problem"),
    [
        ("title: First report,", "titel: First report,", "injects[0].titel", "unknown key (did you mean 'title'?)"),
        ('at: "+01:00", channel: ticket', 'at: "1h", channel: ticket', "injects[1].at", "'1h' is not an offset"),
        ("channel: ticket", "channel: pigeon", "injects[1].channel", "Input should be 'email'"),
        ("to: security, title: Bucket public", "to: ciso, title: Bucket public", "injects[1].to[0]", "unknown role 'ciso'"),
        ("when: [{missed: confirmed}]", "when: [{missed: contained}]", "injects[2].when[0].missed",
         "expectation 'contained' is due at +03:00, after this inject (+01:30); it cannot be missed yet"),
        ("when: [{task_done: stop_exposure}]", "when: [{task_done: stop_exposures}]", "injects[3].when[0].task_done",
         "unknown task 'stop_exposures'"),
        ("when: [{reached: contain}]", "when: [{reached: contain, fact: breach_confirmed}]", "injects[5].when[0]",
         "a condition needs exactly one of"),
        ('until: "+04:00"', 'until: "+01:00"', "injects[5].until", "+01:00 must be after 'at' (+02:00)"),
        ('id: last, at: "+05:00"', 'id: last, at: "+07:00"', "injects[6].at", "+07:00 is after ENDEX (+06:00)"),
        ("{id: ticket,", "{id: first,", "injects[1].id", "duplicate inject id 'first'"),
        ("task: record_report, by", "task: record_reprot, by", "expectations[0].task", "unknown task 'record_reprot'"),
        ("decision: breach_confirmed, equals: yes", "decision: breach_confirmed, equals: maybe",
         "expectations[1].equals", "'maybe' is not yes/no"),
        ("phase: contain, by", "phase: detect, by", "expectations[2].phase", "the drill starts in phase 'detect'"),
        ("owner: security}", "owner: cso}", "expectations[2].owner", "unknown role 'cso'"),
        ("objective: contain, title: Move", "objective: triage, title: Move", "objectives[1].id",
         "objective 'contain' has no expectation"),
        ("playbook: personal-data-leak", "playbook: no-such-book", "playbook", "no playbook 'no-such-book'"),
        ("  - {role: dpo}", "  - {role: dpo}\n  - {role: ciso}", "participants[3].role", "unknown role 'ciso'"),
        ("  - {id: q1, text: Who decides?}", "  - {id: q1, text: Who decides?}\n      - {id: q1, text: Again?}",
         "modules[0].questions[1].id", "duplicate question id 'q1'"),
    ],
)
def test_problems_name_file_line_and_field(ws: Workspace, old: str, new: str, where: str, problem: str) -> None:
    assert old in MINI
    text = MINI.replace(old, new, 1)
    found = problems(ws, text)
    matching = [p for p in found if f": {where}: " in p and problem in p]
    assert matching, found
    line = int(matching[0].split(":")[1])
    changed = MINI.index(old) + len(new) - len(new.splitlines()[-1])  # where the (last) changed line starts
    if not where.startswith(("playbook", "objectives")):  # those point at the field, not at the change
        assert line == text[:changed].count("\n") + 1


def test_starting_facts_are_typed_and_cannot_meet_an_expectation(ws: Workspace) -> None:
    text = MINI.replace("participants:", "facts:\n  affected_count: many\n  breach_confirmed: yes\nparticipants:")
    found = problems(ws, text)
    assert any("s.yaml:10: facts.affected_count: fact 'affected_count' (integer): 'many' is not a whole number" in p for p in found)
    assert not any("expectations[1]" in p for p in found)  # a decision expectation, not a fact one
    fact_exp = text.replace("decision: breach_confirmed, equals: yes", "fact: breach_confirmed, equals: yes")
    assert any("expectations[1].fact: the scenario's starting facts already set 'breach_confirmed'" in p
               for p in problems(ws, fact_exp))


@pytest.mark.parametrize(("text", "seconds"), [("+00:00", 0), ("+01:30", 5400), ("+72:00", 259200), ("+2d04:00", 187200),
                                               ("+00:00:45", 45), ("3d", 259200), ("01:05", 3900)])
def test_offsets(text: str, seconds: int) -> None:
    assert parse_offset(text) == seconds


@pytest.mark.parametrize("text", ["", "+", "1h", "+01:60", "-01:00", "+400d"])
def test_bad_offsets(text: str) -> None:
    with pytest.raises(ValueError):
        parse_offset(text)


def test_offsets_are_written_back_the_way_authors_write_them() -> None:
    assert [format_offset(s) for s in (0, 5400, 187200, 45, 86400)] == ["+00:00", "+01:30", "+2d04:00", "+00:00:45", "+1d00:00"]
