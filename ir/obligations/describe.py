"""How obligations events read in an incident's timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ir.engine.views import describer

if TYPE_CHECKING:
    from ir.engine.playbook import Playbook

_SHOWN = 6
"""Rule ids listed in an assessment's timeline line before the rest are counted."""


@describer("obligations.assessed")
def _assessed(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    rules = [ob["rule"] for ob in p["obligations"]]
    if not rules:
        return "assessed notification duties: none apply"
    noun = "duty" if len(rules) == 1 else "duties"
    shown = ", ".join(rules[:_SHOWN]) + (f" and {len(rules) - _SHOWN} more" if len(rules) > _SHOWN else "")
    return f"assessed {len(rules)} notification {noun}: {shown}"


@describer("obligation.fulfilled")
def _fulfilled(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    text = f"fulfilled {p['rule']} at {p['fulfilled_at']}"
    return text + (f" — {p['note']}" if p.get("note") else "")


@describer("obligation.waived")
def _waived(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    return f"waived {p['rule']} (decided not to notify): {p['reason']}"


@describer("deadline.reminded")
def _reminded(p: dict[str, Any], pb: Playbook | None, lang: str) -> str:
    what = "deadline" if p["kind"] == "legal" else "own target"
    when = "has passed" if p["remaining_seconds"] <= 0 else f"is {p['point']} away"
    mailed = f"; mailed to {p['mailed_to']}" + (f" (failed: {p['mail_error']})" if p.get("mail_error") else "") if p.get("mailed_to") else ""
    return f"reminder: {p['rule']} ({p['recipient_name']}) {what} {p['due']} {when}{mailed}"
