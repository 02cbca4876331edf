"""``env.tools`` as OpenAI Agents SDK function tools, for an ``agents.Agent``.

    from agents import Agent, Runner

    from harness.adapters.openai_agents import tools

    agent = Agent(name="refund-bot", instructions="...", tools=tools(env))
    result = Runner.run_sync(agent, task.instructions)

Each tool is a ``FunctionTool`` with the contract's name, description and JSON
Schema (not in strict mode: the contracts have optional fields and open
objects, outside strict mode's subset); running it is ``env.tools.call``. A
tool's error (a status, a timeout, a lost answer) is the tool's result, as JSON
the model reads: ``{"error": {"message", "status"}}``, with no status when no
answer came (the call may or may not have taken effect), the shape the
library's LLM agents send; so a timeout reaches the model, which decides what
to do about it.

The SDK's default model provider already reaches the run's model: it talks to
``api.openai.com`` (the simulated OpenAI, answering from ``--aqe-model``, the
scenario's ``model:`` or a cassette) with ``OPENAI_API_KEY`` (the run's
credential). :func:`model_provider` and :func:`run_config` say so explicitly,
whatever ``OPENAI_BASE_URL`` or the SDK's process-wide defaults say, and choose
the API per run: ``Runner.run_sync(agent, text, run_config=run_config(env))``.

The SDK's tracing stays on and stays in the run: see
:mod:`harness.runtime.libraries.openai_agents`. openai-agents is imported when
a function here is called, so this module imports without the extra.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from harness.adapters._chosen import chosen_specs
from harness.errors import HarnessError, ToolError
from harness.gateway.tools import error_text
from harness.runtime.env import AgentEnv

if TYPE_CHECKING:
    from agents import FunctionTool, ModelProvider, RunConfig

#: What to install when openai-agents is missing.
EXTRA = "aqe-harness[openai-agents]"
#: The simulated OpenAI, as the SDK's default client addresses it.
BASE_URL = "https://api.openai.com/v1"


def _sdk() -> Any:
    try:
        import agents
    except ImportError as exc:
        raise HarnessError(
            "harness.adapters.openai_agents needs openai-agents, which is not"
            f" installed ({exc})\n    fix: pip install '{EXTRA}'"
        ) from None
    return agents


def tools(env: AgentEnv, names: Iterable[str] | None = None) -> list[FunctionTool]:
    """``env.tools`` (those in ``names``, or all of them, in ``env.tools``'
    order) as Agents SDK function tools that call ``env.tools.call``."""
    sdk = _sdk()
    specs = chosen_specs(env, names, who="harness.adapters.openai_agents.tools")
    return [
        sdk.FunctionTool(
            name=spec["name"],
            description=spec.get("description", ""),
            params_json_schema=spec["parameters"],
            on_invoke_tool=_caller(env, spec["name"]),
            strict_json_schema=False,
        )
        for spec in specs
    ]


def _caller(env: AgentEnv, name: str) -> Callable[[Any, str], Awaitable[str]]:
    """One tool's body: the model's JSON arguments to ``env.tools.call``, its
    result (or error) as JSON."""

    async def call(context: Any, arguments: str) -> str:
        try:
            args = json.loads(arguments or "{}")
        except ValueError:
            args = None
        if not isinstance(args, dict):
            message = f"{name} was not called: its arguments are not a JSON object"
            return json.dumps({"error": {"message": message, "status": 400}})
        try:
            return json.dumps(env.tools.call(name, **args))
        except ToolError as exc:
            return error_text(exc)

    return call


def model_provider(
    env: AgentEnv, *, use_responses: bool | None = None
) -> ModelProvider:
    """The SDK's default ``MultiProvider`` on the simulated OpenAI with the run's
    credential; ``use_responses``: the Responses API (the SDK's default) or,
    when False, Chat Completions."""
    provider: ModelProvider = _sdk().MultiProvider(
        openai_api_key=env.identity.api_key,
        openai_base_url=BASE_URL,
        openai_use_responses=use_responses,
        openai_use_responses_websocket=False,  # the simulation speaks HTTP
    )
    return provider


def run_config(
    env: AgentEnv, *, use_responses: bool | None = None, **options: Any
) -> RunConfig:
    """A ``RunConfig`` with :func:`model_provider` (``options``: its other fields)."""
    config: RunConfig = _sdk().RunConfig(
        model_provider=model_provider(env, use_responses=use_responses), **options
    )
    return config


__all__ = ["BASE_URL", "EXTRA", "model_provider", "run_config", "tools"]
