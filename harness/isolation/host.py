"""The harness's side of isolated runs: fork servers, and serving one run.

One fork server per agent (per pytest worker), started on the first run and kept
for the session; each run is one fresh process forked from it. While a delivery
is under way the harness waits on three things at once: the run's socket (the
agent's requests, answered from the real gateway and clock), the run's output
pipe (kept, its last 64 KiB), and the server's control socket (the process
ended). A wall-clock deadline bounds it all: past ``--aqe-timeout`` the run's
processes are killed, so no signal handler in the agent's process can be
disarmed to outlast it.
"""

from __future__ import annotations

import errno
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

from harness.agents.loading import load_agent
from harness.errors import AgentLoadError, HarnessError, RunAborted, ToolError
from harness.gateway.allow import NOWHERE, AllowedHost, AllowedHosts
from harness.gateway.exchange import TransportFailure
from harness.isolation import wire
from harness.isolation.warmlists import WarmLists
from harness.runtime import netns
from harness.runtime.caught import CaughtWarnings
from harness.runtime.children import status_text
from harness.runtime.env import AgentResult, Task
from harness.runtime.netns import kernel_attempts, namespaces_unavailable, netns_of
from harness.runtime.session import AgentSession, Delivery, Stage, in_process
from harness.world.clock import EPOCH, MONOTONIC_ORIGIN

#: The fork server's script (standard library only until its namespaces are set).
_SERVER = Path(__file__).with_name("server.py")

#: ``--aqe-memory``'s default: 2 GiB of address space per agent process.
DEFAULT_MEMORY = 2 * 1024**3
#: How much of the agent's output is kept (its tail).
OUTPUT_TAIL = 64 * 1024
#: How long the harness waits for a fork server to answer (starting, reaping).
SERVER_WAIT = 120.0
#: How long the harness tries to connect to an allowed host for the agent.
CONNECT_WAIT = 10.0
#: Module names per ``warm`` packet to the fork server (~10 KiB of JSON).
WARM_PACKET = 250
#: The harness's and the fakes' own code.
_PACKAGE = Path(__file__).resolve().parents[1]
_HARNESS_CODE = (_PACKAGE, _PACKAGE.parent / "fakes")


class ProcessIsolation:
    """``--aqe-isolation process``: each run's agent in a fresh process of its own.

    ``memory``: the address-space limit of each agent process in bytes (None: no
    limit). ``namespaces``: whether to try kernel namespaces (``unshare``); where
    they cannot be had, runs fall back to the Python-level guards and say so
    (:attr:`notes`, and ``sandbox: process`` in their records). ``allow_hosts``:
    hosts outside the simulation runs may reach, as ``--aqe-allow-host`` takes
    them; the harness makes those connections, in its own network, and hands
    them to the agent's process. ``warm_lists``: where each fork server's
    modules are kept between sessions (:mod:`.warmlists`), so the next
    session's server imports them before its first run, not after.
    """

    def __init__(
        self,
        *,
        memory: int | None = DEFAULT_MEMORY,
        namespaces: bool = True,
        read_only: tuple[Path, ...] = (),
        allow_hosts: Iterable[str | AllowedHost] = (),
        warm_lists: WarmLists | None = None,
    ):
        self.memory = memory
        self.warm_lists = warm_lists
        self.namespaces = namespaces
        self.allow_hosts = AllowedHosts.parse(allow_hosts)
        #: Paths the agent's process may read but not change (the harness's own
        #: code always).
        self.read_only = tuple(
            dict.fromkeys([*(p.resolve() for p in read_only), *_HARNESS_CODE])
        )
        #: Per agent, two fork servers: one for runs a model answers (it comes
        #: to hold the model SDKs their agents import: a heap of ~200 MB) and one
        #: for the rest, whose heap stays small, so forking and ending each of
        #: their processes costs a third as much.
        self._servers: dict[tuple[str, bool], _Server] = {}
        #: The planned runs' tasks per agent and kind (see :meth:`plan`).
        self._plans: dict[tuple[str, bool], list[dict[str, Any]]] = {}
        #: Why runs could not be kernel-sandboxed.
        self.notes: list[str] = []

    def plan(
        self,
        spec: str,
        tasks: Mapping[bool, Sequence[Task]],
        *,
        start: Iterable[bool] = (),
    ) -> None:
        """Say what this session will run of the agent ``spec`` names
        (``module:callable``): the tasks of its runs (as their scenarios state
        them), by whether a model answers them. Each fork server for it then
        imports what the agent declares those runs import
        (:mod:`harness.runtime.imports`) before its first fork, and the servers
        of ``start``'s kinds start now, not waited for, so what they import
        overlaps with the harness's own work and with runs of the other kind."""
        for modelled, planned in tasks.items():
            key = (spec, modelled)
            self._plans[key] = [_task_fields(t) for t in planned]
            early = self._servers.get(key)
            if early is not None:  # started before the plan: handed it now
                early.hand_tasks(self._plans[key])
        for modelled in dict.fromkeys(start):
            key = (spec, modelled)
            if key not in self._servers:
                self._servers[key] = self._launch(spec, modelled)

    def spawned(self, spec: str) -> Callable[..., Any]:
        """A stand-in for the agent ``spec`` names, which only its fork servers
        import (see :class:`SpawnedAgent`)."""
        return SpawnedAgent(spec, self)

    def loaded_name(self, spec: str) -> str:
        """``module:qualname`` of the agent ``spec`` names, as a fork server
        that imported it said (its non-model server started if none has)."""
        for (named, _), server in self._servers.items():
            if named == spec and server.ready and server.agent:
                return server.agent
        return self._server(spec, False).agent or spec

    def start_early(self, spec: str, *, modelled: bool = False) -> None:
        """Start the fork server of the agent ``spec`` names before the session
        knows its runs (while pytest collects): it imports the harness and the
        agent meanwhile, on another core, and waits for the planned tasks
        (:meth:`plan`, or none when the check or the first run needs it)."""
        key = (spec, modelled)
        if key not in self._servers:
            self._servers[key] = self._launch(spec, modelled, early=True)

    def starting(self) -> bool:
        """Whether a fork server was started and has not said it is ready."""
        return any(not server.ready for server in self._servers.values())

    def drop_early(self, spec: str, *, keep: Iterable[bool]) -> None:
        """Stop the servers :meth:`start_early` started for ``spec`` whose kind
        no planned run has (``keep``: the kinds that have runs)."""
        kept = set(keep)
        for key in [k for k in self._servers if k[0] == spec and k[1] not in kept]:
            if self._servers[key].awaiting_tasks:
                self._servers.pop(key).close()

    def open(
        self, agent: Callable[..., Any], stage: Stage
    ) -> AbstractContextManager[AgentSession]:
        spec = agent.spec if isinstance(agent, SpawnedAgent) else importable_spec(agent)
        allowed = self.allow_hosts
        if allowed:
            allowed = allowed.with_addresses()
        if spec is None:  # a closure or a lambda: only this process has it
            return in_process(agent, stage, allowed)
        return self._server(spec, stage.modelled).run(stage, allowed)

    def prepare(self, spec: str, *, modelled: bool = False) -> None:
        """Start the fork server of the agent ``spec`` names now, if none runs:
        it imports and checks the agent in its own process, so an agent that
        does not load is one :class:`AgentLoadError` before any run (the runs
        use that server). ``modelled``: for runs a model answers."""
        self._server(spec, modelled)

    def _server(self, spec: str, modelled: bool) -> _Server:
        """The fork server for ``spec`` and kind, started (and ready) if need be."""
        key = (spec, modelled)
        server = self._servers.pop(key, None)
        if server is None or (server.ready and not server.alive()):
            server = self._launch(spec, modelled)
        server.hand_tasks(self._plans.get(key, ()))
        try:
            server.wait_ready()
        except AgentLoadError:
            raise
        except HarnessError as exc:
            if server.sandbox != "kernel":
                raise
            self._note(str(exc).splitlines()[0])
            server = self._launch(spec, modelled, unshare=False)
            server.wait_ready()
        self._servers[key] = server
        return server

    def _launch(
        self,
        spec: str,
        modelled: bool,
        *,
        unshare: bool | None = None,
        early: bool = False,
    ) -> _Server:
        """A fork server for ``spec`` and kind, started (not yet ready): in
        kernel namespaces where they can be had. ``early``: the planned tasks
        are handed to it later (:meth:`_Server.hand_tasks`)."""
        if unshare is None:
            unshare = False
            if self.namespaces:
                reason = namespaces_unavailable()
                if reason is None:
                    unshare = True
                else:
                    self._note(reason)
        known = self.warm_lists.known(spec, modelled) if self.warm_lists else []
        return _Server(
            spec,
            memory=self.memory,
            unshare=unshare,
            read_only=self.read_only if unshare else (),
            warm=known,
            tasks=None if early else self._plans.get((spec, modelled), ()),
        )

    def _note(self, reason: str) -> None:
        if reason not in self.notes:
            self.notes.append(reason)

    def close(self) -> None:
        for (spec, modelled), server in self._servers.items():
            server.close()
            if self.warm_lists is not None:
                self.warm_lists.keep(spec, modelled, server.warmed)
        self._servers.clear()


def unprotected(asked: Iterable[Path | str], protected: Iterable[str]) -> list[str]:
    """The paths asked to be read-only in the agent's namespace that exist here
    but the fork server did not bind read-only and lock: a kernel sandbox that
    left the reports or the harness's code writable is no sandbox, and its runs
    fall back to the process guards, marked unsandboxed, with the reason."""
    done = set(protected)
    return [str(p) for p in asked if os.path.exists(p) and str(p) not in done]


def _task_fields(task: Task) -> dict[str, Any]:
    """A planned task as the fork server rebuilds it (JSON: what YAML held that
    JSON has no type for, as text)."""
    fields = {
        "input": dict(task.input),
        "instructions": task.instructions,
        "scenario": task.scenario,
        "seed": task.seed,
    }
    plain: dict[str, Any] = json.loads(json.dumps(fields, default=str))
    return plain


def importable_spec(agent: Callable[..., Any]) -> str | None:
    """``module:qualname`` if importing it gives back this very agent."""
    module = getattr(agent, "__module__", None)
    name = getattr(agent, "__qualname__", None)
    if not module or not name or "<" in name or module == "__main__":
        return None
    spec = f"{module}:{name}"
    try:
        return spec if load_agent(spec) is agent else None
    except AgentLoadError:
        return None


class SpawnedAgent:
    """The agent a spec names, standing in for the copy its fork servers
    imported: :meth:`ProcessIsolation.open` runs it there; this process never
    imports it. Named as the server named what it loaded."""

    __slots__ = ("_isolation", "spec")

    def __init__(self, spec: str, isolation: ProcessIsolation) -> None:
        self.spec = spec
        self._isolation = isolation

    @property
    def __aqe_agent__(self) -> str:
        return self._isolation.loaded_name(self.spec)

    def __call__(self, task: Task, env: Any) -> Any:
        raise HarnessError(
            f"the agent {self.spec!r} runs only in its own process\n"
            "    fix: run it with run_scenario(..., isolation=...), or load it"
            " with harness.agents.loading.load_agent to call it here"
        )

    def __repr__(self) -> str:
        return f"SpawnedAgent({self.spec!r})"


class _Server:
    """One fork server (see :mod:`harness.isolation.server`): started when
    made, ready (answering) once :meth:`wait_ready` returns."""

    def __init__(
        self,
        spec: str,
        *,
        memory: int | None,
        unshare: bool,
        read_only: tuple[Path, ...] = (),
        warm: Sequence[str] = (),
        tasks: Sequence[dict[str, Any]] | None = (),
    ) -> None:
        """``tasks`` None: handed later (:meth:`hand_tasks`), before the server
        can be ready."""
        self.spec = spec
        self.memory = memory
        self.sandbox = "kernel" if unshare else "process"
        self._unshare, self._asked_read_only = unshare, read_only
        #: Whether the server said it is ready (see :meth:`wait_ready`).
        self.ready = False
        #: ``module:qualname`` of the agent the server loaded, once ready.
        self.agent: str | None = None
        #: ``sync``s sent after warm lists and not yet answered (the server may
        #: still be importing what runs imported).
        self._syncs = 0
        #: Every module the server was asked to import, in order.
        self._warmed_names: dict[str, None] = dict.fromkeys(warm)
        #: The models the server was asked to finish (see :meth:`complete`).
        self._completing: set[str] = set()
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # run as a script (-P: its folder not on the path), not with -m: -m
        # imports the harness package first, and a library it imports may start
        # threads (numpy's BLAS does), which unshare(CLONE_NEWUSER) refuses,
        # leaving the read-only binds unlocked
        command = [sys.executable, "-P", str(_SERVER)]
        # what it imports before its first fork, as a file: written whole now,
        # read by the server when it gets to it (a socket would fill, and block
        # the harness until then); or, without the tasks yet, handed over the
        # control socket once they are known (hand_tasks)
        self._warm_at_start = list(warm)
        #: Whether the server still waits for its start file (see hand_tasks).
        self.awaiting_tasks = tasks is None
        with tempfile.TemporaryFile() as start:
            if tasks is not None:
                start.write(self._start_file(tasks))
                start.flush()
                start.seek(0)
            env = {
                **os.environ,
                "AQE_ISOLATION_FD": str(theirs.fileno()),
                "AQE_ISOLATION_AGENT": spec,
                "AQE_ISOLATION_MEMORY": str(memory or ""),
                "AQE_ISOLATION_PATH": json.dumps([p or os.getcwd() for p in sys.path]),
                "AQE_ISOLATION_READONLY": json.dumps([str(p) for p in read_only]),
                "AQE_ISOLATION_START": "handed"
                if tasks is None
                else str(start.fileno()),
            }
            try:
                self._process = subprocess.Popen(
                    [*netns.UNSHARE, *command] if unshare else command,
                    env=env,
                    pass_fds=(theirs.fileno(), start.fileno()),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    start_new_session=True,  # the user's Ctrl-C is the harness's
                )
            finally:
                theirs.close()
        #: When the server was started, and when it said it was ready.
        self.started_at, self.ready_at = time.monotonic(), 0.0

    def _start_file(self, tasks: Sequence[dict[str, Any]]) -> bytes:
        return json.dumps({"warm": self._warm_at_start, "tasks": list(tasks)}).encode()

    def hand_tasks(self, tasks: Sequence[dict[str, Any]]) -> None:
        """Send a server started without its tasks its start file (a ``start``
        message with the file's descriptor); once, and only to such a server. A
        server that has gone is left to :meth:`wait_ready` to report."""
        if not self.awaiting_tasks:
            return
        self.awaiting_tasks = False
        with tempfile.TemporaryFile() as start:
            start.write(self._start_file(tasks))
            start.flush()
            start.seek(0)
            with suppress(OSError):
                self.send({"op": "start"}, (start.fileno(),))

    def wait_ready(self) -> None:
        """Wait for the server to say it is ready (it has imported the agent and
        what it was handed at its start); once."""
        if self.ready:
            return
        self.hand_tasks(())
        spec, unshare, read_only = self.spec, self._unshare, self._asked_read_only
        hello = self.receive(SERVER_WAIT)
        if hello is None or hello.get("op") != "ready":
            stderr = self._stop()
            if hello is not None and hello.get("op") == "error":
                raise AgentLoadError(str(hello.get("message")))
            raise HarnessError(
                f"the agent process for {spec!r} did not start"
                + (f": {stderr.strip().splitlines()[-1]}" if stderr.strip() else "")
                + "\n    fix: run with --aqe-isolation none to see the agent's own"
                " error, or check that `unshare` works here"
            )
        assert self._process.stderr is not None
        self._process.stderr.close()
        if unshare and netns_of(self._process.pid) == netns_of(os.getpid()):
            self._stop()
            raise HarnessError("unshare left the agent in the harness's network")
        #: What the agent's process cannot change (bound read-only, locked).
        self.read_only = tuple(str(p) for p in hello.get("read_only") or ())
        named = hello.get("agent")
        self.agent = named if isinstance(named, str) else None
        if unshare:
            left_writable = unprotected(read_only, self.read_only)
            if left_writable:
                self._stop()
                raise HarnessError(
                    "the agent's namespace could not make read-only: "
                    + ", ".join(left_writable)
                )
        #: The process whose namespaces the agent lives in (for its counters).
        self._netns_pid = self._process.pid
        prepared = hello.get("prepared")
        if isinstance(prepared, list):  # what the agent declared, imported
            self._warmed_names.update(
                dict.fromkeys(m for m in prepared if isinstance(m, str))
            )
        self.ready, self.ready_at = True, time.monotonic()

    def alive(self) -> bool:
        return self._process.poll() is None

    def send(self, message: dict[str, Any], fds: tuple[int, ...] = ()) -> None:
        data = json.dumps(message).encode()
        if fds:
            socket.send_fds(self._control, [data], list(fds))
        else:
            self._control.send(data)

    def receive(self, timeout: float | None) -> dict[str, Any] | None:
        ready, _, _ = select.select([self._control], [], [], timeout)
        if not ready:
            return None
        try:
            data = self._control.recv(65536)
        except OSError:
            return None
        if not data:
            return None
        try:
            message = json.loads(data)
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    @property
    def control(self) -> socket.socket:
        return self._control

    def kernel_attempts(self) -> int | None:
        """Network attempts the kernel has seen in the agent's namespace."""
        if self.sandbox != "kernel":
            return None
        return kernel_attempts(self._netns_pid)

    @contextmanager
    def run(
        self, stage: Stage, allowed: AllowedHosts = NOWHERE
    ) -> Iterator[AgentSession]:
        self.wait_ready()
        self._warmed()
        before = self.kernel_attempts()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        try:
            self.send({"op": "run"}, (theirs.fileno(), out_w))
        finally:
            theirs.close()
            os.close(out_w)
        run = _Run(self, stage, mine, out_r, allowed)
        try:
            started = self.receive(SERVER_WAIT)
            if started is None or started.get("op") != "started":
                raise HarnessError(f"the agent process for {self.spec!r} did not fork")
            run.begin()
            yield run
        finally:
            run.end()
            if before is not None:
                after = self.kernel_attempts()
                if after is not None and after > before:
                    stage.door.gateway.block(
                        method="CONNECT",
                        url=f"kernel://{after - before}-attempts",
                        door="kernel",
                    )

    def warm(self, modules: list[Any]) -> None:
        """Have the server import what a run imported (see the server), in
        packets of :data:`WARM_PACKET` names: a framework's thousands of module
        names in one packet could be more than the socket carries at once.
        It imports them while the harness goes on; the next run waits for it
        (:meth:`_warmed`)."""
        self._warmed_names.update(
            dict.fromkeys(m for m in modules if isinstance(m, str))
        )
        with suppress(OSError, ValueError):
            for start in range(0, len(modules), WARM_PACKET):
                chunk = modules[start : start + WARM_PACKET]
                self.send({"op": "warm", "modules": chunk})
            self.send({"op": "sync"})
            self._syncs += 1

    @property
    def warmed(self) -> list[str]:
        """The modules the server was asked to import (and so holds, those that
        import), in the order asked."""
        return list(self._warmed_names)

    def complete(self, models: list[Any]) -> None:
        """Have the server finish the pydantic models a run finished (see the
        server's ``complete``), each once: a model the server cannot finish is
        finished by every run, and is not asked for again."""
        new = [m for m in dict.fromkeys(models) if isinstance(m, str)]
        new = [m for m in new if m not in self._completing]
        if not new:
            return
        self._completing.update(new)
        with suppress(OSError, ValueError):
            for start in range(0, len(new), WARM_PACKET):
                self.send(
                    {"op": "complete", "models": new[start : start + WARM_PACKET]}
                )
            self.send({"op": "sync"})
            self._syncs += 1

    def _warmed(self) -> None:
        """Wait until the server has imported what it was asked to: so what
        those imports do (in the agent's namespaces) is no run's doing, and
        the kernel's counters move only for the run under way. Every ``sync``
        is answered: one left unread would be taken for the next run's
        ``started``."""
        deadline = time.monotonic() + SERVER_WAIT
        while self._syncs:
            message = self.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                self._syncs = 0
                return
            if message.get("op") == "synced":
                self._syncs -= 1

    def reap(self) -> int | None:
        """Kill the run's processes; the exit status of the run's own, if known."""
        if not self.alive():
            return None
        try:
            self.send({"op": "reap"})
        except OSError:
            self._stop()
            return None
        status: int | None = None
        deadline = time.monotonic() + SERVER_WAIT
        while True:
            message = self.receive(max(0.0, deadline - time.monotonic()))
            if message is None:
                self._stop()  # no answer: it goes, and the next run starts another
                return status
            if message.get("op") == "exited" and isinstance(message.get("status"), int):
                status = message["status"]
            if message.get("op") == "reaped":
                code = message.get("status")
                return code if isinstance(code, int) else status

    def _stop(self) -> str:
        with suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        with suppress(ProcessLookupError):
            self._process.kill()
        stderr = b""
        if self._process.stderr is not None and not self._process.stderr.closed:
            with suppress(OSError, ValueError):
                stderr = self._process.stderr.read()
            self._process.stderr.close()
        self._process.wait()
        self._control.close()
        return stderr.decode(errors="replace")

    def close(self) -> None:
        if self.alive():
            self._stop()


class _Run:
    """One run's agent process, as the harness serves it."""

    def __init__(
        self,
        server: _Server,
        stage: Stage,
        sock: socket.socket,
        out: int,
        allowed: AllowedHosts = NOWHERE,
    ) -> None:
        self._server, self._stage, self._sock, self._out = server, stage, sock, out
        self._allowed = allowed
        #: A connection to an allowed host, sent after the answer that says so.
        self._handing: int | None = None
        self.sandbox = server.sandbox
        self._output = bytearray()
        self._dropped = 0
        self._out_open = True
        self._ended: str | None = None  # why the process is gone, once it is
        self._status: int | None = None
        self._warnings = CaughtWarnings()
        #: What the run imported, for the server to import before the next run.
        self._imported: list[Any] = []
        #: The pydantic models the run finished, for the server to finish too.
        self._completed: list[Any] = []
        wall = stage.wall_timeout
        self._deadline = time.monotonic() + wall if wall else None

    @property
    def output(self) -> str:
        text = self._output.decode(errors="replace")
        if self._dropped:
            text = f"[{self._dropped} earlier bytes not kept]\n" + text
        return text

    @property
    def warnings(self) -> CaughtWarnings:
        """As the agent's process last reported them."""
        return self._warnings

    # -- the session -------------------------------------------------------------

    def begin(self) -> None:
        stage = self._stage
        task, identity = stage.task, stage.identity
        self._send(
            {
                "task": {
                    "input": dict(task.input),
                    "instructions": task.instructions,
                    "scenario": task.scenario,
                    "seed": task.seed,
                },
                "identity": {"name": identity.name, "api_key": identity.api_key},
                "seed": stage.seed,
                "epoch": EPOCH,
                "monotonic": MONOTONIC_ORIGIN,
                "now": stage.clock.now,
                **({"allow": self._allowed.to_wire()} if self._allowed else {}),
            }
        )

    def deliver(self) -> Delivery:
        if self._ended is not None:
            return Delivery(result=None, failure=self._ended, stopped=True)
        if not self._send({"op": "deliver", "now": self._stage.clock.now}):
            return self._died()
        got = self._serve(until="delivered")
        return got if isinstance(got, Delivery) else self._delivered(got)

    def finish(self) -> str | None:
        if self._ended is not None:
            return None  # its end is the run's failure already
        if not self._send({"op": "finish", "now": self._stage.clock.now}):
            return None
        # threads it left running may still call (in vain: the gateway is closed)
        message = self._serve(until="finished")
        if isinstance(message, Delivery):
            return None
        self._warnings = CaughtWarnings.from_wire(message.get("warnings"))
        imported = message.get("imported")
        if isinstance(imported, list):
            self._imported = imported  # warmed after the reap (see end)
        completed = message.get("completed")
        if isinstance(completed, list):
            self._completed = completed  # likewise
        left = message.get("left")
        return str(left) if left else None

    def _serve(self, *, until: str) -> dict[str, Any] | Delivery:
        """Answer the agent process's calls until it sends ``until``: that
        message, or how the run ended if it ended first."""
        while True:
            message = self._next()
            if message is None:
                return self._died()
            if message.get("op") == until:
                return message
            try:
                reply = self._answer(message)
            except RunAborted as exc:
                self._send({"abort": {"reason": exc.reason, "message": exc.message}})
                return self._stop(
                    f"stopped by the harness ({exc.reason}): {exc.message}"
                )
            except HarnessError as exc:  # the gateway's own fault: the run cannot go on
                return self._stop(str(exc))
            except (KeyError, TypeError, ValueError, wire.WireError) as exc:
                return self._stop(
                    "the agent's process sent a message the harness cannot read"
                    f" ({exc})"
                )
            reply["now"] = self._stage.clock.now
            if not self._send(reply):
                return self._died()

    def end(self) -> None:
        status = self._server.reap()
        if self._status is None:
            self._status = status
        if self._imported:
            # after the reap, not before: the server imports them while the
            # harness scores this run and builds the next one's world
            self._server.warm(self._imported)
        if self._completed:
            self._server.complete(self._completed)
        self._drain_output(final=True)
        self._sock.close()
        os.close(self._out)

    # -- the wire ------------------------------------------------------------------

    def _send(self, message: dict[str, Any]) -> bool:
        handing, self._handing = self._handing, None
        try:
            self._sock.settimeout(self._remaining())
            wire.send(self._sock, message)
            if handing is not None:
                socket.send_fds(self._sock, [b"\0"], [handing])
        except (OSError, wire.WireError):
            return False
        finally:
            if handing is not None:
                os.close(handing)
        return True

    def _remaining(self) -> float | None:
        if self._deadline is None:
            return None
        return max(0.001, self._deadline - time.monotonic())

    def _next(self) -> dict[str, Any] | None:
        """The agent process's next message; None when it ended or ran out of
        wall time (``_ended`` says which)."""
        control = self._server.control
        while True:
            remaining = self._remaining()
            if self._deadline is not None and time.monotonic() >= self._deadline:
                self._timed_out()
                return None
            waits: list[Any] = [self._sock, control]
            if self._out_open:
                waits.append(self._out)
            ready, _, _ = select.select(waits, [], [], remaining)
            if not ready:
                continue  # the deadline check above decides
            if self._out in ready:
                self._drain_output()
            if control in ready:
                note = self._server.receive(0)
                if note is None:
                    self._ended = self._ended or "the agent's process server stopped"
                elif note.get("op") == "exited" and isinstance(note.get("status"), int):
                    self._status = note["status"]
            if self._sock in ready:
                try:
                    self._sock.settimeout(self._remaining())
                    return wire.recv(self._sock)
                except wire.WireError as exc:
                    if (
                        self._deadline is not None
                        and time.monotonic() >= self._deadline
                    ):
                        self._timed_out()
                    elif not exc.closed:  # it is alive and sent garbage: it goes
                        self._stop(
                            f"the agent's process broke the harness's protocol ({exc})"
                        )
                    return None
            if self._status is not None:
                # ended; take what it sent before it went, then stop waiting
                pending, _, _ = select.select([self._sock], [], [], 0)
                if not pending:
                    return None

    def _drain_output(self, *, final: bool = False) -> None:
        while self._out_open:
            ready, _, _ = select.select([self._out], [], [], 0)
            if not ready:
                return
            chunk = os.read(self._out, 65536)
            if not chunk:
                self._out_open = False
                return
            self._output += chunk
            if len(self._output) > OUTPUT_TAIL:
                extra = len(self._output) - OUTPUT_TAIL
                del self._output[:extra]
                self._dropped += extra
            if not final and len(chunk) < 65536:
                return

    # -- how a delivery ends ---------------------------------------------------------

    def _delivered(self, message: dict[str, Any]) -> Delivery:
        result = message.get("result")
        failure = message.get("failure")
        stopped = bool(message.get("stopped"))
        self._warnings = CaughtWarnings.from_wire(message.get("warnings"))
        try:
            coerced = AgentResult.coerce(result) if isinstance(result, dict) else None
        except (TypeError, ValueError) as exc:
            coerced, failure = None, f"the agent's result cannot be read: {exc}"
        if isinstance(failure, str) and failure.startswith(
            "the agent raised MemoryError"
        ):
            failure += self._memory_note()
        return Delivery(
            result=coerced,
            failure=failure if isinstance(failure, str) and failure else None,
            stopped=stopped,
        )

    def _timed_out(self) -> None:
        wall = self._stage.wall_timeout
        self._stop(
            f"stopped by the harness (wall_timeout): the agent ran for more than"
            f" {wall:g} s of wall time without finishing (hung or stuck in a loop)"
        )

    def _stop(self, why: str) -> Delivery:
        """End the agent's process for ``why``."""
        self._ended = self._ended or why
        self._status = self._server.reap()
        return Delivery(result=None, failure=self._ended, stopped=True)

    def _died(self) -> Delivery:
        if self._ended is None:
            if self._status is None:
                self._status = self._server.reap()
            self._ended = (
                "the agent's process ended before it answered: "
                + status_text(self._status)
                + self._memory_note(self._status)
                + self._last_words()
            )
        return Delivery(result=None, failure=self._ended, stopped=True)

    def _memory_note(self, status: int | None = None) -> str:
        memory = self._server.memory
        if not memory or status == 0:
            return ""
        return f" (its memory limit is {_size(memory)}; --aqe-memory sets it)"

    def _last_words(self) -> str:
        self._drain_output(final=True)
        lines = [
            line.strip()
            for line in self._output.decode(errors="replace").splitlines()
            if line.strip()
        ]
        if not lines:
            return ""
        tail = " | ".join(lines[-3:])
        return f"; its last output: {tail[-400:]}"

    # -- answering the agent -----------------------------------------------------------

    def _answer(self, message: dict[str, Any]) -> dict[str, Any]:
        op = message["op"]
        stage = self._stage
        if op == "http":
            return self._http(message)
        if op == "tool":
            args = message["args"]
            if not isinstance(args, dict):
                raise TypeError("tool arguments must be an object")
            try:
                return {"result": stage.tools.call(str(message["name"]), **args)}
            except ToolError as exc:
                return {"error": _tool_error(exc)}
        if op == "tool_names":
            return {"names": list(stage.tools.names)}
        if op == "tool_specs":
            try:
                return {"specs": stage.tools.specs(message["format"])}
            except HarnessError as exc:
                return {"error": {"type": "ToolError", "message": str(exc)}}
        if op == "sleep":
            seconds = message["seconds"]
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                raise TypeError(f"sleep of {seconds!r} seconds")
            stage.clock.advance(max(0.0, float(seconds)))
            return {}
        if op == "connect":
            return self._connect(message)
        if op == "resolve":
            return self._resolve(message)
        if op == "block":
            stage.door.gateway.block(
                method=str(message["method"]),
                url=str(message["url"]),
                door=str(message["door"]),
            )
            return {}
        if op == "started":
            argv = message["argv"]
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                raise TypeError("a started program's argv must be a list of strings")
            stage.door.gateway.started(via=str(message["via"]), argv=argv)
            return {}
        raise ValueError(f"unknown request {op!r}")

    def _connect(self, message: dict[str, Any]) -> dict[str, Any]:
        """Connect to an allowed host for the agent (checked here: the agent's
        process is not trusted); the socket follows the answer."""
        family, host, port = message["family"], message["host"], message["port"]
        if not isinstance(host, str) or not isinstance(port, int):
            raise TypeError(f"a connection to {host!r}:{port!r}")
        where = f"{host}:{port}"
        if (
            family not in (socket.AF_INET, socket.AF_INET6)
            or not 0 < port < 65536
            or not self._allowed.permits(host, port)
        ):
            self._stage.door.gateway.block(
                method="CONNECT", url=f"tcp://{where}", door="socket"
            )
            return {
                "errno": errno.ECONNREFUSED,
                "message": f"aqe: blocked socket connection to {where}: only"
                " simulated hosts are reachable during a run",
            }
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(min(CONNECT_WAIT, self._remaining() or CONNECT_WAIT))
            sock.connect((host, port))
            sock.setblocking(True)
        except OSError as exc:
            sock.close()
            code = exc.errno if isinstance(exc.errno, int) else errno.ETIMEDOUT
            return {"errno": code, "message": exc.strerror or str(exc)}
        self._handing = sock.detach()
        return {"fd": True}

    def _resolve(self, message: dict[str, Any]) -> dict[str, Any]:
        """Look up an allowed host name for the agent, in the harness's network."""
        host, port = message["host"], message["port"]
        options = [message[k] for k in ("family", "type", "proto", "flags")]
        if not all(isinstance(o, int) for o in options):
            raise TypeError(f"lookup options {options!r}")
        if not isinstance(port, str | int | None):
            raise TypeError(f"a lookup of port {port!r}")
        if not isinstance(host, str) or not self._allowed.resolves(host):
            self._stage.door.gateway.block(
                method="RESOLVE", url=f"dns://{host}", door="socket"
            )
            return {
                "gaierror": socket.EAI_NONAME,
                "message": f"aqe: blocked name lookup of {host}: only simulated"
                " hosts are reachable during a run",
            }
        try:
            found = socket.getaddrinfo(host, port, *options)
        except socket.gaierror as exc:
            return {"gaierror": exc.errno, "message": exc.strerror or str(exc)}
        except (OSError, UnicodeError) as exc:
            return {"gaierror": socket.EAI_FAIL, "message": str(exc)}
        return {"found": [[f, t, p, c, list(a)] for f, t, p, c, a in found]}

    def _http(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            reply = self._stage.door.exchange(
                str(message["method"]),
                str(message["url"]),
                [(str(k), str(v)) for k, v in message["headers"]],
                wire.unpack_bytes(message["body"]),
            )
        except TransportFailure as failure:
            return {"raise": failure.kind, "message": failure.message}
        return {
            "status": reply.status,
            "headers": [list(h) for h in reply.headers],
            "body": wire.pack_bytes(reply.body),
        }


def _tool_error(exc: ToolError) -> dict[str, Any]:
    error: dict[str, Any] = {
        "type": type(exc).__name__,
        "message": str(exc),
        "status": exc.status,
        "body": exc.body,
        "headers": exc.headers,
    }
    raw = getattr(exc, "raw", None)
    if raw is not None:
        error["raw"] = raw
    return error


def _size(limit: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"
