"""What the drill's event log says happened, and when, in scenario time.

Conditions on injects and expectations are both answered from here, so a contingency
inject and the score can never disagree about whether the team did something.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ir.clock import parse_instant
from ir.drills.offsets import offset_between
from ir.engine.playbook import Playbook
from ir.store import Event


@dataclass(frozen=True)
class Obligation:
    """What the log says about one obligation rule.

    Attributes:
        owed: the latest assessment lists the rule.
        due_at: its deadline in the latest assessment (None: no fixed deadline).
        fulfilled_at: when it was fulfilled (None: not yet).
        fulfilled_offset: scenario offset of the fulfilment event.
        waived: the reason it was waived, if it was.
    """

    owed: bool = False
    due_at: dt.datetime | None = None
    fulfilled_at: dt.datetime | None = None
    fulfilled_offset: float | None = None
    waived: str | None = None


class DrillRecord:
    """The drill's events read as "first time X happened", as offsets from STARTEX.

    Args:
        events: the incident's events in order (only those up to the time of interest).
        start: the scenario's STARTEX instant.
        pb: the incident's playbook (to map decisions to facts).
    """

    def __init__(self, events: Iterable[Event], start: dt.datetime, pb: Playbook) -> None:
        self.start = start
        self.pb = pb
        self.events = list(events)
        self._phases: dict[str, float] = {}
        self._tasks_first: dict[str, float] = {}
        self._tasks_now: dict[str, bool] = {}
        self._facts_now: dict[str, Any] = {}
        self._fact_history: list[tuple[float, str, Any]] = []
        self._decisions: list[tuple[float, str, Any, str]] = []
        self._notices: list[tuple[float, str, int]] = []
        self._assessed: list[dict[str, Any]] | None = None
        self._fulfilled: dict[str, tuple[dt.datetime, float]] = {}
        self._waived: dict[str, str] = {}
        for ev in self.events:
            self._read(ev, self.offset_of(ev))

    def offset_of(self, ev: Event) -> float:
        """Scenario offset of an event."""
        return offset_between(self.start, parse_instant(ev.at))

    @property
    def last_offset(self) -> float:
        """Offset of the latest event (the scenario clock never runs behind it)."""
        return self.offset_of(self.events[-1]) if self.events else 0.0

    def _read(self, ev: Event, at: float) -> None:
        p = ev.payload
        if ev.kind == "incident.opened":
            self._phases.setdefault(p["phase"], at)
            self._set_facts(at, p.get("facts", {}))
        elif ev.kind == "phase.changed":
            self._phases.setdefault(p["to"], at)
            for task in p.get("reopened_tasks", []):
                self._tasks_now[task] = False
        elif ev.kind == "task.done":
            self._tasks_first.setdefault(p["task"], at)
            self._tasks_now[p["task"]] = True
        elif ev.kind == "task.reopened":
            self._tasks_now[p["task"]] = False
        elif ev.kind == "decision.answered":
            self._set_facts(at, {p["fact"]: p["value"]})
            self._decisions.append((at, p["decision"], p["value"], p.get("rationale") or ""))
        elif ev.kind == "fact.set":
            self._set_facts(at, p["facts"])
        else:
            self._read_capability(ev, at)

    def _read_capability(self, ev: Event, at: float) -> None:
        p = ev.payload
        if ev.kind == "obligations.assessed":
            self._assessed = list(p.get("obligations", []))
        elif ev.kind == "obligation.fulfilled":
            when = _instant_or(p.get("fulfilled_at"), ev.at)
            self._fulfilled.setdefault(p["rule"], (when, at))
        elif ev.kind == "obligation.waived":
            self._waived[p["rule"]] = p.get("reason", "")
        elif ev.kind == "notices.rendered":
            self._notices.append((at, str(p.get("template")), _count(p.get("count"))))

    def _set_facts(self, at: float, facts: dict[str, Any]) -> None:
        for name, value in facts.items():
            self._facts_now[name] = value
            self._fact_history.append((at, name, value))

    # ------------------------------------------------------------- questions

    def phase_reached(self, phase: str) -> float | None:
        """When the incident first entered ``phase``."""
        return self._phases.get(phase)

    def task_done_first(self, task: str) -> float | None:
        """When ``task`` was first marked done."""
        return self._tasks_first.get(task)

    def task_done_now(self, task: str) -> bool:
        """Whether ``task`` is done at the end of the record."""
        return self._tasks_now.get(task, False)

    def fact_now(self, name: str) -> Any:
        """The fact's value at the end of the record (None if never set)."""
        return self._facts_now.get(name)

    def fact_first(self, name: str, equals: Any = None) -> float | None:
        """When ``name`` was first set (to ``equals``, if given)."""
        for at, key, value in self._fact_history:
            if key == name and (equals is None or value == equals):
                return at
        return None

    def decision_first(self, decision: str, equals: Any = None, rationale: bool = False) -> float | None:
        """When ``decision`` was first answered (with ``equals``; with a rationale if asked)."""
        for at, ident, value, why in self._decisions:
            if ident == decision and (equals is None or value == equals) and (not rationale or why.strip()):
                return at
        return None

    def decisions(self) -> list[tuple[float, str, Any, str]]:
        """Every answer: (offset, decision, value, rationale)."""
        return list(self._decisions)

    def notice_first(self, template: str, count: int = 1) -> float | None:
        """When notices from ``template`` were first rendered (at least ``count`` of them)."""
        for at, name, n in self._notices:
            if name == template and n >= count:
                return at
        return None

    @property
    def obligations_assessed(self) -> bool:
        """Whether the obligations engine assessed this incident at all."""
        return self._assessed is not None

    def obligation(self, rule: str) -> Obligation:
        """The rule's latest assessment, fulfilment and waiver."""
        entry = next((o for o in self._assessed or [] if o.get("rule") == rule), None)
        fulfilled = self._fulfilled.get(rule)
        return Obligation(
            owed=entry is not None,
            due_at=_instant_or(entry.get("due_at"), None) if entry else None,
            fulfilled_at=fulfilled[0] if fulfilled else None,
            fulfilled_offset=fulfilled[1] if fulfilled else None,
            waived=self._waived.get(rule),
        )


def _count(value: Any) -> int:
    """A recorded count, or 0 if the event does not carry a whole number (the record stays
    readable whatever an older script put there)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _instant_or(text: Any, fallback: str | None) -> Any:
    for candidate in (text, fallback):
        if isinstance(candidate, str) and candidate:
            try:
                return parse_instant(candidate)
            except ValueError:
                continue
    return None
