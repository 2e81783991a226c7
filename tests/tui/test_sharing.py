"""Several people on one workspace: changes show up in every app, stale steps are refused,
nothing is lost on restart, and a failing workspace leaves the app running."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ir.tui import IrApp
from ir.tui.messages import ActionFailed
from ir.tui.screens.confirm import ConfirmScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.widgets.incident_table import IncidentTable
from ir.tui.widgets.task_list import TaskList
from ir.tui.widgets.transition_list import TransitionList
from ir.workspace import Workspace

from .helpers import open_in_app, open_incident, ready_to_contain, settle, wait_until


async def test_two_apps_see_each_others_changes_within_two_seconds(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    alice, bob = app_factory(actor="alice"), app_factory(actor="bob")
    async with alice.run_test(size=(80, 24)) as pa, bob.run_test(size=(80, 24)) as pb:
        alice_view = await open_in_app(pa, incident)
        await settle(pb)
        bob_list = bob.screen.query_one("#live", IncidentTable)
        assert [r.phase for r in bob_list.rows_shown] == ["detect"]

        await pa.press("space")  # alice ticks the first task
        await settle(pa)
        bob_rows = await open_in_app(pb, incident)
        assert bob_rows.query_one(TaskList).tasks["record_report"]["done_by"] == "alice"

        await pb.press("down", "space")  # bob ticks the second; alice's screen follows
        await settle(pb)
        took = await wait_until(pa, lambda: alice_view.query_one(TaskList).tasks["open_bridge"]["done"])
        assert took < 2.0
        assert alice_view.query_one(TaskList).tasks["open_bridge"]["done_by"] == "bob"


async def test_a_step_from_a_stale_screen_is_refused_not_taken_twice(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    ready_to_contain(ws, incident)
    messages: list[object] = []
    # Alice's app does not look for changes during the test: her screen goes stale.
    alice = app_factory(actor="alice", poll_seconds=3600)
    bob = app_factory(actor="bob")
    async with alice.run_test(size=(80, 24), message_hook=messages.append) as pa, bob.run_test(size=(80, 24)) as pb:
        alice_view = await open_in_app(pa, incident)
        bob_view = await open_in_app(pb, incident)
        for pilot, view in ((pb, bob_view), (pa, alice_view)):
            view.query_one(TransitionList).focus()
            await pilot.pause()
        await pb.press("enter")
        await settle(pb)
        assert isinstance(bob.screen, ConfirmScreen)
        await pb.press("enter")
        await settle(pb)
        assert ws.incidents.get(incident).phase == "contain"

        # Alice still sees detect, and takes the same step.
        assert alice_view.view is not None and alice_view.view["phase"] == "detect"
        await pa.press("enter")
        await settle(pa)
        assert isinstance(alice.screen, ConfirmScreen)
        await pa.press("enter")
        await settle(pa)
        failures = [m for m in messages if isinstance(m, ActionFailed)]
        assert [f.kind for f in failures] == ["StaleView"]
        assert "now in phase 'contain'" in failures[0].message
        # After the refusal her screen shows what is true now.
        assert alice_view.view is not None and alice_view.view["phase"] == "contain"
    assert [e.payload["to"] for e in ws.incidents.timeline(incident, kinds=["phase.changed"])] == ["contain"]


async def test_a_command_line_change_shows_up_in_the_app(
    ws: Workspace, app_factory: Callable[..., IrApp], ir: Any
) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        ir.ok("incident", "done", incident, "inform_dpo", actor="carol")
        await wait_until(pilot, lambda: screen.query_one(TaskList).tasks["inform_dpo"]["done"])
        assert screen.query_one(TaskList).tasks["inform_dpo"]["done_by"] == "carol"


async def test_reopening_the_app_returns_to_the_same_state(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    first = app_factory()
    async with first.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("space", "down", "space")
        await settle(pilot)
        shown = screen.view
    second = app_factory()
    async with second.run_test(size=(80, 24)) as pilot:
        again = await open_in_app(pilot, incident)
        assert again.view == shown
        assert [t for t, v in again.query_one(TaskList).tasks.items() if v["done"]] == ["record_report", "open_bridge"]


async def test_a_workspace_gone_missing_is_reported_and_the_app_keeps_running(
    ws: Workspace, app_factory: Callable[..., IrApp], db_path: Path
) -> None:
    incident = open_incident(ws)
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await open_in_app(pilot, incident)
        moved = db_path.with_name("moved.db")
        os.rename(db_path, moved)
        try:
            await pilot.press("space")
            await settle(pilot)
        finally:
            os.rename(moved, db_path)
        failures = [m for m in messages if isinstance(m, ActionFailed)]
        assert [(f.what, f.kind) for f in failures] == [("mark the task done", "WorkspaceError")]
        assert "no workspace" in failures[0].message
        assert app.is_running and isinstance(app.screen, IncidentScreen)
        # With the workspace back, the same key works.
        await pilot.press("space")
        await settle(pilot)
    assert ws.incidents.get(incident).task_done("record_report")
    assert [e.kind for e in ws.incidents.timeline(incident)] == ["incident.opened", "task.done"]
