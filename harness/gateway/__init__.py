"""The gateway: one path for every tool call, behind an HTTP and a function door.

Names load on first use: an agent's fork server imports the client doors and the
exchange types from here (:mod:`harness.isolation.child`), never the gateway's
core, the fakes or the fault plan, which only the harness's side runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness._lazy import lazy

if TYPE_CHECKING:
    from harness.gateway.core import Gateway, ToolRequest, ToolResponse, Transport
    from harness.gateway.http import HttpDoor
    from harness.gateway.tools import Tools, tool_spec

_EXPORTS = {
    "Gateway": "harness.gateway.core",
    "HttpDoor": "harness.gateway.http",
    "ToolRequest": "harness.gateway.core",
    "ToolResponse": "harness.gateway.core",
    "Tools": "harness.gateway.tools",
    "Transport": "harness.gateway.core",
    "tool_spec": "harness.gateway.tools",
}

__all__ = [
    "Gateway",
    "HttpDoor",
    "ToolRequest",
    "ToolResponse",
    "Tools",
    "Transport",
    "tool_spec",
]


_load = lazy(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    return _load(name)
