"""The incident view's work pane: tasks, assignments, guidance and decisions of every kind."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, Select, SelectionList

from ir.tui import IrApp
from ir.tui.messages import ActionFailed, Committed
from ir.tui.screens.assign import AssignScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.screens.text import TextScreen
from ir.tui.widgets.task_list import TaskList
from ir.workspace import Workspace
from .helpers import enter_text, open_in_app, open_incident, settle, to_investigate


async def test_space_marks_the_highlighted_task_done_and_again_undoes_it(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        screen = await open_in_app(pilot, incident)
        assert screen.focused is screen.query_one(TaskList)
        await pilot.press("down", "space")
        await settle(pilot)
        assert ws.incidents.get(incident).task_done("open_bridge")
        assert ws.incidents.get(incident).tasks["open_bridge"].done_by == "alice"
        assert any(isinstance(m, Committed) and m.incident_id == incident for m in messages)
        # The checklist shows it, and the highlight stays on the task.
        tasks = screen.query_one(TaskList)
        assert tasks.tasks["open_bridge"]["done"] and tasks.current_task() == "open_bridge"

        await pilot.press("space")
        await settle(pilot)
        assert not ws.incidents.get(incident).task_done("open_bridge")
    kinds = [e.kind for e in ws.incidents.timeline(incident)]
    assert kinds == ["incident.opened", "task.done", "task.reopened"]


async def test_clicking_a_task_ticks_it(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_in_app(pilot, incident)
        await pilot.click(TaskList, offset=(2, 0))
        await settle(pilot)
    assert ws.incidents.get(incident).task_done("record_report")


async def test_assign_gives_the_task_to_the_person_typed(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_in_app(pilot, incident)
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, AssignScreen)
        await pilot.press(*"bob", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    assert ws.incidents.get(incident).tasks["record_report"].assignee == "bob"


async def test_assign_to_a_role_from_the_list(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_in_app(pilot, incident)
        await pilot.press("a")
        await settle(pilot)
        # Tab to the role list; the second role of the playbook is the privacy officer.
        await pilot.press("tab", "down", "enter")
        await settle(pilot)
    assert ws.incidents.get(incident).tasks["record_report"].assignee == "dpo"


async def test_guidance_opens_over_the_incident_and_closes(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_in_app(pilot, incident)
        await pilot.press("g")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        assert "original message or screenshot" in app.screen.body
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)


async def test_typed_decisions_save_on_enter_and_accept_now(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        screen.query_one("#decision-aware_at Input", Input).focus()
        await pilot.press(*"now", "enter")
        screen.query_one("#decision-incident_summary Input", Input).focus()
        await pilot.press(*"names leaked", "enter")
        await settle(pilot)
        facts = ws.incidents.get(incident).facts
        # 'now' is the incident's clock: the virtual clock of the test.
        assert facts["aware_at"] == "2026-11-20T01:00:00Z"
        assert facts["incident_summary"] == "names leaked"
        # The field now shows the stored form, and is no longer marked as being edited.
        field = screen.query_one("#decision-aware_at Input", Input)
        assert field.value == "2026-11-20T01:00:00Z" and not field.has_class("-dirty")


async def test_yes_no_decision_is_recorded_when_picked(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        select = screen.query_one("#decision-breach_confirmed Select", Select)
        select.focus()
        await pilot.press("enter")  # open the list: blank, yes, no
        await pilot.press("down", "enter")
        await settle(pilot)
        assert ws.incidents.get(incident).facts["breach_confirmed"] is True
        assert select.value is True


async def test_every_kind_of_decision_in_investigate(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    to_investigate(ws, incident)
    app = app_factory()
    async with app.run_test(size=(100, 60)) as pilot:
        screen = await open_in_app(pilot, incident)
        for decision, text in (("affected_count", "1,540"), ("subjects", "CN=1500, DE=40"),
                               ("root_cause", "open ACL"), ("occurred_at", "2026-11-19T22:10Z")):
            await enter_text(pilot, screen.query_one(f"#decision-{decision} Input", Input), text)
            await settle(pilot)
        picker = screen.query_one("#decision-data_categories SelectionList", SelectionList)
        picker.focus()
        await pilot.press("space", "down", "space")  # name, contact
        await pilot.click("#decision-data_categories Button")
        await settle(pilot)
        encrypted = screen.query_one("#decision-encrypted Select", Select)
        encrypted.focus()
        await pilot.press("enter", "down", "down", "enter")  # no
        await settle(pilot)
        facts = ws.incidents.get(incident).facts
        assert facts["affected_count"] == 1540
        assert facts["subjects"] == {"CN": 1500, "DE": 40}
        assert facts["root_cause"] == "open ACL"
        assert facts["occurred_at"] == "2026-11-19T22:10:00Z"
        assert facts["data_categories"] == ["contact", "name"]
        assert facts["encrypted"] is False
        # Counts come back in a form the field accepts again (no thousands separators).
        assert screen.query_one("#decision-subjects Input", Input).value == "CN=1500, DE=40"
        # With every scoping answer and task missing only tasks, the step says so.
        assert screen.view is not None
        step = next(t for t in screen.view["triggers"] if t["name"] == "assess_duty")
        assert all("task" in reason for reason in step["blocked_by"])


async def test_a_bad_answer_is_refused_and_the_typed_text_kept(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    to_investigate(ws, incident)
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(100, 60), message_hook=messages.append) as pilot:
        screen = await open_in_app(pilot, incident)
        field = screen.query_one("#decision-affected_count Input", Input)
        field.focus()
        await pilot.press(*"lots", "enter")
        await settle(pilot)
        failures = [m for m in messages if isinstance(m, ActionFailed)]
        assert [f.kind for f in failures] == ["InvalidInput"]
        assert "affected_count" in failures[0].message and "whole number" in failures[0].message
        assert field.value == "lots" and field.has_class("-dirty")
        assert app.is_running
    assert "affected_count" not in ws.incidents.get(incident).facts


async def test_a_refresh_does_not_overwrite_an_answer_being_typed(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        field = screen.query_one("#decision-incident_summary Input", Input)
        field.focus()
        await pilot.press(*"half")
        # Someone else changes the incident meanwhile; the screen refreshes.
        ws.incidents.complete_task(incident, "inform_dpo")
        screen.reload()
        await settle(pilot)
        assert screen.query_one(TaskList).tasks["inform_dpo"]["done"]
        assert field.value == "half"
