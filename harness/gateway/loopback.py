"""The loopback server: the simulation over real HTTP, for agents outside the
harness's process (a command, a service, a program in another language).

One server per delivery, on ``127.0.0.1`` (in the agent's own network namespace
when it has one). Every request goes to the HTTP door, the one path every tool
call takes, and is found in one of three ways:

* **by path prefix**: ``$AQE_BASE_URL/<service>/<route>`` is
  ``https://<service>.sim/<route>`` (``/payments/v1/refunds``), and a model
  provider's name its host (``/openai/v1/chat/completions`` is
  ``api.openai.com``);
* **by ``Host`` header**: a request whose ``Host`` is a simulated host
  (``payments.sim``, ``api.stripe.com``) goes to that host;
* **as a proxy** (``HTTP_PROXY``/``HTTPS_PROXY``): an absolute URL
  (``GET http://api.stripe.com/v1/charges``), or a ``CONNECT`` tunnel to a
  simulated host, TLS ended with a certificate of the run's own authority
  (:mod:`harness.gateway.certs`). A tunnel to any other host is refused (403)
  and recorded as a blocked connection: it fails ``security``.

Simulated time moves only with the agent's requests, as it does for an
in-process agent that never sleeps: each answer carries the simulated time
(``Date``, and ``X-Aqe-Time`` in ISO 8601), a request with ``X-Aqe-Sleep:
SECONDS`` waits that long in simulated time before it is served, and ``POST
/v1/clock/sleep`` with ``{"seconds": N}`` only waits (``GET /v1/clock`` reads
the time). A call the simulation times out is a connection closed with no
answer; a reset is a TCP reset. Requests are served one at a time, in the order
they arrive: an agent that sends one request at a time gets the same trace on
every run; concurrent requests are served in arrival order, which the harness
cannot fix.
"""

from __future__ import annotations

import json
import math
import socket
import ssl
import struct
import sys
import threading
from collections.abc import Callable, Mapping
from contextlib import suppress
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from harness.errors import HarnessError, RunAborted
from harness.gateway.certs import RunAuthority
from harness.gateway.exchange import HttpReply, TransportFailure

if TYPE_CHECKING:
    from harness.gateway.http import HttpDoor
    from harness.world.clock import SimClock

#: A mounted handler (``/mcp``): the request as plain values, its answer.
Mount = Callable[[str, str, list[tuple[str, str]], bytes], HttpReply]

#: The request header that waits in simulated time before the request is served.
SLEEP_HEADER = "x-aqe-sleep"
#: The answer header that gives the simulated time.
TIME_HEADER = "X-Aqe-Time"
#: Headers of a request that are the connection's, not the call's.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        SLEEP_HEADER,
    }
)
#: Headers of an answer the server writes itself.
_OWN = frozenset({"connection", "content-length", "date", "transfer-encoding"})
#: The largest request body the server reads (a larger one is refused).
MAX_BODY = 16 * 1024 * 1024


class LoopbackServer:
    """Serves ``door`` over HTTP on ``listener`` (or on a new loopback port).

    ``authority``: the run's certificate authority, for ``CONNECT`` tunnels
    (None: tunnels are refused). ``mounts``: extra handlers by path prefix
    (``{"/mcp": ...}``). :attr:`stopped` is set when a call ended the run (the
    harness stops the agent then) and :attr:`fatal` when the gateway itself
    failed.
    """

    def __init__(
        self,
        door: HttpDoor,
        clock: SimClock,
        *,
        listener: socket.socket | None = None,
        authority: RunAuthority | None = None,
        mounts: Mapping[str, Mount] | None = None,
    ) -> None:
        self.door = door
        self.clock = clock
        self.authority = authority
        self.mounts = dict(mounts or {})
        self.prefixes = door.prefixes
        self.lock = threading.Lock()
        #: Connections accepted (the agent's own connects, for the kernel's count).
        self.accepted = 0
        #: Why a call ended the run (a ``RunAborted``), once one did.
        self.stopped: RunAborted | None = None
        #: A failure of the harness itself while serving (raised after the run).
        self.fatal: HarnessError | None = None
        if listener is None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
        self._server = _Server(self, listener)
        host, port = listener.getsockname()[:2]
        self.port = int(port)
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="aqe-loopback",
            daemon=True,
        )

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving: a request under way finishes first, then every
        connection still open is closed."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join()
        self._server.server_close()
        with self.lock:
            self.stopped = self.stopped or RunAborted("closed", "the run has ended")
        for connection in list(self._server.connections):
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- serving -------------------------------------------------------------------

    def serve(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        """One request, by the simulated clock (after the wait its
        ``X-Aqe-Sleep`` asks for); raises TransportFailure."""
        with self.lock:
            if self.stopped is not None:
                raise TransportFailure("reset", "the run has ended")
            try:
                wait = _sleep_of(headers)
                headers = [(k, v) for k, v in headers if k.lower() not in _HOP]
                if wait:
                    self.clock.advance(wait)
                return self._route(method, url, headers, body)
            except RunAborted as exc:
                self.stopped = exc
                raise TransportFailure("reset", exc.message) from None
            except HarnessError as exc:
                self.fatal = self.fatal or exc
                self.stopped = RunAborted("harness", str(exc).splitlines()[0])
                raise TransportFailure("reset", "the harness failed") from None
            except _BadSleep as exc:
                return _json_reply(400, _error("bad_sleep", str(exc)))

    def _route(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        if url.startswith("/"):
            path = url.partition("?")[0]
            for prefix, mount in self.mounts.items():
                if path == prefix or path.startswith(prefix + "/"):
                    return mount(method, url, headers, body)
            if path in ("/v1/clock", "/v1/clock/sleep"):
                return self._clock(method, path, body)
            service, _, rest = url[1:].partition("/")
            host = self.prefixes.get(service)
            if host is None:
                return _json_reply(404, _unknown_service(method, path, self.prefixes))
            url = f"https://{host}/{rest}"
        return self.door.exchange(method, url, headers, body)

    def _clock(self, method: str, path: str, body: bytes) -> HttpReply:
        if path == "/v1/clock/sleep":
            if method != "POST":
                return _json_reply(405, _error("method_not_allowed", "POST it"))
            self.clock.advance(_seconds_in(body))
        elif method != "GET":
            return _json_reply(405, _error("method_not_allowed", "GET it"))
        return _json_reply(200, self.now())

    def now(self) -> dict[str, Any]:
        """The simulated time as ``GET /v1/clock`` gives it."""
        return {"now": _iso(self.clock.epoch()), "elapsed_s": self.clock.now}

    def stamp(self) -> list[tuple[str, str]]:
        """The time headers every answer carries."""
        epoch = self.clock.epoch()
        return [
            ("Date", formatdate(epoch, usegmt=True)),
            (TIME_HEADER, _iso(epoch)),
        ]

    def tunnel(self, host: str, port: int) -> ssl.SSLContext | None:
        """The TLS context for a ``CONNECT`` to ``host``; None (and recorded as
        blocked) when the host is not simulated or tunnels are off."""
        with self.lock:
            if host in self.door.hosts and self.authority is not None:
                return self.authority.server_context(host)
            if self.stopped is None:
                self.door.gateway.block(
                    method="CONNECT", url=f"https://{host}:{port}", door="proxy"
                )
            return None


class _BadSleep(ValueError):
    pass


def _sleep_of(headers: list[tuple[str, str]]) -> float:
    for name, value in headers:
        if name.lower() == SLEEP_HEADER:
            return _seconds(value.strip(), f"{SLEEP_HEADER}: {value}")
    return 0.0


def _seconds_in(body: bytes) -> float:
    try:
        asked = json.loads(body or b"{}")
    except ValueError:
        raise _BadSleep(
            'the body is not JSON; send {"seconds": N}, N >= 0 simulated seconds'
        ) from None
    if not isinstance(asked, dict) or "seconds" not in asked:
        raise _BadSleep('send {"seconds": N}, N >= 0 simulated seconds')
    return _seconds(asked["seconds"], f"seconds: {asked['seconds']!r}")


def _seconds(value: Any, shown: str) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = math.nan
    if isinstance(value, bool) or not math.isfinite(seconds) or seconds < 0:
        raise _BadSleep(f"cannot wait {shown}: give a number of seconds, 0 or more")
    return seconds


def _iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"type": "aqe_error", "code": code, "message": message}}


def _unknown_service(
    method: str, path: str, prefixes: Mapping[str, str]
) -> dict[str, Any]:
    names = ", ".join(f"/{name}/" for name in sorted(prefixes))
    return _error(
        "unknown_service",
        f"no simulated service answers {method} {path}: the path starts with a"
        f" service's name ({names}), or /v1/clock",
    )


def _json_reply(status: int, body: dict[str, Any]) -> HttpReply:
    data = json.dumps(body).encode()
    return HttpReply(
        status=status,
        headers=(("content-type", "application/json"),),
        body=data,
    )


def _refused(message: str) -> HttpReply:
    return HttpReply(
        status=403,
        headers=(("content-type", "text/plain; charset=utf-8"),),
        body=f"{message}\n".encode(),
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, owner: LoopbackServer, listener: socket.socket) -> None:
        super().__init__(listener.getsockname()[:2], _Handler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.owner = owner
        #: The connections open now (closed when the server closes).
        self.connections: set[socket.socket] = set()

    def get_request(self) -> tuple[socket.socket, Any]:
        request = super().get_request()
        self.owner.accepted += 1
        self.connections.add(request[0])
        return request

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A failure of the server itself: the run raises it, never a traceback
        on the user's terminal (a client hanging up is no failure)."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            return
        with self.owner.lock:
            self.owner.fatal = self.owner.fatal or HarnessError(
                f"the loopback server failed on a request: {error!r}"
            )

    def shutdown_request(self, request: Any) -> None:
        self.connections.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Each answer goes out as soon as it is written (no 40 ms Nagle wait).
    disable_nagle_algorithm = True
    server: _Server
    #: The host a CONNECT tunnel leads to (requests inside it go there).
    tunnel_host: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        return  # the trace records the calls; the terminal stays quiet

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):
            return self._request
        raise AttributeError(name)

    def do_CONNECT(self) -> None:
        owner = self.server.owner
        host, _, port_text = self.path.rpartition(":")
        host = host.strip("[]").lower()
        port = int(port_text) if port_text.isdigit() else 443
        context = owner.tunnel(host, port)
        if context is None:
            self._answer(
                _refused(
                    f"aqe: blocked tunnel to {host}:{port}: only simulated hosts"
                    " are reachable during a run"
                )
            )
            self.close_connection = True
            return
        self.wfile.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        self.wfile.flush()
        try:
            inner = context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        try:
            _Tunnel(inner, self.client_address, self.server, host)
        finally:
            with suppress(OSError):
                inner.close()
        self.close_connection = True

    def _request(self) -> None:
        owner = self.server.owner
        body = self._body()
        if body is None:
            return
        try:
            reply = owner.serve(
                self.command, self._url(), list(self.headers.items()), body
            )
        except TransportFailure as failure:
            if failure.kind == "blocked":  # never sent: the proxy refuses it
                self._answer(_refused(failure.message))
            else:
                self._drop(failure.kind)
            return
        self._answer(reply)

    def _url(self) -> str:
        target = self.path
        if self.tunnel_host is not None:
            return f"https://{self.tunnel_host}{target}"
        if target.startswith(("http://", "https://")):
            parts = urlsplit(target)
            if parts.hostname in ("127.0.0.1", "localhost"):
                return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
            return target
        host = (self.headers.get("host") or "").rpartition(":")[0] or (
            self.headers.get("host") or ""
        )
        if host.lower() in self.server.owner.door.hosts:
            return f"https://{host.lower()}{target}"
        return target

    def _body(self) -> bytes | None:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            return self._chunked()
        length = self.headers.get("content-length")
        if not length:
            return b""
        if not length.isdigit() or int(length) > MAX_BODY:
            self._answer(_json_reply(400, _error("bad_length", "bad Content-Length")))
            self.close_connection = True
            return None
        return self.rfile.read(int(length))

    def _chunked(self) -> bytes | None:
        data = bytearray()
        while True:
            size_line = self.rfile.readline(1024).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                self.close_connection = True
                return None
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return bytes(data)
            data += self.rfile.read(size)
            self.rfile.readline(1024)
            if len(data) > MAX_BODY:
                self.close_connection = True
                return None

    def _answer(self, reply: HttpReply) -> None:
        """The answer in one write (one segment: no wait for a delayed ACK)."""
        owner = self.server.owner
        reason = self.responses.get(reply.status, ("",))[0]
        lines = [f"{self.protocol_version} {reply.status} {reason}"]
        lines += [
            f"{name}: {value}"
            for name, value in reply.headers
            if name.lower() not in _OWN
        ]
        lines += [f"{name}: {value}" for name, value in owner.stamp()]
        lines.append(f"Content-Length: {len(reply.body)}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if self.command == "HEAD" else head + reply.body)
        self.wfile.flush()

    def _drop(self, kind: str) -> None:
        """No answer: the connection closes (``timeout``), or is reset."""
        self.close_connection = True
        with suppress(OSError):
            self.wfile.flush()
        raw = self.connection
        if kind == "reset" and not isinstance(raw, ssl.SSLSocket):
            with suppress(OSError):
                raw.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
        with suppress(OSError):
            raw.shutdown(socket.SHUT_RDWR)


class _Tunnel(_Handler):
    """The requests inside one ``CONNECT`` tunnel, on its TLS socket."""

    def __init__(
        self, sock: ssl.SSLSocket, address: Any, server: _Server, host: str
    ) -> None:
        self.tunnel_host = host
        super().__init__(sock, address, server)
