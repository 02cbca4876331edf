"""The agent's side of an isolated run: what runs in the agent's own process.

The process holds no world, gateway, ledger, history or oracle: only the agent,
the task, its credential and *door stubs*. Every HTTP request (from any httpx
client), every function-tool call and every wait on the clock goes over the
run's socket to the harness, which answers from the real gateway and the run's
clock. Whatever the agent does here (patching our modules, forging results,
erasing state) changes nothing the harness recorded.

Network attempts below the doors are refused here by an audit hook (PEP 578: it
fires in C, so ``_socket`` used directly, any thread and ``sendto`` without a
connect are seen; it cannot be removed), recorded through the harness, and
stopped again by the kernel: the process lives in a network namespace with only
its own loopback. A host ``--aqe-allow-host`` allows is looked up and connected
to by the harness, which checks the address itself and hands the connected
socket over (``SCM_RIGHTS``); it takes the place of the agent's own socket.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import json
import os
import re
import resource
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import httpx

from harness.errors import (
    RunAborted,
    ToolConnectionError,
    ToolError,
    ToolMalformedResponse,
    ToolTimeout,
)
from harness.gateway.allow import AllowedHosts
from harness.gateway.doors.httpx import router
from harness.gateway.exchange import FailureKind, HttpReply, TransportFailure
from harness.isolation import wire
from harness.runtime.caught import capture_warnings
from harness.runtime.env import AgentEnv, AgentResult, Identity, Task
from harness.runtime.sandbox import address_text, sandbox
from harness.runtime.session import (
    client_options,
    deliver,
    model_keys,
    threads_left,
    tls_context,
)

_TOOL_ERRORS = {
    "ToolTimeout": ToolTimeout,
    "ToolConnectionError": ToolConnectionError,
}
_UNIX = getattr(socket, "AF_UNIX", -1)
#: How many newly imported modules a run reports to its fork server.
MAX_WARM = 2000
_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
#: Taken before any agent code runs: the agent may replace ``os._exit``.
_exit = os._exit


class Channel:
    """The run's socket to the harness: one request and its answer at a time."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        #: The run's clock, as of the harness's last answer.
        self.now = 0.0

    def call(self, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            wire.send(self._sock, message)
            reply = wire.recv(self._sock)
        return self._noted(reply)

    def _noted(self, reply: dict[str, Any]) -> dict[str, Any]:
        now = reply.get("now")
        if isinstance(now, float):
            self.now = now
        abort = reply.get("abort")
        if isinstance(abort, dict):
            raise RunAborted(str(abort.get("reason")), str(abort.get("message")))
        return reply

    def send(self, message: dict[str, Any]) -> None:
        with self._lock:
            wire.send(self._sock, message)

    def wait(self) -> dict[str, Any]:
        # Under the lock: a thread of the agent's that calls while the harness is
        # not serving waits for the harness's next message, and never reads it.
        with self._lock:
            message = wire.recv(self._sock)
        now = message.get("now")
        if isinstance(now, float):
            self.now = now
        return message

    def block(self, *, method: str, url: str, door: str) -> None:
        self.call({"op": "block", "method": method, "url": url, "door": door})

    def connect(self, sock: socket.socket, address: Any, /) -> None:
        """Have the harness connect ``sock`` to an allowed ``address``: its socket
        takes the place of ``sock`` (same blocking mode and timeout)."""
        request = {
            "op": "connect",
            "family": int(sock.family),
            "host": address[0],
            "port": address[1],
        }
        fds: list[int] = []
        with self._lock:
            wire.send(self._sock, request)
            reply = wire.recv(self._sock)
            if reply.get("fd") is True:
                _, fds, _, _ = socket.recv_fds(self._sock, 1, 1)
        try:
            self._noted(reply)
            if not fds:
                code = reply.get("errno")
                raise OSError(
                    code if isinstance(code, int) else errno.ECONNREFUSED,
                    str(reply.get("message")),
                )
            timeout = sock.gettimeout()
            os.dup2(fds[0], sock.fileno(), inheritable=sock.get_inheritable())
            sock.settimeout(timeout)
        finally:
            for fd in fds:
                os.close(fd)

    def resolve(
        self,
        host: Any,
        port: Any,
        family: int = 0,
        type: int = 0,
        proto: int = 0,
        flags: int = 0,
    ) -> list[tuple[Any, ...]]:
        """``socket.getaddrinfo`` of an allowed host, as the harness sees it."""
        reply = self.call(
            {
                "op": "resolve",
                "host": host.decode("idna") if isinstance(host, bytes) else host,
                "port": port.decode() if isinstance(port, bytes) else port,
                "family": int(family),
                "type": int(type),
                "proto": int(proto),
                "flags": int(flags),
            }
        )
        if "gaierror" in reply:
            raise socket.gaierror(reply["gaierror"], str(reply.get("message")))
        return [
            (
                _enum(socket.AddressFamily, f),
                _enum(socket.SocketKind, t),
                p,
                c,
                tuple(a),
            )
            for f, t, p, c, a in reply["found"]
        ]

    def started(self, *, via: str, argv: list[str]) -> None:
        self.call({"op": "started", "via": via, "argv": argv})


def _enum(kind: Any, value: int) -> Any:
    """``value`` as ``getaddrinfo`` gives it: the enum member, else the number."""
    try:
        return kind(value)
    except ValueError:
        return value


class RemoteClock:
    """The run's clock, mirrored: reads are local, waits are the harness's."""

    def __init__(self, channel: Channel, *, epoch: float, monotonic: float) -> None:
        self._channel = channel
        self._epoch, self._monotonic = epoch, monotonic

    @property
    def now(self) -> float:
        return self._channel.now

    def epoch(self) -> float:
        return self._epoch + self._channel.now

    def monotonic(self) -> float:
        return self._monotonic + self._channel.now

    def advance(self, seconds: float) -> None:
        self._channel.call({"op": "sleep", "seconds": float(seconds)})


class RemoteTools:
    """``env.tools`` in the agent's process: each call is the harness's."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel
        self._names: tuple[str, ...] | None = None
        self._specs: dict[str, list[dict[str, Any]]] = {}

    @property
    def names(self) -> tuple[str, ...]:
        if self._names is None:
            self._names = tuple(self._channel.call({"op": "tool_names"})["names"])
        return self._names

    def specs(self, format: str = "openai") -> list[dict[str, Any]]:
        if format not in self._specs:
            reply = self._channel.call({"op": "tool_specs", "format": format})
            if "error" in reply:
                raise _tool_error(reply["error"])
            self._specs[format] = reply["specs"]
        specs: list[dict[str, Any]] = json.loads(json.dumps(self._specs[format]))
        return specs  # the caller's own copy

    def call(self, name: str, /, **args: Any) -> Any:
        reply = self._channel.call({"op": "tool", "name": name, "args": _plain(args)})
        if "error" in reply:
            raise _tool_error(reply["error"])
        return reply["result"]


def _tool_error(error: dict[str, Any]) -> ToolError:
    kind, message = error.get("type"), str(error.get("message"))
    if kind in _TOOL_ERRORS:
        return _TOOL_ERRORS[kind](message)
    if kind == "ToolMalformedResponse":
        return ToolMalformedResponse(
            message, status=int(error.get("status", 0)), raw=str(error.get("raw", ""))
        )
    return ToolError(
        message,
        status=int(error.get("status", 0)),
        body=error.get("body") or {},
        headers=error.get("headers") or {},
    )


def _plain(value: Any) -> Any:
    """``value`` as JSON carries it (what any API would receive)."""
    return json.loads(json.dumps(value, default=str))


class RemoteExchange:
    """The :class:`~harness.gateway.exchange.Exchange` of the agent's process:
    each request over the run's socket to the harness's HTTP door."""

    def __init__(self, channel: Channel) -> None:
        self._channel = channel

    def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        reply = self._channel.call(
            {
                "op": "http",
                "method": method,
                "url": url,
                "headers": [[k, v] for k, v in headers],
                "body": wire.pack_bytes(body),
            }
        )
        failure = reply.get("raise")
        if failure is not None:
            kind: FailureKind = (
                "timeout"
                if failure == "timeout"
                else "reset"
                if failure == "reset"
                else "blocked"
            )
            raise TransportFailure(kind, str(reply.get("message")))
        return HttpReply(
            status=int(reply["status"]),
            headers=tuple((str(k), str(v)) for k, v in reply["headers"]),
            body=wire.unpack_bytes(reply["body"]),
        )


def _audit(channel: Channel) -> Callable[[str, tuple[Any, ...]], None]:
    """Refuse and record every network attempt made below httpx, in C or Python,
    in any thread."""

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not event.startswith("socket."):
            return
        if event in ("socket.connect", "socket.sendto", "socket.sendmsg"):
            sock, address = args[0], args[1]
            if address is None or getattr(sock, "family", None) == _UNIX:
                return
            kind = "udp" if sock.type == socket.SOCK_DGRAM else "tcp"
            where = address_text(address)
            channel.block(method="CONNECT", url=f"{kind}://{where}", door="socket")
            raise ConnectionRefusedError(
                f"aqe: blocked socket connection to {where}: only simulated "
                "hosts are reachable during a run"
            )
        if event in (
            "socket.getaddrinfo",
            "socket.gethostbyname",
            "socket.gethostbyaddr",
            "socket.getnameinfo",
        ):
            host = args[0][0] if isinstance(args[0], tuple) else args[0]
            channel.block(method="RESOLVE", url=f"dns://{host}", door="socket")
            raise socket.gaierror(
                socket.EAI_NONAME,
                f"aqe: blocked name lookup of {host}: only simulated hosts are "
                "reachable during a run",
            )

    return hook


def main(
    sock: socket.socket, output: int, agent: Callable[..., Any], memory: int | None
) -> None:
    """Serve one run's deliveries, then end the process (never returns)."""
    code = 0
    try:
        os.dup2(output, 1)
        os.dup2(output, 2)
        os.close(output)
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        _serve(Channel(sock), agent)
    except BaseException:  # the harness learns of it from the exit code
        code = 70
    finally:
        _flush()
        _exit(code)


def _flush() -> None:
    """What the agent printed, to the harness's pipe, before the harness is told
    the run is over (it ends the process then)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # the agent may have closed it
            stream.flush()


def _serve(channel: Channel, agent: Callable[..., Any]) -> None:
    imported = len(sys.modules)
    start = channel.wait()
    task = Task(**start["task"])
    identity = Identity(**start["identity"])
    clock = RemoteClock(channel, epoch=start["epoch"], monotonic=start["monotonic"])
    options = client_options(identity.api_key, tls_context())
    http = httpx.Client(**options)
    ahttp = httpx.AsyncClient(**options)
    env = AgentEnv(
        http=http,
        ahttp=ahttp,
        tools=RemoteTools(channel),  # type: ignore[arg-type]
        identity=identity,
    )
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    completed = _record_completions()
    sys.addaudithook(_audit(channel))
    allowed = AllowedHosts.from_wire(start.get("allow"))
    exchange = allowed.guard(RemoteExchange(channel))
    with (
        model_keys(identity.api_key),
        capture_warnings() as log,
        sandbox(
            clock=clock,
            router=router(exchange),
            exchange=exchange,
            block=channel.block,
            started=channel.started,
            seed=int(start["seed"]),
            wall_timeout=None,  # the harness kills this process instead
            allowed=allowed,
            connect=channel.connect,
            lookup=channel.resolve,
        ) as interrupts,
    ):
        while True:
            message = channel.wait()
            if message.get("op") != "deliver":
                break
            done = deliver(agent, task, env, clock, interrupts)
            try:
                result, failure = _result(done.result), done.failure
            except (TypeError, ValueError) as exc:
                result, failure = None, f"the agent's result cannot be read: {exc}"
            _flush()
            channel.send(
                {
                    "op": "delivered",
                    "result": result,
                    "failure": failure,
                    "stopped": done.stopped,
                    # all so far: the harness may not ask for the rest (finish)
                    "warnings": log.caught().to_wire(),
                }
            )
        left = interrupts.exits[0] if interrupts.exits else threads_left(before)
    # what the run imported, so the fork server can have it ready for the next:
    # in the order imported (a package before its modules), so a list cut short
    # keeps the packages whose imports bring in the rest
    new = [n for n in reversed(_imported_since(imported)) if _MODULE.fullmatch(n)]
    _flush()
    channel.send(
        {
            "op": "finished",
            "left": left,
            "imported": new[:MAX_WARM],
            "completed": _names(completed)[:MAX_WARM],
            "warnings": log.caught().to_wire(),
        }
    )


def _imported_since(count: int) -> list[str]:
    """The modules that came into ``sys.modules`` since it held ``count``: the
    newest entries (a dict keeps its order). Only those are read: touching the
    name of every module the fork server imported (a set of ``sys.modules``)
    would copy thousands of the server's pages into this process, one per name
    (~6 ms of page faults a run with the SDKs imported). A run that dropped
    modules reports fewer; the warm list is only a head start."""
    return list(
        itertools.islice(reversed(sys.modules), max(0, len(sys.modules) - count))
    )


def _record_completions() -> list[type]:
    """The pydantic models finished in this process from now on, recorded as
    pydantic finishes them (``complete_model_class``, the one place every model
    is finished, at its class statement or on first use).

    The model SDKs defer building their models' schemas to first use (openai and
    anthropic: thousands of models, ``defer_build``), so every run's process
    built the same ones again, once per run (~20 ms of a Responses API run): the
    fork server finishes the ones a run reports before its next fork (see the
    server's ``complete``). Pydantic imported by the run itself is not watched:
    the fork server has it from the next run on."""
    done: list[type] = []
    module = sys.modules.get("pydantic._internal._model_construction")
    complete = getattr(module, "complete_model_class", None)
    if module is None or not callable(complete):
        return done

    @functools.wraps(complete)
    def complete_model_class(cls: Any, *args: Any, **kwargs: Any) -> Any:
        finished = complete(cls, *args, **kwargs)
        if finished is True:
            done.append(cls)
        return finished

    module.complete_model_class = complete_model_class  # type: ignore[attr-defined]
    return done


def _names(classes: list[type]) -> list[str]:
    """``module:qualname`` of each class that has one a fork server can look up."""
    names = []
    for cls in classes:
        module, qualname = getattr(cls, "__module__", None), cls.__qualname__
        if isinstance(module, str) and _MODULE.fullmatch(qualname):
            names.append(f"{module}:{qualname}")
    return list(dict.fromkeys(names))


def _result(result: AgentResult | None) -> dict[str, Any] | None:
    if result is None:
        return None
    return {
        "status": result.status,
        "summary": result.summary,
        "output": _plain(dict(result.output)),
    }
