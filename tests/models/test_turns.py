"""Scripted models written as turns: each call gets its turn, in the call's own
wire format; bad turns are named by index."""

from __future__ import annotations

from typing import Any

import pytest

from harness.models import ModelCall, complete
from harness.models.turns import TurnError, Turns

TURNS: list[dict[str, Any]] = [
    {"tool_call": {"name": "retrieve_charge", "arguments": {"charge": "ch_1"}}},
    {
        "tool_calls": [{"name": "create_refund", "arguments": {"charge": "ch_1"}}],
        "text": "Refunding now.",
    },
    {"text": "Refunded."},
]


def call(endpoint: str, index: int) -> ModelCall:
    provider = "anthropic" if endpoint == "messages" else "openai"
    return ModelCall(
        provider=provider,  # type: ignore[arg-type]
        endpoint=endpoint,  # type: ignore[arg-type]
        body={"model": "m", "messages": []},
        seed=3,
        index=index,
    )


def test_each_call_gets_its_turn_in_chat_completions() -> None:
    script = Turns.read(TURNS)
    first, second, third = (script(call("chat.completions", i)) for i in range(3))

    (tool,) = first["choices"][0]["message"]["tool_calls"]
    assert tool["function"] == {
        "name": "retrieve_charge",
        "arguments": '{"charge": "ch_1"}',
    }
    assert second["choices"][0]["message"]["content"] == "Refunding now."
    assert third["choices"][0]["message"] == {
        "role": "assistant",
        "content": "Refunded.",
        "refusal": None,
    }


def test_the_same_turns_speak_anthropic_messages() -> None:
    script = Turns.read(TURNS)
    first = script(call("messages", 0))
    assert first["stop_reason"] == "tool_use"
    assert first["content"][0]["name"] == "retrieve_charge"
    assert first["content"][0]["input"] == {"charge": "ch_1"}
    body, stream = complete(call("messages", 2), script(call("messages", 2)))
    assert body["content"] == [{"type": "text", "text": "Refunded."}]
    assert stream is None


def test_a_call_past_the_last_turn_says_so() -> None:
    with pytest.raises(TurnError) as info:
        Turns.read(TURNS)(call("responses", 3))
    assert str(info.value) == (
        "model: the scripted model has 3 turns; the agent made model call 4\n"
        "    fix: add the turn the agent should get, or find why it asks again"
    )


def test_a_body_turn_is_sent_as_it_is() -> None:
    body = {"id": "chatcmpl-x", "object": "chat.completion", "choices": []}
    assert Turns.read([{"body": body}])(call("chat.completions", 0)) == body


@pytest.mark.parametrize(
    ("turns", "says"),
    [
        (
            "text: hi",
            "model.turns: expected a list of turns\n    fix: e.g. turns: [{text: Done.}]",
        ),
        (
            [],
            "model.turns: expected a list of turns\n    fix: e.g. turns: [{text: Done.}]",
        ),
        (
            [{"text": "a"}, "b"],
            "model.turns[1]: expected a mapping\n"
            "    fix: a turn is one of text, tool_call, tool_calls, body, e.g. {text: Done.}",
        ),
        (
            [{"txt": "a"}],
            "model.turns[0]: unknown key txt\n"
            "    fix: a turn is one of text, tool_call, tool_calls, body, e.g. {text: Done.}",
        ),
        (
            [{"text": "a", "body": {}}],
            "model.turns[0]: one of text, body, not both\n"
            "    fix: a turn is one of text, tool_call, tool_calls, body, e.g. {text: Done.}",
        ),
        ([{"text": 3}], "model.turns[0].text: expected a string"),
        (
            [{"tool_call": {"arguments": {}}}],
            "model.turns[0].tool_call: expected {name: TOOL, arguments: {…}}",
        ),
        (
            [{"tool_calls": [{"name": "a", "arguments": [1]}]}],
            "model.turns[0].tool_calls[0].arguments: expected a mapping",
        ),
        ([{"tool_calls": []}], "model.turns[0].tool_calls: expected a non-empty list"),
    ],
)
def test_bad_turns_are_named(turns: Any, says: str) -> None:
    with pytest.raises(TurnError) as info:
        Turns.read(turns)
    assert str(info.value) == says
