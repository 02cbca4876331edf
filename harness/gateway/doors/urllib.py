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
    reason = http.client.responses.get(reply.status, "")
    lines = [f"HTTP/1.1 {reply.status} {reason}".encode("latin-1")]
    for name, value in reply.headers:
        if name.lower() not in _FRAMING:
            lines.append(f"{name}: {value}".encode("latin-1"))
    lines.append(f"Content-Length: {len(reply.body)}".encode("latin-1"))
    wire = b"\r\n".join(lines) + b"\r\n\r\n" + reply.body
    response = http.client.HTTPResponse(
        _Wire(wire),  # type: ignore[arg-type]
        method=req.get_method(),
        url=url,
    )
    response.begin()
    response.url = url  # as do_open sets them
    response.msg = response.reason  # type: ignore[assignment]
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
