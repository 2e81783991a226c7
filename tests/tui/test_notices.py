"""The notices pane: pick a template, see what is missing, preview, render, approve and send."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, ProgressBar

from ir.notices.keys import generate, write_key_file
from ir.tui import IrApp
from ir.tui.screens.confirm import ConfirmScreen
from ir.tui.screens.incident import IncidentScreen
from ir.tui.screens.pick_text import PickTextScreen
from ir.tui.screens.text import TextScreen
from ir.tui.widgets.notices_panel import CA_FILE, PLAIN, STARTTLS, NoticesPanel
from ir.workspace import Workspace
from tests.notices.conftest import FACTS, PEOPLE, Mailbox, approve_release, mailbox, write_people  # noqa: F401 (a fixture)

from .helpers import enter_text, open_in_app, open_incident, settle, wait_until

PANE = "4"
"""The notices pane's key: after work, timeline and obligations."""


@pytest.fixture(autouse=True)
def data_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data key configured as a real workspace has one (IR_KEY_FILE)."""
    path = write_key_file(tmp_path / "keys" / "data.key", generate())
    monkeypatch.setenv("IR_KEY_FILE", str(path))
    return path


def _incident(ws: Workspace, tmp_path: Path, facts: dict[str, object] | None = None) -> str:
    """A live incident with the three people of the notices tests (one each in CN, DE and US-CA)."""
    incident = open_incident(ws, severity="high")
    ws.subjects.import_csv(incident, write_people(tmp_path / "people.csv", PEOPLE))
    if facts:
        ws.incidents.set_facts(incident, dict(facts))
    return incident


async def _notices(pilot: Pilot[None], incident: str, template: str | None = None) -> NoticesPanel:
    screen = await open_in_app(pilot, incident)
    await pilot.press(PANE)
    await settle(pilot)
    panel = screen.query_one(NoticesPanel)
    assert screen.active == "notices" and screen.focused is panel.query_one("#templates")
    if template is not None:
        await _pick(pilot, panel, template)
    return panel


async def _pick(pilot: Pilot[None], panel: NoticesPanel, template: str) -> None:
    templates = panel.query_one("#templates", OptionList)
    templates.highlighted = templates.get_option_index(template)
    await settle(pilot)
    assert panel.current() is not None and panel.current().id == template  # type: ignore[union-attr]
    assert panel.detail is not None and panel.detail.template == template


def _detail(panel: NoticesPanel) -> str:
    return str(panel.query_one("#notice-detail").render())


def _messages(app: IrApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def test_pick_a_template_and_see_what_is_missing(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp]
) -> None:
    incident = _incident(ws, tmp_path, {"organisation": "Example Retail Ltd"})
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident)
        listed = [c.id for c in panel.snapshot.templates]  # type: ignore[union-attr]
        assert listed == sorted(t.id for t in ws.notices.templates()[0])
        assert "3 people affected" in str(panel.query_one("#notices-title").render())
        await _pick(pilot, panel, "gdpr-individual-en")
        detail = _detail(panel)
        assert "To: 1 people" in detail and "Data key: available" in detail
        assert "Missing before it can be rendered:" in detail
        for fact in ("contact", "incident_summary", "possible_harm"):
            assert f"✗ fact {fact}: not set" in detail
        assert "✗ fact organisation" not in detail
        assert "Release: releasing gdpr-individual-en" in detail and "needs an approved render" in detail


async def test_preview_shows_the_letter_of_one_real_person(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp]
) -> None:
    incident = _incident(ws, tmp_path, FACTS)
    before = len(ws.incidents.timeline(incident))
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "gdpr-individual-en")
        assert "Nothing missing" in _detail(panel)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen)
        assert app.screen.heading == "Preview of gdpr-individual-en for C-0002 · Anna Schmidt, Hauptstraße 5, 10115 Berlin"
        assert app.screen.body.startswith("Subject: Important information about your personal data at Example Retail")
        assert "Dear Anna Schmidt," in app.screen.body
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
    assert len(ws.incidents.timeline(incident)) == before, "a preview records nothing"
    assert not (tmp_path / "notices").exists()


async def _render(pilot: Pilot[None], app: IrApp, panel: NoticesPanel, folder: Path) -> ConfirmScreen:
    """Press g, check the dialog proposes ``folder``, render into it and wait for the end;
    return the dialog."""
    await pilot.press("g")
    await settle(pilot)
    dialog = app.screen
    assert isinstance(dialog, ConfirmScreen)
    assert dialog.query_one("#reason", Input).value == str(folder)
    await pilot.press("enter")
    await settle(pilot)
    await wait_until(pilot, lambda: panel.running is None)
    return dialog


async def test_render_the_batch_with_a_progress_bar(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp]
) -> None:
    incident = _incident(ws, tmp_path, FACTS)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "us-individual-en")
        folder = tmp_path / "notices" / incident / "us-individual-en" / "1"
        dialog = await _render(pilot, app, panel, folder)
        assert "(1 people)" in dialog.body
        bar = panel.query_one("#notice-progress", ProgressBar)
        assert bar.total == 1 and bar.progress == bar.total
        assert "1 letters in" in str(panel.query_one("#notice-run-label").render())
        await wait_until(pilot, lambda: panel.detail is not None and panel.detail.render is not None)
        assert "Last render: #" in _detail(panel)
        # The next render goes to a new folder, not into the one that holds this render.
        assert panel.default_folder("us-individual-en") == folder.with_name("2")
    (event,) = [e for e in ws.incidents.timeline(incident) if e.kind == "notices.rendered"]
    assert event.actor == "alice" and event.payload["out"] == str(folder) and event.payload["count"] == 1
    (letter,) = (folder / "letters").rglob("*.txt")
    assert "Ann Lee" in letter.read_text(encoding="utf-8")
    assert (folder / "manifest.csv").exists()


async def test_an_interrupted_render_is_offered_again_and_goes_on_where_it_stopped(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp]
) -> None:
    incident = _incident(ws, tmp_path, FACTS)
    folder = tmp_path / "notices" / incident / "us-individual-en" / "1"

    def cut(done: int, total: int) -> None:
        raise KeyboardInterrupt  # the terminal closed mid-render

    with pytest.raises(KeyboardInterrupt):
        ws.notices.render(incident, "us-individual-en", folder, progress=cut)
    assert folder.is_dir() and not [e for e in ws.incidents.timeline(incident) if e.kind == "notices.rendered"]
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "us-individual-en")
        dialog = await _render(pilot, app, panel, folder)
        assert "was interrupted" in dialog.body
        await wait_until(pilot, lambda: panel.detail is not None and panel.detail.render is not None)
        # Finished now: the next render goes to a new folder.
        assert panel.default_folder("us-individual-en") == folder.with_name("2")
    (event,) = [e for e in ws.incidents.timeline(incident) if e.kind == "notices.rendered"]
    assert event.payload["out"] == str(folder) and event.payload["count"] == 1


async def test_send_needs_an_approval_from_someone_else_then_goes_to_the_mail_server(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp], mailbox: Callable[..., Mailbox]  # noqa: F811
) -> None:
    incident = _incident(ws, tmp_path, {**FACTS, "notice_sender": "privacy@example.com"})
    ws.incidents.assign(incident, "dpo", "bob")
    ws.notices.render(incident, "gdpr-individual-en", tmp_path / "out")
    box = mailbox()
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "gdpr-individual-en")
        await pilot.press("s")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen), "no dialog: the release is not approved"
        refusal = _messages(app)[-1]
        assert refusal.startswith("Not approved: releasing gdpr-individual-en for")
        assert "needs approval by dpo (bob) or legal (nobody holds the role), who did not prepare it" in refusal
        # Alice prepared it and holds no approver's role: the service says why, the app carries on.
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("ctrl+y")
        await settle(pilot)
        refused = _messages(app)[-1]
        assert refused.startswith("Could not approve the notice: approving gdpr-individual-en for")
        assert "alice holds neither role" in refused
        assert box.received == []

    other = app_factory(actor="bob")
    async with other.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "gdpr-individual-en")
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(other.screen, ConfirmScreen) and "prepared by alice" in other.screen.body
        await pilot.press("ctrl+y")
        await settle(pilot)
        await wait_until(pilot, lambda: panel.detail is not None and panel.detail.approved)
        assert "Release: release approved by bob (dpo)" in _detail(panel)

    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "gdpr-individual-en")
        await pilot.press("s")
        await settle(pilot)
        await _server(pilot, app, PLAIN, box.address)  # the test server listens on loopback
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and confirm.danger
        assert confirm.heading == "Send gdpr-individual-en to 1 people"
        assert f"to 1 people through the mail server {box.address}, unencrypted, from privacy@example.com" in confirm.body
        assert "release approved by bob (dpo)" in confirm.body
        await pilot.press("ctrl+y")
        await settle(pilot)
        await wait_until(pilot, lambda: panel.running is None, timeout=10)
        bar = panel.query_one("#notice-progress", ProgressBar)
        assert bar.total == 1 and bar.progress == 1
        assert "1 sent, 0 failed, 0 still queued" in str(panel.query_one("#notice-run-label").render())
    assert box.per_recipient() == {"anna@example.de": 1}
    assert [e.payload["sent"] for e in ws.incidents.timeline(incident) if e.kind == "notices.sent"] == [1]


async def _server(pilot: Pilot[None], app: IrApp, how: str, text: str) -> None:
    """In the send dialog, choose how the connection is protected, then type the server."""
    dialog = app.screen
    assert isinstance(dialog, PickTextScreen)
    choices = dialog.query_one("#choices", OptionList)
    choices.highlighted = choices.get_option_index(how)
    await pilot.press("enter")
    await enter_text(pilot, dialog.query_one("#text", Input), text)
    await settle(pilot)


async def test_send_over_starttls_checks_the_server_s_certificate(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp], mailbox: Callable[..., Mailbox]  # noqa: F811
) -> None:
    """A relay that requires STARTTLS, with a certificate of its own CA: against this host's
    CAs the send stops and says why, nothing sent; against the relay's CA file it goes."""
    import ssl

    from tests.notices.test_delivery import self_signed

    incident = _incident(ws, tmp_path, {**FACTS, "notice_sender": "privacy@example.com"})
    approve_release(ws, incident, "gdpr-individual-en", tmp_path / "out")
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = mailbox(tls_context=context, require_starttls=True)
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "gdpr-individual-en")
        await pilot.press("s")
        await settle(pilot)
        dialog = app.screen
        await _server(pilot, app, CA_FILE, box.address)  # the CA file missing: the dialog says so
        assert app.screen is dialog
        assert "a space, then the CA file" in str(dialog.query_one("#text-label").render())
        await enter_text(pilot, dialog.query_one("#text", Input), f"{box.address} {tmp_path / 'nope.pem'}")
        await settle(pilot)
        assert app.screen is dialog and "No such CA file" in str(dialog.query_one("#text-label").render())
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("s")
        await settle(pilot)
        await _server(pilot, app, STARTTLS, box.address)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert f"the mail server {box.address} over STARTTLS, its certificate checked against this host's" in confirm.body
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: panel.running is None, timeout=10)
        assert box.received == []
        assert any("TLS" in m for m in _messages(app)), _messages(app)

        await pilot.press("s")
        await settle(pilot)
        await _server(pilot, app, CA_FILE, f"{box.address} {cert}")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen) and f"checked against {cert}" in confirm.body
        await pilot.press("ctrl+y")
        await wait_until(pilot, lambda: panel.running is None, timeout=10)
    assert box.per_recipient() == {"anna@example.de": 1}


async def test_without_the_data_key_the_pane_says_so_and_keeps_running(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    incident = _incident(ws, tmp_path, FACTS)
    monkeypatch.delenv("IR_KEY_FILE")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident, "gdpr-individual-en")
        assert "Data key: No data key is configured" in _detail(panel)
        for key in ("p", "g", "s"):
            await pilot.press(key)
            await settle(pilot)
            assert isinstance(app.screen, IncidentScreen)
            assert _messages(app)[-1].startswith("No data key: No data key is configured: letters to people cannot")
        # A notice to a regulator names nobody: it previews without the key.
        await _pick(pilot, panel, "gdpr-authority-en")
        assert "Data key" not in _detail(panel)
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, TextScreen) and "Example Retail Ltd" in app.screen.body
    assert [e for e in ws.incidents.timeline(incident) if e.kind.startswith("notices.")] == []


BROKEN = """---
id: {id}
title: Broken
audience: individual
locale: en
subject: "Hello"
needs:
  facts: [organisation]
---
{body}
"""


async def test_a_broken_template_is_a_readable_notice_and_nothing_is_half_written(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp]
) -> None:
    incident = _incident(ws, tmp_path, FACTS)
    folder = ws.store.path.parent / "notice_templates"
    folder.mkdir()
    (folder / "evil.j2").write_text(BROKEN.format(id="evil", body="{{ ''.__class__ }}"), encoding="utf-8")
    (folder / "huge.j2").write_text(BROKEN.format(id="huge", body="Dear {{ person.name }}, {{ 'x' * 999999999 }}"),
                                    encoding="utf-8")
    before = len(ws.incidents.timeline(incident))
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        panel = await _notices(pilot, incident)
        templates = panel.query_one("#templates", OptionList)
        templates.highlighted = templates.get_option_index("evil")
        await settle(pilot)
        assert "✗ not usable" in str(templates.get_option("evil").prompt)
        assert "This template cannot be used: " in _detail(panel) and "evil.j2:10: body: " in _detail(panel)
        await pilot.press("p")
        await settle(pilot)
        (shown,) = _messages(app)
        assert shown.startswith("evil cannot be used: ") and "\n" not in shown
        # This one loads, and fails when it renders: the preview and the render say so in a line.
        await _pick(pilot, panel, "huge")
        await pilot.press("p")
        await settle(pilot)
        assert isinstance(app.screen, IncidentScreen)
        failed = _messages(app)[-1]
        assert failed.startswith("Could not preview the notice: template huge: the body cannot be rendered")
        await pilot.press("g")
        await settle(pilot)
        out = Path(app.screen.query_one("#reason", Input).value)
        await pilot.press("enter")
        await settle(pilot)
        await wait_until(pilot, lambda: panel.running is None)
        assert _messages(app)[-1].startswith("Could not render the notices: template huge: the body cannot be rendered")
        assert "Could not render the notices" in str(panel.query_one("#notice-run-label").render())
        # Still running: the next key works.
        await pilot.press("1")
        await settle(pilot)
        assert app.screen.active == "work"  # type: ignore[attr-defined]
    assert len(ws.incidents.timeline(incident)) == before
    assert not out.exists(), "the render failed before making its folder"


async def test_a_drill_s_notices_go_to_its_outbox_and_the_confirmation_says_so(
    ws: Workspace, tmp_path: Path, app_factory: Callable[..., IrApp]
) -> None:
    from ir.workspace import Workspace as Other

    from .helpers import open_drill_in_app

    drill = open_incident(ws, "Quarterly tabletop", mode="drill")
    ws.subjects.import_csv(drill, write_people(tmp_path / "people.csv", PEOPLE))
    ws.incidents.set_facts(drill, {**FACTS, "notice_sender": "privacy@example.com"})
    ws.incidents.assign(drill, "dpo", "bob")
    ws.notices.render(drill, "gdpr-individual-en", tmp_path / "out")
    with Other(ws.store.path, clock=ws.clock, actor="bob", lang="en") as bob:
        bob.notices.approve(drill, "gdpr-individual-en")
    app = app_factory()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_drill_in_app(pilot, drill)
        await pilot.press(PANE)
        await settle(pilot)
        panel = screen.query_one(NoticesPanel)
        await _pick(pilot, panel, "gdpr-individual-en")
        await pilot.press("s")
        await settle(pilot)
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen), "no mail server to ask for: a drill's mail stays in its outbox"
        assert confirm.heading == "EXERCISE · Send gdpr-individual-en to 1 people"
        outbox = tmp_path / "outbox" / drill
        assert f"through the drill outbox {outbox} (nothing reaches real people)" in confirm.body
        await pilot.press("ctrl+y")
        await settle(pilot)
        await wait_until(pilot, lambda: panel.running is None, timeout=10)
    assert len(list(outbox.glob("*.eml"))) == 1
