"""The incident's reports inside the app: the post-mortem and the compliance report."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from ir.errors import IrError
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed
from ir.tui.widgets.incident_panel import ReadingPanel
from ir.tui.widgets.pane_bar import PaneBar
from ir.workspace import Workspace

REPORTS: dict[str, str] = {"postmortem": "Post-mortem", "compliance": "Compliance report"}
"""The reports the pane shows, by id, with their names in English."""


def render_report(ws: Workspace, kind: str, incident_id: str) -> str:
    """One report of the incident, as Markdown, from the services."""
    if kind == "compliance":
        return ws.obligations.compliance_report(incident_id)
    return ws.incidents.postmortem(incident_id)


class ReportPanel(ReadingPanel):
    """The post-mortem (as ``ir report postmortem`` writes it) or the compliance report (each
    duty with due, done, met or missed); rendered only while the pane is showing."""

    FIRST_FOCUS = ("#report-scroll",)

    BINDINGS: ClassVar[list[BindingType]] = [Binding("c", "switch", "Other report")]
    """``c`` switches between the post-mortem and the compliance report."""

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.kind = "postmortem"
        """The report showing."""
        self.markdown = ""
        """The Markdown of the report showing."""

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
        if self.markdown:  # (a report never read still shows the placeholder: rebuilding it costs)
            self.query_one("#report", Markdown).update(f"*{tr('Rendering the report…', self.app.ws.lang)}*")
        self.markdown = ""

    def choose(self, kind: str) -> None:
        """Show the report ``kind`` (``postmortem`` or ``compliance``)."""
        if kind == self.kind:
            return
        self.kind = kind
        self._show_choice()
        self.reload()

    def action_switch(self) -> None:
        """Show the other report."""
        self.choose("compliance" if self.kind == "postmortem" else "postmortem")

    def on_pane_bar_chosen(self, message: PaneBar.Chosen) -> None:
        message.stop()
        self.choose(message.pane_id)

    def read(self, ws: Workspace, incident_id: str) -> tuple[str, str]:
        """The report chosen, rendered (the choice is read once, when the worker starts)."""
        kind = self.kind
        return kind, render_report(ws, kind, incident_id)

    def read_failed(self, incident_id: str, exc: IrError) -> None:
        what = "render the compliance report" if self.kind == "compliance" else "render the post-mortem"
        self.post_message(ActionFailed(what, str(exc), type(exc).__name__, refresh=False))

    def loaded(self, data: tuple[str, str]) -> None:
        kind, markdown = data
        if kind != self.kind:
            self.loaded_seq = -1  # the user switched report meanwhile: the other one is on its way
            return
        self.markdown = markdown
        self.query_one("#report", Markdown).update(markdown)
