"""How drill events read in an incident's timeline (every line marked as an exercise where it matters)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ir.engine.views import describer
from ir.i18n import pick

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook


@describer("drill.started")
def _started(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    pace = "instant (stepped)" if p.get("speed") is None else f"{p['speed']:g}x"
    sc = p["scenario"]
    return f"EXERCISE STARTEX: scenario {sc['id']} v{sc['version']}, start {p['start']}, ENDEX {p['duration']}, {pace}"


@describer("inject.delivered")
def _delivered(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    to = ", ".join(p["to"])
    return f"[EXERCISE] inject {p['inject']} ({p['channel']}) from {pick(p['from'], lang)} to {to}: {pick(p['title'], lang)}"


@describer("inject.skipped")
def _skipped(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"inject {p['inject']} skipped: {p['reason']}"


@describer("inject.expired")
def _expired(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"inject {p['inject']} expired: {p['reason']}"


@describer("drill.paused")
def _paused(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"exercise paused at {p['offset']}"


@describer("drill.resumed")
def _resumed(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"exercise resumed at {p['offset']}"


@describer("drill.speed_changed")
def _speed(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    before = "stepped" if p.get("from") is None else f"{p['from']:g}x"
    return f"exercise speed {before} → {p['speed']:g}x at {p['offset']}"


@describer("drill.advanced")
def _advanced(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"exercise skipped ahead {p['from']} → {p['to']} (next inject {p['inject']})"


@describer("drill.ended")
def _ended(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"EXERCISE ENDEX at {p['offset']}: {p['reason']}"


@describer("drill.scored")
def _scored(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    counts: dict[str, int] = {}
    for e in p["expectations"]:
        counts[e["status"]] = counts.get(e["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    overall = "n/a" if p["overall"] is None else f"{p['overall']:g}"
    return f"scored {overall}/100, rating {p['rating']} ({summary})"


@describer("hotwash.note")
def _hotwash(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"hot wash: {p['text']}"


@describer("discussion.answered")
def _discussion(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"discussion {p['question']}: {p['answer']}"


@describer("improvement.raised")
def _raised(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"improvement {p['item']} raised ({p['result']}): {pick(p['issue'], lang)}; owner {p['owner']}"


@describer("improvement.retested")
def _retested(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    verdict = "fixed" if p["result"] == "fixed" else f"not fixed ({p['status']})"
    return f"improvement {p['item']} retested: {verdict}"


@describer("improvement.updated")
def _updated(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    changes = ", ".join(f"{k} {v}" for k, v in p.items() if k != "item")
    return f"improvement {p['item']} updated: {changes}"


@describer("drill_schedule.added")
def _schedule_added(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"scheduled drill {p['id']}: scenario {p['scenario']} at '{p['cron']}' ({p['timezone']}), speed {p['speed']:g}"


@describer("drill_schedule.removed")
def _schedule_removed(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"removed drill schedule {p['id']}"


@describer("drill_schedule.missed")
def _schedule_missed(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    outcome = "run late" if p.get("run") else "missed"
    return f"drill schedule {p['id']} due {p['due']} {outcome}: {p['reason']}"
