"""The httpx door: one respx router per process, serving each run its own exchange,
and leaving httpx as it found it after the run."""

from __future__ import annotations

import asyncio
import threading
from typing import Any
from unittest import mock

import httpx
import pytest
import respx

from harness.gateway.doors import httpx as door
from harness.gateway.exchange import (
    FailureKind,
    HttpReply,
    PassThrough,
    TransportFailure,
)
from harness.gateway.http import HttpDoor
from harness.run import RunSetup, prepare_run
from harness.scenario.model import Scenario

_REAL_TRANSPORT_FOR_URL = httpx.Client._transport_for_url
_REAL_ASYNC_TRANSPORT_FOR_URL = httpx.AsyncClient._transport_for_url


class Recording:
    """An exchange that answers with its own name and notes what it was sent."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seen: list[tuple[str, str, str]] = []

    def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        self.seen.append((method, url, threading.current_thread().name))
        return HttpReply(
            status=200,
            headers=(("content-type", "text/plain"),),
            body=self.name.encode(),
        )


def _httpx_is_unpatched() -> bool:
    return (
        httpx.Client._transport_for_url is _REAL_TRANSPORT_FOR_URL
        and httpx.AsyncClient._transport_for_url is _REAL_ASYNC_TRANSPORT_FOR_URL
        and not door.ROUTER.serving
    )


def test_each_run_is_served_its_own_exchange_by_the_one_router() -> None:
    client = httpx.Client()  # made before either run
    first, second = Recording("first"), Recording("second")
    with door.router(first):
        assert client.get("https://payments.sim/a").text == "first"
    assert _httpx_is_unpatched()
    with door.router(second):
        assert client.get("https://payments.sim/b").text == "second"
    assert _httpx_is_unpatched()
    assert [url for _, url, _ in first.seen] == ["https://payments.sim/a"]
    assert [url for _, url, _ in second.seen] == ["https://payments.sim/b"]


def test_runs_build_no_router_or_route_and_make_no_mock_objects() -> None:
    made: list[str] = []
    real_mock, real_router, real_route = (
        mock.NonCallableMock.__init__,
        respx.Router.__init__,
        respx.Route.__init__,
    )

    def counting(real: Any) -> Any:
        def init(self: object, *args: object, **kwargs: object) -> None:
            made.append(type(self).__name__)
            real(self, *args, **kwargs)

        return init

    exchange = Recording("run")
    with (
        mock.patch.object(mock.NonCallableMock, "__init__", counting(real_mock)),
        mock.patch.object(respx.Router, "__init__", counting(real_router)),
        mock.patch.object(respx.Route, "__init__", counting(real_route)),
    ):
        for _ in range(3):
            with door.router(exchange), httpx.Client() as client:
                client.get("https://payments.sim/x")
    assert len(exchange.seen) == 3
    assert made == []
    assert door.ROUTER.calls == []
    assert door.ROUTER.simulation.calls == []


def test_httpx_answers_from_its_own_transport_again_after_the_run() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="its own")

    client = httpx.Client(transport=httpx.MockTransport(handler))
    with door.router(Recording("run")):
        assert client.get("https://payments.sim/x").text == "run"
    assert client.get("https://payments.sim/x").text == "its own"
    assert _httpx_is_unpatched()


def test_the_router_is_removed_when_the_run_fails() -> None:
    with (
        pytest.raises(RuntimeError, match="the agent crashed"),
        door.router(Recording("run")),
    ):
        raise RuntimeError("the agent crashed")
    assert _httpx_is_unpatched()


def test_every_thread_and_async_client_of_the_run_reaches_its_exchange() -> None:
    exchange = Recording("run")

    def send(n: int) -> None:
        with httpx.Client() as client:
            client.get(f"https://payments.sim/thread/{n}")

    async def send_async() -> str:
        async with httpx.AsyncClient() as client:
            return (await client.get("https://payments.sim/async")).text

    with door.router(exchange):
        threads = [threading.Thread(target=send, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert asyncio.run(send_async()) == "run"
    urls = sorted(url for _, url, _ in exchange.seen)
    assert urls == [
        "https://payments.sim/async",
        *(f"https://payments.sim/thread/{n}" for n in range(4)),
    ]
    assert len({name for _, _, name in exchange.seen}) == 5


def test_a_run_inside_a_run_is_served_its_own_exchange_then_the_outer_again() -> None:
    outer, inner = Recording("outer"), Recording("inner")
    with door.router(outer), httpx.Client() as client:
        with door.router(inner):
            assert client.get("https://payments.sim/x").text == "inner"
        assert client.get("https://payments.sim/x").text == "outer"
    assert _httpx_is_unpatched()


def test_a_request_reaching_the_router_after_its_run_ended_is_refused() -> None:
    request = httpx.Request("GET", "https://payments.sim/late")
    with pytest.raises(httpx.ConnectError, match="the run it was sent in has ended"):
        door.ROUTER.handler(request)


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("timeout", httpx.ReadTimeout),
        ("reset", httpx.RemoteProtocolError),
        ("blocked", httpx.ConnectError),
    ],
)
def test_a_transport_failure_is_httpx_own_error_with_the_request(
    kind: FailureKind, error: type[httpx.TransportError]
) -> None:
    def failing(
        method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        raise TransportFailure(kind, f"it went {kind}")

    with (
        door.router(failing),
        httpx.Client() as client,
        pytest.raises(error, match=f"it went {kind}") as raised,
    ):
        client.get("https://payments.sim/x")
    assert raised.value.request.url == "https://payments.sim/x"


def test_a_request_the_exchange_passes_through_goes_out_by_httpx_own_transport() -> (
    None
):
    def passing(
        method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        raise PassThrough(url)

    def outside(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="outside")

    client = httpx.Client(transport=httpx.MockTransport(outside))
    with door.router(passing):
        assert client.get("https://allowed.example/x").text == "outside"


def test_doors_over_the_same_services_share_one_route_table(small: Scenario) -> None:
    first, second = prepare_run(small, seed=1), prepare_run(small, seed=2)
    assert first.door._routes is second.door._routes
    fewer = HttpDoor(first.gateway, [first.world.service("payments")])
    assert fewer._routes is not first.door._routes
    assert fewer.hosts == first.world.service("payments").hosts


def test_the_url_memo_starts_over_when_full(
    small: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup: RunSetup = prepare_run(small, seed=1)
    routes = setup.door._routes
    monkeypatch.setattr(routes, "MEMO", 2)
    routes.memo.clear()
    auth = [("authorization", f"Bearer {setup.identity.api_key}")]
    for n in range(3):
        setup.door.exchange("GET", f"https://payments.sim/v1/charges/ch_{n}", auth, b"")
    assert list(routes.memo) == [("GET", "https://payments.sim/v1/charges/ch_2")]
    answer = setup.door.exchange(
        "GET", f"https://payments.sim/v1/charges/{setup.world.records['charge']['id']}",
        auth, b"",
    )  # fmt: skip
    assert answer.status == 200


def test_an_async_request_the_exchange_passes_through_goes_out_by_its_own() -> None:
    def passing(
        method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        raise PassThrough(url)

    async def outside(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=f"outside {request.content.decode()}")

    async def send() -> str:
        transport = httpx.MockTransport(outside)
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post("https://allowed.example/x", content=b"hi")
            return response.text

    with door.router(passing):
        assert asyncio.run(send()) == "outside hi"


def test_the_run_answers_before_a_respx_router_the_test_started() -> None:
    with respx.mock(assert_all_called=False) as outer:
        outer.get("https://payments.sim/x").respond(text="the test's")
        with door.router(Recording("run")), httpx.Client() as client:
            assert client.get("https://payments.sim/x").text == "run"
        with httpx.Client() as client:
            assert client.get("https://payments.sim/x").text == "the test's"
    assert _httpx_is_unpatched()


def test_request_headers_reach_the_exchange_decoded_as_httpx_decodes_them() -> None:
    seen: list[list[tuple[str, str]]] = []

    def noting(
        method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        seen.append(headers)
        return HttpReply(status=204, headers=(("x-answer", "yes"),), body=b"")

    with door.router(noting), httpx.Client() as client:
        sent = [
            client.get("https://payments.sim/x", headers={"X-Name": name})
            for name in ("plain", "plain", "café".encode(), "caf\xe9".encode("latin-1"))
        ]
    for headers, response in zip(seen, sent, strict=True):
        raw, encoding = response.request.headers.raw, response.request.headers.encoding
        assert headers == [(k.decode(encoding), v.decode(encoding)) for k, v in raw]
        assert response.headers["x-answer"] == "yes"
    assert ("X-Name", "café") in seen[2]
    assert ("X-Name", "caf\xe9") in seen[3]
    assert seen[0] == seen[1]
    assert seen[0] is not seen[1]  # each request its own list
