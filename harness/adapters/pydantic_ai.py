"""``env.tools`` as Pydantic AI tools, and the run's model as a Pydantic AI
model, for a Pydantic AI agent.

    from pydantic_ai import Agent
    from harness.adapters.pydantic_ai import model, tools

    agent = Agent(model(env), system_prompt=..., tools=tools(env))
    agent.run_sync(task.instructions)

Each tool is ``Tool.from_schema`` with the contract's name, description and
JSON Schema; running it is ``env.tools.call`` (the gateway validates the
arguments, not Pydantic AI). A tool's error (a status, a timeout, a lost
answer) is the tool's result, as JSON the model reads:
``{"error": {"message", "status"}}``, with no status when no answer came, the
shape the library's LLM agents send, so the model decides what to do about it.

:func:`model` is Pydantic AI's own ``OpenAIResponsesModel`` (or, with
``api="chat"``, ``OpenAIChatModel``) on an ``OpenAIProvider`` with the run's
credential. The Responses API is the default because OpenAI rejects function
tools over Chat Completions while a GPT-6 model reasons, and :data:`MODEL`
always does (Pydantic AI 2.78 refuses such a request before sending it); Chat
Completions suits a model that can turn reasoning off
(``model_settings={"openai_reasoning_effort": "none"}``). Either way
its requests go through the openai SDK to the simulated ``api.openai.com``,
where the run's model (a script, a cassette, an upstream) answers on the one
gateway path, recorded with its tokens and cost like every model call. An agent
that names ``"openai-responses:gpt-6.1-sol"`` itself reaches the same place; this
only makes the key and the base URL the run's, whatever the environment says. (Not a
``FunctionModel`` bridge: that would translate Pydantic AI's messages to a
provider request and back a second time, by hand, where the library's own
model does it as it does in production.)

pydantic-ai is imported when a function is called, so this module imports
without the extra.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

from harness.adapters._chosen import chosen_specs
from harness.errors import HarnessError, ToolError
from harness.gateway.tools import error_text
from harness.runtime.env import AgentEnv

if TYPE_CHECKING:
    from pydantic_ai import Tool
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel

#: What to install when pydantic-ai is missing.
EXTRA = "aqe-harness[pydantic-ai]"
#: Where the simulated OpenAI answers: the real base URL (the run routes it).
BASE_URL = "https://api.openai.com/v1"
#: The model :func:`model` names when given none.
MODEL = "gpt-6.1-sol"


def tools(env: AgentEnv, names: Iterable[str] | None = None) -> list[Tool[Any]]:
    """``env.tools`` (those in ``names``, or all of them, in ``env.tools``'
    order) as Pydantic AI tools that call ``env.tools.call``."""
    try:
        from pydantic_ai import Tool
    except ImportError as exc:
        raise _missing(exc) from None
    specs = chosen_specs(env, names, who="harness.adapters.pydantic_ai.tools")
    return [
        Tool.from_schema(
            _caller(env, spec["name"]),
            name=spec["name"],
            description=spec.get("description"),
            json_schema=spec["parameters"],
        )
        for spec in specs
    ]


def model(
    env: AgentEnv,
    name: str = MODEL,
    *,
    api: Literal["chat", "responses"] = "responses",
) -> OpenAIChatModel | OpenAIResponsesModel:
    """The run's model as a Pydantic AI model: ``name`` at the simulated OpenAI,
    over the Responses API (the default) or Chat Completions (``api="chat"``),
    with the run's credential as its key."""
    try:
        from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
        from pydantic_ai.providers.openai import OpenAIProvider
    except ImportError as exc:
        raise _missing(exc) from None
    provider = OpenAIProvider(base_url=BASE_URL, api_key=env.identity.api_key)
    if api == "responses":
        return OpenAIResponsesModel(name, provider=provider)
    return OpenAIChatModel(name, provider=provider)


def _missing(exc: ImportError) -> HarnessError:
    return HarnessError(
        "harness.adapters.pydantic_ai needs pydantic-ai (with openai), which is"
        f" not installed ({exc})\n    fix: pip install '{EXTRA}'"
    )


def _caller(env: AgentEnv, name: str) -> Callable[..., str]:
    """One tool's body: ``env.tools.call(name, **args)``, its result as JSON."""

    def call(**args: Any) -> str:
        try:
            return json.dumps(env.tools.call(name, **args))
        except ToolError as exc:
            return error_text(exc)

    call.__name__ = name
    return call


__all__ = ["BASE_URL", "EXTRA", "MODEL", "model", "tools"]
