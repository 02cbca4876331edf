"""The HTTP door reads requests and writes answers on plain values, as httpx would."""

from __future__ import annotations

import json

import httpx
import pytest

from harness.gateway.exchange import TransportFailure
from harness.gateway.http import _header_map, _query_pairs, _reply, split_url
from harness.run import RunSetup, prepare_run
from harness.scenario.model import Scenario

URLS = [
    "https://payments.sim/v1/charges/ch_1",
    "https://PAYMENTS.sim",
    "HTTPS://api.stripe.com:443/v1/refunds?a=1&b=2&a=3",
    "https://x.sim/a%20b/c?q=a+b&r=%2B&s=&t",
    "https://x.sim/a/../b",
    "https://x.sim/./a",
    "https://x.sim/.well-known",
    "https://x.sim/p?q=%zz&x=1;y=2",
    "https://x.sim/p?expand[]=a&expand[]=b",
    "https://x.sim/p?expand%5B%5D=a",
    "https://x.sim/p?x=1#frag",
    "https://user:pw@x.sim/p",
    "https://[::1]:8080/p",
    "http://127.0.0.1:5000/x",
    "https://xn--fiqs8s.icom.museum/",
    "https://x.sim/p\u00e4?\u00fc=1",
    "https://x.sim/p q?a b=c d",
    "https://x.sim/%41%2f",
    "https://x.sim/p?=&==&a==b",
    "https://x.sim/~user/{id}|^`",
    'https://x.sim/p?q="<>"',
    "http://x.sim",
    "https://x.sim?x=1",
    "https://x.sim:/p?",
]


@pytest.mark.parametrize("url", URLS)
def test_a_url_splits_into_what_httpx_reads_from_it(url: str) -> None:
    scheme, host, path, query = split_url(url)
    parsed = httpx.URL(url)
    assert (scheme, host, path) == (parsed.scheme, parsed.host, parsed.path)
    assert _query_pairs(query) == parsed.params.multi_items()


def test_a_url_httpx_refuses_is_refused_alike() -> None:
    with pytest.raises(httpx.InvalidURL):
        split_url("https://x.sim/p\x00")


def test_headers_are_read_by_name_in_any_case_with_repeats_joined() -> None:
    pairs = [("Content-Type", "a"), ("X-Tag", "1"), ("x-tag", "2")]
    named = _header_map(pairs)
    read = httpx.Headers(pairs)
    assert {k: named[k] for k in ("content-type", "x-tag")} == {
        k: read[k] for k in ("content-type", "x-tag")
    }


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"Content-Type": "application/json", "Idempotent-Replayed": "true"}, b"{}"),
        ({"content-type": "text/plain", "Content-Length": "7"}, b"garbage"),
        ({"Retry-After": "2"}, b""),
    ],
)
def test_an_answer_carries_the_headers_an_httpx_response_would(
    headers: dict[str, str], body: bytes
) -> None:
    reply = _reply(201, headers.items(), body)
    made = httpx.Response(201, headers=headers, content=body)
    assert reply.headers == tuple(made.headers.multi_items())
    assert (reply.status, reply.body) == (201, body)


@pytest.fixture
def setup(small: Scenario) -> RunSetup:
    return prepare_run(small, seed=3)


def test_the_exchange_builds_no_httpx_request_or_response(
    setup: RunSetup, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the exchange built an httpx object")

    charge = setup.world.records["charge"]["id"]
    monkeypatch.setattr(httpx.Request, "__init__", refuse)
    monkeypatch.setattr(httpx.Response, "__init__", refuse)
    monkeypatch.setattr(httpx.URL, "__init__", refuse)
    auth = [("Authorization", f"Bearer {setup.identity.api_key}")]
    reply = setup.door.exchange(
        "get", f"https://payments.sim/v1/charges/{charge}", auth, b""
    )
    assert reply.status == 200
    assert json.loads(reply.body)["id"] == charge
    missing = setup.door.exchange("GET", "https://payments.sim/v1/nowhere", auth, b"")
    assert missing.status == 404
    with pytest.raises(TransportFailure) as blocked:
        setup.door.exchange("GET", "https://example.com/", auth, b"")
    assert blocked.value.kind == "blocked"
    assert blocked.value.message.startswith(
        "aqe: blocked outbound request to example.com: only simulated hosts"
    )
