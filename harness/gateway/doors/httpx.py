"""The httpx door: a respx router that sends every httpx request to an exchange.

respx is httpx's own mocker, and one catch-all route (a route per host costs
milliseconds a run) turns each request into plain values for the exchange
(:mod:`harness.gateway.exchange`) and its answer into an ``httpx.Response``.
Failures are httpx's own, with the request attached: ``timeout`` is
``ReadTimeout``, ``reset`` ``RemoteProtocolError``, ``blocked`` ``ConnectError``;
a request the exchange passes through (an allowed host) goes out by httpx's own
transport.
httpx is always installed, so this door is not in the optional registry: the
sandbox enters its router for every run, in process and in the agent's own.
"""

from __future__ import annotations

import httpx
import respx

from harness.gateway.exchange import Exchange, PassThrough, TransportFailure

_ERRORS: dict[str, type[httpx.TransportError]] = {
    "timeout": httpx.ReadTimeout,
    "reset": httpx.RemoteProtocolError,
    "blocked": httpx.ConnectError,
}


def router(exchange: Exchange) -> respx.MockRouter:
    """A respx router answering every httpx request from ``exchange``."""

    def forward(request: httpx.Request) -> httpx.Response | httpx.Request:
        try:
            reply = exchange(
                request.method,
                str(request.url),
                request.headers.multi_items(),
                request.read(),
            )
        except PassThrough:  # an allowed host (--aqe-allow-host): httpx sends it
            return request
        except TransportFailure as failure:
            raise _ERRORS[failure.kind](failure.message, request=request) from None
        return httpx.Response(
            reply.status, headers=list(reply.headers), content=reply.body
        )

    mock = respx.MockRouter(
        assert_all_called=False, assert_all_mocked=False, using="httpx"
    )
    mock.route().mock(side_effect=forward)
    return mock
