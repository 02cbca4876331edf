"""The README's LangGraph agent, as written, passes with the README's turns."""

from __future__ import annotations

import pytest

from tests.models.test_readme_llm import assert_refunded_once, run_readme_agent

pytest.importorskip(
    "langgraph", reason="the langgraph extra is not installed (aqe-harness[langgraph])"
)


def test_the_readme_langgraph_agent_passes() -> None:
    result = run_readme_agent("from langchain_openai import ChatOpenAI\n")

    assert_refunded_once(result)
