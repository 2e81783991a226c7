"""Drills in the app: starting one, the facilitator's pane, injects arriving on their own."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input, OptionList

from ir.clock import VirtualClock
from ir.tui import IrApp
from ir.tui.messages import ActionFailed
from ir.tui.screens.confirm import ConfirmScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.screens.pick_text import PickTextScreen
from ir.tui.screens.scenarios import ScenariosScreen
from ir.tui.widgets.drill_panel import DrillPanel
from ir.workspace import Workspace

from .helpers import enter_text, open_drill_in_app, settle, wait_until

SCENARIO = "open-bucket-reporter"


def _delivered(ws: Workspace, incident: str) -> list[str]:
    return [e.payload["inject"] for e in ws.incidents.timeline(incident, kinds=["inject.delivered"])]


async def _drill_pane(pilot: Pilot[None], incident: str) -> tuple[IncidentScreen, DrillPanel]:
    screen = await open_drill_in_app(pilot, incident)
    await pilot.press("6")
    await settle(pilot)
    panel = screen.query_one(DrillPanel)
    assert screen.active == "drill" and panel.snapshot is not None
    return screen, panel


async def test_the_welcome_starts_a_sample_drill_and_opens_it(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#sample-drill")
        await settle(pilot)
        [drill] = ws.drills.list()
        assert (drill["scenario_id"], drill["speed"], drill["status"]) == (SCENARIO, 60.0, "running")
        screen = app.screen
        assert isinstance(screen, IncidentScreen) and screen.incident_id == drill["incident_id"]
        assert screen.query_one("#exercise-banner").display
        assert "EXERCISE" in str(screen.query_one("#incident-bar").render())
        assert [s.id for s in screen._specs()][-1] == "drill"
        # The view is the exercise controller: the first inject (due at STARTEX) arrives by itself.
        await wait_until(pilot, lambda: _delivered(ws, drill["incident_id"]) == ["i01"])


async def test_pause_resume_speed_skip_and_end_from_the_drill_pane(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    incident = ws.drills.start(SCENARIO, speed=60).id
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        _, panel = await _drill_pane(pilot, incident)
        await pilot.press("p")
        await settle(pilot)
        assert ws.drills.status(incident).state == "paused"
        assert "PAUSED" in str(panel.query_one("#drill-status").render())
        await pilot.press("p")
        await settle(pilot)
        assert ws.drills.status(incident).state == "running"

        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.query_one("#reason", Input).value == "60"
        dialog.query_one("#reason", Input).value = "120"
        await pilot.press("enter")
        await settle(pilot)
        assert ws.drills.status(incident).speed == 120.0

        await pilot.press("greater_than_sign")
        await settle(pilot)
        status = ws.drills.status(incident)
        assert [e.payload["to"] for e in ws.incidents.timeline(incident, kinds=["drill.advanced"])] == ["+00:20"]
        # Whether the controller or the skip delivered i01 (due at STARTEX), each arrives once.
        assert _delivered(ws, incident) == ["i01", "i02"]
        assert panel.snapshot is not None
        assert [f["inject"] for f in panel.snapshot.status.feed] == _delivered(ws, incident)
        assert status.offset >= 20 * 60

        await pilot.press("e")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and dialog.danger
        assert dialog.heading.startswith("EXERCISE · End")
        await pilot.press("enter")
        await settle(pilot)
        status = ws.drills.status(incident)
        assert status.state == "ended" and status.ended_reason == "ENDEX called by the facilitator"
        assert status.score is not None
        assert "ENDED" in str(panel.query_one("#drill-status").render())


async def test_injects_appear_in_the_feed_when_their_time_comes(
    ws: Workspace, app_factory: Callable[..., IrApp], clock: VirtualClock
) -> None:
    incident = ws.drills.start(SCENARIO, speed=60).id
    app = app_factory(control_seconds=0.05)
    async with app.run_test(size=(80, 24)) as pilot:
        _, panel = await _drill_pane(pilot, incident)

        def feed() -> list[str]:
            return [f["inject"] for f in panel.snapshot.status.feed] if panel.snapshot else []

        await wait_until(pilot, lambda: feed() == ["i01"])
        # Nothing else is due yet: the clock stands still.
        await pilot.pause(0.2)
        assert _delivered(ws, incident) == ["i01"]
        # Twenty wall seconds at 60x is twenty scenario minutes: i02 falls due.
        clock.advance(dt.timedelta(seconds=20))
        await wait_until(pilot, lambda: feed() == ["i01", "i02"])
        assert "Bucket cust-exports-prod" in str(panel.query_one("#drill-feed").render())
    # Delivered once each, whatever the number of turns the controller took.
    assert _delivered(ws, incident) == ["i01", "i02"]


async def test_hot_wash_notes_and_discussion_answers(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    incident = ws.drills.start(SCENARIO, speed=60).id
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        _, panel = await _drill_pane(pilot, incident)
        await pilot.press("h")
        assert app.screen.focused is panel.query_one("#hotwash")
        await enter_text(pilot, panel.query_one("#hotwash", Input), "Bridge opened fast")
        await settle(pilot)
        assert panel.query_one("#hotwash", Input).value == ""

        await pilot.press("shift+tab")  # out of the note box, back to the drill
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, PickTextScreen) and dialog.heading.startswith("EXERCISE ·")
        assert dialog.query_one("#choices", OptionList).option_count == 6
        await pilot.press("down", "enter")  # m1_q2: what do we tell the reporter
        await enter_text(pilot, dialog.query_one("#text", Input), "Holding statement only")
        await settle(pilot)
        assert panel.snapshot is not None
        assert [q.answers for q in panel.snapshot.questions if q.id == "m1_q2"] == [("Holding statement only",)]
    [note] = ws.incidents.timeline(incident, kinds=["hotwash.note"])
    [answer] = ws.incidents.timeline(incident, kinds=["discussion.answered"])
    assert (note.payload["text"], note.actor) == ("Bridge opened fast", "alice")
    assert (answer.payload["question"], answer.payload["answer"]) == ("m1_q2", "Holding statement only")


async def test_any_scenario_starts_from_the_dashboard(ws: Workspace, app_factory: Callable[..., IrApp]) -> None:
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, ScenariosScreen)
        listed = dialog.query_one("#scenarios", OptionList)
        good, _bad = ws.drills.scenarios.all()
        assert [listed.get_option_at_index(i).id for i in range(listed.option_count)] == [s.id for s in good]
        dialog.query_one("#speed", Input).value = "600"
        listed.focus()
        index = [s.id for s in good].index("lost-laptop-unencrypted")
        listed.highlighted = index
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    [drill] = ws.drills.list()
    assert (drill["scenario_id"], drill["speed"]) == ("lost-laptop-unencrypted", 600.0)


async def test_a_refused_control_is_said_and_the_app_carries_on(
    ws: Workspace, app_factory: Callable[..., IrApp]
) -> None:
    # A stepped drill's time moves only with its runner: pausing it is refused.
    incident = ws.drills.start(SCENARIO, speed=None).id
    messages: list[object] = []
    app = app_factory()
    async with app.run_test(size=(80, 24), message_hook=messages.append) as pilot:
        await _drill_pane(pilot, incident)
        await pilot.press("p")
        await settle(pilot)
        failures = [m for m in messages if isinstance(m, ActionFailed)]
        assert [(f.what, f.kind) for f in failures] == [("pause the drill", "Refused")]
        assert "stepped drill" in failures[0].message
        assert app.is_running and isinstance(app.screen, IncidentScreen)
    assert ws.drills.status(incident).state == "running"
