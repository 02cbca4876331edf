"""Faults on model calls, seen through the official SDKs, unchanged: errors in
each provider's own format, a 429 retried after its Retry-After in simulated
time, overload, timeouts before and after the model billed the call, a stream
cut mid-answer, broken tool-call arguments and refusals."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.errors import ScenarioError
from harness.models import ModelCall
from harness.run import RunResult
from tests.conftest import small_scenario

openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")

ASK = [{"role": "user", "content": "Look up the charge."}]
ARGS = {"charge": "ch_123456789", "amount": 1200, "idempotency_key": "refund-1"}
CLAUDE = "claude-sonnet-5-5"

Agent = Callable[[Task, AgentEnv], AgentResult]


def tool_model(call: ModelCall) -> dict[str, Any]:
    """Calls one tool on its first turn, then answers in text."""
    if call.index == 0:
        return call.tool_call("retrieve_charge", ARGS)
    return call.text("Done.")


def text_model(call: ModelCall) -> dict[str, Any]:
    return call.text("Done.")


def _run(
    faults: list[dict[str, Any]], agent: Agent, model: Any = text_model, seed: int = 1
) -> RunResult:
    return run_scenario(small_scenario(faults=faults), agent, seed=seed, model=model)


def _fault(kind: str, service: str, **params: Any) -> dict[str, Any]:
    return {"id": "f", "kind": kind, "match": {"service": service}, **params}


def _outcome(result: RunResult) -> Any:
    assert result.agent_result is not None, result.scores
    return result.agent_result.output["seen"]


def _entries(result: RunResult, f: str) -> list[Any]:
    return [h for h in result.world.history if h.f == f]


def _calls(result: RunResult, tool: str) -> list[Any]:
    """The invoke entries of the model calls to ``tool``."""
    return [h for h in result.world.history if h.type == "invoke" and h.f == tool]


def probe(ask: Callable[[], Any]) -> Agent:
    """An agent that makes one model call and reports what came of it."""

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        try:
            seen: Any = {"ok": ask()}
        except Exception as exc:
            seen = {"raised": type(exc).__name__, "error": _error_of(exc)}
        return AgentResult(status="done", output={"seen": seen})

    return agent


def _error_of(exc: Exception) -> Any:
    status = getattr(exc, "status_code", None)
    if status is None:
        return str(exc)
    return {
        "status": status,
        "body": exc.body,  # type: ignore[attr-defined]
        "request_id": exc.request_id,  # type: ignore[attr-defined]
        "retry_after": exc.response.headers.get("retry-after"),  # type: ignore[attr-defined]
    }


def openai_chat(**options: Any) -> Any:
    completion = openai.OpenAI(**options).chat.completions.create(
        model="gpt-5", messages=ASK
    )
    return completion.choices[0].message.content


def anthropic_message(**options: Any) -> Any:
    message = anthropic.Anthropic(**options).messages.create(
        model=CLAUDE, max_tokens=64, messages=ASK
    )
    return message.content[0].text


# -- the loader --------------------------------------------------------------------


def test_faults_may_match_model_calls_by_service_alone() -> None:
    scenario = small_scenario(
        faults=[
            _fault("rate_limit", "openai", limit=1),
            {**_fault("overload", "anthropic"), "id": "g"},
        ]
    )

    assert [(f.match.service, f.match.tool) for f in scenario.faults] == [
        ("openai", None),
        ("anthropic", None),
    ]


def test_a_model_fault_on_a_service_that_is_not_a_model_is_a_clear_error() -> None:
    with pytest.raises(ScenarioError) as info:
        small_scenario(faults=[_fault("refusal", "payments")])

    assert str(info.value) == (
        "<scenario small>: faults[0].match.service: refusal faults act on model"
        " calls, not on 'payments' calls\n"
        "    fix: match service: anthropic or openai"
    )


def test_a_kind_that_rewrites_a_tools_data_on_a_model_is_a_clear_error() -> None:
    drift = {**_fault("schema_drift", "openai"), "rename": {"id": "charge_id"}}
    with pytest.raises(ScenarioError) as info:
        small_scenario(faults=[drift])

    assert str(info.value) == (
        "<scenario small>: faults[0].kind: schema_drift faults do not act on model"
        " calls\n    fix: on a model, use one of connection_reset, error, latency,"
        " malformed_arguments, outage, overload, rate_limit, refusal, stream_cut,"
        " timeout"
    )


def test_a_fault_that_names_no_service_hits_tools_not_the_model() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        openai_chat()  # the run's first call: to the model
        try:
            env.tools.call("retrieve_charge", charge=task.input["charge"])
        except Exception as exc:
            return AgentResult(status="done", output={"seen": type(exc).__name__})
        return AgentResult(status="done", output={"seen": "ok"})

    fault = {"id": "f", "kind": "error", "status": 500, "when": {"call": 1}}
    result = _run([fault], agent)

    assert _outcome(result) == "ToolError"
    (fired,) = _entries(result, "error")
    assert fired.value["target"] == "GET /v1/charges/{charge}"


def test_an_unknown_service_lists_the_model_providers_too() -> None:
    with pytest.raises(ScenarioError) as info:
        small_scenario(faults=[_fault("error", "opneai", status=500)])

    assert str(info.value) == (
        "<scenario small>: faults[0].match.service: unknown service 'opneai'\n"
        "    fix: did you mean 'openai'? valid services: anthropic, calendar, crm,"
        " erp, iam, kb, notify, openai, ops, payments, tickets"
    )


# -- errors in each provider's own format --------------------------------------------


@pytest.mark.parametrize(
    ("status", "raised", "kind", "code", "message"),
    [
        (
            429,
            "RateLimitError",
            "requests",
            "rate_limit_exceeded",
            "Rate limit reached for requests per min (RPM). Please try again in"
            " 20s. Visit https://platform.openai.com/account/rate-limits to learn"
            " more.",
        ),
        (
            503,
            "InternalServerError",
            "server_error",
            None,
            "The server is overloaded or not ready yet.",
        ),
        (
            500,
            "InternalServerError",
            "server_error",
            None,
            "The server had an error while processing your request. Sorry about that!",
        ),
    ],
)
def test_openai_errors_are_openais_own(
    status: int, raised: str, kind: str, code: str | None, message: str
) -> None:
    fault = _fault("error", "openai", status=status, retry_after="20s")

    result = _run([fault], probe(lambda: openai_chat(max_retries=0)))

    seen = _outcome(result)
    assert seen["raised"] == raised
    error = seen["error"]
    assert error["status"] == status
    assert error["body"] == {
        "message": message,
        "type": kind,
        "param": None,
        "code": code,
    }
    assert error["retry_after"] == "20"
    assert error["request_id"].startswith("req_")
    assert _entries(result, "model_call") == []  # the model never ran


@pytest.mark.parametrize(
    ("status", "raised", "kind", "message"),
    [
        (
            429,
            "RateLimitError",
            "rate_limit_error",
            "This request would exceed your organization's rate limit. Please try"
            " again later.",
        ),
        (529, "OverloadedError", "overloaded_error", "Overloaded"),
        (503, "ServiceUnavailableError", "api_error", "Service unavailable"),
        (500, "InternalServerError", "api_error", "Internal server error"),
    ],
)
def test_anthropic_errors_are_anthropics_own(
    status: int, raised: str, kind: str, message: str
) -> None:
    fault = _fault("error", "anthropic", status=status)

    result = _run([fault], probe(lambda: anthropic_message(max_retries=0)))

    seen = _outcome(result)
    assert seen["raised"] == raised
    error = seen["error"]
    assert error["status"] == status
    assert error["body"] == {
        "type": "error",
        "error": {"type": kind, "message": message},
    }
    assert error["retry_after"] is None
    assert error["request_id"].startswith("req_")


def test_each_refusal_has_its_own_request_id_the_same_in_every_run() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        ids = []
        for _ in range(2):
            try:
                openai_chat(max_retries=0)
            except openai.APIStatusError as exc:
                ids.append(exc.request_id)
        return AgentResult(status="done", output={"seen": ids})

    first, again = (_run([_fault("error", "openai", status=500)], agent) for _ in "12")

    assert len(set(_outcome(first))) == 2
    assert _outcome(first) == _outcome(again)


# -- the acceptance: a 429 with Retry-After, retried in simulated time ------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_429_on_the_first_model_call_is_retried_after_20_simulated_seconds(
    provider: str, stream: bool
) -> None:
    """The unmodified SDK, default max_retries, honours ``retry-after: 20``: the
    retry comes 20 s of simulated time after the 429, in well under a second of
    wall time."""

    def ask() -> Any:
        if provider == "openai":
            client = openai.OpenAI()
            if stream:
                with client.chat.completions.stream(model="gpt-5", messages=ASK) as s:
                    return s.get_final_completion().choices[0].message.content
            return openai_chat()
        if stream:
            with anthropic.Anthropic().messages.stream(
                model=CLAUDE, max_tokens=64, messages=ASK
            ) as s:
                return s.get_final_text()
        return anthropic_message()

    fault = {**_fault("error", provider, status=429, retry_after="20s")}
    fault["when"] = {"call": 1}

    started = time.perf_counter()
    result = _run([fault], probe(ask))
    wall = time.perf_counter() - started

    assert _outcome(result) == {"ok": "Done."}
    tool = "create_chat_completion" if provider == "openai" else "create_message"
    first, retry = _calls(result, tool)
    (refused,) = [h for h in result.world.history if h.f == tool and h.type == "fail"]
    assert refused.value["status"] == 429
    assert refused.time == first.time + 0.5  # the provider's latency
    assert retry.time - refused.time == 20.0  # the SDK waited what it was told
    assert len(_entries(result, "model_call")) == 1  # only the retry reached it
    assert wall < 5.0, wall  # well under 1 s alone; loose for a loaded machine


# -- overload -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "ask", "status", "raised"),
    [
        ("anthropic", anthropic_message, 529, "OverloadedError"),
        ("openai", openai_chat, 503, "InternalServerError"),
    ],
)
def test_an_overload_is_the_providers_own_status(
    provider: str, ask: Callable[..., Any], status: int, raised: str
) -> None:
    result = _run([_fault("overload", provider)], probe(lambda: ask(max_retries=0)))

    seen = _outcome(result)
    assert (seen["raised"], seen["error"]["status"]) == (raised, status)
    (fired,) = [h for h in result.world.history if h.process == "nemesis"]
    assert (fired.f, fired.value["fault"]) == ("overload", "f")
    assert list(result.fault_coverage) == [
        {"fault": "f", "kind": "overload", "matched": 1, "fired": 1}
    ]


def test_an_overloaded_first_call_is_retried_by_the_sdk_with_its_own_backoff() -> None:
    fault = {**_fault("overload", "anthropic"), "when": {"call": 1}}

    result = _run([fault], probe(anthropic_message))

    assert _outcome(result) == {"ok": "Done."}
    first, retry = _calls(result, "create_message")
    # the SDK's backoff: 0.5 s less up to 25 % jitter, after the 0.5 s latency
    assert 0.875 <= retry.time - first.time <= 1.0
    body = result.world.history.for_call(first.call)[-1].value["error"]
    assert body == {"type": "overloaded_error", "message": "Overloaded"}


def test_an_overload_on_a_fake_service_is_a_503() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        response = env.http.get(
            f"https://payments.sim/v1/charges/{task.input['charge']}"
        )
        return AgentResult(status="done", output={"seen": response.status_code})

    result = run_scenario(
        small_scenario(faults=[_fault("overload", "payments")]), agent
    )

    assert _outcome(result) == 503


# -- timeouts, before and after the model billed the call ------------------------------


@pytest.mark.parametrize("commit", ["before", "after"])
def test_a_model_call_that_times_out_is_retried_and_billed_when_it_ran(
    commit: str,
) -> None:
    fault = {**_fault("timeout", "openai", commit=commit), "when": {"call": 1}}

    started = time.perf_counter()
    result = _run([fault], probe(openai_chat))
    wall = time.perf_counter() - started

    assert _outcome(result) == {"ok": "Done."}
    first, retry = _calls(result, "create_chat_completion")
    # the client gave up after 30 s; the SDK's backoff is under a second
    assert 30.0 < retry.time - first.time < 31.0
    billed = _entries(result, "model_call")
    # after: the model answered (and billed it), the answer was lost
    assert len(billed) == (2 if commit == "after" else 1)
    assert all(b.value["cost_usd"] > 0 for b in billed)
    (lost,) = [
        h for h in result.world.history.for_call(first.call) if "seen" in h.value
    ]
    assert lost.value["seen"] == "timeout"
    assert wall < 5.0, wall


def test_without_retries_a_model_timeout_is_the_sdks_timeout_error() -> None:
    fault = _fault("timeout", "anthropic", commit="after")

    result = _run([fault], probe(lambda: anthropic_message(max_retries=0)))

    assert _outcome(result) == {"raised": "APITimeoutError", "error": _sdk_timeout()}
    assert len(_entries(result, "model_call")) == 1


def _sdk_timeout() -> str:
    """What the installed anthropic SDK says of a read timeout of its default
    600 s: since 2.17 it names the host and the timeout (``_make_timeout_error``),
    before that it gave APITimeoutError's default text."""
    from anthropic._base_client import BaseClient

    if hasattr(BaseClient, "_make_timeout_error"):
        return "Request to api.anthropic.com timed out after 600s"
    return (
        "Request timed out or interrupted. This could be due to a network"
        " timeout, dropped connection, or request cancellation. See"
        " https://docs.anthropic.com/en/api/errors#long-requests for more details."
    )


# -- a stream cut mid-answer -------------------------------------------------------------


def openai_chunks() -> Any:
    """The chat stream as an agent accumulates it by hand."""
    arguments, finish = "", None
    for chunk in openai.OpenAI().chat.completions.create(
        model="gpt-5", messages=ASK, stream=True
    ):
        for call in chunk.choices[0].delta.tool_calls or []:
            arguments += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    return {"arguments": arguments, "finish_reason": finish}


def openai_chat_stream() -> Any:
    with openai.OpenAI().chat.completions.stream(model="gpt-5", messages=ASK) as s:
        choice = s.get_final_completion().choices[0]
    (call,) = choice.message.tool_calls or []
    return {"arguments": call.function.arguments, "finish_reason": choice.finish_reason}


def openai_responses_stream() -> Any:
    with openai.OpenAI().responses.stream(model="gpt-5", input="hi") as s:
        return s.get_final_response().status


def anthropic_stream() -> Any:
    with anthropic.Anthropic().messages.stream(
        model=CLAUDE, max_tokens=64, messages=ASK
    ) as s:
        message = s.get_final_message()
    (use,) = message.content
    return {"input": use.input, "stop_reason": message.stop_reason}  # type: ignore[union-attr]


CUT = '{"charge": "ch_123456789", '  # the first half of the argument deltas


@pytest.mark.parametrize(
    ("service", "ask", "sees"),
    [
        ("openai", openai_chunks, {"ok": {"arguments": CUT, "finish_reason": None}}),
        (
            "openai",
            openai_chat_stream,
            {"ok": {"arguments": CUT, "finish_reason": None}},
        ),
        (
            "openai",
            openai_responses_stream,
            {
                "raised": "RuntimeError",
                "error": "Didn't receive a `response.completed` event.",
            },
        ),
        (
            "anthropic",
            anthropic_stream,
            {"ok": {"input": {"charge": "ch_123456789"}, "stop_reason": None}},
        ),
    ],
    ids=["chat_chunks", "chat_stream", "responses_stream", "messages_stream"],
)
def test_a_cut_stream_ends_in_the_middle_of_the_tool_calls_arguments(
    service: str, ask: Callable[[], Any], sees: Any
) -> None:
    result = _run([_fault("stream_cut", service)], probe(ask), model=tool_model)

    assert _outcome(result) == sees
    assert [h.f for h in result.world.history if h.process == "nemesis"] == [
        "stream_cut"
    ]
    assert len(_entries(result, "model_call")) == 1  # the model answered: billed


def test_a_stream_cut_never_delivers_a_tool_calls_whole_arguments() -> None:
    """Arguments short enough for one delta are cut before it."""

    def model(call: ModelCall) -> dict[str, Any]:
        return call.tool_call("get_ticket", {"ticket": "t_1"})

    result = _run([_fault("stream_cut", "openai")], probe(openai_chunks), model=model)

    assert _outcome(result) == {"ok": {"arguments": "", "finish_reason": None}}


def test_a_stream_cut_matches_only_streamed_calls() -> None:
    result = _run([_fault("stream_cut", "openai")], probe(openai_chat))

    assert _outcome(result) == {"ok": "Done."}
    assert list(result.fault_coverage) == [
        {"fault": "f", "kind": "stream_cut", "matched": 0, "fired": 0}
    ]


# -- broken tool-call arguments ----------------------------------------------------------


def openai_tool_call() -> Any:
    completion = openai.OpenAI().chat.completions.create(model="gpt-5", messages=ASK)
    choice = completion.choices[0]
    (call,) = choice.message.tool_calls or []
    return {"arguments": call.function.arguments, "finish_reason": choice.finish_reason}  # type: ignore[union-attr]


def openai_response_call() -> Any:
    response = openai.OpenAI().responses.create(model="gpt-5", input="hi")
    (item,) = response.output
    return {"arguments": item.arguments, "status": response.status}  # type: ignore[union-attr]


def anthropic_tool_use() -> Any:
    message = anthropic.Anthropic().messages.create(
        model=CLAUDE, max_tokens=64, messages=ASK
    )
    (use,) = message.content
    return {"input": use.input, "stop_reason": message.stop_reason}  # type: ignore[union-attr]


WHOLE = json.dumps(ARGS)
HALF = WHOLE[: len(WHOLE) // 2]
INVALID = WHOLE[:-1] + ",}"


@pytest.mark.parametrize(
    ("service", "how", "ask", "sees"),
    [
        (
            "openai",
            "cut",
            openai_tool_call,
            {"arguments": HALF, "finish_reason": "length"},
        ),
        (
            "openai",
            "invalid",
            openai_tool_call,
            {"arguments": INVALID, "finish_reason": "tool_calls"},
        ),
        (
            "openai",
            "cut",
            openai_chunks,
            {"arguments": HALF, "finish_reason": "length"},
        ),
        (
            "openai",
            "cut",
            openai_response_call,
            {"arguments": HALF, "status": "incomplete"},
        ),
        (
            "openai",
            "invalid",
            openai_response_call,
            {"arguments": INVALID, "status": "completed"},
        ),
        (
            "anthropic",
            "cut",
            anthropic_tool_use,
            {"input": {"charge": "ch_123456789"}, "stop_reason": "max_tokens"},
        ),
        (
            "anthropic",
            "invalid",  # whole, the API parses input itself: answered as cut
            anthropic_tool_use,
            {"input": {"charge": "ch_123456789"}, "stop_reason": "max_tokens"},
        ),
        (
            "anthropic",
            "cut",
            anthropic_stream,
            {"input": {"charge": "ch_123456789"}, "stop_reason": "max_tokens"},
        ),
    ],
    ids=[
        "chat_cut",
        "chat_invalid",
        "chat_stream_cut",
        "responses_cut",
        "responses_invalid",
        "messages_cut",
        "messages_invalid",
        "messages_stream_cut",
    ],
)
def test_malformed_arguments_reach_the_agent_as_the_provider_sends_them(
    service: str, how: str, ask: Callable[[], Any], sees: Any
) -> None:
    fault = _fault("malformed_arguments", service, how=how)

    result = _run([fault], probe(ask), model=tool_model)

    assert _outcome(result) == {"ok": sees}
    (fired,) = [h for h in result.world.history if h.process == "nemesis"]
    assert fired.value["params"] == {"how": how}


def test_invalid_streamed_anthropic_arguments_make_the_sdk_raise() -> None:
    fault = _fault("malformed_arguments", "anthropic", how="invalid")

    result = _run([fault], probe(anthropic_stream), model=tool_model)

    assert _outcome(result) == {
        "raised": "ValueError",
        "error": "Unable to parse tool parameter JSON from model. Please retry your"
        " request or adjust your prompt. Error: trailing comma at line 1 column"
        f" {len(INVALID)}. JSON: {INVALID}",
    }


# -- refusals ------------------------------------------------------------------------------


SORRY = "I'm sorry, but I can't help with that."


def openai_refusal(stream: bool) -> Callable[[], Any]:
    def ask() -> Any:
        client = openai.OpenAI()
        if stream:
            with client.chat.completions.stream(model="gpt-5", messages=ASK) as s:
                message = s.get_final_completion().choices[0].message
        else:
            message = (
                client.chat.completions.create(model="gpt-5", messages=ASK)
                .choices[0]
                .message
            )
        return [message.content, message.refusal, message.tool_calls]

    return ask


def responses_refusal(stream: bool) -> Callable[[], Any]:
    def ask() -> Any:
        client = openai.OpenAI()
        if stream:
            with client.responses.stream(model="gpt-5", input="hi") as s:
                response = s.get_final_response()
        else:
            response = client.responses.create(model="gpt-5", input="hi")
        (item,) = response.output
        return [part.model_dump() for part in item.content]  # type: ignore[union-attr]

    return ask


def anthropic_refusal(stream: bool) -> Callable[[], Any]:
    def ask() -> Any:
        client = anthropic.Anthropic()
        request: dict[str, Any] = {"model": CLAUDE, "max_tokens": 64, "messages": ASK}
        if stream:
            with client.messages.stream(**request) as s:
                message = s.get_final_message()
        else:
            message = client.messages.create(**request)
        return [message.stop_reason, [b.type for b in message.content]]

    return ask


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(
    ("service", "ask", "sees"),
    [
        ("openai", openai_refusal, [None, SORRY, None]),
        ("openai", responses_refusal, [{"refusal": SORRY, "type": "refusal"}]),
        ("anthropic", anthropic_refusal, ["refusal", []]),
    ],
    ids=["chat", "responses", "messages"],
)
def test_a_refusal_is_the_providers_own(
    service: str, ask: Callable[[bool], Callable[[], Any]], sees: Any, stream: bool
) -> None:
    result = _run([_fault("refusal", service)], probe(ask(stream)), model=tool_model)

    assert _outcome(result) == {"ok": sees}
    assert list(result.fault_coverage) == [
        {"fault": "f", "kind": "refusal", "matched": 1, "fired": 1}
    ]


# -- determinism ---------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_trace_under_model_faults() -> None:
    faults = [
        {**_fault("rate_limit", "openai", limit=1, per="1m"), "id": "limit"},
        {**_fault("malformed_arguments", "openai"), "id": "bad", "when": {"call": 2}},
        {**_fault("overload", "openai"), "id": "busy", "when": {"call": 3}},
    ]

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        seen = []
        for _ in range(3):
            try:
                seen.append(openai_tool_call())
            except Exception as exc:
                seen.append(type(exc).__name__)
        return AgentResult(status="done", output={"seen": seen})

    def always(call: ModelCall) -> dict[str, Any]:
        return call.tool_call("retrieve_charge", ARGS)

    runs = [_run(faults, agent, model=always, seed=7) for _ in range(2)]

    traces = [[json.dumps(h.to_json()) for h in r.world.history] for r in runs]
    assert traces[0] == traces[1]
    assert {h.f for h in runs[0].world.history if h.process == "nemesis"} == {
        "rate_limit",
        "malformed_arguments",
        "overload",
    }


def streamed_openai_agent(task: Task, env: AgentEnv) -> AgentResult:
    """A module-level agent (an isolated run imports it): one streamed chat call."""
    try:
        seen: Any = {"ok": openai_chat_stream()}
    except Exception as exc:
        seen = {"raised": type(exc).__name__, "error": _error_of(exc)}
    return AgentResult(status="done", output={"seen": seen})


def test_model_faults_reach_an_agent_in_its_own_process() -> None:
    """The 429 and the cut stream travel to an isolated agent as they are."""
    from harness.isolation import ProcessIsolation

    faults = [
        {
            **_fault("error", "openai", status=429, retry_after="20s"),
            "id": "limit",
            "when": {"call": 1},
        },
        {**_fault("stream_cut", "openai"), "id": "cut", "when": {"call": 2}},
    ]

    def model(call: ModelCall) -> dict[str, Any]:
        return call.tool_call("retrieve_charge", ARGS)

    isolation = ProcessIsolation()
    try:
        result = run_scenario(
            small_scenario(faults=faults),
            streamed_openai_agent,
            seed=1,
            model=model,
            isolation=isolation,
        )
    finally:
        isolation.close()

    assert _outcome(result) == {"ok": {"arguments": CUT, "finish_reason": None}}
    assert [h.f for h in result.world.history if h.process == "nemesis"] == [
        "error",
        "stream_cut",
    ]
    first, retry = _calls(result, "create_chat_completion")
    assert retry.time - first.time == 20.5  # the 429's latency, then retry-after
