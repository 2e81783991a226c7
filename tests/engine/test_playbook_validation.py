"""Playbook validation: every rule, each error naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ir.content.yamlfile import parse_document
from ir.engine.catalog import PlaybookCatalog
from ir.content.paths import ContentPaths
from ir.engine.playbook import Playbook, load_playbook, playbook_from_document
from ir.errors import ContentErrors, NotFound

VALID = """\
id: mini
version: "1"
title: {en: Mini, zh-CN: 迷你}
summary: A small playbook.
roles:
  - {id: commander, title: Commander}
  - {id: dpo, title: DPO}
phases:
  - id: triage
    title: Triage
    description: Look.
    tasks:
      - {id: look, title: Look, role: commander}
      - {id: extra, title: Extra, role: dpo, required: false}
    decisions:
      - {id: confirmed, question: "Confirmed?", type: bool}
      - {id: kind, question: "Kind?", type: choice, choices: [leak, loss]}
      - {id: count, question: "How many?", type: integer}
  - id: work
    title: Work
    description: Do.
  - id: closed
    title: Closed
    description: Done.
    final: true
transitions:
  - trigger: start
    title: Start
    source: triage
    dest: work
    guards:
      tasks: required
      answered: [kind]
      conditions: ["confirmed == true", "count >= 1"]
  - trigger: close
    title: Close
    source: [triage, work]
    dest: closed
"""


def load(text: str) -> Playbook:
    return playbook_from_document(parse_document(text, "mini.yaml"))


def errors(text: str) -> list[str]:
    with pytest.raises(ContentErrors) as info:
        load(text)
    return [str(e) for e in info.value.errors]


def test_the_valid_playbook_loads() -> None:
    pb = load(VALID)
    assert pb.initial_phase == "triage"
    assert pb.fact_types == {"confirmed": "bool", "kind": "choice", "count": "integer"}
    assert pb.title == {"en": "Mini", "zh-CN": "迷你"}
    assert len(pb.digest) == 64


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("role: dpo, required", "rol: dpo, required", "mini.yaml:14: phases[0].tasks[1].rol: unknown key (did you mean 'role'?)"),
        ("{id: extra,", "{id: look,", "mini.yaml:14: phases[0].tasks[1].id: duplicate task id 'look' (first at phases[0].tasks[0].id)"),
        ("role: dpo, required", "role: legal, required", "mini.yaml:14: phases[0].tasks[1].role: unknown role 'legal' (known: commander, dpo)"),
        ("  - {id: commander, title: Commander}\n", "", "mini.yaml:5: roles: declare the 'commander' role"),
        ("conditions: [\"confirmed == true\", \"count >= 1\"]", "conditions: [\"confirmd == true\"]", "mini.yaml:34: transitions[0].guards.conditions[0]: unknown fact 'confirmd'"),
        ("\"count >= 1\"", "\"count >= 'many'\"", "in 'count >= 'many'': 'count' is a number; compare it with a number"),
        ("\"confirmed == true\"", "\"confirmed == 1\"", "'confirmed' is yes/no; compare it with true or false"),
        ("answered: [kind]", "answered: [kind]\n      conditions2: []", "transitions[0].guards.conditions2: unknown key"),
        ("tasks: required", "tasks: [look, nope]", "transitions[0].guards.tasks[1]: unknown task 'nope'"),
        ("dest: work\n", "dest: wrok\n", "transitions[0].dest: unknown phase 'wrok'"),
        ("type: choice, choices: [leak, loss]", "type: choice", "phases[0].decisions[1].type: a choice needs 'choices'"),
        ("type: bool}", "type: bool, choices: [a]}", "only choice and multi decisions take choices"),
        ("type: integer}", "type: number}", "phases[0].decisions[2].type: Input should be"),
        ("    final: true\n", "", "no phase is final"),
        ("source: [triage, work]", "source: [triage, closed]", "transitions[1].source[1]: phase 'closed' is final"),
        ("    source: [triage, work]\n", "    source: [triage]\n", "phases[1].id: phase 'work' is a dead end"),
        ("version: \"1\"", "version: 1", "version: Input should be a valid string"),
        ("title: {en: Mini, zh-CN: 迷你}", "title: {en: Mini, fr: Mini}", "title: unknown language 'fr'"),
        ("id: mini\n", "id: Mini\n", "mini.yaml:1: id: String should match pattern"),
        ("  - trigger: close", "  - trigger: start\n    title: Again\n    source: triage\n    dest: closed\n  - trigger: close", "trigger 'start' already leaves phase 'triage'"),
    ],
)
def test_each_problem_is_reported_with_file_line_and_field(old: str, new: str, expected: str) -> None:
    assert old in VALID
    found = errors(VALID.replace(old, new, 1))
    assert any(expected in e for e in found), found


def test_unreachable_and_trapped_phases_are_reported() -> None:
    text = VALID.replace(
        "  - id: closed\n",
        "  - id: island\n    title: Island\n    description: Nobody gets here.\n"
        "  - id: loop\n    title: Loop\n    description: Cannot finish.\n"
        "  - id: closed\n",
    ) + (
        "  - {trigger: to_loop, title: Loop, source: work, dest: loop}\n"
        "  - {trigger: back, title: Back, source: loop, dest: loop}\n"
        "  - {trigger: out, title: Out, source: island, dest: closed}\n"
    )
    found = errors(text)
    assert any("phases[2].id: phase 'island' cannot be reached from 'triage'" in e for e in found), found
    assert any("phases[3].id: no path leads from phase 'loop' to a final phase" in e for e in found), found


def test_all_problems_are_reported_at_once() -> None:
    text = VALID.replace("role: dpo, required", "role: legal, required").replace("dest: work\n", "dest: wrok\n")
    assert len(errors(text)) >= 2


def test_file_name_must_match_the_id(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    (folder / "other.yaml").write_text(VALID, encoding="utf-8")
    catalog = PlaybookCatalog(ContentPaths(workspace_dir=tmp_path))
    with pytest.raises(ContentErrors, match="id 'mini' must match the file name 'other'"):
        catalog.get("other")
    with pytest.raises(NotFound, match="no playbook 'nope'"):
        catalog.get("nope")


def test_a_workspace_playbook_overrides_the_shipped_one(tmp_path: Path) -> None:
    folder = tmp_path / "playbooks"
    folder.mkdir()
    shipped = load_playbook(Path(__file__).resolve().parents[2] / "playbooks" / "personal-data-leak.yaml")
    custom = (Path(__file__).resolve().parents[2] / "playbooks" / "personal-data-leak.yaml").read_text(encoding="utf-8")
    (folder / "personal-data-leak.yaml").write_text(custom.replace('version: "1.0"', 'version: "1.0-local"'), encoding="utf-8")
    catalog = PlaybookCatalog(ContentPaths(workspace_dir=tmp_path))
    assert catalog.get("personal-data-leak").version == "1.0-local"
    assert shipped.version == "1.0"


def test_every_shipped_playbook_validates() -> None:
    catalog = PlaybookCatalog(ContentPaths())
    good, bad = catalog.all()
    assert not bad, bad
    assert "personal-data-leak" in {p.id for p in good}


@pytest.mark.parametrize("name", ["state", "trigger", "incident", "may_start", "to_work"])
def test_reserved_trigger_names_are_refused(name: str) -> None:
    found = errors(VALID.replace("  - trigger: close", f"  - trigger: {name}", 1))
    assert any(f"transitions[1].trigger: '{name}' is reserved" in e for e in found), found


def test_null_comparisons_ask_whether_a_fact_is_answered() -> None:
    pb = load(VALID.replace('"count >= 1"]', '"count >= 1", "kind != null or count == null"]'))
    assert "kind != null or count == null" in pb.conditions
    found = errors(VALID.replace('"count >= 1"]', '"count > null"]'))
    assert any("can only be compared with null using == or !=" in e for e in found), found


def test_no_chinese_text_is_split_by_folding() -> None:
    """A YAML line fold inserts a space, which is wrong between Chinese characters."""
    import re

    from ir.content.paths import ContentPaths
    from ir.engine.catalog import PlaybookCatalog

    split = re.compile(r"[\u3001-\u303f\u4e00-\u9fff\uff01-\uff1f] [\u3001-\u303f\u4e00-\u9fff\uff01-\uff1f]")
    good, _ = PlaybookCatalog(ContentPaths()).all()
    for pb in good:
        texts = [pb.title, pb.summary]
        for phase in pb.phases:
            texts += [phase.title, phase.description]
            texts += [t.title for t in phase.tasks] + [t.guidance for t in phase.tasks if t.guidance]
            texts += [d.question for d in phase.decisions] + [d.guidance for d in phase.decisions if d.guidance]
        for text in texts:
            assert not split.search(text.get("zh-CN", "")), f"{pb.id}: stray space in {text['zh-CN']!r}"
