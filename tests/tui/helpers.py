"""Helpers for the app's tests: settling the app, waiting on other processes, seeding incidents."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.pilot import Pilot
from textual.widgets import Input, TextArea
from textual.worker import Worker

from ir.tui.screens.incident import IncidentScreen
from ir.workspace import Workspace

DETECT_TASKS = ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo")
CONTAIN_TASKS = ("stop_exposure", "isolate_systems", "rotate_credentials", "secure_evidence", "legal_hold")


CONTROLLER = "drill-control"
"""The worker group of an open drill's exercise controller, which runs as long as the view is open."""


def _finite(app: App[None]) -> list[Worker[Any]]:
    return [w for w in app.workers if w.group != CONTROLLER]


async def settle(pilot: Pilot[None], rounds: int = 6) -> None:
    """Let commands, their refreshes and the loads they start run to the end (no sleeping)."""
    app = pilot.app
    for _ in range(rounds):
        finite = _finite(app)
        if finite:  # an empty list would mean every worker, the controller included
            await app.workers.wait_for_complete(finite)
        await pilot.pause()
        if not any(w.is_running for w in _finite(app)):
            await pilot.pause()
            if not any(w.is_running for w in _finite(app)):
                return


async def wait_until(pilot: Pilot[None], condition: Callable[[], bool], timeout: float = 2.0) -> float:
    """Wait (in real time, for the poll of another process's changes) until ``condition`` holds.

    Returns:
        the seconds it took.

    Raises:
        AssertionError: it did not hold within ``timeout`` seconds.
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not condition():
        if loop.time() - start > timeout:
            raise AssertionError(f"not within {timeout}s")
        await pilot.pause(0.05)
        await settle(pilot, rounds=2)
    return loop.time() - start


async def open_in_app(pilot: Pilot[None], incident_id: str) -> IncidentScreen:
    """From the dashboard, open the incident under the cursor (the first) and check it is ``incident_id``."""
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, IncidentScreen) and screen.incident_id == incident_id
    return screen


def no_blink(app: App[None]) -> None:
    """Stop text cursors blinking so screenshots are stable."""
    for widget in app.screen.query(Input):
        widget.cursor_blink = False
    for area in app.screen.query(TextArea):
        area.cursor_blink = False


def open_incident(ws: Workspace, title: str = "Customer table exposed in a public bucket", **kwargs: Any) -> str:
    """Declare an incident through the service and return its id."""
    return ws.incidents.open("personal-data-leak", title=title, **kwargs).id


def ready_to_contain(ws: Workspace, incident_id: str) -> None:
    """Do everything the detect phase asks, so start_containment is allowed."""
    for task in DETECT_TASKS:
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.answer(incident_id, "aware_at", "2026-11-20T09:00+08:00")
    ws.incidents.answer(incident_id, "breach_confirmed", "yes")


def to_investigate(ws: Workspace, incident_id: str) -> None:
    """Move an incident through detect and contain into investigate."""
    ready_to_contain(ws, incident_id)
    ws.incidents.fire(incident_id, "start_containment")
    for task in CONTAIN_TASKS:
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.answer(incident_id, "containment_effective", "yes")
    ws.incidents.fire(incident_id, "start_investigation")


def to_postmortem_ready(ws: Workspace, incident_id: str) -> None:
    """Walk an incident along the no-notification path to a post-mortem ready to close."""
    to_investigate(ws, incident_id)
    for task in ("identify_data", "identify_subjects", "check_encryption", "find_root_cause"):
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.answer(incident_id, "data_categories", "name,contact")
    ws.incidents.answer(incident_id, "subjects", "CN=120")
    ws.incidents.answer(incident_id, "affected_count", "120")
    ws.incidents.answer(incident_id, "encrypted", "yes")
    ws.incidents.fire(incident_id, "assess_duty")
    for task in ("review_obligations", "assess_risk", "legal_review", "record_decision"):
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.answer(incident_id, "risk_unlikely", "yes")
    ws.incidents.answer(incident_id, "high_risk", "no")
    ws.incidents.answer(incident_id, "notification_required", "no")
    ws.incidents.answer(incident_id, "no_notification_reason", "encrypted with the key kept apart")
    ws.incidents.fire(incident_id, "no_notification")
    for task in ("remove_cause", "restore_service"):
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.fire(incident_id, "start_postmortem")
    for task in ("hold_review", "write_report", "assign_actions"):
        ws.incidents.complete_task(incident_id, task)
    ws.incidents.answer(incident_id, "lessons_learned", "review bucket policies weekly")
    ws.incidents.answer(incident_id, "corrective_actions", "policy scanner, owner bob, 2026-12-31")


async def open_drill_in_app(pilot: Pilot[None], incident_id: str) -> IncidentScreen:
    """From the dashboard, open the first drill listed and check it is ``incident_id``."""
    await settle(pilot)
    pilot.app.screen.query_one("#drills").focus()
    await pilot.press("enter")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, IncidentScreen) and screen.incident_id == incident_id
    return screen


async def enter_text(pilot: Pilot[None], box: Input, text: str) -> None:
    """Put ``text`` in ``box`` as typing would leave it, then press Enter (one key, not one per
    character: a typed key costs a Pilot round trip, and the tests are about what Enter does)."""
    box.focus()
    box.value = text
    box.cursor_position = len(text)
    await pilot.press("enter")
