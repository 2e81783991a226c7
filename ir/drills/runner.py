"""Driving a drill: the instant runner and the paced exercise controller.

``run_instant`` advances a virtual clock from event to event (injects, scripted responses,
waiting injects' expiry, ENDEX) so a 72-hour scenario replays in about a second. ``control``
is the exercise controller of a paced drill: it lets scenario time run, delivers injects
when due, plays scripted responses, and picks up pause, resume, speed and skip recorded
from other terminals, until ENDEX.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ir.clock import Clock, VirtualClock
from ir.drills.injects import next_event_time
from ir.drills.offsets import instant_at
from ir.drills.script import LoadedScript, Response, acting_role, recorded_payload
from ir.drills.service import Contended
from ir.engine.commands import NewEvent
from ir.errors import IrError, Refused
from ir.store import Event

if TYPE_CHECKING:
    from ir.drills.service import DrillService

ENDEX_REASON = "ENDEX: scenario time is over"

Sink = Callable[[Event], None]
"""Where a runner reports each drill event it sees (the command line prints them)."""


class ScriptFailed(Refused):
    """A scripted response was refused; the drill was ended so that it has a terminal state."""


def _noop(_: Event) -> None:
    return None


class _Seen:
    """Passes each new event of the drill to a sink once, in order."""

    def __init__(self, svc: DrillService, incident_id: str, sink: Sink) -> None:
        self.svc = svc
        self.incident_id = incident_id
        self.sink = sink
        self.seq = 0

    def flush(self) -> None:
        if self.sink is _noop:
            return
        for ev in self.svc.ws.incidents.timeline(self.incident_id):
            if ev.seq > self.seq:
                self.sink(ev)
                self.seq = ev.seq


def run_instant(svc: DrillService, incident_id: str, script: LoadedScript | None = None, sink: Sink = _noop) -> None:
    """Play a stepped drill from STARTEX to ENDEX at once, in scenario-time order.

    At equal offsets injects come first, then the responses in file order; after each
    response, waiting injects whose conditions now hold are delivered.

    Raises:
        ScriptFailed: a scripted response was refused (the drill is ended with that reason).
    """
    ctx = svc.context(incident_id)
    now = ctx.record.last_offset
    clock = VirtualClock(instant_at(ctx.clock_state.start, now))
    players = dict(script.script.players) if script else {}
    responses = script.ordered() if script else []
    seen = _Seen(svc, incident_id, sink)
    with svc.stepping(incident_id, clock):
        _step(svc, incident_id, ctx, script, responses, players, clock, seen, now)
    svc.end(incident_id, ENDEX_REASON, at=ctx.clock_state.length)
    seen.flush()


def _step(
    svc: DrillService,
    incident_id: str,
    ctx: Any,
    script: LoadedScript | None,
    responses: list[tuple[int, Response]],
    players: dict[str, str],
    clock: VirtualClock,
    seen: _Seen,
    now: float,
) -> None:
    start, length = ctx.clock_state.start, ctx.clock_state.length
    ri = 0
    while True:
        clock.set(instant_at(start, now))
        svc.advance_to(incident_id, now)
        while ri < len(responses) and responses[ri][1].offset <= now:
            index, response = responses[ri]
            ri += 1
            clock.set(instant_at(start, max(now, response.offset)))
            _perform(svc, incident_id, script, index, response, players, clock)
            svc.advance_to(incident_id, now)
        seen.flush()
        if now >= length:
            break
        states = svc.inject_states(incident_id)
        candidates = [length]
        upcoming = next_event_time(ctx.scenario, states, now)
        if upcoming is not None:
            candidates.append(upcoming)
        if ri < len(responses):
            candidates.append(responses[ri][1].offset)
        now = float(min(candidates))


def _perform(
    svc: DrillService,
    incident_id: str,
    script: LoadedScript | None,
    index: int,
    r: Response,
    players: dict[str, str],
    clock: Clock,
) -> None:
    try:
        act(svc, incident_id, r, players, clock)
    except IrError as exc:
        where = script.where(index) if script else f"responses[{index}]"
        reason = f"script error at {where}: {exc}"
        try:
            svc.end(incident_id, reason)
        except IrError:
            pass
        raise ScriptFailed(f"{where}: {r.action} refused: {exc} (the drill was ended)") from None


def act(svc: DrillService, incident_id: str, r: Response, players: dict[str, str], clock: Clock | None) -> list[Event]:
    """Carry out one scripted response through the same services a person uses."""
    state = svc.ws.incidents.get(incident_id)
    pb = svc.ws.incidents.playbook_of(state)
    role = acting_role(r, pb)
    actor = r.actor or (players.get(role) if role else None) or (state.roles.get(role) if role else None) or svc.ws.actor
    inc = svc.ws.incidents.bind(actor=actor, clock=clock)
    action = r.action
    if action == "done":
        return inc.complete_task(incident_id, str(r.done))
    if action == "answer":
        return inc.answer(incident_id, str(r.answer), r.value, rationale=r.why)
    if action == "fire":
        return inc.fire(incident_id, str(r.fire), reason=r.reason)
    if action == "set":
        return inc.set_facts(incident_id, dict(r.set or {}))
    if action == "note":
        return inc.note(incident_id, str(r.note))
    if action == "assign":
        return inc.assign(incident_id, str(r.assign), str(r.to))
    if action == "hotwash":
        return svc.hotwash(incident_id, str(r.hotwash), actor=actor, clock=clock)
    if action == "discuss":
        return svc.discuss(incident_id, str(r.discuss), str(r.text), actor=actor, clock=clock)
    if action in ("fulfil", "waive"):
        return _obligation(svc, incident_id, r, actor)
    return inc.record(incident_id, [NewEvent(str(r.record), recorded_payload(r))])


def _obligation(svc: DrillService, incident_id: str, r: Response, actor: str) -> list[Event]:
    """Fulfil or waive a duty through the obligations service, as the scripted player."""
    obligations = svc.ws.obligations
    if r.fulfil:
        return list(obligations.fulfil(incident_id, r.fulfil, actor=actor))
    return list(obligations.waive(incident_id, str(r.waive), str(r.reason), actor=actor))


def control(
    svc: DrillService,
    incident_id: str,
    *,
    script: LoadedScript | None = None,
    sink: Sink = _noop,
    sleep: Callable[[float], Any] = time.sleep,
    poll: float = 0.5,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Run a paced drill's exercise control loop until ENDEX.

    Scenario time comes from the drill's persisted clock, so pause, resume, speed changes and
    skips recorded from any terminal take effect at the next turn of the loop (at most
    ``poll`` wall seconds later); the loop sleeps until the next inject or response is due.

    Args:
        script: scripted responses to play when their offsets come (headless paced runs).
        sink: receives every drill event once, in order.
        sleep: how to wait (a test advances a virtual wall clock instead).
        poll: longest wait between looks at the drill's state, in wall seconds.
        should_stop: asked each turn; True leaves the loop with the drill still running.
    """
    seen = _Seen(svc, incident_id, sink)
    players = dict(script.script.players) if script else {}
    ctx = svc.context(incident_id)
    if ctx.clock_state.speed is None and not ctx.ended:
        # A stepped drill's time moves only with its runner: this loop would wait forever.
        raise Refused(
            f"{incident_id} is a headless (--instant) run, which cannot be controlled at a pace; "
            f"end it with: ir drill end {incident_id}"
        )
    responses = [(i, r) for i, r in script.ordered() if r.offset >= ctx.record.last_offset] if script else []
    ri = 0
    while not should_stop():
        try:
            svc.deliver_due(incident_id)
        except Contended:
            # Other terminals kept changing the drill (another controller, pause and resume):
            # what is due is delivered on the next turn, by this loop or by theirs.
            sleep(poll)
            continue
        ctx = svc.context(incident_id)
        if ctx.ended:
            break
        now = svc.offset(ctx)
        while ri < len(responses) and responses[ri][1].offset <= now:
            index, response = responses[ri]
            ri += 1
            _perform(svc, incident_id, script, index, response, players, None)
            svc.deliver_due(incident_id)
        seen.flush()
        if now >= ctx.clock_state.length:
            _endex(svc, incident_id)
            break
        sleep(_wait(svc, ctx, now, responses[ri][1].offset if ri < len(responses) else None, poll))
    seen.flush()


def _endex(svc: DrillService, incident_id: str) -> None:
    """End the drill at ENDEX, unless another controller or a facilitator ended it first."""
    try:
        svc.end(incident_id, ENDEX_REASON)
    except Refused:
        if not svc.context(incident_id).ended:
            raise


def _wait(svc: DrillService, ctx: Any, now: float, response_at: float | None, poll: float) -> float:
    targets = [ctx.clock_state.length]
    upcoming = next_event_time(ctx.scenario, ctx.states, now)
    if upcoming is not None:
        targets.append(upcoming)
    if response_at is not None:
        targets.append(response_at)
    wall = ctx.clock_state.wall_seconds_until(min(targets), svc.ws.clock.now())
    if wall is None or math.isnan(wall):
        return poll
    # A floor on the wait keeps rounding from spinning the loop; stamps use due times anyway.
    return max(0.001, min(poll, wall))
