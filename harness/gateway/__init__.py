"""The gateway: one path for every tool call, behind an HTTP and a function door."""

from __future__ import annotations

from harness.gateway.core import Gateway, ToolRequest, ToolResponse, Transport
from harness.gateway.http import HttpDoor
from harness.gateway.tools import Tools, tool_spec

__all__ = [
    "Gateway",
    "HttpDoor",
    "ToolRequest",
    "ToolResponse",
    "Tools",
    "Transport",
    "tool_spec",
]
