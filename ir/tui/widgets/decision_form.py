"""The current phase's decisions, each a field of its kind."""

from __future__ import annotations

from typing import Any

from textual.containers import Vertical

from ir.engine.playbook import Playbook
from ir.tui.widgets.decision_field import DecisionField


class DecisionForm(Vertical):
    """Decision fields of one phase; rebuilt when the phase changes, updated in place otherwise."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self._key: tuple[str, ...] = ()

    def reset(self) -> None:
        """Forget the answers shown and anything typed (another incident is shown next)."""
        for field in self.query(DecisionField):
            field.reset()

    def show(self, pb: Playbook, view: dict[str, Any], lang: str) -> None:
        """Show the decisions of the incident's current phase with their answers."""
        decisions = pb.phase_map[view["phase"]].decisions
        values = {d["id"]: d["value"] for d in view["decisions"]}
        key = (lang, *(d.id for d in decisions))
        if key != self._key:
            self._key = key
            self.remove_children()
            self.mount_all(DecisionField(d, lang, values.get(d.id)) for d in decisions)
            return
        for field in self.query(DecisionField):
            field.show(values.get(field.decision.id))
