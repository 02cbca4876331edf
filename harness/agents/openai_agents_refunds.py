"""An OpenAI Agents SDK refund agent: an ``Agent`` with ``env.tools`` through
:func:`harness.adapters.openai_agents.tools`, run with ``Runner.run_sync``.

The agent is written as the Agents SDK docs write one: ``Agent(name=…,
instructions=…, tools=[…])``, a ``@function_tool`` of its own, and
``Runner.run_sync(agent, input)``, with the SDK's defaults: its model provider
(the Responses API at the default base URL, with ``OPENAI_API_KEY``: the
harness sets both, the simulated provider at api.openai.com) and its tracing,
on (the harness keeps the traces in the run, see
:mod:`harness.runtime.libraries.openai_agents`).

The models are :mod:`harness.agents.llm_refunds`' (they read the conversation
from the wire, whichever SDK sent it): with ``careful_model`` the agent checks
a timed-out refund before it retries with the same key and passes; with
``naive_model`` it retries without a key and fails ``idempotency``.

    aqe run scenarios/llm/openai_agents_refund_ambiguous_timeout.yaml \\
        --agent harness.agents.openai_agents_refunds:careful_agent \\
        --aqe-model harness.agents.llm_refunds:naive_model
"""

from __future__ import annotations

from typing import Any

from agents import Agent, Runner, function_tool

from harness.adapters.openai_agents import tools
from harness.agents._llm import prompt, run_tool
from harness.agents.llm_refunds import MAX_TURNS, MODEL, SYSTEM, TOOLS
from harness.runtime.env import AgentEnv, AgentResult, Task


def careful_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The agent, run on the task until the model answers in text."""
    result = Runner.run_sync(build_agent(env), prompt(task), max_turns=MAX_TURNS)
    summary = str(result.final_output)
    escalated = summary.lower().startswith("escalated")
    return AgentResult(status="escalated" if escalated else "done", summary=summary)


def build_agent(env: AgentEnv) -> Agent[Any]:
    """refund-bot: the policy as its instructions, the refund tools and
    ``wait_for_approval``."""

    @function_tool
    def wait_for_approval(approval: str) -> str:
        """Wait until a human decides an approval you requested (this can take
        hours), then return it with its status: approved, denied or expired.

        Args:
            approval: The approval's id (apr_…).
        """
        return run_tool(env, "wait_for_approval", {"approval": approval})

    return Agent(
        name="refund-bot",
        instructions=SYSTEM,
        model=MODEL,
        tools=[*tools(env, TOOLS), wait_for_approval],
    )


__all__ = ["build_agent", "careful_agent"]
