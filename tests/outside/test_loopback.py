"""The loopback server answers an outside agent exactly as the HTTP door answers
an in-process one: by path prefix, by Host header and as a proxy (a CONNECT
tunnel with the run's own certificate authority), in simulated time."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message

import pytest

from harness.gateway.certs import RunAuthority
from harness.gateway.loopback import LoopbackServer
from harness.run import RunSetup, prepare_run
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT


@dataclass
class Served:
    setup: RunSetup
    server: LoopbackServer
    authority: RunAuthority

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes = b"",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Message, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port)
        try:
            connection.request(
                method,
                path,
                body=body,
                headers={"Authorization": f"Bearer {self.key}", **(headers or {})},
            )
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    @property
    def key(self) -> str:
        return self.setup.identity.api_key

    @property
    def charge(self) -> str:
        return str(self.setup.task.input["charge"])


@pytest.fixture
def served() -> Iterator[Served]:
    scenario = load_scenario(ROOT / "scenarios/payments/refund_ambiguous_timeout.yaml")
    setup = prepare_run(scenario, seed=5)
    authority = RunAuthority()
    with LoopbackServer(setup.door, setup.world.clock, authority=authority) as server:
        yield Served(setup, server, authority)


def _read_all(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _refunds(served: Served) -> list[int]:
    table = served.setup.world.service("payments").state["refunds"]
    return [r["amount"] for r in table.values() if r["charge"] == served.charge]


def _blocked(setup: RunSetup) -> list[str]:
    return [
        str(e.value["url"]) for e in setup.world.history if e.f == "blocked_request"
    ]


def test_a_service_answers_under_its_name_as_at_its_simulated_host(
    served: Served,
) -> None:
    status, headers, body = served.request(
        "GET", f"/payments/v1/charges/{served.charge}"
    )
    direct = served.setup.door.exchange(
        "GET",
        f"https://payments.sim/v1/charges/{served.charge}",
        [("authorization", f"Bearer {served.key}")],
        b"",
    )
    assert status == 200 == direct.status
    assert json.loads(body)["id"] == json.loads(direct.body)["id"] == served.charge
    assert headers["Content-Type"] == "application/json"


def test_a_host_header_naming_a_simulated_host_reaches_it(served: Served) -> None:
    status, _, body = served.request(
        "GET", f"/v1/charges/{served.charge}", headers={"Host": "api.stripe.com"}
    )
    assert status == 200
    assert json.loads(body)["object"] == "charge"


def test_an_absolute_url_through_the_proxy_reaches_the_simulated_host(
    served: Served,
) -> None:
    status, _, body = served.request(
        "GET", f"http://payments.sim/v1/charges/{served.charge}"
    )
    assert status == 200
    assert json.loads(body)["id"] == served.charge


def test_a_tunnel_to_a_vendor_host_ends_tls_with_the_runs_authority(
    served: Served,
) -> None:
    context = ssl.create_default_context(cadata=served.authority.pem)
    connection = http.client.HTTPSConnection(
        "api.stripe.com", 443, context=context, timeout=10
    )
    connection.set_tunnel("api.stripe.com", 443)
    connection.host, connection.port = "127.0.0.1", served.server.port
    try:
        connection.request(
            "GET",
            f"/v1/charges/{served.charge}",
            headers={"Authorization": f"Bearer {served.key}"},
        )
        response = connection.getresponse()
        assert response.status == 200
        assert json.loads(response.read())["id"] == served.charge
    finally:
        connection.close()


def test_a_tunnel_anywhere_else_is_refused_and_recorded_as_blocked(
    served: Served,
) -> None:
    with socket.create_connection(("127.0.0.1", served.server.port)) as sock:
        sock.sendall(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n")
        answer = _read_all(sock).decode()
    assert answer.startswith("HTTP/1.1 403")
    assert "only simulated hosts are reachable" in answer
    assert _blocked(served.setup) == ["https://example.com:443"]


def test_a_plain_request_to_another_host_is_blocked(served: Served) -> None:
    status, _, body = served.request("GET", "http://example.com/")
    assert status == 403
    assert b"blocked" in body
    assert _blocked(served.setup) == ["http://example.com/"]


def test_a_timed_out_call_closes_the_connection_with_no_answer(served: Served) -> None:
    with pytest.raises(http.client.RemoteDisconnected):
        served.request(
            "POST",
            "/payments/v1/refunds",
            body=f"charge={served.charge}&amount=1200".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    # it committed: the ambiguous timeout
    assert _refunds(served) == [1200]


def test_every_answer_carries_the_simulated_time(served: Served) -> None:
    _, headers, _ = served.request("GET", "/v1/clock")
    assert headers["Date"] == "Thu, 01 Jan 2026 00:00:00 GMT"
    assert headers["X-Aqe-Time"] == "2026-01-01T00:00:00.000Z"


def test_sleep_header_and_clock_endpoint_wait_in_simulated_time(
    served: Served,
) -> None:
    status, _, body = served.request(
        "POST", "/v1/clock/sleep", body=b'{"seconds": 3600}'
    )
    assert status == 200
    assert json.loads(body) == {"now": "2026-01-01T01:00:00.000Z", "elapsed_s": 3600.0}
    _, headers, _ = served.request("GET", "/v1/clock", headers={"X-Aqe-Sleep": "60"})
    assert headers["X-Aqe-Time"] == "2026-01-01T01:01:00.000Z"
    assert served.setup.world.clock.now == 3660.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"seconds": -1}', "cannot wait seconds: -1: give a number of seconds"),
        (b'{"secs": 1}', 'send {"seconds": N}, N >= 0 simulated seconds'),
        (b"soon", 'the body is not JSON; send {"seconds": N}'),
    ],
)
def test_a_bad_sleep_is_refused_saying_how_to_ask(
    served: Served, body: bytes, message: str
) -> None:
    status, _, answer = served.request("POST", "/v1/clock/sleep", body=body)
    assert status == 400
    assert json.loads(answer)["error"]["message"].startswith(message)
    assert served.setup.world.clock.now == 0.0


def test_an_unknown_service_is_a_404_that_lists_the_services(served: Served) -> None:
    status, _, body = served.request("GET", "/billing/v1/invoices")
    assert status == 404
    message = json.loads(body)["error"]["message"]
    assert message.startswith(
        "no simulated service answers GET /billing/v1/invoices: the path starts"
        " with a service's name (/anthropic/, /calendar/, /crm/,"
    )
    assert message.endswith("/tickets/), or /v1/clock")


def test_a_chunked_request_body_is_read_whole(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.server.port)) as sock:
        form = f"charge={served.charge}&amount=100".encode()
        chunks = b"%x\r\n%s\r\n0\r\n\r\n" % (len(form), form)
        sock.sendall(
            b"POST /payments/v1/refunds HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer " + served.key.encode() + b"\r\n"
            b"Idempotency-Key: k1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks
        )
        answer = _read_all(sock)
    # the first refund times out (the scenario's fault): no answer, but it landed
    assert answer == b""
    assert _refunds(served) == [100]
