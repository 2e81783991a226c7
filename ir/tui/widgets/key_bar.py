"""The key bar at the foot of every screen: the keys that work now, in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.screen import Screen
from textual.widget import Widget

from ir.tui.labels import tr

if TYPE_CHECKING:
    from ir.tui.app import IrApp


class KeyBar(Widget):
    """The shown bindings of the focused widget and its ancestors, drawn as one line of text.

    Textual's ``Footer`` builds a widget per key and rebuilds them all whenever the focus
    moves, which costs more than a pane switch should; this draws the same keys as text,
    with descriptions in the display language, and a click on a key presses it.
    """

    DEFAULT_CSS = """
    KeyBar {
        dock: bottom;
        height: 1;
        background: $footer-background;
        color: $footer-foreground;
        & > .key-bar--key { color: $footer-key-foreground; text-style: bold; }
        & > .key-bar--disabled { text-style: dim; }
    }
    """
    """A single line docked at the bottom, in the theme's footer colours."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"key-bar--key", "key-bar--disabled"}

    app: IrApp  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._spans: list[tuple[int, int, str]] = []
        self._shown: Text | None = None

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is self.screen:
            line = self._line()
            # Focus moves often without changing the keys: redraw only when they change.
            if self._shown is None or line.plain != self._shown.plain:
                self.refresh()

    def _line(self) -> Text:
        """The keys as text, and where each one sits (for clicks)."""
        lang = self.app.ws.lang
        key_style = self.get_component_rich_style("key-bar--key", partial=True)
        dim = self.get_component_rich_style("key-bar--disabled", partial=True)
        text = Text(no_wrap=True, overflow="ellipsis")
        spans: list[tuple[int, int, str]] = []
        seen: set[str] = set()
        palette: tuple[str, Binding, bool] | None = None
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if key == self.app.COMMAND_PALETTE_BINDING:
                palette = (key, binding, active.enabled)
                continue
            if not binding.show or binding.action in seen:
                continue
            seen.add(binding.action)
            start = text.cell_len
            self._append(text, binding, active.enabled, key_style, dim, lang)
            spans.append((start, text.cell_len, key))
        if palette is not None:
            text.append(" " * 2)
            start = text.cell_len
            self._append(text, palette[1], palette[2], key_style, dim, lang)
            spans.append((start, text.cell_len, palette[0]))
        self._spans = spans
        return text

    def _append(self, text: Text, binding: Binding, enabled: bool, key_style: Style, dim: Style, lang: str) -> None:
        style = key_style if enabled else dim
        text.append(f" {self.app.get_key_display(binding)} ", style=style)
        text.append(tr(binding.description, lang), style="" if enabled else dim)
        text.append(" ")

    def render(self) -> Text:
        self._shown = self._line()
        return self._shown

    def on_click(self, event: events.Click) -> None:
        # A click on a key does what pressing it does.
        for start, end, key in self._spans:
            if start <= event.x < end:
                self.app.simulate_key(key)
                return
