"""One entry point for the whole scenario library: ``careful_agent`` hands each task
to the careful reference agent of its workflow.

A library scenario names its workflow in its task input (``workflow: renewals``);
the workflow's agents live in ``harness.agents.<workflow>``, which defines
``careful_agent`` and flawed variants. Tasks without a workflow are refunds. The
LLM agents' workflows (``llm_refunds``, ``llm_access``, ``llm_knowledge``) also
define scripted models; their scenarios name ``careful_model`` as their own
``model:``.

    aqe run scenarios --agent harness.agents.library:careful_agent
"""

from __future__ import annotations

import importlib
from typing import Any

from harness.runtime.env import AgentEnv, AgentResult, Task


def careful_agent(task: Task, env: AgentEnv) -> Any:
    """The careful reference agent of the task's workflow."""
    workflow = task.input.get("workflow")
    if workflow is None:
        from harness.agents.reference import careful_refund_agent

        return careful_refund_agent(task, env)
    module = importlib.import_module(f"harness.agents.{workflow}")
    agent = module.careful_agent
    result = agent(task, env)
    return result if result is not None else AgentResult(status="done")


__all__ = ["careful_agent"]
