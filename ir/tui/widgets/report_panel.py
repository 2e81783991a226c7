"""The incident's reports inside the app: the post-mortem and the compliance report."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Markdown
from textual.worker import get_current_worker

from ir.engine.playbook import Playbook
from ir.errors import IrError
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed
from ir.tui.widgets.incident_panel import IncidentPanel
from ir.tui.widgets.pane_bar import PaneBar
from ir.workspace import Workspace

REPORTS: dict[str, str] = {"postmortem": "Post-mortem", "compliance": "Compliance report"}
"""The reports the pane shows, by id, with their names in English."""


def render_report(ws: Workspace, kind: str, incident_id: str) -> str:
    """One report of the incident, as Markdown, from the services."""
    if kind == "compliance":
        return ws.obligations.compliance_report(incident_id)
    return ws.incidents.postmortem(incident_id)


class ReportPanel(IncidentPanel):
    """The post-mortem (as ``ir report postmortem`` writes it) or the compliance report (each
    duty with due, done, met or missed); rendered only while the pane is showing."""

    FIRST_FOCUS = ("#report-scroll",)

    BINDINGS: ClassVar[list[BindingType]] = [Binding("c", "switch", "Other report")]
    """``c`` switches between the post-mortem and the compliance report."""

    class Loaded(Message):
        """A report of ``incident_id`` as rendered by a worker at incident version ``seq``."""

        def __init__(self, incident_id: str, kind: str, seq: int, markdown: str) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.kind = kind
            self.seq = seq
            self.markdown = markdown

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.kind = "postmortem"
        """The report showing."""
        self.markdown = ""
        """The Markdown of the report showing."""
        self.loaded_seq = -1

    def compose(self) -> ComposeResult:
        yield PaneBar(numbered=False, id="report-choice")
        with VerticalScroll(id="report-scroll"):
            yield Markdown(f"*{tr('Rendering the report…', self.app.ws.lang)}*", id="report")

    def on_mount(self) -> None:
        self._show_choice()

    def _show_choice(self) -> None:
        lang = self.app.ws.lang
        self.query_one(PaneBar).show([(k, tr(name, lang)) for k, name in REPORTS.items()], self.kind)

    def reset(self, incident_id: str) -> None:
        """Forget the report shown."""
        super().reset(incident_id)
        self.loaded_seq = -1
        self.markdown = ""
        self.query_one("#report", Markdown).update(f"*{tr('Rendering the report…', self.app.ws.lang)}*")

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Re-render when the incident moved on, if the report is being read."""
        super().show(view, pb)
        if self.front and view["seq"] != self.loaded_seq:
            self.load(self.kind, view["seq"])

    def activated(self) -> None:
        """Render on first view (a report of a long incident takes a moment)."""
        super().activated()
        if self.view is not None and self.view["seq"] != self.loaded_seq:
            self.load(self.kind, self.view["seq"])

    def choose(self, kind: str) -> None:
        """Show the report ``kind`` (``postmortem`` or ``compliance``)."""
        if kind == self.kind:
            return
        self.kind = kind
        self.loaded_seq = -1
        self._show_choice()
        if self.view is not None:
            self.load(kind, self.view["seq"])

    def action_switch(self) -> None:
        """Show the other report."""
        self.choose("compliance" if self.kind == "postmortem" else "postmortem")

    def on_pane_bar_chosen(self, message: PaneBar.Chosen) -> None:
        message.stop()
        self.choose(message.pane_id)

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def load(self, kind: str, seq: int) -> None:
        """Render a report in a worker with its own connection."""
        worker = get_current_worker()
        incident = self.incident_id
        try:
            with self.app.open_workspace() as ws:
                text = render_report(ws, kind, incident)
        except IrError as exc:
            what = "render the compliance report" if kind == "compliance" else "render the post-mortem"
            self.post_message(ActionFailed(what, str(exc), type(exc).__name__, refresh=False))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(incident, kind, seq, text))

    async def on_report_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.kind != self.kind or message.incident_id != self.incident_id:
            return  # the user switched report, or incident, meanwhile
        self.loaded_seq = message.seq
        self.markdown = message.markdown
        await self.query_one("#report", Markdown).update(message.markdown)
