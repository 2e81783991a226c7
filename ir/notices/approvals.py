"""The two-person rule: a notice to a regulator or to affected people is released only after
someone other than the person who prepared it approves exactly what was prepared.

Preparing is rendering: each ``notices.rendered`` event records the *inputs* that fix every
letter's words (the template file's SHA-256, the SHA-256 of the facts it reads, the version of
the list of people, the jurisdictions selected) and the date the letters carry. The incident's
privacy officer (role ``dpo``) or legal counsel (role ``legal``) approves one render with
``ir notices approve`` (a ``notice.approved`` event naming the render, its manifest's SHA-256
and those inputs), or refuses it with ``ir notices reject`` (``notice.rejected``, with a reason).
The approver may not be the person who rendered it.

``ir notices send`` releases a notice only when the inputs it would send from now are the
inputs of an approved render, and sends the letters with that render's date, so what goes
out is what was approved, word for word: a change to the template, a fact it reads or the
list of people needs a new render and a new approval. A rejection of the same render after
its approval withdraws the approval. Drills follow the same rule (the rehearsal of the
control); their mail still only reaches the exercise outbox.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ir.engine.commands import NewEvent, check_text
from ir.engine.state import IncidentState
from ir.notices.describe import same_login
from ir.errors import NotFound, Refused
from ir.store import canonical_json
from ir.store import events as eventlog
from ir.store.chain import Event

if TYPE_CHECKING:
    from ir.notices.templates import NoticeTemplate
    from ir.workspace import Workspace

APPROVERS = ("dpo", "legal")
"""Roles whose holder may approve a notice's release."""

GUARDED = ("individual", "regulator")
"""Audiences whose notices need an approval before release."""

KINDS = ["notices.rendered", "notice.approved", "notice.rejected"]

INPUT_NAMES = {
    "template_sha256": "the template file",
    "facts_sha256": "facts the template reads",
    "subjects_seq": "the list of people",
    "jurisdictions": "the jurisdictions selected",
}
"""The inputs a render is bound to, as a sentence names them."""


def digest(inputs: Mapping[str, Any]) -> str:
    """SHA-256 of a render's inputs (canonical JSON)."""
    return hashlib.sha256(canonical_json(dict(inputs)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Release:
    """An approval in force: the release may go ahead with the approved render's letters."""

    approval: Event
    render: Event

    @property
    def notice_date(self) -> str:
        """The date the approved letters carry."""
        return str(self.render.payload["notice_date"])


class Approvals:
    """Approve, reject, and check the approval a release needs."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    # ------------------------------------------------------------- decisions

    def approve(self, state: IncidentState, tpl: NoticeTemplate, inputs: Mapping[str, Any], render_seq: int | None) -> Event:
        """Record that the incident's privacy officer or legal counsel approves a render.

        Raises:
            Refused: the actor holds neither role, prepared the render, the render is out of
                date, or it was approved already.
            NotFound: no such render.
        """
        render = self.render_of(state, tpl, render_seq)
        actor = self.ws.incidents.actor
        role = self._approver_role(state, tpl, actor, render)
        if render.actor == actor:
            raise Refused(
                f"{actor} rendered {tpl.id} for {state.id} (event #{render.seq}) and cannot also approve it: "
                f"the two-person rule needs {who_may_approve(state, render)}"
            )
        self._require_current(state, tpl, render, inputs)
        latest = self._decision_on(state.id, render.seq)
        if latest is not None and latest.kind == "notice.approved":
            raise Refused(f"{tpl.id} (render #{render.seq}) was already approved by {latest.actor} at {latest.at}")
        payload = {**self._bound(tpl, render), "role": role, "prepared_by": render.actor}
        if render.os_user and render.os_user == eventlog.PROCESS_ACCOUNT:
            # Two names, one login: allowed (a team may share a service account), never hidden.
            payload["same_os_account"] = render.os_user
        return self.ws.incidents.record(state.id, [NewEvent("notice.approved", payload)])[0]

    def reject(
        self, state: IncidentState, tpl: NoticeTemplate, reason: str, render_seq: int | None
    ) -> Event:
        """Record that the privacy officer or legal counsel refuses a render's release.

        Raises:
            Refused: the actor holds neither role.
            InvalidInput: no reason given.
        """
        reason = check_text("--reason", reason)
        render = self.render_of(state, tpl, render_seq)
        actor = self.ws.incidents.actor
        role = self._approver_role(state, tpl, actor, render)
        payload = {**self._bound(tpl, render), "role": role, "prepared_by": render.actor, "reason": reason}
        return self.ws.incidents.record(state.id, [NewEvent("notice.rejected", payload)])[0]

    # ----------------------------------------------------------------- check

    def require(self, state: IncidentState, tpl: NoticeTemplate, inputs: Mapping[str, Any]) -> Release:
        """The approval in force for releasing ``tpl`` from these inputs.

        Raises:
            Refused: saying which approval is missing and who may give it.
        """
        wanted = digest(inputs)
        events = self._events(state.id, tpl.id)
        renders = [e for e in events if e.kind == "notices.rendered" and e.payload.get("inputs_sha256") == wanted]
        decisions = [e for e in events if e.kind != "notices.rendered"]
        current = {r.seq: r for r in renders}
        on_current = [d for d in decisions if d.payload.get("render_seq") in current]
        if on_current:
            latest = on_current[-1]
            render = current[latest.payload["render_seq"]]
            if latest.kind == "notice.approved":
                return Release(latest, render)
            raise Refused(
                f"releasing {tpl.id} for {state.id} needs approval: {latest.actor} ({latest.payload.get('role')}) rejected "
                f"render #{render.seq} at {latest.at}: {latest.payload.get('reason')}; render again once it is fixed, then "
                f"have it approved by {who_may_approve(state, render)}"
            )
        if renders:
            render = renders[-1]
            raise Refused(
                f"releasing {tpl.id} for {state.id} needs approval by {who_may_approve(state, render)}: "
                f"ir notices approve {state.id} --template {tpl.id}"
            )
        raise Refused(self._stale_message(state, tpl, inputs, events))

    def describe(self, state: IncidentState, tpl: NoticeTemplate, inputs: Mapping[str, Any]) -> str:
        """One line on where the release of ``tpl`` stands (for ``ir notices check``)."""
        try:
            release = self.require(state, tpl, inputs)
        except Refused as exc:
            return str(exc)
        a = release.approval
        same = a.payload.get("same_os_account")
        warning = f"; approved {same_login(same)}" if same else ""
        return (f"release approved by {a.actor} ({a.payload.get('role')}) at {a.at} "
                f"(event #{a.seq}, render #{release.render.seq}){warning}")

    # ------------------------------------------------------------- machinery

    def _events(self, incident_id: str, template: str) -> list[Event]:
        with self.ws.store.read() as conn:
            return [e for e in eventlog.read_events(conn, incident_id, kinds=KINDS) if e.payload.get("template") == template]

    def render_of(self, state: IncidentState, tpl: NoticeTemplate, seq: int | None) -> Event:
        """The ``notices.rendered`` event numbered ``seq`` (the latest if None).

        Raises:
            NotFound: the template was never rendered for the incident (or not as ``seq``).
        """
        renders = [e for e in self._events(state.id, tpl.id) if e.kind == "notices.rendered"]
        if seq is not None:
            renders = [e for e in renders if e.seq == seq]
        if not renders:
            which = f"render #{seq} of {tpl.id}" if seq is not None else f"render of {tpl.id}"
            raise NotFound(f"{state.id} has no {which} (ir notices render {state.id} --template {tpl.id} --out DIR)")
        return renders[-1]

    def _decision_on(self, incident_id: str, render_seq: int) -> Event | None:
        with self.ws.store.read() as conn:
            found = [
                e for e in eventlog.read_events(conn, incident_id, kinds=["notice.approved", "notice.rejected"])
                if e.payload.get("render_seq") == render_seq
            ]
        return found[-1] if found else None

    def _approver_role(self, state: IncidentState, tpl: NoticeTemplate, actor: str, render: Event) -> str:
        for role in APPROVERS:
            if state.roles.get(role) == actor:
                return role
        raise Refused(
            f"approving {tpl.id} for {state.id} needs {who_may_approve(state, render)}; {actor} holds neither role "
            f"(assign one with: ir incident assign {state.id} dpo NAME)"
        )

    def _require_current(self, state: IncidentState, tpl: NoticeTemplate, render: Event, inputs: Mapping[str, Any]) -> None:
        if render.payload.get("inputs_sha256") != digest(inputs):
            changed = _changed(render.payload.get("inputs") or {}, inputs)
            raise Refused(
                f"render #{render.seq} of {tpl.id} is out of date ({changed} changed since): render it again and approve "
                "the new render"
            )

    @staticmethod
    def _bound(tpl: NoticeTemplate, render: Event) -> dict[str, Any]:
        """What a decision is bound to: the render, its manifest and its inputs."""
        return {
            "template": tpl.id,
            "audience": tpl.meta.audience,
            "render_seq": render.seq,
            "manifest_sha256": render.payload["manifest_sha256"],
            "inputs_sha256": render.payload.get("inputs_sha256"),
            "notice_date": render.payload.get("notice_date"),
        }

    def _stale_message(self, state: IncidentState, tpl: NoticeTemplate, inputs: Mapping[str, Any], events: list[Event]) -> str:
        approvals = [e for e in events if e.kind == "notice.approved"]
        renders = [e for e in events if e.kind == "notices.rendered"]
        who = who_may_approve(state, renders[-1] if renders else None)
        if approvals:
            last = approvals[-1]
            render = next((r for r in renders if r.seq == last.payload.get("render_seq")), None)
            changed = _changed((render.payload.get("inputs") if render else None) or {}, inputs)
            return (
                f"releasing {tpl.id} for {state.id} needs a new approval: {last.actor} approved render "
                f"#{last.payload.get('render_seq')} (event #{last.seq}), but {changed} changed since; render it again "
                f"and have it approved by {who}"
            )
        if renders:
            changed = _changed(renders[-1].payload.get("inputs") or {}, inputs)
            return (
                f"releasing {tpl.id} for {state.id} needs an approved render, and {changed} changed since the last render "
                f"(#{renders[-1].seq}): render it again, then have it approved by {who}"
            )
        return (
            f"releasing {tpl.id} for {state.id} needs an approved render: render it "
            f"(ir notices render {state.id} --template {tpl.id} --out DIR), then have it approved by {who}"
        )


def who_may_approve(state: IncidentState, render: Event | None) -> str:
    """``dpo (bob) or legal (carol), who did not prepare it (alice rendered it at ...)``."""
    holders = " or ".join(f"{role} ({state.roles.get(role) or 'nobody holds the role'})" for role in APPROVERS)
    if render is None:
        return f"{holders}, who did not prepare it"
    return f"{holders}, who did not prepare it ({render.actor} rendered it at {render.at}, event #{render.seq})"


def _changed(before: Mapping[str, Any], now: Mapping[str, Any]) -> str:
    names = [INPUT_NAMES.get(k, k) for k in INPUT_NAMES if before.get(k) != now.get(k)]
    return ", ".join(names) if names else "its inputs"
