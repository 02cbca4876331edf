"""The MCP door over streamable HTTP: :func:`harness.gateway.mcp.mcp_server`
behind the official SDK's streamable HTTP transport, one HTTP exchange at a time.

:class:`McpHttp` takes a request as plain values and gives back an
:class:`~harness.gateway.exchange.HttpReply`, so any HTTP server can mount it:
the run's loopback server at ``/mcp``, ``aqe mcp --http``
(:class:`McpHttpServer`). The server is the SDK's
``StreamableHTTPSessionManager`` in its **stateless, JSON** mode: each POST is
one JSON-RPC message answered as ``application/json`` (a notification with
``202``), no ``Mcp-Session-Id`` is issued, so ``DELETE`` answers ``405``, and
``GET`` (a stream for messages the server starts, of which a simulation has
none) answers ``405`` too, as the specification allows. The handshake era
(``initialize``, 2024-11-05 to 2025-11-25) and the 2026 per-request era both
work; a client may skip ``initialize``.

Each exchange runs the SDK's ASGI app to completion on a fresh event loop of
its own, in the calling thread: the tool call inside it (``tools.call``, the
function door: policy, faults, contracts, history) runs there too, before
:meth:`McpHttp.exchange` returns, so calls reach the gateway one at a time in
the order the exchanges come (callers serialize exchanges; :class:`McpHttp`
holds a lock as well). The loop keeps wall time whatever the thread: no timer
of the transport can fire on the run's simulated clock.

What a call comes to is :mod:`harness.gateway.mcp`'s: an answer, an ``isError``
result for an error status, an ``isError`` result answered at once for a
timeout (the gateway has already waited it out in simulated time, so a client's
HTTP read timeout never fires on a tool's simulated latency), a protocol error
for an unknown tool. A run the harness stops during a call (``RunAborted``: a
budget spent) is raised out of :meth:`McpHttp.exchange` as itself; the server
answers the client with :func:`stopped_reply`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import anyio
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import INTERNAL_ERROR, INVALID_REQUEST
from starlette.types import Message, Receive

from harness.errors import RunAborted
from harness.gateway.exchange import HttpReply
from harness.gateway.mcp import ToolSet, mcp_server, unwrapped

#: Where :class:`McpHttpServer` (and the run's loopback server) serve MCP.
MCP_PATH = "/mcp"

#: Host and Origin values a request may carry: loopback only, any port, so a web
#: page elsewhere cannot reach the run's tools (DNS rebinding).
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_SECURITY = TransportSecuritySettings(
    enable_dns_rebinding_protection=True,
    allowed_hosts=[f"{host}:*" for host in _LOOPBACK] + list(_LOOPBACK),
    allowed_origins=[f"http://{host}:*" for host in _LOOPBACK]
    + [f"http://{host}" for host in _LOOPBACK],
)


class McpHttp:
    """The run's tools over MCP streamable HTTP, one exchange at a time (see the
    module docstring); ``instructions``: what the handshake tells the client."""

    def __init__(self, tools: ToolSet, instructions: str | None = None) -> None:
        self._server = mcp_server(tools, instructions)
        self._lock = threading.Lock()

    def exchange(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        """Answer one HTTP request (``path`` with its query, if any), from a
        thread with no event loop running (a server's request thread); raises
        ``RunAborted`` when the harness stops the run during a tool call."""
        if method.upper() == "GET":
            return _json_reply(
                405,
                _rpc_error(INVALID_REQUEST, "Method Not Allowed: no server stream"),
                allow="POST",
            )
        scope = _scope(method.upper(), path, headers)
        with self._lock, asyncio.Runner(loop_factory=_wall_clock_loop) as runner:
            return runner.run(self._answer(scope, body))

    async def _answer(self, scope: dict[str, Any], body: bytes) -> HttpReply:
        manager = StreamableHTTPSessionManager(
            self._server,
            json_response=True,
            stateless=True,
            security_settings=_SECURITY,
        )
        reply = _Collected()
        try:
            async with manager.run():
                await manager.handle_request(scope, reply.receive(body), reply.send)
        except BaseExceptionGroup as group:
            leaf = unwrapped(group)
            if leaf is None:
                raise
            raise leaf from None
        return reply.reply()


def stopped_reply(exc: RunAborted) -> HttpReply:
    """What the client hears when the harness stopped the run during its call:
    ``503`` and a JSON-RPC error that says why."""
    message = f"the harness stopped the run ({exc.reason}): {exc.message}"
    return _json_reply(503, _rpc_error(INTERNAL_ERROR, message))


class _Collected:
    """One ASGI exchange: the request body in, the response start and body out."""

    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: tuple[tuple[str, str], ...] = ()
        self.chunks: list[bytes] = []
        self.done = anyio.Event()

    def receive(self, body: bytes) -> Receive:
        sent = False

        async def receive() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await self.done.wait()  # the client hangs up once it has the answer
            return {"type": "http.disconnect"}

        return receive

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = int(message["status"])
            self.headers = tuple(
                (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                for k, v in message.get("headers", ())
            )
        elif message["type"] == "http.response.body":
            self.chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False):
                self.done.set()

    def reply(self) -> HttpReply:
        if self.status is None:  # the SDK always answers; this is a guard
            return _json_reply(500, _rpc_error(INTERNAL_ERROR, "no response"))
        return HttpReply(
            status=self.status, headers=self.headers, body=b"".join(self.chunks)
        )


def _scope(method: str, path: str, headers: list[tuple[str, str]]) -> dict[str, Any]:
    """The ASGI HTTP scope of a request that came in as plain values."""
    parts = urlsplit(path)
    target = parts.path or "/"
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": target,
        "raw_path": target.encode("latin-1", "replace"),
        "query_string": parts.query.encode("latin-1", "replace"),
        "root_path": "",
        "headers": [
            (k.lower().encode("latin-1"), v.encode("latin-1", "replace"))
            for k, v in headers
        ],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
        "state": {},
    }


def _wall_clock_loop() -> asyncio.AbstractEventLoop:
    """A plain event loop, whatever loop policy a run installed, on wall time even
    in a thread whose ``time.monotonic`` is the run's clock."""
    loop = asyncio.SelectorEventLoop()
    loop.time = time.perf_counter  # type: ignore[method-assign]
    return loop


def _rpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


def _json_reply(status: int, body: dict[str, Any], *, allow: str = "") -> HttpReply:
    data = json.dumps(body).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(data)))]
    if allow:
        headers.append(("allow", allow))
    return HttpReply(status=status, headers=tuple(headers), body=data)


class McpHttpServer:
    """:class:`McpHttp` at ``http://127.0.0.1:PORT/mcp`` (``port`` 0: a free one),
    serving in threads of its own, one exchange at a time, until :meth:`close`.

    A run the harness stops during a call ends the serving: the client hears
    :func:`stopped_reply`, :attr:`stopped` holds why, and :meth:`wait` returns.
    """

    def __init__(self, handler: McpHttp, *, port: int = 0) -> None:
        self.handler = handler
        self.stopped: RunAborted | None = None
        self._ended = threading.Event()
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", port), _handler_class(self))
        self._http.daemon_threads = True
        # serve_forever checks for shutdown between polls: at its default 0.5 s
        # every close waited half a second (the loopback server's interval)
        self._thread = threading.Thread(
            target=self._http.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="aqe-mcp-http",
            daemon=True,
        )

    @property
    def url(self) -> str:
        """The MCP endpoint."""
        return f"http://127.0.0.1:{self._http.server_address[1]}{MCP_PATH}"

    def start(self) -> McpHttpServer:
        """Start serving; returns the server."""
        self._thread.start()
        return self

    def wait(self) -> None:
        """Until the harness stops the run (``KeyboardInterrupt`` ends it early)."""
        while not self._ended.wait(0.2):
            pass

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread.is_alive():
            self._http.shutdown()
            self._thread.join()
        self._http.server_close()

    def exchange(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        """One request, under the server's lock (the gateway takes one at a time)."""
        if urlsplit(path).path != MCP_PATH:
            message = f"no MCP endpoint at {path}; it is at {MCP_PATH}"
            return _json_reply(404, _rpc_error(INVALID_REQUEST, message))
        with self._lock:
            if self.stopped is not None:
                return stopped_reply(self.stopped)
            try:
                return self.handler.exchange(method, path, headers, body)
            except RunAborted as exc:
                self.stopped = exc
                self._ended.set()
                return stopped_reply(exc)


@contextmanager
def serving(handler: McpHttp, *, port: int = 0) -> Iterator[McpHttpServer]:
    """``with serving(McpHttp(tools)) as server``: :class:`McpHttpServer`, started,
    closed on exit."""
    server = McpHttpServer(handler, port=port).start()
    try:
        yield server
    finally:
        server.close()


def _handler_class(server: McpHttpServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = self.headers.get("content-length") or "0"
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                message = "a chunked body; send it with a Content-Length"
                reply = _json_reply(411, _rpc_error(INVALID_REQUEST, message))
                self.close_connection = True
            elif not length.isdigit():
                message = f"Content-Length {length!r} is not a number of bytes"
                reply = _json_reply(400, _rpc_error(INVALID_REQUEST, message))
                self.close_connection = True
            else:
                body = self.rfile.read(int(length))
                reply = server.exchange(
                    self.command, self.path, list(self.headers.items()), body
                )
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if not any(n.lower() == "content-length" for n, _ in reply.headers):
                self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        do_POST = do_GET = do_DELETE = do_PUT = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: stderr carries the verdict, not an access log."""

    return Handler
