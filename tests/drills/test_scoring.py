"""Scoring: expectations met, late or missed from the event log; P/S/M/U per objective; overall."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ir.clock import VirtualClock, format_fact_time, parse_instant
from ir.drills.runner import run_instant
from ir.engine.commands import NewEvent
from ir.workspace import Workspace
from tests.drills.helpers import DETECT_TASKS, MINI, at, write_scenario

H = 3600


def test_met_late_and_missed_are_weighted_into_ratings(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    at(ws, drill.id, 600).complete_task(drill.id, "record_report")  # by +00:30: met, weight 2
    at(ws, drill.id, 1.5 * H).answer(drill.id, "breach_confirmed", "yes")  # by +01:00: late, weight 1
    run_instant(ws.drills, drill.id)  # containment never reached: missed, weight 3

    score = ws.drills.score(drill.id)
    assert [(r.id, r.status) for r in score.expectations] == [("reported", "met"), ("confirmed", "late"), ("contained", "missed")]
    assert [(o.id, o.rating, o.score) for o in score.objectives] == [("triage", "S", 83.3), ("contain", "U", 0.0)]
    assert (score.overall, score.rating) == (41.7, "M")  # (2 + 0.5 + 0) / 6
    recorded = ws.incidents.timeline(drill.id, kinds=["drill.scored"])[0].payload
    assert recorded == score.payload()


def test_status_during_play_says_pending_or_overdue(ws: Workspace, clock: VirtualClock, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=60)
    clock.advance(dt.timedelta(seconds=45))  # +00:45
    got = {e["id"]: e["status"] for e in ws.drills.status(drill.id).expectations}
    assert got == {"reported": "overdue", "confirmed": "pending", "contained": "pending"}


def test_a_decision_expectation_can_require_a_stated_rationale(ws: Workspace) -> None:
    write_scenario(ws, MINI.replace("decision: breach_confirmed, equals: yes,", "decision: breach_confirmed, equals: yes, rationale: true,"))
    drill = ws.drills.start("mini", speed=None)
    at(ws, drill.id, 60).answer(drill.id, "breach_confirmed", "yes")
    at(ws, drill.id, 120).answer(drill.id, "breach_confirmed", "no")
    at(ws, drill.id, 180).answer(drill.id, "breach_confirmed", "yes", rationale="the listing shows names")
    result = ws.drills.score(drill.id).result("confirmed")
    assert (result.status, result.at) == ("met", 180)


OBLIGATION = MINI.replace(
    "expectations:\n",
    "expectations:\n"
    "  - {id: report_cac, objective: triage, title: Report to the regulator, obligation: test-rule, weight: 2}\n"
    "  - {id: notices, objective: contain, title: Render the notices, notice: individual-letter, count: 100}\n",
)


def _assess(ws: Workspace, incident_id: str, offset: float, due_offset: float | None) -> None:
    start = ws.drills.context(incident_id).clock_state.start
    due = None if due_offset is None else format_fact_time(start.__class__.fromtimestamp(start.timestamp() + due_offset, start.tzinfo))
    entry = {"rule": "test-rule", "due_at": due, "recipient": "regulator"}
    at(ws, incident_id, offset).record(incident_id, [NewEvent("obligations.assessed", {"obligations": [entry]})])


def _fulfil(ws: Workspace, incident_id: str, offset: float) -> None:
    start = ws.drills.context(incident_id).clock_state.start
    when = format_fact_time(start.__class__.fromtimestamp(start.timestamp() + offset, start.tzinfo))
    at(ws, incident_id, offset, "dpo-person").record(incident_id, [NewEvent("obligation.fulfilled", {"rule": "test-rule", "fulfilled_at": when})])


@pytest.mark.parametrize(
    ("fulfil_at", "status"),
    [(3 * H, "met"), (4.5 * H, "late"), (None, "missed")],
)
def test_an_obligation_counts_when_fulfilled_before_its_assessed_deadline(ws: Workspace, fulfil_at: float | None, status: str) -> None:
    write_scenario(ws, OBLIGATION)
    drill = ws.drills.start("mini", speed=None)
    if fulfil_at is not None:
        _fulfil(ws, drill.id, fulfil_at)
    # After the fulfilment: the obligations engine re-assesses when a duty is fulfilled, and
    # this test's rule is not in its rule book; the latest assessment is what counts.
    _assess(ws, drill.id, 5 * H, due_offset=4 * H)
    run_instant(ws.drills, drill.id)
    result = ws.drills.score(drill.id).result("report_cac")
    assert result.status == status
    assert result.by == 4 * H  # the deadline the obligations engine assessed
    assert ("due 2026-11-20T05:00:00Z" in result.detail) is True


def test_an_obligation_never_owed_is_missed_with_a_reason(ws: Workspace) -> None:
    write_scenario(ws, OBLIGATION)
    drill = ws.drills.start("mini", speed=None)
    run_instant(ws.drills, drill.id)
    result = ws.drills.score(drill.id).result("report_cac")
    assert result.status == "missed" and "never assessed as owed" in result.detail


def test_a_notice_expectation_needs_enough_notices_rendered(ws: Workspace) -> None:
    write_scenario(ws, OBLIGATION)
    drill = ws.drills.start("mini", speed=None)
    at(ws, drill.id, H).record(drill.id, [NewEvent("notices.rendered", {"template": "individual-letter", "count": 10, "format": "md", "manifest_sha256": "0" * 64})])
    at(ws, drill.id, 2 * H).record(drill.id, [NewEvent("notices.rendered", {"template": "individual-letter", "count": 120, "format": "md", "manifest_sha256": "1" * 64})])
    run_instant(ws.drills, drill.id)
    result = ws.drills.score(drill.id).result("notices")
    assert (result.status, result.at) == ("met", 2 * H)


def test_a_phase_reached_late_is_late_not_missed(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    for task in DETECT_TASKS:
        at(ws, drill.id, 3.5 * H).complete_task(drill.id, task)
    at(ws, drill.id, 3.5 * H).answer(drill.id, "aware_at", "now")
    at(ws, drill.id, 3.5 * H).answer(drill.id, "breach_confirmed", "yes")
    at(ws, drill.id, 3.6 * H).fire(drill.id, "start_containment")
    run_instant(ws.drills, drill.id)
    result = ws.drills.score(drill.id).result("contained")
    assert (result.status, result.at, result.by) == ("late", 3.6 * H, 3 * H)


def test_waived_obligation_is_not_fulfilled(ws: Workspace) -> None:
    write_scenario(ws, OBLIGATION)
    drill = ws.drills.start("mini", speed=None)
    _assess(ws, drill.id, 600, due_offset=4 * H)
    at(ws, drill.id, H).record(drill.id, [NewEvent("obligation.waived", {"rule": "test-rule", "reason": "encrypted, key safe"})])
    run_instant(ws.drills, drill.id)
    result = ws.drills.score(drill.id).result("report_cac")
    assert (result.status, result.detail) == ("missed", "waived: encrypted, key safe")


REAL_RULE = MINI.replace(
    "expectations:\n",
    "expectations:\n  - {id: report_cac, objective: triage, title: Report to the CAC in time, obligation: cn-cac-report, weight: 2}\n",
)


@pytest.mark.parametrize("late", [False, True])
def test_obligation_expectation_with_the_real_obligations_engine(ws: Workspace, late: bool) -> None:
    write_scenario(ws, REAL_RULE)
    drill = ws.drills.start("mini", speed=None)
    at(ws, drill.id, 600).answer(drill.id, "aware_at", "now")
    at(ws, drill.id, 700).answer(drill.id, "breach_confirmed", "yes")
    at(ws, drill.id, 800).answer(drill.id, "subjects", "CN=1200000")
    owed = ws.incidents.timeline(drill.id, kinds=["obligations.assessed"])[-1].payload["obligations"]
    due = next(o["due_at"] for o in owed if o["rule"] == "cn-cac-report")
    start = ws.drills.context(drill.id).clock_state.start
    due_offset = (parse_instant(due) - start).total_seconds()
    when = due_offset + (600 if late else -600)
    with ws.drills.stepping(drill.id, VirtualClock(start + dt.timedelta(seconds=when))):
        ws.obligations.fulfil(drill.id, "cn-cac-report")
    run_instant(ws.drills, drill.id)

    result = ws.drills.score(drill.id).result("report_cac")
    assert (result.status, result.by, result.at) == ("late" if late else "met", due_offset, when)
