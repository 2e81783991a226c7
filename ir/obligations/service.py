"""The obligations service: duties for a fact set or an incident, their outcomes and report.

An incident's duties are recomputed by :meth:`ObligationService.react`, a reactor the
workspace runs after every incident command inside the command's transaction: when facts
that rules read change (or a duty is fulfilled, which may start another duty's clock), it
records an ``obligations.assessed`` event with the full list, but only if the list differs
from the last one recorded. Status (pending, overdue, met, late, waived) depends on the
incident's clock and is computed when asked, never recorded.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.clock import format_fact_time, parse_instant
from ir.engine.catalog import display_path
from ir.engine.commands import MAX_TEXT, NewEvent, check_text
from ir.engine.service import Expect, ReactorContext
from ir.engine.state import IncidentState
from ir.errors import ContentError, ContentErrors, InvalidInput, NotFound, Refused, one_line
from ir.obligations import deadlines, describe, engine  # noqa: F401  (describe: timeline text registration)
from ir.obligations.engine import Obligation
from ir.obligations.facts import Facts, read_facts, read_time
from ir.obligations.status import NextDeadline, Outcome, Tracked, track_all
from ir.obligations.vocabulary import FACTS, FIELDS
from ir.store import Event
from ir.store import obligations as obligationdb

if TYPE_CHECKING:
    from ir.obligations.book import RuleBook, RuleLoader
    from ir.workspace import Workspace

RULES_RECHECK = dt.timedelta(seconds=2)
"""How long the reactor trusts the rule files it last read before looking for changes."""

KINDS = ("obligations.assessed", "obligation.fulfilled", "obligation.waived")
"""Event kinds this capability records (timeline text in :mod:`ir.obligations.describe`)."""


@dataclass
class FactsAssessment:
    """Duties for a bare fact set (``ir obligations --facts``).

    Attributes:
        obligations: the duties that apply.
        undecided: duties that could apply once unanswered yes/no facts are answered yes.
        warnings: keys the engine does not read (with a hint when one looks like a typo).
    """

    obligations: list[Obligation]
    undecided: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


@dataclass
class IncidentNotes:
    """What a reader of an incident's duties should know besides the duties themselves.

    Attributes:
        problems: incident facts whose values could not be used (ignored).
        undecided: duties that could apply once unanswered yes/no facts are answered yes.
        assessed_seq: the event that recorded the current list (None: never assessed).
        stale: the rules or facts now give a different list than the one recorded.
    """

    problems: list[str]
    undecided: dict[str, list[str]]
    assessed_seq: int | None
    stale: bool


class ObligationService:
    """Notification duties: evaluation, incident tracking, outcomes and the compliance report."""

    # The rule files and their schema are loaded when first needed: a dashboard's countdowns
    # read the recorded duties only.

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    @cached_property
    def _loader(self) -> RuleLoader:
        from ir.obligations.book import RuleLoader

        return RuleLoader(self.ws.content)

    def rulebook(self) -> RuleBook:
        """The rules on the workspace's search path (reloaded when a file changes).

        Raises:
            ContentErrors: a rule file is invalid.
        """
        return self._loader.book()

    # ------------------------------------------------------------- fact sets

    def evaluate(self, facts: Mapping[str, Any], *, now: dt.datetime | None = None, lang: str | None = None) -> list[Obligation]:
        """The duties that apply to ``facts``.

        Raises:
            InvalidInput: a fact the rules read has a value that cannot be used.
        """
        typed = read_facts(facts)
        if typed.problems:
            raise InvalidInput("facts: " + "; ".join(str(p) for p in typed.problems))
        return engine.evaluate(self.rulebook(), typed, now=now or self.ws.clock.now(), lang=lang or self.ws.lang)

    def evaluate_file(self, path: Path) -> FactsAssessment:
        """The duties for the facts in a JSON or YAML file.

        Raises:
            ContentErrors: the file cannot be read or a value cannot be used (file:line: key).
        """
        from ir.content.yamlfile import parse_document, read_text
        shown = display_path(path)
        # One bounded read of a regular file serves both parsers: the JSON check must not read
        # a FIFO, a device or an oversize file the content loader would refuse.
        text = read_text(path, shown)
        if path.suffix.lower() == ".json":
            _check_json(text, shown)
        doc = parse_document(text, shown)
        if not isinstance(doc.data, dict):
            raise ContentErrors([ContentError(shown, 1, "", "expected a mapping of fact names to values")])
        typed = read_facts(doc.data)
        if typed.problems:
            raise ContentErrors([doc.error((p.key,), p.problem) for p in typed.problems])
        book = self.rulebook()
        obligations = engine.evaluate(book, typed, now=self.ws.clock.now(), lang=self.ws.lang)
        warnings = [_unknown_key(doc.path, doc.line_of((k,)), k) for k in doc.data if k not in FACTS and k not in FIELDS]
        return FactsAssessment(obligations, engine.undecided(book, typed), warnings)

    # ------------------------------------------------------------- incidents

    def for_incident(self, incident_id: str) -> list[Tracked]:
        """The incident's duties with their status on the incident's clock.

        Raises:
            NotFound: no such incident.
        """
        state = self.ws.incidents.get(incident_id)
        obligations, outcomes = self._recorded(state)
        return track_all(obligations, outcomes, self.ws.clock_for(state).now())

    def notes(self, incident_id: str) -> IncidentNotes:
        """Fact problems, undecided duties and whether the recorded list is out of date."""
        state = self.ws.incidents.get(incident_id)
        facts = read_facts(state.facts)
        book = self.rulebook()
        with self.ws.store.read() as conn:
            assessment = obligationdb.load_assessment(conn, incident_id)
            fulfilled = _times(obligationdb.fulfilment_times(conn, incident_id))
        fresh = self._compute(book, facts, state, fulfilled)
        recorded = assessment.digest if assessment else obligationdb.digest_of([])
        return IncidentNotes(
            problems=[str(p) for p in facts.problems],
            undecided=engine.undecided(book, facts),
            assessed_seq=assessment.seq if assessment else None,
            stale=obligationdb.digest_of([o.as_dict() for o in fresh]) != recorded,
        )

    def next_deadline(self, incident_id: str) -> NextDeadline | None:
        """The soonest legal deadline (or own target) among the incident's open duties."""
        return self.next_deadlines([self.ws.incidents.get(incident_id)]).get(incident_id)

    def next_deadlines(self, states: list[IncidentState]) -> dict[str, NextDeadline]:
        """:meth:`next_deadline` for many incidents in one query (a dashboard's countdowns).

        Each countdown runs on its incident's own clock (a drill's scenario time).
        """
        return deadlines.next_deadlines(self.ws, states)

    def fulfil(
        self, incident_id: str, rule: str, at: str | dt.datetime | None = None, note: str | None = None,
        *, actor: str | None = None,
    ) -> list[Event]:
        """Record that a duty was fulfilled (at ``at``, default now on the incident's clock).

        ``actor`` records someone other than the workspace's actor (a scripted drill player).

        Raises:
            NotFound: the incident has no such duty.
            InvalidInput: ``at`` is not a time with offset, or is in the future.
            Refused: the duty was already fulfilled.
        """
        state = self.ws.incidents.get(incident_id)
        now = self.ws.clock_for(state).now()
        when = now if at is None else _when(at)
        if when > now:
            raise InvalidInput(
                f"--at {format_fact_time(when)} is in the future (the incident's clock says {format_fact_time(now)})"
            )
        outcome = self._duty(state, rule)
        if outcome.fulfilled_at is not None:
            raise Refused(f"{incident_id}: '{rule}' was already fulfilled at {outcome.fulfilled_at} by {outcome.fulfilled_by}")
        payload: dict[str, Any] = {"rule": rule, "fulfilled_at": format_fact_time(when)}
        if note is not None:
            payload["note"] = _text("note", note)
        recorder = self.ws.incidents.bind(actor=actor)
        return recorder.record(incident_id, [NewEvent("obligation.fulfilled", payload)], expect=Expect(seq=state.seq))

    def waive(self, incident_id: str, rule: str, reason: str, *, actor: str | None = None) -> list[Event]:
        """Record a documented decision not to notify under a duty, with its reason.

        Raises:
            NotFound: the incident has no such duty.
            InvalidInput: the reason is empty.
            Refused: the duty was already fulfilled or waived.
        """
        state = self.ws.incidents.get(incident_id)
        reason = _text("reason", reason)
        outcome = self._duty(state, rule)
        if outcome.fulfilled_at is not None:
            raise Refused(f"{incident_id}: '{rule}' was fulfilled at {outcome.fulfilled_at}; it cannot be waived")
        if outcome.waived_reason is not None:
            raise Refused(f"{incident_id}: '{rule}' was already waived by {outcome.waived_by}: {outcome.waived_reason}")
        event = NewEvent("obligation.waived", {"rule": rule, "reason": reason})
        return self.ws.incidents.bind(actor=actor).record(incident_id, [event], expect=Expect(seq=state.seq))

    def reassess(self, incident_id: str) -> list[Event]:
        """Record the duties again if the rules (or facts) now give a different list."""
        state = self.ws.incidents.get(incident_id)
        if not self.notes(incident_id).stale:
            return []
        facts = read_facts(state.facts)
        with self.ws.store.read() as conn:
            fulfilled = _times(obligationdb.fulfilment_times(conn, incident_id))
        fresh = self._compute(self.rulebook(), facts, state, fulfilled)
        event = NewEvent("obligations.assessed", {"obligations": [o.as_dict() for o in fresh]})
        return self.ws.incidents.record(incident_id, [event], expect=Expect(seq=state.seq))

    def compliance_report(self, incident_id: str) -> str:
        """The compliance report (Markdown): each duty with due, done, and met or missed."""
        from ir.obligations.report import compliance_context, render_compliance

        state = self.ws.incidents.get(incident_id)
        tracked = self.for_incident(incident_id)
        with self.ws.store.read() as conn:
            outcomes = obligationdb.load_outcomes(conn, incident_id)
            assessment = obligationdb.load_assessment(conn, incident_id)
        current = {t.obligation.rule for t in tracked}
        orphans = {rule: _outcome(o) for rule, o in outcomes.items() if rule not in current}
        now = self.ws.clock_for(state).now()
        return render_compliance(compliance_context(state, tracked, orphans, assessment.at if assessment else None, now))

    # --------------------------------------------------------------- reactor

    def react(self, ctx: ReactorContext) -> list[NewEvent]:
        """Record the incident's duties again when facts they depend on change."""
        if not any(_relevant(ev) for ev in ctx.events):
            return []
        try:
            # The wall clock (not the incident's) paces how often rule folders are re-read.
            book = self._loader.book(now=self.ws.clock.now(), max_age=RULES_RECHECK)
        except ContentErrors:
            # A broken workspace rule file must not block incident work; `ir obligations`
            # shows the error and the next relevant change records the assessment.
            return []
        fulfilled = _times(obligationdb.fulfilment_times(ctx.conn, ctx.incident_id))
        fresh = self._compute(book, read_facts(ctx.state.facts), ctx.state, fulfilled, ctx.clock.now())
        payload = [o.as_dict() for o in fresh]
        previous = obligationdb.assessment_digest(ctx.conn, ctx.incident_id) or obligationdb.digest_of([])
        if obligationdb.digest_of(payload) == previous:
            return []
        return [NewEvent("obligations.assessed", {"obligations": payload})]

    # --------------------------------------------------------------- helpers

    def _compute(
        self,
        book: RuleBook,
        facts: Facts,
        state: IncidentState,
        fulfilled: Mapping[str, dt.datetime],
        now: dt.datetime | None = None,
    ) -> list[Obligation]:
        # Recorded text is always English so the record does not depend on who looked.
        when = now or self.ws.clock_for(state).now()
        return engine.evaluate(book, facts, now=when, fulfilled=fulfilled, lang="en")

    def _recorded(self, state: IncidentState) -> tuple[list[Obligation], dict[str, Outcome]]:
        with self.ws.store.read() as conn:
            assessment = obligationdb.load_assessment(conn, state.id)
            outcomes = {r: _outcome(o) for r, o in obligationdb.load_outcomes(conn, state.id).items()}
        if assessment is None:
            return [], outcomes
        return [Obligation.from_dict(d) for d in assessment.obligations], outcomes

    def _duty(self, state: IncidentState, rule: str) -> Outcome:
        obligations, outcomes = self._recorded(state)
        rules = [o.rule for o in obligations]
        if rule not in rules:
            known = ", ".join(rules) if rules else "none recorded yet"
            raise NotFound(f"incident {state.id} has no obligation '{rule}' (its obligations: {known})")
        return outcomes.get(rule, Outcome())


def _relevant(ev: Event) -> bool:
    """Whether an event can change an incident's duties."""
    if ev.kind in ("incident.opened", "obligation.fulfilled"):
        return True
    if ev.kind == "decision.answered":
        return ev.payload.get("fact") in FACTS
    if ev.kind == "fact.set":
        return any(key in FACTS for key in ev.payload.get("facts", {}))
    return False


def _outcome(o: obligationdb.Outcome) -> Outcome:
    return Outcome(o.fulfilled_at, o.fulfilled_by, o.note, o.waived_reason, o.waived_by, o.waived_at)


def _times(raw: Mapping[str, str]) -> dict[str, dt.datetime]:
    return {rule: parse_instant(at) for rule, at in raw.items()}


def _when(at: str | dt.datetime) -> dt.datetime:
    try:
        return read_time(at)
    except ValueError as exc:
        raise InvalidInput(f"--at: {exc}") from None


def _text(what: str, value: str) -> str:
    return check_text(what, value).strip()


def _check_json(text: str, shown: str) -> None:
    """Name the line of a JSON syntax error (the YAML reader's message would be vaguer)."""
    from ir.content.yamlfile import MAX_DEPTH

    try:
        json.loads(text)
    except RecursionError:
        raise ContentErrors([ContentError(shown, None, "", f"nested deeper than {MAX_DEPTH} levels")]) from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise ContentErrors([ContentError(shown, line, "", f"JSON syntax error: {getattr(exc, 'msg', exc)}")]) from None


def _unknown_key(path: str, line: int | None, key: str) -> str:
    hint = difflib.get_close_matches(key, list(FACTS), n=1)
    where = f"{path}:{line}" if line else path
    guess = f" (did you mean '{hint[0]}'?)" if hint else ""
    # The key is the file's text: a newline in it must not split or forge a warning line.
    return one_line(f"{where}: {key}: not a fact the rules read; ignored{guess}")
