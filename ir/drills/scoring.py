"""Expectations checked against the drill's record, rated per objective on the P/S/M/U scale.

An expectation is *met* when the record shows it by its ``by`` offset, *late* when it shows
it afterwards but before ENDEX, and *missed* otherwise. During play it may also be *pending*
(not yet due) or *overdue* (due and not met). An obligation expectation compares the
fulfilment with the deadline the obligations engine assessed.

Credit: met 1, late 0.5, missed 0. An objective's score is the weighted credit of its
expectations; the rating is P (every expectation met), S (score at least 70), M (at least
40), or U. The overall score is the weighted credit of all expectations, 0 to 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ir.drills.offsets import format_offset
from ir.drills.record import DrillRecord
from ir.drills.scenario import Expectation, Scenario, typed_value
from ir.engine.playbook import Playbook

CREDIT = {"met": 1.0, "late": 0.5, "missed": 0.0, "overdue": 0.0}
"""Credit per status; pending and n/a expectations do not count."""

RATINGS = {
    "P": "Performed without challenges",
    "S": "Performed with some challenges",
    "M": "Performed with major challenges",
    "U": "Unable to be performed",
}
"""The four-level rating used in exercise evaluation."""

S_THRESHOLD = 70.0
M_THRESHOLD = 40.0


@dataclass(frozen=True)
class ExpectationResult:
    """How one expectation stands.

    Attributes:
        status: met, late, missed, pending, overdue, or n/a (cannot be checked here).
        at: offset when it was met (seconds), if it was.
        detail: a short explanation for the report.
    """

    id: str
    objective: str
    weight: float
    status: str
    by: int | None
    at: float | None
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, offsets written as ``+01:30``."""
        return {
            "id": self.id,
            "objective": self.objective,
            "weight": self.weight,
            "status": self.status,
            "by": format_offset(self.by) if self.by is not None else None,
            "at": format_offset(self.at) if self.at is not None else None,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class ObjectiveResult:
    """An objective's rating."""

    id: str
    rating: str
    score: float | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"id": self.id, "rating": self.rating, "score": self.score}


@dataclass(frozen=True)
class Score:
    """A drill's evaluation: per expectation, per objective, overall."""

    expectations: list[ExpectationResult]
    objectives: list[ObjectiveResult]
    overall: float | None
    rating: str

    def payload(self) -> dict[str, Any]:
        """The ``drill.scored`` event payload."""
        return {
            "expectations": [e.as_dict() for e in self.expectations],
            "objectives": [o.as_dict() for o in self.objectives],
            "overall": self.overall,
            "rating": self.rating,
        }

    def result(self, expectation_id: str) -> ExpectationResult:
        """The result of one expectation."""
        return next(e for e in self.expectations if e.id == expectation_id)


def evaluate(
    scenario: Scenario, pb: Playbook, record: DrillRecord, now: float, *, ended: bool, obligations_available: bool
) -> Score:
    """Score the drill as it stands at offset ``now`` (final when ``ended``)."""
    results = [
        check(exp, scenario, pb, record, now, ended=ended, obligations_available=obligations_available)
        for exp in scenario.expectations
    ]
    objectives = [ObjectiveResult(o.id, *_rate([r for r in results if r.objective == o.id])) for o in scenario.objectives]
    rating, overall = _rate(results)
    return Score(results, objectives, overall, rating)


def _rate(results: list[ExpectationResult]) -> tuple[str, float | None]:
    counted = [r for r in results if r.status in CREDIT]
    total = sum(r.weight for r in counted)
    if not total:
        return "n/a", None
    score = round(100.0 * sum(r.weight * CREDIT[r.status] for r in counted) / total, 1)
    if all(r.status == "met" for r in counted):
        return "P", score
    if score >= S_THRESHOLD:
        return "S", score
    if score >= M_THRESHOLD:
        return "M", score
    return "U", score


def check(
    exp: Expectation,
    scenario: Scenario,
    pb: Playbook,
    record: DrillRecord,
    now: float,
    *,
    ended: bool,
    obligations_available: bool,
) -> ExpectationResult:
    """Where one expectation stands at offset ``now``."""
    if exp.kind == "obligation":
        return _check_obligation(exp, record, now, ended=ended, available=obligations_available)
    at = first_time(exp, pb, record)
    deadline = exp.deadline
    if at is not None:
        status = "met" if deadline is None or at <= deadline else "late"
        return ExpectationResult(exp.id, exp.objective, exp.weight, status, deadline, at)
    return ExpectationResult(exp.id, exp.objective, exp.weight, _unmet(deadline, now, ended), deadline, None)


def _unmet(deadline: float | None, now: float, ended: bool) -> str:
    if ended:
        return "missed"
    return "overdue" if deadline is not None and now > deadline else "pending"


def first_time(exp: Expectation, pb: Playbook, record: DrillRecord) -> float | None:
    """When the record first shows what ``exp`` expects (None: not yet)."""
    kind, target = exp.kind, exp.target
    if kind == "phase":
        return record.phase_reached(target)
    if kind == "task":
        return record.task_done_first(target)
    if kind == "fact":
        equals = typed_value(pb, target, exp.equals) if exp.equals is not None else None
        return record.fact_first(target, equals)
    if kind == "decision":
        fact = pb.decision_map[target][1].fact_name
        equals = typed_value(pb, fact, exp.equals) if exp.equals is not None else None
        return record.decision_first(target, equals, exp.rationale)
    if kind == "notice":
        return record.notice_first(target, exp.count or 1)
    raise ValueError(f"expectation kind {kind} has no first time")


def _check_obligation(exp: Expectation, record: DrillRecord, now: float, *, ended: bool, available: bool) -> ExpectationResult:
    rule = exp.target
    base = (exp.id, exp.objective, exp.weight)
    if not record.obligations_assessed and not available:
        return ExpectationResult(*base, "n/a", exp.deadline, None, "obligations are not assessed in this workspace")
    ob = record.obligation(rule)
    due_offset = round((ob.due_at - record.start).total_seconds()) if ob.due_at else None
    shown_by = exp.deadline if exp.deadline is not None else due_offset
    due_text = ob.due_at.strftime("%Y-%m-%dT%H:%M:%SZ") if ob.due_at else "no fixed deadline"
    if ob.fulfilled_at is not None:
        on_time = ob.due_at is None or ob.fulfilled_at <= ob.due_at
        if exp.deadline is not None and ob.fulfilled_offset is not None and ob.fulfilled_offset > exp.deadline:
            on_time = False
        detail = f"fulfilled {ob.fulfilled_at.strftime('%Y-%m-%dT%H:%M:%SZ')}, due {due_text}"
        return ExpectationResult(*base, "met" if on_time else "late", shown_by, ob.fulfilled_offset, detail)
    if ob.waived is not None:
        detail = f"waived: {ob.waived}"
    elif ob.owed:
        detail = f"due {due_text}; not fulfilled"
    else:
        detail = "never assessed as owed (check the facts the team established)"
    status = _unmet(shown_by, now, ended)
    return ExpectationResult(*base, status, shown_by, None, detail)
