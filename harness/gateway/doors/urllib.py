"""The ``urllib.request`` door: ``urlopen`` and every opener that keeps the stock
``HTTPHandler``/``HTTPSHandler`` (``slack_sdk``, small SDKs) send to the exchange.

No mocking library hooks urllib, so the two handlers' ``*_open`` methods are
patched (in every thread, restored on exit). The request is what ``do_open``
would send (its headers with the unredirected ones, the body bytes), and the
reply comes back as the same ``http.client.HTTPResponse`` urllib returns, so
``HTTPErrorProcessor`` still turns a status >= 400 into ``HTTPError`` and the
redirect handler still follows a 3xx. Failures are what urllib raises for them:
the request was sent and no answer came, so ``getresponse`` fails, unwrapped
(a bare ``TimeoutError`` for ``timeout``, ``http.client.RemoteDisconnected``
(a ``ConnectionResetError``) for ``reset``); a blocked host never connects, so
it is ``URLError(ConnectionRefusedError(...))``, as ``urlopen`` wraps a refused
connection. A host ``--aqe-allow-host`` allows gets the handler's own method.
"""

from __future__ import annotations

import errno
import http.client
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness.gateway.exchange import Exchange, HttpReply, PassThrough, TransportFailure

LIBRARY = "urllib"

#: Reply headers that describe the wire framing, which the door rebuilds.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection"})
#: How many header lines ``http.client`` reads before it gives up.
_MAX_HEADERS = 100


class _Wire:
    """Just enough socket for ``http.client.HTTPResponse`` to parse a reply."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self._data)


def _body(data: Any) -> bytes:
    """The request body as bytes: urllib takes bytes, a file or an iterable."""
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    read = getattr(data, "read", None)
    if read is not None:
        return bytes(read())
    return b"".join(bytes(chunk) for chunk in data)


def _headers(req: urllib.request.Request) -> list[tuple[str, str]]:
    """The headers ``AbstractHTTPHandler.do_open`` sends, in its order and case."""
    merged = dict(req.unredirected_hdrs)
    merged.update({k: v for k, v in req.headers.items() if k not in merged})
    return [(name.title(), str(value)) for name, value in merged.items()]


def _response(
    req: urllib.request.Request, url: str, reply: HttpReply
) -> http.client.HTTPResponse:
    """``reply`` as urllib's own response object (``do_open``'s return value)."""
    lines = [(n, v) for n, v in reply.headers if n.lower() not in _FRAMING]
    lines.append(("Content-Length", str(len(reply.body))))
    if _plain(reply.status, lines):
        response = _built(req, url, reply, lines)
    else:
        response = _parsed(req, url, reply, lines)
    response.url = url  # as do_open sets them
    response.msg = response.reason  # type: ignore[assignment]
    return response


#: Header lines that ``http.client`` reads back unchanged, and a content type
#: for which the email parser adds nothing to the message (no parts, defects).
_PLAIN_NAME = re.compile(r"[!-9;-~]+")
_PLAIN_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_COMPOUND = re.compile(r"\s*(multipart|message)/", re.IGNORECASE)


def _plain(status: int, lines: list[tuple[str, str]]) -> bool:
    """Whether building the response here gives what parsing the wire gives."""
    if not 101 <= status <= 999 or len(lines) >= _MAX_HEADERS:
        return False
    for name, value in lines:
        if _PLAIN_NAME.fullmatch(name) is None or len(name) + len(value) > 65_000:
            return False
        if _PLAIN_VALUE.fullmatch(value) is None:
            return False
        if name.lower() == "content-type" and _COMPOUND.match(value):
            return False
    return True


def _built(
    req: urllib.request.Request,
    url: str,
    reply: HttpReply,
    lines: list[tuple[str, str]],
) -> http.client.HTTPResponse:
    """The response ``begin()`` reads from the wire, made without the wire: the
    fields it sets, a message holding the header lines as the email parser
    stores them (compat32: the value's leading blanks dropped), an empty payload.
    """
    message = http.client.HTTPMessage()
    for name, value in lines:
        message[name] = value.lstrip(" \t")
    message.set_payload("")
    method = req.get_method()
    response = http.client.HTTPResponse(
        _Wire(reply.body),  # type: ignore[arg-type]
        method=method,
        url=url,
    )
    status = reply.status
    response.code = response.status = status  # type: ignore[attr-defined]
    response.reason = http.client.responses.get(status, "")
    response.version = 11
    response.headers = response.msg = message
    response.chunked = False  # the framing headers are the door's own
    response.will_close = False  # HTTP/1.1, no "Connection: close"
    if status in (204, 304) or status < 200 or method == "HEAD":
        response.length = 0
    else:
        response.length = len(reply.body)
    return response


def _parsed(
    req: urllib.request.Request,
    url: str,
    reply: HttpReply,
    lines: list[tuple[str, str]],
) -> http.client.HTTPResponse:
    """The response ``http.client`` reads from ``reply`` on the wire."""
    reason = http.client.responses.get(reply.status, "")
    wire = [f"HTTP/1.1 {reply.status} {reason}".encode("latin-1")]
    wire.extend(f"{name}: {value}".encode("latin-1") for name, value in lines)
    response = http.client.HTTPResponse(
        _Wire(b"\r\n".join(wire) + b"\r\n\r\n" + reply.body),  # type: ignore[arg-type]
        method=req.get_method(),
        url=url,
    )
    response.begin()
    return response


def _open(
    exchange: Exchange, original: Callable[..., http.client.HTTPResponse]
) -> Callable[[Any, urllib.request.Request], http.client.HTTPResponse]:
    def open_(handler: Any, req: urllib.request.Request) -> http.client.HTTPResponse:
        url = urllib.parse.urldefrag(req.full_url).url
        body = _body(req.data)
        try:
            reply = exchange(req.get_method(), url, _headers(req), body)
        except PassThrough:
            if req.data is not None:
                req.data = body  # what was read of it
            return original(handler, req)
        except TransportFailure as failure:
            if failure.kind == "timeout":
                raise TimeoutError(failure.message) from None
            if failure.kind == "reset":
                raise http.client.RemoteDisconnected(failure.message) from None
            refused = ConnectionRefusedError(errno.ECONNREFUSED, failure.message)
            raise urllib.error.URLError(refused) from None
        return _response(req, req.get_full_url(), reply)

    return open_


@contextmanager
def install(exchange: Exchange) -> Iterator[None]:
    """Every ``urllib.request`` HTTP(S) request, through ``exchange``, until exit."""
    handlers = (
        (urllib.request.HTTPHandler, "http_open"),
        (urllib.request.HTTPSHandler, "https_open"),
    )
    originals = [(cls, name, cls.__dict__[name]) for cls, name in handlers]
    for cls, name, original in originals:
        setattr(cls, name, _open(exchange, original))
    try:
        yield
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
