"""Playbooks compiled onto the ``transitions`` library.

One :class:`CompiledPlaybook` per playbook content (cached by digest) holds a ``Machine``
without models. Each operation attaches a short-lived :class:`_Model` carrying the
incident's state, asks or fires a trigger, and detaches it: the machine never does I/O
and never outlives the decision. ``auto_transitions`` is off so no ``to_<phase>()``
shortcut can bypass a guard, and an unknown trigger raises instead of being ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
import threading
from typing import Any

from transitions import Machine, MachineError

from ir.engine.playbook import Playbook, Transition
from ir.engine.state import IncidentState
from ir.errors import NotFound, Refused
from ir.i18n import pick

# transitions logs every refused condition at INFO; the engine reports its own reasons.
logging.getLogger("transitions").setLevel(logging.WARNING)


@dataclass
class TriggerStatus:
    """A transition out of the current phase, and whether it may fire now."""

    name: str
    dest: str
    title: str
    allowed: bool
    blocked_by: list[str] = field(default_factory=list)


class _Model:
    """The object ``transitions`` moves between states; it only carries the incident."""

    def __init__(self, state: IncidentState) -> None:
        self.incident = state


def blocked_by(pb: Playbook, tr: Transition, state: IncidentState, lang: str = "en") -> list[str]:
    """Every reason ``tr`` may not fire for ``state``; empty when it may."""
    reasons: list[str] = []
    source = state.phase
    guards = tr.guards
    if guards.tasks == "required":
        phase = pb.phase_map[source]
        wanted = [t.id for t in phase.tasks if t.required]
    else:
        wanted = list(guards.tasks or [])
    for task_id in wanted:
        if not state.task_done(task_id):
            title = pick(pb.task_map[task_id][1].title, lang)
            reasons.append(f"task '{task_id}' ({title}) is not done")
    for name in guards.answered:
        fact = pb.decision_map[name][1].fact_name if name in pb.decision_map else name
        if state.facts.get(fact) is None:
            reasons.append(f"decision '{name}' is not answered")
    for text in guards.conditions:
        cond = pb.conditions[text]
        result = cond.evaluate(state.facts)
        if result is None:
            missing = sorted(n for n in cond.facts if state.facts.get(n) is None)
            reasons.append(f"condition '{cond.source}' needs an answer for {', '.join(missing)}")
        elif not result:
            shown = ", ".join(f"{n} is {_show(state.facts.get(n))}" for n in sorted(cond.facts))
            reasons.append(f"condition '{cond.source}' is not met ({shown})")
    return reasons


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)


class CompiledPlaybook:
    """A playbook and its state machine."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        # The machine is shared; models are attached one operation at a time.
        self._lock = threading.Lock()
        self.machine = Machine(
            model=None,
            states=[p.id for p in playbook.phases],
            initial=playbook.initial_phase,
            transitions=[self._spec(tr) for tr in playbook.transitions],
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )

    def _spec(self, tr: Transition) -> dict[str, Any]:
        pb = self.playbook

        def guard(event: Any) -> bool:
            return not blocked_by(pb, tr, event.model.incident)

        return {"trigger": tr.trigger, "source": list(tr.source), "dest": tr.dest, "conditions": [guard]}

    def triggers(self, state: IncidentState, lang: str = "en") -> list[TriggerStatus]:
        """The transitions out of the current phase, each allowed or with its blockers."""
        with self._lock:
            return self._triggers(state, lang)

    def _triggers(self, state: IncidentState, lang: str) -> list[TriggerStatus]:
        model = self._attach(state)
        try:
            out = []
            for tr in self.playbook.transitions_from(state.phase):
                reasons = blocked_by(self.playbook, tr, state, lang)
                allowed = bool(model.may_trigger(tr.trigger))
                out.append(TriggerStatus(tr.trigger, tr.dest, pick(tr.title, lang), allowed, reasons))
            return out
        finally:
            self.machine.remove_model(model)

    def fire(self, state: IncidentState, trigger: str, lang: str = "en") -> Transition:
        """Fire ``trigger`` for ``state`` and return the transition taken.

        The state object itself is not changed; the caller records the event.

        Raises:
            NotFound: the playbook has no such trigger.
            Refused: the trigger does not leave the current phase, or a guard blocks it.
        """
        pb = self.playbook
        if state.final:
            raise Refused(f"incident {state.id} is closed (phase '{state.phase}')")
        if trigger not in {t.trigger for t in pb.transitions}:
            names = sorted({t.trigger for t in pb.transitions_from(state.phase)})
            raise NotFound(
                f"playbook '{pb.id}' has no trigger '{trigger}'"
                + (f"; from '{state.phase}' you can: {', '.join(names)}" if names else "")
            )
        taken = next((t for t in pb.transitions_from(state.phase) if t.trigger == trigger), None)
        if taken is None:
            names = sorted({t.trigger for t in pb.transitions_from(state.phase)})
            raise Refused(
                f"trigger '{trigger}' does not leave phase '{state.phase}'; "
                f"from here: {', '.join(names) or 'nothing'}"
            )
        reasons = blocked_by(pb, taken, state, lang)
        if reasons:
            raise Refused(f"cannot {trigger}: " + "; ".join(reasons), reasons)
        with self._lock:
            self._trigger(state, trigger, taken.dest)
        return taken

    def _trigger(self, state: IncidentState, trigger: str, dest: str) -> None:
        model = self._attach(state)
        try:
            if not model.trigger(trigger):
                raise Refused(f"cannot {trigger}: a guard refused it")
            if model.state != dest:
                raise Refused(f"trigger '{trigger}' led to '{model.state}', expected '{dest}'")
        except MachineError as exc:
            raise Refused(f"cannot {trigger}: {exc.value}") from None
        finally:
            self.machine.remove_model(model)

    def _attach(self, state: IncidentState) -> Any:
        model = _Model(state)
        self.machine.add_model(model, initial=state.phase)
        return model

    def mermaid(self, lang: str = "en", current: str | None = None) -> str:
        """A Mermaid ``stateDiagram-v2`` of the playbook, phases labelled with their titles.

        ``current`` (default: the initial phase) is drawn as the active state.
        """
        from transitions.extensions import GraphMachine  # only diagrams need it

        pb = self.playbook
        graph = GraphMachine(
            model=None,
            states=[p.id for p in pb.phases],
            initial=pb.initial_phase,
            transitions=[{"trigger": t.trigger, "source": list(t.source), "dest": t.dest} for t in pb.transitions],
            auto_transitions=False,
            graph_engine="mermaid",
            title=pick(pb.title, lang),
            show_state_attributes=False,
        )
        model = _Model.__new__(_Model)
        graph.add_model(model, initial=current or pb.initial_phase)
        text: str = model.get_graph().draw(None)
        for phase in pb.phases:
            label = pick(phase.title, lang).replace('"', "'")
            text = text.replace(f'state "{phase.id}" as {phase.id}\n', f'state "{label}" as {phase.id}\n')
        finals = [p.id for p in pb.phases if p.final]
        return text.rstrip("\n") + "\n" + "".join(f"  {f} --> [*]\n" for f in finals)


_COMPILED: dict[str, CompiledPlaybook] = {}


def compile_playbook(playbook: Playbook) -> CompiledPlaybook:
    """The compiled machine for ``playbook``, shared between calls for the same content."""
    compiled = _COMPILED.get(playbook.digest)
    if compiled is None:
        compiled = _COMPILED[playbook.digest] = CompiledPlaybook(playbook)
    return compiled
