"""A Pydantic AI refund agent: ``Agent(model, system_prompt=…, tools=[…])`` and
``run_sync``, its tools ``env.tools`` and its model the run's, through
:mod:`harness.adapters.pydantic_ai`.

The agent is written as the Pydantic AI docs write one; the loop (ask the
model, run the tools it calls, send back their results) is Pydantic AI's own.
The model is ``OpenAIResponsesModel`` at the simulated api.openai.com, so every
model call takes the gateway path and is recorded with its tokens and cost.
Pydantic AI runs sync tools in anyio's worker threads; in a run that work runs
inline, in simulated time (:mod:`harness.runtime.inline_anyio`).

The models are :mod:`harness.agents.llm_refunds`' (they read the conversation
from the wire, whichever SDK sent it): with ``careful_model`` the agent checks
a timed-out refund before it retries with the same key and passes; with
``naive_model`` it retries without a key and fails ``idempotency``.

    aqe run scenarios/llm/pydantic_ai_refund_ambiguous_timeout.yaml \\
        --agent harness.agents.pydantic_ai_refunds:careful_agent \\
        --aqe-model harness.agents.llm_refunds:naive_model
"""

from __future__ import annotations

from typing import Any

from pydantic_ai import Agent, Tool
from pydantic_ai.exceptions import UsageLimitExceeded
from pydantic_ai.usage import UsageLimits

from harness.adapters.pydantic_ai import model, tools
from harness.agents._llm import prompt, run_tool, tool_specs
from harness.agents.llm_refunds import MAX_TURNS, MODEL, SYSTEM, TOOLS
from harness.runtime.env import AgentEnv, AgentResult, Task
from harness.runtime.imports import agent_imports


@agent_imports("pydantic_ai.models.openai")
def careful_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The Pydantic AI agent, run on the task until the model answers in text."""
    agent = build_agent(env)
    try:
        result = agent.run_sync(
            prompt(task), usage_limits=UsageLimits(request_limit=MAX_TURNS)
        )
    except UsageLimitExceeded:
        return AgentResult(status="failed", summary=f"no answer in {MAX_TURNS} turns")
    summary = result.output
    escalated = summary.lower().startswith("escalated")
    return AgentResult(status="escalated" if escalated else "done", summary=summary)


def build_agent(env: AgentEnv) -> Agent[None, str]:
    """The agent: the refund policy as its system prompt, the refund tools."""
    return Agent(
        model(env, MODEL),
        system_prompt=SYSTEM,
        tools=[*tools(env, TOOLS), _wait_for_approval(env)],
    )


def _wait_for_approval(env: AgentEnv) -> Tool[Any]:
    """The tool the agent runs itself: wait (in simulated time) for a decision."""
    spec = tool_specs(env, (), "openai")[-1]["function"]

    def wait(approval: str) -> str:
        return run_tool(env, "wait_for_approval", {"approval": approval})

    return Tool.from_schema(
        wait,
        name=spec["name"],
        description=spec["description"],
        json_schema=spec["parameters"],
    )


__all__ = ["build_agent", "careful_agent"]
