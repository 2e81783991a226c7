"""Benchmark: evaluating every rule for 10,000 varied fact sets, and the reactor's cost per command.

Prints fact sets/s and rule evaluations/s, against a baseline measured in the same run
(reading and typing the same fact sets without evaluating any rule), then the durable
command rate of an incident with and without the obligations reactor.

Run: .venv/bin/python bench/obligations.py [--sets N] [--commands N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ir.clock import VirtualClock  # noqa: E402
from ir.content.paths import shipped_dir  # noqa: E402
from ir.engine.service import ReactorContext  # noqa: E402
from ir.obligations.book import load_book  # noqa: E402
from ir.obligations.engine import evaluate  # noqa: E402
from ir.obligations.facts import read_facts  # noqa: E402
from ir.obligations.vocabulary import BOOL_FACTS, DATA_CATEGORIES  # noqa: E402
from ir.workspace import Workspace  # noqa: E402

PLACES = ["CN", "DE", "FR", "NO", "GB", "US-CA", "US-NY", "US-TX", "US-FL", "US-MA", "US-WA", "US-CO", "US-NJ",
          "SG", "AU", "CA", "JP", "KR", "IN", "BR", "CH"]
COUNTS = [1, 40, 249, 250, 499, 500, 501, 999, 1000, 1001, 5001, 10_001, 999_999, 1_000_000, 12_000_000]
OFFSETS = ["+08:00", "Z", "-05:00", "-08:00", "+09:00", "+01:00", "-03:00"]


def fact_set(rng: random.Random) -> dict[str, Any]:
    """One plausible, varied fact set: places and counts around the thresholds, any flags."""
    aware = dt.datetime(2023, 6, 1) + dt.timedelta(minutes=rng.randrange(0, 4 * 365 * 24 * 60))
    facts: dict[str, Any] = {
        "aware_at": aware.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(OFFSETS),
        "subjects": {p: rng.choice(COUNTS) for p in rng.sample(PLACES, rng.randint(1, 6))},
        "data_categories": rng.sample(sorted(DATA_CATEGORIES), rng.randint(1, 5)),
    }
    for flag in sorted(BOOL_FACTS):
        roll = rng.random()
        if roll < 0.25:
            facts[flag] = roll < 0.08
    for clock in ("determined_at", "assessed_at", "materiality_determined_at", "handling_ended_at"):
        if rng.random() < 0.3:
            facts[clock] = (aware + dt.timedelta(hours=rng.randint(1, 400))).strftime("%Y-%m-%dT%H:%M:%SZ")
    return facts


def bench_evaluation(sets: int) -> None:
    book = load_book(sorted(shipped_dir("rules").glob("*.yaml")))
    rng = random.Random(20261120)
    raw = [fact_set(rng) for _ in range(sets)]
    now = dt.datetime(2026, 11, 20, tzinfo=dt.timezone.utc)

    start = time.perf_counter()
    typed = [read_facts(f) for f in raw]
    baseline = time.perf_counter() - start

    start = time.perf_counter()
    produced = 0
    for f in raw:
        produced += len(evaluate(book, read_facts(f), now=now))
    full = time.perf_counter() - start

    rules = len(book.rules)
    assert all(not t.problems for t in typed)
    print(f"rules: {rules}; fact sets: {sets}; obligations produced: {produced} ({produced / sets:.1f} per set)")
    print(f"baseline (read facts only): {sets / baseline:,.0f} fact sets/s")
    print(f"evaluate all rules:         {sets / full:,.0f} fact sets/s, {sets * rules / full:,.0f} rule evaluations/s")
    print(f"ratio full / baseline time: {full / baseline:.1f}x")


def bench_commands(count: int, rounds: int = 5) -> None:
    with tempfile.TemporaryDirectory() as folder:
        clock = VirtualClock(dt.datetime(2026, 11, 20, 1, 0, tzinfo=dt.timezone.utc))
        with Workspace(Path(folder) / "bench.db", clock=clock, actor="bench") as ws:
            facts = {"aware_at": "2026-11-20T09:30+08:00", "subjects": "CN=1500000,DE=40,US-CA=600"}
            incident_id = ws.incidents.open("personal-data-leak", title="bench", facts=facts).id
            reactor = ws._reassess_duties  # the wrapper the workspace registers (it builds the service on first use)
            flip = iter(range(10**9))

            def notes() -> float:
                start = time.perf_counter()
                for n in range(count):
                    ws.incidents.note(incident_id, f"note {n}")
                return count / (time.perf_counter() - start)

            def fact_changes() -> float:
                start = time.perf_counter()
                for _ in range(count):
                    ws.incidents.set_facts(incident_id, {"subjects": f"CN={1_000_000 + next(flip) % 2},DE=40,US-CA=600"})
                return count / (time.perf_counter() - start)

            # Alternate with and without the reactor so disk noise hits both alike; report medians.
            rates: dict[str, list[float]] = {k: [] for k in ("bare_notes", "notes", "bare_facts", "facts")}
            for _ in range(rounds):
                ws.reactors.remove(reactor)
                rates["bare_notes"].append(notes())
                rates["bare_facts"].append(fact_changes())
                ws.reactors.append(reactor)
                rates["notes"].append(notes())
                rates["facts"].append(fact_changes())
            note_cost, fact_cost = reactor_cost(ws, incident_id)
    m = {k: statistics.median(v) for k, v in rates.items()}
    print(f"durable commands (synchronous=FULL; median of {rounds} alternating rounds of {count}):")
    print(f"  note, no reactor:         {m['bare_notes']:,.0f}/s")
    print(f"  note, with reactor:       {m['notes']:,.0f}/s  ({m['notes'] / m['bare_notes']:.2f}x)")
    print(f"  fact change, no reactor:  {m['bare_facts']:,.0f}/s")
    print(f"  fact change, re-assessed: {m['facts']:,.0f}/s  ({m['facts'] / m['bare_facts']:.2f}x; each records an assessment)")
    command_us = 1e6 / m["bare_notes"]
    print("reactor time per call, measured in-process without disk I/O:")
    print(f"  after a note:                  {note_cost:,.1f} us  ({note_cost / command_us:.2%} of a durable note)")
    print(f"  after a fact the rules read:   {fact_cost:,.1f} us  ({fact_cost / command_us:.2%} of a durable note; list unchanged)")


def reactor_cost(ws: Workspace, incident_id: str, calls: int = 2000) -> tuple[float, float]:
    """Microseconds per reactor call after an irrelevant event and after a relevant one."""
    with ws.store.read() as conn:
        events = ws.incidents.timeline(incident_id)
        note = next(e for e in events if e.kind == "note.added")
        fact = next(e for e in events if e.kind == "fact.set")
        state = ws.incidents.get(incident_id)
        out = []
        for event in (note, fact):
            ctx = ReactorContext(conn, incident_id, [event], ws.clock_for(state), ws.incidents)
            ws.obligations.react(ctx)  # warm: state loaded, rules cached
            start = time.perf_counter()
            for _ in range(calls):
                ws.obligations.react(ReactorContext(conn, incident_id, [event], ws.clock_for(state), ws.incidents))
            out.append((time.perf_counter() - start) / calls * 1e6)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", type=int, default=10_000, help="fact sets to evaluate (default 10,000)")
    parser.add_argument("--commands", type=int, default=100, help="commands per command measurement (default 100)")
    args = parser.parse_args()
    bench_evaluation(args.sets)
    bench_commands(args.commands)


if __name__ == "__main__":
    main()
