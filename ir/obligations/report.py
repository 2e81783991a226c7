"""The compliance report: each duty with due, done, and met or missed, in Markdown."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from typing import Any

import jinja2

from ir.clock import parse_instant
from ir.engine.report import duration_text
from ir.engine.state import IncidentState
from ir.obligations.status import STATUSES, Outcome, Tracked

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("ir", "obligations/templates"),
    undefined=jinja2.StrictUndefined,
    autoescape=False,  # Markdown, not HTML
    keep_trailing_newline=True,
    trim_blocks=True,
    lstrip_blocks=True,
)


def outcome_text(item: Tracked) -> str:
    """Met or missed, in words: ``met``, ``missed: late by 2h 0m``, ``missed: overdue 1d 0h 5m``."""
    ob, o = item.obligation, item.outcome
    if item.status == "met":
        return "met"
    if item.status == "late":
        assert ob.due_at and o.fulfilled_at
        late = (parse_instant(o.fulfilled_at) - parse_instant(ob.due_at)).total_seconds()
        return f"missed: late by {duration_text(late)}"
    if item.status == "overdue":
        return f"missed: {item.remaining_text}, not done"
    if item.status == "waived":
        return "waived (see below)"
    if item.past_target:
        return "open: past own target"
    return f"open: {item.remaining_text} left" if item.remaining_text else "open"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _due(item: Tracked) -> str:
    ob = item.obligation
    if ob.due_at:
        return ob.due_at
    if ob.target_at:
        return f"no fixed period (own target {ob.target_at})"
    return _cell(ob.due_text)


def _summary(tracked: list[Tracked]) -> str:
    if not tracked:
        return "no duty applies"
    counts = Counter(t.status for t in tracked)
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])


def compliance_context(
    state: IncidentState,
    tracked: list[Tracked],
    orphans: Mapping[str, Outcome],
    assessed_at: str | None,
    now: dt.datetime,
) -> dict[str, Any]:
    """Plain data for the compliance template."""
    ordered = sorted(tracked, key=lambda t: (t.obligation.due_at or t.obligation.target_at or "~", t.obligation.rule))
    return {
        "incident": {
            "id": state.id,
            "title": _cell(state.title),
            "exercise": state.mode == "drill",
            "opened_at": state.opened_at,
            "opened_by": state.opened_by,
            "aware_at": state.facts.get("aware_at"),
        },
        "assessed_at": assessed_at,
        "generated_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "summary": _summary(tracked),
        "duties": [
            {
                "rule": t.obligation.rule,
                "verified": t.obligation.verified,
                "recipient": _cell(t.obligation.recipient_name),
                "citation": _cell(t.obligation.citation),
                "due": _due(t),
                "done": t.outcome.fulfilled_at or "—",
                "outcome": _cell(outcome_text(t)),
            }
            for t in ordered
        ],
        "waivers": [
            {
                "rule": t.obligation.rule,
                "citation": t.obligation.citation,
                "reason": t.outcome.waived_reason,
                "by": t.outcome.waived_by,
                "at": t.outcome.waived_at,
            }
            for t in ordered
            if t.status == "waived"
        ],
        "fulfil_notes": [{"rule": t.obligation.rule, "note": t.outcome.note} for t in ordered if t.outcome.note],
        "unverified": [
            {"rule": t.obligation.rule, "parts": ", ".join(t.obligation.unverified), "sources": t.obligation.sources}
            for t in ordered
            if not t.obligation.verified
        ],
        "orphans": [
            {"rule": rule, "outcome": f"fulfilled at {o.fulfilled_at}" if o.fulfilled_at else f"waived: {o.waived_reason}"}
            for rule, o in sorted(orphans.items())
        ],
    }


def render_compliance(context: dict[str, Any]) -> str:
    """Render the compliance report Markdown."""
    return _ENV.get_template("compliance.md.j2").render(**context)
