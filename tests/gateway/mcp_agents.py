"""Refund agents that reach their tools only through the official MCP client
(``env.mcp()``), importable so they also run in their own processes.

``refund_over_mcp`` is the whole refund given a ``ClientSession``: it reads the
ticket and the charge, refunds, and retries an answer that never came. Careful,
it sends one idempotency key on every attempt; naive, none, as the incident
did. The stdio tests drive the same function over ``aqe mcp``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from mcp import ClientSession
from mcp.types import CallToolResult, TextContent

from harness import AgentEnv, AgentResult, Task

#: The error kinds after which a refund may or may not have been made.
AMBIGUOUS = ("timeout", "connection_reset", "malformed_response")


async def refund_over_mcp(
    session: ClientSession, task_input: Mapping[str, Any], *, careful: bool
) -> AgentResult:
    """Refund ``task_input``'s amount through ``session`` (see the module)."""
    ticket, charge = str(task_input["ticket_id"]), str(task_input["charge"])
    amount = int(task_input["amount"])
    listed = {tool.name for tool in (await session.list_tools()).tools}
    if not {"get_ticket", "retrieve_charge", "create_refund"} <= listed:
        return AgentResult(status="failed", summary=f"tools missing: {sorted(listed)}")
    read = await session.call_tool("get_ticket", {"ticket": ticket})
    if read.is_error or (read.structured_content or {}).get("charge") != charge:
        return AgentResult(status="failed", summary=f"ticket: {_text(read)}")
    found = await session.call_tool("retrieve_charge", {"charge": charge})
    if found.is_error:
        return AgentResult(status="failed", summary=f"charge: {_text(found)}")
    arguments: dict[str, Any] = {
        "charge": charge,
        "amount": amount,
        "metadata": {"ticket": ticket},
    }
    if careful:
        arguments["idempotency_key"] = f"refund-{ticket}-{charge}"
    for _ in range(3):
        refund = await session.call_tool("create_refund", arguments)
        if not refund.is_error:
            refund_id = str((refund.structured_content or {})["id"])
            return AgentResult(
                status="done",
                summary=f"refunded {refund_id}",
                output={"refund": refund_id},
            )
        if _kind(refund) not in AMBIGUOUS:
            return AgentResult(status="failed", summary=_text(refund))
    return AgentResult(status="failed", summary="the refund never answered")


def _kind(result: CallToolResult) -> str | None:
    error = (result.structured_content or {}).get("error") or {}
    kind = error.get("kind")
    return str(kind) if kind is not None else None


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


async def _refund(task: Task, env: AgentEnv, *, careful: bool) -> AgentResult:
    async with env.mcp() as session:
        return await refund_over_mcp(session, task.input, careful=careful)


async def careful_mcp_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Async: one idempotency key on every retry of the refund."""
    return await _refund(task, env, careful=True)


async def naive_mcp_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Async: retries the refund that timed out without a key."""
    return await _refund(task, env, careful=False)


def careful_mcp_sync_agent(task: Task, env: AgentEnv) -> AgentResult:
    """A sync agent: its MCP code under ``asyncio.run`` (the run's clock there)."""
    return asyncio.run(_refund(task, env, careful=True))


def naive_mcp_sync_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The naive agent, sync."""
    return asyncio.run(_refund(task, env, careful=False))
