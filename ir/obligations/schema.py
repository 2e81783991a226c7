"""The rule-file format: what a practitioner writes, validated with file, line and field.

One YAML file per regime (``ir/obligations/rules/eu-gdpr.yaml``) holds the regime's
duties. See ``docs/obligations.md`` for the format with a complete example.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from ir.content.validate import LocalText, Strict
from ir.content.yamlfile import Loc
from ir.obligations import clocks
from ir.obligations.vocabulary import (
    BOOL_FACTS,
    DATA_CATEGORIES,
    DEADLINE_WORDS,
    FIELDS,
    JURISDICTION_GROUPS,
    RECIPIENTS,
    TIMEZONES,
)

RuleId = Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z0-9]+)+$", max_length=64)]
Jurisdiction = Annotated[str, Field(pattern=r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")]
TemplateId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)]
ClockName = Literal["awareness", "determination", "assessment", "materiality_determination", "handling_end"]
Deadline = Literal[tuple(DEADLINE_WORDS)]  # type: ignore[valid-type]
Recipient = Literal[RECIPIENTS]  # type: ignore[valid-type]

CATEGORY_CLASSES = {"sensitive", "pipl_sensitive"}
"""Names ``data_any`` accepts besides single categories: every category of that class."""

_UNITS = ("hours", "days", "business_days", "months")
_PARTS = ("trigger", "deadline", "content")


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


TextList = Annotated[list[LocalText], BeforeValidator(_listify)]


class PeriodSpec(Strict):
    """A fixed period: exactly one of ``hours``, ``days``, ``business_days``, ``months``.

    ``from: year_end`` counts from the end of the calendar year in which the clock started.
    """

    hours: Annotated[int, Field(ge=0, le=100_000)] | None = None
    days: Annotated[int, Field(ge=0, le=3_660)] | None = None
    business_days: Annotated[int, Field(ge=1, le=1_000)] | None = None
    months: Annotated[int, Field(ge=1, le=120)] | None = None
    from_: Literal["clock", "year_end"] = Field("clock", alias="from")

    @model_validator(mode="after")
    def _one_unit(self) -> PeriodSpec:
        given = [u for u in _UNITS if getattr(self, u) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(_UNITS)}")
        if self.from_ == "year_end" and given[0] == "hours":
            raise ValueError("'from: year_end' counts days, business_days or months, not hours")
        return self

    def period(self) -> clocks.Period:
        """The period this spec describes."""
        unit = next(u for u in _UNITS if getattr(self, u) is not None)
        return clocks.Period(unit, getattr(self, unit), self.from_ == "year_end")  # type: ignore[arg-type]


class After(Strict):
    """A clock that starts when another duty is fulfilled."""

    after: RuleId


class Applies(Strict):
    """When a duty applies: every condition given must hold.

    Attributes:
        subjects_in: someone affected in these jurisdictions (codes or EU, EEA; ``US``
            covers every ``US-xx``); also the scope thresholds count in.
        at_least / more_than: threshold on the number of people (see ``count``).
        count: what the threshold counts: ``in_scope`` (people in ``subjects_in``),
            ``total`` (affected_count), ``max_in_one`` (the most in any one jurisdiction).
        data_any: at least one of these data categories (or classes) is involved.
        requires: these yes/no facts are yes.
        unless: none of these yes/no facts is yes.
        any_of: at least one of these conditions holds.
    """

    subjects_in: Annotated[list[str], BeforeValidator(_listify)] = []
    at_least: Annotated[int, Field(ge=1)] | None = None
    more_than: Annotated[int, Field(ge=0)] | None = None
    count: Literal["in_scope", "total", "max_in_one"] = "in_scope"
    data_any: Annotated[list[str], BeforeValidator(_listify)] = []
    requires: Annotated[list[str], BeforeValidator(_listify)] = []
    unless: Annotated[list[str], BeforeValidator(_listify)] = []
    any_of: list[Applies] = []

    @model_validator(mode="after")
    def _one_threshold(self) -> Applies:
        if self.at_least is not None and self.more_than is not None:
            raise ValueError("give at_least or more_than, not both")
        return self


Verified = bool | dict[Literal["trigger", "deadline", "content"], bool]


class Timing(Strict):
    """Fields a variant may change; also part of every rule."""

    citation: Annotated[str, Field(min_length=1)] | None = None
    sources: Annotated[str, Field(min_length=1)] | None = None
    verified: Verified | None = None
    recipient_name: LocalText | None = None
    clock: ClockName | After | None = None
    period: PeriodSpec | None = None
    deadline: Deadline | None = None
    target: PeriodSpec | None = None
    required_fields: list[str] | None = None
    template: TemplateId | None = None
    notes: TextList | None = None
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None


class Variant(Timing):
    """One version of a duty: the first variant whose ``when`` holds and whose dates include
    the moment of awareness decides the fields it gives."""

    when: Applies | None = None


class RuleSpec(Timing):
    """One duty: to notify one recipient under one regime."""

    id: RuleId
    jurisdiction: Jurisdiction | None = None
    regime: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    recipient: Recipient
    applies: Applies = Applies()
    timezone: str | None = None
    calendar: str | None = None
    variants: list[Variant] = []


class RuleFile(Strict):
    """A rule file: one regime's duties."""

    jurisdiction: Jurisdiction
    regime: Annotated[str, Field(min_length=1, max_length=40)]
    title: LocalText
    rules: Annotated[list[RuleSpec], Field(min_length=1)]


def check_file(spec: RuleFile, *, calendars: bool = True) -> Iterable[tuple[Loc, str]]:
    """Checks the schema cannot express; yields ``(location, problem)``.

    Args:
        spec: the validated file.
        calendars: also check that business-day calendars exist in the holidays library.
    """
    seen: dict[str, int] = {}
    for i, rule in enumerate(spec.rules):
        loc: Loc = ("rules", i)
        if rule.id in seen:
            yield (*loc, "id"), f"duplicate rule id '{rule.id}' (first at rules[{seen[rule.id]}])"
        seen.setdefault(rule.id, i)
        yield from _check_rule(spec, rule, loc, calendars)


def _check_rule(spec: RuleFile, rule: RuleSpec, loc: Loc, calendars: bool) -> Iterable[tuple[Loc, str]]:
    jurisdiction = rule.jurisdiction or spec.jurisdiction
    if not rule.id.startswith(jurisdiction.split("-")[0].lower() + "-"):
        yield (*loc, "id"), f"rule id must start with its jurisdiction '{jurisdiction.split('-')[0].lower()}-'"
    if rule.timezone is not None:
        yield from _problem((*loc, "timezone"), clocks.zone, rule.timezone)
    elif jurisdiction not in TIMEZONES and jurisdiction.split("-")[0] not in TIMEZONES:
        yield (*loc, "timezone"), f"no default time zone for '{jurisdiction}'; give timezone (IANA name)"
    yield from _check_applies(rule.applies, (*loc, "applies"))
    parts: list[tuple[Loc, Timing]] = [(loc, rule)]
    parts += [((*loc, "variants", j), v) for j, v in enumerate(rule.variants)]
    for where, part in parts:
        yield from _check_timing(part, where)
        if isinstance(part, Variant) and part.when is not None:
            yield from _check_applies(part.when, (*where, "when"))
    yield from _check_resolved(rule, jurisdiction, loc, calendars)


def _check_timing(part: Timing, loc: Loc) -> Iterable[tuple[Loc, str]]:
    if part.period is not None and part.deadline is not None:
        yield loc, "give a period or a deadline word, not both"
    if part.target is not None and part.period is not None:
        yield (*loc, "target"), "a target is for duties with no fixed period (deadline)"
    for k, name in enumerate(part.required_fields or []):
        if name not in FIELDS:
            yield (*loc, "required_fields", k), _unknown("notice field", name, FIELDS)
    if part.effective_from and part.effective_to and part.effective_from > part.effective_to:
        yield (*loc, "effective_to"), "is before effective_from"


def _check_resolved(rule: RuleSpec, jurisdiction: str, loc: Loc, calendars: bool) -> Iterable[tuple[Loc, str]]:
    """Every variant, merged onto the rule, must say when the duty is due."""
    versions = [((*loc, "variants", j), merge(rule, v)) for j, v in enumerate(rule.variants)] or [(loc, rule)]
    for where, version in versions:
        for name in ("citation", "sources", "recipient_name"):
            if getattr(version, name) is None:
                yield (*where, name), "required but missing (on the rule or this variant)"
        if version.period is None and version.deadline is None:
            yield where, "give a period (hours, days, business_days, months) or a deadline word"
        if calendars and version.period is not None and version.period.business_days is not None:
            yield from _problem((*loc, "calendar"), clocks.holiday_calendar, rule.calendar or jurisdiction)


def _check_applies(applies: Applies, loc: Loc) -> Iterable[tuple[Loc, str]]:
    for k, code in enumerate(applies.subjects_in):
        if code not in JURISDICTION_GROUPS and not re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", code):
            yield (*loc, "subjects_in", k), f"'{code}' is not a jurisdiction code or group ({', '.join(JURISDICTION_GROUPS)})"
    for k, name in enumerate(applies.data_any):
        if name not in DATA_CATEGORIES and name not in CATEGORY_CLASSES:
            yield (*loc, "data_any", k), _unknown("data category", name, [*DATA_CATEGORIES, *CATEGORY_CLASSES])
    for key in ("requires", "unless"):
        for k, name in enumerate(getattr(applies, key)):
            if name not in BOOL_FACTS:
                yield (*loc, key, k), _unknown("yes/no fact", name, BOOL_FACTS)
    for k, sub in enumerate(applies.any_of):
        yield from _check_applies(sub, (*loc, "any_of", k))


def merge(rule: RuleSpec, variant: Variant) -> Timing:
    """The rule's fields with the variant's given fields laid over them."""
    given = variant.model_dump(exclude_unset=True, exclude={"when"}, by_alias=False)
    base = {name: getattr(rule, name) for name in Timing.model_fields}
    for name in given:
        base[name] = getattr(variant, name)
    if "period" in given and "deadline" not in given:
        base["deadline"] = None
    if "deadline" in given and "period" not in given:
        base["period"] = None
    return Timing.model_construct(**base)


def _problem(loc: Loc, check: Any, value: str) -> Iterable[tuple[Loc, str]]:
    try:
        check(value)
    except ValueError as exc:
        yield loc, str(exc)


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    return f"unknown {kind} '{name}' (known: {', '.join(sorted(known))})"
