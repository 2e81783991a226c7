"""The panes of the incident view, in order: where later capabilities add theirs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ir.tui.widgets.incident_panel import IncidentPanel


@dataclass(frozen=True)
class PanelSpec:
    """A pane of the incident view.

    Attributes:
        id: the pane's id (``panel-<id>`` in the DOM).
        title: the tab's label.
        build: makes the pane for an incident id.
    """

    id: str
    title: str
    build: Callable[[str], IncidentPanel]


def _builtin() -> list[PanelSpec]:
    from ir.tui.widgets.report_panel import ReportPanel
    from ir.tui.widgets.timeline_panel import TimelinePanel
    from ir.tui.widgets.work_panel import WorkPanel

    return [
        PanelSpec("work", "Work", WorkPanel),
        PanelSpec("timeline", "Timeline", TimelinePanel),
        PanelSpec("report", "Report", ReportPanel),
    ]


_EXTRA: list[tuple[PanelSpec, str | None]] = []


def register_panel(spec: PanelSpec, *, after: str | None = "timeline") -> None:
    """Add a pane (obligations, notices, ...) after the pane ``after`` (None: at the end).

    Registering the same id again replaces the earlier registration.
    """
    _EXTRA[:] = [(s, a) for s, a in _EXTRA if s.id != spec.id]
    _EXTRA.append((spec, after))


def panels() -> list[PanelSpec]:
    """Every pane, built-in ones first with the registered ones placed where they asked."""
    out = _builtin()
    for spec, after in _EXTRA:
        index = next((i + 1 for i, s in enumerate(out) if s.id == after), len(out))
        out.insert(index, spec)
    return out
