"""Command palette: whatever the current screen offers, searchable by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


@dataclass(frozen=True)
class PaletteCommand:
    """One entry of the command palette.

    Attributes:
        name: what the palette lists and matches against.
        help: one line under the name.
        run: called when the command is chosen.
    """

    name: str
    help: str
    run: Callable[[], object]


class IrCommands(Provider):
    """Offers the commands of the screen the palette was opened from.

    A screen takes part by defining ``palette_commands() -> list[PaletteCommand]``.
    """

    def _commands(self) -> list[PaletteCommand]:
        source = getattr(self.screen, "palette_commands", None)
        return list(source()) if callable(source) else []

    async def discover(self) -> Hits:
        """Everything the screen offers, before anything is typed."""
        for command in self._commands():
            yield DiscoveryHit(command.name, partial(command.run), help=command.help)

    async def search(self, query: str) -> Hits:
        """The screen's commands that fuzzily match ``query``."""
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), partial(command.run), help=command.help)
