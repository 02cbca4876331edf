"""Where model answers come from: record against a provider-compatible server on
127.0.0.1, replay without it (the same trace, byte for byte, and no socket
opened), a changed prompt's miss with its diff, live, and the user's own key
kept out of every file."""

from __future__ import annotations

import dataclasses
import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

from harness import run_scenario
from harness.models.source import ModelSource, choose
from harness.reporting.trace import trace_bytes
from tests.conftest import payments_scenario
from tests.models.provider_server import provider_server
from tests.models.test_providers import (
    SCENARIO,
    anthropic_agent,
    careful_model,
    openai_agent,
)

USER_KEY = "sk-user-real-key-0123456789"

#: Connections opened by this process (an audit hook cannot be removed: it
#: counts only while a test turns it on).
_CONNECTS: list[Any] = []
_COUNTING: list[bool] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _COUNTING and event == "socket.connect":
        sock = args[0]
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            _CONNECTS.append(args[1])


sys.addaudithook(_audit)


def _scenario(stream: bool, instructions: str | None = None) -> Any:
    scenario = payments_scenario(SCENARIO)
    task = dataclasses.replace(
        scenario.task,
        input={**scenario.task.input, "stream": stream},
        instructions=instructions or scenario.task.instructions,
    )
    return dataclasses.replace(scenario, task=task)


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize(
    "agent", [openai_agent, anthropic_agent], ids=["openai", "anthropic"]
)
def test_a_recorded_run_replays_byte_for_byte_without_the_provider(
    agent: Any, stream: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
    monkeypatch.setenv("ANTHROPIC_API_KEY", USER_KEY)
    cassette = tmp_path / "cassettes" / "run.jsonl"
    scenario = _scenario(stream)
    with provider_server(careful_model, key=USER_KEY) as server:
        upstream = {"openai": server.url, "anthropic": server.url}
        recorded = run_scenario(
            scenario,
            agent,
            seed=1,
            model=ModelSource(mode="record", cassette=cassette, upstream=upstream),
        )
    assert recorded.passed, recorded.failed_oracles
    assert len(server.requests) == 3  # refund, the retry after the timeout, done
    assert set(server.keys) == {USER_KEY}  # the user's key went to the provider
    assert all("stream" not in body for body in server.requests)
    lines = cassette.read_text().splitlines()
    assert len(lines) == 3

    _CONNECTS.clear()
    _COUNTING.append(True)
    try:
        replayed = run_scenario(
            scenario, agent, seed=1, model=ModelSource(mode="replay", cassette=cassette)
        )
    finally:
        _COUNTING.clear()

    assert _CONNECTS == []  # replay opens no socket
    assert replayed.passed
    assert trace_bytes(replayed) == trace_bytes(recorded)
    assert replayed.scores == recorded.scores
    for text in (cassette.read_text(), trace_bytes(recorded).decode()):
        assert USER_KEY not in text
        assert recorded.task.input["charge"] in text  # the exchange is there


def test_a_recorded_rate_limit_replays_with_its_retry_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
    cassette = tmp_path / "run.jsonl"
    with provider_server(careful_model, key=USER_KEY, rate_limited=1) as server:
        recorded = run_scenario(
            _scenario(False),
            openai_agent,
            seed=1,
            model=ModelSource(
                mode="record", cassette=cassette, upstream={"openai": server.url}
            ),
        )
    assert len(server.requests) == 4  # the 429, then the three answers
    first = json.loads(cassette.read_text().splitlines()[0])
    assert (first["status"], first["headers"]) == (429, {"retry-after": "7"})

    replayed = run_scenario(
        _scenario(False),
        openai_agent,
        seed=1,
        model=ModelSource(mode="replay", cassette=cassette),
    )

    assert replayed.passed, replayed.failed_oracles
    assert trace_bytes(replayed) == trace_bytes(recorded)
    asked = [h.time for h in replayed.world.history if h.type == "invoke"]
    assert asked[1] - asked[0] == pytest.approx(7.5)  # the answer's 0.5 s, then 7 s


def test_a_changed_prompt_has_no_recorded_answer_and_shows_the_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
    cassette = tmp_path / "run.jsonl"
    with provider_server(careful_model, key=USER_KEY) as server:
        run_scenario(
            _scenario(False),
            openai_agent,
            seed=1,
            model=ModelSource(
                mode="record", cassette=cassette, upstream={"openai": server.url}
            ),
        )

    changed = _scenario(False, instructions="Refund the charge, politely.")
    result = run_scenario(
        changed,
        openai_agent,
        seed=1,
        model=ModelSource(mode="replay", cassette=cassette),
    )

    assert not result.passed
    assert "model" in result.failed_oracles  # and the agent, which got a 500
    said = result.score("model").explanation
    head = (
        f"model: no recorded answer in {cassette} for this openai chat.completions"
        " request; the nearest recorded request differs:\n"
    )
    assert said.startswith(head)
    assert "    --- recorded\n    +++ asked\n" in said
    assert "Refund the charge, politely." in said
    assert said.endswith(
        "    fix: record the run again (--aqe-model-mode record) and review the "
        "cassette's diff, or undo the change to the prompt"
    )
    (missed,) = [h for h in result.world.history if h.f == "model_no_recorded_answer"]
    assert missed.value["error"] == said


def test_replaying_a_cassette_that_does_not_exist_says_how_to_make_it(
    tmp_path: Path,
) -> None:
    cassette = tmp_path / "none.jsonl"
    result = run_scenario(
        _scenario(False),
        openai_agent,
        seed=1,
        model=ModelSource(mode="replay", cassette=cassette),
    )

    assert result.score("model").explanation == (
        f"model: no recorded answer in {cassette} for this openai chat.completions"
        " request; there is no cassette at that path\n"
        "    fix: record it (--aqe-model-mode record), then review and commit it"
    )


def test_live_mode_asks_the_provider_and_keeps_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
    with provider_server(careful_model, key=USER_KEY) as server:
        result = run_scenario(
            _scenario(True),
            openai_agent,
            seed=1,
            model=ModelSource(mode="live", upstream={"openai": server.url}),
        )

    assert result.passed, result.failed_oracles
    assert len(server.requests) == 3
    assert list(tmp_path.iterdir()) == []


def test_record_mode_without_the_users_key_says_which_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = run_scenario(
        _scenario(False),
        openai_agent,
        seed=1,
        model=ModelSource(mode="record", cassette=tmp_path / "c.jsonl"),
    )

    assert result.score("model").explanation == (
        "model: record mode asks the real openai API, and OPENAI_API_KEY is not"
        " set\n    fix: export OPENAI_API_KEY=<your key> (it is sent to openai"
        " only, never stored), or replay a cassette"
    )


def test_a_provider_that_cannot_be_reached_is_the_runs_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = run_scenario(
        _scenario(False),
        openai_agent,
        seed=1,
        model=ModelSource(mode="live", upstream={"openai": url}),
    )

    said = result.score("model").explanation
    assert said.startswith(f"model: could not reach openai at {url}: ")
    assert said.endswith(
        "    fix: check the network and the upstream URL (--aqe-model-upstream),"
        " or replay a cassette"
    )


def test_the_default_is_the_script_then_an_existing_cassette_then_none(
    tmp_path: Path,
) -> None:
    def pick(mode: Any = None, script: Any = None) -> ModelSource | None:
        return choose(
            mode=mode,
            script=script,
            cassettes=tmp_path,
            scenario="refund_ok",
            agent="my.agents:careful",
            seed=7,
        )

    assert pick() is None
    path = tmp_path / "refund_ok" / "my.agents.careful" / "7.jsonl"
    path.parent.mkdir(parents=True)
    path.write_text("")
    replay = pick()
    assert replay is not None
    assert (replay.mode, replay.cassette) == ("replay", path)
    scripted = pick(script=careful_model)
    assert scripted is not None
    assert scripted.mode == "scripted"
    recording = pick("record", careful_model)
    assert recording is not None
    assert (recording.mode, recording.cassette) == (
        "record",
        path,
    )
