"""Every shipped playbook can be worked from declaration to a final phase through the real
command line, and every transition in it can actually fire.

Nothing here knows a particular playbook. Paths are planned from the playbook's own graph;
at each phase the test reads ``ir incident show --json``, checks that each blocked trigger
names exactly the guards that block it, completes the tasks the next transition wants,
and answers its decisions with values found by searching candidate answers of each fact's
type until the transition's conditions hold (evaluated by the engine's own condition code),
then confirms that ``show --json`` reports the trigger allowed. Then it fires, checks where
it landed, and at the end proves the record with ``ir audit verify``.

The example playbook in ``docs/playbooks.md`` is walked the same way, so the format
reference cannot drift from what the engine accepts.
"""

from __future__ import annotations

import itertools
import re
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ir.content.paths import shipped_dir
from ir.engine import facts as factlib
from ir.engine.catalog import SUFFIXES
from ir.engine.guards import Condition, FactRef
from ir.engine.playbook import Playbook, Transition, load_playbook

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "playbooks.md"
SHIPPED = sorted(p for p in shipped_dir("playbooks").iterdir() if p.suffix in SUFFIXES and p.is_file())

# Raw answers a responder could type, per fact type; choices come from the playbook.
RAW: dict[str, list[str]] = {
    "bool": ["yes", "no"],
    "integer": ["1", "0", "1500"],
    "datetime": ["2026-11-20T09:30+08:00"],
    "text": ["Written while walking the playbook end to end."],
    "counts": ["CN=1500000,DE=40", "CN=12"],
}


def _load(path: Path) -> Playbook:
    return load_playbook(path, path.name)


@pytest.fixture(params=SHIPPED, ids=[p.stem for p in SHIPPED])
def playbook(request: pytest.FixtureRequest) -> Playbook:
    """Each playbook file shipped in ``playbooks/``."""
    return _load(request.param)


def test_playbooks_are_found() -> None:
    # An empty folder would make every parametrised test below vanish silently.
    assert any(p.stem == "personal-data-leak" for p in SHIPPED)
    assert len(SHIPPED) >= 6, [p.name for p in SHIPPED]


# ------------------------------------------------------------------ planning


def _forward(pb: Playbook) -> list[Transition]:
    """Transitions that move an incident on (re-entry paths excluded)."""
    return [t for t in pb.transitions if not t.reopen_tasks]


def _finals(pb: Playbook) -> set[str]:
    return {p.id for p in pb.phases if p.final}


def _shortest(pb: Playbook, start: str, goals: set[str]) -> list[tuple[str, Transition]]:
    """The shortest forward path from ``start`` to any of ``goals``, as (source, transition) steps."""
    if start in goals:
        return []
    queue: deque[tuple[str, list[tuple[str, Transition]]]] = deque([(start, [])])
    seen = {start}
    while queue:
        phase, path = queue.popleft()
        for tr in _forward(pb):
            if phase in tr.source and tr.dest not in seen:
                step = [*path, (phase, tr)]
                if tr.dest in goals:
                    return step
                seen.add(tr.dest)
                queue.append((tr.dest, step))
    raise AssertionError(f"{pb.id}: no forward path from '{start}' to {sorted(goals)}")


def _simple_paths(pb: Playbook, phase: str, seen: tuple[str, ...]) -> Iterator[list[tuple[str, Transition]]]:
    if phase in _finals(pb):
        yield []
        return
    for tr in _forward(pb):
        if phase in tr.source and tr.dest not in seen:
            for rest in _simple_paths(pb, tr.dest, (*seen, tr.dest)):
                yield [(phase, tr), *rest]


def main_path(pb: Playbook) -> list[tuple[str, Transition]]:
    """The longest simple path from the initial phase to a final one: the full flow."""
    paths = list(_simple_paths(pb, pb.initial_phase, (pb.initial_phase,)))
    assert paths, f"{pb.id}: no path to a final phase"
    return max(paths, key=len)


def path_through(pb: Playbook, tr: Transition, via: str | None = None) -> list[tuple[str, Transition]]:
    """Initial phase → a source of ``tr`` (through ``via`` if given) → ``tr`` → a final phase."""
    source = tr.source[0]
    prefix = _shortest(pb, pb.initial_phase, {source})
    if via is not None and via not in {s for s, _ in prefix} | {source}:
        prefix = _shortest(pb, pb.initial_phase, {via}) + _shortest(pb, via, {source})
    return [*prefix, (source, tr), *_shortest(pb, tr.dest, _finals(pb))]


_no_notification = Condition("notification_required == false").comparisons[0]


def no_notification_transitions(pb: Playbook) -> list[Transition]:
    """Transitions taken when the decision is that nobody must be notified."""
    return [
        t
        for t in pb.transitions
        if any(
            c == _no_notification
            for text in t.guards.conditions
            for c in Condition(text).comparisons
        )
    ]


def reentry_transitions(pb: Playbook) -> list[Transition]:
    """Transitions that send the incident back and reopen the destination's tasks."""
    return [t for t in pb.transitions if t.reopen_tasks]


# --------------------------------------------------------------- answering


def candidates(pb: Playbook, fact: str) -> list[tuple[str, Any]]:
    """Raw answers for ``fact`` and the values they are stored as, most ordinary first."""
    kind = pb.fact_types[fact]
    choices = pb.fact_choices.get(fact, [])
    if kind == "choice":
        raws = list(choices)
    elif kind == "multi":
        raws = [",".join(choices[:2]), *choices, ",".join(choices)]
    elif kind == "integer":
        # Values on both sides of every number the playbook compares this fact with.
        edges = {
            v
            for cond in pb.conditions.values()
            for comp in cond.comparisons
            if FactRef(fact) in (comp.left, comp.right)
            for v in ([comp.left, comp.right] if not isinstance(comp.right, list) else comp.right)
            if isinstance(v, int) and not isinstance(v, bool)
        }
        raws = RAW["integer"] + [str(n + d) for n in sorted(edges) for d in (-1, 0, 1)]
    else:
        raws = RAW[kind]
    out: list[tuple[str, Any]] = []
    for raw in dict.fromkeys(raws):
        value = factlib.coerce(fact, kind, raw, choices)
        if all(value != v for _, v in out):
            out.append((raw, value))
    return out


def _fact_of(pb: Playbook, name: str) -> str:
    return pb.decision_map[name][1].fact_name if name in pb.decision_map else name


def answers_for(pb: Playbook, tr: Transition, facts: dict[str, Any]) -> dict[str, str]:
    """Raw answers (fact → text) that make ``tr``'s ``answered`` and ``conditions`` guards hold.

    Keeps every answer already given where it can, and otherwise changes as few as possible.
    """
    conds = [Condition(text) for text in tr.guards.conditions]
    names = sorted({n for c in conds for n in c.facts})
    options = []
    for name in names:
        current = facts.get(name)
        keep = [(None, current)] if current is not None else []
        options.append(keep + [(raw, v) for raw, v in candidates(pb, name) if v != current])
    best: tuple[int, dict[str, str]] | None = None
    for combo in itertools.product(*options):
        trial = {**facts, **{n: v for n, (_, v) in zip(names, combo)}}
        if all(c.evaluate(trial) is True for c in conds):
            changed = {n: raw for n, (raw, _) in zip(names, combo) if raw is not None}
            if best is None or len(changed) < best[0]:
                best = (len(changed), changed)
            if not changed:
                break
    assert best is not None, f"{pb.id}: no answers satisfy the conditions of '{tr.trigger}': {tr.guards.conditions}"
    plan = dict(best[1])
    for name in tr.guards.answered:
        fact = _fact_of(pb, name)
        if facts.get(fact) is None and fact not in plan:
            plan[fact] = candidates(pb, fact)[0][0]
    return plan


def expected_blockers(pb: Playbook, tr: Transition, view: dict[str, Any]) -> list[str]:
    """What each unmet guard of ``tr`` must be reported as, in the order guards are checked."""
    done = {t["id"] for t in view["tasks"] if t["done"]}
    if tr.guards.tasks == "required":
        wanted = [t.id for t in pb.phase_map[view["phase"]].tasks if t.required]
    else:
        wanted = list(tr.guards.tasks or [])
    out = [f"task '{t}' (" for t in wanted if t not in done]
    facts = view["facts"]
    out += [f"decision '{n}' is not answered" for n in tr.guards.answered if facts.get(_fact_of(pb, n)) is None]
    for text in tr.guards.conditions:
        cond = Condition(text)
        result = cond.evaluate(facts)
        if result is None:
            out.append(f"condition '{cond.source}' needs an answer for")
        elif not result:
            out.append(f"condition '{cond.source}' is not met")
    return out


# ------------------------------------------------------------------ walking


class Walk:
    """One incident driven through the real command line."""

    def __init__(self, ir: Any, pb: Playbook, *, try_blocked: bool = False) -> None:
        self.ir = ir
        self.pb = pb
        self.try_blocked = try_blocked  # also fire each transition while it is still blocked
        self.decision_of = {d.fact_name: d.id for _, d in pb.decision_map.values()}
        opened = ir.ok("incident", "open", pb.id, "--title", f"Walk through {pb.id}", "--json").json()
        self.id: str = opened["id"]
        assert opened["phase"] == pb.initial_phase
        assert opened["playbook"]["id"] == pb.id and opened["playbook"]["version"] == pb.version
        self.current: dict[str, Any] = opened

    def view(self) -> dict[str, Any]:
        self.current = self.ir.ok("incident", "show", self.id, "--json").json()
        return self.current

    def check_blockers(self, view: dict[str, Any]) -> None:
        """Every trigger out of the phase names exactly the guards that block it."""
        by_name = {t.trigger: t for t in self.pb.transitions_from(view["phase"])}
        assert [t["name"] for t in view["triggers"]] == list(by_name)
        for status in view["triggers"]:
            wanted = expected_blockers(self.pb, by_name[status["name"]], view)
            assert status["allowed"] == (not wanted), status
            assert len(status["blocked_by"]) == len(wanted), (status["blocked_by"], wanted)
            for reason, expected in zip(status["blocked_by"], wanted):
                assert expected in reason, (reason, expected)

    def step(self, source: str, tr: Transition) -> dict[str, Any]:
        """Satisfy ``tr``'s guards from ``source``, fire it and return the new view."""
        view = self.current
        assert view["phase"] == source, f"expected phase '{source}', incident is in '{view['phase']}'"
        self.check_blockers(view)
        status = next(t for t in view["triggers"] if t["name"] == tr.trigger)
        if self.try_blocked and not status["allowed"]:
            refused = self.ir("incident", "fire", self.id, tr.trigger)
            assert refused.exit_code == 2, refused
            for reason in status["blocked_by"]:
                assert reason in refused.stderr
        if tr.guards.tasks == "required":
            wanted = [t.id for t in self.pb.phase_map[source].tasks if t.required]
        else:
            wanted = list(tr.guards.tasks or [])
        done = {t["id"] for t in view["tasks"] if t["done"]}
        for task in wanted:
            if task not in done:
                self.ir.ok("incident", "done", self.id, task)
        for fact, raw in answers_for(self.pb, tr, view["facts"]).items():
            if fact in self.decision_of:
                self.ir.ok("incident", "answer", self.id, self.decision_of[fact], raw, "--why", "walk test")
            else:
                self.ir.ok("incident", "set", self.id, f"{fact}={raw}")
        ready = self.view()
        assert ready["phase"] == source, "a refused transition must not move the incident"
        status = next(t for t in ready["triggers"] if t["name"] == tr.trigger)
        assert status["allowed"] and status["blocked_by"] == [], status
        self.check_blockers(ready)
        before = {t["id"] for t in ready["tasks"] if t["phase"] == tr.dest and t["done"]}
        self.ir.ok("incident", "fire", self.id, tr.trigger, "--expect-phase", source)
        after = self.view()
        assert after["phase"] == tr.dest
        assert after["final"] == self.pb.phase_map[tr.dest].final
        assert (after["path"][-1]["phase"], after["path"][-1]["via"]) == (tr.dest, tr.trigger)
        if tr.reopen_tasks:
            still_done = {t["id"] for t in after["tasks"] if t["phase"] == tr.dest and t["done"]}
            assert before and not still_done, f"{tr.trigger} reopened nothing (done before: {sorted(before)})"
            changes = self.ir.ok("incident", "log", self.id, "--kind", "phase.changed", "--json").json()
            assert set(changes[-1]["payload"]["reopened_tasks"]) == before
        return after

    def run(self, path: list[tuple[str, Transition]]) -> dict[str, Any]:
        """Walk ``path`` to its end, which must be final, and verify the record."""
        view: dict[str, Any] = {}
        for source, tr in path:
            view = self.step(source, tr)
        assert view["final"] and view["closed_at"], view["phase"]
        assert view["triggers"] == []
        verified = self.ir.ok("audit", "verify", self.id)
        assert f"ok: {self.id} head" in verified.stdout
        return view


def _triggers(path: list[tuple[str, Transition]]) -> list[str]:
    return [tr.trigger for _, tr in path]


# -------------------------------------------------------------------- tests


def test_walk_the_full_flow_to_a_final_phase(ir: Any, playbook: Playbook) -> None:
    path = main_path(playbook)
    view = Walk(ir, playbook, try_blocked=True).run(path)
    visited = [p["phase"] for p in view["path"]]
    assert visited == [playbook.initial_phase] + [tr.dest for _, tr in path]
    assert len(path) >= 5, f"{playbook.id}: the full flow is only {_triggers(path)}"


def test_walk_the_no_notification_path(ir: Any, playbook: Playbook) -> None:
    routes = no_notification_transitions(playbook)
    if not routes:
        pytest.skip(f"{playbook.id} has no 'no notification required' path")
    for tr in routes:
        view = Walk(ir, playbook).run(path_through(playbook, tr))
        assert view["facts"]["notification_required"] is False
        assert tr.trigger in [p["via"] for p in view["path"]]
        # The decision and the reasoning it demands stay in the record.
        for name in tr.guards.answered:
            assert view["facts"].get(_fact_of(playbook, name)) is not None, name


def test_walk_a_reentry_path(ir: Any, playbook: Playbook) -> None:
    routes = reentry_transitions(playbook)
    if not routes:
        pytest.skip(f"{playbook.id} has no re-entry path")
    for tr in routes:
        path = path_through(playbook, tr, via=tr.dest)
        view = Walk(ir, playbook).run(path)
        visits = [p["phase"] for p in view["path"]]
        assert visits.count(tr.dest) >= 2, visits


def test_every_transition_can_fire(ir: Any, playbook: Playbook) -> None:
    index = {id(t): i for i, t in enumerate(playbook.transitions)}

    def fired(path: list[tuple[str, Transition]]) -> set[int]:
        return {index[id(tr)] for _, tr in path}

    # What the other walks above already take...
    covered = fired(main_path(playbook))
    for tr in no_notification_transitions(playbook):
        covered |= fired(path_through(playbook, tr))
    for tr in reentry_transitions(playbook):
        covered |= fired(path_through(playbook, tr, via=tr.dest))
    # ...and a walk through each transition they leave out.
    for i, tr in enumerate(playbook.transitions):
        if i not in covered:
            path = path_through(playbook, tr)
            Walk(ir, playbook).run(path)
            covered |= fired(path)
    assert covered == set(range(len(playbook.transitions)))


def test_a_blocked_transition_names_each_blocker(ir: Any, playbook: Playbook) -> None:
    walk = Walk(ir, playbook)
    view = walk.view()
    for tr in playbook.transitions_from(playbook.initial_phase):
        wanted = expected_blockers(playbook, tr, view)
        assert wanted, f"{playbook.id}: '{tr.trigger}' may fire before anything is done"
        refused = ir("incident", "fire", walk.id, tr.trigger)
        assert refused.exit_code == 2
        assert refused.stderr.startswith(f"ir: error: cannot {tr.trigger}: ")
        for expected in wanted:
            assert expected in refused.stderr, (expected, refused.stderr)
    assert walk.view()["seq"] == view["seq"], "a refused transition must record nothing"


def test_shipped_playbooks_share_the_facts_notices_and_obligations_read(playbook: Playbook) -> None:
    reference = _load(next(p for p in SHIPPED if p.stem == "personal-data-leak"))
    shared = [
        "aware_at", "breach_confirmed", "data_categories", "subjects", "affected_count", "encrypted",
        "high_risk", "risk_unlikely", "notification_required", "incident_summary", "occurred_at",
        "root_cause", "possible_harm", "remedial_measures", "individual_measures", "lessons_learned",
        "corrective_actions",
    ]
    for fact in shared:
        assert playbook.fact_types.get(fact) == reference.fact_types[fact], fact
    def choices(pb: Playbook) -> list[tuple[str, dict[str, str] | None]]:
        _, dec = next(v for v in pb.decision_map.values() if v[1].fact_name == "data_categories")
        return [(c.id, c.title) for c in dec.choices or []]
    assert choices(playbook) == choices(reference)


def test_every_text_a_user_sees_is_in_english_and_chinese(playbook: Playbook) -> None:
    def texts() -> Iterator[tuple[str, dict[str, str] | None]]:
        yield "title", playbook.title
        yield "summary", playbook.summary
        for r in playbook.roles:
            yield f"role {r.id}", r.title
        for p in playbook.phases:
            yield f"phase {p.id}", p.title
            yield f"phase {p.id} description", p.description
            for t in p.tasks:
                yield f"task {t.id}", t.title
                if t.guidance is not None:
                    yield f"task {t.id} guidance", t.guidance
            for d in p.decisions:
                yield f"decision {d.id}", d.question
                if d.guidance is not None:
                    yield f"decision {d.id} guidance", d.guidance
                for c in d.choices or []:
                    yield f"decision {d.id} choice {c.id}", c.title
        for t in playbook.transitions:
            yield f"transition {t.trigger}", t.title
            if t.description is not None:
                yield f"transition {t.trigger} description", t.description

    han = re.compile(r"[\u4e00-\u9fff]")
    for where, text in texts():
        assert text is not None, f"{playbook.id}: {where} has no title"
        assert set(text) == {"en", "zh-CN"}, f"{playbook.id}: {where} is not in both languages"
        assert han.search(text["zh-CN"]), f"{playbook.id}: {where}: zh-CN text has no Chinese"


# --------------------------------------------------------------- the docs


def _doc_block(heading: str, lang: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.compile(rf"^```{lang}\n(.*?)^```$", re.S | re.M).search(text, start)
    assert match, f"no ```{lang} block after '{heading}' in {DOC.name}"
    return match.group(1)


def test_the_example_in_the_docs_is_a_valid_playbook_that_can_be_walked(ir: Any, db_path: Path) -> None:
    source = _doc_block("## A complete example", "yaml")
    pb_id = re.search(r"^id: ([a-z][a-z0-9-]*)$", source, re.M)
    assert pb_id, "the example declares no id"
    # A workspace's own playbooks/ folder, beside its database, is on the search path.
    folder = db_path.parent / "playbooks"
    folder.mkdir()
    path = folder / f"{pb_id.group(1)}.yaml"
    path.write_text(source, encoding="utf-8")
    assert ir.ok("playbook", "validate", str(path)).stdout.startswith("ok: ")
    listed = {p["id"] for p in ir.ok("playbook", "list", "--json").json()}
    assert pb_id.group(1) in listed
    example = _load(path)
    Walk(ir, example).run(main_path(example))
    for tr in no_notification_transitions(example) + reentry_transitions(example):
        Walk(ir, example).run(path_through(example, tr, via=tr.dest if tr.reopen_tasks else None))


def test_the_validation_errors_in_the_docs_are_the_ones_ir_prints(
    ir: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _doc_block("### What a validation error looks like", "yaml")
    expected = _doc_block("### What a validation error looks like", "text")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "broken-example.yaml").write_text(source, encoding="utf-8")
    run = ir("playbook", "validate", "playbooks/broken-example.yaml")
    assert run.exit_code == 2
    assert run.stderr.splitlines() == expected.splitlines()


def test_the_docs_list_every_shipped_playbook() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Shipped playbooks") :]
    section = section[: section.find("\n## ", 1)]
    for path in SHIPPED:
        assert f"`{path.stem}`" in section, f"docs/playbooks.md does not list {path.stem}"
