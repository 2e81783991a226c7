"""What the terminal app asks of the notice service: where a release stands, the last render,
and the progress of a send."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ir.workspace import Workspace
from tests.notices.conftest import approve_release


def test_release_says_which_approval_is_missing_then_who_gave_it(ws: Workspace, incident: str, tmp_path: Path) -> None:
    ws.incidents.assign(incident, "dpo", "bob")
    assert ws.notices.last_render(incident, "gdpr-individual-en") is None
    approved, line = ws.notices.release(incident, "gdpr-individual-en")
    assert not approved and "needs an approved render" in line and "dpo (bob)" in line
    approve_release(ws, incident, "gdpr-individual-en", tmp_path / "out")
    approved, line = ws.notices.release(incident, "gdpr-individual-en")
    assert approved and line.startswith("release approved by bob (dpo)")
    render = ws.notices.last_render(incident, "gdpr-individual-en")
    assert render is not None and render.kind == "notices.rendered" and render.payload["out"] == str(tmp_path / "out")
    assert ws.notices.release(incident, "public-statement-en") == (
        True, "public-statement-en is for the public: its release needs no approval")


def test_send_tells_its_progress(ws: Workspace, incident: str, tmp_path: Path, mailbox: Any) -> None:
    box = mailbox()
    approve_release(ws, incident, "gdpr-individual-en", tmp_path / "out")
    seen: list[tuple[int, int]] = []
    result = ws.notices.send(incident, "gdpr-individual-en", smtp=box.address, sender="privacy@example.com",
                             progress=lambda done, total: seen.append((done, total)))
    assert result.sent == 1 and len(box.received) == 1
    assert seen == [(1, 1)]
