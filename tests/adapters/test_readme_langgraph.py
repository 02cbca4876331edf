"""The README's LangGraph agent, as written, passes with the README's turns."""

from __future__ import annotations

import re
import textwrap
from typing import Any

import pytest

from harness import run_scenario
from harness.models.turns import Turns
from harness.scenario.loader import parse_scenario
from tests.conftest import PAYMENTS, ROOT

pytest.importorskip(
    "langgraph", reason="the langgraph extra is not installed (aqe-harness[langgraph])"
)


def test_the_readme_langgraph_agent_passes() -> None:
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(
        r"```python\n(from langchain_openai import ChatOpenAI\n.*?)```", text, re.S
    )
    (turns,) = re.findall(r"```yaml\n(\s*model:\n\s*turns:.*?)```", text, re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    source = (PAYMENTS / "refund_ok.yaml").read_text() + textwrap.dedent(turns)
    scenario = parse_scenario(source, PAYMENTS / "refund_ok.yaml")
    assert scenario.model is not None
    assert scenario.model.turns is not None

    result = run_scenario(
        scenario, namespace["agent"], seed=3, model=Turns(scenario.model.turns)
    )

    assert result.passed, result.scores
    assert result.agent_result is not None
    assert result.agent_result.summary == "Refunded."
    assert [e.operation for e in result.world.ledger] == ["create_refund"]
