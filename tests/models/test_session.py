"""Models in a pytest session: ``--aqe-model``, a scenario's ``model:`` (a script
or turns), ``--aqe-model-mode record`` against a provider-compatible server on
127.0.0.1 and the replay that follows without it, and the errors a user sees."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.run import run_seed
from tests.conftest import copy_payments
from tests.models.provider_server import provider_server
from tests.models.test_providers import careful_model

AGENT = "tests.models.test_providers:openai_agent"
CAREFUL = "tests.models.test_providers:careful_model"
NAIVE = "tests.models.test_providers:naive_model"
TARGET = "scenarios/payments/refund_ambiguous_timeout.yaml"
USER_KEY = "sk-user-real-key-0123456789"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    return copy_payments(pytester)


def test_aqe_model_answers_the_sessions_model_calls(project: pytest.Pytester) -> None:
    careful = project.runpytest(
        TARGET, f"--aqe-agent={AGENT}", f"--aqe-model={CAREFUL}", "--aqe-isolation=none"
    )
    careful.assert_outcomes(passed=1)

    naive = project.runpytest(
        TARGET, f"--aqe-agent={AGENT}", f"--aqe-model={NAIVE}", "--aqe-isolation=none"
    )

    naive.assert_outcomes(failed=1)
    naive.stdout.fnmatch_lines(
        [
            "*idempotency*",
            f"*reproduce: pytest {TARGET} --aqe-agent {AGENT} --aqe-seed 0 "
            f"--aqe-model {NAIVE}",
        ]
    )


def _with_model(project: pytest.Pytester, model: str) -> Path:
    path = project.path / TARGET
    path.write_text(path.read_text() + model)
    return path


def test_a_scenarios_own_model_is_its_script_or_its_turns(
    project: pytest.Pytester,
) -> None:
    _with_model(project, f"model:\n  script: {CAREFUL}\n")
    project.runpytest(TARGET, f"--aqe-agent={AGENT}").assert_outcomes(passed=1)

    # --aqe-model wins over the scenario's own
    overridden = project.runpytest(
        TARGET, f"--aqe-agent={AGENT}", f"--aqe-model={NAIVE}"
    )
    overridden.assert_outcomes(failed=1)

    ok = project.path / "scenarios" / "payments" / "refund_ok.yaml"
    ok.write_text(
        ok.read_text()
        + "model:\n  turns:\n"
        + "    - tool_call: {name: create_refund, arguments:"
        + " {charge: $charge.id, amount: 1500, idempotency_key: k-1}}\n"
        + "    - text: Refunded.\n"
    )
    turns = project.runpytest(
        "scenarios/payments/refund_ok.yaml",
        f"--aqe-agent={AGENT}",
        "--aqe-isolation=none",
    )
    turns.assert_outcomes(passed=1)


def test_a_scenarios_script_that_does_not_import_names_its_line(
    project: pytest.Pytester,
) -> None:
    path = _with_model(project, "model:\n  script: no_such_module:model\n")
    line = len(path.read_text().splitlines())

    result = project.runpytest(TARGET, f"--aqe-agent={AGENT}", "--aqe-isolation=none")

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            f"aqe: {path}:{line}: model.script: cannot import scripted model module"
            " 'no_such_module': No module named 'no_such_module'",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_a_bad_model_option_is_a_clear_error(project: pytest.Pytester) -> None:
    result = project.runpytest(
        TARGET, f"--aqe-agent={AGENT}", "--aqe-model=gpt-5", "--aqe-isolation=none"
    )

    result.stdout.fnmatch_lines(
        [
            "aqe: cannot read scripted model 'gpt-5': expected 'module:callable'",
            "    fix: e.g. --aqe-model harness.agents.llm_refunds:careful_model",
        ]
    )
    upstream = project.runpytest(
        TARGET, f"--aqe-agent={AGENT}", "--aqe-model-upstream=openai:8080"
    )
    upstream.stderr.fnmatch_lines(
        [
            "*--aqe-model-upstream 'openai:8080': expected PROVIDER=URL, PROVIDER"
            " openai or anthropic",
        ]
    )


@pytest.mark.parametrize("isolation", ["none", "process"])
def test_a_recorded_session_replays_without_the_provider(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, isolation: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", USER_KEY)
    args = [TARGET, f"--aqe-agent={AGENT}", f"--aqe-isolation={isolation}"]
    with provider_server(careful_model, key=USER_KEY) as server:
        recorded = project.runpytest(
            *args,
            "--aqe-model-mode=record",
            f"--aqe-model-upstream=openai={server.url}",
        )
    recorded.assert_outcomes(passed=1)
    assert len(server.requests) == 3
    seed = run_seed(0, "refund_ambiguous_timeout")
    cassette = (
        project.path
        / "scenarios/payments/cassettes/refund_ambiguous_timeout"
        / "tests.models.test_providers.openai_agent"
        / f"{seed}.jsonl"
    )
    assert len(cassette.read_text().splitlines()) == 3
    first = _trace(project)

    replayed = project.runpytest(*args)  # the cassette exists: replay

    replayed.assert_outcomes(passed=1)
    assert _trace(project) == first
    for path in project.path.rglob("*"):
        if path.is_file():
            assert USER_KEY.encode() not in path.read_bytes(), path


def _trace(project: pytest.Pytester) -> bytes:
    records = (project.path / "reports/latest/results.jsonl").read_text().splitlines()
    (record,) = [json.loads(line) for line in records]
    trace: Any = project.path / "reports/latest" / record["trace"]
    return trace.read_bytes()  # type: ignore[no-any-return]
