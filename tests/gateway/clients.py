"""The client families the non-httpx door tests drive (urllib, httpx2 sync, httpx2
async), and the agents written with each, importable so that they also run in
their own process.

Each agent's story is written once, as a coroutine over a ``send`` function: an
async client awaits it, a sync client's ``send`` never suspends and the coroutine
is driven to its end in one step (:func:`_run_sync`).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx2

from fakes import SERVICES, Operation
from harness import AgentEnv, AgentResult, Task

_OPS: dict[str, Operation] = {op.name: op for s in SERVICES for op in s.operations}
Headers = list[tuple[str, str]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """An answer as a client family gave it."""

    status: int
    body: bytes


Send = Callable[[str, str, Headers, bytes], Awaitable[Reply]]


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    """One client family: how to open it, how it pauses, how it fails."""

    name: str
    is_async: bool
    open: Callable[[], AbstractAsyncContextManager[Send]]
    #: The exact exception type each transport failure must arrive as.
    failures: dict[type[BaseException], str]

    def failure(self, exc: BaseException) -> str | None:
        """``timeout``/``reset``/``blocked`` if ``exc`` is exactly this client's
        own exception for it, else None."""
        if (
            isinstance(exc, urllib.error.URLError)
            and type(exc) is urllib.error.URLError
        ):
            if type(exc.reason) is ConnectionRefusedError:
                return "blocked"
            return None
        return self.failures.get(type(exc))

    async def pause(self, seconds: float) -> None:
        if self.is_async:
            await asyncio.sleep(seconds)
        else:
            time.sleep(seconds)


@asynccontextmanager
async def _urllib() -> AsyncIterator[Send]:
    async def send(method: str, url: str, headers: Headers, body: bytes) -> Reply:
        request = urllib.request.Request(
            url, data=body or None, headers=dict(headers), method=method
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Reply(status=response.status, body=response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(status=error.code, body=error.read())

    yield send


@asynccontextmanager
async def _httpx2_sync() -> AsyncIterator[Send]:
    with httpx2.Client() as client:

        async def send(method: str, url: str, headers: Headers, body: bytes) -> Reply:
            response = client.request(method, url, headers=headers, content=body)
            return Reply(status=response.status_code, body=response.content)

        yield send


@asynccontextmanager
async def _httpx2_async() -> AsyncIterator[Send]:
    async with httpx2.AsyncClient() as client:

        async def send(method: str, url: str, headers: Headers, body: bytes) -> Reply:
            response = await client.request(method, url, headers=headers, content=body)
            return Reply(status=response.status_code, body=response.content)

        yield send


_HTTPX2_FAILURES: dict[type[BaseException], str] = {
    httpx2.ReadTimeout: "timeout",
    httpx2.RemoteProtocolError: "reset",
    httpx2.ConnectError: "blocked",
}
CLIENTS: dict[str, Client] = {
    "urllib": Client(
        name="urllib",
        is_async=False,
        open=_urllib,
        failures={TimeoutError: "timeout", http.client.RemoteDisconnected: "reset"},
    ),
    "httpx2": Client(
        name="httpx2", is_async=False, open=_httpx2_sync, failures=_HTTPX2_FAILURES
    ),
    "httpx2_async": Client(
        name="httpx2_async",
        is_async=True,
        open=_httpx2_async,
        failures=_HTTPX2_FAILURES,
    ),
}


def tool_request(
    env: AgentEnv, tool: str, params: dict[str, Any]
) -> tuple[str, str, Headers, bytes]:
    """``tool`` as an HTTP request: query for GET, a form for payments, else JSON."""
    op = _OPS[tool]
    rest = dict(params)
    path = op.path.format(**{name: rest.pop(name) for name in op.path_params})
    url = f"https://{op.service}.sim{path}"
    headers = [("Authorization", f"Bearer {env.identity.api_key}")]
    if op.method == "GET":
        query = urllib.parse.urlencode({k: str(v) for k, v in rest.items()})
        return op.method, f"{url}?{query}" if query else url, headers, b""
    if op.service == "payments":
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))
        form = urllib.parse.urlencode({k: str(v) for k, v in rest.items()})
        return op.method, url, headers, form.encode()
    headers.append(("Content-Type", "application/json"))
    return op.method, url, headers, json.dumps(rest).encode()


def _run_sync(coro: Coroutine[Any, Any, AgentResult]) -> AgentResult:
    """Drive a coroutine that never suspends (a sync client's story) to its end."""
    try:
        coro.send(None)
    except StopIteration as done:
        result: AgentResult = done.value
        return result
    coro.close()
    raise AssertionError("a sync client's story suspended")


Story = Callable[[Client, Send, Task, AgentEnv], Awaitable[AgentResult]]


def _agent(client: Client, name: str) -> Callable[..., Any]:
    """An agent over ``client`` that tells the story ``task.input["story"]``
    names (:data:`STORIES`): an async agent for an async client. One agent per
    client, so that an isolated test starts one agent process per client."""

    async def told(task: Task, env: AgentEnv) -> AgentResult:
        story = STORIES[str(task.input["story"])]
        async with client.open() as send:
            return await story(client, send, task, env)

    if client.is_async:

        async def agent(task: Task, env: AgentEnv) -> AgentResult:
            return await told(task, env)

    else:

        def agent(task: Task, env: AgentEnv) -> AgentResult:  # type: ignore[misc]
            return _run_sync(told(task, env))

    agent.__name__ = agent.__qualname__ = name
    agent.__module__ = __name__
    globals()[name] = agent
    return agent


async def _refund(
    client: Client, send: Send, task: Task, env: AgentEnv, *, key: bool
) -> AgentResult:
    """POST the refund; on a timeout or a reset wait and send it again, with the
    same ``Idempotency-Key`` (``key``) or with none (the incident)."""
    charge = str(task.input["charge"])
    method, url, headers, body = tool_request(
        env, "create_refund", {"charge": charge, "amount": task.input["amount"]}
    )
    if key:
        headers.append(("Idempotency-Key", f"refund-{charge}"))
    for _ in range(4):
        try:
            reply = await send(method, url, headers, body)
        except Exception as exc:
            if client.failure(exc) not in ("timeout", "reset"):
                raise
            await client.pause(2.0)
            continue
        refund = json.loads(reply.body)
        return AgentResult(status="done", summary=f"{reply.status} {refund['id']}")
    return AgentResult(status="failed", summary="the refund kept failing")


async def _careful(
    client: Client, send: Send, task: Task, env: AgentEnv
) -> AgentResult:
    return await _refund(client, send, task, env, key=True)


async def _naive(client: Client, send: Send, task: Task, env: AgentEnv) -> AgentResult:
    return await _refund(client, send, task, env, key=False)


async def _outside(
    client: Client, send: Send, task: Task, env: AgentEnv
) -> AgentResult:
    """GET ``task.input["target"]`` (a host outside the simulation)."""
    try:
        reply = await send("GET", str(task.input["target"]), [], b"")
    except Exception as exc:
        return AgentResult(output={"failure": client.failure(exc), "message": str(exc)})
    return AgentResult(output={"status": reply.status})


async def _probe(client: Client, send: Send, task: Task, env: AgentEnv) -> AgentResult:
    """Call ``task.input["tool"]`` with ``task.input["params"]``, ``times`` times,
    and return what came back: ``(status or failure, JSON body or text)``."""
    seen: list[tuple[str, Any]] = []
    for _ in range(int(task.input["times"])):
        request = tool_request(env, str(task.input["tool"]), dict(task.input["params"]))
        try:
            reply = await send(*request)
        except Exception as exc:
            kind = client.failure(exc)
            if kind is None:
                raise
            seen.append((kind, type(exc).__name__))
            continue
        try:
            body = json.loads(reply.body)
        except ValueError:
            seen.append(("malformed", reply.body.decode(errors="replace")))
            continue
        seen.append(("ok" if 200 <= reply.status < 300 else str(reply.status), body))
    return AgentResult(output={"seen": seen})


STORIES: dict[str, Story] = {
    "careful": _careful,
    "naive": _naive,
    "outside": _outside,
    "probe": _probe,
}
#: ``AGENTS[client]``: e.g. ``AGENTS["urllib"]`` is
#: ``tests.gateway.clients:urllib_agent``.
AGENTS: dict[str, Callable[..., Any]] = {
    name: _agent(client, f"{name}_agent") for name, client in CLIENTS.items()
}
