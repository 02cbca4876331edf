"""The model providers as simulated services on the gateway path: OpenAI at
``api.openai.com`` and Anthropic at ``api.anthropic.com``, so the official SDKs
work with their default base URL.

A call takes the one path every call takes (identity, policy, faults, contract,
the service, history); the service hands the request body to the run's scripted
model (:class:`harness.models.call.ModelCall`), makes its answer whole
(:func:`harness.models.wire.complete`) and sends it, as an event stream when the
request asked for one. Each model call adds a ``model_call`` history entry with
its tokens in and out and its cost; nothing is ledgered.

Every run has these services: one without a model (``run_scenario(model=…)``,
``--aqe-model``, a scenario's ``model:``, a cassette) answers each model call
with an error saying so, and fails on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, ClassVar

from fakes.base import CallContext, EntryType, FakeService, Reply, operation
from harness.models import anthropic_wire, openai_wire
from harness.models.call import Endpoint, ModelCall, Provider
from harness.models.cassette import Exchange, NoRecordedAnswer, canonical
from harness.models.prices import prices, tokens
from harness.models.source import ModelSource, ModelSourceError, Script, Upstream
from harness.models.wire import EVENT_STREAM, complete

__all__ = ["PROVIDERS", "Model", "ModelProvider", "Script", "providers"]

_ANY = {"type": "object"}
#: A tracing batch: ``{"data": [trace or span, ...]}``.
_TRACES = {
    "type": "object",
    "properties": {"data": {"type": "array", "items": {"type": "object"}}},
    "required": ["data"],
}
#: Sent with the harness's own failures (no model, no recorded answer, a
#: script's bug): the SDKs do not retry what would fail the same way again.
_NO_RETRY = {"x-should-retry": "false"}


class Model:
    """The run's model, shared by its providers: where answers come from, the
    run seed and how many model calls the run has made."""

    def __init__(self, source: ModelSource | None, *, seed: int) -> None:
        self.source, self.seed, self.calls = source, seed, 0
        self.cassette = source.open_cassette() if source is not None else None
        live = source is not None and source.mode in ("record", "live")
        self.upstream = Upstream(source) if live and source is not None else None

    def finish(self) -> None:
        """The run is over: a recorded cassette is saved, the upstream closed."""
        if self.upstream is not None:
            self.upstream.close()
        recording = self.source is not None and self.source.mode == "record"
        if self.cassette is not None and recording:
            self.cassette.save()


class _Failed(Exception):
    """The harness could not answer a model call (``what``: the history entry)."""

    def __init__(self, what: str, message: str) -> None:
        super().__init__(message)
        self.what, self.message = what, message


class ModelProvider(FakeService):
    """What both providers share: answering one call from the run's model."""

    provider: ClassVar[Provider]
    governed: ClassVar[bool] = False  # budgets judge model calls, not packs
    #: Simulated seconds a model takes to answer.
    latency: ClassVar[float] = 0.5
    #: The header that carries a response's request id (the SDK's ``request_id``).
    request_id_header: ClassVar[str] = "x-request-id"
    model: Model
    #: Injected refusals so far (each gets its own request id).
    refusals: int = 0

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
            status, got, headers = self._ask(call)
            if status != 200:  # the provider's own error, as it sent it
                return Reply(status=status, body=got, headers=headers)
            body, stream = complete(call, got)
        except _Failed as failed:
            return self._failed(call, ctx, failed.what, failed.message)
        except Exception as exc:  # the script's own bug: the agent gets a 500
            message = f"the scripted model failed on model call {call.index + 1}: {exc}"
            return self._failed(call, ctx, "model_script_error", message)
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
                "latency_s": self.latency,
                # the request is the call's invoke entry; this is what came back
                # (streamed or not, the whole answer)
                "response": body,
            },
        )
        if stream is None:
            return Reply(status=200, body=body, headers=headers)
        headers = {**headers, "content-type": EVENT_STREAM}
        return Reply(status=200, body=body, headers=headers, raw=stream)

    def unavailable(self, status: int, retry_after: float | None) -> Reply:
        """An injected refusal (``error``, ``outage``, ``rate_limit``,
        ``overload``) in the provider's own error format, with the headers its
        SDK reads: ``retry-after`` (when given) and the request id."""
        self.refusals += 1
        basis = f"{self.model.seed}:{self.provider}:refusal:{self.refusals}"
        ident = "req_" + hashlib.sha256(basis.encode()).hexdigest()[:24]
        headers = {self.request_id_header: ident}
        if retry_after is not None:
            headers["retry-after"] = f"{retry_after:g}"
        return Reply(
            status=status, body=self.error_body(status, retry_after), headers=headers
        )

    def error_body(self, status: int, retry_after: float | None) -> dict[str, Any]:
        """The body of an injected error with ``status``."""
        raise NotImplementedError(self.provider)

    def _ask(self, call: ModelCall) -> tuple[int, dict[str, Any], dict[str, str]]:
        """The answer's status, body and headers, from the run's model source."""
        model, source = self.model, self.model.source
        if source is None:
            raise _Failed(
                "model_missing",
                f"model: the agent called {self.hosts[0]} ({call.endpoint}), and "
                "this run has no model\n    fix: give it one: --aqe-model "
                "MODULE:CALLABLE, the scenario's model: {script: …} or {turns: …},"
                " or a cassette (--aqe-model-mode record)",
            )
        if model.cassette is not None and source.mode == "replay":
            try:
                recorded = model.cassette.answer(
                    call.provider, call.endpoint, call.body
                )
            except NoRecordedAnswer as exc:
                raise _Failed("model_no_recorded_answer", str(exc)) from None
            return recorded.status, dict(recorded.response), dict(recorded.headers)
        if model.upstream is not None:
            try:
                got = model.upstream.ask(call)
            except ModelSourceError as exc:
                raise _Failed("model_unreachable", str(exc)) from None
            secrets = self.world.secrets
            body = secrets.redact_json(got.body)
            if model.cassette is not None:
                model.cassette.record(
                    Exchange(
                        provider=call.provider,
                        endpoint=call.endpoint,
                        request=secrets.redact_json(canonical(call.body)),
                        status=got.status,
                        response=body,
                        headers=got.headers if got.status != 200 else {},
                    )
                )
            return got.status, body, got.headers if got.status != 200 else {}
        assert source.script is not None  # scripted: checked when it was made
        scripted = source.script(call)
        if not isinstance(scripted, Mapping):
            raise TypeError(
                f"it returned {type(scripted).__name__}, not a response body (a dict"
                f" in {self.provider}'s wire format, e.g. call.text('Done.'))"
            )
        return 200, dict(scripted), {}

    def _failed(
        self, call: ModelCall, ctx: CallContext, what: str, message: str
    ) -> Reply:
        self.world.history.append(
            self.world.clock.now,
            "model",
            EntryType.FAIL,
            what,
            ctx.call,
            {"provider": self.provider, "endpoint": call.endpoint, "error": message},
        )
        if self.provider == "anthropic":
            body = anthropic_wire.error_body(message, kind="api_error")
        else:
            body = openai_wire.error_body(message, kind="server_error")
        return Reply(status=500, body=body, headers=_NO_RETRY)


class OpenAIProvider(ModelProvider):
    """OpenAI's API: Chat Completions and Responses; and the traces ingest the
    Agents SDK exports to, so its tracing works unchanged and stays in the run."""

    name: ClassVar[str] = "openai"
    provider: ClassVar[Provider] = "openai"
    hosts: ClassVar[tuple[str, ...]] = ("api.openai.com",)
    wire_format: ClassVar[str] = (
        "OpenAI's API (Chat Completions, Responses, their event streams); the "
        "`openai` SDK works unchanged at api.openai.com"
    )

    def error_body(self, status: int, retry_after: float | None) -> dict[str, Any]:
        """OpenAI's words: 429 ``rate_limit_exceeded`` (type ``requests``), 5xx
        ``server_error`` (503: overloaded), other 4xx ``invalid_request_error``."""
        if status == 429:
            wait = (
                "" if retry_after is None else f" Please try again in {retry_after:g}s."
            )
            return openai_wire.error_body(
                "Rate limit reached for requests per min (RPM)." + wait + " Visit"
                " https://platform.openai.com/account/rate-limits to learn more.",
                kind="requests",
                code="rate_limit_exceeded",
            )
        if status == 503:
            message = "The server is overloaded or not ready yet."
        elif status >= 500:
            message = (
                "The server had an error while processing your request. Sorry"
                " about that!"
            )
        else:
            return openai_wire.error_body(
                "The request could not be processed.", kind="invalid_request_error"
            )
        return openai_wire.error_body(message, kind="server_error")

    @operation(
        "POST", "/v1/chat/completions", tool="create_chat_completion",
        summary="A model's next turn (OpenAI Chat Completions).",
        request=_ANY, response=_ANY,
    )  # fmt: skip
    def create_chat_completion(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        refused = openai_wire.chat_tools_refused(params)
        if refused is not None:  # OpenAI's 400: no model is asked, none billed
            return Reply(status=400, body=refused, headers={})
        return self.answer("chat.completions", params, ctx)

    @operation(
        "POST", "/v1/responses", tool="create_response",
        summary="A model's next turn (OpenAI Responses).",
        request=_ANY, response=_ANY,
    )  # fmt: skip
    def create_response(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.answer("responses", params, ctx)

    @operation(
        "POST", "/v1/traces/ingest", tool="ingest_traces",
        summary="Take an SDK's traces and spans (the OpenAI Agents SDK's exporter).",
        request=_TRACES, response=_ANY,
    )  # fmt: skip
    def ingest_traces(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        """Accept the batch and keep it nowhere but the call's ``invoke`` line:
        an SDK's telemetry is no model call, and it never leaves the run."""
        return Reply(status=200, body={})


class AnthropicProvider(ModelProvider):
    """Anthropic's API: Messages."""

    name: ClassVar[str] = "anthropic"
    provider: ClassVar[Provider] = "anthropic"
    hosts: ClassVar[tuple[str, ...]] = ("api.anthropic.com",)
    wire_format: ClassVar[str] = (
        "Anthropic's API (Messages and its event stream); the `anthropic` SDK "
        "works unchanged at api.anthropic.com"
    )

    request_id_header: ClassVar[str] = "request-id"
    overloaded_status: ClassVar[int] = 529

    def error_body(self, status: int, retry_after: float | None) -> dict[str, Any]:
        """Anthropic's error types by status: 429 ``rate_limit_error``, 529
        ``overloaded_error``, 504 ``timeout_error``, other 5xx ``api_error``,
        4xx as its API reference lists them."""
        kind, message = _ANTHROPIC_ERRORS.get(
            status,
            ("api_error", "Internal server error")
            if status >= 500
            else ("invalid_request_error", "The request could not be processed."),
        )
        return anthropic_wire.error_body(message, kind=kind)

    @operation(
        "POST", "/v1/messages", tool="create_message",
        summary="A model's next turn (Anthropic Messages).",
        request=_ANY, response=_ANY,
    )  # fmt: skip
    def create_message(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.answer("messages", params, ctx)


_ANTHROPIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "The request could not be processed."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use the"
          " specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "This request would exceed your organization's rate"
          " limit. Please try again later."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}  # fmt: skip

PROVIDERS: tuple[type[ModelProvider], ...] = (OpenAIProvider, AnthropicProvider)
#: The providers' service names: their calls are model calls, not tool calls.
PROVIDER_NAMES = frozenset(cls.name for cls in PROVIDERS)


def providers(
    world: Any, source: ModelSource | None, *, seed: int
) -> tuple[Model, list[ModelProvider]]:
    """The run's model and its providers, answering from ``source`` (None: the
    run has no model, and each call says so)."""
    model = Model(source, seed=seed)
    made = []
    for cls in PROVIDERS:
        service = cls({}, world)
        service.model = model
        made.append(service)
    return model, made
