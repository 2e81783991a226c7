"""Evidence bundles: an incident's record as plain files anyone can check with standard tools.

A bundle folder holds:

* ``events.jsonl`` — one event per line, each line exactly the text its hash covers;
* ``chain.txt`` — ``<seq> <sha256>`` per event;
* ``playbook-<digest>.json`` — the playbook content the incident ran on (its SHA-256 is the
  digest named in the first event);
* further files capabilities add (for example the hashes of every notice sent);
* ``manifest.json`` — what was exported, by whom and when, the head hash, and the SHA-256
  of every file above; and ``VERIFY.md``, how to check all this without ir.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ir.errors import InvalidInput
from ir.store.chain import GENESIS, canonical_json

VERIFY_TEXT = """\
# Verifying this evidence bundle

Everything here can be checked with standard tools (`sha256sum`, `jq`, `awk`); `ir audit verify
<this folder>` does the same checks.

1. **Files are complete and unchanged.** `manifest.json` lists the SHA-256 of every other file:

       jq -r '.files | to_entries[] | "\\(.value)  \\(.key)"' manifest.json | sha256sum -c -

2. **Each event matches its hash.** Every line of `events.jsonl` is exactly the text that was
   hashed (no trailing newline is part of it). `chain.txt` lists the hashes in order:

       while IFS= read -r line; do printf '%s' "$line" | sha256sum | cut -d' ' -f1; done \\
           < events.jsonl | diff - <(awk '{print $2}' chain.txt) && echo "hashes match"

3. **The events form one unbroken chain.** Each event's `prev_hash` is the previous event's
   hash (64 zeros for the first) and `seq` counts up from 1:

       paste -d' ' <(jq -r '"\\(.seq) \\(.prev_hash)"' events.jsonl) \\
                   <(printf '%064d\\n' 0; awk '{print $2}' chain.txt | head -n -1) \\
           | awk '$2 != $3 || $1 != NR {bad=1; print "broken at event " $1} END {exit bad}' \\
           && echo "chain intact"

4. **The playbook is the one the incident ran on.** The first event's `payload.playbook.digest`
   is the SHA-256 of the playbook file:

       jq -r 'select(.seq == 1) | .payload.playbook.digest' events.jsonl
       sha256sum playbook-*.json

5. **The head matches what was recorded elsewhere.** The last line of `chain.txt` is the head
   hash; compare it with the value noted when the record was handed over (`ir audit verify`
   prints it).
"""


@dataclass
class BundleReport:
    """Outcome of checking a bundle folder."""

    incident_id: str = ""
    events: int = 0
    head: str = ""
    problems: list[str] = field(default_factory=list)
    hashes: set[str] = field(default_factory=set)
    """Every verified event's hash (to look up a head noted earlier)."""

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return not self.problems


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_bundle(out: Path, incident_id: str, bodies: list[str], hashes: list[str], playbook: dict[str, Any],
                 digest: str, extra: dict[str, str], meta: dict[str, Any]) -> dict[str, Any]:
    """Write the bundle files into the empty (or new) folder ``out``; return the manifest."""
    if out.exists() and any(out.iterdir()):
        raise InvalidInput(f"{out} is not empty; export into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {
        "events.jsonl": "".join(b + "\n" for b in bodies).encode("utf-8"),
        "chain.txt": "".join(f"{n} {h}\n" for n, h in enumerate(hashes, 1)).encode("utf-8"),
        f"playbook-{digest[:16]}.json": canonical_json(playbook).encode("utf-8"),
    }
    for name, text in extra.items():
        if "/" in name or "\\" in name or name.startswith("."):
            raise ValueError(f"bundle file name {name!r} is not a plain name")
        files[name] = text.encode("utf-8")
    for name, data in files.items():
        (out / name).write_bytes(data)
    manifest = {
        **meta,
        "incident_id": incident_id,
        "events": len(bodies),
        "head_hash": hashes[-1] if hashes else GENESIS,
        "playbook_digest": digest,
        "files": {name: _sha256(data) for name, data in sorted(files.items())},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "VERIFY.md").write_text(VERIFY_TEXT, encoding="utf-8")
    return manifest


def verify_bundle(folder: Path) -> BundleReport:
    """Check a bundle folder: file hashes, every event's hash, the chain, the playbook digest."""
    report = BundleReport()
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        report.problems.append(f"manifest.json cannot be read: {exc}")
        return report
    report.incident_id = str(manifest.get("incident_id", ""))
    for name, expected in manifest.get("files", {}).items():
        path = folder / name
        if Path(name).name != name or not path.is_file():
            report.problems.append(f"{name}: listed in the manifest but missing")
        elif _sha256(path.read_bytes()) != expected:
            report.problems.append(f"{name}: its SHA-256 does not match the manifest")
    if report.problems:
        return report
    _check_events(folder, manifest, report)
    return report


def _check_events(folder: Path, manifest: dict[str, Any], report: BundleReport) -> None:
    lines = (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
    chain = [row.split() for row in (folder / "chain.txt").read_text(encoding="utf-8").splitlines()]
    prev = GENESIS
    for n, line in enumerate(lines, 1):
        where = f"events.jsonl line {n}"
        try:
            event = json.loads(line)
        except ValueError:
            report.problems.append(f"{where}: not valid JSON")
            return
        where += f" (event #{event.get('seq')} {event.get('kind')})"
        digest = _sha256(line.encode("utf-8"))
        if canonical_json(event) != line:
            report.problems.append(f"{where}: not in canonical form, so its hash cannot be checked")
        elif n > len(chain) or chain[n - 1] != [str(n), digest]:
            report.problems.append(f"{where}: its hash {digest[:12]}… is not the one in chain.txt")
        elif event.get("seq") != n or event.get("prev_hash") != prev or event.get("incident_id") != report.incident_id:
            report.problems.append(f"{where}: does not link to the event before it")
        if report.problems:
            return
        if n == 1:
            _check_playbook(folder, event, report)
        prev = digest
        report.hashes.add(digest)
        report.events = n
    report.head = prev
    if len(chain) != len(lines):
        report.problems.append(f"chain.txt has {len(chain)} entries for {len(lines)} events")
    elif manifest.get("head_hash") != prev:
        report.problems.append("the manifest's head hash is not the last event's hash")


def _check_playbook(folder: Path, opened: dict[str, Any], report: BundleReport) -> None:
    digest = opened.get("payload", {}).get("playbook", {}).get("digest", "")
    path = folder / f"playbook-{digest[:16]}.json"
    if not path.is_file():
        report.problems.append(f"the playbook file for digest {digest[:12]}… is missing")
    elif _sha256(path.read_bytes()) != digest:
        report.problems.append(f"{path.name}: its SHA-256 is not the digest the incident was opened with")
