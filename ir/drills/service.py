"""The drill service: start drills, move their clock, deliver injects, score and report them.

A drill is an incident in mode ``drill`` driven by the same engine, playbooks and incident
service as a live one. This service adds what makes it an exercise: the scenario's clock
(see :mod:`ir.drills.clock`), the injects, and the evaluation. Every change is an event in
the drill's own chain, recorded through :meth:`IncidentService.record` so it commits with
its projection; decisions made on a read are checked against the incident's version
(``Expect(seq=...)``) and retried if another terminal acted in between.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ir.clock import Clock, VirtualClock, format_instant, parse_instant
from ir.drills import describe as _describe  # noqa: F401  (registers timeline text)
from ir.drills import improvements as improvementlib
from ir.drills.catalog import ScenarioCatalog
from ir.drills.clock import ClockState, DrillClock, floor_of
from ir.drills.injects import Outcome, next_due, plan, waiting
from ir.drills.offsets import format_offset, instant_at
from ir.drills.record import DrillRecord
from ir.drills.scenario import Scenario, check_start, scenario_from_definition
from ir.drills.scoring import Score, evaluate
from ir.engine.commands import NewEvent
from ir.engine.playbook import Playbook
from ir.engine.service import Expect, ReactorContext
from ir.engine.state import IncidentState
from ir.errors import InvalidInput, NotFound, Refused, StaleView
from ir.i18n import pick
from ir.store import Event, projection
from ir.store import drills as drilldb
from ir.store import events as eventlog

if TYPE_CHECKING:
    from ir.drills.scheduling import ScheduleService
    from ir.workspace import Workspace

MAX_SPEED = 100_000.0
"""Fastest paced drill: a day of scenario time in under a second of wall time."""

RETRIES = 8
"""How often a decision is retaken when another terminal changed the drill meanwhile."""


class Contended(Refused):
    """Other terminals changed the drill on every one of :data:`RETRIES` attempts."""


@dataclass
class DrillContext:
    """One consistent read of a drill: its incident, clock, scenario, record and inject states."""

    state: IncidentState
    row: dict[str, Any]
    clock_state: ClockState
    scenario: Scenario
    pb: Playbook
    events: list[Event]
    record: DrillRecord
    states: dict[str, str]

    @property
    def ended(self) -> bool:
        """Whether ENDEX has been recorded."""
        return self.row["status"] == "ended"


@dataclass
class DrillStatus:
    """What a facilitator's screen shows about a drill.

    Attributes:
        state: running, paused or ended.
        mode: ``paced`` (scenario time runs at ``speed``) or ``stepped`` (moved by its runner).
        offset: scenario seconds since STARTEX.
        next_inject: the next inject not yet due: id, due, title, wall seconds until due.
        feed: delivered injects, oldest first.
        injects: every inject with its state (pending, waiting, delivered, skipped, expired).
        expectations: each expectation with its status now.
        score: the overall score so far (final once ended).
    """

    incident_id: str
    title: str
    scenario: dict[str, str]
    phase: str
    state: str
    mode: str
    speed: float | None
    start: str
    now: str
    offset: float
    length: float
    next_inject: dict[str, Any] | None
    feed: list[dict[str, Any]]
    injects: list[dict[str, Any]]
    expectations: list[dict[str, Any]]
    objectives: list[dict[str, Any]]
    score: float | None
    rating: str
    ended_reason: str | None = None
    exercise: bool = field(default=True)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, offsets also written as ``+01:30``."""
        out = dict(self.__dict__)
        out["offset_text"] = format_offset(self.offset)
        out["endex"] = format_offset(self.length)
        return out


class DrillService:
    """Drills on a workspace.

    Args:
        ws: the workspace.
    """

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.scenarios = ScenarioCatalog(ws.content, ws.playbooks)
        self._starting: dict[str, Any] | None = None
        self._late: str | None = None
        self._snapshots: dict[str, Scenario] = {}
        self._schedules: ScheduleService | None = None
        self._stepping: dict[str, Clock] = {}
        # drill.started must commit with incident.opened: a drill incident never exists
        # without its clock.
        ws.reactors.append(self._react)
        # Ahead of the workspace's own drill clock (the run's record): a drill this service
        # steps is where its runner says.
        ws.clock_providers.insert(0, self.stepping_clock)

    @property
    def schedules(self) -> ScheduleService:
        """Recurring drills (APScheduler is imported only when they are used)."""
        from ir.drills.scheduling import ScheduleService

        if self._schedules is None:
            self._schedules = ScheduleService(self.ws, self)
        return self._schedules

    # ------------------------------------------------------------------ the clock

    def stepping_clock(self, state: IncidentState) -> Clock | None:
        """Clock provider: the clock of a drill this service's runner is stepping (None for
        any other incident). Any service the runner calls (obligations, notices) is stamped
        at the moment it has reached."""
        return self._stepping.get(state.id)

    def _react(self, ctx: ReactorContext) -> list[NewEvent]:
        if self._starting is None:
            return []
        for ev in ctx.events:
            if ev.kind == "incident.opened" and ev.payload.get("mode") == "drill":
                payload, self._starting = self._starting, None
                # Checked inside the opening transaction: two runners starting at once
                # cannot both see no unfinished run.
                if payload["speed"] is None:
                    self._refuse_second_run(ctx.conn, payload["scenario"]["id"])
                late, self._late = self._late, None
                if late is not None:
                    self._note_late(ctx.conn, payload["schedule"], late)
                return [NewEvent("drill.started", payload)]
        return []

    def _refuse_second_run(self, conn: Any, scenario_id: str) -> None:
        """A headless run of a scenario may not start while another is unfinished.

        A stepped drill moves only while its runner runs; one left running was interrupted
        (the process was killed, the machine went down) or is being run right now. Either
        way a second copy would leave the facilitator two half-records of one exercise.
        """
        for other in drilldb.list_drills(conn, scenario_id=scenario_id):
            if other["speed"] is None and other["status"] != "ended":
                raise Refused(
                    f"{other['incident_id']} is an unfinished headless run of scenario '{scenario_id}' "
                    f"(interrupted, or running now); end it first with: ir drill end {other['incident_id']}"
                )

    def _note_late(self, conn: Any, schedule: dict[str, str], reason: str) -> None:
        """Record that a scheduled drill starts late, in the transaction that starts it.

        Recorded apart from the start, a crash between the two left an occurrence marked as
        run that never started, and no restart would run it.
        """
        now = format_instant(self.ws.clock.now())
        eventlog.append(
            conn, drilldb.WORKSPACE_STREAM, "drill_schedule.missed",
            {"id": schedule["id"], "due": schedule["due"], "run": True, "reason": reason},
            actor=self.ws.actor, at=now, recorded_at=now,
        )

    @contextmanager
    def stepping(self, incident_id: str, clock: Clock) -> Iterator[None]:
        """While inside, ``clock`` is the drill's clock in this process (a stepped runner)."""
        self._stepping[incident_id] = clock
        try:
            yield
        finally:
            self._stepping.pop(incident_id, None)

    # ------------------------------------------------------------------ starting

    def start(
        self,
        scenario_ref: str,
        *,
        speed: float | None = 1.0,
        start: dt.datetime | None = None,
        players: dict[str, str] | None = None,
        schedule: dict[str, str] | None = None,
        late: str | None = None,
    ) -> IncidentState:
        """Open a drill incident on the scenario's playbook and start its clock (STARTEX).

        Args:
            scenario_ref: a scenario id, or the path of a scenario file.
            speed: scenario seconds per wall second; None for a stepped drill (``--instant``).
            start: the scenario's STARTEX instant (default: the scenario's, else now).
            players: role -> person, assigned at STARTEX.
            schedule: the schedule occurrence that started it ({id, due}).
            late: why a scheduled drill starts late; recorded with the start, atomically.

        Raises:
            Refused: a headless run (``speed`` None) while another of the scenario is unfinished.
        """
        scenario, pb = self.scenarios.get(scenario_ref)
        if speed is not None and not 0 < speed <= MAX_SPEED:
            raise InvalidInput(f"speed {speed:g} is not between 0 and {MAX_SPEED:g}")
        players = dict(players or {})
        unknown = [r for r in players if r not in pb.role_ids]
        if unknown:
            raise InvalidInput(f"unknown role '{unknown[0]}' in players (known: {', '.join(pb.role_ids)})")
        begin = self._start_instant(scenario, start)
        with self.ws.store.write() as conn:
            drilldb.put_scenario(conn, scenario.digest, scenario.id, scenario.version, scenario.definition())
        self._snapshots[scenario.digest] = scenario
        payload = self._started_payload(scenario, begin, speed, players, schedule)
        opener = self.ws.incidents.bind(clock=VirtualClock(begin))
        self._starting = payload
        self._late = late if schedule else None
        try:
            title = f"EXERCISE: {pick(scenario.title, self.ws.lang)}"
            state = opener.open(pb.id, title=title, severity=scenario.severity, facts=scenario.facts, mode="drill")
        finally:
            self._starting = self._late = None
        for role, person in players.items():
            if state.roles.get(role) != person:
                opener.assign(state.id, role, person)
        return self.ws.incidents.get(state.id)

    def _start_instant(self, scenario: Scenario, start: dt.datetime | None) -> dt.datetime:
        if start is not None:
            try:
                return check_start(start)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        if scenario.start is not None:
            return parse_instant(scenario.start)
        return self.ws.clock.now().replace(second=0, microsecond=0)

    @staticmethod
    def _started_payload(
        scenario: Scenario, begin: dt.datetime, speed: float | None, players: dict[str, str], schedule: dict[str, str] | None
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "scenario": {"id": scenario.id, "version": scenario.version, "digest": scenario.digest},
            "title": dict(scenario.title),
            "start": format_instant(begin),
            "duration": scenario.duration,
            "duration_s": scenario.length,
            "speed": speed,
            "mode": "stepped" if speed is None else "paced",
            "players": players,
        }
        if schedule:
            payload["schedule"] = dict(schedule)
        return payload

    # ------------------------------------------------------------------ reading

    def scenario_of(self, digest: str) -> Scenario:
        """The exact scenario content a drill started with."""
        cached = self._snapshots.get(digest)
        if cached is None:
            with self.ws.store.read() as conn:
                definition = drilldb.get_scenario(conn, digest)
            if definition is None:
                raise NotFound(f"scenario snapshot {digest[:12]}… is missing from the workspace")
            cached = self._snapshots[digest] = scenario_from_definition(definition)
        return cached

    def context(self, incident_id: str) -> DrillContext:
        """One consistent read of the drill.

        Raises:
            NotFound: no such incident, or it is not a drill.
        """
        with self.ws.store.read() as conn:
            row = drilldb.get_drill(conn, incident_id)
            if row is None:
                self.ws.incidents.get(incident_id)  # NotFound if there is no incident at all
                raise NotFound(f"{incident_id} is not a drill")
            state = self.ws.incidents.get(incident_id)
            events = list(eventlog.read_events(conn, incident_id))
            inject_rows = drilldb.inject_states(conn, incident_id)
        scenario = self.scenario_of(row["scenario_digest"])
        pb = self.ws.incidents.playbook_of(state)
        cs = ClockState.from_row(row)
        record = DrillRecord(_until_endex(events), cs.start, pb)
        states = {k: v["status"] for k, v in inject_rows.items()}
        return DrillContext(state, row, cs, scenario, pb, events, record, states)

    def offset(self, ctx: DrillContext) -> float:
        """The drill's scenario offset now."""
        return ctx.clock_state.offset(self.ws.clock.now(), ctx.record.last_offset)

    def list(self, *, scenario_id: str | None = None, status: str | None = None) -> list[dict[str, Any]]:
        """Drills, newest first."""
        with self.ws.store.read() as conn:
            return drilldb.list_drills(conn, scenario_id=scenario_id, status=status)

    def score(self, incident_id: str) -> Score:
        """The evaluation: final once the drill ended, else as it stands now."""
        ctx = self.context(incident_id)
        return self._evaluate(ctx, self.offset(ctx))

    def _evaluate(self, ctx: DrillContext, now: float, *, ended: bool | None = None) -> Score:
        available = "obligations.assessed" in projection.known_kinds()
        final = ctx.ended if ended is None else ended
        return evaluate(ctx.scenario, ctx.pb, ctx.record, now, ended=final, obligations_available=available)

    def status(self, incident_id: str) -> DrillStatus:
        """Scenario time, speed, pause state, next inject, the inject feed and the expectations."""
        ctx = self.context(incident_id)
        now = self.offset(ctx)
        lang = self.ws.lang
        score = self._evaluate(ctx, now)
        nxt = next_due(ctx.scenario, ctx.states, now)
        held = {i.id for i in waiting(ctx.scenario, ctx.pb, ctx.record, ctx.states, now)} if not ctx.ended else set()
        return DrillStatus(
            incident_id=incident_id,
            title=ctx.state.title,
            scenario={"id": ctx.scenario.id, "version": ctx.scenario.version, "title": pick(ctx.scenario.title, lang)},
            phase=ctx.state.phase,
            state=ctx.row["status"],
            mode="stepped" if ctx.clock_state.speed is None else "paced",
            speed=ctx.clock_state.speed,
            start=format_instant(ctx.clock_state.start),
            now=format_instant(instant_at(ctx.clock_state.start, now)),
            offset=now,
            length=ctx.clock_state.length,
            next_inject=self._next_view(ctx, nxt, lang) if nxt and not ctx.ended else None,
            feed=self._feed(ctx, lang),
            injects=self._inject_views(ctx, held, lang),
            expectations=[
                {**r.as_dict(), "title": pick(ctx.scenario.expectation_map[r.id].title, lang)} for r in score.expectations
            ],
            objectives=[
                {**o.as_dict(), "title": pick(ctx.scenario.objective_map[o.id].title, lang)} for o in score.objectives
            ],
            score=score.overall,
            rating=score.rating,
            ended_reason=ctx.row["ended_reason"],
        )

    def _next_view(self, ctx: DrillContext, inj: Any, lang: str) -> dict[str, Any]:
        return {
            "id": inj.id,
            "due": inj.at,
            "title": pick(inj.title, lang),
            "wall_seconds": ctx.clock_state.wall_seconds_until(inj.due, self.ws.clock.now()),
        }

    def _feed(self, ctx: DrillContext, lang: str) -> list[dict[str, Any]]:
        feed = []
        for ev in ctx.events:
            if ev.kind != "inject.delivered":
                continue
            p = ev.payload
            feed.append(
                {
                    "inject": p["inject"], "at": ev.at, "offset": format_offset(ctx.record.offset_of(ev)),
                    "channel": p["channel"], "from": pick(p["from"], lang), "to": p["to"],
                    "title": pick(p["title"], lang), "text": pick(p["text"], lang),
                }
            )
        return feed

    def _inject_views(self, ctx: DrillContext, held: set[str], lang: str) -> list[dict[str, Any]]:
        with self.ws.store.read() as conn:
            rows = drilldb.inject_states(conn, ctx.state.id)
        out = []
        for inj in ctx.scenario.schedule:
            row = rows.get(inj.id)
            status = row["status"] if row else ("waiting" if inj.id in held else "pending")
            out.append(
                {
                    "id": inj.id, "due": inj.at, "channel": inj.channel, "title": pick(inj.title, lang),
                    "status": status, "at": row["at"] if row else None, "reason": row["reason"] if row else None,
                }
            )
        return out

    # ------------------------------------------------------------------ injects

    def deliver_due(self, incident_id: str) -> list[Event]:
        """Deliver (or skip, or expire) every inject whose time has come; returns the events."""
        return self.advance_to(incident_id, None)

    def advance_to(self, incident_id: str, now: float | None) -> list[Event]:
        """Settle injects due by offset ``now`` (default: the drill's clock); for stepped runners."""
        recorded: list[Event] = []
        for _ in range(RETRIES):
            if not self._anything_due(incident_id, now):
                return recorded
            ctx = self.context(incident_id)
            if ctx.ended:
                return recorded
            at = self.offset(ctx) if now is None else max(now, ctx.record.last_offset)
            outcomes = plan(ctx.scenario, ctx.pb, ctx.record, ctx.states, at)
            if not outcomes:
                return recorded
            try:
                recorded += self._record_outcomes(ctx, outcomes)
                return recorded
            except StaleView:
                continue
        raise Contended(f"{incident_id} kept changing while injects were being delivered; try again")

    def inject_states(self, incident_id: str) -> dict[str, str]:
        """Injects in a terminal state: id -> delivered, skipped or expired."""
        with self.ws.store.read() as conn:
            return {k: v["status"] for k, v in drilldb.inject_states(conn, incident_id).items()}

    def _anything_due(self, incident_id: str, now: float | None) -> bool:
        """Whether some inject is due or waiting, without reading the whole log (a cheap check)."""
        with self.ws.store.read() as conn:
            row = drilldb.get_drill(conn, incident_id)
            if row is None or row["status"] == "ended":
                return row is None  # let the full read say what is wrong
            state = self.ws.incidents.get(incident_id)
            states = drilldb.inject_states(conn, incident_id)
        cs = ClockState.from_row(row)
        floor = floor_of(cs.start, state.updated_at)
        at = cs.offset(self.ws.clock.now(), floor) if now is None else max(now, floor)
        return any(i.id not in states and i.due <= at for i in self.scenario_of(row["scenario_digest"]).schedule)

    def _record_outcomes(self, ctx: DrillContext, outcomes: list[Outcome]) -> list[Event]:
        recorded: list[Event] = []
        seq = ctx.state.seq
        groups: list[list[Outcome]] = []
        for o in outcomes:
            if groups and groups[-1][0].stamp == o.stamp:
                groups[-1].append(o)
            else:
                groups.append([o])
        for group in groups:
            new = [NewEvent(f"inject.{o.status}", o.payload()) for o in group]
            appended = self._record(ctx, new, group[0].stamp, seq)
            seq = appended[-1].seq
            recorded += appended
        return recorded

    def _record(self, ctx: DrillContext, new: list[NewEvent], offset: float, seq: int, actor: str | None = None) -> list[Event]:
        clock = VirtualClock(instant_at(ctx.clock_state.start, offset))
        return self.ws.incidents.bind(clock=clock, actor=actor).record(ctx.state.id, new, expect=Expect(seq=seq))

    # ------------------------------------------------------------------ exercise control

    def pause(self, incident_id: str) -> list[Event]:
        """Stop scenario time; injects wait, none is lost."""
        self.deliver_due(incident_id)
        return self._control(incident_id, "drill.paused", lambda ctx: self._need(ctx, running=True))

    def resume(self, incident_id: str) -> list[Event]:
        """Restart scenario time from where it was paused."""
        return self._control(incident_id, "drill.resumed", lambda ctx: self._need(ctx, paused=True))

    def set_speed(self, incident_id: str, speed: float) -> list[Event]:
        """Change how many scenario seconds pass per wall second."""
        if not 0 < speed <= MAX_SPEED:
            raise InvalidInput(f"speed {speed:g} is not between 0 and {MAX_SPEED:g}")
        self.deliver_due(incident_id)

        def check(ctx: DrillContext) -> dict[str, Any]:
            self._need(ctx)
            if ctx.clock_state.speed == speed:
                raise Refused(f"{incident_id} already runs at {speed:g}x")
            return {"speed": speed, "from": ctx.clock_state.speed}

        return self._control(incident_id, "drill.speed_changed", check)

    def skip_to_next(self, incident_id: str) -> list[Event]:
        """Jump scenario time to the next inject and deliver it (paused drills stay paused)."""
        delivered = self.deliver_due(incident_id)
        for _ in range(RETRIES):
            ctx = self.context(incident_id)
            self._need(ctx, stepped_ok=True)
            now = self.offset(ctx)
            nxt = next_due(ctx.scenario, ctx.states, now)
            if nxt is None:
                raise Refused(f"{incident_id} has no injects left; end it with: ir drill end {incident_id}")
            payload = {"from": format_offset(now), "to": nxt.at, "inject": nxt.id}
            try:
                advanced = self._record(ctx, [NewEvent("drill.advanced", payload)], float(nxt.due), ctx.state.seq)
            except StaleView:
                continue
            return delivered + advanced + self.advance_to(incident_id, float(nxt.due))
        raise Contended(f"{incident_id} kept changing; try again")

    def end(self, incident_id: str, reason: str = "ENDEX called by the facilitator", *, at: float | None = None) -> list[Event]:
        """ENDEX: settle every remaining inject, stop the clock, score, and update the improvement plan."""
        if not reason.strip():
            raise InvalidInput("give a reason for ending the drill")
        self.advance_to(incident_id, at)
        for _ in range(RETRIES):
            ctx = self.context(incident_id)
            if ctx.ended:
                raise Refused(f"{incident_id} already ended ({ctx.row['ended_reason']})")
            now = self.offset(ctx) if at is None else max(at, ctx.record.last_offset)
            new = [NewEvent(f"inject.{o.status}", o.payload()) for o in plan(ctx.scenario, ctx.pb, ctx.record, ctx.states, now, endex=True)]
            new.append(NewEvent("drill.ended", {"reason": reason.strip(), "offset": format_offset(now)}))
            score = self._evaluate(ctx, now, ended=True)
            new.append(NewEvent("drill.scored", score.payload()))
            new += improvementlib.decide(ctx.scenario, score, self._items(ctx.scenario.id), incident_id, ctx.state.roles)
            try:
                return self._record(ctx, new, now, ctx.state.seq)
            except StaleView:
                continue
        raise Contended(f"{incident_id} kept changing; try again")

    def _control(self, incident_id: str, kind: str, check: Any) -> list[Event]:
        for _ in range(RETRIES):
            ctx = self.context(incident_id)
            payload = check(ctx) or {}
            now = self.offset(ctx)
            payload = {**payload, "offset": format_offset(now)}
            try:
                return self._record(ctx, [NewEvent(kind, payload)], now, ctx.state.seq)
            except StaleView:
                continue
        raise Contended(f"{incident_id} kept changing; try again")

    @staticmethod
    def _need(ctx: DrillContext, *, running: bool = False, paused: bool = False, stepped_ok: bool = False) -> None:
        ident, status = ctx.state.id, ctx.row["status"]
        if status == "ended":
            raise Refused(f"{ident} has ended ({ctx.row['ended_reason']})")
        if ctx.clock_state.speed is None and not stepped_ok:
            raise Refused(f"{ident} is a stepped drill (run with --instant); its time moves only with its runner")
        if running and status != "running":
            raise Refused(f"{ident} is already paused")
        if paused and status != "paused":
            raise Refused(f"{ident} is not paused")

    # ------------------------------------------------------------------ discussion and hot wash

    def hotwash(self, incident_id: str, text: str, *, actor: str | None = None, clock: Clock | None = None) -> list[Event]:
        """Record a hot-wash note (strengths, areas for improvement, immediate actions)."""
        self.context(incident_id)
        if not text.strip():
            raise InvalidInput("the hot-wash note is empty")
        return self.ws.incidents.bind(actor=actor, clock=clock).record(incident_id, [NewEvent("hotwash.note", {"text": text.strip()})])

    def discuss(
        self, incident_id: str, question: str, answer: str, *, actor: str | None = None, clock: Clock | None = None
    ) -> list[Event]:
        """Record the players' answer to one of the scenario's discussion questions."""
        ctx = self.context(incident_id)
        if question not in ctx.scenario.question_map:
            known = ", ".join(ctx.scenario.question_map) or "none"
            raise NotFound(f"scenario '{ctx.scenario.id}' has no discussion question '{question}' (known: {known})")
        if not answer.strip():
            raise InvalidInput("the answer is empty")
        module = ctx.scenario.question_map[question][0].id
        payload = {"module": module, "question": question, "answer": answer.strip()}
        return self.ws.incidents.bind(actor=actor, clock=clock).record(incident_id, [NewEvent("discussion.answered", payload)])

    # ------------------------------------------------------------------ improvements

    def _items(self, scenario_id: str) -> list[dict[str, Any]]:
        with self.ws.store.read() as conn:
            return drilldb.list_improvements(conn, scenario_id=scenario_id)

    def improvements(self, *, scenario_id: str | None = None, include_closed: bool = True) -> list[dict[str, Any]]:
        """Improvement items across drills, oldest first."""
        with self.ws.store.read() as conn:
            return drilldb.list_improvements(conn, scenario_id=scenario_id, include_closed=include_closed)

    def update_improvement(
        self,
        item: str,
        *,
        owner: str | None = None,
        due: str | None = None,
        status: str | None = None,
        note: str | None = None,
    ) -> list[Event]:
        """Change an improvement item's owner, due date (YYYY-MM-DD), status or note."""
        with self.ws.store.read() as conn:
            current = drilldb.get_improvement(conn, item)
        if current is None:
            raise NotFound(f"no improvement item '{item}' (see: ir drill improvements)")
        changes: dict[str, Any] = {"item": item}
        if owner is not None and owner.strip():
            changes["owner"] = owner.strip()
        if due is not None:
            try:
                changes["due"] = dt.date.fromisoformat(due.strip()).isoformat()
            except ValueError:
                raise InvalidInput(f"due date '{due}' is not YYYY-MM-DD") from None
        if status is not None:
            if status not in improvementlib.SETTABLE:
                raise InvalidInput(f"status '{status}' is not one of: {', '.join(improvementlib.SETTABLE)} (a retest verifies)")
            changes["status"] = status
        if note is not None and note.strip():
            changes["note"] = note.strip()
        if len(changes) == 1 or all(current.get(k) == v for k, v in changes.items()):
            raise Refused(f"nothing to change on {item}")
        return self.ws.incidents.record(current["origin"], [NewEvent("improvement.updated", changes)])


def _until_endex(events: list[Event]) -> list[Event]:
    """The events that count for the evaluation: everything up to ENDEX."""
    out = []
    for ev in events:
        out.append(ev)
        if ev.kind == "drill.ended":
            break
    return out


__all__ = ["Contended", "DrillContext", "DrillService", "DrillStatus"]
