"""The README's LLM agent, as written, passes with the README's turns."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest

from harness import run_scenario
from harness.models.turns import Turns
from harness.run import RunResult
from harness.scenario.loader import parse_scenario
from tests.conftest import PAYMENTS, ROOT


def run_readme_agent(first_lines: str) -> RunResult:
    """Run the README's Python block that starts with ``first_lines`` (its
    ``agent``) on ``refund_ok`` with the README's scripted turns."""
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(rf"```python\n({re.escape(first_lines)}.*?)```", text, re.S)
    (turns,) = re.findall(r"```yaml\n(\s*model:\n\s*turns:.*?)```", text, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    source = (PAYMENTS / "refund_ok.yaml").read_text() + textwrap.dedent(turns)
    scenario = parse_scenario(source, PAYMENTS / "refund_ok.yaml")
    assert scenario.model is not None
    assert scenario.model.turns is not None
    return run_scenario(
        scenario, namespace["agent"], seed=3, model=Turns(scenario.model.turns)
    )


def assert_refunded_once(result: RunResult) -> None:
    assert result.passed, result.scores
    assert result.agent_result is not None
    assert result.agent_result.summary == "Refunded."
    assert [e.operation for e in result.world.ledger] == ["create_refund"]


def test_the_readme_llm_agent_passes_with_the_readme_turns() -> None:
    pytest.importorskip("openai")
    assert_refunded_once(run_readme_agent("import json\nimport openai\n"))
