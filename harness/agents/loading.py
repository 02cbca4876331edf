"""Resolve ``module:callable`` into the agent under test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from harness.errors import AgentLoadError
from harness.runtime.outside import CommandAgent, ServiceAgent
from harness.source.callables import load_callable

AgentCallable = Callable[..., Any]


def load_agent(spec: str) -> AgentCallable:
    """Import ``package.module:callable`` (the current directory is importable);
    ``cmd:COMMAND`` is a command agent, ``http://HOST:PORT/PATH`` a service
    agent (:mod:`harness.runtime.outside`)."""
    if spec.startswith("cmd:"):
        command = spec[4:].strip()
        if not command:
            raise AgentLoadError(
                "cannot read agent 'cmd:': no command after 'cmd:'\n"
                "    fix: e.g. --aqe-agent 'cmd:node agents/refund.mjs'"
            )
        return CommandAgent(command=command)
    if spec.startswith(("http://", "https://")):
        parts = urlsplit(spec)
        if not parts.hostname:
            raise AgentLoadError(
                f"cannot read agent service {spec!r}: no host in the URL\n"
                "    fix: e.g. --aqe-agent http://127.0.0.1:8080/run"
            )
        try:
            parts.port  # noqa: B018 (a bad port raises here)
        except ValueError as exc:
            raise AgentLoadError(
                f"cannot read agent service {spec!r}: {exc}\n"
                "    fix: e.g. --aqe-agent http://127.0.0.1:8080/run"
            ) from None
        return ServiceAgent(url=spec)
    return load_callable(
        spec,
        what="agent",
        example="--aqe-agent harness.agents.reference:careful_refund_agent",
        error=AgentLoadError,
    )
