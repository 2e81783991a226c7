"""Response scripts: scripted players' actions at given offsets, for headless drills and tests.

A script is YAML (see ``docs/scenarios.md``): optional ``players`` (role -> person, assigned
at STARTEX) and a list of ``responses``, each with an offset ``at``, who acts (``as`` a
person, or the holder of ``role``, else the holder of the role the playbook gives the task
or decision) and exactly one action. Actions go through the same incident service as a
person at a terminal, so a scripted answer is recorded exactly like a live one.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationError, model_validator

from ir.content.validate import Strict, validate_document
from ir.content.yamlfile import Document, Loc, open_document
from ir.drills.offsets import parse_offset
from ir.drills.scenario import Offset, Scenario, start_instant
from ir.engine.playbook import COMMANDER, Id, Playbook
from ir.errors import ContentErrors
from ir.store import projection

ACTIONS = ("done", "answer", "fire", "set", "note", "assign", "hotwash", "discuss", "fulfil", "waive", "record")
"""What a scripted response may do; each response does exactly one."""

Text = Annotated[str, Field(min_length=1, max_length=20_000)]


MAX_RESPONSES = 500
"""Most responses in one script (the shipped ones have about 30): each is a command, and a
file of tens of thousands would keep a headless run busy for hours."""


class RenderedNotices(Strict):
    """A scripted ``record: notices.rendered``: the shape the notices capability records, so
    the timeline, the report and the scoring read it like a real rendering."""

    template: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
    format: Annotated[str, Field(pattern=r"^[a-z0-9]+$", max_length=16)]
    count: Annotated[int, Field(ge=0, le=1_000_000_000)]
    manifest_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    skipped: Annotated[int, Field(ge=0, le=1_000_000_000)] | None = None
    out: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


RECORDABLE: dict[str, type[Strict]] = {"notices.rendered": RenderedNotices}
"""Event kinds a script may record directly, with the payload each must have. Every other kind
belongs to a command with its own checks (a phase change to its guards, an inject to the
drill's clock); recording it raw would let a script forge the exercise's record, or store a
payload its readers cannot read and leave the drill unreadable."""


class Response(Strict):
    """One scripted action."""

    at: Offset
    actor: Annotated[str, Field(min_length=1, max_length=128)] | None = Field(None, alias="as")
    role: Id | None = None
    done: Id | None = None
    answer: Id | None = None
    value: Any = None
    why: Text | None = None
    fire: Id | None = None
    reason: Text | None = None
    set: dict[str, Any] | None = None
    note: Text | None = None
    assign: Id | None = None
    to: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    hotwash: Text | None = None
    discuss: Id | None = None
    text: Text | None = None
    fulfil: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    waive: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    record: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")] | None = None
    payload: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one(self) -> Response:
        given = [a for a in ACTIONS if getattr(self, a) is not None]
        if len(given) != 1:
            raise ValueError(f"a response does exactly one of: {', '.join(ACTIONS)}" + (f" (got {', '.join(given)})" if given else ""))
        needs = {"answer": "value", "assign": "to", "discuss": "text", "record": "payload", "waive": "reason"}
        action = given[0]
        if action in needs and getattr(self, needs[action]) is None:
            raise ValueError(f"'{action}' needs '{needs[action]}'")
        extras = {
            "value": ("answer",), "why": ("answer",), "reason": ("fire", "waive"), "to": ("assign",),
            "text": ("discuss",), "payload": ("record",),
        }
        for key, owners in extras.items():
            if getattr(self, key) is not None and action not in owners:
                raise ValueError(f"'{key}' goes with '{' or '.join(owners)}'")
        return self

    @property
    def action(self) -> str:
        """Which action this response takes."""
        return next(a for a in ACTIONS if getattr(self, a) is not None)

    @cached_property
    def offset(self) -> int:
        """Seconds from STARTEX."""
        return parse_offset(self.at)


class Script(Strict):
    """A whole response script."""

    scenario: str | None = None
    start: str | None = None
    players: dict[Id, Annotated[str, Field(min_length=1, max_length=128)]] = {}
    responses: Annotated[list[Response], Field(max_length=MAX_RESPONSES)] = []


class LoadedScript:
    """A validated script with where it came from (for errors at run time).

    Attributes:
        path: the file name as shown to the user.
        lines: line of each response.
    """

    def __init__(self, script: Script, doc: Document) -> None:
        self.script = script
        self.path = doc.path
        self.lines = [doc.line_of(("responses", i)) for i in range(len(script.responses))]

    def ordered(self) -> list[tuple[int, Response]]:
        """Responses by offset, then file order, with their index."""
        return sorted(enumerate(self.script.responses), key=lambda pair: pair[1].offset)

    def where(self, index: int) -> str:
        """``file:line: responses[i]`` for an error message."""
        line = self.lines[index]
        return f"{self.path}:{line}: responses[{index}]" if line else f"{self.path}: responses[{index}]"


def load_script(path: Path, scenario: Scenario, pb: Playbook, display: str | None = None) -> LoadedScript:
    """Load and validate a response script against the scenario and its playbook.

    Raises:
        ContentErrors: every problem found, each naming file, line and field.
    """
    doc = open_document(path, display)
    script = validate_document(doc, Script)
    problems = list(check_script(script, scenario, pb))
    if problems:
        raise ContentErrors([doc.error(loc, msg) for loc, msg in problems])
    return LoadedScript(script, doc)


def check_script(script: Script, s: Scenario, pb: Playbook) -> Iterable[tuple[Loc, str]]:
    """Cross-references a schema cannot check; yields ``(location, problem)``."""
    if script.scenario is not None and script.scenario != s.id:
        yield ("scenario",), f"this script is for scenario '{script.scenario}', not '{s.id}'"
    if script.start is not None:
        try:
            start_instant(script.start)
        except ValueError as exc:
            yield ("start",), str(exc)
    for role in script.players:
        if role not in pb.role_ids:
            yield ("players", role), f"unknown role '{role}' (known: {', '.join(pb.role_ids)})"
    for i, r in enumerate(script.responses):
        yield from _check_response(("responses", i), r, s, pb)


def _check_response(loc: Loc, r: Response, s: Scenario, pb: Playbook) -> Iterable[tuple[Loc, str]]:
    if r.offset > s.length:
        yield (*loc, "at"), f"{r.at} is after ENDEX ({s.duration})"
    if r.role is not None and r.role not in pb.role_ids:
        yield (*loc, "role"), f"unknown role '{r.role}' (known: {', '.join(pb.role_ids)})"
    action = r.action
    checks: dict[str, tuple[Any, str]] = {
        "done": (pb.task_map, "task"),
        "answer": (pb.decision_map, "decision"),
        "fire": ({t.trigger for t in pb.transitions}, "trigger"),
        "discuss": (s.question_map, "discussion question"),
    }
    if action in checks:
        known, what = checks[action]
        target = getattr(r, action)
        if target not in known:
            yield (*loc, action), f"unknown {what} '{target}' (known: {', '.join(sorted(known)[:12])})"
    elif action == "assign" and r.assign not in pb.role_ids and r.assign not in pb.task_map:
        yield (*loc, "assign"), f"'{r.assign}' is neither a role nor a task of playbook '{pb.id}'"
    elif action == "set":
        for key in r.set or {}:
            if key not in pb.fact_types:
                yield (*loc, "set", key), f"unknown fact '{key}' (playbook '{pb.id}' does not declare it)"
    elif action == "record":
        yield from _check_record(loc, r)


def _check_record(loc: Loc, r: Response) -> Iterable[tuple[Loc, str]]:
    kind = str(r.record)
    if kind not in projection.known_kinds():
        yield (*loc, "record"), f"no capability in this installation records '{kind}' events"
    elif kind not in RECORDABLE:
        yield (*loc, "record"), (
            f"a script records '{kind}' events only through the action that makes them "
            f"(done, answer, fire, ...); 'record' is for: {', '.join(sorted(RECORDABLE))}"
        )
    else:
        try:
            RECORDABLE[kind].model_validate(r.payload)
        except ValidationError as exc:
            for err in exc.errors():
                where = (*loc, "payload", *err["loc"])
                yield where, "required but missing" if err["type"] == "missing" else str(err["msg"])


def recorded_payload(r: Response) -> dict[str, Any]:
    """The payload a ``record`` response records, in the form its kind's readers expect."""
    model = RECORDABLE[str(r.record)].model_validate(r.payload)
    return model.model_dump(mode="json", exclude_none=True)


def acting_role(r: Response, pb: Playbook) -> str | None:
    """The role whose holder acts when the response names no one (None: the facilitator)."""
    if r.role:
        return r.role
    if r.done and r.done in pb.task_map:
        return pb.task_map[r.done][1].role
    if r.answer and r.answer in pb.decision_map:
        return pb.decision_map[r.answer][1].role or COMMANDER
    if r.fulfil or r.waive:
        return "dpo" if "dpo" in pb.role_ids else COMMANDER
    # Hot-wash notes are the facilitator's; the rest is the incident commander's call.
    return None if r.hotwash else COMMANDER
