"""Steps out of a phase from the app: blocked ones say why, allowed ones ask first, closing warns."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from ir.tui import IrApp
from ir.tui.messages import ActionFailed
from ir.tui.screens.confirm import ConfirmScreen
from ir.tui.screens.dashboard import DashboardScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.widgets.incident_table import IncidentTable
from ir.tui.widgets.task_list import TaskList
from ir.tui.widgets.transition_list import TransitionList
from ir.workspace import Workspace

from .helpers import open_in_app, open_incident, ready_to_contain, settle, to_postmortem_ready


async def _open_on_steps(pilot: Pilot[None], incident_id: str) -> IncidentScreen:
    screen = await open_in_app(pilot, incident_id)
    screen.query_one(TransitionList).focus()
    await pilot.pause()
    return screen


async def test_a_blocked_step_is_refused_with_every_reason(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    ws.incidents.complete_task(incident, "record_report")
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        screen = await _open_on_steps(pilot, incident)
        shown = screen.query_one(TransitionList).triggers["start_containment"]
        assert not shown["allowed"]
        assert "task 'open_bridge' (Open a secure incident bridge) is not done" in shown["blocked_by"]
        assert "decision 'aware_at' is not answered" in shown["blocked_by"]
        await pilot.press("enter")
        await settle(pilot)
        # No confirmation for a step that cannot be taken: the service's refusal is shown.
        assert isinstance(app.screen, IncidentScreen)
        failures = [m for m in messages if isinstance(m, ActionFailed)]
        assert [f.kind for f in failures] == ["Refused"]
        assert "open_bridge" in failures[0].message and "aware_at" in failures[0].message
    assert ws.incidents.get(incident).phase == "detect"


async def test_an_allowed_step_asks_then_moves_with_the_reason(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    ready_to_contain(ws, incident)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _open_on_steps(pilot, incident)
        assert screen.query_one(TransitionList).triggers["start_containment"]["allowed"]
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen) and not app.screen.danger
        await pilot.press(*"ACL open", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert screen.view is not None and screen.view["phase"] == "contain"
        # The work pane now shows the contain phase's checklist.
        assert "stop_exposure" in screen.query_one("#tasks", TaskList).tasks
    changed = ws.incidents.timeline(incident, kinds=["phase.changed"])
    assert [(e.payload["to"], e.payload.get("reason")) for e in changed] == [("contain", "ACL open")]
    assert ws.incidents.get(incident).phase == "contain"


async def test_cancelling_the_confirmation_changes_nothing(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    ready_to_contain(ws, incident)
    before = ws.incidents.get(incident).seq
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_on_steps(pilot, incident)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    state = ws.incidents.get(incident)
    assert state.phase == "detect" and state.seq == before


async def test_closing_warns_it_cannot_be_undone_then_closes(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    to_postmortem_ready(ws, incident)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await _open_on_steps(pilot, incident)
        await pilot.press("enter")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.danger
        assert "cannot be reopened" in dialog.body
        # The irreversible dialog starts on the reason box; Enter there confirms.
        assert isinstance(dialog.focused, Input)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.view is not None and screen.view["final"]
        await pilot.press("escape")
        await settle(pilot)
        # The dashboard lists open incidents only, until closed ones are asked for.
        assert isinstance(app.screen, DashboardScreen)
        live = app.screen.query_one("#live", IncidentTable)
        assert [r.id for r in live.rows_shown] == []
        await pilot.press("c")
        await settle(pilot)
        assert [r.id for r in live.rows_shown] == [incident]
    state = ws.incidents.get(incident)
    assert state.final and state.phase == "closed"
