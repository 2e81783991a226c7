"""The state of one incident as the engine sees it: a projection of its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMMANDER = "commander"
"""Every playbook declares this role: the incident commander, who owns the incident."""

OBSERVER = "observer"
"""A role every incident has without declaring it: someone who follows the incident and may
add notes, but changes nothing else."""

SEVERITIES = ("low", "medium", "high", "critical")
"""Severity levels, least to most severe."""

MODES = ("live", "drill")
"""A live incident, or an exercise (drill) that never reaches real recipients."""


@dataclass
class TaskStatus:
    """Progress of one task."""

    done: bool = False
    done_by: str | None = None
    done_at: str | None = None
    assignee: str | None = None


@dataclass
class PhaseVisit:
    """One stay in a phase: when it began and ended, and the trigger that led there."""

    phase: str
    entered_at: str
    left_at: str | None = None
    via: str | None = None


@dataclass
class IncidentState:
    """Everything the engine needs to decide what an incident may do next.

    Attributes:
        seq: sequence number of the incident's latest event (its version).
        facts: fact name -> JSON value.
        roles: role id -> person.
        tasks: task id -> progress (tasks never touched are absent).
        visits: phases in the order they were entered.
    """

    id: str
    title: str
    mode: str
    severity: str
    playbook_id: str
    playbook_version: str
    playbook_digest: str
    phase: str
    final: bool
    opened_at: str
    opened_by: str
    updated_at: str
    seq: int
    closed_at: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, TaskStatus] = field(default_factory=dict)
    visits: list[PhaseVisit] = field(default_factory=list)

    def task_done(self, task_id: str) -> bool:
        """Whether ``task_id`` is currently done."""
        status = self.tasks.get(task_id)
        return bool(status and status.done)

    @property
    def owner(self) -> str | None:
        """The incident commander, if one is assigned."""
        return self.roles.get("commander")
