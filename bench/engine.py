"""Engine and store throughput: durable commands, a busy workspace, rebuild and verify.

Prints each figure and its ratio to a baseline measured in the same run: the rate of bare
SQLite commits (one row, BEGIN IMMEDIATE, WAL, synchronous=FULL) on the same disk, which is
the ceiling for any durable command.

    .venv/bin/python bench/engine.py            # full sizes (issue targets)
    .venv/bin/python bench/engine.py --quick    # small sizes, for a smoke run
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from ir.store import rebuild as rebuilder
from ir.workspace import Workspace

TASKS = ("record_report", "open_bridge", "preserve_first_evidence", "inform_dpo")


def bare_commit_rate(folder: Path, n: int) -> float:
    """Commits per second of a one-row transaction: the durability ceiling."""
    conn = sqlite3.connect(folder / "baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    start = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", (f"event {i} " * 20,))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


def durable_commands(ws: Workspace, n: int) -> float:
    """Single-event commands per second on one incident: notes and task toggles, alternating."""
    incident = ws.incidents.open("personal-data-leak", title="bench: durable commands").id
    start = time.perf_counter()
    for i in range(n):
        if i % 2:
            ws.incidents.note(incident, f"observation {i}")
        else:
            task = TASKS[(i // 2) % 4]
            ws.incidents.complete_task(incident, task, undo=(i // 8) % 2 == 1)
    return n / (time.perf_counter() - start)


def busy_workspace(ws: Workspace, incidents: int, events: int) -> tuple[float, float]:
    """Open ``incidents`` incidents, then append ``events`` notes spread over them; rates per second."""
    start = time.perf_counter()
    ids = [ws.incidents.open("personal-data-leak", title=f"bench incident {i}").id for i in range(incidents)]
    open_rate = incidents / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(events):
        ws.incidents.note(ids[i % len(ids)], f"note {i}")
    return open_rate, events / (time.perf_counter() - start)


def long_incident(ws: Workspace, events: int) -> str:
    """An incident with ``events`` events (appended in large transactions to save time)."""
    incident = ws.incidents.open("personal-data-leak", title="bench: long incident").id
    from ir.engine.commands import NewEvent

    batch = [NewEvent("note.added", {"text": f"entry {i}"}) for i in range(500)]
    while ws.incidents.get(incident).seq < events:
        ws.incidents.record(incident, batch[: min(500, events - ws.incidents.get(incident).seq)])
    return incident


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    """Best of ``repeat`` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes for a smoke run")
    args = parser.parse_args()
    commands, incidents, events, long_events = (300, 50, 2_000, 1_000) if args.quick else (5_000, 1_000, 100_000, 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        baseline = bare_commit_rate(folder, commands)
        print(f"baseline: bare durable SQLite commits            {baseline:10,.0f} /s")
        ws = Workspace(folder / "bench.db", actor="bench")
        rate = durable_commands(ws, commands)
        print(f"durable single-event commands (in-process)      {rate:10,.0f} /s  ({rate / baseline:.2f}x baseline; target >= 2,000/s)")
        open_rate, note_rate = busy_workspace(ws, incidents, events)
        print(f"open {incidents:,} incidents                           {open_rate:10,.0f} /s")
        print(f"append {events:,} events across them              {note_rate:10,.0f} /s  ({note_rate / baseline:.2f}x baseline)")
        incident = long_incident(ws, long_events)

        def rebuild_only() -> None:
            # The projection replay alone, rolled back: what `ir admin rebuild ID` does after verifying.
            with ws.store.read():
                pass
            ws.store.conn.execute("BEGIN IMMEDIATE")
            try:
                rebuilder.rebuild(ws.store.conn, incident)
            finally:
                ws.store.conn.execute("ROLLBACK")

        rebuild_s = timed(rebuild_only)
        verify_s = timed(lambda: ws.audit.verify(incident))
        both_s = timed(lambda: ws.audit.rebuild(incident, check_only=True))
        print(f"rebuild one incident of {long_events:,} events             {rebuild_s:10.3f} s   ({long_events / rebuild_s:,.0f} events/s; target < 0.5 s)")
        print(f"verify its chain                                  {verify_s:10.3f} s   ({long_events / verify_s:,.0f} events/s)")
        print(f"`ir admin rebuild ID` (verify + rebuild)          {both_s:10.3f} s")
        total = ws.store.query("SELECT COUNT(*) AS n FROM events")[0]["n"]
        verify_all = timed(lambda: ws.audit.verify(), repeat=1)
        print(f"verify the whole workspace ({total:,} events)        {verify_all:10.3f} s   ({total / verify_all:,.0f} events/s)")
        ws.close()


if __name__ == "__main__":
    main()
