"""Deciding which injects go out: due times, conditions, waiting and expiry, ENDEX.

Pure: given the scenario, what the record shows, which injects already reached a terminal
state and the scenario time, :func:`plan` says what happens to every inject that is due.
Every inject ends exactly once in ``delivered``, ``skipped`` or ``expired``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ir.drills.offsets import format_offset
from ir.drills.record import DrillRecord
from ir.drills.scenario import Condition, Inject, Scenario, typed_value
from ir.drills.scoring import first_time
from ir.engine.playbook import Playbook


@dataclass(frozen=True)
class Outcome:
    """What happens to one inject, and at which scenario offset it is recorded."""

    inject: Inject
    status: str
    stamp: float
    reason: str | None = None

    def payload(self) -> dict[str, Any]:
        """The ``inject.<status>`` event payload."""
        inj = self.inject
        if self.status != "delivered":
            return {"inject": inj.id, "due": inj.at, "reason": self.reason or ""}
        payload: dict[str, Any] = {
            "inject": inj.id,
            "due": inj.at,
            "channel": inj.channel,
            "from": dict(inj.sender),
            "to": list(inj.to),
            "title": dict(inj.title),
            "text": dict(inj.text),
        }
        if inj.objective:
            payload["objective"] = inj.objective
        return payload


def holds(cond: Condition, scenario: Scenario, pb: Playbook, record: DrillRecord, states: dict[str, str], now: float) -> bool:
    """Whether one condition holds at offset ``now``."""
    kind, target = cond.kind, cond.target
    if kind == "reached":
        return record.phase_reached(target) is not None
    if kind == "not_reached":
        return record.phase_reached(target) is None
    if kind == "task_done":
        return record.task_done_now(target)
    if kind == "task_not_done":
        return not record.task_done_now(target)
    if kind == "fact":
        value = record.fact_now(target)
        return value is not None and (cond.equals is None or value == typed_value(pb, target, cond.equals))
    if kind == "fact_unset":
        return record.fact_now(target) is None
    if kind in ("met", "missed"):
        exp = scenario.expectation_map[target]
        at = first_time(exp, pb, record) if exp.kind != "obligation" else record.obligation(target).fulfilled_offset
        if kind == "met":
            return at is not None
        deadline = exp.deadline if exp.deadline is not None else scenario.length
        return now >= deadline and (at is None or at > deadline)
    if kind == "delivered":
        return states.get(target) == "delivered"
    return states.get(target) != "delivered"  # not_delivered


def describe(cond: Condition) -> str:
    """A condition as a facilitator reads it."""
    words = {
        "reached": "phase {} reached", "not_reached": "phase {} not reached", "task_done": "task {} done",
        "task_not_done": "task {} not done", "fact": "fact {} set", "fact_unset": "fact {} not set",
        "met": "expectation {} met", "missed": "expectation {} missed", "delivered": "inject {} delivered",
        "not_delivered": "inject {} not delivered",
    }
    text = words[cond.kind].format(cond.target)
    return text + (f" to {json.dumps(cond.equals, ensure_ascii=False)}" if cond.equals is not None else "")


def plan(
    scenario: Scenario,
    pb: Playbook,
    record: DrillRecord,
    states: dict[str, str],
    now: float,
    *,
    endex: bool = False,
) -> list[Outcome]:
    """What happens, at offset ``now``, to each inject not yet in a terminal state.

    Args:
        states: inject id -> terminal status, for injects already decided.
        now: the scenario offset the drill has reached.
        endex: the drill ends at ``now``: whatever is left is skipped or expires.

    Returns:
        Outcomes in the order to record them (by stamp, then schedule order). A due inject
        whose conditions fail but may still come true before its ``until`` gets no outcome:
        it keeps waiting.
    """
    local = dict(states)
    floor = record.last_offset
    out: list[Outcome] = []
    for inj in scenario.schedule:
        if inj.id in local:
            continue
        if inj.due > now:
            if endex:
                out.append(Outcome(inj, "skipped", max(now, floor), f"ENDEX at {format_offset(now)} before it was due"))
                local[inj.id] = "skipped"
            continue
        outcome = _decide(inj, scenario, pb, record, local, now, floor, endex)
        if outcome is not None:
            out.append(outcome)
            local[inj.id] = outcome.status
    return sorted(out, key=lambda o: o.stamp)


def _decide(
    inj: Inject, scenario: Scenario, pb: Playbook, record: DrillRecord, local: dict[str, str], now: float, floor: float, endex: bool
) -> Outcome | None:
    failing = [c for c in inj.when if not holds(c, scenario, pb, record, local, now)]
    if not failing:
        # Recorded at its due time unless the log already moved past it (never backwards).
        return Outcome(inj, "delivered", max(inj.due, floor))
    why = "; ".join(describe(c) for c in failing)
    if inj.deadline is None:
        return Outcome(inj, "skipped", max(inj.due, floor), f"condition not met: {why}")
    if now >= inj.deadline:
        return Outcome(inj, "expired", max(inj.deadline, floor), f"still waiting at {inj.until} for: {why}")
    if endex:
        return Outcome(inj, "expired", max(now, floor), f"ENDEX while waiting for: {why}")
    return None


def waiting(scenario: Scenario, pb: Playbook, record: DrillRecord, states: dict[str, str], now: float) -> list[Inject]:
    """Due injects held back until their conditions hold (or their ``until`` passes)."""
    decided = {o.inject.id for o in plan(scenario, pb, record, states, now)}
    return [i for i in scenario.schedule if i.id not in states and i.id not in decided and i.due <= now]


def next_due(scenario: Scenario, states: dict[str, str], now: float) -> Inject | None:
    """The next inject whose time has not come yet."""
    return next((i for i in scenario.schedule if i.id not in states and i.due > now), None)


def next_event_time(scenario: Scenario, states: dict[str, str], now: float) -> float | None:
    """The next offset at which an inject falls due or a waiting one expires."""
    times = [i.due for i in scenario.schedule if i.id not in states and i.due > now]
    times += [i.deadline for i in scenario.schedule if i.id not in states and i.deadline and i.deadline > now and i.due <= now]
    return min(times) if times else None
