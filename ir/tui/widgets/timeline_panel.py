"""The incident's timeline (who, when, what) with a filter by kind and a box to add a note."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Label, Select, Static

from ir.tui.data import TimelineRow, load_timeline
from ir.tui.labels import tr
from ir.tui.widgets.event_table import EventTable
from ir.tui.widgets.incident_panel import ReadingPanel

if TYPE_CHECKING:
    from ir.workspace import Workspace


class TimelinePanel(ReadingPanel):
    """Every event of the incident, newest last, the highlighted one written out in full
    beneath; posts :class:`NoteAdded` for the note box."""

    FIRST_FOCUS = ("#events",)

    class NoteAdded(Message):
        """The user wrote a note for the timeline."""

        def __init__(self, panel: TimelinePanel, text: str) -> None:
            super().__init__()
            self.panel = panel
            self.text = text

    READING = "read the timeline"

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.rows: list[TimelineRow] = []

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
        self.query_one(EventTable).set_rows([])
        self.query_one("#event-text", Static).update("")
        with self.prevent(Select.Changed):
            self.query_one("#kind", Select).set_options([])
        self.query_one("#note", Input).value = ""

    def read(self, ws: Workspace, incident_id: str) -> list[TimelineRow]:
        """Every event of the incident, described."""
        return load_timeline(ws, incident_id)

    def loaded(self, data: list[TimelineRow]) -> None:
        self.rows = data
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
