"""The ``httpx2`` door: every httpx2 client, sync and async, sends to the exchange.

httpx2 is the HTTP stack of ``openai`` 3.x, ``anthropic`` 2.x, ``mcp`` 2.x and
the agent frameworks on them. respx does not know it, and ``httpx2.MockTransport``
serves only a client built with it, while SDKs build their own clients; so the
door patches the default transports' one method (``HTTPTransport.handle_request``,
``AsyncHTTPTransport.handle_async_request``), which every client reaches for every
URL, proxied or not, in every thread. Failures are httpx2's own, with the request
attached: ``timeout`` is ``ReadTimeout``, ``reset`` ``RemoteProtocolError`` (the
server closed without an answer), ``blocked`` ``ConnectError``. A host
``--aqe-allow-host`` allows gets the transport's own method.

httpx2 is imported only when the door is installed: this module is imported to
read ``LIBRARY`` even where httpx2 is absent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.gateway.exchange import Exchange, HttpReply, PassThrough, TransportFailure

if TYPE_CHECKING:
    import httpx2

LIBRARY = "httpx2"


def _failure(failure: TransportFailure, request: httpx2.Request) -> Exception:
    import httpx2

    error = {
        "timeout": httpx2.ReadTimeout,
        "reset": httpx2.RemoteProtocolError,
        "blocked": httpx2.ConnectError,
    }[failure.kind]
    return error(failure.message, request=request)


def _response(reply: HttpReply) -> httpx2.Response:
    import httpx2

    return httpx2.Response(
        reply.status, headers=list(reply.headers), content=reply.body
    )


def _send(exchange: Exchange, request: httpx2.Request, body: bytes) -> httpx2.Response:
    try:
        reply = exchange(
            request.method, str(request.url), request.headers.multi_items(), body
        )
    except TransportFailure as failure:
        raise _failure(failure, request) from None
    return _response(reply)


def _handlers(
    exchange: Exchange, original_sync: Any, original_async: Any
) -> tuple[
    Callable[[Any, httpx2.Request], httpx2.Response],
    Callable[[Any, httpx2.Request], Awaitable[httpx2.Response]],
]:
    def handle_request(transport: Any, request: httpx2.Request) -> httpx2.Response:
        try:
            return _send(exchange, request, request.read())
        except PassThrough:
            return original_sync(transport, request)  # type: ignore[no-any-return]

    async def handle_async_request(
        transport: Any, request: httpx2.Request
    ) -> httpx2.Response:
        try:
            return _send(exchange, request, await request.aread())
        except PassThrough:
            return await original_async(transport, request)  # type: ignore[no-any-return]

    return handle_request, handle_async_request


@contextmanager
def install(exchange: Exchange) -> Iterator[None]:
    """Every httpx2 request, sync or async, through ``exchange``, until exit."""
    import httpx2

    sync, async_ = httpx2.HTTPTransport, httpx2.AsyncHTTPTransport
    original_sync = sync.handle_request
    original_async = async_.handle_async_request
    handle_request, handle_async_request = _handlers(
        exchange, original_sync, original_async
    )
    sync.handle_request = handle_request  # type: ignore[method-assign,assignment]
    async_.handle_async_request = handle_async_request  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        sync.handle_request = original_sync  # type: ignore[method-assign]
        async_.handle_async_request = original_async  # type: ignore[method-assign]
