"""Cassettes: canonical keys, replay in order, a miss that explains itself, and
files read back exactly as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.errors import HarnessError
from harness.models.cassette import Cassette, Exchange, NoRecordedAnswer, request_key
from harness.models.prices import prices, tokens

ASK = {
    "model": "gpt-5",
    "messages": [{"role": "user", "content": "Refund ch_1."}],
    "temperature": 0,
}


def exchange(body: dict[str, object], answer: str) -> Exchange:
    return Exchange(
        provider="openai",
        endpoint="chat.completions",
        request=body,
        status=200,
        response={"id": answer},
    )


def test_the_key_ignores_how_the_answer_is_delivered_but_not_what_decides_it() -> None:
    key = request_key("openai", "chat.completions", ASK)
    streamed = {**ASK, "stream": True, "stream_options": {"include_usage": True}}
    assert request_key("openai", "chat.completions", streamed) == key
    assert request_key("openai", "chat.completions", dict(reversed(ASK.items()))) == key
    assert request_key("openai", "chat.completions", {**ASK, "temperature": 1}) != key
    assert request_key("openai", "responses", ASK) != key
    assert request_key("anthropic", "chat.completions", ASK) != key


def test_a_saved_cassette_replays_the_same_answers_in_order(tmp_path: Path) -> None:
    path = tmp_path / "cassettes" / "refund_ok" / "agent" / "1.jsonl"
    cassette = Cassette.load(path)
    cassette.record(exchange(ASK, "first"))
    cassette.record(exchange(ASK, "second"))
    cassette.save()

    again = Cassette.load(path)
    answers = [
        again.answer("openai", "chat.completions", ASK).response["id"] for _ in "abc"
    ]
    assert answers == ["first", "second", "second"]
    assert path.read_text() == "".join(e.to_line() + "\n" for e in again)
    assert "sk-" not in path.read_text()


def test_a_changed_prompt_is_a_miss_that_shows_the_difference(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    cassette = Cassette(path, [exchange(ASK, "first")])
    changed = {**ASK, "messages": [{"role": "user", "content": "Refund ch_2."}]}

    with pytest.raises(NoRecordedAnswer) as miss:
        cassette.answer("openai", "chat.completions", changed)

    assert str(miss.value) == (
        f"model: no recorded answer in {path} for this openai chat.completions request;"
        " the nearest recorded request differs:\n"
        "    --- recorded\n"
        "    +++ asked\n"
        "    @@ -2,5 +2,5 @@\n"
        '       "messages": [\n'
        "         {\n"
        '    -      "content": "Refund ch_1.",\n'
        '    +      "content": "Refund ch_2.",\n'
        '           "role": "user"\n'
        "         }\n"
        "    fix: record the run again (--aqe-model-mode record) and review the "
        "cassette's diff, or undo the change to the prompt"
    )


def test_a_cassette_without_that_endpoint_says_so(tmp_path: Path) -> None:
    cassette = Cassette(tmp_path / "c.jsonl", [exchange(ASK, "first")])
    with pytest.raises(
        NoRecordedAnswer, match="has no anthropic messages request at all"
    ):
        cassette.answer("anthropic", "messages", {"model": "claude-sonnet-4-5"})


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("{not json", "2: not a JSON line (Expecting property name"),
        ("[1]", "2: a recorded exchange is an object"),
        (
            '{"provider": "openai"}',
            "2: the exchange has no endpoint, request, status, response",
        ),
    ],
)
def test_a_broken_cassette_line_is_named(tmp_path: Path, line: str, says: str) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(exchange(ASK, "first").to_line() + "\n" + line + "\n")
    with pytest.raises(HarnessError) as info:
        Cassette.load(path)
    assert str(info.value).startswith(f"{path}:{says}")
    assert str(info.value).endswith(
        "    fix: record the cassette again (--aqe-model-mode record), or restore the line"
    )


def test_a_hand_edited_request_is_caught_by_its_key(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    line = json.loads(exchange(ASK, "first").to_line())
    line["request"]["temperature"] = 2
    path.write_text(json.dumps(line) + "\n")
    with pytest.raises(
        HarnessError, match=r"c.jsonl:1: the key does not match the request"
    ):
        Cassette.load(path)


def test_prices_cover_dated_names_and_say_none_for_unknown_models() -> None:
    table = prices()
    assert table.cost("gpt-5", 1_000_000, 1_000_000) == 11.25
    # the shipped agents' models, from the harness's own table (never genai-prices)
    assert table.cost("gpt-6.1-sol", 1_000_000, 1_000_000) == 12.0
    assert table.cost("gpt-6.1-terra", 1_000_000, 1_000_000) == 6.0
    assert table.cost("gpt-4o-2024-08-06", 1000, 500) == table.cost("gpt-4o", 1000, 500)
    assert table.cost("gpt-4o-mini-2024-07-18", 10, 0) == table.cost(
        "gpt-4o-mini", 10, 0
    )
    assert table.cost("claude-sonnet-4-5-20250929", 2000, 100) == 0.0075
    assert table.cost("my-local-llama", 1000, 1000) is None
    assert table.checked == "2026-12-04"


def test_tokens_read_each_wire_format() -> None:
    assert tokens("chat.completions", {"prompt_tokens": 9, "completion_tokens": 3}) == (
        9,
        3,
    )
    assert tokens("messages", {"input_tokens": 9, "output_tokens": 3}) == (9, 3)
    assert tokens("responses", {"input_tokens": 1, "output_tokens": 2}) == (1, 2)
    assert tokens("messages", None) == (0, 0)
