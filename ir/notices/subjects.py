"""The subject service: importing the list of affected people into an incident.

An import runs in three steps, each safe to interrupt:

1. the file is hashed and decoded once (nothing is written if it is unreadable);
2. rows are checked on every core and sorted by person on disk (rejects go to a file);
3. people are written in key order in batches, each batch committed with the import's
   progress; the last transaction appends ``subjects.imported`` and sets the ``subjects``
   and ``affected_count`` facts (and lets reactors such as the obligations engine follow).

Running the same import again after a crash picks up after the last committed batch; running
it again after it finished changes nothing but records that it was checked (idempotent by
reference).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import shutil
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.clock import format_instant
from ir.engine.commands import NewEvent
from ir.engine.playbook import Playbook
from ir.engine.state import IncidentState
from ir.errors import InvalidInput, IrError, NotFound, Refused
from ir.i18n import pick
from ir.notices import classify, describe, runs  # noqa: F401  (describe: timeline text)
from ir.notices import purge as purging
from ir.notices.csvsource import SourceFile, open_source
from ir.notices.people import FIELDS, parse_mapping, ref_hash, safe_cell
from ir.notices.pii import PERSONAL_FIELDS, Cipher
from ir.notices.purge import PurgeResult
from ir.notices.staging import Ordered, Progress, Staged, in_key_order, read_header, stage
from ir.store import canonical_json
from ir.store import events as eventlog
from ir.store import incidents as incidentdb
from ir.store import notices as deliverydb
from ir.store import subjects as subjectdb

if TYPE_CHECKING:
    import sqlite3

    from ir.workspace import Workspace

BATCH = 20_000
"""People written per transaction (bounds how long an import holds the write lock)."""

PARALLEL_PEOPLE = 50_000
"""From this many people on, merging the sorted runs runs beside the store's writes."""

CATEGORY_FACT = "data_categories"
"""The playbook fact whose choices are the data categories a person's row may name."""


@dataclass
class ImportResult:
    """What an import did (also the ``subjects.imported`` event's payload, see :meth:`payload`).

    Attributes:
        rows: data rows read from the file.
        imported: people added.
        updated: people already there whose data changed.
        unchanged: people already there with the same data.
        rejected: rows that failed a check, including repeated references.
        by_jurisdiction: people in this file by jurisdiction (accepted rows only).
        by_category: people in this file by the data categories their row names (accepted rows
            only; a person naming none is counted under the incident's categories when shown).
        without_categories: accepted people whose row names no category.
        rejects: the rejects file, if any row was rejected.
        ignored_columns: headings that were not imported.
        resumed: this run finished an import that had been interrupted.
        totals: people stored for the incident by jurisdiction, after the import.
    """

    incident_id: str
    file: str
    file_sha256: str
    encoding: str
    rows: int = 0
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    by_jurisdiction: dict[str, int] = field(default_factory=dict)
    by_category: dict[str, int] = field(default_factory=dict)
    without_categories: int = 0
    rejects: str | None = None
    ignored_columns: list[str] = field(default_factory=list)
    resumed: bool = False
    totals: dict[str, int] = field(default_factory=dict)
    seq: int | None = None

    def payload(self) -> dict[str, Any]:
        """The ``subjects.imported`` event payload."""
        return {
            "file": self.file,
            "file_sha256": self.file_sha256,
            "encoding": self.encoding,
            "rows": self.rows,
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "by_jurisdiction": dict(sorted(self.by_jurisdiction.items())),
        }

    def as_dict(self) -> dict[str, Any]:
        """Everything, JSON-ready (for ``--json``)."""
        return {
            "incident": self.incident_id,
            **self.payload(),
            "by_category": dict(sorted(self.by_category.items())),
            "without_categories": self.without_categories,
            "rejects": self.rejects,
            "ignored_columns": self.ignored_columns,
            "resumed": self.resumed,
            "totals": self.totals,
            "seq": self.seq,
        }


class SubjectService:
    """Import and count the people affected by an incident."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # ----------------------------------------------------------------- queries

    def summary(self, incident_id: str) -> dict[str, Any]:
        """People stored for the incident: total, by jurisdiction and locale, the data categories
        (classified) and the imports. Needs no key: none of this is personal."""
        self.ws.incidents.get(incident_id)
        with self.ws.store.read() as conn:
            counts = subjectdb.counts(conn, incident_id)
            history = subjectdb.imports(conn, incident_id)
            purged, _kept = subjectdb.purged_count(conn, incident_id)
        by_j: Counter[str] = Counter()
        by_l: Counter[str] = Counter()
        for (jurisdiction, locale), n in counts.items():
            by_j[jurisdiction] += n
            by_l[locale] += n
        return {
            "incident": incident_id,
            "total": sum(counts.values()),
            "by_jurisdiction": dict(sorted(by_j.items())),
            "by_locale": dict(sorted(by_l.items())),
            "categories": self.categories(incident_id),
            "purged": purged,
            "imports": history,
        }

    def categories(self, incident_id: str, *, people: bool = True) -> list[dict[str, Any]]:
        """The data categories involved in the incident, each with its sensitivity class and
        PIPL mark, and (``people``) how many people each concerns."""
        state = self.ws.incidents.get(incident_id)
        by_list = None
        if people:
            with self.ws.store.read() as conn:
                by_list = subjectdb.category_lists(conn, incident_id)
        titles = category_titles(self.ws.incidents.playbook_of(state), self.ws.lang)
        return classify.listing(by_list, classify.incident_categories(state.facts), titles)

    def find(self, incident_id: str, reference: str) -> dict[str, Any]:
        """One person, found by their reference: their fields (needs the key), categories and notices.

        Raises:
            NotFound: nobody with that reference in the incident.
            NoKey: no key is configured and the person's fields are still held.
        """
        state = self.ws.incidents.get(incident_id)
        key = ref_hash(reference.strip())
        with self.ws.store.read() as conn:
            row = subjectdb.one(conn, state.id, key)
            notices = deliverydb.for_person(conn, state.id, key)
        if row is None:
            raise NotFound(f"nobody with that reference among the people of {state.id}")
        jurisdiction, locale, categories, sealed, key_id, import_id = row
        fields: dict[str, str] | None = None
        if sealed is not None:
            person = self.ws.keys.cipher(f"showing a person of {state.id}").open(state.id, key, sealed)
            fields = {name: getattr(person, name) for name in PERSONAL_FIELDS}
        titles = category_titles(self.ws.incidents.playbook_of(state), self.ws.lang)
        own = json.loads(categories)
        return {
            "incident": state.id,
            "ref_sha256": key,
            "jurisdiction": jurisdiction,
            "locale": locale,
            "categories": [classify.classify(c, titles) for c in own or classify.incident_categories(state.facts)],
            "own_categories": bool(own),
            "fields": fields,
            "purged": sealed is None,
            "key": key_id,
            "import": import_id,
            "notices": notices,
        }

    def purge(self, incident_id: str, *, delete_files: bool = False,
              confirm: Callable[[int, PurgeResult], bool] | None = None) -> PurgeResult:
        """Destroy the personal fields of a closed incident's people once retention has passed
        (see :mod:`ir.notices.purge`); ``confirm`` is asked before anything is destroyed."""
        return purging.purge(self.ws, incident_id, delete_files=delete_files, confirm=confirm)

    def purged(self, incident_id: str) -> Any:
        """The incident's last ``subjects.purged`` event that destroyed anything, or None."""
        with self.ws.store.read() as conn:
            found = [e for e in eventlog.read_events(conn, incident_id, kinds=["subjects.purged"]) if e.payload.get("people")]
        return found[-1] if found else None

    def unfinished(self, incident_id: str) -> list[subjectdb.ImportRecord]:
        """Imports into the incident that were interrupted and not run again to the end."""
        with self.ws.store.read() as conn:
            return subjectdb.running_imports(conn, incident_id)

    def require_complete(self, incident_id: str) -> None:
        """Refuse while an import into the incident is unfinished (the list is partial).

        Raises:
            Refused: naming the unfinished import.
        """
        for record in self.unfinished(incident_id):
            raise Refused(
                f"the import of {record.file_name} into {incident_id} (started {record.started_at} by "
                f"{record.started_by}) did not finish; run it again to complete the list of people first"
            )

    # ---------------------------------------------------------------- commands

    def import_csv(
        self,
        incident_id: str,
        path: Path,
        *,
        mapping: Sequence[str] = (),
        encoding: str | None = None,
        rejects: Path | None = None,
        abandon_unfinished: bool = False,
        progress: Progress | None = None,
        workers: int | None = None,
    ) -> ImportResult:
        """Import (or re-import) a CSV list of affected people into an incident.

        Args:
            mapping: ``COLUMN=FIELD`` pairs naming columns the header does not make clear.
            encoding: the file's encoding (default: detected: UTF-8, UTF-8 with BOM, GB18030).
            rejects: where rejected rows go (default: ``<file>.rejects.csv`` beside the file).
            abandon_unfinished: give up an interrupted import of another file into the same
                incident (recorded as such) instead of refusing.
            progress: told (done, total) while it runs.
            workers: processes checking rows (default: one per core).

        Raises:
            NotFound: no such incident.
            Refused: the incident is closed, or another import into it is unfinished.
            InvalidInput: the file cannot be read, decoded or mapped (nothing is written).
        """
        state = self.ws.incidents.get(incident_id)
        if state.final:
            raise Refused(f"incident {incident_id} is closed; its list of affected people can no longer change")
        cipher = self.ws.keys.cipher(f"importing people into {incident_id}")
        chosen = parse_mapping(mapping)
        source = open_source(Path(path), encoding)
        columns = read_header(source, chosen)
        vocabulary = category_words(self.ws.incidents.playbook_of(state))
        target = rejects or source.path.with_name(source.path.name + ".rejects.csv")
        _check_writable(target)
        record, resumed = self._claim(state, source, chosen, abandon_unfinished)
        # Sorted runs hold personal data: an owner-only folder named after the import, so a
        # run killed midway leaves nothing behind once the import is run again.
        folder = self.ws.store.path.parent / f".ir-import-{record.id}"
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.mkdir(mode=0o700)
            seal = functools.partial(cipher.seal, state.id)
            staged = stage(source, columns, vocabulary, folder, seal, workers=workers, progress=progress)
            result = ImportResult(incident_id, source.path.name, source.sha256, source.encoding_name, resumed=resumed)
            result.rows, result.rejected = staged.rows, staged.rejected
            result.ignored_columns = staged.columns.ignored
            ordered = self._write(state, record, staged, folder, result, progress, cipher)
            reject_runs = staged.reject_runs + ordered.duplicates
            result.rejected += ordered.duplicate_count
            result.rejects = str(write_rejects(target, runs.merge(reject_runs))) if reject_runs else None
            self._finish(state, record, result)
            return result
        except BaseException:
            # An import that wrote nobody leaves no trace; one that did can be run again to finish.
            try:
                with self.ws.store.write() as conn:
                    subjectdb.forget_import(conn, record.id)
            except IrError:
                pass  # the workspace itself failed; the original error says why
            raise
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    # --------------------------------------------------------------- machinery

    def _claim(
        self, state: IncidentState, source: SourceFile, mapping: Mapping[str, str], abandon: bool
    ) -> tuple[subjectdb.ImportRecord, bool]:
        """Find the interrupted import this one continues, or record a new one."""
        options = {"encoding": source.encoding, "delimiter": source.delimiter, "map": dict(sorted(mapping.items()))}
        now = format_instant(self.ws.clock.now())
        with self.ws.store.write() as conn:
            for record in subjectdb.running_imports(conn, state.id):
                if record.file_sha256 == source.sha256 and record.options == _canonical(options):
                    return record, True
                if not abandon:
                    same = "the same file with other options" if record.file_sha256 == source.sha256 else record.file_name
                    raise Refused(
                        f"an import of {same} into {state.id} (started {record.started_at} by {record.started_by}) "
                        "did not finish; run it again to finish it, or add --abandon-unfinished to give it up"
                    )
                self._abandon(conn, state, record)
            return subjectdb.start_import(conn, state.id, source.path.name, source.sha256, options, at=now, by=self.ws.actor), False

    def _abandon(self, conn: sqlite3.Connection, state: IncidentState, record: subjectdb.ImportRecord) -> None:
        """Record that an interrupted import is given up: the people it wrote stay."""
        payload = {
            "file": record.file_name,
            "file_sha256": record.file_sha256,
            "abandoned": True,
            "imported": record.imported,
            "updated": record.updated,
            "unchanged": record.unchanged,
        }
        events = self._record(conn, state, [NewEvent("subjects.imported", payload)])
        subjectdb.end_import(conn, record.id, subjectdb.ABANDONED, at=events[0].recorded_at, event_seq=events[0].seq)

    def _write(
        self,
        state: IncidentState,
        record: subjectdb.ImportRecord,
        staged: Staged,
        folder: Path,
        result: ImportResult,
        progress: Progress | None,
        cipher: Cipher,
    ) -> Ordered:
        """Write the people in key order, a batch per transaction; count them and find repeats."""
        result.imported, result.updated, result.unchanged = record.imported, record.updated, record.unchanged
        accepted = staged.rows - staged.rejected
        parallel = accepted >= PARALLEL_PEOPLE and (os.cpu_count() or 1) > 1
        prepare = functools.partial(subjectdb.prepare, state.id, record.id, cipher.key_id)
        unseal = functools.partial(cipher.open_packed, state.id)
        batches, summary = in_key_order(staged, folder, BATCH, prepare, unseal, after=record.merged_key, parallel=parallel)
        for done, batch in batches:
            record = self._commit(state, record, batch, result, cipher)
            if progress:
                progress(done, accepted)
        ordered = summary[0]
        result.by_jurisdiction = ordered.by_jurisdiction
        result.by_category, result.without_categories = _category_totals(ordered.by_categories)
        return ordered

    def _commit(
        self, state: IncidentState, record: subjectdb.ImportRecord, batch: subjectdb.Prepared, result: ImportResult,
        cipher: Cipher,
    ) -> subjectdb.ImportRecord:
        with self.ws.store.write() as conn:
            if not subjectdb.any_between(conn, state.id, batch.first, batch.last):
                # Nobody of this batch is stored yet (always so on a first import).
                subjectdb.insert_prepared(conn, state.id, batch)
                result.imported += sum(batch.counts.values())
            else:
                self._merge(conn, state, record, batch.rows(), result, cipher)
            if not subjectdb.advance_import(conn, record, batch.last, result.imported, result.updated, result.unchanged):
                raise Refused(f"another process is importing {record.file_name} into {state.id} at the same time; let it finish")
        return subjectdb.ImportRecord(
            record.id, record.incident_id, record.file_name, record.file_sha256, record.options, record.state,
            record.started_at, record.started_by, batch.last, result.imported, result.updated, result.unchanged,
        )

    def _merge(
        self, conn: sqlite3.Connection, state: IncidentState, record: subjectdb.ImportRecord, rows: list[subjectdb.Row],
        result: ImportResult, cipher: Cipher,
    ) -> None:
        """Add the new people of a batch, update the changed ones, count the unchanged."""
        stored = subjectdb.existing(conn, state.id, [r[0] for r in rows])
        new, changed = [], []
        for row in rows:
            before = stored.get(row[0])
            if before is None:
                new.append(row)
            elif before[:3] != (row[2], row[3], row[4]) or _fields_differ(cipher, state.id, row[0], before[3], row[5]):
                changed.append((row, before))
        subjectdb.write_people(conn, state.id, record.id, cipher.key_id, new, changed)
        result.imported += len(new)
        result.updated += len(changed)
        result.unchanged += len(rows) - len(new) - len(changed)

    def _finish(self, state: IncidentState, record: subjectdb.ImportRecord, result: ImportResult) -> None:
        """Append ``subjects.imported`` (and the facts it changes) and close the import."""
        with self.ws.store.write() as conn:
            current = incidentdb.load_incident(conn, state.id)
            if current is None:
                raise NotFound(f"no incident '{state.id}' in workspace {self.ws.store.path}")
            totals = subjectdb.by_jurisdiction(conn, state.id)
            new = [NewEvent("subjects.imported", result.payload())]
            facts: dict[str, Any] = {}
            if totals and current.facts.get("subjects") != totals:
                facts["subjects"] = totals
            if totals and current.facts.get("affected_count") != sum(totals.values()):
                facts["affected_count"] = sum(totals.values())
            if facts:
                new.append(NewEvent("fact.set", {"facts": facts}))
            events = self._record(conn, current, new)
            subjectdb.end_import(conn, record.id, subjectdb.DONE, at=events[0].recorded_at, event_seq=events[0].seq)
        result.totals = totals
        result.seq = events[0].seq

    def _record(self, conn: sqlite3.Connection, state: IncidentState, new: list[NewEvent]) -> list[Any]:
        """Append events, and whatever the reactors derive from them, in the open transaction.

        The events must commit with the data rows they summarise, so they cannot go through
        ``IncidentService.record`` (its own transaction); this is its in-transaction half.
        """
        return self.ws.incidents.record_in(conn, state.id, new, self.ws.clock_for(state))


def _fields_differ(cipher: Cipher, incident_id: str, ref_hash: str, stored: bytes | None, new: bytes) -> bool:
    """Whether a person's personal fields changed (sealed values differ every time: compare what they hold)."""
    if stored is None:
        return True
    return cipher.open_packed(incident_id, ref_hash, stored) != cipher.open_packed(incident_id, ref_hash, new)


def _category_totals(by_list: Mapping[str, int]) -> tuple[dict[str, int], int]:
    """People per category id from people per category list; and people naming none."""
    totals: Counter[str] = Counter()
    without = 0
    for text, n in by_list.items():
        ids = json.loads(text)
        if not ids:
            without += n
        for category in ids:
            totals[category] += n
    return dict(sorted(totals.items())), without


def _canonical(value: Mapping[str, Any]) -> str:
    return canonical_json(dict(value))


def write_rejects(target: Path, rejects: Iterator[tuple[int, str, list[str]]]) -> Path:
    """Write rejected rows (line, reason and the fields as read) as a CSV a person can fix and import again.

    Raises:
        InvalidInput: the file cannot be written.
    """
    temporary = target.with_name(f".{target.name}.partial")
    try:
        # Rejected rows carry personal data: readable by their owner only.
        with open(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["line", "reason", *FIELDS])
            for line, reason, values in rejects:
                writer.writerow([line, safe_cell(reason), *(safe_cell(v) for v in values)])
        os.replace(temporary, target)
    except OSError as exc:
        raise InvalidInput(f"cannot write the rejects file {target}: {exc.strerror or exc}") from None
    return target


def _check_writable(target: Path) -> None:
    """Fail before anything is written if the rejects file could not be written at the end."""
    probe = target.with_name(f".{target.name}.probe")
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        os.unlink(probe)
    except OSError as exc:
        raise InvalidInput(
            f"cannot write the rejects file {target} ({exc.strerror or exc}); choose another place with --rejects PATH"
        ) from None


def category_words(pb: Playbook) -> dict[str, str] | None:
    """Words for each data category of the playbook (id, English and Chinese titles) -> id.

    None if the playbook declares no categories (then any lower-case id is accepted).
    """
    choices = []
    for _phase, decision in pb.decision_map.values():
        if decision.fact_name == CATEGORY_FACT and decision.choices:
            choices.extend(decision.choices)
    for fact in pb.facts:
        if fact.id == CATEGORY_FACT and fact.choices:
            choices.extend(fact.choices)
    if not choices:
        return None
    words: dict[str, str] = {}
    for choice in choices:
        words[choice.id.lower()] = choice.id
        for text in (choice.title or {}).values():
            words.setdefault(text.strip().lower(), choice.id)
            words.setdefault(text.strip().lower().replace(" ", "_"), choice.id)
    return words


def category_titles(pb: Playbook, lang: str) -> dict[str, str]:
    """Each data category's title in ``lang`` (falling back to English, then the id)."""
    out: dict[str, str] = {}
    for _phase, decision in pb.decision_map.values():
        if decision.fact_name == CATEGORY_FACT:
            for choice in decision.choices or []:
                out[choice.id] = pick(choice.title, lang) or choice.id
    for fact in pb.facts:
        if fact.id == CATEGORY_FACT:
            for choice in fact.choices or []:
                out.setdefault(choice.id, pick(choice.title, lang) or choice.id)
    return out

