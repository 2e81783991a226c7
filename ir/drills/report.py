"""The after-action report (AAR) with its improvement plan, as Markdown or HTML.

Built from the drill's event log and the scenario it ran: overview, objectives and their
P/S/M/U ratings, a timeline of injects against the team's actions, strengths, gaps, the
decision log, discussion answers and hot-wash notes, and the improvement plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jinja2

from ir.drills.offsets import format_offset, parse_offset
from ir.drills.scoring import RATINGS, ExpectationResult, ObjectiveResult, Score
from ir.engine.facts import render
from ir.engine.views import describe_event
from ir.i18n import pick

if TYPE_CHECKING:
    from ir.drills.service import DrillContext, DrillService

FORMATS = ("md", "html")

def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(value).replace("|", "\\|").replace("\n", " ")


_ENVS = {
    fmt: jinja2.Environment(
        loader=jinja2.PackageLoader("ir", "drills/templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=fmt == "html",  # Markdown must not be HTML-escaped
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    for fmt in FORMATS
}
for _env in _ENVS.values():
    _env.filters["cell"] = _cell

_TEAM_KINDS = {
    "phase.changed", "task.done", "task.reopened", "task.assigned", "decision.answered", "fact.set", "role.assigned",
    "note.added", "obligation.fulfilled", "obligation.waived", "notices.rendered", "notices.sent", "subjects.imported",
}
_CONTROL_KINDS = {"drill.started", "drill.paused", "drill.resumed", "drill.speed_changed", "drill.advanced", "drill.ended"}


def render_report(svc: DrillService, incident_id: str, fmt: str = "md") -> str:
    """The after-action report of a drill in ``fmt`` (``md`` or ``html``)."""
    template = _ENVS[fmt].get_template(f"aar.{fmt}.j2")
    return template.render(**report_context(svc, incident_id))


def report_context(svc: DrillService, incident_id: str) -> dict[str, Any]:
    """Plain data for the report templates."""
    ctx = svc.context(incident_id)
    lang = svc.ws.lang
    now = svc.offset(ctx)
    score = _final_score(ctx) or svc._evaluate(ctx, now)
    started = next(e for e in ctx.events if e.kind == "drill.started")
    ended = next((e for e in ctx.events if e.kind == "drill.ended"), None)
    s = ctx.scenario
    objectives = _objectives(ctx, score, lang)
    results = [r for o in objectives for r in o["expectations"]]
    return {
        "lang": lang,
        "overview": {
            "id": incident_id,
            "title": pick(s.title, lang),
            "scenario": s.id,
            "version": s.version,
            "playbook": f"{pick(ctx.pb.title, lang)} ({ctx.pb.id} v{ctx.pb.version})",
            "summary": pick(s.summary, lang),
            "scope": pick(s.scope, lang) if s.scope else "",
            "start": started.payload["start"],
            "endex": ended.payload["offset"] if ended else f"not yet (now {format_offset(now)})",
            "ended_reason": ended.payload["reason"] if ended else "",
            "pace": "instant (stepped)" if started.payload.get("speed") is None else f"{started.payload['speed']:g}x",
            "run_from": started.recorded_at,
            "run_to": ended.recorded_at if ended else "(running)",
            "facilitator": started.actor,
            "final": ended is not None,
        },
        "participants": [
            {"role": pick(next(r.title for r in ctx.pb.roles if r.id == p.role), lang), "person": ctx.state.roles.get(p.role, "(unassigned)")}
            for p in s.participants
        ],
        "score": {
            "overall": "n/a" if score.overall is None else f"{score.overall:g}",
            "rating": score.rating,
            "label": RATINGS.get(score.rating, "not rated"),
        },
        "objectives": objectives,
        "timeline": _timeline(ctx, lang),
        "strengths": [r for r in results if r["status"] == "met"],
        "gaps": [r for r in results if r["status"] in ("late", "missed", "overdue")],
        "decisions": _decisions(ctx, lang),
        "discussion": _discussion(ctx, lang),
        "hotwash": [
            {"at": format_offset(ctx.record.offset_of(e)), "by": e.actor, "text": e.payload["text"]}
            for e in ctx.events
            if e.kind == "hotwash.note"
        ],
        "plan": _plan(svc, ctx, lang),
    }


def _final_score(ctx: DrillContext) -> Score | None:
    ev = next((e for e in ctx.events if e.kind == "drill.scored"), None)
    if ev is None:
        return None
    p = ev.payload
    results = [
        ExpectationResult(
            r["id"], r["objective"], r["weight"], r["status"],
            parse_offset(r["by"]) if r["by"] else None, parse_offset(r["at"]) if r["at"] else None, r["detail"],
        )
        for r in p["expectations"]
    ]
    objectives = [ObjectiveResult(o["id"], o["rating"], o["score"]) for o in p["objectives"]]
    return Score(results, objectives, p["overall"], p["rating"])


def _objectives(ctx: DrillContext, score: Score, lang: str) -> list[dict[str, Any]]:
    out = []
    for obj in score.objectives:
        o = ctx.scenario.objective_map[obj.id]
        results = [r for r in score.expectations if r.objective == obj.id]
        out.append(
            {
                "id": obj.id,
                "title": pick(o.title, lang),
                "capability": pick(o.capability, lang),
                "rating": obj.rating,
                "label": RATINGS.get(obj.rating, "not rated"),
                "score": "n/a" if obj.score is None else f"{obj.score:g}",
                "expectations": [_expectation(ctx, r, lang) for r in results],
            }
        )
    return out


def _expectation(ctx: DrillContext, r: Any, lang: str) -> dict[str, Any]:
    exp = ctx.scenario.expectation_map[r.id]
    return {
        "id": r.id,
        "title": pick(exp.title, lang),
        "objective": pick(ctx.scenario.objective_map[exp.objective].title, lang),
        "status": r.status,
        "by": format_offset(r.by) if r.by is not None else "ENDEX",
        "at": format_offset(r.at) if r.at is not None else "—",
        "weight": f"{r.weight:g}",
        "detail": r.detail,
        "gap": pick(exp.gap, lang) if exp.gap else "",
    }


def _timeline(ctx: DrillContext, lang: str) -> list[dict[str, str]]:
    rows = []
    for e in ctx.events:
        at = format_offset(ctx.record.offset_of(e))
        if e.kind == "inject.delivered":
            p = e.payload
            text = f"{p['inject']} · {p['channel']} · {pick(p['from'], lang)} → {', '.join(p['to'])}: {pick(p['title'], lang)}"
            rows.append({"at": at, "inject": text, "action": "", "who": ""})
        elif e.kind in ("inject.skipped", "inject.expired"):
            rows.append({"at": at, "inject": f"({e.payload['inject']} {e.kind.split('.')[1]}: {e.payload['reason']})", "action": "", "who": ""})
        elif e.kind in _TEAM_KINDS or e.kind in _CONTROL_KINDS:
            who = "exercise control" if e.kind in _CONTROL_KINDS else e.actor
            rows.append({"at": at, "inject": "", "action": describe_event(e.kind, e.payload, ctx.pb, lang), "who": who})
    return rows


def _decisions(ctx: DrillContext, lang: str) -> list[dict[str, str]]:
    out = []
    for e in ctx.events:
        if e.kind != "decision.answered":
            continue
        dec = ctx.pb.decision_map.get(e.payload["decision"])
        out.append(
            {
                "at": format_offset(ctx.record.offset_of(e)),
                "who": e.actor,
                "question": pick(dec[1].question, lang) if dec else e.payload["decision"],
                "answer": render(e.payload["value"]),
                "rationale": e.payload.get("rationale") or "(none stated)",
            }
        )
    return out


def _discussion(ctx: DrillContext, lang: str) -> list[dict[str, Any]]:
    answers: dict[str, list[dict[str, str]]] = {}
    for e in ctx.events:
        if e.kind == "discussion.answered":
            answers.setdefault(e.payload["question"], []).append({"by": e.actor, "text": e.payload["answer"]})
    return [
        {
            "title": pick(m.title, lang),
            "questions": [{"id": q.id, "text": pick(q.text, lang), "answers": answers.get(q.id, [])} for q in m.questions],
        }
        for m in ctx.scenario.modules
        if m.questions
    ]


def _plan(svc: DrillService, ctx: DrillContext, lang: str) -> list[dict[str, str]]:
    mine = {e.payload["item"]: e for e in ctx.events if e.kind in ("improvement.raised", "improvement.retested")}
    if not mine:
        return []
    items = {i["item"]: i for i in svc.improvements(scenario_id=ctx.scenario.id)}
    out = []
    for ident, ev in mine.items():
        item = items.get(ident)
        if item is None:
            continue
        retest = ""
        if ev.kind == "improvement.retested":
            retest = "fixed" if ev.payload["result"] == "fixed" else f"not fixed ({ev.payload['status']})"
        out.append(
            {
                "item": ident,
                "objective": pick(ctx.scenario.objective_map[item["objective_id"]].title, lang)
                if item["objective_id"] in ctx.scenario.objective_map
                else item["objective_id"],
                "issue": pick(item["issue"], lang),
                "action": pick(item["action"], lang),
                "owner": item["owner"],
                "due": item["due"],
                "status": item["status"],
                "retest": retest or "first seen in this drill",
            }
        )
    return out
