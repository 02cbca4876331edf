"""Handing a task to the agent: one delivery, in whichever process the agent runs.

:func:`deliver` calls the agent once and turns every way it can end (a result,
a crash, ``sys.exit``, ``KeyboardInterrupt``, the harness stopping it) into a
:class:`Delivery`. It runs in the harness's process for ``--aqe-isolation none``
(:func:`in_process`) and in the agent's own process otherwise
(:mod:`harness.isolation`), so both give the same words for the same agent.
"""

from __future__ import annotations

import inspect
import os
import ssl
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

import httpx
from httpx._client import ClientState

from harness.errors import RunAborted
from harness.gateway.allow import NOWHERE, AllowedHost, AllowedHosts
from harness.gateway.doors.httpx import router
from harness.runtime.caught import CaughtWarnings, WarningLog, capture_warnings
from harness.runtime.children import end_if_copy
from harness.runtime.env import AgentEnv, AgentResult, Identity, Task
from harness.runtime.libraries import library_hooks
from harness.runtime.sandbox import Clock, Interrupts, run_async, sandbox

if TYPE_CHECKING:
    from harness.gateway.http import HttpDoor
    from harness.gateway.tools import Tools
    from harness.world.clock import SimClock


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """What one delivery of the task came to."""

    result: AgentResult | None
    #: Why the delivery failed, in words for the ``agent`` score; None if it did not.
    failure: str | None
    #: Whether the harness stopped the agent (no second delivery then).
    stopped: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """The harness's side of a run, as an agent session serves it."""

    task: Task
    identity: Identity
    door: HttpDoor
    tools: Tools
    clock: SimClock
    seed: int
    wall_timeout: float | None
    #: Whether a model answers the run's model calls: its agent likely imports
    #: a model SDK, so process isolation forks it from a fork server of its own
    #: (one that has imported the SDKs), and the others from one that has not.
    modelled: bool = False


class AgentSession(Protocol):
    """The agent, ready to take the task (once, or again for a redelivery)."""

    #: How the run was contained: ``kernel`` (own process, no network namespace
    #: escape), ``process`` (own process, Python-level network guards only),
    #: ``none`` (the harness's process), ``proxy`` (a command without
    #: namespaces: proxy variables only) or ``service`` (an agent service).
    sandbox: str

    def deliver(self) -> Delivery: ...

    def finish(self) -> str | None:
        """After the last delivery: a failure for what the agent left behind
        (threads still running, an ``os._exit`` a thread of its tried)."""
        ...

    @property
    def output(self) -> str:
        """What the agent printed (stdout and stderr), when it was captured."""
        ...

    @property
    def warnings(self) -> CaughtWarnings:
        """The warnings raised during the run (recorded, never raised)."""
        ...


@runtime_checkable
class OutsideAgent(Protocol):
    """An agent that runs outside the harness's process (a command, a service):
    it opens its own session, whatever the session's isolation
    (:mod:`harness.runtime.outside`)."""

    @property
    def spec(self) -> str:
        """How ``--aqe-agent`` names it (``cmd:...``, ``http://...``)."""
        ...

    def open_session(self, stage: Stage) -> AbstractContextManager[AgentSession]: ...


class Isolation(Protocol):
    """Where agents run: :data:`IN_PROCESS`, or in their own processes
    (:class:`harness.isolation.ProcessIsolation`)."""

    def open(
        self, agent: Callable[..., Any], stage: Stage
    ) -> AbstractContextManager[AgentSession]: ...


@runtime_checkable
class SpawnsAgents(Protocol):
    """An isolation that loads agents in their own processes
    (:class:`harness.isolation.ProcessIsolation`): given a spec, it hands back a
    stand-in for the agent its fork server imported, so the harness's process
    never runs a line of the agent's code, not even at import."""

    def spawned(self, spec: str) -> Callable[..., Any]: ...


def agent_name(agent: object) -> str:
    """How traces name an agent: its spec for one outside the process, else
    ``module:qualname`` (a fork server names the agent it loaded the same way)."""
    if opens_own_session(agent):
        return agent.spec
    name = getattr(agent, "__aqe_agent__", None)  # a fork server's stand-in
    if isinstance(name, str):
        return name
    module = getattr(agent, "__module__", None) or "?"
    qualname = getattr(agent, "__qualname__", None) or type(agent).__name__
    return f"{module}:{qualname}"


def opens_own_session(agent: object) -> TypeGuard[OutsideAgent]:
    """Whether ``agent`` opens its own session: ``isinstance(agent,
    OutsideAgent)``, asked only of an agent with an ``open_session`` (a runtime
    protocol's check walks the protocol's members; an agent function has none)."""
    return hasattr(agent, "open_session") and isinstance(agent, OutsideAgent)


def deliver(
    agent: Callable[..., Any],
    task: Task,
    env: AgentEnv,
    clock: Clock,
    interrupts: Interrupts,
) -> Delivery:
    """Hand ``task`` to the agent once (see the module docstring)."""
    pid = os.getpid()
    try:
        return _deliver(agent, task, env, clock, interrupts)
    finally:  # a copy the agent forked, out of its code: it goes, silently
        end_if_copy(pid)


def _deliver(
    agent: Callable[..., Any],
    task: Task,
    env: AgentEnv,
    clock: Clock,
    interrupts: Interrupts,
) -> Delivery:
    left: list[str] = []
    try:
        with library_hooks():  # e.g. an SDK's exporter thread: see its module
            outcome = agent(task, env)
            if inspect.isawaitable(outcome):
                outcome = run_async(_awaited(outcome), clock, left=left)
        result = AgentResult.coerce(outcome)
        return Delivery(result=result, failure=tasks_left(left), stopped=False)
    except RunAborted as exc:
        message = f"stopped by the harness ({exc.reason}): {exc.message}"
        return Delivery(result=None, failure=message, stopped=True)
    except Exception as exc:  # the agent's own crash is a recorded failure
        return Delivery(result=None, failure=describe_crash(exc), stopped=False)
    except SystemExit as exc:  # sys.exit() in the agent ends its run, not the session
        message = f"the agent tried to end the process: sys.exit({exc.code!r})"
        return Delivery(result=None, failure=message + where(exc), stopped=True)
    except KeyboardInterrupt as exc:
        if interrupts.from_user:
            raise  # the user's Ctrl-C stops the session
        message = "the agent raised KeyboardInterrupt" + where(exc)
        return Delivery(result=None, failure=message, stopped=True)


def tasks_left(names: list[str]) -> str | None:
    """A failure naming the asyncio tasks still pending when the agent returned."""
    if not names:
        return None
    return (
        f"the agent left {len(names)} task{'s' if len(names) > 1 else ''} running "
        f"after it returned ({', '.join(names)}); they were cancelled; await or "
        "cancel its tasks before returning"
    )


#: Wall seconds the threads an agent leaves behind get, all together, to end
#: after it returns (a worker finishing its last line is not a leak).
GRACE_SECONDS = 0.5
_DUMMY: Any = getattr(threading, "_DummyThread", ())


def threads_left(before: set[int], grace: float = GRACE_SECONDS) -> str | None:
    """A failure naming the threads started since ``before`` that still run after
    ``grace`` wall seconds, daemons too: a thread still running when the agent
    returns may act after the verdict (its calls from then on are refused)."""
    deadline = time.perf_counter() + grace
    left = []
    for thread in threading.enumerate():
        if thread.ident in before or thread is threading.current_thread():
            continue
        if isinstance(thread, _DUMMY):  # a thread not started by Python: not joinable
            continue
        thread.join(max(0.0, deadline - time.perf_counter()))
        if thread.is_alive():
            left.append(thread)
    if not left:
        return None
    names = ", ".join(sorted(t.name for t in left))
    return (
        f"the agent left {len(left)} thread{'s' if len(left) > 1 else ''} running "
        f"after it returned ({names}); their calls from then on are refused; "
        "stop and join its threads before returning"
    )


#: The variables the model SDKs read their key from when given none.
MODEL_KEY_VARIABLES = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY")


@contextmanager
def model_keys(api_key: str) -> Iterator[None]:
    """The run's credential as every model SDK's key (``OpenAI()`` and
    ``Anthropic()`` with no ``api_key``), and never the user's own real key; the
    variables as they were afterwards."""
    saved = {name: os.environ.get(name) for name in MODEL_KEY_VARIABLES}
    os.environ.update(dict.fromkeys(MODEL_KEY_VARIABLES, api_key))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


#: A run's clients' base URL and query parameters: httpx's defaults (no base
#: URL, no parameters), parsed once per process; a client copies them, so it
#: holds what it would from ``""`` and ``None`` without parsing them (most of
#: what building a client cost).
NO_BASE_URL = httpx.URL("")
NO_PARAMS = httpx.QueryParams()


def client_options(api_key: str, tls: Any, *, trust_env: bool = True) -> dict[str, Any]:
    """What a run's ``env.http`` and ``env.ahttp`` are built with, in this
    process or in the run's own: the run's key, a 30 s timeout, the shared TLS
    context, httpx's defaults parsed once (above)."""
    return {
        "headers": {"authorization": f"Bearer {api_key}"},
        "timeout": 30.0,
        "verify": tls,
        "trust_env": trust_env,
        "base_url": NO_BASE_URL,
        "params": NO_PARAMS,
    }


@contextmanager
def in_process(
    agent: Callable[..., Any], stage: Stage, allowed: AllowedHosts = NOWHERE
) -> Iterator[AgentSession]:
    """The agent in the harness's own process: fast, for trusted agents; not a
    security boundary. ``allowed``: the hosts outside the simulation it may reach."""
    # Proxy variables matter only to a request that leaves the simulation (an
    # allowed host's); without one, reading them (all of os.environ, twice) was
    # a sixth of what opening a run cost.
    options = client_options(
        stage.identity.api_key, tls_context(), trust_env=bool(allowed)
    )
    # Made before the sandbox opens: the wall-clock limit is the agent's alone.
    http = httpx.Client(**options)
    made: list[httpx.AsyncClient] = []
    ended: list[bool] = []

    def open_ahttp() -> httpx.AsyncClient:
        ahttp = httpx.AsyncClient(**options)
        if ended:  # first asked for after the run: closed, as the run's would be
            close_async_client(ahttp, stage.clock)
        made.append(ahttp)
        return ahttp

    env = _RunEnv.lazily(
        open_ahttp, http=http, tools=stage.tools, identity=stage.identity
    )
    before = {t.ident for t in threading.enumerate() if t.ident is not None}
    door = stage.door
    if allowed:
        allowed = allowed.with_addresses()
    exchange = allowed.guard(door.exchange)
    with (
        model_keys(stage.identity.api_key),
        capture_warnings() as log,
        sandbox(
            clock=stage.clock,
            router=router(exchange),
            block=door.gateway.block,
            seed=stage.seed,
            wall_timeout=stage.wall_timeout,
            exchange=exchange,
            allowed=allowed,
            started=door.gateway.started,
        ) as interrupts,
    ):
        session = _InProcess(agent, stage, env, interrupts, before, log)
        try:
            yield session
        finally:
            http.close()
            ended.append(True)
            for ahttp in made:
                close_async_client(ahttp, stage.clock)


#: Where an :class:`AgentEnv` keeps its ``ahttp`` (its dataclass slot).
_AHTTP: Any = AgentEnv.__dict__["ahttp"]


class _RunEnv(AgentEnv):
    """A run's :class:`AgentEnv`, whose ``AsyncClient`` is made the first time
    the agent asks for ``env.ahttp`` (most agents never do: building one was a
    sixth of opening a run); otherwise an ``AgentEnv`` like any other (frozen;
    ``dataclasses.replace`` makes one with the same client)."""

    __slots__ = ("_open_ahttp",)
    _open_ahttp: Callable[[], httpx.AsyncClient]

    @classmethod
    def lazily(
        cls,
        open_ahttp: Callable[[], httpx.AsyncClient],
        *,
        http: httpx.Client,
        tools: Tools,
        identity: Identity,
    ) -> _RunEnv:
        env = cls.__new__(cls)
        for name, value in (
            ("http", http),
            ("tools", tools),
            ("identity", identity),
            ("_open_ahttp", open_ahttp),
        ):
            object.__setattr__(env, name, value)
        return env

    def __repr__(self) -> str:  # as an AgentEnv's (an agent may print it)
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in fields(self))
        return f"{AgentEnv.__qualname__}({shown})"

    @property
    def ahttp(self) -> httpx.AsyncClient:
        try:
            made: httpx.AsyncClient = _AHTTP.__get__(self, AgentEnv)
        except AttributeError:
            made = self._open_ahttp()
            _AHTTP.__set__(self, made)
        return made

    @ahttp.setter
    def ahttp(self, value: httpx.AsyncClient) -> None:  # the dataclass's __init__
        _AHTTP.__set__(self, value)


class _InProcess:
    sandbox = "none"
    output = ""

    def __init__(
        self,
        agent: Callable[..., Any],
        stage: Stage,
        env: AgentEnv,
        interrupts: Interrupts,
        before: set[int],
        log: WarningLog,
    ) -> None:
        self._agent, self._stage, self._env = agent, stage, env
        self._interrupts, self._before, self._log = interrupts, before, log

    @property
    def warnings(self) -> CaughtWarnings:
        return self._log.caught()

    def deliver(self) -> Delivery:
        stage = self._stage
        return deliver(
            self._agent, stage.task, self._env, stage.clock, self._interrupts
        )

    def finish(self) -> str | None:
        if self._interrupts.exits:  # from a thread of the agent's
            return self._interrupts.exits[0]
        return threads_left(self._before)


class InProcessIsolation:
    """``--aqe-isolation none``: every agent in the harness's process.

    ``allow_hosts``: hosts outside the simulation runs may reach, as
    ``--aqe-allow-host`` takes them (``HOST``, ``HOST:PORT``, ``[IPv6]:PORT``).
    """

    def __init__(self, *, allow_hosts: Iterable[str | AllowedHost] = ()) -> None:
        self.allow_hosts = AllowedHosts.parse(allow_hosts)

    def open(
        self, agent: Callable[..., Any], stage: Stage
    ) -> AbstractContextManager[AgentSession]:
        return in_process(agent, stage, self.allow_hosts)


#: ``--aqe-isolation none``: every agent in the harness's process.
IN_PROCESS: Isolation = InProcessIsolation()


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """One TLS context for every run's clients (loading CA certificates is slow)."""
    return ssl.create_default_context()


def close_async_client(client: httpx.AsyncClient, clock: Clock) -> None:
    """Close a run's ``AsyncClient``, on the simulated clock. One the agent never
    opened (no request, no ``async with``) holds no connection, so closing it only
    marks it closed, as ``aclose`` then does: no event loop is made for it."""
    if client._state is ClientState.UNOPENED:
        client._state = ClientState.CLOSED
        return
    run_async(client.aclose(), clock)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable


def describe_crash(exc: BaseException) -> str:
    return f"the agent raised {type(exc).__name__}: {exc}{where(exc)}"


def where(exc: BaseException) -> str:
    """`` at FILE:LINE`` of the innermost frame an exception came from."""
    frames = traceback.extract_tb(exc.__traceback__)
    return f" at {shown(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""


def shown(filename: str) -> str:
    """A source file as a trace names it: relative to the working directory, else
    to the import path it was found on, so the same run gives the same bytes in
    any checkout or virtualenv."""
    path = Path(filename).resolve()
    entries = sorted(  # the most specific import path first
        (Path(p).resolve() for p in sys.path if p), key=lambda p: -len(p.parts)
    )
    for base in (Path.cwd().resolve(), *entries):
        if path.is_relative_to(base):
            return path.relative_to(base).as_posix()
    return path.name
