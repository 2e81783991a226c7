"""The incident's timeline (who, when, what) with a filter by kind and a box to add a note."""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select, Static
from textual.worker import get_current_worker

from ir.engine.playbook import Playbook
from ir.errors import IrError
from ir.tui.data import TimelineRow, load_timeline
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed
from ir.tui.widgets.event_table import EventTable
from ir.tui.widgets.incident_panel import IncidentPanel


class TimelinePanel(IncidentPanel):
    """Every event of the incident, newest last, the highlighted one written out in full
    beneath; posts :class:`NoteAdded` for the note box."""

    FIRST_FOCUS = ("#events",)

    class NoteAdded(Message):
        """The user wrote a note for the timeline."""

        def __init__(self, panel: TimelinePanel, text: str) -> None:
            super().__init__()
            self.panel = panel
            self.text = text

    class Loaded(Message):
        """The timeline of ``incident_id`` as read by a worker at incident version ``seq``."""

        def __init__(self, incident_id: str, seq: int, rows: list[TimelineRow]) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.seq = seq
            self.rows = rows

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.rows: list[TimelineRow] = []
        self.loaded_seq = -1

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        with Horizontal(id="timeline-filter"):
            yield Label(tr("Show", lang), classes="inline-label")
            yield Select[str]([], prompt=tr("every kind", lang), id="kind", compact=True)
        yield EventTable(lang=lang, id="events")
        yield Static("", id="event-text", markup=False)
        yield Input(placeholder=tr("Add a note to the timeline — Enter saves", lang), id="note", compact=True)

    def reset(self, incident_id: str) -> None:
        """Forget the incident's events, filter and unsaved note."""
        super().reset(incident_id)
        self.rows = []
        self.loaded_seq = -1
        self.query_one(EventTable).set_rows([])
        self.query_one("#event-text", Static).update("")
        with self.prevent(Select.Changed):
            self.query_one("#kind", Select).set_options([])
        self.query_one("#note", Input).value = ""

    def show(self, view: dict[str, Any], pb: Playbook) -> None:
        """Re-read the timeline when the incident moved on, if the pane shows."""
        super().show(view, pb)
        if self.front and view["seq"] != self.loaded_seq:
            self.load(view["seq"])

    def activated(self) -> None:
        """Read what changed while the pane was hidden (a hidden pane reads nothing)."""
        super().activated()
        if self.view is not None and self.view["seq"] != self.loaded_seq:
            self.load(self.view["seq"])

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def load(self, seq: int) -> None:
        """Read and describe the events in a worker with its own connection."""
        worker = get_current_worker()
        incident = self.incident_id
        try:
            with self.app.open_workspace() as ws:
                rows = load_timeline(ws, incident)
        except IrError as exc:
            self.post_message(ActionFailed("read the timeline", str(exc), type(exc).__name__, refresh=False))
            return
        if not worker.is_cancelled:
            self.post_message(self.Loaded(incident, seq, rows))

    def on_timeline_panel_loaded(self, message: Loaded) -> None:
        message.stop()
        if message.incident_id != self.incident_id:
            return  # read for the incident shown before
        self.loaded_seq = message.seq
        self.rows = message.rows
        self._update_kinds()
        self._fill()

    def _update_kinds(self) -> None:
        select = self.query_one("#kind", Select)
        kinds = sorted({r.kind for r in self.rows})
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options([(k, k) for k in kinds])
            if current in kinds:
                select.value = current

    def _fill(self) -> None:
        kind = self.query_one("#kind", Select).value
        self.query_one(EventTable).show([r for r in self.rows if kind == Select.NULL or r.kind == kind])

    def on_event_table_highlighted(self, message: EventTable.Highlighted) -> None:
        message.stop()
        row = message.row
        self.query_one("#event-text", Static).update(f"#{row.seq} {row.kind}: {row.text}" if row else "")

    @on(Select.Changed, "#kind")
    def _filter(self) -> None:
        self._fill()

    @on(Input.Submitted, "#note")
    def _note(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip():
            self.post_message(self.NoteAdded(self, event.value))

    def clear_note(self, text: str) -> None:
        """Empty the note box after ``text`` was recorded (unless the user typed on)."""
        note = self.query_one("#note", Input)
        if note.value == text:
            note.value = ""

    def focus_note(self) -> None:
        """Put the cursor in the note box."""
        self.query_one("#note", Input).focus()
