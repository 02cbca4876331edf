"""The model providers as simulated services on the gateway path: OpenAI at
``api.openai.com`` and Anthropic at ``api.anthropic.com``, so the official SDKs
work with their default base URL.

A call takes the one path every call takes (identity, policy, faults, contract,
the service, history); the service hands the request body to the run's scripted
model (:class:`harness.models.call.ModelCall`), makes its answer whole
(:func:`harness.models.wire.complete`) and sends it, as an event stream when the
request asked for one. Each model call adds a ``model_call`` history entry with
its tokens in and out and its cost; nothing is ledgered.

A run has these services only when it has a model (``run_scenario(model=…)``):
without one, a model host is outside the simulation and blocked, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from fakes.base import CallContext, EntryType, FakeService, Reply, operation
from harness.models import anthropic_wire, openai_wire
from harness.models.call import Endpoint, ModelCall, Provider
from harness.models.prices import prices, tokens
from harness.models.wire import EVENT_STREAM, complete

#: A scripted model: the contract in :mod:`harness.models.call`.
Script = Callable[[ModelCall], Mapping[str, Any]]

_ANY = {"type": "object"}


class Model:
    """The run's model, shared by its providers: the script, the run seed and
    how many model calls the run has made."""

    def __init__(self, script: Script, *, seed: int) -> None:
        self.script, self.seed, self.calls = script, seed, 0


class ModelProvider(FakeService):
    """What both providers share: answering one call from the run's model."""

    provider: ClassVar[Provider]
    governed: ClassVar[bool] = False  # budgets judge model calls, not packs
    #: Simulated seconds a model takes to answer.
    latency: ClassVar[float] = 0.5
    model: Model

    def answer(
        self, endpoint: Endpoint, params: dict[str, Any], ctx: CallContext
    ) -> Reply:
        model = self.model
        call = ModelCall(
            provider=self.provider,
            endpoint=endpoint,
            body=params,
            seed=model.seed,
            index=model.calls,
        )
        model.calls += 1
        try:
            got = model.script(call)
            if not isinstance(got, Mapping):
                raise TypeError(
                    f"it returned {type(got).__name__}, not a response body (a dict"
                    f" in {self.provider}'s wire format, e.g. call.text('Done.'))"
                )
            body, stream = complete(call, got)
        except Exception as exc:  # the script's own bug: the agent gets a 500
            return self._script_failed(call, ctx, exc)
        tokens_in, tokens_out = tokens(endpoint, body.get("usage"))
        self.world.history.append(
            self.world.clock.now,
            "model",
            EntryType.INFO,
            "model_call",
            ctx.call,
            {
                "provider": self.provider,
                "endpoint": endpoint,
                "model": call.model,
                "stream": call.stream,
                "tokens_in": tokens_in,
                "tokens_out": tokens_out,
                "cost_usd": prices().cost(call.model, tokens_in, tokens_out),
            },
        )
        if stream is None:
            return Reply(status=200, body=body)
        return Reply(
            status=200, body=body, headers={"content-type": EVENT_STREAM}, raw=stream
        )

    def _script_failed(
        self, call: ModelCall, ctx: CallContext, exc: Exception
    ) -> Reply:
        message = f"the scripted model failed on model call {call.index + 1}: {exc}"
        self.world.history.append(
            self.world.clock.now,
            "model",
            EntryType.FAIL,
            "model_script_error",
            ctx.call,
            {"provider": self.provider, "endpoint": call.endpoint, "error": message},
        )
        if self.provider == "anthropic":
            return Reply(
                status=500, body=anthropic_wire.error_body(message, kind="api_error")
            )
        return Reply(
            status=500, body=openai_wire.error_body(message, kind="server_error")
        )


class OpenAIProvider(ModelProvider):
    """OpenAI's API: Chat Completions and Responses."""

    name: ClassVar[str] = "openai"
    provider: ClassVar[Provider] = "openai"
    hosts: ClassVar[tuple[str, ...]] = ("api.openai.com",)
    wire_format: ClassVar[str] = (
        "OpenAI's API (Chat Completions, Responses, their event streams); the "
        "`openai` SDK works unchanged at api.openai.com"
    )

    @operation(
        "POST", "/v1/chat/completions", tool="create_chat_completion",
        summary="A model's next turn (OpenAI Chat Completions).",
        request=_ANY, response=_ANY,
    )  # fmt: skip
    def create_chat_completion(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.answer("chat.completions", params, ctx)

    @operation(
        "POST", "/v1/responses", tool="create_response",
        summary="A model's next turn (OpenAI Responses).",
        request=_ANY, response=_ANY,
    )  # fmt: skip
    def create_response(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.answer("responses", params, ctx)


class AnthropicProvider(ModelProvider):
    """Anthropic's API: Messages."""

    name: ClassVar[str] = "anthropic"
    provider: ClassVar[Provider] = "anthropic"
    hosts: ClassVar[tuple[str, ...]] = ("api.anthropic.com",)
    wire_format: ClassVar[str] = (
        "Anthropic's API (Messages and its event stream); the `anthropic` SDK "
        "works unchanged at api.anthropic.com"
    )

    @operation(
        "POST", "/v1/messages", tool="create_message",
        summary="A model's next turn (Anthropic Messages).",
        request=_ANY, response=_ANY,
    )  # fmt: skip
    def create_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.answer("messages", params, ctx)


PROVIDERS: tuple[type[ModelProvider], ...] = (OpenAIProvider, AnthropicProvider)


def providers(world: Any, script: Script, *, seed: int) -> list[ModelProvider]:
    """The run's providers, answering from ``script``."""
    model = Model(script, seed=seed)
    made = []
    for cls in PROVIDERS:
        service = cls({}, world)
        service.model = model
        made.append(service)
    return made
