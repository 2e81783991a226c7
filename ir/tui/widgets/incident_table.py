"""A table of incidents with ages and live deadline countdowns, drawn a line at a time.

Only the lines on screen are drawn, so showing, filtering or re-reading a thousand incidents
costs no more than showing ten.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ir.tui.data import IncidentRow, age_text, countdown
from ir.tui.labels import tr

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

GAP = 2
"""Cells between columns."""


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


class IncidentTable(ScrollView, can_focus=True):
    """Incidents, one per line; Enter (or a click on the highlighted line) opens one.

    Drills carry EXERCISE next to their id, wherever the table is used.
    """

    DEFAULT_CSS = """
    IncidentTable {
        height: auto;
        max-height: 100%;
        background: $surface;
        & > .incident-table--header { text-style: bold; background: $panel; }
        & > .incident-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .incident-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .incident-table--even { background: $surface-lighten-1 50%; }
    }
    """
    """Header, cursor and zebra stripes, from the theme."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "incident-table--header",
        "incident-table--cursor",
        "incident-table--even",
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open"),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]
    """Moving, scrolling and opening (Enter)."""

    cursor_row: reactive[int] = reactive(0, init=False)
    """The highlighted line (0 is the first incident)."""

    class Opened(Message):
        """The user chose an incident to open."""

        def __init__(self, incident_id: str) -> None:
            super().__init__()
            self.incident_id = incident_id

    def __init__(self, *, lang: str = "en", id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.lang = lang
        self.rows_shown: list[IncidentRow] = []
        self.moved = False
        """Whether the user has moved the cursor."""
        self.now = dt.datetime.min.replace(tzinfo=dt.timezone.utc)
        self._widths = [w for _, w in COLUMNS]

    # --------------------------------------------------------------------- data

    def show(self, rows: list[IncidentRow], wall_now: dt.datetime) -> None:
        """Replace the rows, keeping the cursor on the same incident where it still is (on the
        first, the most urgent, until the user moves it: a re-sort must not carry it away)."""
        current = self.current_id() if self.moved else None
        self.rows_shown = rows
        self.now = wall_now
        self._layout()
        index = next((i for i, r in enumerate(rows) if r.id == current), None)
        self.set_reactive(IncidentTable.cursor_row, min(index if index is not None else self.cursor_row,
                                                         max(len(rows) - 1, 0)))
        self._scroll_to_cursor()
        self.refresh()

    def tick(self, wall_now: dt.datetime) -> None:
        """Move the ages and countdowns on (they are worked out as lines are drawn)."""
        self.now = wall_now
        self.refresh()

    def current_id(self) -> str | None:
        """The id of the incident under the cursor, if any."""
        if not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row].id

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

    # ------------------------------------------------------------------- layout

    def _layout(self) -> None:
        widths = [w for _, w in COLUMNS]
        if any(r.exercise for r in self.rows_shown):
            widths[0] += len(EXERCISE)
        # Give the title what is left of a wide terminal.
        spare = self.scrollable_content_region.width - (sum(widths) + GAP * (len(widths) - 1) + 1)
        widths[1] += max(0, spare)
        self._widths = widths
        total = sum(widths) + GAP * (len(widths) - 1) + 1
        self.virtual_size = Size(total, len(self.rows_shown) + 1)

    def on_resize(self, event: events.Resize) -> None:
        self._layout()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.rows_shown) + 1

    # --------------------------------------------------------------- rendering

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header (it stays put); the others are incidents from the scroll offset."""
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            header = [Text(tr(label, self.lang)) for label, _ in COLUMNS]
            line = self._line(header, self.get_component_rich_style("incident-table--header"))
        else:
            index = scroll_y + y - 1
            if index >= len(self.rows_shown):
                return Strip.blank(width, self.rich_style)
            line = self._line(self.cells(self.rows_shown[index]), self._row_style(index))
        return line.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _row_style(self, index: int) -> Style:
        if index == self.cursor_row:
            return self.get_component_rich_style("incident-table--cursor")
        if index % 2:
            return self.rich_style + self.get_component_rich_style("incident-table--even")
        return self.rich_style

    def _line(self, cells: list[Text], base: Style) -> Strip:
        segments: list[Segment] = [Segment(" ", base)]
        for n, (cell, width) in enumerate(zip(cells, self._widths, strict=True)):
            text = clip(cell.plain, width)
            if text != cell.plain:
                cell = Text(text, style=cell.style)
            for part in cell.render(self.app.console):
                segments.append(Segment(part.text, base + part.style if part.style else base))
            pad = width - cell_len(text) + (GAP if n < len(self._widths) - 1 else 0)
            segments.append(Segment(" " * pad, base))
        return Strip(segments)

    # ------------------------------------------------------------------- moving

    def watch_cursor_row(self, old: int, new: int) -> None:
        # Only a move sets the reactive with its watcher (a re-sort sets it quietly).
        self.moved = True
        self._scroll_to_cursor()
        self.refresh()

    def _scroll_to_cursor(self) -> None:
        visible = max(self.scrollable_content_region.height - 1, 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False)

    def _move(self, row: int) -> None:
        if self.rows_shown:
            self.cursor_row = max(0, min(row, len(self.rows_shown) - 1))

    def action_cursor(self, step: int) -> None:
        """Move the highlight up or down."""
        self._move(self.cursor_row + step)

    def action_page(self, pages: int) -> None:
        """Move the highlight a screenful."""
        self._move(self.cursor_row + pages * max(self.scrollable_content_region.height - 1, 1))

    def action_first(self) -> None:
        """Highlight the first incident."""
        self._move(0)

    def action_last(self) -> None:
        """Highlight the last incident."""
        self._move(len(self.rows_shown) - 1)

    def action_open(self) -> None:
        """Open the highlighted incident."""
        current = self.current_id()
        if current is not None:
            self.post_message(self.Opened(current))

    def on_click(self, event: events.Click) -> None:
        # As in a data table: the first click highlights, a click on the highlight opens.
        if event.y == 0:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self.rows_shown):
            if index == self.cursor_row:
                self.action_open()
            else:
                self.cursor_row = index
