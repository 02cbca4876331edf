"""The urllib3 door: every urllib3 connection pool answers from the simulation.

``HTTPConnectionPool.urlopen`` (which ``HTTPSConnectionPool`` inherits, and which
``requests``' ``HTTPAdapter``, ``PoolManager`` and the SDKs built on them call) is
replaced for the run: the request goes to the exchange as plain values and comes
back as a real ``urllib3.response.HTTPResponse``, with urllib3's own retry,
redirect and ``Retry-After`` handling (its ``Retry`` object) kept as the caller
configured it. A hook at this level rather than ``responses`` (which patches
``requests`` only) so that plain urllib3 clients are routed as well.

A failure is what urllib3 raises for it: ``timeout`` is ``ReadTimeoutError``
(``requests.exceptions.ReadTimeout``), ``reset`` is ``ProtocolError("Connection
aborted.", ConnectionResetError)`` (``requests.exceptions.ConnectionError``),
``blocked`` is ``NewConnectionError`` (a ``ConnectionError`` too, never sent).
A host ``--aqe-allow-host`` allows gets urllib3's own ``urlopen``.
"""

from __future__ import annotations

import errno
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from harness.gateway.exchange import Exchange, PassThrough, TransportFailure

if TYPE_CHECKING:
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.response import BaseHTTPResponse

LIBRARY = "urllib3"

#: The port a scheme uses when a URL names none.
_DEFAULT_PORTS = {"http": 80, "https": 443}


@contextmanager
def install(exchange: Exchange) -> Iterator[None]:
    """Route every urllib3 pool's ``urlopen`` through ``exchange`` until exit."""
    from urllib3.connectionpool import HTTPConnectionPool

    original = HTTPConnectionPool.__dict__["urlopen"]
    HTTPConnectionPool.urlopen = _urlopen(exchange, original)  # type: ignore[method-assign]
    try:
        yield
    finally:
        HTTPConnectionPool.urlopen = original  # type: ignore[method-assign]


def _urlopen(exchange: Exchange, original: Any) -> Any:
    from urllib3 import HTTPHeaderDict
    from urllib3.exceptions import HostChangedError, MaxRetryError
    from urllib3.response import HTTPResponse
    from urllib3.util.retry import Retry
    from urllib3.util.timeout import _DEFAULT_TIMEOUT

    def urlopen(  # the signature of urllib3 2.x's, keyword for keyword
        self: HTTPConnectionPool,
        method: str,
        url: str,
        body: Any = None,
        headers: Any = None,
        retries: Any = None,
        redirect: bool = True,
        assert_same_host: bool = True,
        timeout: Any = _DEFAULT_TIMEOUT,
        pool_timeout: int | None = None,
        release_conn: bool | None = None,
        chunked: bool = False,
        body_pos: Any = None,
        preload_content: bool = True,
        decode_content: bool = True,
        **response_kw: Any,
    ) -> BaseHTTPResponse:
        if headers is None:
            headers = self.headers
        if not isinstance(retries, Retry):
            retries = Retry.from_int(retries, redirect=redirect, default=self.retries)
        if assert_same_host and not self.is_same_host(url):
            raise HostChangedError(self, url, retries)
        target = _absolute(self, url)
        content = _content(body, method)
        pairs = _header_pairs(headers)
        while True:
            try:
                reply = exchange(method, target, pairs, content)
            except PassThrough:
                return original(  # type: ignore[no-any-return]
                    self,
                    method,
                    url,
                    None if body is None else content,
                    headers,
                    retries=retries,
                    redirect=redirect,
                    assert_same_host=assert_same_host,
                    timeout=timeout,
                    pool_timeout=pool_timeout,
                    release_conn=release_conn,
                    chunked=chunked,
                    body_pos=body_pos,
                    preload_content=preload_content,
                    decode_content=decode_content,
                    **response_kw,
                )
            except TransportFailure as failure:
                retries = retries.increment(
                    method,
                    url,
                    error=_error(self, url, failure),
                    _pool=self,
                    _stacktrace=failure.__traceback__,
                )
                retries.sleep()
                continue
            reply_headers = HTTPHeaderDict()
            for name, value in reply.headers:
                reply_headers.add(name, value)
            response = HTTPResponse(
                body=io.BytesIO(reply.body),
                headers=reply_headers,
                status=reply.status,
                version=11,
                version_string="HTTP/1.1",
                preload_content=preload_content,
                decode_content=decode_content,
                pool=self,
                retries=retries,
                request_method=method,
                request_url=target,
            )
            location = redirect and response.get_redirect_location()
            if location:
                if response.status == 303:
                    method, content = "GET", b""
                    headers = HTTPHeaderDict(headers)._prepare_for_method_change()
                try:
                    retries = retries.increment(
                        method, url, response=response, _pool=self
                    )
                except MaxRetryError:
                    if retries.raise_on_redirect:
                        raise
                    return response
                retries.sleep_for_retry(response)
                return self.urlopen(
                    method,
                    location,
                    content,
                    headers,
                    retries=retries,
                    redirect=redirect,
                    assert_same_host=assert_same_host,
                    timeout=timeout,
                    pool_timeout=pool_timeout,
                    release_conn=release_conn,
                    chunked=chunked,
                    preload_content=preload_content,
                    decode_content=decode_content,
                    **response_kw,
                )
            if not retries.is_retry(
                method, response.status, bool(response.headers.get("Retry-After"))
            ):
                return response
            try:
                retries = retries.increment(method, url, response=response, _pool=self)
            except MaxRetryError:
                if retries.raise_on_status:
                    raise
                return response
            retries.sleep(response)

    return urlopen


def _absolute(pool: HTTPConnectionPool, url: str) -> str:
    """The full URL a pool's request is for (a proxied pool is given one)."""
    if not url.startswith("/"):
        from urllib3.util.url import parse_url

        return str(parse_url(url)._replace(fragment=None).url)
    host = pool.host
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = pool.port
    if port is not None and port != _DEFAULT_PORTS.get(pool.scheme):
        host = f"{host}:{port}"
    return f"{pool.scheme}://{host}{url}"


def _content(body: Any, method: str) -> bytes:
    """The whole body: bytes, str, a file object or an iterable of chunks."""
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    from urllib3.util.request import body_to_chunks

    chunks: Iterable[bytes | str] = (
        body_to_chunks(body, method=method, blocksize=16384).chunks or ()
    )
    return b"".join(c.encode() if isinstance(c, str) else bytes(c) for c in chunks)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [(_text(name), _text(value)) for name, value in headers.items()]


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _error(pool: HTTPConnectionPool, url: str, failure: TransportFailure) -> Exception:
    """The exception urllib3 itself raises for ``failure``."""
    from urllib3.exceptions import NewConnectionError, ProtocolError, ReadTimeoutError

    if failure.kind == "timeout":
        return ReadTimeoutError(pool, url, "Read timed out.")
    if failure.kind == "reset":
        return ProtocolError(
            "Connection aborted.",
            ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        )
    # a connection never opened, named (by urllib3) by its host and port
    connection: Any = pool.ConnectionCls(host=pool.host, port=pool.port)
    return NewConnectionError(connection, failure.message)
