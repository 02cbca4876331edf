"""Every model input a user writes gets a clear error: what, where, the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ScenarioError
from harness.models.source import ModelSource, ModelSourceError
from harness.scenario.loader import parse_scenario

HEAD = "name: m\nrationale: r\ntask:\n  instructions: hi\n  input: {}\n"


def _problems(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(HEAD + text, "m.yaml")
    return str(info.value)


def test_a_bad_ini_model_mode_is_a_usage_error_that_says_the_fix(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeini("[pytest]\naqe_model_mode = replayed\n")

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: ini aqe_model_mode = 'replayed': not a model mode",
            "    fix: aqe_model_mode = one of scripted, replay, record, live",
        ]
    )
    assert "Traceback" not in result.stderr.str()


def test_a_bad_ini_upstream_url_names_the_ini_key(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naqe_model_upstreams =\n    openai=127.0.0.1:8080\n")

    result = pytester.runpytest()

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: ini aqe_model_upstreams 'openai=127.0.0.1:8080':"
            " '127.0.0.1:8080' is not an http(s) URL",
            "    fix: e.g. openai=http://127.0.0.1:8080",
        ]
    )


def test_a_script_that_is_not_module_callable_is_named_by_line() -> None:
    assert _problems("model:\n  script: gpt-5\n") == (
        "m.yaml:7:11: model.script: invalid scripted model 'gpt-5'\n"
        "    fix: write MODULE:CALLABLE (e.g. harness.agents.llm_refunds:careful_model)"
    )


def test_turns_that_cannot_be_read_are_each_named_by_line() -> None:
    text = (
        "model:\n"
        "  script: a.b:c\n"
        "  turns:\n"
        "    - {text: hi, tool_call: {name: x}}\n"
        "    - {tool_call: {arguments: {}}}\n"
        "    - {say: hi}\n"
    )

    assert _problems(text).splitlines() == [
        "m.yaml:8:3: model: a model is a script or turns, not both",
        "    fix: keep script: MODULE:CALLABLE, or the turns written as data",
        "m.yaml:9:18: model.turns[0]: a turn is one answer: text or tool_call, not"
        " both",
        "    fix: split it into turns, one per model call (text may go with"
        " tool_calls)",
        "m.yaml:10:8: model.turns[1].tool_call: missing required key 'name'",
        "    fix: add 'name'",
        "m.yaml:11:8: model.turns[2]: unknown key 'say'",
        "    fix: valid keys: body, text, tool_call, tool_calls",
    ]


@pytest.mark.parametrize(
    ("given", "said"),
    [
        (
            {"mode": "replayed"},
            "model mode 'replayed': expected one of scripted, replay, record, live",
        ),
        (
            {"mode": "scripted"},
            "model: scripted mode needs a scripted model, script(call) -> dict\n"
            "    fix: --aqe-model MODULE:CALLABLE, or the scenario's model:"
            " {script: MODULE:CALLABLE} or {turns: [...]}",
        ),
        (
            {"mode": "replay"},
            "model: replay mode needs a cassette file\n"
            "    fix: give ModelSource(cassette=PATH)",
        ),
        (
            {"mode": "live", "upstream": {"openai": "localhost:8080"}},
            "model upstream openai='localhost:8080': expected an http(s) URL\n"
            "    fix: e.g. openai=http://127.0.0.1:8080",
        ),
    ],
    ids=["mode", "no_script", "no_cassette", "upstream"],
)
def test_a_model_source_made_wrong_from_python_says_how(
    given: dict[str, object], said: str
) -> None:
    with pytest.raises(ModelSourceError) as info:
        ModelSource(**given)  # type: ignore[arg-type]

    assert str(info.value) == said


def test_a_cassette_line_edited_by_hand_is_named_by_file_and_line(
    tmp_path: Path,
) -> None:
    from harness.errors import HarnessError
    from harness.models.cassette import Cassette

    path = tmp_path / "c.jsonl"
    path.write_text('{"provider": "openai"}\n')

    with pytest.raises(HarnessError) as info:
        Cassette.load(path)

    assert str(info.value) == (
        f"{path}:1: the exchange has no endpoint, request, status, response\n"
        "    fix: record the cassette again (--aqe-model-mode record), or restore"
        " the line"
    )


def test_replaying_a_scenario_made_in_python_says_where_cassettes_go() -> None:
    from harness.models.source import choose

    with pytest.raises(ModelSourceError) as info:
        choose(
            mode="replay",
            script=None,
            cassettes=None,
            scenario="s",
            agent="a:b",
            seed=1,
        )

    assert str(info.value) == (
        "model: replay mode needs the scenario's cassette folder, and scenario 's'"
        " has no file to put it beside\n"
        "    fix: load the scenario from a file, or run it from Python with"
        " model=ModelSource(mode=..., cassette=PATH)"
    )
