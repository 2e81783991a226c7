"""Evaluating the rule book against a set of facts: who must be told, by when. Pure.

The result depends only on the rules, the facts, the duties already fulfilled (some clocks
start from another duty's fulfilment) and ``now``, which is used for one thing: choosing
the version of a rule in force when ``aware_at`` is not yet known.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ir.clock import UTC
from ir.i18n import pick
from ir.obligations import clocks
from ir.obligations.facts import Facts
from ir.obligations.vocabulary import DEADLINE_WORDS

if TYPE_CHECKING:
    from ir.obligations.book import Rule, RuleBook, Version

CLOCK_FACTS = {
    "awareness": "aware_at",
    "determination": "determined_at",
    "assessment": "assessed_at",
    "materiality_determination": "materiality_determined_at",
    "handling_end": "handling_ended_at",
}
"""The fact that starts each clock."""

CLOCK_WORDS = {
    "awareness": "awareness",
    "determination": "the breach is determined",
    "assessment": "the assessment is made",
    "materiality_determination": "the incident is determined material",
    "handling_end": "handling of the incident ends",
}

DEFAULT_TARGETS = {"immediately": clocks.Period("hours", 24)}
"""Own target for a duty with no fixed period when neither the rule nor a fact gives one."""

FALLBACK_TARGET = clocks.Period("hours", 72)


@dataclass(frozen=True, slots=True)
class Obligation:
    """One duty to notify, as assessed from the facts (the JSON output's fields).

    Attributes:
        rule: the rule id, e.g. ``eu-gdpr-authority``.
        clock_start: what starts the clock (``awareness``, ``determination``, ``assessment``,
            ``materiality_determination``, ``handling_end`` or ``fulfilment:<rule>``).
        clock_started_at: when it started, if known.
        due_at: the legal deadline (UTC), or None when the law sets no fixed period or the
            clock has not started.
        due_text: the deadline in words, with why ``due_at`` is missing if it is.
        deadline: the period (``72 hours``) or the law's words (``immediately``).
        target_at: the organisation's own target for a duty with no fixed period.
        target_source: where the target came from: ``notice_targets`` (a fact or the
            workspace profile), ``rule`` (the rule file) or ``default``.
        verified: every part of the rule is verified in the reference.
        unverified: the parts that are not (``trigger``, ``deadline``, ``content``).
        assumed: what was assumed because a fact is missing.
    """

    rule: str
    jurisdiction: str
    regime: str
    citation: str
    recipient: str
    recipient_name: str
    clock_start: str
    clock_started_at: str | None
    due_at: str | None
    due_text: str
    deadline: str
    target_at: str | None
    target_source: str | None
    required_fields: list[str]
    template: str | None
    verified: bool
    unverified: list[str]
    sources: str
    notes: list[str]
    assumed: list[str] = field(default_factory=list)
    effective_from: str | None = None
    effective_to: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The obligation as JSON-ready data."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Obligation:
        """Rebuild an obligation from :meth:`as_dict` output (unknown keys ignored)."""
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def evaluate(
    book: RuleBook,
    facts: Facts,
    *,
    now: dt.datetime,
    fulfilled: Mapping[str, dt.datetime] | None = None,
    lang: str = "en",
) -> list[Obligation]:
    """Every duty that applies to ``facts``, in rule-id order.

    Args:
        book: the rules.
        facts: the incident's facts.
        now: the incident's current time (chooses the rule version when ``aware_at`` is missing).
        fulfilled: when duties were fulfilled, by rule id (for clocks that start from them).
        lang: language of recipient names and notes.
    """
    done = fulfilled or {}
    out = []
    for rule in book.candidates(facts):
        if rule.applies(facts):
            obligation = assess_rule(rule, facts, now, done, lang)
            if obligation is not None:
                out.append(obligation)
    return out


def undecided(book: RuleBook, facts: Facts) -> dict[str, list[str]]:
    """Duties that do not apply yet but could once unanswered yes/no facts are answered yes."""
    return {
        rule.id: sorted(n for n in rule.wants if n not in facts.flags)
        for rule in book.candidates(facts)
        if not rule.applies(facts) and rule.possible(facts)
    }


def assess_rule(
    rule: Rule, facts: Facts, now: dt.datetime, fulfilled: Mapping[str, dt.datetime], lang: str = "en"
) -> Obligation | None:
    """The obligation under ``rule`` (which applies), or None if no version is in force."""
    aware = facts.times.get("aware_at")
    assumed = [f"{name} not answered: counted as no" for name in rule.reads if name not in facts.flags]
    day = clocks.local_date(aware or now, rule.tz)
    version = _pick_version(rule, facts, day, assumed)
    if version is None:
        return None
    if rule.dated and aware is None:
        assumed.append(f"aware_at not recorded: the version in force on {day.isoformat()} applies")
    start_name, start, why = _clock(version, facts, fulfilled, assumed)
    due_at, target_at, source, due_text = _timing(rule, version, facts, start, why, start_name)
    return Obligation(
        rule=rule.id,
        jurisdiction=rule.jurisdiction,
        regime=rule.regime,
        citation=version.citation,
        recipient=rule.recipient,
        recipient_name=version.recipient_en if lang == "en" else pick(version.recipient_name, lang),
        clock_start=start_name,
        clock_started_at=_fmt(start),
        due_at=_fmt(due_at),
        due_text=due_text,
        deadline=version.deadline_text,
        target_at=_fmt(target_at),
        target_source=source,
        required_fields=list(version.required_fields),
        template=version.template,
        verified=not version.unverified,
        unverified=list(version.unverified),
        sources=version.sources,
        notes=list(version.notes_en) if lang == "en" else [pick(n, lang) for n in version.notes],
        assumed=assumed,
        effective_from=version.effective_from.isoformat() if version.effective_from else None,
        effective_to=version.effective_to.isoformat() if version.effective_to else None,
    )


def _pick_version(rule: Rule, facts: Facts, day: dt.date, assumed: list[str]) -> Version | None:
    """The first version in force on ``day`` whose condition holds; notes unanswered facts it read."""
    for version in rule.versions:
        if not version.in_force(day):
            continue
        assumed.extend(f"{n} not answered: counted as no" for n in version.reads if n not in facts.flags)
        if version.when is None or version.when(facts):
            return version
    return None


def _clock(
    version: Version, facts: Facts, fulfilled: Mapping[str, dt.datetime], assumed: list[str]
) -> tuple[str, dt.datetime | None, str]:
    """The clock's name, when it started (or None) and, if it has not, why not."""
    if version.after is not None:
        start = fulfilled.get(version.after)
        return f"fulfilment:{version.after}", start, "" if start else f"{version.after} is not fulfilled yet"
    fact = CLOCK_FACTS[version.clock]
    start = facts.times.get(fact)
    if start is None and version.clock == "determination" and "aware_at" in facts.times:
        # A breach cannot be determined before the organisation is aware of it, so awareness
        # is the earliest (most cautious) start until a determination is recorded.
        assumed.append("determined_at not recorded: counted from aware_at, the earliest the breach can be determined")
        return version.clock, facts.times["aware_at"], ""
    return version.clock, start, "" if start else f"{fact} not recorded yet"


def _timing(
    rule: Rule, version: Version, facts: Facts, start: dt.datetime | None, why: str, start_name: str
) -> tuple[dt.datetime | None, dt.datetime | None, str | None, str]:
    """Legal due time, own target, the target's source, and the deadline in words."""
    after = f"{version.after} is fulfilled" if version.after else CLOCK_WORDS[start_name]
    if version.period is not None:
        text = f"{version.period.text(rule.calendar)} after {after}"
        if version.period.from_year_end:
            text = f"{version.period.text(rule.calendar)} after the end of the calendar year of {after}"
        if start is None:
            return None, None, None, f"{text}; {why}"
        return clocks.due(start, version.period, rule.tz, rule.calendar), None, None, text
    target, source = _target(rule, version, facts)
    words = DEADLINE_WORDS[version.deadline or "unspecified"]
    text = f"{words} (no fixed period); own target {target.text()} after {after}"
    if start is None:
        return None, None, source, f"{text}; {why}"
    return None, clocks.due(start, target, rule.tz, rule.calendar), source, text


def _target(rule: Rule, version: Version, facts: Facts) -> tuple[clocks.Period, str]:
    hours = facts.targets.get(rule.id, facts.targets.get("default"))
    if hours is not None:
        return clocks.Period("hours", hours), "notice_targets"
    if version.target is not None:
        return version.target, "rule"
    return DEFAULT_TARGETS.get(version.deadline or "", FALLBACK_TARGET), "default"


def _fmt(instant: dt.datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` (as :func:`ir.clock.format_fact_time`, without strftime's cost)."""
    if instant is None:
        return None
    u = instant.astimezone(UTC)
    return f"{u.year:04d}-{u.month:02d}-{u.day:02d}T{u.hour:02d}:{u.minute:02d}:{u.second:02d}Z"
