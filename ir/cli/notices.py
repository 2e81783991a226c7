"""``ir subjects`` and ``ir notices``: the people affected, and the notices they receive."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ir.cli.common import emit_json, env, json_option, table, workspace_options

if TYPE_CHECKING:
    from ir.notices.purge import PurgeResult


def progress_bar(label: str) -> Any:
    """A progress callback drawing one line on stderr, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    last = [0.0]

    def show(done: int, total: int) -> None:
        """Redraw the bar (at most five times a second)."""
        now = time.monotonic()
        if now - last[0] < 0.2 and done < total:
            return
        last[0] = now
        share = done / total if total else 1.0
        filled = int(share * 30)
        click.echo(f"\r{label} [{'#' * filled}{'.' * (30 - filled)}] {share:6.1%}", err=True, nl=False)

    return show


def _end_bar(bar: Any) -> None:
    if bar is not None:
        click.echo("", err=True)


def category_label(entry: dict[str, Any]) -> str:
    """A category's class as a listing shows it: ``sensitive; PIPL sensitive personal information``."""
    text = str(entry["sensitivity"])
    return text + "; PIPL sensitive personal information" if entry.get("pipl_sensitive") else text


def category_table(entries: list[dict[str, Any]]) -> str:
    """Data categories with their sensitivity class, PIPL mark and people (most sensitive first)."""
    rows = [
        [entry["id"], entry["title"], entry["sensitivity"], "yes" if entry["pipl_sensitive"] else "no",
         f"{entry['people']:,}" if "people" in entry else "-"]
        for entry in entries
    ]
    return table(["DATA CATEGORY", "TITLE", "CLASS", "PIPL SENSITIVE", "PEOPLE"], rows)


# ------------------------------------------------------------------ subjects


@click.group("subjects")
def subjects_group() -> None:
    """The people affected by an incident: import the list, see the counts."""


@subjects_group.command("import")
@click.argument("incident_id")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--map", "mapping", multiple=True, metavar="COLUMN=FIELD",
              help="Read COLUMN as FIELD (reference, name, email, phone, postal_address, jurisdiction, locale, "
                   "categories, or - to ignore it); repeatable.")
@click.option("--encoding", metavar="NAME", help="The file's encoding (default: detect UTF-8, UTF-8 with BOM, GB18030).")
@click.option("--rejects", type=click.Path(path_type=Path, dir_okay=False), metavar="PATH",
              help="Where rejected rows go (default: FILE.rejects.csv beside FILE).")
@click.option("--abandon-unfinished", is_flag=True,
              help="Give up an interrupted import of another file into this incident instead of refusing.")
@json_option
@workspace_options
def import_(incident_id: str, file: Path, mapping: tuple[str, ...], encoding: str | None, rejects: Path | None,
            abandon_unfinished: bool, as_json: bool) -> None:
    """Import (or re-import) the CSV list of people affected by INCIDENT_ID.

    Rows are matched by reference: importing a corrected file updates people and never
    duplicates them. Rows that fail a check go to the rejects file with their line number
    and the reason.
    """
    ws = env().workspace()
    bar = progress_bar("importing")
    try:
        result = ws.subjects.import_csv(
            incident_id, file, mapping=mapping, encoding=encoding, rejects=rejects,
            abandon_unfinished=abandon_unfinished, progress=bar,
        )
    finally:
        _end_bar(bar)
    if as_json:
        emit_json(result.as_dict())
        return
    if result.ignored_columns:
        click.echo(f"ir: ignored columns: {', '.join(result.ignored_columns)} (read one with --map COLUMN=FIELD)", err=True)
    resumed = " (finished an interrupted import)" if result.resumed else ""
    click.echo(
        f"{result.incident_id}: {result.rows:,} rows from {result.file} ({result.encoding}){resumed}: "
        f"{result.imported:,} added, {result.updated:,} updated, {result.unchanged:,} unchanged, {result.rejected:,} rejected"
    )
    if result.rejects:
        click.echo(f"rejected rows, with line numbers and reasons: {result.rejects}")
    total = sum(result.totals.values())
    click.echo(f"people affected: {total:,} ({', '.join(f'{k} {v:,}' for k, v in result.totals.items())})")
    categories = ws.subjects.categories(incident_id)
    if categories:
        click.echo("")
        click.echo(category_table(categories))
    if result.without_categories:
        click.echo(f"{result.without_categories:,} people in this file name no category: the incident's data_categories apply")


@subjects_group.command("show")
@click.argument("incident_id")
@json_option
@workspace_options
def show(incident_id: str, as_json: bool) -> None:
    """How many people INCIDENT_ID affects, by jurisdiction and language, and the imports."""
    summary = env().workspace().subjects.summary(incident_id)
    if as_json:
        emit_json(summary)
        return
    click.echo(f"{incident_id}: {summary['total']:,} people affected")
    if summary["purged"]:
        click.echo(f"personal fields destroyed (ir subjects purge) for {summary['purged']:,} of them")
    if summary["by_jurisdiction"]:
        click.echo(table(["JURISDICTION", "PEOPLE"], [[k, f"{v:,}"] for k, v in summary["by_jurisdiction"].items()]))
        click.echo("")
        click.echo(table(["LANGUAGE", "PEOPLE"], [[k, f"{v:,}"] for k, v in summary["by_locale"].items()]))
    if summary["categories"]:
        click.echo("")
        click.echo(category_table(summary["categories"]))
    if summary["imports"]:
        click.echo("")
        rows = [
            [i["id"], i["file_name"], i["state"], i["started_at"], i["started_by"], f"{i['imported']:,}", f"{i['updated']:,}"]
            for i in summary["imports"]
        ]
        click.echo(table(["#", "FILE", "STATE", "STARTED", "BY", "ADDED", "UPDATED"], rows))


@subjects_group.command("find")
@click.argument("incident_id")
@click.argument("reference")
@json_option
@workspace_options
def find(incident_id: str, reference: str, as_json: bool) -> None:
    """Show one person of INCIDENT_ID, found by their REFERENCE, and the notices they were sent.

    Their personal fields need the data key (IR_KEY_FILE or IR_KEY); after a purge only the
    proof of notice is left.
    """
    person = env().workspace().subjects.find(incident_id, reference)
    if as_json:
        emit_json(person)
        return
    click.echo(f"{person['incident']}: person {person['ref_sha256']} ({person['jurisdiction']}, {person['locale']})")
    if person["fields"] is None:
        click.echo("personal fields: destroyed (ir subjects purge)")
    else:
        for name, value in person["fields"].items():
            click.echo(f"  {name}: {value}" if value else f"  {name}: -")
    own = "" if person["own_categories"] else " (the incident's: the list named none for them)"
    click.echo(f"data categories{own}:")
    for entry in person["categories"]:
        click.echo(f"  {entry['id']} ({entry['title']}): {category_label(entry)}")
    for notice in person["notices"]:
        sent = f" at {notice['sent_at']}, sha256 {notice['sha256']}" if notice["sent_at"] else ""
        click.echo(f"notice {notice['template']}: {notice['status']}{sent}, Message-ID {notice['message_id'] or '-'}")


@subjects_group.command("purge")
@click.argument("incident_id")
@click.option("--delete-files", is_flag=True, help="Also delete the rendered letters and outbox messages that name people.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@workspace_options
def purge(incident_id: str, delete_files: bool, yes: bool, as_json: bool) -> None:
    """Destroy the personal fields of INCIDENT_ID's people once it is closed and the workspace's
    retention period (ir profile set retention_days=N) has passed since it closed.

    Counts, the hashes of references and the proof of notice (message ids, the hashes of
    letters and manifests, sending times) are kept. The files on disk that name people are
    listed; --delete-files deletes them.
    """

    def confirm(people: int, found: PurgeResult) -> bool:
        files = f" and delete {found.listed:,} file(s) naming people" if delete_files and found.listed else ""
        return click.confirm(f"Destroy the personal fields of {people:,} people of {incident_id}{files}? "
                             "This cannot be undone", default=False, err=True)

    result = env().workspace().subjects.purge(incident_id, delete_files=delete_files, confirm=None if yes else confirm)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(f"{incident_id}: destroyed the personal fields of {result.people:,} people (event #{result.seq})")
    for folder in result.folders:
        done = "deleted" if delete_files else "to delete"
        click.echo(f"{done}: {len(folder.files):,} file(s) naming people in {folder.path}")
        if not delete_files:
            for name in folder.files[:20]:
                click.echo(f"  {folder.path / name}")
            if len(folder.files) > 20:
                click.echo(f"  ... and {len(folder.files) - 20:,} more (all of them: --json)")
    if result.listed and not delete_files:
        click.echo(f"delete them with: ir subjects purge {incident_id} --delete-files")
    for folder, digest in result.proofs.items():
        click.echo(f"kept {folder}/proof.csv (sha256 {digest}): each letter's hash against its reference's hash")


# ------------------------------------------------------------------- notices


@click.group("notices")
def group() -> None:
    """Notice letters: templates, checks, rendering and delivery."""


@group.command("templates")
@json_option
@workspace_options
def templates(as_json: bool) -> None:
    """List the notice templates: id, audience, language and the rules each satisfies."""
    good, bad = env().workspace().notices.templates()
    for problem in bad:
        for error in problem.errors:
            click.echo(f"ir: template not usable: {error}", err=True)
    if as_json:
        emit_json([t.summary() for t in good])
        return
    rows = [[t.id, t.meta.audience, t.meta.locale, ", ".join(t.meta.rules) or "-", t.meta.title] for t in good]
    click.echo(table(["ID", "AUDIENCE", "LOCALE", "RULES", "TITLE"], rows))


@group.command("check")
@click.argument("incident_id")
@click.argument("template")
@click.option("--jurisdiction", "jurisdictions", multiple=True, metavar="CODE",
              help="Only people in this jurisdiction (US also takes US-CA, ...); repeatable; ALL for everyone.")
@json_option
@workspace_options
def check(incident_id: str, template: str, jurisdictions: tuple[str, ...], as_json: bool) -> None:
    """List everything missing before TEMPLATE can be rendered for INCIDENT_ID.

    Exit status 0 when nothing is missing, 2 otherwise.
    """
    report = env().workspace().notices.check(incident_id, template, list(jurisdictions) or None)
    if as_json:
        emit_json(report.as_dict())
    else:
        who = f", {report.people:,} people" if report.audience == "individual" else ""
        click.echo(f"{report.template} for {report.incident_id} ({report.audience}{who}):")
        if report.ready:
            click.echo("  nothing missing")
        for item in report.missing:
            stop = "" if item.blocking else "  (rendering proceeds without it)"
            click.echo(f"  missing {item.kind} {item.name}: {item.detail}{stop}")
        for note in report.notes:
            click.echo(f"  note: {note}")
        for entry in report.categories:
            people = f", {entry['people']:,} people" if "people" in entry else ""
            click.echo(f"  data: {entry['id']} ({entry['title']}): {category_label(entry)}{people}")
    if not report.ready:
        click.echo(f"ir: {len(report.missing)} thing(s) missing for {report.template}", err=True)
        raise SystemExit(2)


@group.command("preview")
@click.argument("incident_id")
@click.option("--template", "template", required=True, help="The template id (see ir notices templates).")
@click.option("--person", "reference", metavar="REF", help="The person's reference (default: the first person selected).")
@click.option("--jurisdiction", "jurisdictions", multiple=True, metavar="CODE",
              help="Only people in this jurisdiction (default: the template's); repeatable; ALL for everyone.")
@json_option
@workspace_options
def preview(incident_id: str, template: str, reference: str | None, jurisdictions: tuple[str, ...], as_json: bool) -> None:
    """Show TEMPLATE rendered for one real person of INCIDENT_ID (or its one document), as text.

    Letters to people need the data key (IR_KEY_FILE or IR_KEY). Nothing is written: no file
    and no event. Exit status 0 when the notice could be rendered, 2 when something is missing.
    """
    result = env().workspace().notices.preview(
        incident_id, template, reference, jurisdictions=list(jurisdictions) or None
    )
    if as_json:
        emit_json(result.as_dict())
    elif result.ready:
        who = f"{result.reference}: {result.recipient}" if result.reference else result.recipient
        click.echo(f"{result.template} for {result.incident_id}, to {who}")
        if result.subject:
            click.echo(f"Subject: {result.subject}")
        click.echo("")
        click.echo(result.body, nl=False)
    if not result.ready:
        for item in result.missing:
            click.echo(f"ir: missing {item.kind} {item.name}: {item.detail}", err=True)
        raise SystemExit(2)


@group.command("render")
@click.argument("incident_id")
@click.option("--template", "template", required=True, help="The template id (see ir notices templates).")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), required=True, help="The folder letters go to.")
@click.option("--format", "fmt", type=click.Choice(["txt", "html", "eml"]), default="txt", show_default=True)
@click.option("--jurisdiction", "jurisdictions", multiple=True, metavar="CODE",
              help="Only people in this jurisdiction (default: the template's); repeatable; ALL for everyone.")
@click.option("--from", "sender", metavar="ADDRESS", help="The sender of e-mail letters (--format eml).")
@click.option("--bundle", type=click.IntRange(0, 100_000), default=0, metavar="N",
              help="Put N letters in each file (text: separated by form feeds; e-mail: an mbox). Default: one file each.")
@click.option("--jobs", type=click.IntRange(1, 64), help="Processes rendering letters (default: one per core).")
@json_option
@workspace_options
def render(incident_id: str, template: str, out: Path, fmt: str, jurisdictions: tuple[str, ...], sender: str | None,
           bundle: int, jobs: int | None, as_json: bool) -> None:
    """Render TEMPLATE for INCIDENT_ID into --out: one letter per person and a manifest.

    Running it again on the same folder resumes an interrupted run without writing any
    letter twice.
    """
    ws = env().workspace()
    bar = progress_bar("rendering")
    try:
        result = ws.notices.render(
            incident_id, template, out, fmt=fmt, jurisdictions=list(jurisdictions) or None, sender=sender,
            workers=jobs, progress=bar, bundle=bundle,
        )
    finally:
        _end_bar(bar)
    if as_json:
        emit_json(result.as_dict())
        return
    resumed = " (resumed)" if result.resumed else ""
    click.echo(f"{result.count:,} notice(s) in {result.out}{resumed}; {result.skipped:,} skipped")
    click.echo(f"manifest: {result.manifest} (sha256 {result.manifest_sha256})")


@group.command("send")
@click.argument("incident_id")
@click.option("--template", "template", required=True, help="The template id (a notice to individuals).")
@click.option("--smtp", metavar="HOST:PORT", help="The mail server (ignored for drills: they go to the outbox).")
@click.option("--starttls", is_flag=True, help="Upgrade the connection with STARTTLS and verify the server.")
@click.option("--cafile", type=click.Path(exists=True, dir_okay=False), help="Trust this CA certificate for STARTTLS.")
@click.option("--from", "sender", metavar="ADDRESS", help="The sender (default: the fact notice_sender).")
@click.option("--rate", type=float, metavar="N", help="At most N messages per second.")
@click.option("--jurisdiction", "jurisdictions", multiple=True, metavar="CODE",
              help="Only people in this jurisdiction (default: the template's); repeatable; ALL for everyone.")
@click.option("--resend-unconfirmed", is_flag=True,
              help="Send again the notices a crashed run left unconfirmed (same Message-ID).")
@click.option("--retry-failed", is_flag=True, help="Try the failed notices again.")
@json_option
@workspace_options
def send(incident_id: str, template: str, smtp: str | None, starttls: bool, cafile: str | None, sender: str | None,
         rate: float | None, jurisdictions: tuple[str, ...], resend_unconfirmed: bool, retry_failed: bool,
         as_json: bool) -> None:
    """Deliver TEMPLATE to each person affected by INCIDENT_ID, exactly once.

    Running it again resumes: notices already sent are never sent again.
    """
    ws = env().workspace()
    result = ws.notices.send(
        incident_id, template, smtp=smtp, starttls=starttls, cafile=cafile, sender=sender, rate=rate,
        jurisdictions=list(jurisdictions) or None, resend_unconfirmed=resend_unconfirmed, retry_failed=retry_failed,
    )
    if as_json:
        emit_json(result.as_dict())
    else:
        where = f" to the exercise outbox {result.outbox}" if result.outbox else ""
        click.echo(f"{result.sent:,} sent{where}, {result.failed:,} failed, {result.queued:,} still queued")
        if result.unconfirmed:
            click.echo(
                f"{result.unconfirmed:,} unconfirmed: a run stopped after handing them to the server and before its reply; "
                f"check the server's log for their Message-IDs (ir notices status {incident_id}), then "
                "--resend-unconfirmed if they did not arrive"
            )
    if result.stopped:
        click.echo(f"ir: error: stopped: {result.stopped}; run the same command again to continue", err=True)
        raise SystemExit(2)


@group.command("approve")
@click.argument("incident_id")
@click.option("--template", "template", required=True, help="The template whose render is approved.")
@click.option("--render", "render_seq", type=int, metavar="EVENT", help="The render's event number (default: the latest).")
@json_option
@workspace_options
def approve(incident_id: str, template: str, render_seq: int | None, as_json: bool) -> None:
    """Approve the release of a render of TEMPLATE (two-person rule).

    Only the incident's privacy officer (role dpo) or legal counsel (role legal) may approve,
    and not the person who rendered it. The approval holds for exactly what was rendered: a
    change to the template, the facts it reads or the list of people needs a new render and
    a new approval.
    """
    event = env().workspace().notices.approve(incident_id, template, render_seq=render_seq)
    p = event.payload
    if p.get("same_os_account"):
        from ir.notices.describe import same_login

        click.echo(f"ir: warning: approved {same_login(p['same_os_account'])}; the record shows one login acting "
                   "under two names", err=True)
    if as_json:
        emit_json({"incident": incident_id, "seq": event.seq, **p})
        return
    click.echo(
        f"approved {template} for {incident_id} (event #{event.seq}): render #{p['render_seq']} prepared by "
        f"{p['prepared_by']}, manifest sha256 {p['manifest_sha256']}"
    )


@group.command("reject")
@click.argument("incident_id")
@click.option("--template", "template", required=True, help="The template whose render is refused.")
@click.option("--reason", required=True, help="Why it may not be released (recorded in the timeline).")
@click.option("--render", "render_seq", type=int, metavar="EVENT", help="The render's event number (default: the latest).")
@json_option
@workspace_options
def reject(incident_id: str, template: str, reason: str, render_seq: int | None, as_json: bool) -> None:
    """Refuse the release of a render of TEMPLATE, with a reason (withdraws an approval of it)."""
    event = env().workspace().notices.reject(incident_id, template, reason, render_seq=render_seq)
    if as_json:
        emit_json({"incident": incident_id, "seq": event.seq, **event.payload})
        return
    click.echo(f"refused {template} for {incident_id} (event #{event.seq}): render #{event.payload['render_seq']}")


@group.command("status")
@click.argument("incident_id")
@click.option("--template", "template", help="Only this template.")
@json_option
@workspace_options
def status(incident_id: str, template: str | None, as_json: bool) -> None:
    """Delivery status of INCIDENT_ID's notices: sent, queued, unconfirmed, failed."""
    report = env().workspace().notices.status(incident_id, template)
    if as_json:
        emit_json(report)
        return
    if not report["templates"]:
        click.echo(f"{incident_id}: no notices sent or queued")
        return
    rows = [[name, *(f"{t['counts'][k]:,}" for k in ("sent", "queued", "sending", "failed"))] for name, t in report["templates"].items()]
    click.echo(table(["TEMPLATE", "SENT", "QUEUED", "UNCONFIRMED", "FAILED"], rows))
    for name, t in report["templates"].items():
        for item in t["unconfirmed"]:
            click.echo(f"unconfirmed {name}: Message-ID {item['message_id']} (since {item['since']})")
        for item in t["failed"][:20]:
            click.echo(f"failed {name}: person {item['ref_hash'][:12]}… after {item['attempts']} attempt(s): {item['reason']}")
