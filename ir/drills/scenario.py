"""Scenarios: a drill's objectives, timed injects (the MSEL), conditions and expectations.

A scenario file is YAML (see ``docs/scenarios.md``). :func:`load_scenario` validates it as
strictly as a playbook: unknown keys, bad offsets, duplicate ids, and every reference to the
playbook it exercises (phases, tasks, decisions, facts, roles) are checked, and each problem
names file, line and field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from ir.clock import parse_instant
from ir.content.validate import LocalText, Strict, validate_document
from ir.content.yamlfile import Document, Loc, format_loc, open_document
from ir.drills.offsets import parse_offset
from ir.engine import facts as factlib
from ir.engine.playbook import Id, Playbook, PlaybookId, canonical_json
from ir.errors import ContentErrors, InvalidInput, IrError


def _offset(value: str) -> str:
    parse_offset(value)
    return value


MIN_YEAR, MAX_YEAR = 1900, 2999
"""A scenario starts within these years: a year of scenario time, and any deadline counted in
it, stays inside the calendar (which ends in 9999)."""


def check_start(instant: dt.datetime) -> dt.datetime:
    """Refuse a STARTEX so far off that scenario time would leave the calendar.

    Raises:
        ValueError: the instant is outside :data:`MIN_YEAR`..:data:`MAX_YEAR`.
    """
    if not MIN_YEAR <= instant.year <= MAX_YEAR:
        raise ValueError(f"{instant.isoformat()} is not between the years {MIN_YEAR} and {MAX_YEAR}")
    return instant


def start_instant(value: str) -> dt.datetime:
    """Parse a scenario's or script's ``start``.

    Raises:
        ValueError: not an instant with an offset, or out of range.
    """
    try:
        instant = parse_instant(value)
    except OverflowError:
        # "0001-01-01T00:00+01:00" has no UTC equivalent.
        raise ValueError(f"'{value}' is out of range") from None
    return check_start(instant)


def _instant(value: str) -> str:
    start_instant(value)
    return value


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Offset = Annotated[str, AfterValidator(_offset)]
"""Scenario time from STARTEX: ``+01:30``, ``+72:00``, ``+2d04:00``."""

MAX_ITEMS = 200
"""Most injects (and objectives, expectations, modules, participants) in one scenario. Real
exercises have dozens; the runner's work grows with the square of the injects (300 take eight
seconds), so a file of thousands would keep 'ir drill run' busy for hours."""

ScenarioId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*$", max_length=64)]

Channel = Literal[
    "email", "phone", "news", "ticket", "system_alert", "regulator", "attacker", "chat", "social", "letter", "briefing"
]
"""How an inject reaches the players."""

ALL_PLAYERS = "all"
"""An inject addressed ``to: all`` goes to every participant."""

CONDITION_KEYS = (
    "reached", "not_reached", "task_done", "task_not_done", "fact", "fact_unset",
    "met", "missed", "delivered", "not_delivered",
)
"""The tests a condition may make; each condition makes exactly one."""

EXPECTATION_KINDS = ("phase", "task", "fact", "decision", "obligation", "notice")
"""What an expectation checks in the event log; each expectation checks exactly one."""


def _exactly_one(obj: Any, keys: tuple[str, ...], what: str) -> str:
    given = [k for k in keys if getattr(obj, k) is not None]
    if len(given) != 1:
        raise ValueError(f"{what} needs exactly one of: {', '.join(keys)}" + (f" (got {', '.join(given)})" if given else ""))
    return given[0]


class Objective(Strict):
    """What the exercise sets out to test, tied to a capability."""

    id: Id
    title: LocalText
    capability: LocalText
    """The capability (or plan element) the objective exercises, e.g. "Notification"."""
    description: LocalText | None = None


class Participant(Strict):
    """A playbook role in play, with what its player is told at STARTEX."""

    role: Id
    brief: LocalText | None = None


class Question(Strict):
    """A discussion question for the facilitator to put to the players."""

    id: Id
    text: LocalText


class Module(Strict):
    """A block of the exercise: its situation update time, discussion questions and notes."""

    id: Id
    title: LocalText
    at: Offset
    questions: list[Question] = []
    notes: LocalText | None = None
    """The facilitator's notes (never shown to players)."""


class Condition(Strict):
    """One test on the drill's record; an inject is delivered only if all of its hold."""

    reached: Id | None = None
    not_reached: Id | None = None
    task_done: Id | None = None
    task_not_done: Id | None = None
    fact: Id | None = None
    equals: Any = None
    fact_unset: Id | None = None
    met: Id | None = None
    missed: Id | None = None
    delivered: Id | None = None
    not_delivered: Id | None = None

    @model_validator(mode="after")
    def _one(self) -> Condition:
        kind = _exactly_one(self, CONDITION_KEYS, "a condition")
        if self.equals is not None and kind != "fact":
            raise ValueError("'equals' goes with 'fact'")
        return self

    @property
    def kind(self) -> str:
        """Which test this condition makes."""
        return next(k for k in CONDITION_KEYS if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        """The phase, task, fact, expectation or inject the condition names."""
        return str(getattr(self, self.kind))


class Inject(Strict):
    """One row of the master scenario events list."""

    id: Id
    at: Offset
    channel: Channel
    sender: LocalText = Field(alias="from")
    to: Annotated[list[Id], BeforeValidator(_listify), Field(min_length=1)]
    title: LocalText
    text: LocalText
    expect: LocalText | None = None
    """The action a good team takes on receiving it (for the facilitator and the report)."""
    objective: Id | None = None
    when: list[Condition] = []
    until: Offset | None = None
    """If the conditions do not hold when due, keep waiting for them until this offset."""
    notes: LocalText | None = None

    @cached_property
    def due(self) -> int:
        """Seconds from STARTEX."""
        return parse_offset(self.at)

    @cached_property
    def deadline(self) -> int | None:
        """Seconds from STARTEX after which a waiting inject expires (None: it never waits)."""
        return parse_offset(self.until) if self.until else None


class Expectation(Strict):
    """What a good team does, and by when, checked from the event log."""

    id: Id
    objective: Id
    title: LocalText
    weight: Annotated[float, Field(gt=0, le=100)] = 1.0
    by: Offset | None = None
    phase: Id | None = None
    task: Id | None = None
    fact: Id | None = None
    decision: Id | None = None
    obligation: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    notice: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    equals: Any = None
    rationale: bool = False
    """For a decision: the answer must state its rationale."""
    count: Annotated[int, Field(ge=1)] | None = None
    """For a notice: at least this many notices rendered."""
    gap: LocalText | None = None
    """The issue, as it goes into the improvement plan when the expectation is not met."""
    action: LocalText | None = None
    """The corrective action suggested for the improvement plan."""
    owner: Id | None = None
    """The role that owns the corrective action."""

    @model_validator(mode="after")
    def _one(self) -> Expectation:
        kind = _exactly_one(self, EXPECTATION_KINDS, "an expectation")
        if self.equals is not None and kind not in ("fact", "decision"):
            raise ValueError("'equals' goes with 'fact' or 'decision'")
        if self.rationale and kind != "decision":
            raise ValueError("'rationale' goes with 'decision'")
        if self.count is not None and kind != "notice":
            raise ValueError("'count' goes with 'notice'")
        return self

    @property
    def kind(self) -> str:
        """What the expectation checks."""
        return next(k for k in EXPECTATION_KINDS if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        """The phase, task, fact, decision, obligation rule or notice template it names."""
        return str(getattr(self, self.kind))

    @cached_property
    def deadline(self) -> int | None:
        """Seconds from STARTEX by which it should be met (None: by ENDEX)."""
        return parse_offset(self.by) if self.by else None


class Scenario(Strict):
    """A whole scenario, validated."""

    id: ScenarioId
    version: Annotated[str, Field(min_length=1, max_length=32)]
    title: LocalText
    summary: LocalText
    playbook: PlaybookId
    severity: Literal["low", "medium", "high", "critical"] = "high"
    duration: Offset
    start: Annotated[str, AfterValidator(_instant)] | None = None
    scope: LocalText | None = None
    participants: Annotated[list[Participant], Field(min_length=1, max_length=MAX_ITEMS)]
    facts: dict[str, Any] = {}
    objectives: Annotated[list[Objective], Field(min_length=1, max_length=MAX_ITEMS)]
    modules: Annotated[list[Module], Field(max_length=MAX_ITEMS)] = []
    injects: Annotated[list[Inject], Field(min_length=1, max_length=MAX_ITEMS)]
    expectations: Annotated[list[Expectation], Field(min_length=1, max_length=MAX_ITEMS)]

    @cached_property
    def length(self) -> int:
        """Seconds from STARTEX to ENDEX."""
        return parse_offset(self.duration)

    @cached_property
    def inject_map(self) -> dict[str, Inject]:
        """Injects by id."""
        return {i.id: i for i in self.injects}

    @cached_property
    def expectation_map(self) -> dict[str, Expectation]:
        """Expectations by id."""
        return {e.id: e for e in self.expectations}

    @cached_property
    def objective_map(self) -> dict[str, Objective]:
        """Objectives by id."""
        return {o.id: o for o in self.objectives}

    @cached_property
    def schedule(self) -> list[Inject]:
        """Injects in delivery order: by offset, then file order."""
        return sorted(self.injects, key=lambda i: i.due)

    @cached_property
    def question_map(self) -> dict[str, tuple[Module, Question]]:
        """Discussion questions by id, with their module."""
        return {q.id: (m, q) for m in self.modules for q in m.questions}

    def definition(self) -> dict[str, Any]:
        """The scenario as plain JSON-ready data (what a drill snapshots)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

    @cached_property
    def digest(self) -> str:
        """SHA-256 of the canonical definition: identifies this exact scenario content."""
        return hashlib.sha256(canonical_json(self.definition()).encode("utf-8")).hexdigest()


def load_scenario(path: Path, playbooks: Any, display: str | None = None) -> tuple[Scenario, Playbook]:
    """Load and fully validate a scenario file against the playbook it exercises.

    Args:
        path: the YAML file.
        playbooks: where to find the playbook (a :class:`~ir.engine.catalog.PlaybookCatalog`).
        display: the file name to show in errors.

    Raises:
        ContentErrors: every problem found, each naming file, line and field.
    """
    doc = open_document(path, display)
    return scenario_from_document(doc, playbooks)


def scenario_from_document(doc: Document, playbooks: Any) -> tuple[Scenario, Playbook]:
    """Validate a parsed document as a scenario (schema, then references to its playbook)."""
    scenario = validate_document(doc, Scenario)
    try:
        pb = playbooks.get(scenario.playbook)
    except ContentErrors:
        raise  # the playbook itself is invalid: its own errors name its file
    except IrError as exc:
        raise ContentErrors([doc.error(("playbook",), str(exc))]) from None
    problems = list(check_scenario(scenario, pb))
    if problems:
        raise ContentErrors([doc.error(loc, msg) for loc, msg in problems])
    return scenario, pb


def scenario_from_definition(definition: dict[str, Any]) -> Scenario:
    """Rebuild a scenario from a drill's snapshot (validated when the drill started)."""
    return Scenario.model_validate(definition)


def check_scenario(s: Scenario, pb: Playbook) -> Iterable[tuple[Loc, str]]:
    """Cross-reference checks the schema cannot express; yields ``(location, problem)``."""
    yield from _check_ids(s)
    roles = set(pb.role_ids)
    for i, p in enumerate(s.participants):
        if p.role not in roles:
            yield ("participants", i, "role"), _unknown("role", p.role, roles)
    yield from _check_facts(s, pb)
    end = s.length
    for i, m in enumerate(s.modules):
        if parse_offset(m.at) > end:
            yield ("modules", i, "at"), f"{m.at} is after ENDEX ({s.duration})"
    for i, inj in enumerate(s.injects):
        yield from _check_inject(s, pb, i, inj, roles)
    covered = {e.objective for e in s.expectations}
    for i, o in enumerate(s.objectives):
        if o.id not in covered:
            yield ("objectives", i, "id"), f"objective '{o.id}' has no expectation; say how it is evaluated"
    for i, e in enumerate(s.expectations):
        yield from _check_expectation(s, pb, i, e, roles)


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(known)
    shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
    return f"unknown {kind} '{name}' (known: {shown})" if names else f"unknown {kind} '{name}'"


def _check_ids(s: Scenario) -> Iterable[tuple[Loc, str]]:
    groups: list[tuple[str, list[tuple[Loc, str]]]] = [
        ("objective", [(("objectives", i, "id"), o.id) for i, o in enumerate(s.objectives)]),
        ("module", [(("modules", i, "id"), m.id) for i, m in enumerate(s.modules)]),
        (
            "question",
            [(("modules", i, "questions", j, "id"), q.id) for i, m in enumerate(s.modules) for j, q in enumerate(m.questions)],
        ),
        ("inject", [(("injects", i, "id"), inj.id) for i, inj in enumerate(s.injects)]),
        ("expectation", [(("expectations", i, "id"), e.id) for i, e in enumerate(s.expectations)]),
    ]
    for kind, items in groups:
        seen: dict[str, Loc] = {}
        for loc, ident in items:
            if ident in seen:
                yield loc, f"duplicate {kind} id '{ident}' (first at {format_loc(seen[ident])})"
            else:
                seen[ident] = loc


def _check_facts(s: Scenario, pb: Playbook) -> Iterable[tuple[Loc, str]]:
    for key, value in s.facts.items():
        if key not in pb.fact_types:
            yield ("facts", key), _unknown("fact", key, pb.fact_types)
            continue
        problem = _value_problem(pb, key, value)
        if problem:
            yield ("facts", key), problem


def _value_problem(pb: Playbook, fact: str, value: Any) -> str | None:
    try:
        factlib.coerce(fact, pb.fact_types[fact], value, pb.fact_choices.get(fact, []))
    except InvalidInput as exc:
        return str(exc)
    return None


def typed_value(pb: Playbook, fact: str, value: Any) -> Any:
    """A value as the fact stores it (so ``equals: yes`` compares equal to ``true``)."""
    return factlib.coerce(fact, pb.fact_types[fact], value, pb.fact_choices.get(fact, []))


def _check_inject(s: Scenario, pb: Playbook, i: int, inj: Inject, roles: set[str]) -> Iterable[tuple[Loc, str]]:
    loc: Loc = ("injects", i)
    if inj.due > s.length:
        yield (*loc, "at"), f"{inj.at} is after ENDEX ({s.duration})"
    if inj.deadline is not None:
        if inj.deadline <= inj.due:
            yield (*loc, "until"), f"{inj.until} must be after 'at' ({inj.at})"
        elif inj.deadline > s.length:
            yield (*loc, "until"), f"{inj.until} is after ENDEX ({s.duration})"
        if not inj.when:
            yield (*loc, "until"), "'until' makes an inject wait for its conditions; give 'when' too"
    for j, to in enumerate(inj.to):
        if to != ALL_PLAYERS and to not in roles:
            yield (*loc, "to", j), _unknown("role", to, [*roles, ALL_PLAYERS])
    if inj.objective is not None and inj.objective not in s.objective_map:
        yield (*loc, "objective"), _unknown("objective", inj.objective, s.objective_map)
    latest = inj.deadline if inj.deadline is not None else inj.due
    for j, cond in enumerate(inj.when):
        yield from _check_condition(s, pb, (*loc, "when", j), cond, inj, latest)


def _check_condition(s: Scenario, pb: Playbook, loc: Loc, c: Condition, inj: Inject, latest: int) -> Iterable[tuple[Loc, str]]:
    kind, target = c.kind, c.target
    if kind in ("reached", "not_reached") and target not in pb.phase_map:
        yield (*loc, kind), _unknown("phase", target, pb.phase_map)
    elif kind in ("task_done", "task_not_done") and target not in pb.task_map:
        yield (*loc, kind), _unknown("task", target, pb.task_map)
    elif kind in ("fact", "fact_unset"):
        if target not in pb.fact_types:
            yield (*loc, kind), _unknown("fact", target, pb.fact_types)
        elif c.equals is not None:
            problem = _value_problem(pb, target, c.equals)
            if problem:
                yield (*loc, "equals"), problem
    elif kind in ("met", "missed"):
        exp = s.expectation_map.get(target)
        if exp is None:
            yield (*loc, kind), _unknown("expectation", target, s.expectation_map)
        elif kind == "missed" and (exp.deadline is None or exp.deadline > latest):
            when = exp.by or "ENDEX"
            yield (*loc, kind), (
                f"expectation '{target}' is due at {when}, after this inject ({inj.until or inj.at}); "
                "it cannot be missed yet"
            )
    elif kind in ("delivered", "not_delivered"):
        other = s.inject_map.get(target)
        if other is None:
            yield (*loc, kind), _unknown("inject", target, s.inject_map)
        elif other.id == inj.id:
            yield (*loc, kind), "an inject cannot depend on itself"
        elif other.due > latest:
            yield (*loc, kind), f"inject '{target}' is due at {other.at}, after this one ({inj.until or inj.at})"


def _check_expectation(s: Scenario, pb: Playbook, i: int, e: Expectation, roles: set[str]) -> Iterable[tuple[Loc, str]]:
    loc: Loc = ("expectations", i)
    if e.objective not in s.objective_map:
        yield (*loc, "objective"), _unknown("objective", e.objective, s.objective_map)
    if e.deadline is not None and e.deadline > s.length:
        yield (*loc, "by"), f"{e.by} is after ENDEX ({s.duration})"
    if e.owner is not None and e.owner not in roles:
        yield (*loc, "owner"), _unknown("role", e.owner, roles)
    kind, target = e.kind, e.target
    if kind == "phase":
        if target not in pb.phase_map:
            yield (*loc, "phase"), _unknown("phase", target, pb.phase_map)
        elif target == pb.initial_phase:
            yield (*loc, "phase"), f"the drill starts in phase '{target}'; expect a later phase"
    elif kind == "task" and target not in pb.task_map:
        yield (*loc, "task"), _unknown("task", target, pb.task_map)
    elif kind == "decision" and target not in pb.decision_map:
        yield (*loc, "decision"), _unknown("decision", target, pb.decision_map)
    elif kind == "fact":
        if target not in pb.fact_types:
            yield (*loc, "fact"), _unknown("fact", target, pb.fact_types)
        elif target in s.facts and (e.equals is None or _same(pb, target, s.facts[target], e.equals)):
            yield (*loc, "fact"), f"the scenario's starting facts already set '{target}'; the expectation is met at STARTEX"
    if kind in ("fact", "decision") and e.equals is not None:
        fact = pb.decision_map[target][1].fact_name if kind == "decision" and target in pb.decision_map else target
        if fact in pb.fact_types:
            problem = _value_problem(pb, fact, e.equals)
            if problem:
                yield (*loc, "equals"), problem


def _same(pb: Playbook, fact: str, a: Any, b: Any) -> bool:
    try:
        return bool(typed_value(pb, fact, a) == typed_value(pb, fact, b))
    except InvalidInput:
        return False


__all__ = [
    "ALL_PLAYERS", "Condition", "Expectation", "Inject", "Module", "Objective", "Participant", "Question",
    "Scenario", "check_scenario", "load_scenario", "scenario_from_definition", "typed_value",
]
