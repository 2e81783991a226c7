"""Giving a role to a person, and the rationale recorded with an answer."""

from __future__ import annotations

from collections.abc import Callable

from textual.widgets import Input, Select

from ir.tui import IrApp
from ir.tui.screens.incident import IncidentScreen
from ir.tui.screens.pick_text import PickTextScreen
from ir.workspace import Workspace

from .helpers import enter_text, open_in_app, open_incident, settle


async def test_o_gives_a_role_to_a_person(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        await pilot.press("o")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PickTextScreen) and dialog.heading == f"Roles of {incident}"
        await pilot.press("down", "enter")  # the privacy officer, second role of the playbook
        await settle(pilot)
        assert "Privacy officer" in str(dialog.query_one("#text-label").render())
        await pilot.press(*"bob", "enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        assert screen.view is not None and screen.view["roles"]["dpo"] == "bob"
    assert ws.incidents.get(incident).roles["dpo"] == "bob"
    [event] = ws.incidents.timeline(incident, kinds=["role.assigned"])
    assert (event.payload, event.actor) == ({"role": "dpo", "person": "bob"}, "alice")


async def test_the_commander_can_be_handed_over(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_in_app(pilot, incident)
        await pilot.press("o", "enter")  # commander, held by alice: the box starts with her name
        await settle(pilot)
        box = app.screen.query_one("#text", Input)
        assert box.value == "alice"
        box.value = "carol"
        await pilot.press("enter")
        await settle(pilot)
    state = ws.incidents.get(incident)
    assert state.roles["commander"] == "carol" and state.owner == "carol"


async def test_a_typed_answer_carries_its_rationale(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        field = screen.query_one("#decision-aware_at")
        assert not field.query(".why")  # the why box comes with the focus, not before
        field.query_one(".editor", Input).focus()
        await settle(pilot)
        why = field.query_one(".why", Input)
        why.focus()
        why.value = "reporter's e-mail at 09:00"
        await enter_text(pilot, field.query_one(".editor", Input), "now")
        await settle(pilot)
        assert why.value == ""  # on record with the answer
    [event] = ws.incidents.timeline(incident, kinds=["decision.answered"])
    assert event.payload["value"] == "2026-11-20T01:00:00Z"
    assert event.payload["rationale"] == "reporter's e-mail at 09:00"


async def test_a_picked_answer_carries_the_rationale_typed_first(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        field = screen.query_one("#decision-breach_confirmed")
        select = field.query_one(Select)
        select.focus()
        await settle(pilot)
        field.query_one(".why", Input).value = "customer names in the sample"
        select.focus()
        await pilot.press("enter", "down", "enter")  # yes
        await settle(pilot)
    [event] = ws.incidents.timeline(incident, kinds=["decision.answered"])
    assert (event.payload["value"], event.payload["rationale"]) == (True, "customer names in the sample")


async def test_enter_in_the_why_box_records_the_answer_being_typed(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = open_incident(ws)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_in_app(pilot, incident)
        field = screen.query_one("#decision-incident_summary")
        field.query_one(".editor", Input).focus()
        await pilot.press(*"names")
        field.query_one(".editor", Input).value = "names and phones"
        await settle(pilot)
        why = field.query_one(".why", Input)
        await enter_text(pilot, why, "from the sample file")
        await settle(pilot)
        # Enter again with the same answer on record: a note says a rationale needs a new answer.
        await enter_text(pilot, why, "more")
        await settle(pilot)
    events = ws.incidents.timeline(incident, kinds=["decision.answered"])
    assert [(e.payload["value"], e.payload.get("rationale")) for e in events] == [
        ("names and phones", "from the sample file")]
