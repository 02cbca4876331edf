"""What an agent receives and returns: the stable agent contract.

``def agent(task: Task, env: AgentEnv) -> AgentResult | dict | None`` (or ``async``).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError

if TYPE_CHECKING:
    import httpx
    from mcp import ClientSession

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
    function-calling view of the same operations; :meth:`mcp` serves them over
    MCP.
    """

    http: httpx.Client
    ahttp: httpx.AsyncClient
    tools: Tools
    identity: Identity

    def mcp(self, **session_options: Any) -> AbstractAsyncContextManager[ClientSession]:
        """``async with env.mcp() as session``: an initialized ``mcp.ClientSession``
        whose server lists and calls ``env.tools`` (:mod:`harness.gateway.mcp`),
        in this event loop; ``session_options`` go to ``ClientSession``. A sync
        agent runs its MCP code with ``asyncio.run`` (the run's loop is on the
        simulated clock there too)."""
        try:
            from harness.gateway.mcp import client_session
        except ImportError as exc:
            if exc.name is None or exc.name.partition(".")[0] not in MCP_MODULES:
                raise
            raise HarnessError(
                f"env.mcp() needs the MCP SDK, which does not import here ({exc})"
                "\n    fix: pip install 'aqe-harness[mcp]' (the mcp package, 2.3 or"
                " later)"
            ) from None
        return client_session(self.tools, **session_options)


#: The modules the MCP SDK is made of (a missing one means: not installed).
MCP_MODULES = ("mcp", "mcp_types")
