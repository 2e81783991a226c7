"""The incident's notices: pick a template, see what is missing, preview one person's letter,
render the batch, have it approved, and send it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Label, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ir.errors import InvalidInput, IrError
from ir.tui.data import NoticeChoice, NoticeDetail, NoticesSnapshot, load_notice, load_notices
from ir.tui.labels import tr
from ir.tui.messages import ActionFailed, Committed
from ir.tui.widgets.incident_panel import ReadingPanel
from ir.tui.widgets.line_table import clip

if TYPE_CHECKING:
    from ir.notices.service import Preview
    from ir.workspace import Workspace

log = logging.getLogger(__name__)

PERSONAL = "individual"
"""The audience whose letters name people: previews, renders and sends of it need the data key."""

NO_KEY = ("No data key is configured: letters to people cannot be previewed, rendered or sent. Set IR_KEY_FILE "
          "to your key file (or IR_KEY to the key itself) and start ir again.")
"""What the pane says, plainly, when the key is missing."""

DELIVERY = {"queued": "queued", "sending": "unconfirmed", "sent": "sent", "failed": "failed"}
"""Delivery statuses as the pane names them (a notice "sending" when a run stopped is unconfirmed)."""

STARTTLS, CA_FILE, PLAIN = "starttls", "starttls-ca", "plain"
SECURITY = {
    STARTTLS: "STARTTLS: the server's certificate checked against this host's trusted CAs",
    CA_FILE: "STARTTLS: the certificate checked against a CA file you name (a relay with its own CA)",
    PLAIN: "Unencrypted: only for a relay on this host or on a network you trust",
}
"""How the connection to the mail server is protected, as the send dialog offers it (the
command line's ``--starttls`` and ``--cafile``)."""


@dataclass(frozen=True)
class Connection:
    """The mail server a send goes through, and how the connection is protected."""

    server: str
    starttls: bool
    cafile: str | None = None

    def describe(self, lang: str) -> str:
        """Where the notices go, as the confirmation says it."""
        if not self.starttls:
            return tr("the mail server {server}, unencrypted", lang, server=self.server)
        if self.cafile:
            return tr("the mail server {server} over STARTTLS, its certificate checked against {cafile}", lang,
                      server=self.server, cafile=self.cafile)
        return tr("the mail server {server} over STARTTLS, its certificate checked against this host's trusted CAs",
                  lang, server=self.server)


def connection_of(how: str, text: str, lang: str) -> Connection:
    """The connection ``how`` (a key of :data:`SECURITY`) to the server typed in ``text``
    (``HOST:PORT``, then a CA file for :data:`CA_FILE`).

    Raises:
        InvalidInput: what is wrong with the text, in the display language.
    """
    from ir.notices.delivery import Server

    parts = text.split()
    if how == CA_FILE and len(parts) != 2:
        raise InvalidInput(tr("Write the mail server, a space, then the CA file: mail.example.com:587 "
                              "/etc/ir/relay-ca.pem", lang))
    usage = tr("Write the mail server as HOST:PORT, e.g. mail.example.com:587", lang)
    if not parts or (how != CA_FILE and len(parts) != 1):
        raise InvalidInput(usage)
    try:
        Server.parse(parts[0])
    except IrError:
        raise InvalidInput(usage) from None
    cafile = parts[1] if how == CA_FILE else None
    if cafile is not None and not Path(cafile).is_file():
        raise InvalidInput(tr("No such CA file: {path}", lang, path=cafile))
    return Connection(parts[0], how != PLAIN, cafile)


ID_WIDTH = 24
AUDIENCE_WIDTH = 11
LOCALE_WIDTH = 6


def pad(text: str, width: int) -> str:
    """``text`` and spaces to ``width`` terminal cells (a wide character counts two), at least one space."""
    return text + " " * max(1, width - cell_len(text))


def choice_prompt(choice: NoticeChoice, lang: str, width: int = 78) -> Text:
    """One line: the template's id, audience, language and title (or why it cannot be used)."""
    text = Text()
    text.append(pad(clip(choice.id, ID_WIDTH - 1), ID_WIDTH), style="bold")
    if choice.problem:
        text.append("✗ " + tr("not usable", lang), style="bold red")
        return text
    text.append(pad(tr(choice.audience, lang), AUDIENCE_WIDTH), style="cyan")
    text.append(pad(choice.locale, LOCALE_WIDTH))
    text.append(clip(choice.title, max(width - text.cell_len, 8)), style="dim")
    return text


def detail_text(choice: NoticeChoice, detail: NoticeDetail | None, key: str | None, lang: str) -> Text:
    """What a privacy officer needs about one template: who it goes to, what is missing, whether
    the key is there, where its release stands, its last render and its delivery."""
    text = Text()
    if choice.problem:
        text.append(tr("This template cannot be used: ", lang), style="bold red")
        text.append(choice.problem)
        return text
    text.append(choice.title, style="bold")
    text.append(f"  {choice.id}\n", style="dim")
    if choice.audience == PERSONAL:
        if key is None:
            text.append(tr("Data key: ", lang), style="bold")
            text.append(tr(NO_KEY, lang) + "\n", style="bold yellow")
        else:
            text.append(tr("Data key: ", lang), style="bold")
            text.append(tr("available ({fingerprint})", lang, fingerprint=key) + "\n", style="green")
    if detail is None:
        text.append(tr("Checking what is missing…", lang), style="dim")
        return text
    check = detail.check
    if choice.audience == PERSONAL:
        text.append(tr("To: ", lang), style="bold")
        text.append(tr("{count} people", lang, count=f"{check.people:,}") + "\n")
    else:
        text.append(tr("To: ", lang), style="bold")
        text.append(tr(check.audience, lang) + "\n")
    blocking = check.blocking
    if not check.missing:
        text.append("✓ " + tr("Nothing missing: ready to preview and render", lang) + "\n", style="green")
    elif blocking:
        text.append(tr("Missing before it can be rendered:", lang) + "\n", style="bold red")
    for item in check.missing:
        mark, style = ("✗ ", "red") if item.blocking else ("! ", "yellow")
        text.append(f"  {mark}{item.kind} {item.name}", style=style)
        text.append(f": {item.detail}\n")
    text.append(tr("Release: ", lang), style="bold")
    text.append(detail.release + "\n", style="green" if detail.approved else "yellow")
    if detail.render is not None:
        r = detail.render
        text.append(tr("Last render: ", lang), style="bold")
        text.append(tr("#{seq} by {actor} at {at}: {count} letters, {skipped} skipped, in {out}", lang, **r) + "\n")
    if detail.delivery:
        text.append(tr("Delivery: ", lang), style="bold")
        text.append(" · ".join(f"{tr(DELIVERY.get(k, k), lang)} {v:,}" for k, v in detail.delivery.items()) + "\n")
    for note in check.notes:
        if note != detail.release:
            text.append(f"{tr('Note: ', lang)}{note}\n", style="dim")
    text.rstrip()
    return text


class NoticesPanel(ReadingPanel):
    """The notice templates and, for the highlighted one, what is missing and where it stands.

    ``p`` (or Enter) previews the letter of one real person, ``g`` renders the batch into a
    folder, ``a`` and ``x`` approve or refuse the latest render (the privacy officer or legal
    counsel who did not render it), ``s`` sends it after a confirmation naming how many people
    and where. Rendering and sending run in the background with a progress bar.
    """

    FIRST_FOCUS = ("#templates",)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "preview", "Preview"),
        Binding("g", "render", "Render"),
        Binding("a", "approve", "Approve"),
        Binding("x", "reject", "Reject"),
        Binding("s", "send", "Send"),
    ]
    """Keys on the highlighted template."""

    READING = "read the notices"

    class DetailLoaded(Message):
        """Where ``template`` stands for ``incident_id``, as read by a worker."""

        def __init__(self, incident_id: str, template: str, detail: NoticeDetail) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.template = template
            self.detail = detail

    class Previewed(Message):
        """A letter rendered for one person (or what stops it)."""

        def __init__(self, incident_id: str, preview: Preview) -> None:
            super().__init__()
            self.incident_id = incident_id
            self.preview = preview

    class Progress(Message):
        """``done`` of ``total`` letters rendered or notices sent."""

        def __init__(self, done: int, total: int) -> None:
            super().__init__()
            self.done = done
            self.total = total

    def __init__(self, incident_id: str, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(incident_id, id=id)
        self.snapshot: NoticesSnapshot | None = None
        self.detail: NoticeDetail | None = None
        """Where the highlighted template stands (None while it is read)."""
        self._highlighted_id: str | None = None
        """The template highlighted, as a pane read (on a worker's thread) may ask."""
        self.running: str | None = None
        """What runs in the background ("render the notices", "send the notices"), if anything."""
        self.smtp = ""
        """The mail server last typed (offered again next time)."""

    def compose(self) -> ComposeResult:
        lang = self.app.ws.lang
        yield Label(tr("Notice templates", lang), id="notices-title", classes="section-title")
        yield OptionList(id="templates")
        with VerticalScroll(id="notice-scroll", can_focus=False):
            yield Static("", id="notice-detail")
        with Horizontal(id="notice-run"):
            yield Label("", id="notice-run-label")
            yield ProgressBar(total=None, show_eta=False, id="notice-progress")

    def on_mount(self) -> None:
        self.query_one("#notice-run").display = False

    # ------------------------------------------------------------------ reading

    def reset(self, incident_id: str) -> None:
        """Forget the templates and the state shown (a run in the background goes on)."""
        super().reset(incident_id)
        self.snapshot = None
        self.detail = None
        self._highlighted_id = None
        self.query_one("#templates", OptionList).clear_options()
        self.query_one("#notice-detail", Static).update("")
        if self.running is None:
            self.query_one("#notice-run").display = False

    def read(self, ws: Workspace, incident_id: str) -> tuple[NoticesSnapshot, NoticeDetail | None]:
        """The templates, the data key and the people affected, with where the template to be
        highlighted stands (the one highlighted now, else the first): in one read, the pane
        shows whole at once."""
        snapshot = load_notices(ws, incident_id)
        ids = [c.id for c in snapshot.templates]
        wanted = self._highlighted_id if self._highlighted_id in ids else (ids[0] if ids else None)
        choice = next((c for c in snapshot.templates if c.id == wanted), None)
        if choice is None or choice.problem:
            return snapshot, None
        try:
            return snapshot, load_notice(ws, incident_id, choice.id)
        except IrError:
            return snapshot, None  # the list shows; reading the detail again reports why

    def loaded(self, data: tuple[NoticesSnapshot, NoticeDetail | None]) -> None:
        snapshot, detail = data
        self.snapshot = snapshot
        lang = self.app.ws.lang
        templates = self.query_one("#templates", OptionList)
        kept = self.current()
        width = self.size.width - 2 if self.size.width > 20 else 78
        with self.prevent(OptionList.OptionHighlighted):
            templates.set_options(Option(choice_prompt(c, lang, width), id=c.id) for c in snapshot.templates)
            ids = [c.id for c in snapshot.templates]
            if ids:
                templates.highlighted = ids.index(kept.id) if kept is not None and kept.id in ids else 0
        title = tr("Notice templates ({count}) · {people} people affected", lang, count=len(ids),
                   people=f"{snapshot.people:,}")
        self.query_one("#notices-title", Label).update(title)
        choice = self.current()
        if detail is not None and choice is not None and choice.id == detail.template:
            self._highlighted_id = choice.id
            self.detail = detail
            self._show_detail()
        else:
            self._read_detail()

    def current(self) -> NoticeChoice | None:
        """The highlighted template."""
        templates = self.query_one("#templates", OptionList)
        if self.snapshot is None or templates.highlighted is None or templates.option_count == 0:
            return None
        chosen = templates.get_option_at_index(templates.highlighted).id
        return next((c for c in self.snapshot.templates if c.id == chosen), None)

    @on(OptionList.OptionHighlighted, "#templates")
    def _highlighted(self) -> None:
        self._read_detail()

    @on(OptionList.OptionSelected, "#templates")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        # Enter on a template previews it: the first thing to do with one.
        event.stop()
        self.action_preview()

    def _read_detail(self) -> None:
        choice = self.current()
        self._highlighted_id = choice.id if choice is not None else None
        self.detail = None
        self._show_detail()
        if choice is not None and not choice.problem:
            self.load_detail(choice.id)

    @work(thread=True, exclusive=True, group="notice-detail", exit_on_error=False)
    def load_detail(self, template: str) -> None:
        """Check the template against the incident in a worker with its own connection."""
        worker = get_current_worker()
        incident = self.incident_id
        try:
            with self.app.open_workspace() as ws:
                detail = load_notice(ws, incident, template)
        except IrError as exc:
            self.post_message(ActionFailed("check the notice", str(exc), type(exc).__name__, refresh=False))
            return
        if not worker.is_cancelled:
            self.post_message(self.DetailLoaded(incident, template, detail))

    def on_notices_panel_detail_loaded(self, message: DetailLoaded) -> None:
        message.stop()
        choice = self.current()
        if message.incident_id != self.incident_id or choice is None or choice.id != message.template:
            return  # read for another incident or template
        self.detail = message.detail
        self._show_detail()

    def _show_detail(self) -> None:
        choice = self.current()
        shown = self.query_one("#notice-detail", Static)
        if choice is None or self.snapshot is None:
            shown.update(tr("No notice template is available.", self.app.ws.lang) if self.snapshot else "")
            return
        shown.update(detail_text(choice, self.detail, self.snapshot.key, self.app.ws.lang))

    # ----------------------------------------------------------------- commands

    def _usable(self, *, personal: bool = False) -> NoticeChoice | None:
        """The highlighted template if it can be used now (else a word on why not).

        Args:
            personal: the step opens people's letters (it needs the data key).
        """
        choice = self.current()
        lang = self.app.ws.lang
        if choice is None or self.snapshot is None:
            return None
        if choice.problem:
            self.notify(choice.problem, title=tr("{template} cannot be used", lang, template=choice.id),
                        severity="error", timeout=8)
            return None
        if personal and choice.audience == PERSONAL and self.snapshot.key is None:
            self.notify(tr(NO_KEY, lang), title=tr("No data key", lang), severity="warning", timeout=8)
            return None
        if self.running is not None:
            self.notify(tr("Wait until the run in progress ends ({what}).", lang, what=tr(self.running, lang)),
                        severity="warning")
            return None
        return choice

    def action_preview(self) -> None:
        """Show the highlighted template's letter for one real person (the first selected)."""
        choice = self._usable(personal=True)
        if choice is not None:
            self._preview(choice.id)

    @work(thread=True, exclusive=True, group="notice-preview", exit_on_error=False)
    def _preview(self, template: str) -> None:
        incident = self.incident_id
        try:
            with self.app.open_workspace() as ws:
                preview = ws.notices.preview(incident, template)
        except IrError as exc:
            self.post_message(ActionFailed("preview the notice", str(exc), type(exc).__name__, refresh=False))
            return
        self.post_message(self.Previewed(incident, preview))

    def on_notices_panel_previewed(self, message: Previewed) -> None:
        from ir.tui.screens.text import TextScreen

        message.stop()
        if message.incident_id != self.incident_id:
            return
        lang = self.app.ws.lang
        p = message.preview
        if not p.ready:
            missing = "; ".join(f"{m.kind} {m.name}" for m in p.missing)
            self.notify(tr("Missing: {missing}", lang, missing=missing),
                        title=tr("Cannot preview {template}", lang, template=p.template), severity="warning",
                        timeout=8)
            return
        who = f"{p.reference} · {p.recipient}" if p.reference else p.recipient
        title = tr("Preview of {template} for {who}", lang, template=p.template, who=who)
        subject = f"{tr('Subject: ', lang)}{p.subject}\n\n" if p.subject else ""
        self.app.push_screen(TextScreen(self.dialog_title(title), subject + p.body))

    def default_folder(self, template: str) -> Path:
        """Where a render goes unless the user says otherwise: the latest
        ``notices/<incident>/<template>/<n>`` folder beside the workspace if a render into
        it was interrupted (rendering into it again goes on where it stopped), else the
        next unused one."""
        base = self.app.ws.store.path.parent / "notices" / self.incident_id / template
        n = 1
        while (base / str(n)).exists():
            n += 1
        latest = base / str(n - 1)
        return latest if n > 1 and self._unfinished(latest) else base / str(n)

    def _unfinished(self, folder: Path) -> bool:
        """Whether ``folder`` holds a render of the highlighted template that never ended
        (the render's own record of what it holds is there; no finished render names it)."""
        from ir.notices.render import STATE

        if not (folder / STATE).is_file():
            return False
        last = self.detail.render if self.detail is not None else None
        return last is None or Path(last["out"]).resolve() != folder.resolve()

    def action_render(self) -> None:
        """Render the highlighted template into a folder (asked first), with a progress bar."""
        from ir.tui.screens.confirm import ConfirmScreen

        choice = self._usable(personal=True)
        if choice is None:
            return
        lang = self.app.ws.lang
        if self.detail is not None and self.detail.check.blocking:
            names = ", ".join(m.name for m in self.detail.check.blocking)
            self.notify(tr("{template} needs: {names}", lang, template=choice.id, names=names),
                        title=tr("Cannot render yet", lang), severity="warning", timeout=8)
            return
        if choice.audience == PERSONAL:
            people = self.detail.check.people if self.detail is not None else 0
            body = tr("Write one letter per person ({people} people) and a manifest into this folder, and record "
                      "the render in the timeline. The letters carry personal data: keep the folder safe.", lang,
                      people=f"{people:,}")
        else:
            body = tr("Write the notice and a manifest into this folder, and record the render in the timeline.",
                      lang)
        template, incident = choice.id, self.incident_id
        suggested = self.default_folder(template)
        if self._unfinished(suggested):
            body += " " + tr("A render into this folder was interrupted: rendering into it again goes on where it "
                             "stopped.", lang)

        def confirmed(folder: str | None) -> None:
            if folder:
                self._start("render the notices", tr("Rendering {template}", lang, template=template))
                self._render_batch(incident, template, Path(folder).expanduser())

        def need_folder(text: str) -> str | None:
            return None if text else tr("Give the folder the letters go to.", lang)

        screen = ConfirmScreen(self.dialog_title(tr("Render {template}", lang, template=template)), body, lang=lang,
                               confirm=tr("Render", lang), value=str(suggested),
                               check=need_folder, reason_prompt=tr("folder", lang))
        self.app.push_screen(screen, confirmed)

    def _start(self, what: str, label: str) -> None:
        self.running = what
        self.query_one("#notice-run").display = True
        self.query_one("#notice-run-label", Label).update(label + " ")
        self.query_one("#notice-progress", ProgressBar).update(total=None, progress=0)

    def _end(self, label: str) -> None:
        self.running = None
        self.query_one("#notice-run-label", Label).update(label)

    def _progress(self, done: int, total: int) -> None:
        # Called on the worker's thread: only a message crosses to the UI.
        self.post_message(self.Progress(done, total))

    def on_notices_panel_progress(self, message: Progress) -> None:
        message.stop()
        self.query_one("#notice-progress", ProgressBar).update(total=message.total, progress=message.done)

    @work(thread=True, group="notice-run", exit_on_error=False)
    def _render_batch(self, incident: str, template: str, out: Path) -> None:
        self._run("render the notices", incident,
                  lambda ws: ws.notices.render(incident, template, out, progress=self._progress), self._rendered)

    def _run(self, what: str, incident: str, command: Callable[[Workspace], Any], done: Callable[[Any], None]) -> None:
        """Run a render or a send (on the worker's thread); the outcome comes back as a message."""
        try:
            with self.app.open_workspace() as ws:
                result = command(ws)
        except IrError as exc:
            self.post_message(ActionFailed(what, str(exc), type(exc).__name__, on_failed=self._failed))
            return
        except Exception as exc:  # a bug must not leave the pane waiting for a run that is over
            log.exception("%s failed", what)
            message = f"internal error: {type(exc).__name__}: {exc}"
            self.post_message(ActionFailed(what, message, "InternalError", on_failed=self._failed))
            return
        self.app.post_message(Committed(what, incident, result, done))

    def _failed(self, message: ActionFailed) -> None:
        self._end(tr("Could not {what}", self.app.ws.lang, what=tr(message.what, self.app.ws.lang)))

    def _rendered(self, result: Any) -> None:
        lang = self.app.ws.lang
        bar = self.query_one("#notice-progress", ProgressBar)
        bar.update(total=max(result.count + result.skipped, 1), progress=max(result.count + result.skipped, 1))
        text = tr("{count} letters in {out}; {skipped} skipped", lang, count=f"{result.count:,}", out=result.out,
                  skipped=f"{result.skipped:,}")
        self._end(text)
        self.notify(text, title=tr("Rendered {template}", lang, template=result.template))

    def action_approve(self) -> None:
        """Approve the release of the highlighted template's latest render (after confirmation)."""
        from ir.tui.screens.confirm import ConfirmScreen

        render = self._latest_render()
        if render is None:
            return
        choice, r = render
        lang = self.app.ws.lang
        body = tr("Approve the release of render #{seq} of {template}, prepared by {actor} at {at}: {count} "
                  "letters in {out}. The approval holds for exactly what was rendered and is recorded with "
                  "your name.", lang, template=choice.id, **r)
        incident, template = self.incident_id, choice.id

        def confirmed(text: str | None) -> None:
            if text is not None:
                self.app.run_command("approve the notice", lambda ws: ws.notices.approve(incident, template),
                                     incident_id=incident)

        screen = ConfirmScreen(self.dialog_title(tr("Approve {template}", lang, template=template)), body,
                               lang=lang, confirm=tr("Approve", lang))
        self.app.push_screen(screen, confirmed)

    def action_reject(self) -> None:
        """Refuse the release of the highlighted template's latest render, with a reason."""
        from ir.tui.screens.confirm import ConfirmScreen

        render = self._latest_render()
        if render is None:
            return
        choice, r = render
        lang = self.app.ws.lang
        body = tr("Refuse the release of render #{seq} of {template}, prepared by {actor}. The reason is "
                  "recorded with your name; it withdraws an approval of that render.", lang,
                  template=choice.id, **r)
        incident, template = self.incident_id, choice.id

        def confirmed(reason: str | None) -> None:
            if reason:
                self.app.run_command("refuse the notice", lambda ws: ws.notices.reject(incident, template, reason),
                                     incident_id=incident)

        def need_reason(text: str) -> str | None:
            return None if text else tr("Give the reason it may not be released.", lang)

        screen = ConfirmScreen(self.dialog_title(tr("Reject {template}", lang, template=template)), body,
                               lang=lang, confirm=tr("Reject", lang), danger=True, check=need_reason,
                               reason_prompt=tr("reason (required, recorded in the timeline)", lang))
        self.app.push_screen(screen, confirmed)

    def _latest_render(self) -> tuple[NoticeChoice, dict[str, Any]] | None:
        choice = self._usable()
        if choice is None or self.detail is None:
            return None
        if self.detail.render is None:
            self.notify(tr("Nothing to approve or reject: render {template} first (g).", self.app.ws.lang,
                           template=choice.id), severity="warning")
            return None
        return choice, self.detail.render

    def action_send(self) -> None:
        """Send the highlighted template to each person, after a confirmation naming how many,
        through which server and how the connection is protected."""
        from ir.tui.screens.pick_text import PickTextScreen

        choice = self._usable(personal=True)
        if choice is None or self.detail is None or self.view is None:
            return
        lang = self.app.ws.lang
        if choice.audience != PERSONAL:
            self.notify(tr("{template} is not sent to each person: render it and submit it yourself.", lang,
                           template=choice.id), severity="warning")
            return
        if not self.detail.approved:
            # The service's own words: which approval is missing, and who may give it.
            self.notify(self.detail.release, title=tr("Not approved", lang), severity="error", timeout=10)
            return
        sender = str(self.view["facts"].get("notice_sender") or "")
        if not sender:
            self.notify(tr("Set the fact notice_sender (the address the notices come from) before sending.", lang),
                        severity="warning", timeout=8)
            return
        if self.view["mode"] == "drill":
            where = tr("the drill outbox {folder} (nothing reaches real people)", lang,
                       folder=self.app.ws.store.path.parent / "outbox" / self.incident_id)
            self._confirm_send(choice.id, None, where, sender)
            return

        def prompt(how: str) -> tuple[str, str]:
            if how == CA_FILE:
                return tr("The mail server and the CA file, e.g. mail.example.com:587 /etc/ir/relay-ca.pem", lang), \
                    self.smtp
            return tr("The mail server as HOST:PORT, e.g. mail.example.com:587", lang), self.smtp.split(" ")[0]

        def check(how: str, text: str) -> str | None:
            try:
                connection_of(how, text, lang)
            except IrError as exc:
                return str(exc)
            return None

        def chosen(answer: tuple[str, str] | None) -> None:
            if answer is not None:
                how, text = answer
                self.smtp = text
                connection = connection_of(how, text, lang)
                self._confirm_send(choice.id, connection, connection.describe(lang), sender)

        options = [Option(tr(label, lang), id=how) for how, label in SECURITY.items()]
        screen = PickTextScreen(
            self.dialog_title(tr("Send {template}: the mail server", lang, template=choice.id)), options,
            hint=tr("How the connection to the mail server is protected. The next step asks before anything is "
                    "sent.", lang),
            placeholder=tr("HOST:PORT", lang), prompt=prompt, check=check)
        self.app.push_screen(screen, chosen)

    def _confirm_send(self, template: str, connection: Connection | None, where: str, sender: str) -> None:
        from ir.tui.screens.confirm import ConfirmScreen

        assert self.detail is not None
        lang = self.app.ws.lang
        people = self.detail.check.people
        body = tr("Send {template} to {people} people through {where}, from {sender}. {release}. Sent notices "
                  "cannot be recalled.", lang, template=template, people=f"{people:,}", where=where, sender=sender,
                  release=self.detail.release)
        incident = self.incident_id

        def confirmed(text: str | None) -> None:
            if text is not None:
                self._start("send the notices", tr("Sending {template}", lang, template=template))
                self._send(incident, template, connection)

        screen = ConfirmScreen(self.dialog_title(tr("Send {template} to {people} people", lang, template=template,
                                                    people=f"{people:,}")),
                               body, lang=lang, confirm=tr("Send", lang), danger=True)
        self.app.push_screen(screen, confirmed)

    @work(thread=True, group="notice-run", exit_on_error=False)
    def _send(self, incident: str, template: str, connection: Connection | None) -> None:
        def send(ws: Workspace) -> Any:
            if connection is None:  # a drill: its outbox
                return ws.notices.send(incident, template, progress=self._progress)
            return ws.notices.send(incident, template, smtp=connection.server, starttls=connection.starttls,
                                   cafile=connection.cafile, progress=self._progress)

        self._run("send the notices", incident, send, self._sent)

    def _sent(self, result: Any) -> None:
        lang = self.app.ws.lang
        bar = self.query_one("#notice-progress", ProgressBar)
        total = max(int(bar.total or 0), result.sent + result.failed, 1)
        bar.update(total=total, progress=total)
        where = f" → {result.outbox}" if result.outbox else ""
        text = tr("{sent} sent, {failed} failed, {queued} still queued", lang, sent=f"{result.sent:,}",
                  failed=f"{result.failed:,}", queued=f"{result.queued:,}") + where
        if result.stopped:
            text += " · " + tr("stopped: {why}", lang, why=result.stopped)
        self._end(text)
        self.notify(text, title=tr("Sent {template}", lang, template=result.template),
                    severity="warning" if result.stopped or result.failed else "information")
