"""The notice service: templates, what is missing, rendering letters and delivering them."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ir.clock import format_instant, parse_instant
from ir.engine.commands import NewEvent
from ir.engine.state import IncidentState
from ir.errors import ContentErrors, InvalidInput, NotFound, Refused
from ir.notices import render as renderer
from ir.notices import approvals
from ir.notices.approvals import GUARDED, Approvals
from ir.notices.delivery import Sender, SendResult, Server
from ir.notices.keys import NoKey
from ir.notices.letters import FORMATS, Plan, Renderer, format_date, missing_reason
from ir.notices.people import ref_hash
from ir.notices.subjects import category_titles
from ir.notices.templates import NoticeTemplate, TemplateCatalog, safe_name
from ir.store import Event, canonical_json
from ir.store import events as eventlog
from ir.store import notices as deliverydb
from ir.store import subjects as subjectdb

if TYPE_CHECKING:
    from ir.workspace import Workspace

PAGE = 5_000
"""People read from the store per query."""


@dataclass
class Missing:
    """One thing that must be supplied before a template can be rendered.

    Attributes:
        kind: ``fact`` (an incident fact), ``person`` (a field some people lack), ``people``
            (nobody to write to), or ``content`` (a rule needs something the template omits).
        name: the fact or field.
        detail: what to do about it.
        blocking: rendering refuses while it is missing (people lacking a field only get no letter).
    """

    kind: str
    name: str
    detail: str
    blocking: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kind": self.kind, "name": self.name, "detail": self.detail, "blocking": self.blocking}


@dataclass
class CheckReport:
    """What ``ir notices check`` found.

    Attributes:
        people: people the notice would go to (individual notices).
        missing: what must be supplied.
        notes: things worth knowing that do not stop rendering (and where its release stands).
        categories: the data categories involved, each with its sensitivity class.
    """

    incident_id: str
    template: str
    audience: str
    people: int = 0
    missing: list[Missing] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    categories: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """Nothing is missing."""
        return not self.missing

    @property
    def blocking(self) -> list[Missing]:
        """What stops rendering."""
        return [m for m in self.missing if m.blocking]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "incident": self.incident_id,
            "template": self.template,
            "audience": self.audience,
            "people": self.people,
            "ready": self.ready,
            "missing": [m.as_dict() for m in self.missing],
            "notes": self.notes,
            "categories": self.categories,
        }


@dataclass
class RenderResult:
    """What ``ir notices render`` did."""

    incident_id: str
    template: str
    format: str
    out: str
    count: int
    skipped: int
    rendered: int
    manifest: str
    manifest_sha256: str
    resumed: bool
    seq: int | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


@dataclass
class Preview:
    """One notice as it would read, rendered for one real person (or the one document of a
    regulator, public or internal template), or what stops it from being rendered.

    Attributes:
        people: people the notice would go to (individual notices).
        reference: the person it was rendered for ("" for a document).
        recipient: who it is for, as a manifest would list them.
        subject: the subject line (with the exercise mark for a drill).
        body: the letter as text.
        missing: what must be supplied first (then ``subject`` and ``body`` are empty).
    """

    incident_id: str
    template: str
    audience: str
    locale: str
    people: int = 0
    reference: str = ""
    recipient: str = ""
    subject: str = ""
    body: str = ""
    missing: list[Missing] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        """The notice could be rendered."""
        return not self.missing

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "incident": self.incident_id,
            "template": self.template,
            "audience": self.audience,
            "locale": self.locale,
            "people": self.people,
            "ready": self.ready,
            "reference": self.reference,
            "recipient": self.recipient,
            "subject": self.subject,
            "body": self.body,
            "missing": [m.as_dict() for m in self.missing],
        }


class NoticeService:
    """Notice templates, checks, rendering and delivery for a workspace."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.catalog = TemplateCatalog(ws.content)
        self.approvals = Approvals(ws)

    # --------------------------------------------------------------- templates

    def templates(self) -> tuple[list[NoticeTemplate], list[ContentErrors]]:
        """Every template that loads, and the errors of those that do not."""
        good: list[NoticeTemplate] = []
        bad: list[ContentErrors] = []
        for item in self.catalog.all():
            if isinstance(item, ContentErrors):
                bad.append(item)
            else:
                good.append(item)
        return good, bad

    def template(self, template_id: str) -> NoticeTemplate:
        """One template (validated).

        Raises:
            NotFound: no such template.
            ContentErrors: its file is invalid.
        """
        return self.catalog.get(template_id)

    # ------------------------------------------------------------------- check

    def check(self, incident_id: str, template_id: str, jurisdictions: Sequence[str] | None = None) -> CheckReport:
        """List everything missing before ``template_id`` can be rendered for the incident.

        Covers the template's facts, the people it goes to and the person fields it needs, and,
        when the workspace has an obligations engine, the content the template's rules require.
        """
        state = self.ws.incidents.get(incident_id)
        tpl = self.template(template_id)
        report = CheckReport(incident_id, tpl.id, tpl.meta.audience)
        for name in tpl.meta.needs.facts:
            if _empty(state.facts.get(name)):
                report.missing.append(Missing("fact", name, f"not set: ir incident set {incident_id} {name}=..."))
        selection = self.selection(tpl, jurisdictions)
        report.categories = self.ws.subjects.categories(state.id, people=tpl.meta.audience == "individual")
        if tpl.meta.audience == "individual":
            self._check_people(state, tpl, selection, report)
        if hasattr(self.ws, "obligations"):
            self._check_rules(state, tpl, report)
        if tpl.meta.audience in GUARDED:
            report.notes.append(self.approvals.describe(state, tpl, self._inputs(state, tpl, selection)))
        return report

    def selection(self, tpl: NoticeTemplate, jurisdictions: Sequence[str] | None) -> list[str]:
        """Whose people a notice goes to: the given jurisdictions, else the template's (empty: everyone)."""
        if jurisdictions is None:
            return list(tpl.meta.jurisdictions)
        return [j.strip().upper() for j in jurisdictions if j.strip() and j.strip().upper() != "ALL"]

    def _check_people(self, state: IncidentState, tpl: NoticeTemplate, selection: list[str], report: CheckReport) -> None:
        for record in self.ws.subjects.unfinished(state.id):
            report.missing.append(
                Missing("people", "import", f"the import of {record.file_name} did not finish; run it again")
            )
        with self.ws.store.read() as conn:
            report.people = subjectdb.count_selected(conn, state.id, selection)
        where = f" in {', '.join(selection)}" if selection else ""
        if not report.people:
            report.missing.append(
                Missing("people", "subjects", f"no affected people{where}: ir subjects import {state.id} FILE.csv")
            )
            return
        try:
            cipher = self.ws.keys.cipher("checking people's fields")
        except NoKey as exc:
            report.notes.append(f"people's fields were not checked: {exc}")
            return
        lacking: Counter[str] = Counter()
        no_email = other_language = 0
        for rows in self.people(state.id, "", selection):
            for row in rows:
                who = cipher.open(state.id, row[0], row[4])
                values = {"name": who.name, "email": who.email, "phone": who.phone, "postal_address": who.postal_address,
                          "reference": who.reference, "jurisdiction": row[1], "locale": row[2]}
                for name in tpl.meta.needs.person:
                    if name in values and not values[name]:
                        lacking[name] += 1
                no_email += not who.email
                other_language += row[2] != tpl.meta.locale
        for name, n in sorted(lacking.items()):
            report.missing.append(
                Missing("person", name, f"{n:,} of {report.people:,} people have no {name} (they get no letter)", blocking=False)
            )
        if no_email:
            report.notes.append(f"{no_email:,} of {report.people:,} people have no e-mail address: send them a letter by post")
        if other_language:
            report.notes.append(
                f"{other_language:,} of {report.people:,} people read another language than this template's ({tpl.meta.locale})"
            )

    def _check_rules(self, state: IncidentState, tpl: NoticeTemplate, report: CheckReport) -> None:
        try:
            tracked = self.ws.obligations.for_incident(state.id)  # type: ignore[attr-defined]
        except ContentErrors as exc:
            report.notes.append(f"the duties could not be assessed ({exc})")
            return
        duties = {_rule_of(t): _required_of(t) for t in tracked}
        listed = {m.name for m in report.missing if m.kind == "fact"}
        for rule in tpl.meta.rules:
            if rule not in duties:
                report.notes.append(f"rule {rule} does not apply to {state.id} as its facts stand")
                continue
            for name in duties[rule]:
                fact = _fact_for(tpl, name)
                if fact is None:
                    report.missing.append(
                        Missing("content", name, f"{rule} requires {name}, which the template does not include", blocking=False)
                    )
                elif fact not in listed and _empty(state.facts.get(fact)):
                    listed.add(fact)
                    report.missing.append(
                        Missing("fact", fact, f"not set ({rule} requires it): ir incident set {state.id} {fact}=...", blocking=False)
                    )

    # ------------------------------------------------------------------ people

    def people(self, incident_id: str, after: str, selection: Sequence[str]) -> Iterator[list[renderer.Row]]:
        """The selected people after key ``after``, a page at a time, in key order."""
        key = after
        while True:
            with self.ws.store.read() as conn:
                rows = subjectdb.page(conn, incident_id, key, PAGE, selection)
            if not rows:
                return
            yield rows
            key = rows[-1][0]

    # ----------------------------------------------------------------- preview

    def preview(
        self, incident_id: str, template_id: str, reference: str | None = None, *,
        jurisdictions: Sequence[str] | None = None,
    ) -> Preview:
        """Render ``template_id`` as text for one real person: ``reference``, else the first
        selected person (in key order), through the same renderer as ``render``. Nothing is
        written: no file, no event (like ``ir subjects find``, it only shows a person on screen).

        Raises:
            NotFound: no such template, or nobody with that reference.
            NoKey: a letter to a person needs the data key and none is configured.
            Refused: the people's personal fields were destroyed.
            TemplateFailed: the template fails on this person's letter.
        """
        state = self.ws.incidents.get(incident_id)
        tpl = self.template(template_id)
        meta = tpl.meta
        result = Preview(state.id, tpl.id, meta.audience, meta.locale)
        for name in meta.needs.facts:
            if _empty(state.facts.get(name)):
                result.missing.append(Missing("fact", name, f"not set: ir incident set {state.id} {name}=..."))
        row: renderer.Row | None = None
        if meta.audience == "individual":
            self._refuse_purged(state)
            selection = self.selection(tpl, jurisdictions)
            with self.ws.store.read() as conn:
                result.people = subjectdb.count_selected(conn, state.id, selection)
                row = self._one_person(conn, state.id, reference, selection)
            if row is None:
                where = f" in {', '.join(selection)}" if selection else ""
                result.missing.append(
                    Missing("people", "subjects", f"no affected people{where}: ir subjects import {state.id} FILE.csv")
                )
        if result.missing:
            return result
        plan = self.plan(state, tpl, "txt", self.ws.clock_for(state).now())
        if row is None:
            letter = Renderer(plan).document()
            result.subject, result.recipient = letter.subject, letter.recipient
            result.body = letter.data.decode("utf-8")
            return result
        cipher = self.ws.keys.cipher(f"showing a letter to a person of {state.id}")
        writer = Renderer(plan, cipher)
        letter = writer.letter(row)
        result.reference, result.recipient = letter.reference, letter.recipient
        if letter.missing:
            for name in letter.missing:
                words = missing_reason([name]).removeprefix("no ")
                result.missing.append(Missing("person", name, f"{letter.reference} has no {words} (they get no letter)"))
            return result
        result.subject = letter.subject or writer.subject_for(row)
        result.body = letter.data.decode("utf-8")
        return result

    def _one_person(self, conn: Any, incident_id: str, reference: str | None, selection: list[str]) -> renderer.Row | None:
        """The person with ``reference`` (NotFound if nobody has it), else the first selected one."""
        if reference is None:
            first = subjectdb.page(conn, incident_id, "", 1, selection)
            return first[0] if first else None
        key = ref_hash(reference.strip())
        found = subjectdb.one(conn, incident_id, key)
        if found is None:
            raise NotFound(f"nobody with that reference among the people of {incident_id}")
        jurisdiction, locale, categories, sealed = found[:4]
        return key, jurisdiction, locale, categories, sealed

    # ------------------------------------------------------------------ render

    def render(
        self,
        incident_id: str,
        template_id: str,
        out: Path,
        *,
        fmt: str = "txt",
        jurisdictions: Sequence[str] | None = None,
        sender: str | None = None,
        workers: int | None = None,
        progress: Any = None,
        bundle: int = 0,
    ) -> RenderResult:
        """Render the template's notices into ``out``: one letter per selected person (or one
        document for other audiences), a manifest with each file's SHA-256, and a
        ``notices.rendered`` event. Running it again on the same folder resumes.

        Raises:
            Refused: something the template needs is missing, or ``out`` holds something else.
            InvalidInput: a bad format or sender.
        """
        state = self.ws.incidents.get(incident_id)
        tpl = self.template(template_id)
        if fmt not in FORMATS:
            raise InvalidInput(f"--format {fmt}: use one of {', '.join(FORMATS)}")
        if fmt == "eml" and tpl.meta.audience != "individual":
            raise InvalidInput(f"--format eml is for letters to people; {tpl.id} is for the {tpl.meta.audience}")
        if fmt == "eml" and not _ADDRESS.fullmatch(sender or ""):
            raise InvalidInput("give --from ADDRESS: e-mail letters need a sender")
        if bundle < 0 or (bundle and fmt == "html") or (bundle and tpl.meta.audience != "individual"):
            raise InvalidInput("--bundle N takes text or e-mail letters to people (HTML letters are one file each)")
        selection = self.selection(tpl, jurisdictions)
        self._require_ready(state, tpl, selection)
        cipher = self.ws.keys.cipher(f"rendering letters to people for {state.id}") if tpl.meta.audience == "individual" else None
        # Compile the template first: one that fails does so before the output folder is made.
        Renderer(self.plan(state, tpl, fmt, self.ws.clock_for(state).now(), sender=sender), cipher)
        folder_state = self._folder_state(state, tpl, fmt, selection, sender, bundle)
        recorded, resumed = renderer.prepare_folder(out, folder_state)
        plan = self.plan(state, tpl, fmt, parse_instant(recorded["notice_date"]), sender=sender)
        if tpl.meta.audience == "individual":
            with self.ws.store.read() as conn:
                expected = subjectdb.count_selected(conn, state.id, selection)
            outcome = renderer.render_people(
                out, plan, lambda after: self.people(state.id, after, selection), fmt,
                workers=workers or os.cpu_count() or 1, expected=expected, progress=progress, bundle=bundle, cipher=cipher,
            )
        else:
            outcome = renderer.render_document(out, plan, fmt)
        outcome.resumed = resumed
        seq = self._recorded(state, tpl, fmt, out, outcome, recorded)
        return RenderResult(
            incident_id, tpl.id, fmt, str(out), outcome.count, outcome.skipped, outcome.rendered,
            str(out / renderer.MANIFEST), outcome.manifest_sha256, resumed, seq,
        )

    def plan(self, state: IncidentState, tpl: NoticeTemplate, fmt: str, when: dt.datetime, *, sender: str | None = None) -> Plan:
        """Everything a renderer needs for this incident and template."""
        pb = self.ws.incidents.playbook_of(state)
        meta = tpl.meta
        date = format_date(when, meta.locale, meta.zone)
        variables: dict[str, Any] = dict(state.facts)
        variables["notice"] = {
            "date": date, "date_iso": when.date().isoformat(), "template": meta.id, "title": meta.title, "format": fmt,
        }
        variables["incident"] = {"id": state.id, "title": state.title, "severity": state.severity, "mode": state.mode}
        variables["exercise"] = state.mode == "drill"
        categories = state.facts.get("data_categories")
        return Plan(
            template_id=meta.id, title=meta.title, audience=meta.audience, locale=meta.locale, zone=meta.zone,
            body=tpl.body, subject=meta.subject, fast=tpl.fast, fmt=fmt, variables=variables,
            titles=category_titles(pb, meta.locale),
            incident_categories=tuple(categories) if isinstance(categories, list) else (),
            required=tuple(meta.needs.person), defaults=dict(meta.person_defaults),
            exercise=state.mode == "drill", sender=sender or "", seed=f"{state.id}/{meta.id}",
            date_header=format_datetime(when.astimezone(dt.timezone.utc)), incident_id=state.id,
        )

    def _refuse_purged(self, state: IncidentState) -> None:
        purged = self.ws.subjects.purged(state.id)
        if purged is not None:
            raise Refused(
                f"the personal fields of {state.id}'s people were destroyed at {purged.at} by {purged.actor} "
                f"(ir subjects purge, event #{purged.seq}): no letter to a person can be rendered or sent"
            )

    def _require_ready(self, state: IncidentState, tpl: NoticeTemplate, selection: list[str]) -> None:
        self.ws.subjects.require_complete(state.id)
        if tpl.meta.audience == "individual":
            self._refuse_purged(state)
        missing = [n for n in tpl.meta.needs.facts if _empty(state.facts.get(n))]
        if missing:
            raise Refused(
                f"{tpl.id} needs fact(s) not set on {state.id}: {', '.join(missing)} "
                f"(ir notices check {state.id} {tpl.id} lists everything missing)"
            )
        if tpl.meta.audience == "individual":
            with self.ws.store.read() as conn:
                if not subjectdb.count_selected(conn, state.id, selection):
                    where = f" in {', '.join(selection)}" if selection else ""
                    raise Refused(f"{state.id} has no affected people{where} to write to (ir subjects import)")

    def _inputs(self, state: IncidentState, tpl: NoticeTemplate, selection: list[str]) -> dict[str, Any]:
        """What fixes the words of a notice: a release must send from the inputs that were approved."""
        facts = {name: state.facts.get(name) for name in tpl.facts}
        return {
            "incident": state.id,
            "template": tpl.id,
            "template_sha256": tpl.digest,
            "jurisdictions": selection,
            "facts_sha256": hashlib.sha256(canonical_json(facts).encode("utf-8")).hexdigest(),
            "subjects_seq": self._subjects_seq(state.id),
        }

    def _folder_state(
        self, state: IncidentState, tpl: NoticeTemplate, fmt: str, selection: list[str], sender: str | None, bundle: int
    ) -> dict[str, Any]:
        """What an output folder holds: a rerun resumes only if all of it is the same."""
        return {
            **self._inputs(state, tpl, selection),
            "format": fmt,
            "sender": sender or "",
            "bundle": bundle,
            "notice_date": format_instant(self.ws.clock_for(state).now()),
        }

    def _subjects_seq(self, incident_id: str) -> int:
        with self.ws.store.read() as conn:
            seqs = [e.seq for e in eventlog.read_events(conn, incident_id, kinds=["subjects.imported"])]
        return max(seqs, default=0)

    def _recorded(
        self, state: IncidentState, tpl: NoticeTemplate, fmt: str, out: Path, outcome: renderer.Outcome, folder: dict[str, Any]
    ) -> int | None:
        """Append ``notices.rendered`` (with the inputs an approval binds to) unless this very
        manifest was recorded already."""
        with self.ws.store.read() as conn:
            for ev in eventlog.read_events(conn, state.id, kinds=["notices.rendered"]):
                if ev.payload.get("manifest_sha256") == outcome.manifest_sha256 and ev.payload.get("out") == str(out):
                    return ev.seq
        inputs = {k: folder[k] for k in ("incident", "template", "template_sha256", "jurisdictions", "facts_sha256", "subjects_seq")}
        payload = {
            "template": tpl.id,
            "format": fmt,
            "count": outcome.count,
            "skipped": outcome.skipped,
            "manifest_sha256": outcome.manifest_sha256,
            "out": str(out),
            "inputs": inputs,
            "inputs_sha256": approvals.digest(inputs),
            "notice_date": folder["notice_date"],
        }
        events = self.ws.incidents.record(state.id, [NewEvent("notices.rendered", payload)])
        return events[0].seq


    # -------------------------------------------------------------------- send

    def send(
        self,
        incident_id: str,
        template_id: str,
        *,
        smtp: str | None = None,
        starttls: bool = False,
        cafile: str | None = None,
        sender: str | None = None,
        rate: float | None = None,
        jurisdictions: Sequence[str] | None = None,
        resend_unconfirmed: bool = False,
        retry_failed: bool = False,
        progress: Any = None,
    ) -> SendResult:
        """Deliver the template's notice to every selected person, exactly once each.

        Live incidents go by SMTP; a drill's notices go to the workspace's exercise outbox
        whatever ``smtp`` says. Running it again resumes: sent notices are never sent again,
        and notices left unconfirmed by a crash are resent only with ``resend_unconfirmed``.
        ``progress`` is told (done, total) as notices go out (total: those queued for this run).

        Raises:
            InvalidInput: no server, no sender, a bad rate, or not a letter to people.
            Refused: something the template needs is missing.
        """
        state = self.ws.incidents.get(incident_id)
        tpl = self.template(template_id)
        if tpl.meta.audience != "individual":
            raise InvalidInput(f"{tpl.id} is for the {tpl.meta.audience}, not for each person; render it and submit it yourself")
        selection = self.selection(tpl, jurisdictions)
        self._require_ready(state, tpl, selection)
        release = self.approvals.require(state, tpl, self._inputs(state, tpl, selection))
        cipher = self.ws.keys.cipher(f"sending notices to people for {state.id}")
        address = (sender or str(state.facts.get("notice_sender") or "")).strip()
        if not _ADDRESS.fullmatch(address):
            raise InvalidInput(f"--from '{address}': give the notices' sender as an e-mail address" if address
                               else "give --from ADDRESS (the notices' sender), or set the fact notice_sender")
        if rate is not None and rate <= 0:
            raise InvalidInput(f"--rate {rate}: give a number of messages per second above 0")
        drill = state.mode == "drill"
        server = None
        if not drill:
            if not smtp:
                raise InvalidInput("give --smtp HOST:PORT (the mail server to deliver through)")
            server = Server.parse(smtp, starttls=starttls, cafile=cafile)
        clock = self.ws.clock_for(state)
        with self.ws.store.write() as conn:
            at = format_instant(clock.now())
            deliverydb.queue(conn, state.id, tpl.id, at, selection)
            if resend_unconfirmed:
                deliverydb.requeue(conn, state.id, tpl.id, deliverydb.SENDING, at)
            if retry_failed:
                deliverydb.requeue(conn, state.id, tpl.id, deliverydb.FAILED, at)
            total = deliverydb.counts(conn, state.id, tpl.id).get(tpl.id, {}).get(deliverydb.QUEUED, 0)
        # The letters carry the approved render's date, so they are word for word what was approved.
        plan = self.plan(state, tpl, "eml", parse_instant(release.notice_date), sender=address)
        worker = Sender(self.ws, state, tpl.id, Renderer(plan, cipher), progress=progress, total=total)
        result = SendResult(state.id, tpl.id)
        if drill:
            folder = self.ws.store.path.parent / "outbox" / safe_name(state.id, 64)
            result.outbox = str(folder)
            worker.write_outbox(folder, result)
        else:
            assert server is not None
            worker.send_smtp(server, address, rate, result)
        worker.finish(result)
        return result

    # --------------------------------------------------------------- approvals

    def release(self, incident_id: str, template_id: str, jurisdictions: Sequence[str] | None = None) -> tuple[bool, str]:
        """Whether ``template_id`` may be released for the incident now, and one line on where
        its release stands (which approval is missing and who may give it, or who gave it).
        Notices to the public or to staff need no approval."""
        state = self.ws.incidents.get(incident_id)
        tpl = self.template(template_id)
        if tpl.meta.audience not in GUARDED:
            return True, f"{tpl.id} is for the {tpl.meta.audience}: its release needs no approval"
        inputs = self._inputs(state, tpl, self.selection(tpl, jurisdictions))
        try:
            self.approvals.require(state, tpl, inputs)
        except Refused as exc:
            return False, str(exc)
        return True, self.approvals.describe(state, tpl, inputs)

    def last_render(self, incident_id: str, template_id: str) -> Event | None:
        """The latest ``notices.rendered`` event of ``template_id`` for the incident, if any."""
        state = self.ws.incidents.get(incident_id)
        try:
            return self.approvals.render_of(state, self.template(template_id), None)
        except NotFound:
            return None

    def approve(self, incident_id: str, template_id: str, *, render_seq: int | None = None,
                jurisdictions: Sequence[str] | None = None) -> Event:
        """Approve the release of a render of ``template_id`` (the latest unless ``render_seq``).

        Raises:
            Refused: the two-person rule is not met, or the render is out of date.
        """
        state = self.ws.incidents.get(incident_id)
        tpl = self.template(template_id)
        render = self.approvals.render_of(state, tpl, render_seq)
        selection = (render.payload.get("inputs") or {}).get("jurisdictions", self.selection(tpl, jurisdictions))
        return self.approvals.approve(state, tpl, self._inputs(state, tpl, list(selection)), render.seq)

    def reject(self, incident_id: str, template_id: str, reason: str, *, render_seq: int | None = None) -> Event:
        """Refuse the release of a render of ``template_id`` (the latest unless ``render_seq``), with a reason."""
        state = self.ws.incidents.get(incident_id)
        return self.approvals.reject(state, self.template(template_id), reason, render_seq)

    def status(self, incident_id: str, template_id: str | None = None) -> dict[str, Any]:
        """Delivery status by template: counts, unconfirmed notices and failures."""
        self.ws.incidents.get(incident_id)
        with self.ws.store.read() as conn:
            counts = deliverydb.counts(conn, incident_id, template_id)
            out: dict[str, Any] = {"incident": incident_id, "templates": {}}
            for name, by_status in sorted(counts.items()):
                out["templates"][name] = {
                    "counts": {k: by_status.get(k, 0) for k in deliverydb.STATUSES},
                    "unconfirmed": [
                        {"ref_hash": k, "message_id": m, "since": at} for k, m, at in deliverydb.unconfirmed(conn, incident_id, name)
                    ],
                    "failed": [
                        {"ref_hash": k, "reason": r, "attempts": n} for k, r, n in deliverydb.failures(conn, incident_id, name, 100)
                    ],
                }
        return out


_ADDRESS = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _rule_of(tracked: Any) -> str:
    obligation = getattr(tracked, "obligation", tracked)
    if isinstance(obligation, dict):
        return str(obligation.get("rule", ""))
    return str(getattr(obligation, "rule", ""))


def _required_of(tracked: Any) -> list[str]:
    obligation = getattr(tracked, "obligation", tracked)
    if isinstance(obligation, dict):
        return list(obligation.get("required_fields") or [])
    return list(getattr(obligation, "required_fields", None) or [])


def _fact_for(tpl: NoticeTemplate, name: str) -> str | None:
    """The fact a template reads for a rule's required field (``<field>_zh`` in a Chinese template)."""
    included = tpl.reads | set(tpl.facts)
    for candidate in ((f"{name}_zh", name) if tpl.meta.locale == "zh-CN" else (name,)):
        if candidate in included:
            return candidate
    return None
