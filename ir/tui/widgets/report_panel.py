"""The post-mortem report, rendered from the timeline, inside the app."""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Markdown
from textual.worker import get_current_worker

from ir.engine.playbook import Playbook
from ir.errors import IrError
from ir.tui.messages import ActionFailed
from ir.tui.widgets.incident_panel import IncidentPanel


class ReportPanel(IncidentPanel):
    """The post-mortem as the service renders it; built only while the pane is showing."""

    FIRST_FOCUS = ("#report-scroll",)

    class Loaded(Message):
        """The report as rendered by a worker at incident version ``seq``."""

        def __init__(self, seq: int, markdown: str) -> None:
            super().__init__()
            self.seq = seq
            self.markdown = markdown

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.markdown = ""
        self.loaded_seq = -1

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="report-scroll"):
            yield Markdown("*Rendering the post-mortem…*", id="report")

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Re-render when the incident moved on, if the report is being read."""
        super().show(view, pb)
        if self.front and view["seq"] != self.loaded_seq:
            self.load(view["seq"])

    def activated(self) -> None:
        """Render on first view (a report of a long incident takes a moment)."""
        super().activated()
        if self.view is not None and self.view["seq"] != self.loaded_seq:
            self.load(self.view["seq"])

    @work(thread=True, exclusive=True, group="report", exit_on_error=False)
    def load(self, seq: int) -> None:
        """Render the post-mortem in a worker with its own connection."""
        worker = get_current_worker()
        try:
            with self.app.open_workspace() as ws:
                text = ws.incidents.postmortem(self.incident_id)
        except IrError as exc:
            self.post_message(ActionFailed("render the post-mortem", str(exc), type(exc).__name__, refresh=False))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(seq, text))

    async def on_report_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        self.loaded_seq = message.seq
        self.markdown = message.markdown
        await self.query_one("#report", Markdown).update(message.markdown)
