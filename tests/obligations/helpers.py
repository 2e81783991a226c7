"""Shared pieces of the obligations tests: the shipped rule book and fact evaluation."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from ir.content.paths import shipped_dir
from ir.obligations.book import RuleBook, load_book
from ir.obligations.engine import Obligation, evaluate
from ir.obligations.facts import read_facts

UTC = dt.timezone.utc
AWARE = "2026-11-20T09:30:00+08:00"
"""A Friday morning in Beijing: 2026-11-20T01:30:00Z, Thursday evening in the Americas."""

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


@lru_cache(maxsize=1)
def shipped_book() -> RuleBook:
    """The rules ir ships, loaded once per test process."""
    return load_book(sorted(shipped_dir("rules").glob("*.yaml")))


def assess(facts: dict[str, Any], *, now: dt.datetime = NOW, fulfilled: dict[str, str] | None = None) -> dict[str, Obligation]:
    """The shipped rules' obligations for ``facts``, by rule id."""
    done = {rule: dt.datetime.fromisoformat(at) for rule, at in (fulfilled or {}).items()}
    typed = read_facts(facts)
    assert not typed.problems, typed.problems
    return {o.rule: o for o in evaluate(shipped_book(), typed, now=now, fulfilled=done)}
