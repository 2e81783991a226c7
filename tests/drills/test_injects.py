"""Injects on a drill: due times, branches on what the team did, contingencies, waiting, ENDEX."""

from __future__ import annotations

from pathlib import Path

from ir.drills.runner import run_instant
from ir.workspace import Workspace
from tests.drills.helpers import DETECT_TASKS, MINI, at, offsets, states, terminal_events, write_scenario

H = 3600


def test_nobody_acting_gets_the_contingencies_and_every_inject_ends_once(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    run_instant(ws.drills, drill.id)

    assert states(ws, drill.id) == {
        "first": "delivered", "ticket": "delivered", "nudge": "delivered", "closed_news": "skipped",
        "open_news": "delivered", "after_contain": "expired", "last": "delivered",
    }
    assert all(len(kinds) == 1 for kinds in terminal_events(ws, drill.id).values())
    assert offsets(ws, drill.id, "inject.delivered") == [
        ("first", 0), ("ticket", H), ("nudge", 1.5 * H), ("open_news", 2 * H), ("last", 5 * H)
    ]
    assert offsets(ws, drill.id, "inject.expired") == [("after_contain", 4 * H)]
    skipped = ws.incidents.timeline(drill.id, kinds=["inject.skipped"])[0].payload
    assert skipped["inject"] == "closed_news" and "task stop_exposure done" in skipped["reason"]


def test_a_team_that_acts_takes_the_other_branches(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    ws.drills.advance_to(drill.id, 0)
    for n, task in enumerate(DETECT_TASKS):
        at(ws, drill.id, 600 + n * 60).complete_task(drill.id, task)
    at(ws, drill.id, 2400).answer(drill.id, "aware_at", "now")
    at(ws, drill.id, 2500).answer(drill.id, "breach_confirmed", "yes", rationale="listing")
    at(ws, drill.id, 3000).fire(drill.id, "start_containment")
    ws.drills.advance_to(drill.id, 3000)
    at(ws, drill.id, 4200).complete_task(drill.id, "stop_exposure")
    run_instant(ws.drills, drill.id)

    assert states(ws, drill.id) == {
        "first": "delivered", "ticket": "delivered", "nudge": "skipped", "closed_news": "delivered",
        "open_news": "skipped", "after_contain": "delivered", "last": "delivered",
    }
    assert ("after_contain", 2 * H) in offsets(ws, drill.id, "inject.delivered")
    score = ws.drills.score(drill.id)
    assert (score.overall, score.rating) == (100.0, "P")


def test_a_waiting_inject_goes_out_when_its_condition_comes_true(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    ws.drills.advance_to(drill.id, 2 * H)
    assert states(ws, drill.id)["after_contain"] == "waiting"
    for task in DETECT_TASKS:
        at(ws, drill.id, 2.2 * H).complete_task(drill.id, task)
    at(ws, drill.id, 2.3 * H).answer(drill.id, "aware_at", "now")
    at(ws, drill.id, 2.4 * H).answer(drill.id, "breach_confirmed", "yes")
    at(ws, drill.id, 2.5 * H).fire(drill.id, "start_containment")
    ws.drills.advance_to(drill.id, 2.5 * H)

    assert states(ws, drill.id)["after_contain"] == "delivered"
    assert ("after_contain", 2.5 * H) in offsets(ws, drill.id, "inject.delivered")
    assert ws.drills.advance_to(drill.id, 2.5 * H) == []  # nothing goes out twice


def test_endex_settles_every_inject_left(ws: Workspace, mini: Path) -> None:
    drill = ws.drills.start("mini", speed=None)
    ws.drills.advance_to(drill.id, 2 * H)
    events = ws.drills.end(drill.id, "stopped early for the fire alarm")

    assert states(ws, drill.id) == {
        "first": "delivered", "ticket": "delivered", "nudge": "delivered", "closed_news": "skipped",
        "open_news": "delivered", "after_contain": "expired", "last": "skipped",
    }
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["inject.expired", "inject.skipped"] and kinds[2:4] == ["drill.ended", "drill.scored"]
    assert "ENDEX at +02:00 before it was due" in events[1].payload["reason"]
    assert all(len(k) == 1 for k in terminal_events(ws, drill.id).values())
    assert ws.drills.status(drill.id).state == "ended"


def test_conditions_on_facts_and_on_other_injects(ws: Workspace) -> None:
    text = MINI.replace(
        "  - {id: last, at: \"+05:00\"",
        "  - {id: if_confirmed, at: \"+03:00\", channel: chat, from: CEO, to: commander, title: Good, text: Well done.,"
        " when: [{fact: breach_confirmed, equals: yes}, {delivered: ticket}]}\n"
        "  - {id: if_unset, at: \"+03:00\", channel: chat, from: CEO, to: commander, title: Hurry, text: Decide.,"
        " when: [{fact_unset: breach_confirmed}]}\n"
        "  - {id: without_nudge, at: \"+03:30\", channel: chat, from: CEO, to: commander, title: Quiet, text: Quiet day.,"
        " when: [{not_delivered: nudge}]}\n"
        "  - {id: last, at: \"+05:00\"",
    )
    write_scenario(ws, text)
    drill = ws.drills.start("mini", speed=None)
    at(ws, drill.id, 300).answer(drill.id, "breach_confirmed", "true")
    run_instant(ws.drills, drill.id)

    got = states(ws, drill.id)
    assert (got["if_confirmed"], got["if_unset"], got["nudge"], got["without_nudge"]) == (
        "delivered", "skipped", "skipped", "delivered"
    )


def test_delivered_inject_payload_carries_both_languages_for_players(ws: Workspace) -> None:
    write_scenario(ws, MINI.replace("title: First report, text: A bucket is open.",
                                    "title: {en: First report, zh-CN: 首次报告}, text: {en: A bucket is open., zh-CN: 存储桶公开。}"))
    drill = ws.drills.start("mini", speed=None)
    ws.drills.advance_to(drill.id, 0)
    first = ws.incidents.timeline(drill.id, kinds=["inject.delivered"])[0].payload
    assert first["title"] == {"en": "First report", "zh-CN": "首次报告"}
    assert first["to"] == ["commander"] and first["channel"] == "email" and first["due"] == "+00:00"
