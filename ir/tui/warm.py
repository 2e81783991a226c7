"""Loading ahead: what the incident view needs, loaded in the background once the dashboard shows.

The dashboard is drawn from the store alone (see docs/PERFORMANCE.md): the playbook models, the
state machine, the template engine and the panes' code are not loaded at launch. The first
incident opened, and the first notices pane, would pay for them while the responder waits. So
once the dashboard is complete, a worker thread takes the path a responder is about to take:
it reads the incident under the cursor as its view would, each pane's data as the pane would,
and every notice template, then drops what it read. The modules and the per-process caches it
fills (playbook snapshots, rule books, checked templates) are what the view then finds ready.

Nothing here writes, and nothing it meets is reported: a pane that fails to read says so
itself when it is shown.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ir.errors import IrError

if TYPE_CHECKING:
    from ir.workspace import Workspace

VIEW_MODULES = ("ir.tui.screens.incident", "ir.tui.widgets.work_panel")
"""The incident view with its first pane (what opening an incident needs)."""

PANE_MODULES = (
    "ir.tui.widgets.timeline_panel",
    "ir.tui.widgets.obligations_panel",
    "ir.tui.widgets.notices_panel",
    "ir.tui.widgets.report_panel",
    "ir.tui.screens.confirm",
)
"""The other panes and the confirmation dialog (each otherwise imported when first shown)."""

VIEW_READY = object()
"""Marks the point in :func:`steps` after which the incident view can be built quickly."""


def steps(ws: Workspace, incident_id: str | None) -> Iterator[Callable[[], object] | object]:
    """The warm-up, in the order a responder meets it, one short step at a time (the app
    waits for the step under way when it quits): the incident view first (then
    :data:`VIEW_READY`), then its other panes, then every notice template."""
    from ir.tui import data

    for module in VIEW_MODULES:
        yield lambda m=module: importlib.import_module(m)
    if incident_id is not None:
        yield lambda: _view(ws, incident_id)
    yield VIEW_READY
    for module in PANE_MODULES:
        yield lambda m=module: importlib.import_module(m)
    if incident_id is not None:
        yield lambda: data.load_timeline(ws, incident_id)
        yield lambda: ws.obligations.for_incident(incident_id)
    catalog = ws.notices.catalog
    for entry in catalog.entries():  # each template checked, as the notices pane lists them
        yield lambda path=entry.path: catalog.load(path)
    if incident_id is not None:
        yield lambda: _notices(ws, incident_id)


def run(
    ws: Workspace, incident_id: str | None, cancelled: Callable[[], bool],
    view_ready: Callable[[], object] | None = None,
) -> int:
    """Run the steps until done or ``cancelled()``; return how many ran. ``view_ready`` is
    called (on this thread) when the incident view's part is done.

    A step that fails on the workspace (a locked database, a broken template folder) is
    skipped: the pane that needs it reports the problem when it reads for itself."""
    done = 0
    try:
        for step in steps(ws, incident_id):
            if cancelled():
                break
            if step is VIEW_READY:
                if view_ready is not None:
                    view_ready()
                continue
            try:
                step()  # type: ignore[operator]
            except IrError:
                pass
            done += 1
    except (IrError, OSError):
        pass  # what to load could not be listed (a template folder unreadable): stop here
    return done


def _view(ws: Workspace, incident_id: str) -> object:
    from ir.engine.views import incident_view

    state = ws.incidents.get(incident_id)
    return incident_view(ws.incidents.playbook_of(state), state, ws.lang)


def _notices(ws: Workspace, incident_id: str) -> object:
    """The notices pane's reads: the data key's state, the people affected, and the detail
    of the first template (the one the pane highlights first)."""
    from ir.tui import data

    snapshot = data.load_notices(ws, incident_id)
    return data.load_notice(ws, incident_id, snapshot.templates[0].id) if snapshot.templates else snapshot
