"""The dashboard (lists, drills apart, filters) and declaring an incident from the app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.widgets import Button, Markdown, Select, TextArea

from ir.clock import VirtualClock
from ir.tui import IrApp
from ir.tui.messages import ActionFailed
from ir.tui.screens.dashboard import DashboardScreen
from ir.tui.screens.declare import DeclareScreen
from ir.tui.screens.help import HelpScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.widgets.incident_table import DEADLINE_STYLE, IncidentTable
from ir.workspace import Workspace

from .helpers import open_incident, settle


def _ids(app: IrApp, table: str) -> list[str]:
    return [r.id for r in app.screen.query_one(f"#{table}", IncidentTable).rows_shown]


async def test_an_empty_workspace_greets_and_declares(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        welcome = app.screen.query_one("#welcome")
        assert welcome.display and not app.screen.query_one("#live").display
        assert app.screen.focused is app.screen.query_one("#declare", Button)
        await pilot.press("enter")
        await settle(pilot)
        form = app.screen
        assert isinstance(form, DeclareScreen)
        # The only shipped playbook is chosen already; the cursor is in the title.
        assert form.query_one("#playbook", Select).value == "personal-data-leak"
        await pilot.press(*"Bucket open")
        form.query_one("#severity", Select).focus()
        await pilot.press("enter", "down", "enter")  # medium -> high
        form.query_one("#facts", TextArea).focus()
        await pilot.press(*"breach_confirmed=yes")
        await pilot.press("ctrl+s")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen)
    [state] = ws.incidents.list()
    assert (state.title, state.severity, state.facts["breach_confirmed"]) == ("Bucket open", "high", True)
    assert screen.incident_id == state.id and state.owner == "alice"


async def test_a_refused_declaration_keeps_the_form(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press(*"Leak")
        app.screen.query_one("#facts", TextArea).focus()
        await pilot.press(*"aware_at=soon", "ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, DeclareScreen)
        failures = [m for m in messages if isinstance(m, ActionFailed)]
        assert [f.kind for f in failures] == ["InvalidInput"] and "aware_at" in failures[0].message
        assert app.screen.query_one("#facts", TextArea).text == "aware_at=soon"
        # Fixing the value and declaring again works: the form was not left half-used.
        app.screen.query_one("#facts", TextArea).text = "aware_at=now"
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    assert [s.title for s in ws.incidents.list()] == ["Leak"]


async def test_drills_are_listed_apart_and_marked_exercise(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    live = open_incident(ws, "Real leak")
    drill = open_incident(ws, "Tabletop", mode="drill")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert _ids(app, "live") == [live] and _ids(app, "drills") == [drill]
        drills = app.screen.query_one("#drills", IncidentTable)
        assert "EXERCISE" in drills.cells(drills.rows_shown[0])[0].plain
        assert "EXERCISE" in str(app.screen.query_one("#drill-title").render())
        drills.focus()
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.incident_id == drill
        assert screen.query_one("#exercise-banner").display
        assert "EXERCISE" in str(screen.query_one("#incident-bar").render())


async def test_search_and_severity_filter_the_list(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    bucket = open_incident(ws, "Bucket exposed", severity="high")
    laptop = open_incident(ws, "Stolen laptop", severity="low")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        # Most severe first when there are no deadlines.
        assert _ids(app, "live") == [bucket, laptop]
        await pilot.press("slash", *"laptop")
        await settle(pilot)
        assert _ids(app, "live") == [laptop]
        await pilot.press("escape")
        await settle(pilot)
        assert _ids(app, "live") == [bucket, laptop]
        app.screen.query_one("#severity", Select).focus()
        await pilot.press("enter", "down", "down", "down", "enter")  # high
        await settle(pilot)
        assert _ids(app, "live") == [bucket]


async def test_no_deadline_shows_a_dash_and_ages_come_from_the_clock(
    ws: Workspace, app_factory: Callable[..., IrApp], clock: VirtualClock
) -> None:

    incident = open_incident(ws)
    clock.advance(dt.timedelta(hours=26, minutes=5))
    app = app_factory()
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#live", IncidentTable)
        cells = table.cells(table.rows_shown[0])
        assert cells[0].plain == incident and cells[4].plain == "—"
        assert cells[6].plain == "1d 2h 5m"


async def test_help_and_the_command_palette(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    open_incident(ws, "Bucket exposed")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        assert "Declare" in app.screen.query_one("#help-text", Markdown).source
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        await pilot.press("ctrl+p")
        await settle(pilot)
        await pilot.press(*"Open INC", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)


async def test_the_next_deadline_counts_down_and_overdue_stands_out(
    ws: Workspace, app_factory: Callable[..., IrApp], clock: VirtualClock
) -> None:

    from ir.tui.widgets.incident_table import DEADLINE_STYLE

    facts = {"aware_at": "now", "breach_confirmed": "yes", "subjects": "CN=1500", "affected_count": "1500"}
    incident = open_incident(ws, facts=facts)
    due = ws.obligations.next_deadline(incident)
    assert due is not None
    app = app_factory()
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#live", IncidentTable)
        cell = table.cells(table.rows_shown[0])[4]
        hours = due.remaining_seconds // 3600
        assert cell.plain == f"{hours}h 0m" and str(cell.style) == DEADLINE_STYLE["soon"]
        clock.advance(dt.timedelta(seconds=due.remaining_seconds + 3600))
        await pilot.press("r")
        await settle(pilot)
        cell = table.cells(table.rows_shown[0])[4]
        assert cell.plain == "OVERDUE 1h 0m" and str(cell.style) == DEADLINE_STYLE["overdue"]
