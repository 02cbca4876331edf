"""The one HTTP call interface every client door speaks: plain values in, plain
values out.

A door for a client library (httpx, requests/urllib3, urllib, httpx2, ...) turns
that library's request into ``(method, url, headers, body)``, hands it to an
:class:`Exchange`, and turns the :class:`HttpReply` (or the
:class:`TransportFailure`) back into that library's own response or exception.
In the harness's process the exchange is the HTTP door itself
(``HttpDoor.exchange``); in the agent's own process it is the run's socket
(:class:`harness.isolation.child.RemoteExchange`). So each door is written once
and works in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

#: How a call can fail below HTTP: the request may have taken effect (``timeout``,
#: ``reset``), or it never left (``blocked``: a host outside the simulation).
FailureKind = Literal["timeout", "reset", "blocked"]


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpReply:
    """An HTTP answer: status, headers in order (repeats kept), body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class TransportFailure(Exception):
    """No HTTP answer: a door raises its client's own exception for ``kind``."""

    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind: FailureKind = kind
        self.message = message


class Exchange(Protocol):
    """Send one HTTP request into the simulation; raises :class:`TransportFailure`."""

    def __call__(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> HttpReply: ...


class PassThrough(Exception):
    """Not for the simulation: the request goes to a host ``--aqe-allow-host``
    allows (:mod:`harness.gateway.allow`), so the door sends it with its client's
    own transport."""


#: What a door tells a request sent after its run ended.
RUN_ENDED = (
    "aqe: blocked outbound request: the run it was sent in has ended (a thread "
    "the agent left running sent it)"
)


class Serving:
    """The exchanges of the runs a process-wide door serves, innermost last (a
    run inside a run is answered by the inner one)."""

    __slots__ = ("_stack",)

    def __init__(self) -> None:
        self._stack: list[Exchange] = []

    def push(self, exchange: Exchange) -> None:
        self._stack.append(exchange)

    def remove(self, exchange: Exchange) -> bool:
        """Stop serving ``exchange``; whether it was being served."""
        stack = self._stack
        for index in range(len(stack) - 1, -1, -1):
            if stack[index] is exchange:
                del stack[index]
                return True
        return False

    def current(self) -> Exchange | None:
        """The exchange that answers now (None: no run is being served)."""
        stack = self._stack
        return stack[-1] if stack else None

    def __bool__(self) -> bool:
        return bool(self._stack)
