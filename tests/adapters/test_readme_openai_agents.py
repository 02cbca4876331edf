"""The README's OpenAI Agents SDK agent, as written, passes with the README's turns."""

from __future__ import annotations

import pytest

from tests.models.test_readme_llm import assert_refunded_once, run_readme_agent

pytest.importorskip(
    "agents",
    reason="the openai-agents extra is not installed (aqe-harness[openai-agents])",
)


def test_the_readme_agents_sdk_agent_passes() -> None:
    result = run_readme_agent("from agents import Agent, Runner\n")

    assert_refunded_once(result)
    assert [h.f for h in result.world.history if h.type == "invoke"][-1] == (
        "ingest_traces"
    )
