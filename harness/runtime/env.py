"""What an agent receives and returns: the stable agent contract.

``def agent(task: Task, env: AgentEnv) -> AgentResult | dict | None`` (or ``async``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from harness.gateway.tools import Tools


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who the agent is: its name and the bearer credential the gateway maps to it."""

    name: str
    api_key: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """The request the agent must handle: structured ``input`` and its wording."""

    input: Mapping[str, Any]
    instructions: str
    scenario: str
    seed: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentResult:
    """What the agent reports back: ``done``, ``escalated`` or ``failed``."""

    status: str = "done"
    summary: str = ""
    output: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def coerce(cls, value: object) -> AgentResult:
        """Accept the forms the contract allows: AgentResult, dict or None."""
        if value is None:
            return cls()
        if isinstance(value, AgentResult):
            return value
        if isinstance(value, Mapping):
            known = {k: value[k] for k in ("status", "summary") if k in value}
            output = value.get(
                "output", {k: v for k, v in value.items() if k not in known}
            )
            return cls(**{k: str(v) for k, v in known.items()}, output=dict(output))
        raise TypeError(
            f"the agent returned {type(value).__name__}; return an AgentResult, "
            "a dict, or None"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentEnv:
    """The agent's view of the simulated enterprise.

    ``http``/``ahttp`` are httpx clients that send the agent's credential; during a
    run *every* httpx client reaches only the simulation. ``tools`` is the
    function-calling view of the same operations.
    """

    http: httpx.Client
    ahttp: httpx.AsyncClient
    tools: Tools
    identity: Identity
