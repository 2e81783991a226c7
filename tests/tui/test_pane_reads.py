"""A pane that reads what it shows comes to the front filled in, unless its read is slow."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from ir.tui import IrApp
from ir.tui.screens import incident as incident_screen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.widgets.incident_panel import IncidentPanel
from ir.tui.widgets.notices_panel import NoticesPanel
from ir.tui.widgets.timeline_panel import TimelinePanel
from ir.workspace import Workspace

from .helpers import open_in_app, open_incident, settle


def _record_fronts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int, int]]:
    """Each pane brought to the front: its id, the version it shows, the incident's version."""
    fronts: list[tuple[str, int, int]] = []
    real = IncidentScreen._bring_to_front

    def bring(self: IncidentScreen, panel: IncidentPanel) -> None:
        shown = getattr(panel, "loaded_seq", -2)
        fronts.append((panel.id or "", shown, self.view["seq"] if self.view else -1))
        real(self, panel)

    monkeypatch.setattr(IncidentScreen, "_bring_to_front", bring)
    return fronts


async def test_a_pane_comes_to_the_front_with_what_it_read(
    ws: Workspace, app_factory: Callable[..., IrApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = open_incident(ws, "Bucket exposed")
    fronts = _record_fronts(monkeypatch)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, first)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("2")  # read already: comes at once
        await settle(pilot)
        assert [r.seq for r in screen.query_one(TimelinePanel).rows] == [1]
    shown = [(pane, seen, seq) for pane, seen, seq in fronts if pane != "pane-work"]
    assert [pane for pane, _, _ in shown] == ["pane-timeline", "pane-notices", "pane-timeline"]
    assert all(seen == seq for _, seen, seq in shown), shown


async def test_a_slow_read_does_not_hold_the_pane_back(
    ws: Workspace, app_factory: Callable[..., IrApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = open_incident(ws, "Bucket exposed")
    real_read = TimelinePanel.read

    def slow_read(self: TimelinePanel, ws: Workspace, incident_id: str) -> Any:
        time.sleep(incident_screen.READ_AHEAD_SECONDS * 3)  # a workspace busy elsewhere
        return real_read(self, ws, incident_id)

    monkeypatch.setattr(TimelinePanel, "read", slow_read)
    fronts = _record_fronts(monkeypatch)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("2")
        await settle(pilot)
        timeline = screen.query_one(TimelinePanel)
        # It came to the front before its read arrived, and was filled in when it did.
        assert ("pane-timeline", -1, screen.view["seq"]) in fronts  # type: ignore[index]
        assert screen.active == "timeline" and timeline.loaded_seq == screen.view["seq"]  # type: ignore[index]
        assert [r.seq for r in timeline.rows] == [1]


async def test_the_notices_pane_reads_its_list_and_first_template_in_one_go(
    ws: Workspace, app_factory: Callable[..., IrApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = open_incident(ws, "Bucket exposed")
    details: list[str] = []
    real = NoticesPanel.load_detail

    def counted(self: NoticesPanel, template: str) -> Any:
        details.append(template)
        return real(self, template)

    monkeypatch.setattr(NoticesPanel, "load_detail", counted)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("4")
        await settle(pilot)
        panel = screen.query_one(NoticesPanel)
        choice = panel.current()
        assert choice is not None and panel.detail is not None and panel.detail.template == choice.id
        assert details == []  # no second read for the template highlighted first
        await pilot.press("down")  # another template: its own read
        await settle(pilot)
        after = panel.current()
        assert after is not None and details == [after.id]
        assert panel.detail is not None and panel.detail.template == after.id
