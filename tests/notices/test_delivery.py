"""Delivery against a real SMTP server on loopback: exactly once, through failures and crashes."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ir.workspace import Workspace
from tests.conftest import IrRunner, ir_process
from tests.notices.conftest import Behaviour, Mailbox, approve_release, generated, ir_popen, kill, set_facts, write_people

SEND = ("notices", "send")


@pytest.fixture
def crowd(ws: Workspace, tmp_path: Path) -> tuple[str, list[str]]:
    """An incident with 12 people in Germany, 11 with an e-mail address."""
    case = ws.incidents.open("personal-data-leak", title="delivery").id
    rows = generated(12, "DE")
    rows[5][2] = ""  # no e-mail address
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", rows))
    set_facts(ws, case)
    approve_release(ws, case, "gdpr-individual-en", tmp_path / "approved")
    return case, [r[2] for r in rows if r[2]]


def send(ir: IrRunner, case: str, box: Mailbox, *extra: str) -> dict:
    run = ir(*SEND, case, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com", "--json", *extra)
    assert run.exit_code in (0, 2), run.stderr
    return run.json() | {"exit": run.exit_code, "stderr": run.stderr}


def status(ir: IrRunner, case: str) -> dict:
    return ir.ok("notices", "status", case, "--json").json()["templates"]["gdpr-individual-en"]


def test_everyone_gets_the_notice_once(ws: Workspace, crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox]) -> None:
    case, addresses = crowd
    box = mailbox()
    first = send(ir, case, box)
    assert (first["sent"], first["failed"], first["exit"]) == (11, 1, 0)
    assert box.per_recipient() == dict.fromkeys(addresses, 1)
    again = send(ir, case, box)
    assert again["sent"] == 0 and len(box.received) == 11
    message = box.received[0].message
    assert message["From"] == "dpo@example.com" and message["Subject"].startswith("Important information about your personal data")
    assert "Dear Person" in message.get_body(("plain",)).get_content()
    counts = status(ir, case)
    assert counts["counts"] == {"queued": 0, "sending": 0, "sent": 11, "failed": 1}
    assert counts["failed"][0]["reason"] == "no e-mail address (send a letter by post)"
    (event,) = [e.payload for e in ws.incidents.timeline(case) if e.kind == "notices.sent"]
    assert event == {"template": "gdpr-individual-en", "sent": 11, "failed": 1}
    assert "sent 11 notice(s) from template gdpr-individual-en; 1 failed" in ir.ok("incident", "log", case).stdout


def test_message_ids_are_fixed_per_person(crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox], tmp_path: Path) -> None:
    case, _ = crowd
    box = mailbox()
    send(ir, case, box)
    ids = {item.recipients[0]: item.message_id for item in box.received}
    assert len(set(ids.values())) == 11
    out = tmp_path / "eml"
    ir.ok("notices", "render", case, "--template", "gdpr-individual-en", "--out", str(out), "--format", "eml", "--from", "dpo@example.com")
    from email import message_from_bytes

    for path in out.rglob("*.eml"):
        message = message_from_bytes(path.read_bytes())
        assert ids[message["To"].split("<")[1].rstrip(">")] == message["Message-ID"]


def test_bad_delivery_options_are_one_line_errors(ws: Workspace, crowd: tuple[str, list[str]], ir: IrRunner) -> None:
    case, _ = crowd
    assert "give --smtp HOST:PORT" in ir(*SEND, case, "--template", "gdpr-individual-en", "--from", "a@example.com").stderr
    assert "write HOST:PORT" in ir(*SEND, case, "--template", "gdpr-individual-en", "--smtp", "nowhere", "--from", "a@b.c").stderr
    assert "give --from ADDRESS" in ir(*SEND, case, "--template", "gdpr-individual-en", "--smtp", "127.0.0.1:1").stderr
    assert "above 0" in ir(*SEND, case, "--template", "gdpr-individual-en", "--smtp", "127.0.0.1:1", "--from", "a@b.c",
                           "--rate", "0").stderr
    regulator = ir(*SEND, case, "--template", "gdpr-authority-en", "--smtp", "127.0.0.1:1", "--from", "a@b.c")
    assert regulator.exit_code == 2 and "not for each person" in regulator.stderr
    assert [e for e in ws.incidents.timeline(case) if e.kind == "notices.sent"] == []


def test_an_unreachable_server_stops_the_run_with_one_line(crowd: tuple[str, list[str]], ir: IrRunner) -> None:
    case, _ = crowd
    from tests.notices.conftest import free_port

    run = ir(*SEND, case, "--template", "gdpr-individual-en", "--smtp", f"127.0.0.1:{free_port()}", "--from", "a@example.com")
    assert run.exit_code == 2 and "cannot connect to 127.0.0.1" in run.stderr and "run the same command again" in run.stderr
    assert "Traceback" not in run.stderr


def test_rate_limits_messages_per_second(crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox]) -> None:
    case, _ = crowd
    box = mailbox()
    started = time.monotonic()
    result = send(ir, case, box, "--rate", "20")
    elapsed = time.monotonic() - started
    assert result["sent"] == 11
    assert elapsed >= 10 / 20 * 0.95, "11 messages at 20 per second take at least half a second"
    gaps = [b - a for a, b in zip(box.times, box.times[1:])]
    assert min(gaps) >= 0.03, f"messages arrived closer together than the rate allows: {min(gaps):.3f}s"


def test_a_server_that_starts_refusing_is_resumed_later(
    crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    case, addresses = crowd
    flaky = mailbox(Behaviour(refuse_after=4))
    first = send(ir, case, flaky)
    assert first["exit"] == 2 and "refused the last 10 notices temporarily" in first["stderr"]
    assert first["sent"] == 4 and first["queued"] == 7
    healthy = mailbox()
    second = send(ir, case, healthy)
    assert second["sent"] == 7 and second["queued"] == 0
    together = flaky.per_recipient()
    for rcpt, n in healthy.per_recipient().items():
        together[rcpt] = together.get(rcpt, 0) + n
    assert together == dict.fromkeys(addresses, 1)


def test_a_permanent_refusal_fails_that_notice_only(
    crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    case, addresses = crowd
    box = mailbox(Behaviour(reject={addresses[2]}))
    result = send(ir, case, box)
    assert (result["sent"], result["failed"]) == (10, 2)
    reasons = {f["reason"] for f in status(ir, case)["failed"]}
    assert "RCPT TO: 550 5.1.1 <<recipient>>: no such mailbox" in reasons, "the address the server echoed is not stored"
    assert send(ir, case, box)["sent"] == 0
    box.behaviour.reject = set()
    retried = send(ir, case, box, "--retry-failed")
    assert retried["sent"] == 1 and retried["failed"] == 1
    assert box.per_recipient() == dict.fromkeys(addresses, 1)


def test_a_dropped_connection_before_the_end_is_retried(
    crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    case, addresses = crowd
    box = mailbox(Behaviour(drop_at_rcpt=3))
    result = send(ir, case, box)
    assert result["sent"] == 11 and result["exit"] == 0
    assert box.per_recipient() == dict.fromkeys(addresses, 1)


def test_a_connection_lost_after_the_end_is_unconfirmed_not_resent(
    crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox]
) -> None:
    case, addresses = crowd
    box = mailbox(Behaviour(drop_after_data=3))
    first = send(ir, case, box)
    assert first["sent"] == 10 and first["unconfirmed"] == 1
    assert send(ir, case, box)["sent"] == 0, "an unconfirmed notice is not sent again on its own"
    (pending,) = status(ir, case)["unconfirmed"]
    assert pending["message_id"].endswith("@example.com>")
    lost = sorted(set(addresses) - set(box.per_recipient()))
    assert len(lost) == 1
    resent = send(ir, case, box, "--resend-unconfirmed")
    assert resent["sent"] == 1 and resent.get("unconfirmed", 0) == 0
    assert box.per_recipient() == dict.fromkeys(addresses, 1)
    assert box.received[-1].message_id == pending["message_id"], "a resend keeps the Message-ID"


def test_a_process_killed_after_the_server_accepted_does_not_send_twice(
    ws: Workspace, crowd: tuple[str, list[str]], db_path: Path, mailbox: Callable[..., Mailbox], ir: IrRunner
) -> None:
    case, addresses = crowd
    box = mailbox(Behaviour(hold_accept=4, hold=30))
    proc = ir_popen(*SEND, case, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com", db=db_path)
    try:
        assert box.accepted.wait(60), "the fourth message never arrived"
    finally:
        kill(proc)
    box.behaviour.hold_accept = None
    done = ir_process(*SEND, case, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com",
                      "--json", db=db_path)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["sent"] == 7 and result["unconfirmed"] == 1
    assert box.per_recipient() == dict.fromkeys(addresses, 1), "every person got the notice exactly once"
    assert status(ir, case)["counts"]["sending"] == 1


def test_a_process_killed_before_the_end_of_a_message_sends_it_on_resume(
    crowd: tuple[str, list[str]], db_path: Path, mailbox: Callable[..., Mailbox]
) -> None:
    case, addresses = crowd
    box = mailbox(Behaviour(hold_rcpt=6, hold=30))
    proc = ir_popen(*SEND, case, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com", db=db_path)
    try:
        assert box.rcpt_reached.wait(60)
    finally:
        kill(proc)
    assert len(box.received) == 5
    box.behaviour.hold_rcpt = None
    done = ir_process(*SEND, case, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com",
                      "--json", db=db_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["sent"] == 6
    assert box.per_recipient() == dict.fromkeys(addresses, 1)


def test_starttls_verifies_the_server(crowd: tuple[str, list[str]], ir: IrRunner, mailbox: Callable[..., Mailbox], tmp_path: Path) -> None:
    case, addresses = crowd
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = mailbox(tls_context=context, require_starttls=True)
    plain = send(ir, case, box)
    assert plain["sent"] == 0 and plain["failed"] == 12, "the server refuses mail before STARTTLS"
    untrusted = ir(*SEND, case, "--template", "gdpr-individual-en", "--smtp", box.address, "--from", "dpo@example.com",
                   "--starttls", "--retry-failed")
    assert untrusted.exit_code == 2 and "TLS with 127.0.0.1" in untrusted.stderr
    secure = send(ir, case, box, "--starttls", "--cafile", str(cert), "--retry-failed")
    assert secure["sent"] == 11 and box.per_recipient() == dict.fromkeys(addresses, 1)


def test_a_drill_never_reaches_a_server(ws: Workspace, tmp_path: Path, ir: IrRunner, mailbox: Callable[..., Mailbox]) -> None:
    case = ws.incidents.open("personal-data-leak", title="exercise", mode="drill").id
    ws.subjects.import_csv(case, write_people(tmp_path / "p.csv", generated(4, "DE")))
    set_facts(ws, case)
    approve_release(ws, case, "gdpr-individual-en", tmp_path / "approved")
    box = mailbox()
    result = send(ir, case, box)
    assert result["sent"] == 4 and box.received == []
    outbox = Path(result["outbox"])
    assert outbox == ws.store.path.parent / "outbox" / case
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 4
    from email import message_from_bytes
    from email.policy import default

    message = message_from_bytes(files[0].read_bytes(), policy=default)
    assert message["Subject"].startswith("[EXERCISE] ") and message["X-IR-Exercise"] == "yes"
    assert "EXERCISE - This notice was produced in a drill" in message.get_body(("plain",)).get_content()
    assert send(ir, case, box)["sent"] == 0 and len(list(outbox.glob("*.eml"))) == 4
    (event,) = [e.payload for e in ws.incidents.timeline(case) if e.kind == "notices.sent"]
    assert event["outbox"] == str(outbox) and event["sent"] == 4


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path
