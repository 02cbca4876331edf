"""The httpx door: one respx router per process sends every httpx request to the
run's exchange.

respx is httpx's own mocker: while its router is started, every ``httpx.Client``
and ``httpx.AsyncClient`` (built before the run or during it, by the agent or
inside an SDK) asks it first, in every thread. The router is built once per
process, with one catch-all route, and a run only swaps its exchange in
(:func:`router` returns the run's handle; entering it starts the router with that
exchange, leaving it stops the router and clears the exchange), so a run costs
no router, route or call list of its own.

The router answers a request itself: it turns the request into plain values for
the exchange (:mod:`harness.gateway.exchange`) and the answer into an
``httpx.Response``, and keeps no record of the call (respx's call lists are
``unittest.mock`` objects; the gateway's history is the record). Failures are
httpx's own, with the request attached: ``timeout`` is ``ReadTimeout``,
``reset`` ``RemoteProtocolError``, ``blocked`` ``ConnectError``; a request the
exchange passes through (an allowed host) goes out by httpx's own transport.
httpx is always installed, so this door is not in the optional registry: the
sandbox enters it for every run, in process and in the agent's own.

The router patches httpx through its own respx mocker (:class:`SimulationMocker`,
respx's httpx mocker with a lighter transport): respx's builds a
``MockTransport``, a fallback list and an ``inspect`` check for every request;
this one hands the client a small transport that asks the router and, for a
request the router passes through, the client's own transport.
"""

from __future__ import annotations

import pkgutil
import threading
from collections.abc import Callable
from functools import cache
from types import TracebackType
from typing import Any, ClassVar, cast

import httpx
import respx
from respx.mocks import HTTPXMocker, Mocker
from respx.models import PassThrough as RespxPassThrough

from harness.gateway.exchange import (
    RUN_ENDED,
    Exchange,
    PassThrough,
    Serving,
    TransportFailure,
)

_ERRORS: dict[str, type[httpx.TransportError]] = {
    "timeout": httpx.ReadTimeout,
    "reset": httpx.RemoteProtocolError,
    "blocked": httpx.ConnectError,
}


class _Simulated(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """What a client's ``_transport_for_url`` returns while the router is
    started: the router's answer, or (passed through) the client's own
    transport's."""

    __slots__ = ("client", "own", "url")

    def __init__(self, client: Any, own: Callable[..., Any], url: httpx.URL) -> None:
        self.client = client
        self.own = own
        self.url = url

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return ROUTER.handler(request)
        except RespxPassThrough:
            transport: httpx.BaseTransport = self.own(self.client, self.url)
            return transport.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        try:
            return ROUTER.handler(request)
        except RespxPassThrough:
            transport: httpx.AsyncBaseTransport = self.own(self.client, self.url)
            return await transport.handle_async_request(request)


class _MethodPatch:
    """One method of one class replaced while started, as respx's ``mock.patch``
    replaces it (the method found there is the spec the mock wraps; stopping puts
    it back, or removes the replacement when the method was inherited)."""

    __slots__ = ("local", "make", "name", "original", "owner")

    def __init__(
        self, owner: type, name: str, make: Callable[[Any], Callable[..., Any]]
    ) -> None:
        self.owner, self.name, self.make = owner, name, make
        self.original: Any = None
        self.local = False

    def start(self) -> None:
        found = self.owner.__dict__.get(self.name, _MISSING)
        self.local = found is not _MISSING
        self.original = found if self.local else getattr(self.owner, self.name)
        setattr(self.owner, self.name, self.make(self.original))

    def stop(self) -> None:
        if self.local:
            setattr(self.owner, self.name, self.original)
        else:
            delattr(self.owner, self.name)
        self.original = None


_MISSING = object()


@cache
def _target(name: str) -> Any:
    """A mocker's target class by its dotted name, resolved once per process."""
    return pkgutil.resolve_name(name)


def _unused_name(base: str) -> str:
    """``base``, or ``base-N`` when an earlier import of this module took it:
    respx refuses a second mocker of a name, so a process that imports this
    module again (``importlib.reload``, an in-process pytester run restoring
    ``sys.modules``) could not load the httpx door at all. Each copy's routers
    use its own mocker, by its own name."""
    name, n = base, 1
    while name in Mocker.registry:
        n += 1
        name = f"{base}-{n}"
    return name


class SimulationMocker(HTTPXMocker):
    """respx's httpx mocker (the same method of the same clients is patched),
    whose patched method returns a :class:`_Simulated` transport.

    It starts and stops as respx's mockers do (once for all its routers), but
    patches with :class:`_MethodPatch` rather than ``mock.patch``, which resolves
    each target by import at every start: a run starts and stops the router.
    """

    name: ClassVar[str] = _unused_name("aqe")
    targets: ClassVar[list[str]] = list(HTTPXMocker.targets)
    target_methods: ClassVar[list[str]] = list(HTTPXMocker.target_methods)

    @classmethod
    def start(cls) -> None:
        if cls._patches:  # started already (respx's own rule)
            return
        patches = cast("list[Any]", cls._patches)
        for target in cls.targets:
            owner = _target(target)
            for method in cls.target_methods:
                if hasattr(owner, method):
                    patch = _MethodPatch(owner, method, cls.mock)
                    patch.start()
                    patches.append(patch)

    @classmethod
    def stop(cls, force: bool = False) -> None:
        if cls.routers and not force:  # a router still uses it (respx's own rule)
            return
        while cls._patches:
            cls._patches.pop().stop()

    @classmethod
    def mock(cls, spec: Callable[..., Any]) -> Callable[..., Any]:
        """The patched ``_transport_for_url``; ``spec`` is httpx's own."""

        def _transport_for_url(self: Any, url: httpx.URL) -> _Simulated:
            return _Simulated(self, spec, url)

        return _transport_for_url


#: Request headers already decoded, by their raw bytes (a client sends the same
#: few sets, over and over).
_DECODED: dict[tuple[tuple[bytes, bytes], ...], tuple[tuple[str, str], ...]] = {}


def _request_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    """The request's headers as ``multi_items()`` decodes them (ASCII, else the
    encoding httpx settles on), in their own case."""
    raw = tuple(headers.raw)
    decoded = _DECODED.get(raw)
    if decoded is None:
        try:
            decoded = tuple((k.decode("ascii"), v.decode("ascii")) for k, v in raw)
        except UnicodeDecodeError:
            encoding = headers.encoding
            decoded = tuple((k.decode(encoding), v.decode(encoding)) for k, v in raw)
        if len(_DECODED) >= 1024:
            _DECODED.clear()
        _DECODED[raw] = decoded
    return list(decoded)


#: Response headers already made (the fakes answer with the same few sets).
_HEADERS: dict[tuple[tuple[str, str], ...], httpx.Headers] = {}


def _response_headers(pairs: tuple[tuple[str, str], ...]) -> httpx.Headers:
    """``pairs`` as ``httpx.Headers`` (a response copies them)."""
    try:
        made = _HEADERS.get(pairs)
    except TypeError:  # a door's reply with a list among its pairs
        return httpx.Headers(list(pairs))
    if made is None:
        if len(_HEADERS) >= 1024:
            _HEADERS.clear()
        made = _HEADERS[pairs] = httpx.Headers(list(pairs))
    return made


class SimulationRouter(respx.MockRouter):
    """The process's respx router: one catch-all route, answered by the exchange
    of the run being served (the innermost, if a run is opened inside another).

    Its routes never change, so starting it snapshots nothing and stopping it
    rolls nothing back (respx copies its call lists, ``unittest.mock`` objects,
    at every start); it records no calls.
    """

    def __init__(self) -> None:
        super().__init__(
            assert_all_called=False,
            assert_all_mocked=False,
            using=SimulationMocker.name,
        )
        #: The one route every request resolves to.
        self.simulation = self.route(name="simulation")
        #: The exchanges of the runs being served, innermost last.
        self.serving = Serving()
        self._lock = threading.Lock()

    def snapshot(self) -> None:
        """Nothing to snapshot: the routes are fixed."""

    def rollback(self) -> None:
        """Nothing to roll back: the routes are fixed."""

    def serve(self, exchange: Exchange) -> None:
        """Answer from ``exchange`` until :meth:`release`; start when first."""
        with self._lock:
            self.serving.push(exchange)
            self.start()

    def release(self, exchange: Exchange) -> None:
        """Stop answering from ``exchange``; stop when it was the last."""
        with self._lock:
            if self.serving.remove(exchange):
                self.stop()

    def handler(self, request: httpx.Request) -> httpx.Response:
        """The run's answer to ``request`` (respx's :meth:`Router.handler`,
        without its matching and call records)."""
        exchange = self.serving.current()
        if exchange is None:
            raise httpx.ConnectError(RUN_ENDED, request=request)
        try:
            reply = exchange(
                request.method,
                str(request.url),
                _request_headers(request.headers),
                request.read(),
            )
        except PassThrough:  # an allowed host (--aqe-allow-host): httpx sends it
            raise RespxPassThrough(
                "an allowed host", request=request, origin=self.simulation
            ) from None
        except TransportFailure as failure:
            raise _ERRORS[failure.kind](failure.message, request=request) from None
        # the reply's headers are those httpx would give ``content=`` (its own
        # content-length included), so the body goes as the transport's stream:
        # read once, by the client, as a real transport's is
        return httpx.Response(
            reply.status,
            headers=_response_headers(reply.headers),
            stream=httpx.ByteStream(reply.body),
            request=request,
        )

    async def async_handler(self, request: httpx.Request) -> httpx.Response:
        """:meth:`handler`, for an async client (the exchange answers at once)."""
        return self.handler(request)


#: The process's router, built when this module is imported (a fork server
#: imports it, so each run's process starts with it).
ROUTER = SimulationRouter()


class Routing:
    """One run's httpx routing: entering it serves ``exchange`` from the
    process's router, leaving it stops."""

    __slots__ = ("exchange",)

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    def __enter__(self) -> Routing:
        ROUTER.serve(self.exchange)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        ROUTER.release(self.exchange)


def router(exchange: Exchange) -> Routing:
    """Every httpx request answered from ``exchange``, while entered."""
    return Routing(exchange)
