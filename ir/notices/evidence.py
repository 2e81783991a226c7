"""The notices' part of an incident's evidence bundle: proof of what was sent, without personal data.

``ir audit export`` adds two files (listed, like every file, with their SHA-256 in the
bundle's ``manifest.json``):

* ``notices-rendered.csv``: one line per ``notices.rendered`` event: event number, time,
  who rendered, template, format, letters, the manifest's SHA-256, and who approved its
  release (the ``notice.approved`` event bound to it);
* ``notices-sent.csv``: one line per person and template: the SHA-256 of their reference,
  the delivery status, the Message-ID, the SHA-256 of the exact message bytes, the time sent.

A person who shows their reference can be found by its SHA-256 (``printf %s REF | sha256sum``);
nothing in these files names anyone. They survive ``ir subjects purge``.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from ir.notices.people import safe_cell
from ir.store import events as eventlog
from ir.store import notices as deliverydb

if TYPE_CHECKING:
    from ir.workspace import Workspace

RENDERED = "notices-rendered.csv"
SENT = "notices-sent.csv"


def bundle_files(ws: Workspace, incident_id: str) -> dict[str, str]:
    """The files to add to the incident's bundle (none if it has no notices)."""
    with ws.store.read() as conn:
        renders = list(eventlog.read_events(conn, incident_id, kinds=["notices.rendered", "notice.approved"]))
        sent = _csv(
            ["template", "ref_sha256", "status", "message_id", "letter_sha256", "sent_at"],
            ([t, k, s, m or "", h or "", at or ""] for t, k, s, m, h, at in deliverydb.proofs(conn, incident_id)),
        )
    files: dict[str, str] = {}
    rendered = [e for e in renders if e.kind == "notices.rendered"]
    if rendered:
        approvals = {e.payload.get("render_seq"): e for e in renders if e.kind == "notice.approved"}
        rows = []
        for e in rendered:
            approval = approvals.get(e.seq)
            rows.append([
                e.seq, e.at, e.actor, e.payload["template"], e.payload["format"], e.payload["count"], e.payload["manifest_sha256"],
                approval.actor if approval else "", approval.seq if approval else "",
            ])
        header = ["event", "at", "rendered_by", "template", "format", "letters", "manifest_sha256", "approved_by", "approval_event"]
        files[RENDERED] = _csv(header, rows)
    if sent.count("\n") > 1:
        files[SENT] = sent
    return files


def _csv(header: list[str], rows: object) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:  # type: ignore[attr-defined]
        writer.writerow([safe_cell(str(v)) for v in row])
    return buffer.getvalue()
