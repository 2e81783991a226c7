"""Playbooks: the phases, tasks, decisions and guarded transitions of an incident type.

A playbook file is YAML (see ``docs/playbooks.md``). :func:`load_playbook` validates it
completely (unknown keys, duplicate ids, unknown references, unreachable phases, dead ends,
ill-typed conditions) and reports each problem with file, line and field.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from ir.content.validate import LocalText, Strict, validate_document
from ir.content.yamlfile import Document, Loc, format_loc, open_document
from ir.engine.guards import Comparison, Condition, FactRef
from ir.engine.state import COMMANDER, OBSERVER
from ir.errors import ContentError, ContentErrors

FactType = Literal["bool", "integer", "datetime", "text", "choice", "multi", "counts"]
"""Kinds of fact value: yes/no, whole number, instant with offset, free text, one of the
choices, several of the choices, and counts by key (e.g. affected people by jurisdiction)."""

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
PlaybookId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]

RESERVED_TRIGGERS = {"trigger", "state", "incident"}
"""Names the state machine or its model already uses; a trigger cannot take them."""


BUILTIN_FACTS: dict[str, FactType] = {}
"""Facts every incident has without a declaration (none yet; severity is an attribute)."""


def _choices(value: Any) -> Any:
    if isinstance(value, list):
        return [{"id": v} if isinstance(v, str) else v for v in value]
    return value


class Role(Strict):
    """A role people play in the incident (incident commander, DPO, legal, ...)."""

    id: Id
    title: LocalText
    description: LocalText | None = None


class Choice(Strict):
    """One allowed answer of a choice or multi-choice decision."""

    id: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=64)]
    title: LocalText | None = None


Choices = Annotated[list[Choice], BeforeValidator(_choices)]


class Task(Strict):
    """A piece of work in a phase, owned by a role."""

    id: Id
    title: LocalText
    role: Id
    required: bool = True
    guidance: LocalText | None = None


class Decision(Strict):
    """A question whose answer becomes an incident fact."""

    id: Id
    question: LocalText
    type: FactType
    fact: Id | None = None
    role: Id | None = None
    choices: Choices | None = None
    guidance: LocalText | None = None

    @property
    def fact_name(self) -> str:
        """The fact this decision sets (its own id unless ``fact`` says otherwise)."""
        return self.fact or self.id


class FactDecl(Strict):
    """A fact that no decision asks for (set by hand or by import) but guards may read."""

    id: Id
    type: FactType
    title: LocalText
    choices: Choices | None = None


class Phase(Strict):
    """A state of the incident."""

    id: Id
    title: LocalText
    description: LocalText
    final: bool = False
    tasks: list[Task] = []
    decisions: list[Decision] = []


class Guards(Strict):
    """What must hold before a transition may fire.

    Attributes:
        tasks: ``required`` (every required task of the source phase) or a list of task ids.
        answered: decisions (or facts) that must have an answer.
        conditions: conditions on facts that must all be true.
    """

    tasks: Literal["required"] | list[Id] | None = None
    answered: list[Id] = []
    conditions: list[str] = []


class Transition(Strict):
    """A way out of one or more phases."""

    trigger: Id
    title: LocalText
    source: Annotated[list[Id], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]
    dest: Id
    description: LocalText | None = None
    guards: Guards = Guards()
    reopen_tasks: bool = False
    reopen_decisions: bool = False


class Playbook(Strict):
    """A whole playbook, validated."""

    id: PlaybookId
    title: LocalText
    version: Annotated[str, Field(min_length=1, max_length=32)]
    summary: LocalText
    roles: list[Role]
    facts: list[FactDecl] = []
    initial: Id | None = None
    phases: Annotated[list[Phase], Field(min_length=2)]
    transitions: Annotated[list[Transition], Field(min_length=1)]

    @property
    def initial_phase(self) -> str:
        """The phase a new incident starts in."""
        return self.initial or self.phases[0].id

    @cached_property
    def phase_map(self) -> dict[str, Phase]:
        """Phases by id."""
        return {p.id: p for p in self.phases}

    @cached_property
    def task_map(self) -> dict[str, tuple[Phase, Task]]:
        """Tasks by id, with their phase."""
        return {t.id: (p, t) for p in self.phases for t in p.tasks}

    @cached_property
    def decision_map(self) -> dict[str, tuple[Phase, Decision]]:
        """Decisions by id, with their phase."""
        return {d.id: (p, d) for p in self.phases for d in p.decisions}

    @cached_property
    def fact_types(self) -> dict[str, FactType]:
        """Every declared fact (from decisions and ``facts``) and its type."""
        types: dict[str, FactType] = dict(BUILTIN_FACTS)
        types.update({f.id: f.type for f in self.facts})
        types.update({d.fact_name: d.type for _, d in self.decision_map.values()})
        return types

    @cached_property
    def fact_choices(self) -> dict[str, list[str]]:
        """Allowed values of choice and multi-choice facts."""
        out = {f.id: [c.id for c in f.choices or []] for f in self.facts if f.choices}
        for _, d in self.decision_map.values():
            if d.choices:
                out[d.fact_name] = [c.id for c in d.choices]
        return out

    @cached_property
    def role_ids(self) -> list[str]:
        """Role ids in order: the declared ones, then the built-in observer."""
        declared = [r.id for r in self.roles]
        return declared if OBSERVER in declared else [*declared, OBSERVER]

    @cached_property
    def conditions(self) -> dict[str, Condition]:
        """Parsed guard conditions by source text."""
        return {c: Condition(c) for t in self.transitions for c in t.guards.conditions}

    def transitions_from(self, phase: str) -> list[Transition]:
        """Transitions whose source includes ``phase``, in file order."""
        return [t for t in self.transitions if phase in t.source]

    def definition(self) -> dict[str, Any]:
        """The playbook as plain JSON-ready data (what an incident snapshots)."""
        return self.model_dump(mode="json", exclude_none=True)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the canonical definition: identifies this exact playbook content."""
        return hashlib.sha256(canonical_json(self.definition()).encode("utf-8")).hexdigest()


def canonical_json(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def load_playbook(path: Path, display: str | None = None) -> Playbook:
    """Load and fully validate one playbook file.

    Raises:
        ContentErrors: with every problem found, each naming file, line and field.
    """
    doc = open_document(path, display)
    return playbook_from_document(doc)


def playbook_from_document(doc: Document) -> Playbook:
    """Validate a parsed document as a playbook (schema, then cross-references)."""
    playbook = validate_document(doc, Playbook)
    problems = list(check_playbook(playbook))
    if problems:
        raise ContentErrors([doc.error(loc, msg) for loc, msg in problems])
    return playbook


def playbook_from_definition(definition: dict[str, Any]) -> Playbook:
    """Rebuild a playbook from a stored snapshot (already validated when it was taken)."""
    return Playbook.model_validate(definition)


def check_playbook(pb: Playbook) -> Iterable[tuple[Loc, str]]:
    """Cross-reference checks the schema cannot express; yields ``(location, problem)``."""
    yield from _check_ids(pb)
    roles = {r.id for r in pb.roles}  # declared roles own tasks; the built-in observer owns none
    if COMMANDER not in roles:
        yield ("roles",), f"declare the '{COMMANDER}' role (the incident commander owns the incident)"
    for pi, phase in enumerate(pb.phases):
        for ti, task in enumerate(phase.tasks):
            if task.role not in roles:
                yield ("phases", pi, "tasks", ti, "role"), _unknown("role", task.role, roles)
        for di, dec in enumerate(phase.decisions):
            loc: Loc = ("phases", pi, "decisions", di)
            if dec.role is not None and dec.role not in roles:
                yield (*loc, "role"), _unknown("role", dec.role, roles)
            yield from _check_choices(loc, dec.type, dec.choices)
    for fi, fact in enumerate(pb.facts):
        yield from _check_choices(("facts", fi), fact.type, fact.choices)
    if pb.initial is not None and pb.initial not in pb.phase_map:
        yield ("initial",), _unknown("phase", pb.initial, pb.phase_map)
    yield from _check_transitions(pb)
    yield from _check_graph(pb)


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"unknown {kind} '{name}' (known: {shown})" if names else f"unknown {kind} '{name}'"


def _check_ids(pb: Playbook) -> Iterable[tuple[Loc, str]]:
    seen: dict[str, dict[str, Loc]] = {"role": {}, "phase": {}, "task": {}, "decision": {}, "fact": {}}

    def claim(kind: str, ident: str, loc: Loc) -> Iterable[tuple[Loc, str]]:
        if ident in seen[kind]:
            yield loc, f"duplicate {kind} id '{ident}' (first at {format_loc(seen[kind][ident])})"
        else:
            seen[kind][ident] = loc

    for i, role in enumerate(pb.roles):
        yield from claim("role", role.id, ("roles", i, "id"))
    for i, fact in enumerate(pb.facts):
        yield from claim("fact", fact.id, ("facts", i, "id"))
    for pi, phase in enumerate(pb.phases):
        yield from claim("phase", phase.id, ("phases", pi, "id"))
        for ti, task in enumerate(phase.tasks):
            yield from claim("task", task.id, ("phases", pi, "tasks", ti, "id"))
            if task.id in seen["role"]:
                yield ("phases", pi, "tasks", ti, "id"), f"task id '{task.id}' is also a role id"
        for di, dec in enumerate(phase.decisions):
            yield from claim("decision", dec.id, ("phases", pi, "decisions", di, "id"))
            yield from claim("fact", dec.fact_name, ("phases", pi, "decisions", di, "fact" if dec.fact else "id"))
    pairs: dict[tuple[str, str], int] = {}
    for i, tr in enumerate(pb.transitions):
        if tr.trigger in RESERVED_TRIGGERS or tr.trigger.startswith("may_") or tr.trigger.startswith("to_"):
            yield ("transitions", i, "trigger"), (
                f"'{tr.trigger}' is reserved (not {', '.join(sorted(RESERVED_TRIGGERS))}, nor may_* or to_*)"
            )
        for src in tr.source:
            if (tr.trigger, src) in pairs:
                yield ("transitions", i, "trigger"), (
                    f"trigger '{tr.trigger}' already leaves phase '{src}' (transitions[{pairs[(tr.trigger, src)]}])"
                )
            pairs[(tr.trigger, src)] = i


def _check_choices(loc: Loc, kind: FactType, choices: list[Choice] | None) -> Iterable[tuple[Loc, str]]:
    if kind in ("choice", "multi"):
        if not choices:
            yield (*loc, "type"), f"a {kind} needs 'choices'"
            return
        ids = [c.id for c in choices]
        for i, cid in enumerate(ids):
            if cid in ids[:i]:
                yield (*loc, "choices", i), f"duplicate choice '{cid}'"
    elif choices:
        yield (*loc, "choices"), f"only choice and multi decisions take choices, not {kind}"


def _check_transitions(pb: Playbook) -> Iterable[tuple[Loc, str]]:
    phases = pb.phase_map
    for i, tr in enumerate(pb.transitions):
        loc: Loc = ("transitions", i)
        for si, src in enumerate(tr.source):
            if src not in phases:
                yield (*loc, "source", si), _unknown("phase", src, phases)
            elif phases[src].final:
                yield (*loc, "source", si), f"phase '{src}' is final; nothing may leave it"
        if tr.dest not in phases:
            yield (*loc, "dest"), _unknown("phase", tr.dest, phases)
        guards = tr.guards
        if isinstance(guards.tasks, list):
            for gi, task in enumerate(guards.tasks):
                if task not in pb.task_map:
                    yield (*loc, "guards", "tasks", gi), _unknown("task", task, pb.task_map)
        for gi, name in enumerate(guards.answered):
            if name not in pb.decision_map and name not in pb.fact_types:
                yield (*loc, "guards", "answered", gi), _unknown("decision or fact", name, pb.fact_types)
        for gi, text in enumerate(guards.conditions):
            yield from _check_condition(pb, (*loc, "guards", "conditions", gi), text)


def _check_condition(pb: Playbook, loc: Loc, text: str) -> Iterable[tuple[Loc, str]]:
    try:
        cond = Condition(text)
    except ValueError as exc:
        yield loc, str(exc)
        return
    for name in sorted(cond.facts):
        if name not in pb.fact_types:
            yield loc, _unknown("fact", name, pb.fact_types)
    for comp in cond.comparisons:
        problem = _type_problem(pb, comp)
        if problem:
            yield loc, f"in '{cond.source}': {problem}"


def _type_problem(pb: Playbook, comp: Comparison) -> str | None:
    """Check that a comparison fits the declared type of the fact it reads."""
    fact, other, fact_left = (comp.left, comp.right, True) if isinstance(comp.left, FactRef) else (comp.right, comp.left, False)
    if isinstance(other, FactRef) or fact.name not in pb.fact_types:
        return None
    kind = pb.fact_types[fact.name]
    if other is None:
        # `fact == null` / `fact != null` test whether it has been answered.
        return None if comp.op in ("Eq", "NotEq") else f"'{fact.name}' can only be compared with null using == or !="
    membership = comp.op in ("In", "NotIn")
    values = other if isinstance(other, list) else [other]
    if kind == "bool":
        if membership or not all(isinstance(v, bool) for v in values):
            return f"'{fact.name}' is yes/no; compare it with true or false"
    elif kind == "integer":
        if membership and fact_left and isinstance(other, list):
            ok = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        else:
            ok = not membership and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if not ok:
            return f"'{fact.name}' is a number; compare it with a number"
    elif kind in ("choice", "multi"):
        if kind == "multi" and not (membership and not fact_left):
            return f"'{fact.name}' holds several choices; test one with '\"choice\" in {fact.name}'"
        if kind == "choice" and membership and not fact_left:
            return f"'{fact.name}' holds one choice; compare with == or 'in [...]'"
        allowed = pb.fact_choices.get(fact.name, [])
        for v in values:
            if v not in allowed:
                return f"'{v}' is not a choice of '{fact.name}' (choices: {', '.join(allowed)})"
    elif kind == "counts":
        return f"'{fact.name}' holds counts by key; declare an integer fact to compare"
    elif kind in ("text", "datetime") and not all(isinstance(v, str) for v in values):
        return f"'{fact.name}' is {kind}; compare it with a quoted string"
    return None


def _check_graph(pb: Playbook) -> Iterable[tuple[Loc, str]]:
    phases = pb.phase_map
    edges: dict[str, set[str]] = {p: set() for p in phases}
    for tr in pb.transitions:
        for src in tr.source:
            if src in edges and tr.dest in phases:
                edges[src].add(tr.dest)
    finals = {p.id for p in pb.phases if p.final}
    if not finals:
        yield ("phases",), "no phase is final (mark the closing phase with 'final: true')"
        return
    reachable = _reach(pb.initial_phase, edges) if pb.initial_phase in phases else set()
    reverse: dict[str, set[str]] = {p: set() for p in phases}
    for src, dests in edges.items():
        for dest in dests:
            reverse[dest].add(src)
    can_finish: set[str] = set()
    for final in finals:
        can_finish |= _reach(final, reverse)
    for pi, phase in enumerate(pb.phases):
        if reachable and phase.id not in reachable:
            yield ("phases", pi, "id"), f"phase '{phase.id}' cannot be reached from '{pb.initial_phase}'"
        elif not phase.final and not edges[phase.id]:
            yield ("phases", pi, "id"), f"phase '{phase.id}' is a dead end: not final and no transition leaves it"
        elif not phase.final and phase.id not in can_finish:
            yield ("phases", pi, "id"), f"no path leads from phase '{phase.id}' to a final phase"


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    todo = [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
