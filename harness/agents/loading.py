"""Resolve ``module:callable`` into the agent under test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.errors import AgentLoadError
from harness.source.callables import load_callable

AgentCallable = Callable[..., Any]


def load_agent(spec: str) -> AgentCallable:
    """Import ``package.module:callable`` (the current directory is importable)."""
    return load_callable(
        spec,
        what="agent",
        example="--aqe-agent harness.agents.reference:careful_refund_agent",
        error=AgentLoadError,
    )
