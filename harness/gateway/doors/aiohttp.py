"""The aiohttp door: every ``aiohttp.ClientSession`` request, through the exchange.

Built on aioresponses (the aiohttp mocker): its matching and response building,
with ``ClientSession._request`` patched here rather than by its autospec mock
(milliseconds per run). One catch-all route per method has a callback that turns
the request into plain values for the exchange and its answer into aiohttp's
own response, so ``raise_for_status``, ``.json()`` and redirects behave as with
a server. Failures are aiohttp's own: a timeout is ``aiohttp.ServerTimeoutError``
(an ``asyncio.TimeoutError``), a reset ``aiohttp.ServerDisconnectedError``, a
blocked host ``aiohttp.ClientConnectionError``. A host ``--aqe-allow-host``
allows gets aiohttp's own ``_request``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any
from urllib.parse import urlencode

from harness.gateway.exchange import (
    RUN_ENDED,
    Exchange,
    PassThrough,
    Serving,
    TransportFailure,
)

#: The client this door serves, and what it needs installed.
LIBRARY = "aiohttp"
LIBRARIES = ("aiohttp", "aioresponses")
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_ANY = re.compile(r".*")


#: The exchanges of the runs being served: the process's routes (:func:`_routes`)
#: answer from the innermost.
_SERVING = Serving()


@contextmanager
def install(exchange: Exchange) -> Iterator[None]:
    import aiohttp

    mocked = _routes()
    # a run's own record of responses (closed when it ends) and of requests
    outer = mocked._responses, mocked.requests
    mocked._responses, mocked.requests = [], {}
    _SERVING.push(exchange)

    # aioresponses' own patch is an autospec mock (about 6 ms to make per run);
    # its matching and response building are what this door needs
    original = aiohttp.ClientSession._request

    async def request(session: Any, method: str, url: Any, *a: Any, **k: Any) -> Any:
        try:
            return await mocked._request_mock(session, method, url, *a, **k)
        except PassThrough:
            return await original(session, method, url, *a, **k)

    aiohttp.ClientSession._request = request  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        aiohttp.ClientSession._request = original  # type: ignore[method-assign]
        _SERVING.remove(exchange)
        for response in mocked._responses:
            response.close()
        mocked._responses, mocked.requests = outer


@cache
def _routes() -> Any:
    """The process's aioresponses, with one catch-all route per method whose
    callback answers from the run being served (built once: a route costs an
    ``aioresponses`` match object and an id)."""
    import aiohttp
    from aioresponses import CallbackResult
    from aioresponses.core import RequestMatch
    from multidict import CIMultiDict

    response_type = response_class()

    def answer(method: str) -> Callable[..., Any]:
        def callback(url: Any, **kwargs: Any) -> CallbackResult:
            exchange = _SERVING.current()
            if exchange is None:
                raise aiohttp.ClientConnectionError(RUN_ENDED)
            headers, body = _request(kwargs)
            try:
                reply = exchange(method, str(url), headers, body)
            except TransportFailure as failure:
                raise _failure(aiohttp, failure) from None
            return CallbackResult(
                method=method,
                status=reply.status,
                body=reply.body,
                headers=CIMultiDict(reply.headers),  # type: ignore[arg-type]
                response_class=response_type,
                content_type={k.lower(): v for k, v in reply.headers}.get(
                    "content-type", "application/octet-stream"
                ),
            )

        return callback

    mocked = _unrecorded()()
    # what its start() sets, and its add()'s matches keyed by name, not by a
    # uuid4: the first run builds them, and must draw from the run's random
    # stream no more than any later run
    mocked._responses = []
    mocked._matches = {
        f"aqe-{method}": RequestMatch(
            _ANY, method=method, callback=answer(method), repeat=True
        )
        for method in _METHODS
    }
    return mocked


@cache
def response_class() -> type[Any]:
    """aiohttp's response as aioresponses can build it (for a route's
    ``response_class``): aioresponses 0.7 builds responses without the
    ``stream_writer`` aiohttp 3.10+ requires; the request was sent, so none is
    needed."""
    import aiohttp

    class Response(aiohttp.ClientResponse):
        def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
            kwargs.setdefault("stream_writer", _Sent())
            super().__init__(method, url, **kwargs)

    return Response


@cache
def _unrecorded() -> type[Any]:
    """aioresponses without its record of each request (a deep copy of the
    request's arguments, kept for its ``assert_called_with``): the door never
    reads it, and it cost a tenth of a call and grew with every request."""
    from aioresponses import aioresponses

    class Unrecorded(aioresponses):
        def _build_request_call(self, *args: Any, **kwargs: Any) -> None:
            return None

    return Unrecorded


class _Sent:
    """The stream writer of a request already sent: nothing more to write."""

    output_size = 0


def _request(kwargs: Mapping[str, Any]) -> tuple[list[tuple[str, str]], bytes]:
    """The request's headers and body bytes, as aiohttp would have sent them."""
    raw = kwargs.get("headers") or {}
    items = raw.items() if hasattr(raw, "items") else raw
    headers = [(str(k), str(v)) for k, v in items]
    names = {k.lower() for k, _ in headers}
    body = b""
    if kwargs.get("json") is not None:
        body = json.dumps(kwargs["json"]).encode()
        kind = "application/json"
    else:
        data = kwargs.get("data")
        kind = ""
        if isinstance(data, bytes | bytearray):
            body = bytes(data)
            kind = "application/octet-stream"
        elif isinstance(data, str):
            body = data.encode()
            kind = "text/plain; charset=utf-8"
        elif isinstance(data, Mapping | list | tuple):
            body = urlencode(data, doseq=True).encode()
            kind = "application/x-www-form-urlencoded"
    if body and kind and "content-type" not in names:
        headers.append(("Content-Type", kind))
    return headers, body


def _failure(aiohttp: Any, failure: TransportFailure) -> Exception:
    if failure.kind == "timeout":
        exc: Exception = aiohttp.ServerTimeoutError(failure.message)
    elif failure.kind == "reset":
        exc = aiohttp.ServerDisconnectedError(failure.message)
    else:
        exc = aiohttp.ClientConnectionError(failure.message)
    return exc
