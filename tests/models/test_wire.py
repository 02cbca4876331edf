"""The providers' wire formats, read back by the official SDKs themselves: what a
script answers, plain or streamed, is what ``openai`` and ``anthropic`` parse."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from harness.models import ENDPOINTS, EVENT_STREAM, ModelCall, complete
from harness.models.sse import pieces

httpx2 = pytest.importorskip("httpx2")
openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")

PATHS = {
    "/v1/chat/completions": "chat.completions",
    "/v1/responses": "responses",
    "/v1/messages": "messages",
}
Script = Callable[[ModelCall], dict[str, Any]]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "create_refund",
            "parameters": {
                "type": "object",
                "properties": {"charge": {"type": "string"}},
            },
        },
    }
]
MESSAGES: list[Any] = [{"role": "user", "content": "Refund ch_1, please."}]


def refund(call: ModelCall) -> dict[str, Any]:
    return call.tool_calls(
        [("create_refund", {"charge": "ch_1", "amount": 500})],
        content="I will refund the charge now.",
    )


def reply(call: ModelCall) -> dict[str, Any]:
    return call.text("The charge ch_1 was refunded in full; nothing else is owed.")


def transport(script: Script, seen: list[ModelCall]) -> Any:
    def handle(request: Any) -> Any:
        endpoint = PATHS[request.url.path]
        call = ModelCall(
            provider=ENDPOINTS[endpoint],
            endpoint=endpoint,  # type: ignore[arg-type]
            body=json.loads(request.content),
            seed=1,
            index=len(seen),
        )
        seen.append(call)
        body, stream = complete(call, script(call))
        if stream is None:
            return httpx2.Response(200, json=body)
        return httpx2.Response(
            200, content=stream, headers={"content-type": EVENT_STREAM}
        )

    return httpx2.MockTransport(handle)


def openai_client(script: Script, seen: list[ModelCall]) -> Any:
    http = httpx2.Client(transport=transport(script, seen))
    return openai.OpenAI(api_key="sk-test", http_client=http, max_retries=0)


def anthropic_client(script: Script, seen: list[ModelCall]) -> Any:
    http = httpx2.Client(transport=transport(script, seen))
    return anthropic.Anthropic(api_key="sk-ant-test", http_client=http, max_retries=0)


@pytest.mark.parametrize("script", [refund, reply])
def test_a_chat_completion_streamed_is_the_same_completion(script: Script) -> None:
    first: list[ModelCall] = []
    second: list[ModelCall] = []
    whole = openai_client(script, first).chat.completions.create(
        model="gpt-5", messages=MESSAGES, tools=TOOLS
    )
    with openai_client(script, second).chat.completions.stream(
        model="gpt-5",
        messages=MESSAGES,
        tools=TOOLS,
        stream_options={"include_usage": True},
    ) as stream:
        streamed = stream.get_final_completion()

    assert first[0].body == {"messages": MESSAGES, "model": "gpt-5", "tools": TOOLS}
    assert first[0].stream is False
    assert second[0].stream is True
    want, got = whole.choices[0].message, streamed.choices[0].message
    assert got.content == want.content
    assert [_tool(c) for c in got.tool_calls or []] == [
        _tool(c) for c in want.tool_calls or []
    ]
    assert streamed.choices[0].finish_reason == whole.choices[0].finish_reason
    assert streamed.usage == whole.usage
    assert whole.usage is not None
    assert whole.usage.prompt_tokens > 0


def test_a_tool_call_reads_as_the_sdk_documents_it() -> None:
    client = openai_client(refund, [])
    completion = client.chat.completions.create(
        model="gpt-5", messages=MESSAGES, tools=TOOLS
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.function.name == "create_refund"
    assert json.loads(call.function.arguments) == {"charge": "ch_1", "amount": 500}
    assert call.id.startswith("call_")
    # the same call, the same ids: answers are deterministic
    again = openai_client(refund, []).chat.completions.create(
        model="gpt-5", messages=MESSAGES, tools=TOOLS
    )
    assert again.model_dump() == completion.model_dump()


@pytest.mark.parametrize("script", [refund, reply])
def test_a_response_streamed_is_the_same_response(script: Script) -> None:
    whole = openai_client(script, []).responses.create(
        model="gpt-5", input="Refund ch_1, please."
    )
    with openai_client(script, []).responses.stream(
        model="gpt-5", input="Refund ch_1, please."
    ) as stream:
        events = [event.type for event in stream]
        streamed = stream.get_final_response()

    assert [_plain(o) for o in streamed.output] == [_plain(o) for o in whole.output]
    assert streamed.output_text == whole.output_text
    assert streamed.usage == whole.usage
    assert events[0] == "response.created"
    assert events[-1] == "response.completed"


@pytest.mark.parametrize("script", [refund, reply])
def test_a_message_streamed_is_the_same_message(script: Script) -> None:
    seen: list[ModelCall] = []
    whole = anthropic_client(script, seen).messages.create(
        model="claude-sonnet-4-5", max_tokens=512, messages=MESSAGES
    )
    with anthropic_client(script, []).messages.stream(
        model="claude-sonnet-4-5", max_tokens=512, messages=MESSAGES
    ) as stream:
        streamed = stream.get_final_message()

    assert seen[0].provider == "anthropic"
    assert seen[0].endpoint == "messages"
    assert [_plain(b) for b in streamed.content] == [_plain(b) for b in whole.content]
    assert streamed.stop_reason == whole.stop_reason
    assert streamed.usage.output_tokens == whole.usage.output_tokens
    assert streamed.usage.input_tokens == whole.usage.input_tokens


def test_a_tool_use_reads_as_the_anthropic_sdk_documents_it() -> None:
    client = anthropic_client(refund, [])
    message = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=512, messages=MESSAGES
    )

    assert message.stop_reason == "tool_use"
    text, use = message.content
    assert text.type == "text"
    assert text.text == "I will refund the charge now."
    assert use.type == "tool_use"
    assert use.name == "create_refund"
    assert use.input == {"charge": "ch_1", "amount": 500}
    assert use.id.startswith("toolu_")


def test_error_bodies_raise_each_sdks_own_errors() -> None:
    from harness.models import anthropic_wire, openai_wire

    def limited(request: Any) -> Any:
        if request.url.path == "/v1/messages":
            body = anthropic_wire.error_body("Overloaded", kind="overloaded_error")
            return httpx2.Response(529, json=body)
        body = openai_wire.error_body(
            "Rate limit reached for gpt-5", kind="requests", code="rate_limit_exceeded"
        )
        return httpx2.Response(429, json=body, headers={"retry-after": "20"})

    http = httpx2.Client(transport=httpx2.MockTransport(limited))
    with pytest.raises(openai.RateLimitError) as limit:
        openai.OpenAI(
            api_key="k", http_client=http, max_retries=0
        ).chat.completions.create(model="gpt-5", messages=MESSAGES)
    assert limit.value.code == "rate_limit_exceeded"
    assert limit.value.type == "requests"
    assert "Rate limit reached for gpt-5" in limit.value.message
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        anthropic.Anthropic(
            api_key="k", http_client=http, max_retries=0
        ).messages.create(model="claude-sonnet-4-5", max_tokens=10, messages=MESSAGES)
    assert overloaded.value.status_code == 529
    assert type(overloaded.value).__name__ == "OverloadedError"


def _tool(call: Any) -> tuple[str, str, str]:
    return call.id, call.function.name, call.function.arguments


def _plain(item: Any) -> dict[str, Any]:
    """An SDK object's wire fields (a parsed subclass adds its own)."""
    dumped: dict[str, Any] = item.model_dump(exclude_none=True)
    for extra in ("parsed_arguments", "parsed_output", "parsed"):
        dumped.pop(extra, None)
    if "content" in dumped:
        dumped["content"] = [
            {k: v for k, v in part.items() if k != "parsed"}
            for part in dumped["content"]
        ]
    return dumped


@pytest.mark.parametrize(
    "text",
    [
        "",
        "one",
        "a few words of text that run past one piece",
        "x" * 60,
        "  spaced  out  ",
    ],
)
def test_a_text_cut_in_pieces_joins_back(text: str) -> None:
    cut = list(pieces(text, size=8))
    assert "".join(cut) == text
    assert all(cut)
    assert all(len(p) <= 8 for p in cut)


@pytest.mark.parametrize(
    ("model", "effort", "refused"),
    [
        ("gpt-6.1-sol", None, True),  # reasons always: tools need /v1/responses
        ("gpt-6.1-terra", None, True),
        ("gpt-6.1-terra", "none", False),  # reasoning off: tools are taken
        ("gpt-5.4-mini", None, False),  # reasons only when asked
        ("gpt-5.4-mini", "low", True),
        ("gpt-5", None, False),
    ],
)
def test_the_simulated_openai_refuses_tools_over_chat_while_a_gpt_6_reasons(
    model: str, effort: str | None, refused: bool
) -> None:
    from harness import AgentEnv, AgentResult, Task, run_scenario
    from tests.conftest import payments_scenario

    seen: list[Any] = []

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        client = openai.OpenAI(api_key=env.identity.api_key, max_retries=0)
        extra = {} if effort is None else {"reasoning_effort": effort}
        try:
            client.chat.completions.create(
                model=model, messages=MESSAGES, tools=TOOLS, **extra
            )
            seen.append("answered")
        except openai.BadRequestError as err:
            seen.append(err)
        # the Responses API takes tools from every model, reasoning or not
        client.responses.create(model=model, input="Refund ch_1, please.", tools=[])
        return AgentResult(status="done", summary="")

    run = run_scenario(
        payments_scenario("refund_ok"), agent, model=lambda call: call.text("Done.")
    )
    (got,) = seen
    calls = [h for h in run.world.history if h.f == "model_call"]
    if not refused:
        assert got == "answered"
        assert [c.value["endpoint"] for c in calls] == ["chat.completions", "responses"]
        return
    assert isinstance(got, openai.BadRequestError)
    assert (got.status_code, got.code, got.param) == (
        400,
        "unsupported_parameter",
        "tools",
    )
    assert "Use /v1/responses, or set reasoning_effort to 'none'" in got.message
    # refused before any model was asked: nothing billed for it
    assert [c.value["endpoint"] for c in calls] == ["responses"]
