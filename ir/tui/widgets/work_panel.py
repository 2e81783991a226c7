"""The main pane of an incident: phase map, tasks, decisions and the next steps."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Label, Static

from ir.engine.playbook import Playbook
from ir.i18n import pick
from ir.tui.labels import tr
from ir.tui.widgets.decision_form import DecisionForm
from ir.tui.widgets.incident_panel import IncidentPanel
from ir.tui.widgets.phase_map import PhaseMap
from ir.tui.widgets.task_list import TaskList
from ir.tui.widgets.transition_list import TransitionList


class WorkPanel(IncidentPanel):
    """Where the current phase is worked: its checklist, its decisions, the ways out."""

    FIRST_FOCUS = ("#tasks", "#transitions")

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self._texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        with Horizontal():
            yield PhaseMap(id="phase-map")
            with VerticalScroll(id="work-main", can_focus=False):
                yield Label("", id="phase-title", classes="section-title")
                yield Static("", id="phase-description", classes="hint")
                yield Label(tr("Tasks", lang), id="tasks-title", classes="section-title")
                yield TaskList(lang=lang, id="tasks")
                yield Label(tr("Decisions", lang), id="decisions-title", classes="section-title")
                yield DecisionForm(id="decisions")
                yield Label(tr("Next steps", lang), id="steps-title", classes="section-title")
                yield TransitionList(lang=lang, id="transitions")

    def reset(self, incident_id: str) -> None:
        """Forget the incident shown, answers being typed included."""
        super().reset(incident_id)
        # The next incident shows from the top (a view built ahead may have scrolled while
        # it was laid out unseen).
        self.query_one("#work-main", VerticalScroll).scroll_home(animate=False, immediate=True)
        self.query_one(TaskList).reset()
        self.query_one(TransitionList).reset()
        self.query_one(DecisionForm).reset()

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Show the current phase of the incident."""
        super().show(view, pb)
        lang = self.app.ws.lang
        phase = pb.phase_map[view["phase"]]
        self.query_one(PhaseMap).show(pb, view, lang)
        closed = f" — {tr('closed', lang)}" if view["final"] else ""
        self._text("#phase-title", f"{pick(phase.title, lang)}{closed}")
        self._text("#phase-description", pick(phase.description, lang))
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

    def _text(self, selector: str, text: str) -> None:
        # Updating a text re-lays out the screen: skip it when nothing changed.
        widget = self.query_one(selector, Static)
        if self._texts.get(selector) != text:
            self._texts[selector] = text
            widget.update(text)
