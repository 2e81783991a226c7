"""Notice fixtures: an incident with every fact the shipped templates read, people files, a real SMTP server."""

from __future__ import annotations

import asyncio
import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from ir.notices.keys import generate, write_key_file
from ir.workspace import Workspace
from tests.conftest import REPO

FACTS: dict[str, Any] = {
    "organisation": "Example Retail Ltd",
    "organisation_zh": "示例零售有限公司",
    "contact": "our Data Protection Officer, Jane Smith, at privacy@example.com or 0800 123 4567 (free, 9am to 6pm)",
    "contact_zh": "个人信息保护负责人李明，电话 400-123-4567（工作日 9:00-18:00），邮箱 privacy@example.cn",
    "incident_summary": (
        "On 18 November 2026 we found that a backup of our customer database had been stored where it could be "
        "read from the internet without a password. An unknown party downloaded the file."
    ),
    "incident_summary_zh": "2026年11月18日，我们发现一份客户数据库备份被存放在可通过互联网公开访问的位置，无需密码即可读取。该文件已被身份不明的第三方下载。",
    "occurred_at": "2026-11-17T22:40:00Z",
    "aware_at": "2026-11-18T02:15:00Z",
    "data_categories": "name,contact,national_id",
    "root_cause": "An engineer changed the storage's access settings during a migration, and the change was not reviewed.",
    "root_cause_zh": "工程师在数据迁移过程中修改了存储的访问权限设置，且该变更未经审核。",
    "possible_harm": "Someone could use your details to send you convincing phishing messages or to attempt identity fraud.",
    "possible_harm_zh": "不法分子可能利用您的信息实施精准诈骗、发送钓鱼短信或邮件，或冒用您的身份。",
    "remedial_measures": (
        "We closed public access within an hour of finding it, deleted the backup, checked all our other storage, "
        "and reported the breach to the regulators."
    ),
    "remedial_measures_zh": "我们在发现问题后一小时内关闭了公开访问权限，删除了该备份文件，排查了其他所有存储，并已向监管部门报告。",
    "individual_measures": (
        "Be alert to messages that mention your orders or ask you to confirm personal details, and never share "
        "passwords or one-time codes."
    ),
    "individual_measures_zh": "请警惕提及您订单信息或要求核实个人信息的来电、短信和邮件，不要向任何人透露密码或验证码；如发现异常，请及时报警。",
    "systems_affected_zh": "客户订单管理系统的云端备份存储",
    "incident_grade": "较大",
}
"""Every fact the shipped templates read, in English and Chinese."""

PEOPLE_HEADER = ["reference", "name", "email", "phone", "postal_address", "jurisdiction", "locale", "categories"]
PEOPLE = [
    ["C-0001", "张三", "zhangsan@example.cn", "+86 138 0013 8000", "北京市朝阳区建国路1号", "CN", "zh-CN", "name;national_id"],
    ["C-0002", "Anna Schmidt", "anna@example.de", "", "Hauptstraße 5\n10115 Berlin", "DE", "en", ""],
    ["C-0003", "Ann Lee", "ann.lee@example.com", "+1 415 555 0100", "1 Market St\nSan Francisco, CA 94105", "US-CA", "en", "name;contact"],
]
"""One person per jurisdiction the shipped individual templates go to."""


@pytest.fixture(autouse=True)
def data_key(_isolated_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every notices test runs with a data key configured (IR_KEY_FILE), as a real workspace must."""
    path = write_key_file(tmp_path / "keys" / "data.key", generate())
    monkeypatch.setenv("IR_KEY_FILE", str(path))
    return path


def write_people(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = PEOPLE_HEADER, encoding: str = "utf-8") -> Path:
    """Write a people CSV the way a spreadsheet exports it."""
    with path.open("w", encoding=encoding, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def generated(n: int, jurisdiction: str = "DE", start: int = 0) -> list[list[str]]:
    """``n`` people with distinct references and addresses."""
    return [
        [f"P{i:07d}", f"Person {i}", f"p{i}@example.org", "", f"{i} Example Road", jurisdiction, "en", "name;contact"]
        for i in range(start, start + n)
    ]


def set_facts(ws: Workspace, incident_id: str, facts: dict[str, Any] | None = None) -> None:
    """Give the incident the facts the templates read."""
    ws.incidents.set_facts(incident_id, dict(facts or FACTS))


def approve_release(ws: Workspace, incident_id: str, template: str, folder: Path, approver: str = "bob") -> Path:
    """Prepare a notice as the workspace's actor (render it into ``folder``) and approve it as the
    incident's privacy officer ``approver``: the two-person rule a release needs."""
    if ws.incidents.get(incident_id).roles.get("dpo") != approver:
        ws.incidents.assign(incident_id, "dpo", approver)
    ws.notices.render(incident_id, template, folder)
    with Workspace(ws.store.path, clock=ws.clock, actor=approver, lang="en") as other:
        other.notices.approve(incident_id, template)
    return folder


@pytest.fixture
def incident(ws: Workspace, tmp_path: Path) -> str:
    """A live incident with the three people of :data:`PEOPLE` and every fact the templates read."""
    state = ws.incidents.open("personal-data-leak", title="Customer backup exposed", severity="high")
    ws.subjects.import_csv(state.id, write_people(tmp_path / "people.csv", PEOPLE))
    set_facts(ws, state.id, {**FACTS, "affected_count": 1500040, "subjects": {"CN": 1500000, "DE": 40}})
    return state.id


# ----------------------------------------------------------------- SMTP server


@dataclass
class Received:
    """A message the test server accepted."""

    recipients: list[str]
    message: EmailMessage
    raw: bytes

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


@dataclass
class Behaviour:
    """How the test server misbehaves.

    Attributes:
        refuse_after: accept this many messages, then answer 451 to every end of data.
        reject: recipients answered 550 at RCPT TO (the reply names the address, as real servers do).
        drop_at_rcpt: the Nth RCPT TO (1-based) closes the connection.
        drop_after_data: the Nth message's end of data closes the connection without a reply
            (the message is not kept).
        hold_rcpt: the Nth RCPT TO sets ``rcpt_reached`` and waits ``hold`` seconds.
        hold_accept: the Nth message is kept, sets ``accepted``, and waits ``hold`` seconds
            before the reply.
    """

    refuse_after: int | None = None
    reject: set[str] = field(default_factory=set)
    drop_at_rcpt: int | None = None
    drop_after_data: int | None = None
    hold_rcpt: int | None = None
    hold_accept: int | None = None
    hold: float = 5.0


class Mailbox:
    """A real SMTP server on loopback (aiosmtpd in a thread) that keeps what it accepts."""

    def __init__(self, behaviour: Behaviour | None = None, **controller: Any) -> None:
        self.behaviour = behaviour or Behaviour()
        self.received: list[Received] = []
        self.times: list[float] = []
        self.rcpts = 0
        self.datas = 0
        self.rcpt_reached = threading.Event()
        self.accepted = threading.Event()
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **controller)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> Mailbox:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def per_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for item in self.received:
            for rcpt in item.recipients:
                counts[rcpt] = counts.get(rcpt, 0) + 1
        return counts

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        self.rcpts += 1
        b = self.behaviour
        if b.drop_at_rcpt == self.rcpts:
            server.transport.close()
            return "421 closing"
        if b.hold_rcpt == self.rcpts:
            self.rcpt_reached.set()
            await asyncio.sleep(b.hold)
        if address in b.reject:
            return f"550 5.1.1 <{address}>: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.datas += 1
        b = self.behaviour
        if b.drop_after_data == self.datas:
            server.transport.close()
            return "421 closing"
        if b.refuse_after is not None and len(self.received) >= b.refuse_after:
            return "451 4.3.0 try again later"
        raw = bytes(envelope.original_content or envelope.content)
        message = message_from_bytes(raw, policy=default_policy)
        self.received.append(Received(list(envelope.rcpt_tos), message, raw))  # type: ignore[arg-type]
        self.times.append(time.monotonic())
        if b.hold_accept == len(self.received):
            self.accepted.set()
            await asyncio.sleep(b.hold)
        return "250 OK queued"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def mailbox() -> Iterator[Callable[..., Mailbox]]:
    """Start test SMTP servers; they stop when the test ends."""
    started: list[Mailbox] = []

    def start(behaviour: Behaviour | None = None, **controller: Any) -> Mailbox:
        box = Mailbox(behaviour, **controller).start()
        started.append(box)
        return box

    yield start
    for box in started:
        box.stop()


# ------------------------------------------------------------------ processes


def ir_popen(*args: str, db: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """Start ``python -m ir`` without waiting (so a test can kill it)."""
    full_env = {**os.environ, "IR_ACTOR": "tester", "IR_LANG": "en", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "ir", "--db", str(db), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=full_env, cwd=REPO,
    )


def children_of(pid: int) -> list[int]:
    """Pids of the live processes whose parent is ``pid`` (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` is a running (not zombie) process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL a process, reap it, and check its worker processes die with it."""
    workers = children_of(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    wait_for(lambda: not any(alive(w) for w in workers), 10, f"workers {workers} of the killed command to exit")


def wait_for(condition: Callable[[], bool], timeout: float = 60, what: str = "condition") -> None:
    """Poll until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
