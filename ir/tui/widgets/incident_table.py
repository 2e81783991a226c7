"""A table of incidents with ages and live deadline countdowns, drawn a line at a time.

Only the lines on screen are drawn, so showing, filtering or re-reading a thousand incidents
costs no more than showing ten.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message

from ir.tui.data import IncidentRow, age_text, countdown
from ir.tui.labels import tr
from ir.tui.widgets.line_table import LineTable, clip

SEVERITY_STYLE = {"low": "dim", "medium": "", "high": "bold yellow", "critical": "bold red"}
"""How each severity reads in the table."""

DEADLINE_STYLE = {"ok": "green", "soon": "yellow", "urgent": "bold red", "overdue": "bold white on red"}
"""Countdown colours: green while there is time, turning as the deadline nears; overdue stands out."""

COLUMNS: tuple[tuple[str, int], ...] = (
    ("ID", 13),
    ("Title", 20),
    ("Severity", 8),
    ("Phase", 14),
    ("Next deadline", 16),
    ("Owner", 10),
    ("Age", 10),
    ("Playbook", 18),
)
"""Columns and their widths, most telling first: at 80 columns the last ones are a scroll
to the right away; a wider terminal gives the title the room left over."""

EXERCISE = " EXERCISE"
"""Marks a drill next to its id."""

__all__ = ["COLUMNS", "DEADLINE_STYLE", "IncidentTable", "clip", "deadline_cell"]


def deadline_cell(row: IncidentRow, wall_now: dt.datetime, lang: str = "en") -> Text:
    """The next-deadline cell: a countdown coloured by urgency, or a dash."""
    if row.final:
        return Text(tr("closed", lang), style="dim")
    if not row.deadline_known:
        return Text("…", style="dim")
    if row.deadline is None:
        return Text("—", style="dim")
    text, level = countdown(row.deadline.due_at, wall_now + row.offset)
    return Text(text, style=DEADLINE_STYLE[level])


class IncidentTable(LineTable[IncidentRow]):
    """Incidents, one per line; Enter (or a click on the highlighted line) opens one.

    Drills carry EXERCISE next to their id, wherever the table is used.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "choose", "Open")]
    """Enter opens the highlighted incident (moving and scrolling as in every line table)."""

    COLUMNS = COLUMNS
    STRETCH = 1

    class Opened(Message):
        """The user chose an incident to open."""

        def __init__(self, incident_id: str) -> None:
            super().__init__()
            self.incident_id = incident_id

    def __init__(self, *, lang: str = "en", id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(lang=lang, id=id)
        self.now = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    def show(self, rows: list[IncidentRow], wall_now: dt.datetime) -> None:
        """Replace the rows, keeping the cursor on the same incident where it still is (on the
        first, the most urgent, until the user moves it: a re-sort must not carry it away)."""
        current = self.current_id() if self.moved else None
        self.now = wall_now
        index = next((i for i, r in enumerate(rows) if r.id == current), None)
        if index is not None:
            self.set_reactive(IncidentTable.cursor_row, index)
        self.set_rows(rows)

    def tick(self, wall_now: dt.datetime) -> None:
        """Move the ages and countdowns on (they are worked out as lines are drawn)."""
        self.now = wall_now
        self.refresh()

    def current_id(self) -> str | None:
        """The id of the incident under the cursor, if any."""
        row = self.current()
        return row.id if row is not None else None

    def widths(self) -> list[int]:
        """Column widths; the id column makes room for EXERCISE when drills are listed."""
        widths = super().widths()
        if any(r.exercise for r in self.rows_shown):
            widths[0] += len(EXERCISE)
        return widths

    def cells(self, row: IncidentRow) -> list[Text]:
        """The cells of one incident, as the table shows them now."""
        ident = Text(row.id)
        if row.exercise:
            ident.append(EXERCISE, style="bold black on yellow")
        return [
            ident,
            Text(row.title),
            Text(row.severity, style=SEVERITY_STYLE.get(row.severity, "")),
            Text(row.phase_title, style="dim" if row.final else ""),
            deadline_cell(row, self.now, self.lang),
            Text(row.owner or "—"),
            Text(age_text(row, self.now)),
            Text(row.playbook),
        ]

    def chosen(self, row: IncidentRow) -> None:
        """Open the incident."""
        self.post_message(self.Opened(row.id))

    def action_open(self) -> None:
        """Open the highlighted incident."""
        self.action_choose()
