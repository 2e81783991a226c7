"""The rule book: every rule file on the search path, validated and compiled for evaluation.

Rule files are searched in ``IR_RULES_PATH``, then the workspace's ``rules/`` folder, then
the rules ir ships. A file replaces a lower-priority file of the same name; a rule replaces
a lower-priority rule with the same id, so a workspace can change one duty (say, its own
target for an "immediately" duty) without copying a whole regime.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from ir.content.paths import ContentPaths, shipped_dir
from ir.content.validate import validate_document
from ir.content.yamlfile import Document, open_document
from ir.engine.catalog import display_path
from ir.errors import ContentError, ContentErrors
from ir.i18n import pick
from ir.obligations import clocks
from ir.obligations.facts import Facts
from ir.obligations.schema import (
    After,
    Applies,
    RuleFile,
    RuleSpec,
    Timing,
    check_file,
    merge,
)
from ir.obligations.vocabulary import DEADLINE_WORDS, JURISDICTION_GROUPS, PIPL_SENSITIVE, SENSITIVE, TIMEZONES

Test = Callable[[Facts], bool]
SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Version:
    """One version of a duty, as compiled from a rule (or rule plus variant)."""

    citation: str
    sources: str
    unverified: tuple[str, ...]
    recipient_name: dict[str, str]
    clock: str
    after: str | None
    period: clocks.Period | None
    deadline: str | None
    target: clocks.Period | None
    required_fields: tuple[str, ...]
    template: str | None
    notes: tuple[dict[str, str], ...]
    effective_from: dt.date | None
    effective_to: dt.date | None
    when: Test | None
    reads: tuple[str, ...] = ()
    deadline_text: str = ""
    recipient_en: str = ""
    notes_en: tuple[str, ...] = ()

    def in_force(self, day: dt.date) -> bool:
        """Whether this version is in force on ``day`` (both bounds inclusive)."""
        if self.effective_from is not None and day < self.effective_from:
            return False
        return self.effective_to is None or day <= self.effective_to


@dataclass(frozen=True)
class Rule:
    """A compiled duty.

    Attributes:
        applies: whether the duty applies (unanswered yes/no facts count as no).
        possible: whether it could apply once unanswered yes/no facts are answered yes.
        reads: the yes/no facts its ``applies`` condition reads, sorted (recorded text must
            not depend on hash order).
        wants: those it needs answered yes (``requires``), which could make it apply.
        versions: its versions in order; the first in force whose ``when`` holds is used.
        dated: some version has effective dates.
        presence: the jurisdictions where someone must be affected for it to apply, or None.
    """

    id: str
    jurisdiction: str
    regime: str
    recipient: str
    tz: ZoneInfo
    calendar: str
    applies: Test
    possible: Test
    reads: tuple[str, ...]
    wants: frozenset[str]
    versions: tuple[Version, ...]
    dated: bool
    path: str
    presence: frozenset[str] | None = None


@dataclass
class RuleBook:
    """The rules in force for a workspace, sorted by id."""

    rules: list[Rule]
    files: list[str]

    def __post_init__(self) -> None:
        self.by_id = {r.id: r for r in self.rules}
        # Most rules need someone affected in their jurisdictions: index them by code so a
        # fact set only tries the rules of the places it names.
        self._anywhere: list[int] = []
        self._by_code: dict[str, list[int]] = {}
        for n, rule in enumerate(self.rules):
            if rule.presence is None:
                self._anywhere.append(n)
            else:
                for code in rule.presence:
                    self._by_code.setdefault(code, []).append(n)

    def candidates(self, facts: Facts) -> list[Rule]:
        """The rules that may apply to ``facts`` (the others need people elsewhere), in id order."""
        picked = set(self._anywhere)
        for key, n in facts.subjects.items():
            if n > 0:
                picked.update(self._by_code.get(key, ()))
                picked.update(self._by_code.get(key.partition("-")[0], ()))
        return [self.rules[n] for n in sorted(picked)]


_BOOKS: dict[tuple[tuple[str, int, int], ...], RuleBook] = {}
"""Rule books already loaded in this process, by their files' paths, mtimes and sizes: every
workspace object (the app opens one per background command) shares them."""


class RuleLoader:
    """Loads the rule book from the content search path, reloading when a file changes."""

    def __init__(self, paths: ContentPaths) -> None:
        self.paths = paths
        self._key: tuple[tuple[str, int, int], ...] | None = None
        self._book: RuleBook | None = None
        self._checked: dt.datetime | None = None

    def files(self) -> list[Path]:
        """Rule files in effect, lowest priority first (a file shadows same-named lower ones)."""
        return [path for path, _ in self._scan()]

    def _scan(self) -> list[tuple[Path, tuple[int, int]]]:
        """Rule files in effect with their (mtime, size): one directory read and stat per file."""
        chosen: dict[str, tuple[Path, tuple[int, int]]] = {}
        for folder in reversed(self.paths.dirs("rules")):
            with os.scandir(folder) as entries:
                found = sorted((e for e in entries if e.name.endswith(SUFFIXES) and e.is_file()), key=lambda e: e.name)
            for entry in found:
                stat = entry.stat()
                chosen.pop(entry.name, None)
                chosen[entry.name] = (Path(entry.path), (stat.st_mtime_ns, stat.st_size))
        return list(chosen.values())

    def book(self, *, now: dt.datetime | None = None, max_age: dt.timedelta | None = None) -> RuleBook:
        """The current rule book.

        Args:
            now: the current time, with ``max_age``: skip looking for changed files if the
                last look was less than ``max_age`` ago (reading the folders costs more than
                evaluating the rules). Without them, every call looks.

        Raises:
            ContentErrors: a rule file is invalid (every problem, with file, line and field).
        """
        if self._book is not None and now is not None and max_age is not None and self._checked is not None:
            if self._checked <= now < self._checked + max_age:
                return self._book
        scanned = self._scan()
        key = tuple((str(path), *version) for path, version in scanned)
        if self._book is None or key != self._key:
            book = _BOOKS.get(key)
            if book is None:
                book = load_book([path for path, _ in scanned])
                if len(_BOOKS) >= 8:
                    _BOOKS.clear()
                _BOOKS[key] = book
            self._book, self._key = book, key
        self._checked = now
        return self._book


def load_book(paths: Iterable[Path]) -> RuleBook:
    """Load, validate and compile rule files given lowest priority first.

    Raises:
        ContentErrors: with every problem found in every file.
    """
    errors: list[ContentError] = []
    specs: dict[str, tuple[RuleSpec, RuleFile, Document, int]] = {}
    folders: dict[str, Path] = {}
    shown: list[str] = []
    shipped = shipped_dir("rules").resolve()
    for path in paths:
        try:
            # Shipped rules' calendars are checked by the test suite; checking them here would
            # load the whole holiday library on every command that evaluates rules.
            doc, spec = load_rule_file(path, calendars=path.resolve().parent != shipped)
        except ContentErrors as exc:
            errors.extend(exc.errors)
            continue
        shown.append(doc.path)
        for i, rule in enumerate(spec.rules):
            if rule.id in specs and folders[rule.id] == path.parent:
                errors.append(doc.error(("rules", i, "id"), f"rule '{rule.id}' is also defined in {specs[rule.id][2].path}"))
            specs[rule.id] = (rule, spec, doc, i)
            folders[rule.id] = path.parent
    errors.extend(_check_references(specs))
    if errors:
        raise ContentErrors(errors)
    rules = [compile_rule(rule, spec, doc.path) for rule, spec, doc, _ in specs.values()]
    return RuleBook(sorted(rules, key=lambda r: r.id), shown)


def load_rule_file(path: Path, *, calendars: bool = True) -> tuple[Document, RuleFile]:
    """Read and validate one rule file (``calendars``: check business-day calendars exist).

    Raises:
        ContentErrors: the file is not a valid rule file.
    """
    doc = open_document(path, display_path(path))
    spec = validate_document(doc, RuleFile)
    problems = list(check_file(spec, calendars=calendars))
    if problems:
        raise ContentErrors([doc.error(loc, msg) for loc, msg in problems])
    return doc, spec


def _check_references(specs: dict[str, tuple[RuleSpec, RuleFile, Document, int]]) -> Iterable[ContentError]:
    """Clocks that start from another duty must name a rule that exists, without a cycle."""
    after: dict[str, set[str]] = {}
    for rule_id, (rule, _spec, doc, i) in specs.items():
        parts: list[tuple[tuple[str | int, ...], Timing]] = [(("rules", i), rule)]
        parts += [(("rules", i, "variants", j), v) for j, v in enumerate(rule.variants)]
        for loc, part in parts:
            if isinstance(part.clock, After):
                target = part.clock.after
                if target not in specs:
                    yield doc.error((*loc, "clock", "after"), f"no rule '{target}' to start this clock")
                elif target == rule_id:
                    yield doc.error((*loc, "clock", "after"), "a duty cannot start from its own fulfilment")
                after.setdefault(rule_id, set()).add(target)
    for rule_id in after:
        seen, todo = set(), list(after[rule_id])
        while todo:
            nxt = todo.pop()
            if nxt == rule_id:
                _rule, _spec, doc, i = specs[rule_id]
                yield doc.error(("rules", i, "clock"), "clocks that start from fulfilments form a cycle")
                break
            if nxt not in seen:
                seen.add(nxt)
                todo.extend(after.get(nxt, ()))


def compile_rule(rule: RuleSpec, spec: RuleFile, path: str) -> Rule:
    """Turn a validated rule into closures and plain values for fast evaluation."""
    jurisdiction = rule.jurisdiction or spec.jurisdiction
    tz_name = rule.timezone or TIMEZONES.get(jurisdiction) or TIMEZONES[jurisdiction.split("-")[0]]
    scope = _scope(rule.applies.subjects_in)
    variants = [(merge(rule, v), v.when) for v in rule.variants] or [(rule, None)]
    calendar = rule.calendar or jurisdiction
    versions = tuple(_version(timing, when, scope, calendar) for timing, when in variants)
    reads = _reads(rule.applies)
    return Rule(
        id=rule.id,
        jurisdiction=jurisdiction,
        regime=rule.regime or spec.regime,
        recipient=rule.recipient,
        tz=clocks.zone(tz_name),
        calendar=calendar,
        applies=compile_applies(rule.applies, None, optimistic=False),
        possible=compile_applies(rule.applies, None, optimistic=True),
        reads=tuple(sorted(reads)),
        wants=frozenset(_wants(rule.applies)),
        versions=versions,
        dated=any(v.effective_from or v.effective_to for v in versions),
        path=path,
        presence=scope,
    )


def _version(t: Timing, when: Applies | None, scope: frozenset[str] | None, calendar: str) -> Version:
    verified = t.verified if t.verified is not None else False
    period = t.period.period() if t.period else None
    parts = verified if isinstance(verified, dict) else {p: verified for p in ("trigger", "deadline", "content")}
    clock = t.clock or "awareness"
    return Version(
        citation=t.citation or "",
        sources=t.sources or "",
        unverified=tuple(p for p in ("trigger", "deadline", "content") if not parts.get(p, True)),
        recipient_name=dict(t.recipient_name or {}),
        clock="fulfilment" if isinstance(clock, After) else clock,
        after=clock.after if isinstance(clock, After) else None,
        period=period,
        deadline=t.deadline,
        target=t.target.period() if t.target else None,
        required_fields=tuple(t.required_fields or ()),
        template=t.template,
        notes=tuple(t.notes or ()),
        effective_from=t.effective_from,
        effective_to=t.effective_to,
        when=compile_applies(when, scope, optimistic=False) if when else None,
        reads=tuple(sorted(_reads(when))) if when else (),
        deadline_text=_deadline_text(period, t.deadline, calendar),
        recipient_en=pick(t.recipient_name or {}, "en"),
        notes_en=tuple(pick(n, "en") for n in t.notes or ()),
    )


def _deadline_text(period: clocks.Period | None, deadline: str | None, calendar: str) -> str:
    if period is None:
        return DEADLINE_WORDS[deadline or "unspecified"]
    return period.text(calendar) + (" after the end of the calendar year" if period.from_year_end else "")


def _scope(codes: list[str]) -> frozenset[str] | None:
    if not codes:
        return None
    out: set[str] = set()
    for code in codes:
        out |= JURISDICTION_GROUPS.get(code, {code})
    return frozenset(out)


def _categories(names: list[str]) -> frozenset[str]:
    out: set[str] = set()
    for name in names:
        out |= {"sensitive": SENSITIVE, "pipl_sensitive": PIPL_SENSITIVE}.get(name, {name})
    return frozenset(out)


def _reads(applies: Applies) -> set[str]:
    names = set(applies.requires) | set(applies.unless)
    for sub in applies.any_of:
        names |= _reads(sub)
    return names


def _wants(applies: Applies) -> set[str]:
    names = set(applies.requires)
    for sub in applies.any_of:
        names |= _wants(sub)
    return names


def compile_applies(applies: Applies, scope: frozenset[str] | None, *, optimistic: bool) -> Test:
    """A function telling whether ``applies`` holds for some facts.

    Args:
        applies: the condition.
        scope: the jurisdictions thresholds count in, inherited from the enclosing condition.
        optimistic: count unanswered ``requires`` facts as yes (what *could* apply).
    """
    own = _scope(applies.subjects_in) or scope
    checks: list[Test] = []
    if applies.subjects_in:
        present = own or frozenset()
        checks.append(lambda f: f.count_in(present) > 0)
    threshold = applies.at_least if applies.more_than is None else applies.more_than + 1
    if threshold is not None:
        checks.append(_threshold(applies.count, own, threshold))
    if applies.data_any:
        wanted = _categories(applies.data_any)
        checks.append(lambda f: not wanted.isdisjoint(f.categories))
    required = tuple(applies.requires)
    if required:
        checks.append(lambda f: all(f.flags.get(n, optimistic) for n in required))
    excluded = tuple(applies.unless)
    if excluded:
        checks.append(lambda f: not any(f.flags.get(n, False) for n in excluded))
    if applies.any_of:
        subs = [compile_applies(s, own, optimistic=optimistic) for s in applies.any_of]
        checks.append(lambda f: any(t(f) for t in subs))
    return _all(checks)


def _all(checks: list[Test]) -> Test:
    """The conjunction of ``checks``, as nested closures (cheaper than all() over a generator)."""
    if not checks:
        return lambda f: True
    test = checks[-1]
    for check in reversed(checks[:-1]):
        test = _both(check, test)
    return test


def _both(first: Test, second: Test) -> Test:
    return lambda f: first(f) and second(f)


def _threshold(count: str, scope: frozenset[str] | None, threshold: int) -> Test:
    if count == "total" or scope is None:
        return lambda f: f.total >= threshold
    if count == "max_in_one":
        return lambda f: f.max_in_one(scope) >= threshold
    return lambda f: f.count_in(scope) >= threshold
