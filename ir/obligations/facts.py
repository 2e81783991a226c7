"""Reading incident facts into the typed form the rules evaluate.

Facts reach the engine from three places: playbook decisions (already typed), ``ir incident
set`` (undeclared facts arrive as guessed JSON or text) and a ``--facts`` file (JSON or YAML).
The reader accepts every spelling those produce and reports, per key, what it could not use.
A ``--facts`` file with a problem is refused; in an incident the value is ignored and the
problem shown with the obligations, so one bad fact never blocks the incident's commands.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ir.clock import parse_instant
from ir.obligations.vocabulary import BOOL_FACTS, DATA_CATEGORIES, FACTS, TIME_FACTS

_TRUE = {"true", "yes", "y", "1", "on", "是"}
_FALSE = {"false", "no", "n", "0", "off", "否"}
_JURISDICTION = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?$")
_RULE_KEY = re.compile(r"^[a-z0-9][a-z0-9-]*$")

MAX_TARGET_HOURS = 100_000
"""Longest own target accepted, in hours (the longest period a rule file may give)."""

MIN_YEAR, MAX_YEAR = 1900, 2999
"""Instants the rules accept: the longest period (120 months, or 100,000 hours from a year's
end) stays far inside the calendar, which ends in 9999."""


@dataclass(frozen=True)
class FactProblem:
    """A fact whose value cannot be used."""

    key: str
    problem: str

    def __str__(self) -> str:
        return f"{self.key}: {self.problem}"


@dataclass
class Facts:
    """An incident's facts, typed. Missing facts are absent (None / empty).

    Attributes:
        times: clock facts (``aware_at`` ...) as aware UTC datetimes.
        subjects: people affected by jurisdiction code.
        affected_count: people affected in total, if given.
        categories: data categories involved.
        flags: yes/no facts that were answered.
        targets: own targets in hours by rule id (or ``default``).
        problems: values that could not be read.
    """

    times: dict[str, dt.datetime] = field(default_factory=dict)
    subjects: dict[str, int] = field(default_factory=dict)
    affected_count: int | None = None
    categories: frozenset[str] = frozenset()
    flags: dict[str, bool] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    problems: list[FactProblem] = field(default_factory=list)
    _counts: dict[frozenset[str], int] = field(default_factory=dict, repr=False)
    _maxima: dict[frozenset[str], int] = field(default_factory=dict, repr=False)
    _split: list[tuple[str, str, int]] | None = field(default=None, repr=False)

    def count_in(self, codes: frozenset[str]) -> int:
        """People affected in the jurisdictions ``codes`` (``US`` covers ``US-CA`` too)."""
        cached = self._counts.get(codes)
        if cached is None:
            cached = self._counts[codes] = sum(n for key, country, n in self._keys() if key in codes or country in codes)
        return cached

    def max_in_one(self, codes: frozenset[str]) -> int:
        """The largest number affected in any single jurisdiction among ``codes``."""
        cached = self._maxima.get(codes)
        if cached is None:
            cached = self._maxima[codes] = max(
                (n for key, country, n in self._keys() if key in codes or country in codes), default=0
            )
        return cached

    def _keys(self) -> list[tuple[str, str, int]]:
        # Each jurisdiction with its country, split once: rules ask for many scopes.
        if self._split is None:
            self._split = [(key, key.partition("-")[0], n) for key, n in self.subjects.items()]
        return self._split

    @property
    def total(self) -> int:
        """People affected in total: ``affected_count`` if given, else the sum of ``subjects``."""
        if self.affected_count is not None:
            return self.affected_count
        return sum(self.subjects.values())


def read_facts(raw: Mapping[str, Any]) -> Facts:
    """Type the facts the rules read; other keys are left alone.

    Never raises: values that cannot be used are listed in :attr:`Facts.problems`.
    """
    facts = Facts()
    for key, value in raw.items():
        if key not in FACTS or value is None:
            continue
        try:
            _read_one(facts, key, value)
        except ValueError as exc:
            facts.problems.append(FactProblem(key, str(exc)))
    return facts


def _read_one(facts: Facts, key: str, value: Any) -> None:
    if key in TIME_FACTS:
        facts.times[key] = read_time(value)
    elif key in BOOL_FACTS:
        facts.flags[key] = read_bool(value)
    elif key == "subjects":
        facts.subjects = {_jurisdiction(k): n for k, n in read_counts(value).items()}
    elif key == "notice_targets":
        facts.targets = {_rule_key(k): _target_hours(k, n) for k, n in read_counts(value).items()}
    elif key == "affected_count":
        facts.affected_count = read_count(value)
    elif key == "data_categories":
        facts.categories = read_categories(value)


def read_time(value: Any) -> dt.datetime:
    """An instant with a UTC offset, as a datetime or ISO 8601 text."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError(f"'{value.isoformat()}' has no UTC offset")
        return _in_range(_utc(value))
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time with offset, e.g. 2026-11-20T09:30+08:00, not {value!r}")
    try:
        instant = parse_instant(value)
    except OverflowError:
        raise ValueError(f"'{value}' is out of range") from None
    except ValueError as exc:
        raise ValueError(f"'{value}' is not an ISO 8601 time with offset ({exc})") from None
    return _in_range(instant)


def _utc(value: dt.datetime) -> dt.datetime:
    try:
        return value.astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValueError(f"'{value.isoformat()}' is out of range") from None


def _in_range(value: dt.datetime) -> dt.datetime:
    """Refuse instants so far off that a deadline counted from them leaves the calendar."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"'{value.isoformat()}' is not between the years {MIN_YEAR} and {MAX_YEAR}")
    return value


def read_bool(value: Any) -> bool:
    """Yes or no, as a boolean or a word (true/false, yes/no)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"'{value}' is not yes/no (use true or false)")


def read_count(value: Any) -> int:
    """A whole number of people, zero or more."""
    if isinstance(value, bool):
        raise ValueError("expected a whole number, not yes/no")
    if isinstance(value, int):
        number = value
    else:
        text = str(value).strip().replace(",", "").replace("_", "")
        if not re.fullmatch(r"[-+]?[0-9]+", text):
            raise ValueError(f"'{value}' is not a whole number")
        if len(text.lstrip("+-").lstrip("0")) > 18:
            # Python refuses to read integers past 4,300 digits with an error of its own, and
            # no count of people needs more than 18.
            raise ValueError(f"'{text[:24]}…' is too large a number")
        number = int(text)
    if number < 0:
        raise ValueError(f"{number} is negative")
    return number


def read_counts(value: Any) -> dict[str, int]:
    """Counts by key: a mapping, or text ``CN=1500000,DE=40``."""
    if isinstance(value, str):
        pairs = [p.partition("=") for p in value.split(",") if p.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError(f"'{value}' is not KEY=NUMBER,... (e.g. CN=1500000,DE=40)")
        value = {k.strip(): v for k, _, v in pairs}
    if not isinstance(value, Mapping):
        raise ValueError("expected counts by key, e.g. {CN: 1500000, DE: 40}")
    out: dict[str, int] = {}
    for key, number in value.items():
        try:
            out[str(key)] = read_count(number)
        except ValueError as exc:
            raise ValueError(f"count for '{key}': {exc}") from None
    return out


def read_categories(value: Any) -> frozenset[str]:
    """Data categories: a list, or comma-separated text, each from the vocabulary."""
    items: Iterable[Any] = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, (list, tuple, set, frozenset)) and not isinstance(value, str):
        raise ValueError("expected a list of data categories")
    picked = {str(item).strip() for item in items if str(item).strip()}
    unknown = sorted(picked - DATA_CATEGORIES.keys())
    if unknown:
        noun = "category" if len(unknown) == 1 else "categories"
        raise ValueError(f"unknown data {noun} {', '.join(unknown)} (known: {', '.join(DATA_CATEGORIES)})")
    return frozenset(picked)


def _target_hours(key: str, hours: int) -> int:
    # A rule's own period is at most 100,000 hours too; a longer target would leave the calendar.
    if hours > MAX_TARGET_HOURS:
        raise ValueError(f"target for '{key}': {hours} hours is more than {MAX_TARGET_HOURS:,}")
    return hours


def _jurisdiction(key: str) -> str:
    code = key.strip().upper()
    if not _JURISDICTION.match(code):
        raise ValueError(f"'{key}' is not a jurisdiction code (ISO 3166: CN, DE, or US-CA for a state)")
    return code


def _rule_key(key: str) -> str:
    name = key.strip().lower()
    if not _RULE_KEY.match(name):
        raise ValueError(f"'{key}' is not a rule id (or 'default')")
    return name
