"""The two-person rule for releasing notices, and the notices' part of the evidence bundle."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from email.utils import format_datetime
from pathlib import Path

import pytest

from ir.clock import parse_instant
from ir.store import events as eventlog
from ir.workspace import Workspace
from tests.conftest import IrRunner
from tests.notices.conftest import FACTS, Mailbox, approve_release, generated, set_facts, write_people
from tests.notices.test_keys import SECRETS

T = "gdpr-individual-en"


@pytest.fixture
def team(ws: Workspace, tmp_path: Path) -> str:
    """An incident opened by alice (commander) with bob as privacy officer and carol as legal counsel."""
    case = ws.incidents.open("personal-data-leak", title="release").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(5, "DE")))
    set_facts(ws, case)
    ws.incidents.assign(case, "dpo", "bob")
    ws.incidents.assign(case, "legal", "carol")
    return case


def send(ir: IrRunner, case: str, box: Mailbox, actor: str = "alice") -> object:
    return ir("notices", "send", case, "--template", T, "--smtp", box.address, "--from", "dpo@example.com", actor=actor)


def render(ir: IrRunner, case: str, out: Path, actor: str = "alice") -> dict:
    return ir.ok("notices", "render", case, "--template", T, "--out", str(out), "--json", actor=actor).json()


def test_sending_needs_approval_by_the_dpo_or_legal_who_did_not_prepare_it(
    ws: Workspace, team: str, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    box = mailbox()
    unrendered = send(ir, team, box)
    assert unrendered.exit_code == 2 and "needs an approved render: render it" in unrendered.stderr
    assert "dpo (bob) or legal (carol), who did not prepare it" in unrendered.stderr
    rendered = render(ir, team, tmp_path / "letters")
    unapproved = send(ir, team, box)
    (event,) = [e for e in ws.incidents.timeline(team) if e.kind == "notices.rendered"]
    assert unapproved.exit_code == 2 and len(unapproved.stderr.strip().splitlines()) == 1
    assert (
        f"needs approval by dpo (bob) or legal (carol), who did not prepare it (alice rendered it at {event.at}, "
        f"event #{event.seq}): ir notices approve {team} --template {T}"
    ) in unapproved.stderr
    nobody = ir("notices", "approve", team, "--template", T, actor="dave")
    assert nobody.exit_code == 2 and "dave holds neither role" in nobody.stderr
    ir.ok("incident", "assign", team, "dpo", "alice", actor="alice")
    herself = ir("notices", "approve", team, "--template", T, actor="alice")
    assert herself.exit_code == 2 and "alice rendered" in herself.stderr and "cannot also approve it" in herself.stderr
    ir.ok("incident", "assign", team, "dpo", "bob", actor="alice")
    assert box.received == [] and [e for e in ws.incidents.timeline(team) if e.kind == "notice.approved"] == []
    approval = ir.ok("notices", "approve", team, "--template", T, "--json", actor="carol")
    assert approval.stderr.startswith("ir: warning: approved from the operating-system account that rendered it")
    approved = approval.json()
    assert approved["role"] == "legal" and approved["prepared_by"] == "alice" and approved["render_seq"] == event.seq
    assert approved["manifest_sha256"] == rendered["manifest_sha256"] and approved["inputs_sha256"] == event.payload["inputs_sha256"]
    twice = ir("notices", "approve", team, "--template", T, actor="bob")
    assert twice.exit_code == 2 and "already approved by carol" in twice.stderr
    done = send(ir, team, box)
    assert done.exit_code == 0, done.stderr
    assert len(box.received) == 5
    approved_date = format_datetime(parse_instant(event.payload["notice_date"]))
    assert {m.message["Date"] for m in box.received} == {approved_date}, "the letters carry the approved render's date"
    log = ir.ok("incident", "log", team).stdout
    assert f"approved the release of {T} as legal: render #{event.seq} prepared by alice" in log
    # Here alice and carol are two names on one login: allowed, and said wherever the approval shows.
    assert approved["same_os_account"] == eventlog.PROCESS_ACCOUNT
    assert f"WARNING: from the operating-system account that rendered it ({eventlog.PROCESS_ACCOUNT})" in log


def test_an_approval_from_another_login_carries_no_warning(
    ws: Workspace, team: str, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    render(ir, team, tmp_path / "letters")
    monkeypatch.setattr(eventlog, "PROCESS_ACCOUNT", "carol-login")  # what the next process's uid would give
    approval = ir.ok("notices", "approve", team, "--template", T, "--json", actor="carol")
    approved = approval.json()
    assert "same_os_account" not in approved and approval.stderr == ""
    (event,) = [e for e in ws.incidents.timeline(team) if e.kind == "notice.approved"]
    assert event.os_user == "carol-login"
    check = ir.ok("notices", "check", team, T).stdout
    assert "release approved by carol (legal)" in check and "operating-system account" not in check


def test_what_is_sent_is_what_was_approved(ws: Workspace, team: str, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]) -> None:
    approve_release(ws, team, T, tmp_path / "first")
    with (tmp_path / "first" / "manifest.csv").open(encoding="utf-8") as f:
        approved = {row["reference"]: (tmp_path / "first" / row["file"]).read_text(encoding="utf-8") for row in csv.DictReader(f)}
    set_facts(ws, team, {"possible_harm": "Something else entirely."})
    box = mailbox()
    stale = send(ir, team, box)
    assert stale.exit_code == 2 and "needs a new approval: bob approved render" in stale.stderr
    assert "facts the template reads changed since" in stale.stderr and box.received == []
    (first,) = [e for e in ws.incidents.timeline(team) if e.kind == "notices.rendered"]
    old = ir("notices", "approve", team, "--template", T, "--render", str(first.seq), actor="carol")
    assert old.exit_code == 2 and "out of date (facts the template reads changed since)" in old.stderr
    ws.subjects.import_csv(team, write_people(tmp_path / "more.csv", generated(1, "DE", start=50)))
    refused = send(ir, team, box)
    assert "the list of people" in refused.stderr
    set_facts(ws, team, {"possible_harm": FACTS["possible_harm"]})
    approve_release(ws, team, T, tmp_path / "second")
    assert send(ir, team, box).exit_code == 0
    bodies = {m.message.get_body(("plain",)).get_content().replace("\r\n", "\n") for m in box.received}
    assert {approved[ref] for ref in approved} <= bodies, "the letters sent are word for word the letters approved"


def test_a_rejection_withdraws_an_approval(ws: Workspace, team: str, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]) -> None:
    approve_release(ws, team, T, tmp_path / "letters")
    missing = ir("notices", "reject", team, "--template", T, "--reason", " ", actor="carol")
    assert missing.exit_code == 2 and "--reason is empty" in missing.stderr
    ir.ok("notices", "reject", team, "--template", T, "--reason", "the helpline number is wrong", actor="carol")
    box = mailbox()
    refused = send(ir, team, box)
    assert refused.exit_code == 2 and "carol (legal) rejected render" in refused.stderr
    assert "the helpline number is wrong" in refused.stderr and box.received == []
    assert "refused the release of gdpr-individual-en as legal" in ir.ok("incident", "log", team).stdout
    outsider = ir("notices", "reject", team, "--template", T, "--reason", "no", actor="dave")
    assert outsider.exit_code == 2 and "holds neither role" in outsider.stderr


def test_a_drill_rehearses_the_rule_and_still_mails_only_the_outbox(
    ws: Workspace, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    case = ws.incidents.open("personal-data-leak", title="exercise", mode="drill").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(3, "DE")))
    set_facts(ws, case)
    ws.incidents.assign(case, "dpo", "bob")
    box = mailbox()
    render(ir, case, tmp_path / "letters")
    refused = send(ir, case, box)
    assert refused.exit_code == 2 and "needs approval by dpo (bob)" in refused.stderr
    ir.ok("notices", "approve", case, "--template", T, actor="bob")
    result = ir.ok("notices", "send", case, "--template", T, "--smtp", box.address, "--from", "dpo@example.com", "--json").json()
    assert result["sent"] == 3 and box.received == [] and len(list(Path(result["outbox"]).glob("*.eml"))) == 3


def test_a_regulator_report_is_approved_too_and_check_says_where_it_stands(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner) -> None:
    ws.incidents.assign(incident, "dpo", "bob")
    before = ir("notices", "check", incident, "gdpr-authority-en", "--json").json()
    assert any("needs an approved render" in note for note in before["notes"])
    ir.ok("notices", "render", incident, "--template", "gdpr-authority-en", "--out", str(tmp_path / "report"), actor="alice")
    pending = ir("notices", "check", incident, "gdpr-authority-en").stdout
    assert "needs approval by dpo (bob) or legal (nobody holds the role), who did not prepare it (alice rendered it" in pending
    ir.ok("notices", "approve", incident, "--template", "gdpr-authority-en", actor="bob")
    after = ir("notices", "check", incident, "gdpr-authority-en").stdout
    assert "release approved by bob (dpo)" in after
    assert f"approved from the operating-system account that rendered it ({eventlog.PROCESS_ACCOUNT})" in after


def test_the_evidence_bundle_holds_every_notice_hash_and_no_personal_data(
    ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    approve_release(ws, incident, T, tmp_path / "letters")
    box = mailbox()
    ir.ok("notices", "send", incident, "--template", T, "--smtp", box.address, "--from", "dpo@example.com")
    out = tmp_path / "bundle"
    ir.ok("audit", "export", incident, "--out", str(out))
    assert "ok: bundle" in ir.ok("audit", "verify", str(out)).stdout
    sent = list(csv.DictReader(io.StringIO((out / "notices-sent.csv").read_text(encoding="utf-8"))))
    (row,) = sent
    assert row["ref_sha256"] == hashlib.sha256(b"C-0002").hexdigest() and row["status"] == "sent"
    (received,) = box.received
    assert row["message_id"] == received.message_id
    assert row["letter_sha256"] == hashlib.sha256(received.raw).hexdigest(), "the hash is of the exact bytes delivered"
    rendered = list(csv.DictReader(io.StringIO((out / "notices-rendered.csv").read_text(encoding="utf-8"))))
    (render_row,) = rendered
    assert render_row["approved_by"] == "bob" and render_row["rendered_by"] == "alice" and render_row["letters"] == "1"
    text = "".join(p.read_text(encoding="utf-8") for p in out.iterdir())
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} is in the evidence bundle"
    (out / "notices-sent.csv").write_text((out / "notices-sent.csv").read_text(encoding="utf-8").replace("sent", "failed"))
    tampered = ir("audit", "verify", str(out))
    assert tampered.exit_code == 2 and "notices-sent.csv: its SHA-256 does not match" in tampered.stderr
