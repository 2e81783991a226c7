"""A table of incidents with ages and live deadline countdowns."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import DataTable

from ir.tui.data import IncidentRow, age_text, countdown

SEVERITY_STYLE = {"low": "dim", "medium": "", "high": "bold yellow", "critical": "bold red"}
"""How each severity reads in the table."""

DEADLINE_STYLE = {"ok": "green", "soon": "yellow", "urgent": "bold red", "overdue": "bold white on red"}
"""Countdown colours: green while there is time, turning as the deadline nears; overdue stands out."""

TITLE_WIDTH = 20
"""Titles are clipped to this many cells, so the columns that matter most fit in 80."""

PHASE_WIDTH = 14
"""Phase titles are clipped to this many cells."""


def clip(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` terminal cells (wide CJK characters count two), marking the cut."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for char in text:
        if used + cell_len(char) > width - 1:
            break
        out.append(char)
        used += cell_len(char)
    return "".join(out) + "…"


def deadline_cell(row: IncidentRow, wall_now: dt.datetime) -> Text:
    """The next-deadline cell: a countdown coloured by urgency, or a dash."""
    if row.final:
        return Text("closed", style="dim")
    if row.deadline is None:
        return Text("—", style="dim")
    text, level = countdown(row.deadline.due_at, wall_now + row.offset)
    return Text(text, style=DEADLINE_STYLE[level])


class IncidentTable(DataTable[Text | str]):
    """Incidents, one per row; Enter (or a second click) opens one.

    Drills carry EXERCISE next to their id, wherever the table is used.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Open", show=True),
    ]
    """Enter opens the incident under the cursor."""

    COLUMNS = ("ID", "Title", "Severity", "Phase", "Next deadline", "Owner", "Age", "Playbook")
    """Most telling first: at 80 columns the last ones are a scroll to the right away."""

    class Opened(Message):
        """The user chose an incident to open."""

        def __init__(self, incident_id: str) -> None:
            super().__init__()
            self.incident_id = incident_id

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.rows_shown: list[IncidentRow] = []

    def on_mount(self) -> None:
        self.add_columns(*self.COLUMNS)

    def show(self, rows: list[IncidentRow], wall_now: dt.datetime) -> None:
        """Replace the rows, keeping the cursor on the same incident where it still is."""
        current = self.current_id()
        self.rows_shown = rows
        self.clear()
        for row in rows:
            self.add_row(*self._cells(row, wall_now), key=row.id)
        if current is not None:
            for index, row in enumerate(rows):
                if row.id == current:
                    self.move_cursor(row=index, animate=False)
                    break

    def tick(self, wall_now: dt.datetime) -> None:
        """Move the ages and countdowns on without reloading anything."""
        due_col, age_col = self.ordered_columns[4].key, self.ordered_columns[6].key
        for row in self.rows_shown:
            self.update_cell(row.id, age_col, age_text(row, wall_now))
            self.update_cell(row.id, due_col, deadline_cell(row, wall_now))

    def current_id(self) -> str | None:
        """The id of the incident under the cursor, if any."""
        if not self.rows_shown or not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row].id

    def _cells(self, row: IncidentRow, wall_now: dt.datetime) -> list[Text | str]:
        ident = Text(row.id)
        if row.exercise:
            ident.append(" EXERCISE", style="bold black on yellow")
        return [
            ident,
            clip(row.title, TITLE_WIDTH),
            Text(row.severity, style=SEVERITY_STYLE.get(row.severity, "")),
            Text(clip(row.phase_title, PHASE_WIDTH), style="dim" if row.final else ""),
            deadline_cell(row, wall_now),
            row.owner or "—",
            age_text(row, wall_now),
            row.playbook,
        ]

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.Opened(event.row_key.value))
