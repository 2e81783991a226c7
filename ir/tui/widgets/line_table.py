"""A table drawn a line at a time: only the lines on screen cost anything, however many rows."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ir.tui.labels import tr

Row = TypeVar("Row")

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


class LineTable(ScrollView, Generic[Row], can_focus=True):
    """Rows under a fixed header, one line each, with a cursor; Enter (or a click on the
    highlighted line) chooses the row.

    A subclass names its columns (label, width) in :attr:`COLUMNS`, says which one takes the
    width left over (:attr:`STRETCH`), and draws a row's cells in :meth:`cells`. Textual's
    ``DataTable`` measures every cell of every row as rows are added; this measures nothing,
    so a thousand rows show as fast as ten.

    Args:
        lang: display language of the column labels.
    """

    DEFAULT_CSS = """
    LineTable {
        height: auto;
        max-height: 100%;
        background: $surface;
        & > .line-table--header { text-style: bold; background: $panel; }
        & > .line-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
        }
        &:focus > .line-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .line-table--even { background: $surface-lighten-1 50%; }
    }
    """
    """Header, cursor and zebra stripes, from the theme."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"line-table--header", "line-table--cursor", "line-table--even"}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
    ]
    """Moving and scrolling."""

    COLUMNS: ClassVar[tuple[tuple[str, int], ...]] = ()
    """Column labels (in English, shown translated) and widths in cells."""

    STRETCH: ClassVar[int] = 1
    """The column that takes the width a wide terminal leaves over."""

    cursor_row: reactive[int] = reactive(0, init=False)
    """The highlighted line (0 is the first row)."""

    def __init__(self, *, lang: str = "en", id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.lang = lang
        self.rows_shown: list[Row] = []
        self.moved = False
        """Whether the cursor has been moved (by the user, or on purpose)."""
        self._widths = [w for _, w in self.COLUMNS]

    # --------------------------------------------------------------------- data

    def cells(self, row: Row) -> list[Text]:
        """The cells of one row, as the table shows them now."""
        raise NotImplementedError

    def widths(self) -> list[int]:
        """The columns' widths before the stretch column takes what is left over."""
        return [w for _, w in self.COLUMNS]

    def set_rows(self, rows: list[Row]) -> None:
        """Replace the rows (the cursor is left where it is, within the rows)."""
        self.rows_shown = rows
        self._layout()
        self.set_reactive(LineTable.cursor_row, min(self.cursor_row, max(len(rows) - 1, 0)))
        self._scroll_to_cursor()
        # Again once laid out: a table shown for the first time has no height yet to scroll in.
        self.call_after_refresh(self._scroll_to_cursor)
        self.refresh()

    def current(self) -> Row | None:
        """The row under the cursor, if any."""
        if not 0 <= self.cursor_row < len(self.rows_shown):
            return None
        return self.rows_shown[self.cursor_row]

    # ------------------------------------------------------------------- layout

    def _layout(self) -> None:
        widths = self.widths()
        spare = self.scrollable_content_region.width - (sum(widths) + GAP * (len(widths) - 1) + 1)
        widths[self.STRETCH] += max(0, spare)
        self._widths = widths
        total = sum(widths) + GAP * (len(widths) - 1) + 1
        size = Size(total, len(self.rows_shown) + 1)
        if size != self.virtual_size:  # the same size again would lay the screen out again
            self.virtual_size = size

    def on_resize(self, event: events.Resize) -> None:
        self._layout()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.rows_shown) + 1

    # --------------------------------------------------------------- rendering

    def render_line(self, y: int) -> Strip:
        """Line 0 is the header (it stays put); the others are rows from the scroll offset."""
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            header = [Text(tr(label, self.lang)) for label, _ in self.COLUMNS]
            line = self._line(header, self.get_component_rich_style("line-table--header"))
        else:
            index = scroll_y + y - 1
            if index >= len(self.rows_shown):
                return Strip.blank(width, self.rich_style)
            line = self._line(self.cells(self.rows_shown[index]), self._row_style(index))
        return line.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _row_style(self, index: int) -> Style:
        if index == self.cursor_row:
            return self.get_component_rich_style("line-table--cursor")
        if index % 2:
            return self.rich_style + self.get_component_rich_style("line-table--even")
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
        # Only a move sets the reactive with its watcher (a new set of rows sets it quietly).
        self.moved = True
        self._scroll_to_cursor()
        self.refresh()
        self.cursor_moved()

    def cursor_moved(self) -> None:
        """Called when the cursor moved (for a subclass that shows the highlighted row)."""

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
        """Highlight the first row."""
        self._move(0)

    def action_last(self) -> None:
        """Highlight the last row."""
        self._move(len(self.rows_shown) - 1)

    def chosen(self, row: Any) -> None:
        """The user chose ``row`` (Enter, or a click on the highlighted line)."""

    def action_choose(self) -> None:
        """Choose the highlighted row."""
        row = self.current()
        if row is not None:
            self.chosen(row)

    def on_click(self, event: events.Click) -> None:
        # As in a data table: the first click highlights, a click on the highlight chooses.
        if event.y == 0:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self.rows_shown):
            if index == self.cursor_row:
                self.action_choose()
            else:
                self.cursor_row = index
