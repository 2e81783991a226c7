"""How notice events read in an incident's timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ir.engine.facts import render
from ir.engine.views import describer

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook


@describer("subjects.imported")
def _imported(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    if p.get("abandoned"):
        return (
            f"gave up the unfinished import of {p['file']} (sha256 {p['file_sha256'][:12]}…) after "
            f"{p['imported']:,} people added and {p['updated']:,} updated"
        )
    text = (
        f"imported {p['rows']:,} rows of affected people from {p['file']} (sha256 {p['file_sha256'][:12]}…): "
        f"{p['imported']:,} added, {p['updated']:,} updated, {p.get('unchanged', 0):,} unchanged, {p['rejected']:,} rejected"
    )
    if p.get("by_jurisdiction"):
        text += f"; {render(p['by_jurisdiction'])}"
    return text


@describer("notices.rendered")
def _rendered(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return (
        f"rendered {p['count']:,} notice(s) from template {p['template']} as {p['format']} into {p.get('out', '?')} "
        f"(manifest sha256 {p['manifest_sha256'][:12]}…)"
    )


@describer("notices.sent")
def _sent(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    where = f" to the exercise outbox {p['outbox']}" if p.get("outbox") else ""
    text = f"sent {p['sent']:,} notice(s) from template {p['template']}{where}; {p['failed']:,} failed"
    if p.get("unconfirmed"):
        text += f", {p['unconfirmed']:,} unconfirmed"
    return text


def same_login(login: str) -> str:
    """How an approval given from the login that rendered the notice is pointed out."""
    return f"from the operating-system account that rendered it ({login})"


@describer("notice.approved")
def _approved(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return (
        f"approved the release of {p['template']} as {p.get('role', '?')}: render #{p.get('render_seq')} prepared by "
        f"{p.get('prepared_by', '?')} (manifest sha256 {str(p.get('manifest_sha256', ''))[:12]}…)"
        + (f"; WARNING: {same_login(p['same_os_account'])}" if p.get("same_os_account") else "")
    )


@describer("notice.rejected")
def _rejected(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return (
        f"refused the release of {p['template']} as {p.get('role', '?')}: render #{p.get('render_seq')} prepared by "
        f"{p.get('prepared_by', '?')} — {p.get('reason', '')}"
    )


@describer("subjects.purged")
def _purged(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    files = p.get("files") or {}
    text = (
        f"destroyed the personal fields ({', '.join(p.get('fields', []))}) of {p.get('people', 0):,} people, "
        f"{p.get('retention_days', '?')} day(s) retention after closure at {p.get('closed_at', '?')}; "
        "kept counts, reference hashes and proof of notice"
    )
    if files.get("deleted"):
        text += f"; deleted {files['deleted']:,} file(s) naming people"
    elif files.get("listed"):
        text += f"; {files['listed']:,} file(s) naming people listed for deletion"
    return text


@describer("keys.rotated")
def _rotated(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    moved = ", ".join(f"{n:,} from {k}" for k, n in (p.get("from") or {}).items()) or "none"
    return f"re-encrypted personal fields with key {p.get('to')}: {moved}; {p.get('remaining', 0):,} left under other keys"
