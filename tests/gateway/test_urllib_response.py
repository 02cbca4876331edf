"""The urllib door's answer is the response http.client reads from the wire,
built without writing and parsing the wire where that gives the same object."""

from __future__ import annotations

import urllib.request

import pytest

from harness.gateway.doors.urllib import _built, _parsed, _plain, _response
from harness.gateway.exchange import HttpReply

JSON = ("Content-Type", "application/json")
REPLIES = [
    (200, (JSON,), b'{"id": "ch_1"}'),
    (201, (JSON, ("Idempotent-Replayed", "true")), b"{}"),
    (204, (), b""),
    (304, (("ETag", '"v2"'),), b""),
    (402, (JSON, ("Request-Id", "  req_1 \t")), b'{"error": {}}'),
    (429, (("Retry-After", "2"), ("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")), b""),
    (599, (("X-Note", "caf\u00e9"),), b"unknown status"),
    (101, (("Upgrade", "h2c"),), b""),
    (200, (("content-type", "text/plain; charset=utf-8"),), b"plain"),
]


def _state(response: object) -> dict[str, object]:
    """Everything the response holds, with its body read out."""
    fields = dict(vars(response))
    fields["fp"] = fields["fp"].read()  # type: ignore[union-attr]
    message = fields.pop("headers")
    fields.pop("msg")
    return {**fields, "message": dict(vars(message))}


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize(("status", "headers", "body"), REPLIES)
def test_a_built_response_is_the_parsed_one(
    status: int, headers: tuple[tuple[str, str], ...], body: bytes, method: str
) -> None:
    req = urllib.request.Request("https://payments.sim/v1/x", method=method)
    reply = HttpReply(status=status, headers=headers, body=body)
    lines = [*headers, ("Content-Length", str(len(body)))]
    assert _plain(status, lines)
    url = req.full_url
    assert _state(_built(req, url, reply, lines)) == _state(
        _parsed(req, url, reply, lines)
    )


@pytest.mark.parametrize(
    ("status", "lines"),
    [
        (100, [JSON]),
        (200, [("Content-Type", "multipart/mixed; boundary=x")]),
        (200, [("Content-Type", " message/rfc822")]),
        (200, [("Bad Name", "x")]),
        (200, [("X-Folded", "a\r\n b")]),
        (200, [("X-Control", "a\x00b")]),
        (200, [("X-Many", str(n)) for n in range(100)]),
    ],
)
def test_a_reply_the_parser_would_read_differently_goes_over_the_wire(
    status: int, lines: list[tuple[str, str]]
) -> None:
    assert not _plain(status, lines)


def test_a_multipart_reply_is_parsed_as_urllib_would() -> None:
    req = urllib.request.Request("https://payments.sim/v1/x")
    kind = ("Content-Type", "multipart/mixed")
    reply = HttpReply(status=200, headers=(kind,), body=b"--x--")
    response = _response(req, req.full_url, reply)
    assert response.headers.defects  # the parser's note: no boundary
    assert response.read() == b"--x--"
    assert (response.status, response.msg, response.url) == (200, "OK", req.full_url)
