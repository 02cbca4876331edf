"""The README's sh-and-curl agent, as written, passes the ambiguous timeout, and
the same script without its idempotency key fails it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.agents.loading import load_agent
from harness.run import RunResult, run_scenario
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT

pytestmark = pytest.mark.skipif(
    shutil.which("curl") is None, reason="curl is not installed here"
)


def readme_script() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("```sh\n#!/bin/sh\n") + len("```sh\n")
    return text[start : text.index("```", start)]


def _run(script: str, tmp_path: Path) -> RunResult:
    path = tmp_path / "agent.sh"
    path.write_text(script)
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ambiguous_timeout.yaml")
    return run_scenario(scenario, load_agent(f"cmd:sh {path}"), seed=9)


def test_the_readme_shell_agent_passes_the_ambiguous_timeout(tmp_path: Path) -> None:
    result = _run(readme_script(), tmp_path)
    assert result.passed, result.output
    assert result.agent_result is not None
    assert result.agent_result.summary.startswith("refunded 1200 on ch_")


def test_without_its_key_the_readme_shell_agent_refunds_twice(tmp_path: Path) -> None:
    keyless = readme_script().replace(' -H "Idempotency-Key: refund-$charge"', "")
    assert keyless != readme_script()
    result = _run(keyless, tmp_path)
    assert "idempotency" in result.failed_oracles
