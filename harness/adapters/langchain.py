"""``env.tools`` as LangChain tools, for a LangGraph (or LangChain) agent.

    from harness.adapters.langchain import tools

    graph.add_node("tools", ToolNode(tools(env)))

Each tool is a ``StructuredTool`` with the contract's name, description and JSON
Schema as its ``args_schema``; running it is ``env.tools.call``. A tool's error
(a status, a timeout, a lost answer) is the tool's result, as JSON the model
reads: ``{"error": {"message", "status"}}``, with no status when no answer came
(the call may or may not have taken effect), the shape the library's LLM agents
send. So a timeout reaches the model, which decides what to do about it, and
the graph keeps running. langchain-core is imported when :func:`tools` is called,
so this module imports without the extra.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from harness.adapters._chosen import chosen_specs
from harness.errors import HarnessError, ToolError
from harness.gateway.tools import error_text
from harness.runtime.env import AgentEnv

if TYPE_CHECKING:
    from langchain_core.tools import BaseTool

#: What to install when langchain-core is missing.
EXTRA = "aqe-harness[langgraph]"


def tools(env: AgentEnv, names: Iterable[str] | None = None) -> list[BaseTool]:
    """``env.tools`` (those in ``names``, or all of them, in ``env.tools``'
    order) as LangChain tools that call ``env.tools.call``."""
    try:
        from langchain_core.tools import StructuredTool
    except ImportError as exc:
        raise HarnessError(
            "harness.adapters.langchain needs langchain-core, which is not"
            f" installed ({exc})\n    fix: pip install '{EXTRA}'"
        ) from None
    specs = chosen_specs(env, names, who="harness.adapters.langchain.tools")
    return [
        StructuredTool(
            name=spec["name"],
            description=spec.get("description", ""),
            args_schema=spec["parameters"],
            func=_caller(env, spec["name"]),
        )
        for spec in specs
    ]


def _caller(env: AgentEnv, name: str) -> Callable[..., str]:
    """One tool's body: ``env.tools.call(name, **args)``, its result as JSON."""

    def call(**args: Any) -> str:
        try:
            return json.dumps(env.tools.call(name, **args))
        except ToolError as exc:
            return error_text(exc)

    call.__name__ = name
    return call


__all__ = ["EXTRA", "error_text", "tools"]
