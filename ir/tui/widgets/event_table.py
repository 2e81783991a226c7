"""An incident's events as a table drawn a line at a time: a long timeline shows as fast as a short one."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.message import Message

from ir.tui.data import TimelineRow
from ir.tui.widgets.line_table import LineTable


class EventTable(LineTable[TimelineRow]):
    """Events oldest first: number, time, who, what; follows the newest unless the user reads
    further up. Posts :class:`Highlighted` when the cursor moves (the full text of an event
    cut short here is shown beside it)."""

    COLUMNS: ClassVar[tuple[tuple[str, int], ...]] = (("#", 4), ("When (UTC)", 14), ("Who", 10), ("What", 40))
    STRETCH = 3

    class Highlighted(Message):
        """The cursor is on ``row``."""

        def __init__(self, row: TimelineRow | None) -> None:
            super().__init__()
            self.row = row

    def show(self, rows: list[TimelineRow]) -> None:
        """Replace the events; the cursor stays on the newest if it was there."""
        at_end = not self.rows_shown or self.cursor_row >= len(self.rows_shown) - 1
        if at_end and rows:
            self.set_reactive(EventTable.cursor_row, len(rows) - 1)
        self.set_rows(rows)
        self.cursor_moved()

    def cells(self, row: TimelineRow) -> list[Text]:
        """The cells of one event."""
        return [Text(str(row.seq), style="dim"), Text(row.at), Text(row.actor, style="italic"), Text(row.text)]

    def cursor_moved(self) -> None:
        """Say which event is highlighted."""
        self.post_message(self.Highlighted(self.current()))
