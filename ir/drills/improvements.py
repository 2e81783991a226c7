"""The improvement plan: gaps become items with an owner and a due date, retested by later drills.

When a drill is scored, every expectation it missed or met late raises an item (issue,
corrective action, owner, due date) unless the same scenario's expectation already has one;
in that case, and for every item whose expectation the drill met, the drill records a retest.
A retest that passes verifies the item; one that fails reopens it.
"""

from __future__ import annotations

from typing import Any

from ir.drills.scenario import Expectation, Scenario
from ir.drills.scoring import ExpectationResult, Score
from ir.engine.commands import NewEvent

DUE_IN_DAYS = 30
"""Default time to complete a corrective action, from the drill's scoring."""

STATUSES = ("open", "done", "verified", "closed")
"""open: to do; done: action completed, awaiting retest; verified: a later drill passed; closed: dropped."""

SETTABLE = ("open", "done", "closed")
"""Statuses a person may set (only a retest verifies)."""


def item_id(incident_id: str, expectation_id: str) -> str:
    """The stable id of the item a drill raises for one expectation."""
    return f"{incident_id}:{expectation_id}"


def decide(
    scenario: Scenario, score: Score, existing: list[dict[str, Any]], incident_id: str, roles: dict[str, str]
) -> list[NewEvent]:
    """The ``improvement.*`` events that follow from a drill's final score.

    Args:
        existing: improvement items of the workspace for this scenario, oldest first.
        roles: who held each role in the drill (owners of new items).
    """
    latest = {item["expectation_id"]: item for item in existing if item["scenario_id"] == scenario.id}
    out: list[NewEvent] = []
    for result in score.expectations:
        exp = scenario.expectation_map[result.id]
        item = latest.get(result.id)
        if result.status == "n/a":
            continue
        if item is not None:
            retest = _retest(item, result)
            if retest is not None:
                out.append(retest)
        elif result.status in ("late", "missed"):
            out.append(_raise(scenario, exp, result, incident_id, roles))
    return out


def _retest(item: dict[str, Any], result: ExpectationResult) -> NewEvent | None:
    fixed = result.status == "met"
    if fixed and item["status"] in ("verified", "closed"):
        return None
    return NewEvent(
        "improvement.retested",
        {"item": item["item"], "expectation": result.id, "status": result.status, "result": "fixed" if fixed else "not_fixed"},
    )


def _raise(scenario: Scenario, exp: Expectation, result: ExpectationResult, incident_id: str, roles: dict[str, str]) -> NewEvent:
    owner_role = exp.owner or "commander"
    return NewEvent(
        "improvement.raised",
        {
            "item": item_id(incident_id, exp.id),
            "scenario": scenario.id,
            "expectation": exp.id,
            "objective": exp.objective,
            "result": result.status,
            "issue": dict(exp.gap) if exp.gap else _default_issue(exp, result),
            "action": dict(exp.action) if exp.action else _default_action(exp),
            "owner": roles.get(owner_role, owner_role),
            "due_in_days": DUE_IN_DAYS,
        },
    )


def _default_issue(exp: Expectation, result: ExpectationResult) -> dict[str, str]:
    when = f" by {exp.by}" if exp.by else ""
    out = {"en": f"{exp.title.get('en') or next(iter(exp.title.values()))}: {result.status}{when}"}
    if "zh-CN" in exp.title:
        status = {"late": "逾期完成", "missed": "未完成"}.get(result.status, result.status)
        out["zh-CN"] = f"{exp.title['zh-CN']}：{status}"
    return out


def _default_action(exp: Expectation) -> dict[str, str]:
    out = {"en": "Find out why, change the playbook or training, and retest in the next drill."}
    if "zh-CN" in exp.title:
        out["zh-CN"] = "查明原因，修订预案或培训，并在下次演练中复测。"
    return out
