"""Benchmark: importing N affected people and rendering one letter each, against plain baselines.

Generates N people (default 1,000,000) as a CSV, then measures, each in its own process
through the real ``ir`` entry point:

* ``ir subjects import``: rows/s, against sqlite-utils ``insert_all`` of the same CSV rows
  into a plain table (read with ``csv.DictReader``, streamed) measured in the same run;
* ``ir notices render --format txt``: letters/s (files written, manifest hashed), against a
  plain single-threaded Jinja2 loop rendering the same template to strings, in the same run;
* peak memory: the largest single process (from ``wait4``) and the whole process tree
  (sampled from /proc every 0.1 s);
* the cost of encryption: sealing and opening one person's fields (AES-256-GCM), on one core.

Personal fields are stored encrypted, so the runs need a data key: ``IR_KEY_FILE`` if set,
else a key made for the run in its temporary folder.

    .venv/bin/python bench/notices.py                  # 1,000,000 people (issue targets)
    .venv/bin/python bench/notices.py --people 100000  # a quicker run
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

TEMPLATE = "gdpr-individual-en"
BASELINE_LETTERS = 100_000
"""Letters the plain Jinja2 loop renders (its rate is steady well before that)."""

FACTS = {
    "organisation": "Example Retail Ltd",
    "contact": "our Data Protection Officer at privacy@example.com or 0800 123 4567",
    "incident_summary": "On 18 November 2026 we found that a backup of our customer database could be read from the internet "
                        "without a password. An unknown party downloaded the file.",
    "occurred_at": "2026-11-17T22:40:00Z",
    "aware_at": "2026-11-18T02:15:00Z",
    "data_categories": "name,contact,postal_address",
    "possible_harm": "Someone could use your details to send you convincing phishing messages or to attempt identity fraud.",
    "remedial_measures": "We closed public access within an hour, deleted the backup, checked our other storage and reported "
                         "the breach to the regulators.",
    "individual_measures": "Be alert to messages that mention your orders, and never share passwords or one-time codes.",
}
COUNTRIES = ["DE", "FR", "IT", "ES", "NL", "PL", "SE", "IE", "AT", "BE"]
STREETS = ["Hauptstraße", "Rue de la Paix", "Via Roma", "Calle Mayor", "Kerkstraat", "Ulica Długa", "Storgatan"]


def generate(path: Path, n: int) -> None:
    """Write ``n`` people, streamed."""
    rng = random.Random(7)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["reference", "name", "email", "phone", "postal_address", "jurisdiction", "locale", "categories"])
        for i in range(n):
            writer.writerow([
                f"CUST-{i:08d}", f"Person {i}", f"person{i}@example.org", f"+49 30 {rng.randrange(10**7):07d}",
                f"{rng.randrange(1, 200)} {rng.choice(STREETS)}\n{rng.randrange(10000, 99999)} City",
                rng.choice(COUNTRIES), "en", "name;contact;postal_address",
            ])


class TreeMemory:
    """Samples the summed resident memory of a process and its descendants."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self.pid))
            self._stop.wait(0.1)


def tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        current = frontier.pop()
        for pid, parent in parents.items():
            if parent == current and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(rss.get(pid, 0) for pid in tree)


def run_ir(db: Path, *args: str) -> tuple[float, dict[str, Any], int, int]:
    """Run ``python -m ir``; return (seconds, its JSON output, largest process RSS, peak tree RSS)."""
    env = {**os.environ, "IR_ACTOR": "bench", "IR_LANG": "en"}
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "ir", "--db", str(db), *args, "--json"], cwd=REPO, env=env,
                                stdout=out, stderr=err)
        with TreeMemory(proc.pid) as memory:
            # wait4 gives this run's own peak (the largest process of its tree), not the bench's.
            _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if status:
            raise SystemExit(f"ir {' '.join(args)} failed: {err.read().decode()}")
        return elapsed, json.loads(out.read()), usage.ru_maxrss * 1024, memory.peak


def baseline_insert_all(csv_path: Path, folder: Path) -> float:
    """Rows/s of sqlite-utils insert_all storing the same CSV rows in a plain table."""
    from sqlite_utils import Database

    db = Database(folder / "baseline.db")
    db.enable_wal()
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as f:
        rows = csv.DictReader(f)
        db["people"].insert_all(rows, batch_size=1000)
    elapsed = time.perf_counter() - started
    count = db["people"].count
    db.close()
    return count / elapsed


def baseline_jinja_loop(db_path: Path, incident: str, n: int) -> float:
    """Letters/s of a plain single-threaded Jinja2 loop rendering the same letter to strings."""
    import jinja2

    from ir.notices import letters
    from ir.workspace import Workspace

    with Workspace(db_path, actor="bench") as ws:
        state = ws.incidents.get(incident)
        tpl = ws.notices.template(TEMPLATE)
        plan = ws.notices.plan(state, tpl, "txt", ws.clock.now())
        env = jinja2.Environment(undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
        env.filters.update(letters._filters(plan))
        template = env.from_string(tpl.body)
        renderer = letters.Renderer(plan)
        cipher = ws.keys.cipher("the benchmark")
        rows = list(itertools.islice((row for page in ws.notices.people(incident, "", []) for row in page), n))
    # Opened before the clock starts: the baseline is the plain loop, without decryption.
    people = [(cipher.open(incident, row[0], row[4]), row) for row in rows]
    started = time.perf_counter()
    for who, row in people:
        person = {"reference": who.reference, "name": who.name, "email": who.email, "phone": who.phone,
                  "postal_address": who.postal_address, "jurisdiction": row[1], "locale": row[2],
                  "categories_text": renderer._category_text([])}
        template.render(plan.variables, person=person)
    return len(people) / (time.perf_counter() - started)


def configure_key(folder: Path) -> None:
    """Use ``IR_KEY_FILE`` / ``IR_KEY`` if set, else a new key file in ``folder`` (the runs inherit it)."""
    from ir.notices import keys

    if not (os.environ.get(keys.FILE_VAR) or os.environ.get(keys.ENV_VAR)):
        os.environ[keys.FILE_VAR] = str(keys.write_key_file(folder / "data.key", keys.generate()))


def crypto_cost(n: int = 200_000) -> tuple[float, float]:
    """Microseconds to seal and to open one person's fields (AES-256-GCM with its row as associated data), one core."""
    from ir.notices import keys, pii

    cipher = pii.Cipher(keys.required())
    packed = pii.pack("CUST-00000001", "Person 1", "person1@example.org", "+49 30 1234567", "12 Hauptstraße\n12345 City")
    key = "9" * 64
    started = time.perf_counter()
    sealed = [cipher.seal("INC-2026-0001", key, packed) for _ in range(n)]
    seal = (time.perf_counter() - started) / n * 1e6
    started = time.perf_counter()
    for value in sealed:
        cipher.open_packed("INC-2026-0001", key, value)
    return seal, (time.perf_counter() - started) / n * 1e6


def file_creation_rate(folder: Path, n: int = 20_000) -> float:
    """Files/s of bare create-write-close of 2 KB files in 256 folders: the disk's ceiling for one file per letter."""
    root = folder / "files"
    handles = []
    for i in range(256):
        (root / f"{i:02x}").mkdir(parents=True)
        handles.append(os.open(root / f"{i:02x}", os.O_RDONLY))
    data = b"x" * 2048
    started = time.perf_counter()
    for i in range(n):
        fd = os.open(f"{i:08d}.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600, dir_fd=handles[i % 256])
        os.write(fd, data)
        os.close(fd)
    rate = n / (time.perf_counter() - started)
    for fd in handles:
        os.close(fd)
    return rate


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary folder.")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ir-bench-notices-"))
    db = folder / "ws.db"
    source = folder / "people.csv"
    configure_key(folder)
    print(f"{args.people:,} people in {folder} ({os.cpu_count()} cores)", flush=True)
    generate(source, args.people)
    print(f"generated {source.stat().st_size / 1e6:.0f} MB of CSV", flush=True)

    from ir.workspace import Workspace

    with Workspace(db, actor="bench") as ws:
        incident = ws.incidents.open("personal-data-leak", title="bench: notices").id

    seal, unseal = crypto_cost()
    print(f"encryption: seal {seal:.2f} µs, open {unseal:.2f} µs per person (AES-256-GCM, one core)", flush=True)
    base_rows = baseline_insert_all(source, folder)
    seconds, result, largest, tree = run_ir(db, "subjects", "import", incident, str(source))
    rows = result["rows"] / seconds
    print(f"import: {result['imported']:,} people in {seconds:.1f} s = {rows:,.0f} rows/s; "
          f"sqlite-utils insert_all {base_rows:,.0f} rows/s; ratio {rows / base_rows:.2f}; "
          f"peak RSS {largest / 2**20:.0f} MB (largest process), {tree / 2**20:.0f} MB (all processes)", flush=True)

    with Workspace(db, actor="bench") as ws:
        ws.incidents.set_facts(incident, FACTS)
    base_letters = baseline_jinja_loop(db, incident, min(BASELINE_LETTERS, args.people))
    files = file_creation_rate(folder)
    print(f"baselines: plain Jinja2 loop {base_letters:,.0f} letters/s (to strings, one core); "
          f"bare file creation {files:,.0f} files/s (one core)", flush=True)
    for label, extra in (("render, 1,000 letters per file", ["--bundle", "1000"]), ("render, one file per letter", [])):
        out = folder / f"letters-{len(extra)}"
        seconds, result, largest, tree = run_ir(db, "notices", "render", incident, "--template", TEMPLATE, "--out", str(out), *extra)
        letters = result["count"] / seconds
        print(f"{label}: {result['count']:,} letters in {seconds:.1f} s = {letters:,.0f} letters/s; "
              f"ratio to the plain loop {letters / base_letters:.2f}; "
              f"peak RSS {largest / 2**20:.0f} MB (largest process), {tree / 2**20:.0f} MB (all processes)", flush=True)
    if not args.keep:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
