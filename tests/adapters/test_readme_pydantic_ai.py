"""The README's Pydantic AI agent, as written, passes with the README's turns."""

from __future__ import annotations

import pytest

from tests.models.test_readme_llm import assert_refunded_once, run_readme_agent

pytest.importorskip(
    "pydantic_ai",
    reason="the pydantic-ai extra is not installed (aqe-harness[pydantic-ai])",
)


def test_the_readme_pydantic_ai_agent_passes() -> None:
    result = run_readme_agent("from pydantic_ai import Agent\n")

    assert_refunded_once(result)
