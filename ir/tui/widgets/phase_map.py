"""The playbook as a list of phases: the path taken so far and the current phase highlighted."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from ir.engine.playbook import Playbook
from ir.i18n import pick
from ir.tui.data import short_time
from ir.tui.labels import tr
from ir.tui.widgets.incident_table import clip

WIDTH = 19
"""Phase titles are clipped to this many cells, one line each."""


def render_phase_map(pb: Playbook, view: dict[str, Any], lang: str) -> Text:
    """The playbook's title, every phase in playbook order (visited ✓, current ▸), then the path
    with entry times."""
    visited = {step["phase"] for step in view["path"]}
    out = Text()
    out.append(clip(pick(pb.title, lang), WIDTH + 2) + "\n", style="bold")
    for phase in pb.phases:
        title = clip(pick(phase.title, lang), WIDTH)
        if phase.id == view["phase"]:
            out.append(f"▸ {title}", style="bold reverse")
        elif phase.id in visited:
            out.append(f"✓ {title}", style="green")
        else:
            out.append(f"  {title}", style="dim")
        out.append("\n")
    out.append("\n" + tr("Path taken", lang) + "\n", style="bold")
    for step in view["path"]:
        title = pick(pb.phase_map[step["phase"]].title, lang) if step["phase"] in pb.phase_map else step["phase"]
        out.append(short_time(step["entered_at"])[:11], style="dim")
        out.append(f"\n  {clip(title, WIDTH)}\n")
    out.rstrip()
    return out


class PhaseMap(Static):
    """The phase map of one incident."""

    _shown: tuple[Any, ...] = ()

    def show(self, pb: Playbook, view: dict[str, Any], lang: str) -> None:
        """Draw the map for the incident as it now is (only when the phase or path changed)."""
        key = (pb.digest, lang, view["phase"], tuple(tuple(step.values()) for step in view["path"]))
        if key != self._shown:
            self._shown = key
            self.update(render_phase_map(pb, view, lang))
