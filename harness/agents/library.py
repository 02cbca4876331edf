"""One entry point for the whole scenario library: ``careful_agent`` hands each task
to the careful reference agent of its workflow.

A library scenario names its workflow in its task input (``workflow: renewals``);
the workflow's agents live in ``harness.agents.<workflow>``, which defines
``careful_agent`` and flawed variants. Tasks without a workflow are refunds. The
LLM agents' workflows (``llm_refunds``, ``llm_access``, ``llm_knowledge``) also
define scripted models; their scenarios name ``careful_model`` as their own
``model:``.

It declares what each task's run imports (:func:`harness.agent_imports`): its
workflow's module and what that module's agent declares (the SDK it imports
when it runs), so a fork server imports them once, before its first fork.

    aqe run scenarios --agent harness.agents.library:careful_agent
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from harness.runtime.env import AgentEnv, AgentResult, Task
from harness.runtime.imports import agent_imports, declared_imports


def _workflow_agent(task: Task) -> Callable[..., Any]:
    """The careful agent of the task's workflow (imported on first use)."""
    workflow = task.input.get("workflow")
    if workflow is None:
        from harness.agents.reference import careful_refund_agent

        return careful_refund_agent
    module = importlib.import_module(f"harness.agents.{workflow}")
    agent: Callable[..., Any] = module.careful_agent
    return agent


def _imports(task: Task) -> list[str]:
    """What a run of ``task`` imports: its workflow agent's module, and what
    that agent declares its runs import."""
    agent = _workflow_agent(task)
    return [agent.__module__, *declared_imports(agent, task)]


@agent_imports(per_task=_imports)
def careful_agent(task: Task, env: AgentEnv) -> Any:
    """The careful reference agent of the task's workflow."""
    result = _workflow_agent(task)(task, env)
    if task.input.get("workflow") is None:
        return result
    return result if result is not None else AgentResult(status="done")


__all__ = ["careful_agent"]
