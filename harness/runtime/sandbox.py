"""The run sandbox: what is patched while an agent runs, and restored after.

* time: ``time.sleep/time/monotonic`` (and ``_ns``), ``datetime.now/utcnow/today``
  and ``date.today`` (patched at the C level by time-machine) follow the simulated
  clock in the agent's threads (the run's, and any started during it), so an
  SDK's backoff costs no wall time and a timestamp the agent writes is the same
  in every run; async agents run on an event loop whose clock is the simulated
  one.
* threads: work the agent hands to a ``ThreadPoolExecutor`` (a framework's tool
  pool, ``asyncio.to_thread``, ``run_in_executor``) or to
  ``anyio.to_thread.run_sync`` runs at once in the thread that submitted it, so
  its calls come in one order, the order inline code would make them; threads
  the agent starts itself run as threads, inside the same guards; those still
  alive when the run ends stay off the network afterwards.
* randomness: the global ``random`` module is seeded from the run seed (as
  pytest-randomly does) and ``uuid.uuid4`` draws from it (its code is swapped,
  so a module that imported the function draws the same), so SDK jitter and
  generated ids are reproducible; an id drawn while a module is imported (a
  library's process-wide constant) is not the run's, so the run that first
  imports a library draws what every later run draws.
* network: respx routes every httpx client to the HTTP door (one router per
  process, serving the run's exchange while it is open), and the client doors
  (:mod:`harness.gateway.doors`: requests/urllib3, httpx2, aiohttp, urllib) every
  other client; raw socket connects and name lookups are refused and recorded as
  security violations, so a client without a door is stopped too, at once;
  hosts ``--aqe-allow-host`` allows are the exception (their requests, lookups
  and TCP connections go out for real; an event loop waiting on one waits in
  wall time). The httpx and httpx2 clients an SDK builds during the run share
  one default TLS context per process (:mod:`.tls`): loading CA files is most
  of what building an SDK's client costs.
* a wall-clock alarm stops an agent stuck in a loop that makes no tool calls (in
  the harness's own process; an agent in its own process is killed instead).
* interrupts: a SIGINT (the user's Ctrl-C) is noted, so a ``KeyboardInterrupt``
  the agent raises by itself can be told from one that must stop the session;
  ``os._exit`` called by the agent ends its run (in the run's thread) or is
  refused (in its other threads), never the session, and fails the run.
* child processes: every program the agent starts is recorded (``started``) and
  gets proxy variables that lead nowhere; ``os.exec*`` is refused as
  ``os._exit`` is (:mod:`.children`).
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]
import asyncio
import os
import platform
import random
import selectors
import signal
import socket
import sys
import threading
import time
import types
import uuid
import warnings
import weakref
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from functools import cache
from types import FrameType
from typing import Any, Protocol, TypeVar

import time_machine

from harness.errors import RunAborted
from harness.gateway.allow import NOWHERE, AllowedHosts
from harness.gateway.doors import client_doors
from harness.gateway.doors.httpx import Routing
from harness.gateway.exchange import Exchange
from harness.runtime.children import Started, guard_children
from harness.runtime.inline_anyio import inline_anyio
from harness.runtime.tls import shared_tls_contexts

T = TypeVar("T")


class Clock(Protocol):
    """What the sandbox needs of a clock: the run's, or its mirror in the agent's
    own process."""

    def advance(self, seconds: float) -> None: ...
    def epoch(self) -> float: ...
    def monotonic(self) -> float: ...


class Block(Protocol):
    """Records a connection the sandbox refused (the gateway's ``block``)."""

    def __call__(self, *, method: str, url: str, door: str) -> None: ...


class Connect(Protocol):
    """Connects a socket to an allowed address (in the agent's own process: by
    the harness, whose network it is)."""

    def __call__(self, sock: socket.socket, address: Any, /) -> None: ...


_real_sleep = time.sleep
_real_time = time.time
_real_time_ns = time.time_ns
_real_monotonic = time.monotonic
_real_monotonic_ns = time.monotonic_ns
_REAL_TIME_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sleep": _real_sleep,
    "time": _real_time,
    "time_ns": _real_time_ns,
    "monotonic": _real_monotonic,
    "monotonic_ns": _real_monotonic_ns,
}
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
#: The run's open connections to allowed hosts (an event loop waits for them in
#: wall time, see :class:`_VirtualSelector`).
_OUTSIDE: weakref.WeakSet[socket.socket] = weakref.WeakSet()
#: ``uuid.uuid4`` itself: a run swaps its code, not the module's attribute, so a
#: module that took the function (``from uuid import uuid4``) before a run, or
#: during one, calls what every other caller calls.
_uuid4 = uuid.uuid4
_UUID4_CODE = _uuid4.__code__
#: The real draw, whatever a run has made of ``uuid.uuid4``.
_real_uuid4: Callable[[], uuid.UUID] = types.FunctionType(
    _UUID4_CODE, _uuid4.__globals__, "uuid4"
)


def _run_uuid4() -> uuid.UUID:  # its code runs as uuid.uuid4's, in uuid's globals
    return _aqe_run_uuid4()  # type: ignore[name-defined, no-any-return]  # noqa: F821


#: The C-level handler functions under ``signal.signal`` and ``getsignal``, which
#: turn each number and handler into an enum and back (a handler that is a
#: function costs them a caught ``ValueError``): a run swaps four handlers.
_set_handler: Callable[[int, Any], Any] = _signal.signal
_get_handler: Callable[[int], Any] = _signal.getsignal
_SIGINT, _SIGALRM = int(signal.SIGINT), int(signal.SIGALRM)

_AF_UNIX = getattr(socket, "AF_UNIX", -1)
_real_submit = ThreadPoolExecutor.submit
_real_exit = os._exit
#: Where ``_exit`` is reachable from (``os._exit`` is ``posix._exit``).
_EXIT_MODULES: tuple[Any, ...] = tuple(
    m for m in (os, sys.modules.get("posix"), sys.modules.get("nt")) if m is not None
)


class AgentThreads:
    """Which threads are the agent's: the run's own, and every thread started
    while the run is open (an SDK's workers, a framework's pool, the agent's)."""

    def __init__(self) -> None:
        self.run = threading.get_ident()
        self._before = {t.ident for t in threading.enumerate()} - {self.run}

    def __call__(self) -> bool:
        ident = threading.get_ident()
        return ident == self.run or ident not in self._before

    def alive(self) -> list[threading.Thread]:
        """The threads started during the run that still run."""
        return [
            t
            for t in threading.enumerate()
            if t.ident not in self._before and t.ident != self.run
        ]


#: Threads still running when their run ended (in the harness's own process):
#: they stay off the network for good, as the agent's process would be gone.
_LATE: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


def _late_connect(sock: socket.socket, address: Any) -> None:
    if threading.current_thread() in _LATE and sock.family != _AF_UNIX:
        raise ConnectionRefusedError(
            f"aqe: blocked socket connection to {address_text(address)}: the run"
            " this thread was started in has ended"
        )
    _real_connect(sock, address)


def _late_connect_ex(sock: socket.socket, address: Any) -> int:
    try:
        _late_connect(sock, address)
    except ConnectionRefusedError:
        return 111
    return 0


def _late_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if threading.current_thread() in _LATE:
        raise socket.gaierror(
            socket.EAI_NONAME,
            f"aqe: blocked name lookup of {host}: the run this thread was started"
            " in has ended",
        )
    return _real_getaddrinfo(host, *args, **kwargs)


def _virtual_time(clock: Clock, mine: AgentThreads) -> dict[str, Callable[..., Any]]:
    def sleep(seconds: float) -> None:
        if mine():
            clock.advance(max(0.0, float(seconds)))
        else:
            _real_sleep(seconds)

    def now() -> float:
        return clock.epoch() if mine() else _real_time()

    def now_ns() -> int:
        return int(clock.epoch() * 1e9) if mine() else _real_time_ns()

    def mono() -> float:
        return clock.monotonic() if mine() else _real_monotonic()

    def mono_ns() -> int:
        return int(clock.monotonic() * 1e9) if mine() else _real_monotonic_ns()

    return {
        "sleep": sleep,
        "time": now,
        "time_ns": now_ns,
        "monotonic": mono,
        "monotonic_ns": mono_ns,
    }


def _inline_submit(
    mine: AgentThreads, interrupts: Interrupts
) -> Callable[..., Future[Any]]:
    """``ThreadPoolExecutor.submit`` for the agent's threads: the work runs at
    once, in the submitting thread, so a framework's pool (submit, then wait)
    calls tools in one order, in simulated time, exactly as inline code would."""

    def submit(
        self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        if not mine():
            return _real_submit(self, fn, *args, **kwargs)
        if getattr(self, "_shutdown", False):
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: Future[Any] = Future()
        future.set_running_or_notify_cancel()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # as a worker thread hands it to the waiter
            if isinstance(exc, KeyboardInterrupt) and interrupts.from_user:
                raise  # the user's Ctrl-C stops the session, not one task
            future.set_exception(exc)
        else:
            future.set_result(result)
        return future

    return submit


@contextmanager
def sandbox(
    *,
    clock: Clock,
    router: Routing,
    block: Block,
    seed: int,
    wall_timeout: float | None,
    exchange: Exchange | None = None,
    allowed: AllowedHosts = NOWHERE,
    connect: Connect = _real_connect,
    lookup: Callable[..., Any] = _real_getaddrinfo,
    started: Started | None = None,
) -> Iterator[Interrupts]:
    """Patch time, randomness and the network for one run; restore on exit.

    ``router`` sends every httpx request to the simulation (the process's
    respx router, serving the run: :func:`harness.gateway.doors.httpx.router`);
    ``exchange`` every other client library's (:mod:`harness.gateway.doors`);
    ``block`` records the connections refused below them; ``started`` the
    programs the agent starts.
    ``allowed`` hosts are reached with ``connect`` and resolved with ``lookup``
    (``getaddrinfo``'s signature).
    """
    # asked once, before the guards: SDKs ask for it on their first request (the
    # openai SDK's platform headers run ``uname -p``), and a run must not differ
    # from the next by being the first in its process
    platform.processor()
    thread = threading.get_ident()
    mine = AgentThreads()
    interrupts = Interrupts()
    patched = _virtual_time(clock, mine)
    random_state = random.getstate()
    random.seed(seed)

    def uuid4() -> uuid.UUID:
        if not mine() or _importing():
            return _real_uuid4()
        return uuid.UUID(int=random.getrandbits(128), version=4)

    def refuse(sock: socket.socket, address: Any) -> None:
        if not mine() or sock.family == _AF_UNIX:
            _real_connect(sock, address)
            return
        if allowed and _allowed_connection(allowed, sock, address):
            _OUTSIDE.add(sock)  # before: a non-blocking connect raises in progress
            connect(sock, address)
            return
        where = address_text(address)
        block(method="CONNECT", url=f"tcp://{where}", door="socket")
        raise ConnectionRefusedError(
            f"aqe: blocked socket connection to {where}: only simulated "
            "hosts are reachable during a run"
        )

    def resolve(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not mine():
            return _real_getaddrinfo(host, *args, **kwargs)
        name = host.decode("idna") if isinstance(host, bytes) else host
        if allowed and isinstance(name, str) and allowed.resolves(name):
            return lookup(host, *args, **kwargs)
        block(method="RESOLVE", url=f"dns://{host}", door="socket")
        raise socket.gaierror(
            socket.EAI_NONAME,
            f"aqe: blocked name lookup of {host}: only simulated hosts are "
            "reachable during a run",
        )

    def refuse_ex(sock: socket.socket, address: Any) -> int:
        try:
            refuse(sock, address)
        except ConnectionRefusedError:
            return 111
        except OSError as exc:  # an allowed host's own answer
            if not isinstance(exc.errno, int):
                raise
            return exc.errno
        return 0

    alarm = _Alarm(wall_timeout) if wall_timeout else None
    virtual = _virtual_loop_policy(clock, mine)
    policy = _swap_policy(virtual)
    previous_sigint = interrupts.watch()
    pid = os.getpid()

    def guarded_exit(code: int) -> None:  # a NoReturn that returns: on purpose
        if os.getpid() != pid:  # a forked child ending as it should
            _real_exit(code)
        attempt = f"the agent tried to end the process: os._exit({code!r})"
        interrupts.exits.append(attempt)
        if threading.get_ident() == thread:
            raise RunAborted("exit", attempt)
        # another thread of the agent's: refused (it returns), noted, and the
        # run fails on it

    stack = ExitStack()
    try:
        for module in _EXIT_MODULES:
            setattr(module, "_exit", guarded_exit)  # noqa: B010 - patching, on purpose
        for name, func in patched.items():
            setattr(time, name, func)
        setattr(uuid, "_aqe_run_uuid4", uuid4)  # noqa: B010 - patching, on purpose
        _uuid4.__code__ = _run_uuid4.__code__
        setattr(socket.socket, "connect", refuse)  # noqa: B010
        setattr(socket.socket, "connect_ex", refuse_ex)  # noqa: B010
        setattr(socket, "getaddrinfo", resolve)  # noqa: B010
        ThreadPoolExecutor.submit = _inline_submit(mine, interrupts)  # type: ignore[method-assign]
        stack.callback(setattr, ThreadPoolExecutor, "submit", _real_submit)
        inline_anyio(mine, stack)
        stack.callback(_travel(clock, mine).stop)
        if exchange is not None:
            stack.enter_context(client_doors(exchange))
        stack.enter_context(shared_tls_contexts())
        stack.enter_context(
            guard_children(mine=mine, started=started, refusals=interrupts.exits)
        )
        with router:
            if alarm is not None:
                alarm.start()
            try:
                yield interrupts
            finally:
                if alarm is not None:
                    alarm.stop()
    finally:
        stack.close()
        for module in _EXIT_MODULES:
            setattr(module, "_exit", _real_exit)  # noqa: B010
        interrupts.unwatch(previous_sigint)
        _swap_policy(policy)
        virtual.close_loops()
        for name, func in _REAL_TIME_FUNCTIONS.items():
            setattr(time, name, func)
        _uuid4.__code__ = _UUID4_CODE
        _LATE.update(mine.alive())
        late = bool(_LATE)
        setattr(socket.socket, "connect", _late_connect if late else _real_connect)  # noqa: B010
        setattr(  # noqa: B010
            socket.socket, "connect_ex", _late_connect_ex if late else _real_connect_ex
        )
        setattr(  # noqa: B010
            socket, "getaddrinfo", _late_getaddrinfo if late else _real_getaddrinfo
        )
        random.setstate(random_state)
        _OUTSIDE.clear()


def _importing() -> bool:
    """Whether the caller runs in a module's import: an id a library draws then
    is its own for the life of the process (the first run to import it must
    not draw one more id from the run's stream than the runs after it)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib._bootstrap"):
            return True
        frame = frame.f_back
    return False


def _allowed_connection(
    allowed: AllowedHosts, sock: socket.socket, address: Any
) -> bool:
    """Whether ``sock`` connecting to ``address`` is TCP to an allowed host."""
    return (
        sock.type == socket.SOCK_STREAM
        and sock.family in (socket.AF_INET, socket.AF_INET6)
        and isinstance(address, tuple)
        and len(address) >= 2
        and isinstance(address[0], str)
        and isinstance(address[1], int)
        and allowed.permits(address[0], address[1])
    )


def _travel(clock: Clock, mine: AgentThreads) -> time_machine.travel:
    """Start time-machine's C-level patches with the run's clock as "now" in the
    agent's threads (real time elsewhere); returns what stops them."""
    travel = time_machine.travel(clock.epoch(), tick=False)
    traveller = travel.start()
    original = time_machine.escape_hatch.time.time_ns

    def time_ns() -> int:
        if mine():
            return int(clock.epoch() * 1e9)
        return int(original())

    traveller.time_ns = time_ns  # type: ignore[method-assign]
    return travel


class Interrupts:
    """Whether the user interrupted the run (a SIGINT arrived while it ran)."""

    def __init__(self) -> None:
        self.from_user = False
        #: Calls to ``os._exit`` the agent made, as messages.
        self.exits: list[str] = []

    def watch(self) -> Any:
        """Note SIGINTs, then let them act as before (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return None
        previous = _get_handler(_SIGINT)

        def noted(signum: int, frame: FrameType | None) -> None:
            self.from_user = True
            if callable(previous):
                previous(signum, frame)
            elif previous != signal.SIG_IGN:
                raise KeyboardInterrupt

        _set_handler(_SIGINT, noted)
        return previous

    def unwatch(self, previous: Any) -> None:
        if previous is not None:
            _set_handler(_SIGINT, previous)


def address_text(address: Any) -> str:
    """A socket address as a blocked request's URL names it (``host:port``)."""
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)


class _Alarm:
    """SIGALRM-based wall-clock limit (main thread only; elsewhere a no-op)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._previous: Any = None
        self._armed = False

    def _fire(self, signum: int, frame: FrameType | None) -> None:
        raise RunAborted(
            "wall_timeout",
            f"the agent ran for more than {self.seconds:g} s of wall time "
            "without finishing (hung or stuck in a loop)",
        )

    def start(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        if not hasattr(signal, "setitimer"):
            return
        self._previous = _set_handler(_SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        self._armed = True

    def stop(self) -> None:
        if self._armed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _set_handler(_SIGALRM, self._previous)
            self._armed = False


class _VirtualSelector(selectors.DefaultSelector):
    """Never waits in wall time: an idle wait advances the simulated clock instead."""

    clock: Clock
    idle_wall: float
    #: Calls handed to worker threads (``asyncio.to_thread``, ``run_in_executor``)
    #: that have not finished: their completion will wake the loop.
    in_threads: int = 0

    def select(self, timeout: float | None = None) -> list[Any]:
        ready: list[Any] = super().select(0)
        if ready:
            return ready
        if _OUTSIDE and self._waits_outside():
            # an allowed host answers in wall time: wait for it as a loop would;
            # only a wait it does not end moves the simulated clock
            ready = super().select(timeout)
            if not ready and timeout:
                self.clock.advance(timeout)
            return ready
        if timeout is None and self.in_threads:
            # Work in a thread: wait for it as long as it takes (the wall-clock
            # limit still bounds the run); it is not a deadlock.
            return super().select(None)
        if timeout is None:
            # Nothing scheduled: only another thread could wake us. Give it a
            # moment of real time, then call it a hang.
            ready = super().select(self.idle_wall)
            if ready:
                return ready
            raise RunAborted(
                "deadlock",
                "the async agent is waiting for something that can never happen "
                "(no timer, no I/O, no tool call pending)",
            )
        if timeout > 0:
            self.clock.advance(timeout)
        return []

    def _waits_outside(self) -> bool:
        """Whether the loop waits on a connection to an allowed host."""
        watched = self.get_map()
        return any(s.fileno() in watched for s in list(_OUTSIDE) if s.fileno() >= 0)


def virtual_loop(clock: Clock, *, idle_wall: float = 2.0) -> asyncio.AbstractEventLoop:
    """A new event loop whose time is the simulated clock and that never idles."""
    selector = _VirtualSelector()
    selector.clock = clock
    selector.idle_wall = idle_wall
    loop = _VirtualLoop(selector)
    loop.time = clock.monotonic  # type: ignore[method-assign]
    return loop


class _VirtualLoop(asyncio.SelectorEventLoop):
    """Counts the calls it hands to threads, so waiting for one is not a hang."""

    _selector: _VirtualSelector

    def run_in_executor(  # type: ignore[override]
        self, executor: Any, func: Callable[..., T], *args: Any
    ) -> asyncio.Future[T]:
        future = super().run_in_executor(executor, func, *args)
        selector = self._selector
        selector.in_threads += 1

        def finished(_: Any) -> None:
            selector.in_threads -= 1

        future.add_done_callback(finished)
        return future


def _virtual_loop_policy(clock: Clock, mine: AgentThreads) -> Any:
    """A policy under which loops made in the run's thread (``asyncio.run`` inside
    a sync agent, anyio, SDKs) are virtual-time loops too.

    ``close_loops()``, when the run ends, closes those the agent left open: a
    library's sync wrapper that keeps a thread's loop for its next call (Pydantic
    AI's ``run_sync``) would otherwise leave it to the garbage collector, whose
    ``ResourceWarning`` would land in a later run's trace, or a later test.

    Event loop policies are deprecated from Python 3.14 on; the warning is not the
    user's business, so it is silenced here.
    """
    with _policy_warnings_silenced():
        return _policy_class()(clock, mine)


#: Whether this Python deprecates event loop policies (3.14 on): before, the
#: policy calls warn nothing, and a run does not pay for silencing them.
_POLICIES_DEPRECATED = sys.version_info >= (3, 14)
_NOTHING_TO_SILENCE = nullcontext()


@contextmanager
def _deprecations_ignored() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def _policy_warnings_silenced() -> AbstractContextManager[None]:
    """The event loop policies' deprecation warnings silenced, where they warn."""
    return _deprecations_ignored() if _POLICIES_DEPRECATED else _NOTHING_TO_SILENCE


@cache
def _policy_class() -> Any:
    """The class of :func:`_virtual_loop_policy`'s policies, made once per process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        base: Any = asyncio.DefaultEventLoopPolicy

    class VirtualLoopPolicy(base):  # type: ignore[misc]
        def __init__(self, clock: Clock, mine: AgentThreads) -> None:
            super().__init__()
            self.clock, self.mine = clock, mine
            self.made: list[asyncio.AbstractEventLoop] = []

        def new_event_loop(self) -> asyncio.AbstractEventLoop:
            if self.mine():
                made = virtual_loop(self.clock)
                self.made.append(made)
                return made
            loop: asyncio.AbstractEventLoop = super().new_event_loop()
            return loop

        def close_loops(self) -> None:
            for made in self.made:
                if not made.is_closed() and not made.is_running():
                    made.close()
            self.made.clear()

    return VirtualLoopPolicy


def _swap_policy(policy: Any) -> Any:
    """Install ``policy``; returns the one it replaced."""
    with _policy_warnings_silenced():
        previous = asyncio.get_event_loop_policy()
        asyncio.set_event_loop_policy(policy)
    return previous


def run_async(
    coro: Coroutine[Any, Any, T],
    clock: Clock,
    *,
    idle_wall: float = 2.0,
    left: list[str] | None = None,
) -> T:
    """Run ``coro`` on an event loop whose time is the simulated clock.

    Tasks still pending when it returns are cancelled, as ``asyncio.run`` does;
    their coroutines' names go to ``left``, sorted.
    """
    loop = virtual_loop(clock, idle_wall=idle_wall)
    try:
        return loop.run_until_complete(coro)
    finally:
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            if left is not None:
                left.extend(sorted(_task_name(t) for t in pending))
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(
                    asyncio.gather(*pending, return_exceptions=True)
                )
            loop.run_until_complete(loop.shutdown_asyncgens())
            # as asyncio.run does: the default executor's threads end with the loop
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            loop.close()


def _task_name(task: asyncio.Task[Any]) -> str:
    """A task as a failure names it: its coroutine (``Task-7`` differs by run)."""
    name = str(getattr(task.get_coro(), "__qualname__", None) or task.get_name())
    return name.rpartition("<locals>.")[2]
