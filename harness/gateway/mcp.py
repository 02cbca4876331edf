"""The MCP door: a run's tools served with the official ``mcp`` SDK.

The server lists exactly ``tools.specs(format="mcp")`` and runs each
``tools/call`` through ``tools.call``, the function door, so policy, faults,
contracts and history are the same as for a direct call. What a call comes to:

* an answer: ``structuredContent`` is the result object, and one text block
  holds the same JSON;
* an error status (a refusal, a decline, a rate limit, a bad argument): an
  ``isError`` result whose text says ``TOOL failed with STATUS (CODE): MESSAGE``
  and whose ``structuredContent`` is ``{"error": {"kind": "status", "status",
  "code", "message"}, "body": the service's error body}`` (``retry_after`` too
  when the service said it);
* no reliable answer (a timeout, a connection reset, a body that is not JSON):
  an ``isError`` result that says the answer never came and that the call may
  or may not have taken effect; ``structuredContent`` is ``{"error": {"kind":
  "timeout" | "connection_reset" | "malformed_response", "status",
  "message", "committed": "unknown"}}``. The server answers at once (in
  simulated time the gateway has already waited out the timeout), so a client
  is never left hanging in wall time; a client that sets its own
  ``read_timeout_seconds`` below a tool's simulated latency gets the SDK's own
  request timeout instead, on the run's clock;
* a tool the run does not have: a protocol error (``INVALID_PARAMS``,
  ``Unknown tool: ...``), as the MCP specification asks.

:func:`client_session` connects an ``mcp.ClientSession`` to the server over
the SDK's in-memory streams, in the caller's event loop (``env.mcp()``);
:func:`serve_stdio` serves it over stdin/stdout (``aqe mcp``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server
from mcp.shared.exceptions import MCPError
from mcp.shared.memory import create_client_server_memory_streams

from harness._version import __version__
from harness.errors import (
    RunAborted,
    ToolConnectionError,
    ToolError,
    ToolMalformedResponse,
    ToolTimeout,
)

#: The name the server gives itself in the MCP handshake.
SERVER_NAME = "aqe"

_AMBIGUOUS: tuple[tuple[type[ToolError], str, str], ...] = (
    (ToolTimeout, "timeout", "timed out"),
    (ToolConnectionError, "connection_reset", "lost its connection (reset)"),
    (
        ToolMalformedResponse,
        "malformed_response",
        "answered with a body that is not JSON",
    ),
)


class ToolSet(Protocol):
    """What the server needs of ``env.tools``: the run's, or its stub in the
    agent's own process (:class:`harness.isolation.child.RemoteTools`)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def specs(self, format: Any = ...) -> list[dict[str, Any]]: ...

    def call(self, name: str, /, **args: Any) -> Any: ...


def mcp_server(tools: ToolSet, instructions: str | None = None) -> Server[Any]:
    """A low-level MCP server whose tools are ``tools`` (see the module docstring);
    ``instructions``: what the handshake tells the client about the server."""
    listed = types.ListToolsResult(
        tools=[types.Tool.model_validate(spec) for spec in tools.specs(format="mcp")]
    )
    known = frozenset(tools.names)

    async def list_tools(
        ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return listed

    async def call_tool(
        ctx: Any, params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        return tool_result(tools, known, params.name, params.arguments or {})

    return Server(
        SERVER_NAME,
        version=__version__,
        instructions=instructions,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def tool_result(
    tools: ToolSet, known: frozenset[str], name: str, arguments: Mapping[str, Any]
) -> types.CallToolResult:
    """One ``tools/call`` through the function door, as an MCP result.

    ``RunAborted`` (a budget spent, the run stopped) is not a tool's answer: it
    propagates, and :func:`client_session` hands it to the agent's code.
    """
    try:
        result = tools.call(name, **arguments)
    except ToolError as exc:
        if name not in known:
            raise MCPError(code=types.INVALID_PARAMS, message=str(exc)) from None
        return error_result(name, exc)
    return types.CallToolResult(
        content=[types.TextContent(text=_json(result))], structured_content=result
    )


def error_result(name: str, exc: ToolError) -> types.CallToolResult:
    """A tool error as an ``isError`` result (see the module docstring)."""
    for kind, label, happened in _AMBIGUOUS:
        if isinstance(exc, kind):
            text = (
                f"{name} {happened}: the answer never came, so the call may or may"
                " not have taken effect"
            )
            error = {
                "kind": label,
                "status": exc.status,
                "message": text,
                "committed": "unknown",
            }
            return _error(text, {"error": error})
    body = exc.body
    detail = body.get("error")
    detail = detail if isinstance(detail, Mapping) else {}
    code = detail.get("code") or detail.get("type")
    message = detail.get("message") or _json(body)
    text = f"{name} failed with {exc.status}" + (f" ({code})" if code else "")
    text += f": {message}"
    structured: dict[str, Any] = {
        "error": {
            "kind": "status",
            "status": exc.status,
            "code": code,
            "message": str(message),
        },
        "body": body,
    }
    if exc.retry_after is not None:
        structured["retry_after"] = exc.retry_after
    return _error(text, structured)


def _error(text: str, structured: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=text)],
        structured_content=structured,
        is_error=True,
    )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


@asynccontextmanager
async def client_session(
    tools: ToolSet, **session_options: Any
) -> AsyncIterator[ClientSession]:
    """An initialized ``mcp.ClientSession`` connected to :func:`mcp_server` over
    the SDK's in-memory streams, the server running as a task of the caller's
    event loop; closed (and the server stopped) on exit.

    ``session_options`` go to ``ClientSession`` (``read_timeout_seconds``,
    ``client_info``, callbacks). A run the harness stops while the server works
    (``RunAborted``) is raised here as itself, not inside an exception group.
    """
    server = mcp_server(tools)
    leaf: BaseException | None = None
    try:
        async with (
            create_client_server_memory_streams() as (client, server_streams),
            anyio.create_task_group() as group,
        ):
            group.start_soon(
                _serve, server, server_streams[0], server_streams[1], name="aqe-mcp"
            )
            async with ClientSession(
                client[0], client[1], **session_options
            ) as session:
                await session.initialize()
                yield session
            await client[1].aclose()  # the server reads its end of input, and returns
    except BaseExceptionGroup as group_error:
        leaf = unwrapped(group_error)
        if leaf is None:
            raise
    if leaf is not None:
        # Outside the handler: the agent's own exception, as it raised it
        # (anyio's task groups wrap it twice on the way out).
        raise leaf


async def _serve(server: Server[Any], read: Any, write: Any) -> None:
    await server.run(read, write, server.create_initialization_options())


def unwrapped(group: BaseExceptionGroup[Any]) -> BaseException | None:
    """What the caller should see of ``group``: the run stopped (``RunAborted``)
    if it is in there, else its one exception; None when it holds several."""
    leaves = list(_leaves(group))
    for leaf in leaves:
        if isinstance(leaf, RunAborted):
            return leaf
    return leaves[0] if len(leaves) == 1 else None


def _leaves(error: BaseException) -> Iterator[BaseException]:
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            yield from _leaves(inner)
    else:
        yield error


async def serve_stdio(tools: ToolSet, instructions: str | None = None) -> None:
    """Serve :func:`mcp_server` over this process's stdin and stdout until the
    client closes stdin."""
    server = mcp_server(tools, instructions)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())
