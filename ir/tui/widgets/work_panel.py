"""The main pane of an incident: phase map, tasks, decisions and the next steps."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Static

from ir.engine.playbook import Playbook
from ir.i18n import pick
from ir.tui.widgets.decision_form import DecisionForm
from ir.tui.widgets.incident_panel import IncidentPanel
from ir.tui.widgets.phase_map import PhaseMap
from ir.tui.widgets.task_list import TaskList
from ir.tui.widgets.transition_list import TransitionList


class WorkPanel(IncidentPanel):
    """Where the current phase is worked: its checklist, its decisions, the ways out."""

    FIRST_FOCUS = ("#tasks", "#transitions")

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield PhaseMap(id="phase-map")
            with VerticalScroll(id="work-main", can_focus=False):
                yield Label("", id="phase-title", classes="section-title")
                yield Static("", id="phase-description", classes="hint")
                yield Label("Tasks", id="tasks-title", classes="section-title")
                yield TaskList(id="tasks")
                yield Label("Decisions", id="decisions-title", classes="section-title")
                yield DecisionForm(id="decisions")
                yield Label("Next steps", id="steps-title", classes="section-title")
                yield TransitionList(id="transitions")

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Show the current phase of the incident."""
        super().show(view, pb)
        lang = self.app.ws.lang
        phase = pb.phase_map[view["phase"]]
        self.query_one(PhaseMap).show(pb, view, lang)
        closed = " — closed" if view["final"] else ""
        self.query_one("#phase-title", Label).update(f"{pick(phase.title, lang)}{closed}")
        self.query_one("#phase-description", Static).update(pick(phase.description, lang))
        tasks = [t for t in view["tasks"] if t["phase"] == view["phase"]]
        self.query_one("#tasks-title").display = bool(tasks)
        self.query_one(TaskList).display = bool(tasks)
        self.query_one(TaskList).show(tasks)
        form = self.query_one(DecisionForm)
        form.show(pb, view, lang)
        self.query_one("#decisions-title").display = bool(phase.decisions)
        titles = {p.id: pick(p.title, lang) for p in pb.phases}
        self.query_one(TransitionList).show(view["triggers"], titles)
        self.query_one("#steps-title").display = bool(view["triggers"])
        self.query_one(TransitionList).display = bool(view["triggers"])
