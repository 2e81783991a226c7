"""Drill test helpers: a small scenario in the workspace's own scenarios/ folder, and readers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any
from pathlib import Path

from ir.clock import VirtualClock, parse_instant
from ir.drills.offsets import offset_between
from ir.store import Event, projection
from ir.workspace import Workspace

if "notices.rendered" not in projection.known_kinds():
    # The notices capability records this kind; until it is installed, a log-only projector
    # lets the tests record the event shape the drills read.
    @projection.projector("notices.rendered")
    def _notices_rendered(conn: sqlite3.Connection, ev: Event) -> None:
        """Log only."""


MINI = """\
# A short drill on the core playbook, for tests.
id: mini
version: "1"
title: {en: Mini drill, zh-CN: 小型演练}
summary: {en: A public bucket is reported., zh-CN: 有人报告存储桶公开。}
playbook: personal-data-leak
duration: "+06:00"
start: "2026-11-20T01:00:00Z"
participants:
  - {role: commander}
  - {role: security}
  - {role: dpo}
objectives:
  - {id: triage, title: {en: Triage, zh-CN: 研判}, capability: Detection}
  - {id: contain, title: Contain, capability: Containment}
modules:
  - id: m1
    title: Module 1
    at: "+00:00"
    questions:
      - {id: q1, text: Who decides?}
injects:
  - {id: first, at: "+00:00", channel: email, from: Reporter, to: commander, title: First report, text: A bucket is open.}
  - {id: ticket, at: "+01:00", channel: ticket, from: Cloud team, to: security, title: Bucket public, text: Public since February.}
  - id: nudge
    at: "+01:30"
    channel: phone
    from: CISO
    to: commander
    title: Confirm it
    text: Has the breach been confirmed?
    when: [{missed: confirmed}]
  - id: closed_news
    at: "+02:00"
    channel: news
    from: Daily Tech
    to: all
    title: Bucket closed
    text: The bucket is closed.
    when: [{task_done: stop_exposure}]
  - id: open_news
    at: "+02:00"
    channel: news
    from: Daily Tech
    to: all
    title: Bucket still open
    text: The bucket is still open.
    when: [{task_not_done: stop_exposure}]
  - id: after_contain
    at: "+02:00"
    until: "+04:00"
    channel: regulator
    from: Regulator
    to: dpo
    title: Report please
    text: Report what you contained.
    when: [{reached: contain}]
  - {id: last, at: "+05:00", channel: briefing, from: Facilitator, to: all, title: Wrap up, text: Time to wrap up.}
expectations:
  - {id: reported, objective: triage, title: Record the report, task: record_report, by: "+00:30", weight: 2}
  - {id: confirmed, objective: triage, title: Confirm the breach, decision: breach_confirmed, equals: yes, by: "+01:00"}
  - {id: contained, objective: contain, title: Move to containment, phase: contain, by: "+03:00", weight: 3, owner: security}
"""

DETECT_TASKS = ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo")


def write_scenario(ws: Workspace, text: str = MINI, name: str = "mini") -> Path:
    """Put a scenario in the workspace's own scenarios/ folder."""
    folder = ws.store.path.parent / "scenarios"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def offsets(ws: Workspace, incident_id: str, kind: str) -> list[tuple[str, float]]:
    """(subject, scenario offset) of each event of ``kind``: the inject or task it names."""
    events = ws.incidents.timeline(incident_id)
    start = parse_instant(next(e for e in events if e.kind == "drill.started").payload["start"])
    out = []
    for e in events:
        if e.kind == kind:
            subject = e.payload.get("inject") or e.payload.get("task") or e.payload.get("to") or ""
            out.append((subject, offset_between(start, parse_instant(e.at))))
    return out


def states(ws: Workspace, incident_id: str) -> dict[str, str]:
    """Inject id -> status from the drill's status view."""
    return {i["id"]: i["status"] for i in ws.drills.status(incident_id).injects}


def confirm_and_contain(ws: Workspace, incident_id: str, who: str = "alice") -> None:
    """Do what the detect phase needs and move to containment (on the drill's clock)."""
    inc = ws.incidents.bind(actor=who)
    for task in DETECT_TASKS:
        inc.complete_task(incident_id, task)
    inc.answer(incident_id, "aware_at", "now")
    inc.answer(incident_id, "breach_confirmed", "yes", rationale="file listing")
    inc.fire(incident_id, "start_containment")


def minutes(n: float) -> dt.timedelta:
    """A wall-clock step."""
    return dt.timedelta(minutes=n)


def at(ws: Workspace, incident_id: str, offset: float, actor: str = "alice") -> Any:
    """The incident service acting as ``actor`` at scenario ``offset`` of a drill."""
    start = ws.drills.context(incident_id).clock_state.start
    return ws.incidents.bind(actor=actor, clock=VirtualClock(start + dt.timedelta(seconds=offset)))


def terminal_events(ws: Workspace, incident_id: str) -> dict[str, list[str]]:
    """Inject id -> the inject.* event kinds recorded for it (exactly one each when done)."""
    out: dict[str, list[str]] = {}
    for e in ws.incidents.timeline(incident_id):
        if e.kind.startswith("inject."):
            out.setdefault(e.payload["inject"], []).append(e.kind)
    return out
