"""The policy pack, as the rest of the harness sees it: frozen values, no YAML.

A pack says who the agent is, which verbs it may use on which services and
resources, which actions need a human's approval, when it must stop and escalate,
its budgets, the data that must never leave, and the severity of each oracle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

#: The resource key standing for every resource of a service.
EVERY = "*"


class Mode(StrEnum):
    ENFORCE = "enforce"  # a forbidden call is refused (403) and recorded
    OBSERVE = "observe"  # recorded only


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    agent: str | None = None
    owner: str | None = None
    scope: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ApprovalRule:
    """``action`` needs an approval when ``when`` holds (``amount > 50000``)."""

    action: str
    when: str | None = None

    @property
    def label(self) -> str:
        return f"{self.action} when {self.when}" if self.when else self.action


@dataclass(frozen=True, slots=True, kw_only=True)
class Budgets:
    tool_calls: int | None = None
    #: Repeats of one business operation (same tool, same parameters).
    retries: int | None = None
    cost: float | None = None
    #: Simulated seconds from the start to the agent's last call.
    duration: float | None = None
    #: Model tokens (in + out) over the run's model calls.
    model_tokens: int | None = None
    #: USD over the run's model calls, at the price table's prices.
    model_cost: float | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (
                self.tool_calls,
                self.retries,
                self.cost,
                self.duration,
                self.model_tokens,
                self.model_cost,
            )
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DataRule:
    """Data that must not leave: a detector, a regular expression, record fields."""

    name: str
    detect: str | None = None
    pattern: str | None = None
    #: ``service.collection.field`` names whose values are sensitive.
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyPack:
    """A policy pack. Empty parts allow everything (no permissions: all verbs)."""

    name: str = "inline"
    mode: Mode = Mode.OBSERVE
    identity: Identity = field(default_factory=Identity)
    #: service -> resource (or :data:`EVERY`) -> allowed verbs; ``None``: all.
    permissions: Mapping[str, Mapping[str, frozenset[str]]] | None = None
    approvals: tuple[ApprovalRule, ...] = ()
    #: Reason codes the agent must stop and escalate on.
    stop: tuple[str, ...] = ()
    budgets: Budgets = field(default_factory=Budgets)
    #: Cost units per call, by tool or action; ``default`` for the rest.
    costs: Mapping[str, float] = field(default_factory=dict)
    data: tuple[DataRule, ...] = ()
    #: Severity per oracle (``block``, ``warn``, ``info``).
    severity: Mapping[str, str] = field(default_factory=dict)
    path: Path | None = None

    def allows(self, service: str, resource: str, verb: str) -> bool:
        """Whether the pack's permissions let the agent use ``verb`` there."""
        if self.permissions is None:
            return True
        grants = self.permissions.get(service)
        if grants is None:
            return False
        return verb in grants.get(resource, grants.get(EVERY, frozenset()))

    def cost_of(self, tool: str, action: str | None) -> float:
        for key in (tool, action):
            if key is not None and key in self.costs:
                return float(self.costs[key])
        return float(self.costs.get("default", 1.0))


#: Scenarios written before packs had only approval rules; the name stays valid.
PolicySpec = PolicyPack

__all__ = [
    "EVERY",
    "ApprovalRule",
    "Budgets",
    "DataRule",
    "Identity",
    "Mode",
    "PolicyPack",
    "PolicySpec",
]
