"""Who may do what: only the commander closes; an observer may only add notes."""

from __future__ import annotations

from tests.conftest import IrRunner


def dismissable(ir: IrRunner) -> str:
    incident_id = ir.ok("incident", "open", "personal-data-leak", "--title", "false alarm", actor="alice").stdout.strip()
    for task in ("record_report", "inform_dpo"):
        ir.ok("incident", "done", incident_id, task, actor="bob")
    ir.ok("incident", "answer", incident_id, "breach_confirmed", "no", actor="bob")
    ir.ok("incident", "answer", incident_id, "dismissal_reason", "synthetic test records only", actor="bob")
    return incident_id


def test_only_the_commander_may_close(ir: IrRunner) -> None:
    incident_id = dismissable(ir)
    refused = ir("incident", "fire", incident_id, "dismiss", actor="bob")
    assert refused.exit_code == 2
    assert f"closing {incident_id} needs the incident commander (alice); bob is not" in refused.stderr
    assert not ir.ok("incident", "show", incident_id, "--json").json()["final"]
    ir.ok("incident", "assign", incident_id, "commander", "bob", actor="alice")  # a handover of command
    ir.ok("incident", "fire", incident_id, "dismiss", actor="bob")
    assert ir.ok("incident", "show", incident_id, "--json").json()["final"]


def test_an_observer_may_only_add_notes(ir: IrRunner) -> None:
    incident_id = ir.ok("incident", "open", "personal-data-leak", "--title", "watched", actor="alice").stdout.strip()
    ir.ok("incident", "assign", incident_id, "observer", "olga", actor="alice")
    ir.ok("incident", "note", incident_id, "following from the board's side", actor="olga")
    for args in (("done", incident_id, "record_report"), ("answer", incident_id, "breach_confirmed", "yes"), ("set", incident_id, "encrypted=true")):
        refused = ir("incident", *args, actor="olga")
        assert refused.exit_code == 2
        assert "olga observes" in refused.stderr and "may only add notes" in refused.stderr
    kinds = [e["kind"] for e in ir.ok("incident", "log", incident_id, "--json").json()]
    assert kinds == ["incident.opened", "role.assigned", "note.added"]
    ir.ok("incident", "assign", incident_id, "scribe", "olga", actor="alice")  # given a real role, she may act
    ir.ok("incident", "done", incident_id, "record_report", actor="olga")
