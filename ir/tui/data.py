"""Plain data the screens show, built from the workspace's services (no widgets here)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ir.clock import parse_instant
from ir.engine.report import duration_text
from ir.engine.state import SEVERITIES, IncidentState
from ir.engine.views import describe_event
from ir.errors import IrError
from ir.i18n import pick
from ir.workspace import Workspace

if TYPE_CHECKING:
    from ir.drills.service import DrillStatus

SOON = dt.timedelta(hours=24)
"""A deadline closer than this is shown as coming soon."""

URGENT = dt.timedelta(hours=1)
"""A deadline closer than this is shown as urgent."""


@dataclass(frozen=True)
class Deadline:
    """The soonest unmet obligation of an incident.

    Attributes:
        due_at: when it is due, UTC.
        what: what is due and to whom (the rule and its recipient).
        target: the organisation's own target rather than a legal deadline.
    """

    due_at: dt.datetime
    what: str
    target: bool = False


@dataclass(frozen=True)
class IncidentRow:
    """One incident as the dashboard lists it.

    Attributes:
        offset: the incident's clock minus the wall clock when loaded (a drill runs on its
            own virtual clock), so ages and countdowns keep ticking without a reload.
    """

    id: str
    title: str
    mode: str
    severity: str
    playbook: str
    phase: str
    phase_title: str
    owner: str
    opened_at: dt.datetime
    final: bool
    closed_at: dt.datetime | None
    deadline: Deadline | None
    offset: dt.timedelta
    deadline_known: bool = True
    """False until the deadline has been asked of the obligations service."""

    @property
    def exercise(self) -> bool:
        """Whether this is a drill (shown as EXERCISE everywhere)."""
        return self.mode == "drill"

    def matches(self, query: str) -> bool:
        """Whether every word of ``query`` occurs in the row's id, title, phase, owner or playbook."""
        haystack = " ".join(
            (self.id, self.title, self.severity, self.playbook, self.phase, self.phase_title, self.owner)
        ).casefold()
        return all(word in haystack for word in query.casefold().split())

    def sort_key(self) -> tuple[Any, ...]:
        """Most urgent first: soonest deadline, then highest severity, then newest."""
        due = self.deadline.due_at.timestamp() if self.deadline else float("inf")
        rank = SEVERITIES.index(self.severity) if self.severity in SEVERITIES else 0
        return (self.final, due, -rank, -self.opened_at.timestamp(), self.id)


def load_rows(ws: Workspace, *, deadlines: bool = True, states: list[IncidentState] | None = None) -> list[IncidentRow]:
    """Every incident of the workspace (live and drill, open and closed), most urgent first.

    Args:
        deadlines: ask for each open incident's next deadline; without, rows come back at
            once with ``deadline_known`` false (see :func:`with_deadlines`).
        states: every incident, if already read (else read here).
    """
    wall = ws.clock.now()
    states = ws.incidents.list(mode=None, include_closed=True) if states is None else states
    due = next_deadlines(ws, [s for s in states if not s.final]) if deadlines else {}
    rows = [_row(ws, state, wall, due.get(state.id), deadlines) for state in states]
    return sorted(rows, key=IncidentRow.sort_key)


def with_deadlines(ws: Workspace, rows: list[IncidentRow], states: list[IncidentState] | None = None) -> list[IncidentRow]:
    """The rows with their next deadlines filled in, re-sorted (the second half of a load).

    Args:
        states: the incidents the rows were made from, if at hand (else the open ones are read again).
    """
    open_states = [s for s in states if not s.final] if states is not None else ws.incidents.list(mode=None)
    due = next_deadlines(ws, open_states)
    out = [r if r.final else replace(r, deadline=due.get(r.id), deadline_known=True) for r in rows]
    return sorted(out, key=IncidentRow.sort_key)


def carry_deadlines(rows: list[IncidentRow], previous: list[IncidentRow] | None) -> list[IncidentRow]:
    """Show the deadlines already known for incidents still listed while new ones are asked for,
    so a refresh does not blank the column."""
    known = {r.id: r.deadline for r in previous or [] if r.deadline_known}
    out = [replace(r, deadline=known[r.id], deadline_known=True) if not r.deadline_known and r.id in known else r
           for r in rows]
    return sorted(out, key=IncidentRow.sort_key)


def _row(ws: Workspace, state: IncidentState, wall: dt.datetime, deadline: Deadline | None, deadlines: bool) -> IncidentRow:
    try:
        phase_title = ws.incidents.phase_title(state, ws.lang)
    except IrError:
        phase_title = state.phase
    return IncidentRow(
        id=state.id,
        title=state.title,
        mode=state.mode,
        severity=state.severity,
        playbook=state.playbook_id,
        phase=state.phase,
        phase_title=phase_title,
        owner=state.owner or "",
        opened_at=parse_instant(state.opened_at),
        final=state.final,
        closed_at=parse_instant(state.closed_at) if state.closed_at else None,
        deadline=deadline if deadlines and not state.final else None,
        offset=ws.clock_for(state).now() - wall,
        deadline_known=deadlines or state.final,
    )


def next_deadlines(ws: Workspace, states: list[IncidentState]) -> dict[str, Deadline | None]:
    """Each incident's soonest unmet deadline, read in one go (without loading the rules: the
    dashboard's first full screen waits for this)."""
    from ir.obligations.deadlines import next_deadlines as soonest

    try:
        found = soonest(ws, states)
    except IrError:
        return {}
    return {incident_id: deadline_of(duty) for incident_id, duty in found.items()}


def deadline_of(obligation: Any) -> Deadline | None:
    """Read when a deadline falls (``due_at`` or ``at``: an instant or ISO text) and what it is,
    from the obligations service's answer (an object or a mapping)."""
    if obligation is None:
        return None

    def get(name: str) -> Any:
        if isinstance(obligation, Mapping):
            return obligation.get(name)
        return getattr(obligation, name, None)

    due = get("due_at") or get("at")
    if due is None:
        return None
    when = due if isinstance(due, dt.datetime) else parse_instant(str(due))
    what = next((str(get(n)) for n in ("rule", "title", "id") if get(n)), "deadline")
    if get("recipient_name"):
        what += f" → {get('recipient_name')}"
    return Deadline(when.astimezone(dt.timezone.utc), what, get("kind") == "target")


def age_text(row: IncidentRow, wall_now: dt.datetime) -> str:
    """How long the incident has been open (until closure for closed ones)."""
    end = row.closed_at or (wall_now + row.offset)
    return duration_text(max(0.0, (end - row.opened_at).total_seconds()))


def countdown(due_at: dt.datetime, now: dt.datetime) -> tuple[str, str]:
    """The time left until ``due_at`` and how pressing it is.

    Returns:
        ``(text, level)`` where level is ``overdue``, ``urgent``, ``soon`` or ``ok``.
    """
    left = due_at - now
    if left.total_seconds() < 0:
        return f"OVERDUE {duration_text(-left.total_seconds())}", "overdue"
    text = duration_text(left.total_seconds())
    if left <= URGENT:
        return text, "urgent"
    if left <= SOON:
        return text, "soon"
    return text, "ok"


def short_time(instant: str) -> str:
    """An event time as ``MM-DD HH:MM:SS`` (UTC): an incident's timeline rarely spans years,
    and 80 columns are few (the report and ``ir incident log`` give the full time)."""
    return instant[5:19].replace("T", " ")


@dataclass(frozen=True)
class TimelineRow:
    """One event as the timeline shows it."""

    seq: int
    at: str
    actor: str
    kind: str
    text: str


def load_timeline(ws: Workspace, incident_id: str) -> list[TimelineRow]:
    """The incident's events, described in the workspace's language."""
    state = ws.incidents.get(incident_id)
    pb = ws.incidents.playbook_of(state)
    return [
        TimelineRow(e.seq, short_time(e.at), e.actor, e.kind, describe_event(e.kind, e.payload, pb, ws.lang))
        for e in ws.incidents.timeline(incident_id)
    ]


@dataclass(frozen=True)
class DrillQuestion:
    """A discussion question of a drill's scenario, with the answers recorded so far."""

    id: str
    module: str
    text: str
    answers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrillSnapshot:
    """What the drill pane shows, read at one moment.

    Attributes:
        status: scenario time, pace, injects, expectations and score (``ws.drills.status``).
        questions: the scenario's discussion questions, in order, with their answers.
        hotwash: hot-wash notes recorded so far, oldest first.
        wall: the wall-clock instant it was read (scenario time runs on from there).
    """

    status: DrillStatus
    questions: list[DrillQuestion]
    hotwash: list[str]
    wall: dt.datetime

    def offset(self, wall_now: dt.datetime) -> float:
        """Scenario seconds since STARTEX at ``wall_now`` (time runs on only while running)."""
        st = self.status
        if st.state != "running" or st.speed is None:
            return st.offset
        return min(st.length, st.offset + max(0.0, (wall_now - self.wall).total_seconds()) * st.speed)

    def next_in(self, wall_now: dt.datetime) -> float | None:
        """Wall seconds until the next inject is due (None when time is not running)."""
        nxt = self.status.next_inject
        if nxt is None or nxt["wall_seconds"] is None:
            return None
        return max(0.0, nxt["wall_seconds"] - (wall_now - self.wall).total_seconds())


def load_drill(ws: Workspace, incident_id: str) -> DrillSnapshot:
    """The drill's status, its discussion questions with answers, and its hot-wash notes."""
    wall = ws.clock.now()
    status = ws.drills.status(incident_id)
    row = next(d for d in ws.drills.list(scenario_id=status.scenario["id"]) if d["incident_id"] == incident_id)
    scenario = ws.drills.scenario_of(row["scenario_digest"])
    answers: dict[str, list[str]] = {}
    hotwash: list[str] = []
    for event in ws.incidents.timeline(incident_id, kinds=["discussion.answered", "hotwash.note"]):
        if event.kind == "hotwash.note":
            hotwash.append(event.payload["text"])
        else:
            answers.setdefault(event.payload["question"], []).append(event.payload["answer"])
    questions = [
        DrillQuestion(q.id, pick(m.title, ws.lang), pick(q.text, ws.lang), tuple(answers.get(q.id, ())))
        for m in scenario.modules
        for q in m.questions
    ]
    return DrillSnapshot(status, questions, hotwash, wall)


@dataclass(frozen=True)
class NoticeChoice:
    """A notice template as the notices pane lists it.

    Attributes:
        problem: why the template cannot be used (its file is invalid), or "".
    """

    id: str
    title: str = ""
    audience: str = ""
    locale: str = ""
    problem: str = ""


@dataclass(frozen=True)
class NoticesSnapshot:
    """The notice templates, and whether letters to people can be opened at all.

    Attributes:
        key: the fingerprint of the configured data key, or None when none is configured.
        people: people affected by the incident (stored, whatever the key).
    """

    templates: list[NoticeChoice]
    key: str | None
    people: int


@dataclass(frozen=True)
class NoticeDetail:
    """Where one template stands for the incident: what is missing, its release, its delivery.

    Attributes:
        check: what ``ir notices check`` reports.
        approved: its release may go ahead now (approved, or it needs no approval).
        release: one line on where its release stands.
        render: the latest render (``seq``, ``actor``, ``at``, ``count``, ``skipped``, ``out``), if any.
        delivery: notices by delivery status (empty before anything was sent or queued).
    """

    template: str
    check: Any
    approved: bool
    release: str
    render: dict[str, Any] | None
    delivery: dict[str, int]


def load_notices(ws: Workspace, incident_id: str) -> NoticesSnapshot:
    """Every notice template (those that do not load with their first problem), the data key
    and the number of people affected."""
    from ir.errors import ContentErrors

    catalog = ws.notices.catalog
    choices = []
    for entry in catalog.entries():
        try:
            meta = catalog.load(entry.path).meta
        except ContentErrors as exc:
            choices.append(NoticeChoice(entry.id, problem=str(exc)))
            continue
        choices.append(NoticeChoice(entry.id, meta.title, meta.audience, meta.locale))
    configured = ws.keys.status()["configured"]
    people = ws.subjects.summary(incident_id)["total"]
    return NoticesSnapshot(choices, configured["fingerprint"] if configured else None, people)


def load_notice(ws: Workspace, incident_id: str, template_id: str) -> NoticeDetail:
    """What is missing before ``template_id`` can be rendered for the incident, where its
    release stands, its latest render and how its delivery goes."""
    check = ws.notices.check(incident_id, template_id)
    approved, release = ws.notices.release(incident_id, template_id)
    event = ws.notices.last_render(incident_id, template_id)
    render = None
    if event is not None:
        p = event.payload
        render = {"seq": event.seq, "actor": event.actor, "at": event.at, "count": p.get("count", 0),
                  "skipped": p.get("skipped", 0), "out": p.get("out", "")}
    status = ws.notices.status(incident_id, template_id)["templates"].get(template_id)
    return NoticeDetail(template_id, check, approved, release, render, dict(status["counts"]) if status else {})
