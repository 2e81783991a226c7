"""The incident view's pane names in one line, the one showing highlighted."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.widget import Widget


class PaneBar(Widget):
    """Pane titles, numbered when the number is the key that shows the pane; a click shows one.

    One widget drawn as text: Textual's tabs are a dozen widgets with an animated
    underline, which an incident view opened many times a shift does not need.
    """

    DEFAULT_CSS = """
    PaneBar {
        height: 1;
        background: $panel;
        & > .pane-bar--active { background: $primary; color: $text; text-style: bold; }
        & > .pane-bar--number { color: $text-muted; }
    }
    """
    """One line; the pane showing stands out in the theme's primary colour."""

    COMPONENT_CLASSES = {"pane-bar--active", "pane-bar--number"}

    class Chosen(Message):
        """The user clicked a pane's name."""

        def __init__(self, pane_id: str) -> None:
            super().__init__()
            self.pane_id = pane_id

    def __init__(self, *, numbered: bool = True, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(id=id)
        self.numbered = numbered
        self.panes: list[tuple[str, str]] = []
        self.active: str | None = None
        self._spans: list[tuple[int, int, str]] = []

    def show(self, panes: list[tuple[str, str]], active: str | None) -> None:
        """Show ``panes`` (id, title) with ``active`` highlighted (redrawn only when changed)."""
        if panes != self.panes or active != self.active:
            self.panes = list(panes)
            self.active = active
            self.refresh()

    def render(self) -> Text:
        active_style = self.get_component_rich_style("pane-bar--active", partial=True)
        number_style = self.get_component_rich_style("pane-bar--number", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        spans = []
        for n, (pane_id, title) in enumerate(self.panes, start=1):
            start = text.cell_len
            number = f" {n}" if self.numbered else ""
            if pane_id == self.active:
                text.append(f"{number} {title} ", style=active_style)
            else:
                text.append(number, style=number_style)
                text.append(f" {title} ")
            spans.append((start, start + cell_len(f"{number} {title} "), pane_id))
            text.append(" ")
        self._spans = spans
        return text

    def on_click(self, event: events.Click) -> None:
        for start, end, pane_id in self._spans:
            if start <= event.x < end:
                self.post_message(self.Chosen(pane_id))
                return
