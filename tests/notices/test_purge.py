"""Destroying personal fields after notification and retention; classification wherever people are listed."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ir.clock import VirtualClock, format_instant
from ir.workspace import Workspace
from tests.conftest import START, IrRunner
from tests.notices.conftest import PEOPLE, Mailbox, approve_release, generated, set_facts, write_people
from tests.notices.test_keys import SECRETS, raw_text

T = "gdpr-individual-en"
CLOSED = format_instant(START)
LATER = format_instant(START + dt.timedelta(days=30))


def close(ws: Workspace, case: str) -> None:
    """Close the incident (the dismissal path), as its commander alice."""
    for task in ("record_report", "inform_dpo"):
        ws.incidents.complete_task(case, task)
    ws.incidents.answer(case, "breach_confirmed", "no")
    ws.incidents.answer(case, "dismissal_reason", "notified; handling finished")
    ws.incidents.fire(case, "dismiss")


@pytest.fixture
def notified(ws: Workspace, incident: str, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]) -> str:
    """The fixture incident with its letters rendered and approved, its e-mail sent, and closed."""
    approve_release(ws, incident, T, tmp_path / "letters")
    box = mailbox()
    ir.ok("notices", "send", incident, "--template", T, "--smtp", box.address, "--from", "dpo@example.com", now=CLOSED)
    close(ws, incident)
    return incident


def test_purge_waits_for_closure_and_the_retention_period(ws: Workspace, incident: str, ir: IrRunner, clock: VirtualClock) -> None:
    open_ = ir("subjects", "purge", incident, now=LATER)
    assert open_.exit_code == 2 and "is not closed" in open_.stderr
    close(ws, incident)
    unset = ir("subjects", "purge", incident, now=LATER)
    assert unset.exit_code == 2 and "no retention period" in unset.stderr and "ir profile set retention_days=90" in unset.stderr
    ir.ok("profile", "set", "retention_days=30")
    early = ir("subjects", "purge", incident, now=format_instant(START + dt.timedelta(days=29)))
    assert early.exit_code == 2 and f"it may be purged from {LATER}" in early.stderr
    assert ws.store.query("SELECT COUNT(*) AS n FROM subjects WHERE pii IS NULL")[0]["n"] == 0
    assert [e for e in ws.incidents.timeline(incident) if e.kind == "subjects.purged"] == []


def test_purge_asks_first_and_a_no_destroys_nothing(ws: Workspace, notified: str, tmp_path: Path, ir: IrRunner) -> None:
    ir.ok("profile", "set", "retention_days=30")
    declined = ir("subjects", "purge", notified, "--delete-files", input="n\n", now=LATER)
    assert declined.exit_code == 2 and declined.stderr.endswith("ir: error: purge cancelled; nothing was destroyed\n")
    assert "Destroy the personal fields of 3 people of " in declined.stderr and "This cannot be undone" in declined.stderr
    assert "file(s) naming people" in declined.stderr
    assert "reference: C-0002" in ir.ok("subjects", "find", notified, "C-0002").stdout
    assert (tmp_path / "letters" / "manifest.csv").exists()
    assert [e for e in ws.incidents.timeline(notified) if e.kind == "subjects.purged"] == []
    accepted = ir.ok("subjects", "purge", notified, input="y\n", now=LATER)
    assert "destroyed the personal fields of 3 people" in accepted.stdout


def test_purge_destroys_fields_and_keeps_counts_hashes_and_proof(
    ws: Workspace, notified: str, tmp_path: Path, ir: IrRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    ir.ok("profile", "set", "retention_days=30")
    before = ir.ok("subjects", "find", notified, "C-0002", "--json").json()
    monkeypatch.delenv("IR_KEY_FILE")  # destroying needs no key
    result = ir.ok("subjects", "purge", notified, "--yes", "--json", now=LATER, actor="alice").json()
    assert result["people"] == 3 and result["deleted"] == 0
    (folder,) = result["folders"]
    assert folder["folder"] == str(tmp_path / "letters") and "manifest.csv" in folder["files"]
    assert all((tmp_path / "letters" / name).exists() for name in folder["files"]), "listed, not deleted"
    (event,) = [e for e in ws.incidents.timeline(notified) if e.kind == "subjects.purged"]
    assert event.actor == "alice" and event.at == LATER
    assert event.payload["people"] == 3 and event.payload["fields"] == ["reference", "name", "email", "phone", "postal_address"]
    assert event.payload["retention_days"] == 30 and event.payload["closed_at"] == ws.incidents.get(notified).closed_at
    for secret in SECRETS:
        assert secret not in json.dumps(event.payload, ensure_ascii=False)
    shown = ir.ok("subjects", "show", notified, "--json").json()
    assert shown["total"] == 3 and shown["purged"] == 3 and shown["by_jurisdiction"] == {"CN": 1, "DE": 1, "US-CA": 1}
    after = ir.ok("subjects", "find", notified, "C-0002", "--json").json()
    assert after["fields"] is None and after["purged"] and after["ref_sha256"] == hashlib.sha256(b"C-0002").hexdigest()
    assert after["notices"] == before["notices"] and after["notices"][0]["status"] == "sent"
    assert after["notices"][0]["message_id"] and after["notices"][0]["sha256"], "the proof of notice is kept"
    monkeypatch.setenv("IR_KEY_FILE", str(tmp_path / "keys" / "data.key"))
    for args in (("render", notified, "--template", T, "--out", str(tmp_path / "again")),
                 ("send", notified, "--template", T, "--smtp", "127.0.0.1:1", "--from", "a@b.cn")):
        refused = ir("notices", *args, now=LATER)
        assert refused.exit_code == 2 and "were destroyed" in refused.stderr and "ir subjects purge" in refused.stderr
    assert "destroyed the personal fields (reference, name, email, phone, postal_address) of 3 people" in ir.ok(
        "incident", "log", notified).stdout
    ir.ok("audit", "verify")
    bundle = tmp_path / "bundle"
    ir.ok("audit", "export", notified, "--out", str(bundle))
    ir.ok("audit", "verify", str(bundle))
    ws.close()
    data, dump = raw_text(ws.store.path)
    assert "INSERT INTO subjects" in dump
    for secret in SECRETS:
        assert secret.encode() not in data and secret not in dump


def test_delete_files_removes_letters_and_keeps_a_proof_of_each(
    ws: Workspace, notified: str, tmp_path: Path, ir: IrRunner
) -> None:
    ir.ok("profile", "set", "retention_days=30")
    letters = tmp_path / "letters"
    with (letters / "manifest.csv").open(encoding="utf-8") as f:
        listed = list(csv.DictReader(f))
    outside = tmp_path / "keep-me.txt"
    outside.write_text("not a letter")
    with (letters / "manifest.csv").open("a", encoding="utf-8") as f:
        f.write("X-1,someone,../keep-me.txt,00\r\n")  # a hostile line cannot point outside the folder
    ir.ok("subjects", "purge", notified, "--yes", now=LATER)
    again = ir("subjects", "purge", notified, now=LATER)
    assert again.exit_code == 2 and "were destroyed at" in again.stderr and "add --delete-files" in again.stderr
    done = ir.ok("subjects", "purge", notified, "--delete-files", "--yes", "--json", now=LATER).json()
    assert done["people"] == 0 and done["deleted"] == len(listed) + 2  # the letters, manifest.csv and skipped.csv
    assert outside.read_text() == "not a letter"
    assert not (letters / "manifest.csv").exists() and not list((letters / "letters").rglob("*.txt"))
    with (letters / "proof.csv").open(encoding="utf-8") as f:
        proof = list(csv.DictReader(f))
    assert [(p["ref_sha256"], p["sha256"]) for p in proof[:1]] == [
        (hashlib.sha256(listed[0]["reference"].encode()).hexdigest(), listed[0]["sha256"])]
    assert done["proofs"][str(letters)] == hashlib.sha256((letters / "proof.csv").read_bytes()).hexdigest()
    text = (letters / "proof.csv").read_text(encoding="utf-8")
    assert not any(secret in text for secret in SECRETS)
    events = [e.payload for e in ws.incidents.timeline(notified) if e.kind == "subjects.purged"]
    assert [e["people"] for e in events] == [3, 0] and events[1]["files"]["deleted"] == done["deleted"]
    nothing = ir("subjects", "purge", notified, "--delete-files", now=LATER)
    assert nothing.exit_code == 2 and "were destroyed at" in nothing.stderr


def test_a_drills_outbox_is_deleted_with_its_people(ws: Workspace, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]) -> None:
    case = ws.incidents.open("personal-data-leak", title="exercise", mode="drill").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(3, "DE")))
    set_facts(ws, case)
    approve_release(ws, case, T, tmp_path / "letters")
    result = ir.ok("notices", "send", case, "--template", T, "--smtp", mailbox().address, "--from", "dpo@example.com",
                   "--json").json()
    outbox = Path(result["outbox"])
    close(ws, case)
    ws.profile.set({"retention_days": "0"})
    purged = ws.subjects.purge(case, delete_files=True)
    assert purged.people == 3 and {str(f.path) for f in purged.folders} == {str(outbox), str(tmp_path / "letters")}
    assert not list(outbox.glob("*.eml"))


# ---------------------------------------------------------------- classification


def test_people_listings_show_each_category_with_its_class(ws: Workspace, tmp_path: Path, ir: IrRunner) -> None:
    case = ws.incidents.open("personal-data-leak", title="classified").id
    rows = [list(p) for p in PEOPLE]
    rows[2][7] = "name;health"
    set_facts(ws, case)
    text = ir.ok("subjects", "import", case, str(write_people(tmp_path / "p.csv", rows))).stdout
    assert "DATA CATEGORY" in text and "PIPL SENSITIVE" in text
    assert "1 people in this file name no category: the incident's data_categories apply" in text
    shown = {c["id"]: c for c in ir.ok("subjects", "show", case, "--json").json()["categories"]}
    assert shown["health"] == {"id": "health", "title": "Health", "sensitivity": "sensitive", "pipl_sensitive": True,
                               "in_incident_facts": False, "people": 1}
    assert shown["national_id"]["sensitivity"] == "sensitive" and not shown["national_id"]["pipl_sensitive"]
    assert (shown["name"]["people"], shown["contact"]["people"], shown["national_id"]["people"]) == (3, 1, 2)
    assert shown["name"]["sensitivity"] == "public" and shown["contact"]["sensitivity"] == "internal"
    assert list(shown)[0] == "health", "the most sensitive first"
    table = ir.ok("subjects", "show", case).stdout
    assert any(line.split()[:1] == ["health"] and "sensitive" in line and "yes" in line for line in table.splitlines())
    check = ir("notices", "check", case, "us-individual-en", "--jurisdiction", "ALL").stdout
    assert "data: health (Health): sensitive; PIPL sensitive personal information, 1 people" in check
    assert "data: national_id (National ID number): sensitive, 2 people" in check
    found = ir.ok("subjects", "find", case, "C-0003").stdout
    assert "health (Health): sensitive; PIPL sensitive personal information" in found
