"""The panes of the incident view, in order: where later capabilities add theirs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ir.tui.widgets.incident_panel import IncidentPanel


def _always(view: dict[str, Any]) -> bool:
    return True


def drills_only(view: dict[str, Any]) -> bool:
    """Whether the incident is a drill (for panes only an exercise has)."""
    return view["mode"] == "drill"


@dataclass(frozen=True)
class PanelSpec:
    """A pane of the incident view.

    Attributes:
        id: the pane's id (``pane-<id>`` in the DOM).
        title: the pane's name in English (shown in the display language, see ``ir.tui.labels``).
        build: makes the pane for an incident id.
        when: whether the pane belongs in the view of an incident (given ``incident_view``).
    """

    id: str
    title: str
    build: Callable[[str], IncidentPanel]
    when: Callable[[dict[str, Any]], bool] = _always


def _work(incident_id: str) -> IncidentPanel:
    from ir.tui.widgets.work_panel import WorkPanel

    return WorkPanel(incident_id)


def _timeline(incident_id: str) -> IncidentPanel:
    from ir.tui.widgets.timeline_panel import TimelinePanel

    return TimelinePanel(incident_id)


def _obligations(incident_id: str) -> IncidentPanel:
    from ir.tui.widgets.obligations_panel import ObligationsPanel

    return ObligationsPanel(incident_id)


def _notices(incident_id: str) -> IncidentPanel:
    from ir.tui.widgets.notices_panel import NoticesPanel

    return NoticesPanel(incident_id)


def _report(incident_id: str) -> IncidentPanel:
    from ir.tui.widgets.report_panel import ReportPanel

    return ReportPanel(incident_id)


def _drill(incident_id: str) -> IncidentPanel:
    from ir.tui.widgets.drill_panel import DrillPanel

    return DrillPanel(incident_id)


# Each pane's module is imported when the pane is first built: opening an incident loads the
# work pane's code, not the drill pane's.
_BUILTIN = (
    PanelSpec("work", "Work", _work),
    PanelSpec("timeline", "Timeline", _timeline),
    PanelSpec("obligations", "Obligations", _obligations),
    PanelSpec("notices", "Notices", _notices),
    PanelSpec("report", "Report", _report),
    PanelSpec("drill", "Drill", _drill, drills_only),
)


_EXTRA: list[tuple[PanelSpec, str | None]] = []


def register_panel(spec: PanelSpec, *, after: str | None = "timeline") -> None:
    """Add a pane (notices, ...) after the pane ``after`` (None: at the end).

    Registering the same id again replaces the earlier registration.
    """
    _EXTRA[:] = [(s, a) for s, a in _EXTRA if s.id != spec.id]
    _EXTRA.append((spec, after))


def panels(view: dict[str, Any] | None = None) -> list[PanelSpec]:
    """The panes of an incident's view (every pane when ``view`` is None), built-in ones first
    with the registered ones placed where they asked."""
    out = list(_BUILTIN)
    for spec, after in _EXTRA:
        index = next((i + 1 for i, s in enumerate(out) if s.id == after), len(out))
        out.insert(index, spec)
    return out if view is None else [s for s in out if s.when(view)]
