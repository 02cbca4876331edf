"""Programs the agent starts during a run: recorded, and with no way out.

* Every program an agent thread starts is reported to ``started`` (the
  gateway's: a non-failing ``subprocess`` entry of the ``security`` process,
  naming the argv as the agent passed it), and starts with proxy variables that
  point at a port the harness holds closed (``NO_PROXY`` removed), so an HTTP
  client in the child (curl, requests, httpx, urllib) cannot reach a network.
  The agent's own ``os.environ`` is left alone: its in-process clients must
  keep reaching the client doors. The seams are where the environment is
  handed to the kernel: ``subprocess``'s ``_fork_exec`` (every ``subprocess``
  function and ``os.popen``), ``_posixsubprocess.fork_exec`` (multiprocessing's
  spawn and forkserver), ``os.posix_spawn``/``posix_spawnp``, ``os.system``
  (run as ``sh -c`` by ``posix_spawn``) and the ``os.spawn*`` family (by
  ``posix_spawn``, not ``fork`` + ``exec``).
* ``os.exec*`` would replace the process (the pytest session, when the agent
  runs in it): it is refused by an audit hook, as ``os._exit`` is by the
  sandbox; in the run's thread the run ends, in its other threads the call
  raises; either way the run fails. A forked copy may ``exec``.
* ``os.fork``/``os.forkpty`` is recorded and allowed (multiprocessing's fork
  context uses it); the copy ends as it leaves the agent's code
  (:func:`end_if_copy`), so it never carries on the harness's work, the pytest
  session included. What a copy does is not recorded (in the harness's process
  it has a copy of the world; in the agent's own its namespaces still hold).

The audit hook cannot be removed, so one is installed per process, the first
time a run opens, and it consults the run that is open (if any).
"""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from harness.errors import RunAborted

#: The proxy variables a child gets (each in lower and upper case).
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "ftp_proxy")
#: Where ``sys.executable`` appears in a recorded argv: the same on any machine.
PYTHON = "<python>"
EXEC_REFUSED = (
    "the agent tried to replace the process with another program (exec of"
    " {argv}); start it with subprocess instead"
)


class Started(Protocol):
    """Records a program the agent started (the gateway's ``started``)."""

    def __call__(self, *, via: str, argv: list[str]) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class _Run:
    mine: Callable[[], bool]
    thread: int
    pid: int
    started: Started | None
    refusals: list[str]

    def record(self, via: str, argv: Sequence[Any]) -> None:
        """Report a start from an agent thread of the run's own process (a
        forked copy's starts are the copy's: the fork was recorded)."""
        if self.started is not None and os.getpid() == self.pid:
            self.started(via=via, argv=shown_argv(argv))

    def refuse(self, message: str) -> None:
        self.refusals.append(message)
        if threading.get_ident() == self.thread:
            raise RunAborted("exit", message)
        raise PermissionError(errno.EPERM, f"aqe: {message}")


#: The run whose agent threads are guarded now (one at a time per process).
_current: list[_Run] = []
_hooked: list[bool] = []
#: The port :func:`nowhere` holds (its socket stays open, close-on-exec).
_closed_port: list[int] = []
_lock = threading.Lock()

#: ``subprocess`` binds its ``fork_exec`` at import; multiprocessing looks it up.
_posixsubprocess: Any = sys.modules.get("_posixsubprocess")
_real_fork_exec: Any = getattr(_posixsubprocess, "fork_exec", None)
_real_subprocess_fork_exec: Any = getattr(subprocess, "_fork_exec", None)
_real_posix_spawn: Any = getattr(os, "posix_spawn", None)
_real_posix_spawnp: Any = getattr(os, "posix_spawnp", None)
_real_system = os.system
_real_spawnvef: Any = getattr(os, "_spawnvef", None)
#: Taken before any agent code runs: the agent may replace ``os._exit``.
_exit = os._exit
#: Where each of them is reachable from (``os.system`` is ``posix.system``).
_OS_MODULES: tuple[Any, ...] = tuple(
    m for m in (os, sys.modules.get("posix")) if m is not None
)


def end_if_copy(pid: int) -> None:
    """End this process if it is a copy of ``pid`` the agent forked (called as
    control leaves the agent's code)."""
    if os.getpid() != pid:
        _exit(0)


def shown_argv(argv: Sequence[Any]) -> list[str]:
    """An argv as a trace shows it: text, with the interpreter's own path as
    :data:`PYTHON` (it differs between machines)."""
    shown = []
    for arg in argv:
        text = os.fsdecode(arg)
        shown.append(PYTHON if text == sys.executable else text)
    return shown


def nowhere() -> str:
    """A proxy URL no child can get through: a loopback port this process holds
    bound and never listens on (port 9, discard, if none can be had)."""
    if _closed_port:  # no lock once it is had: a forked copy may call this too
        return f"http://127.0.0.1:{_closed_port[0]}"
    with _lock:
        if not _closed_port:
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                    sock.bind(("127.0.0.1", 0))
                    _closed_port.append(sock.getsockname()[1])
                    sock.detach()  # held, bound, until the process ends
            except OSError:
                return "http://127.0.0.1:9"
        return f"http://127.0.0.1:{_closed_port[0]}"


def child_environment(env: Mapping[Any, Any] | None) -> dict[str, str]:
    """``env`` (None: this process's) with the proxies set and NO_PROXY gone."""
    source: Mapping[Any, Any] = os.environ if env is None else env
    child = {os.fsdecode(k): os.fsdecode(v) for k, v in source.items()}
    for name in [n for n in child if n.lower() == "no_proxy"]:
        del child[name]
    proxy = nowhere()
    for name in PROXY_VARIABLES:
        child[name] = child[name.upper()] = proxy
    return child


def _env_list(env: Sequence[bytes] | None) -> list[bytes]:
    """:func:`child_environment` in ``fork_exec``'s form (``b"NAME=value"``)."""
    given = None
    if env is not None:
        given = dict(entry.partition(b"=")[::2] for entry in map(os.fsencode, env))
    return [
        os.fsencode(k) + b"=" + os.fsencode(v)
        for k, v in child_environment(given).items()
    ]


def _guarded() -> _Run | None:
    """The open run, if the calling thread is one of its agent's."""
    run = _current[-1] if _current else None
    return run if run is not None and run.mine() else None


def _fork_exec(real: Any, via: str) -> Callable[..., Any]:
    def fork_exec(
        args: Any, executable_list: Any, close_fds: Any, pass_fds: Any,
        cwd: Any, env: Any, *rest: Any,
    ) -> Any:  # fmt: skip
        run = _guarded()
        if run is not None:
            run.record(via, args or ())
            env = _env_list(env)
        return real(args, executable_list, close_fds, pass_fds, cwd, env, *rest)

    return fork_exec


def _posix_spawn(real: Any, via: str) -> Callable[..., Any]:
    def posix_spawn(path: Any, argv: Any, env: Any, /, **kwargs: Any) -> Any:
        run = _guarded()
        if run is not None:
            run.record(via, argv)
            env = child_environment(env)
        return real(path, argv, env, **kwargs)

    return posix_spawn


def _system(command: Any) -> int:
    """``os.system`` for an agent thread: ``sh -c`` with the child's environment
    (what ``system(3)`` runs), its wait status as the result."""
    run = _guarded()
    if run is None:
        return _real_system(command)
    argv = ["sh", "-c", os.fsdecode(command)]
    run.record("os.system", argv)
    try:
        pid = _real_posix_spawn("/bin/sh", argv, child_environment(None))
    except OSError:
        return 127 << 8  # as a shell that cannot be run
    return os.waitpid(pid, 0)[1]


def _spawnvef(mode: int, file: Any, args: Any, env: Any, func: Any) -> int:
    """``os.spawn*``'s helper for an agent thread: ``posix_spawn``, not ``fork``
    (refused in the harness's process) + ``exec`` (refused everywhere)."""
    run = _guarded()
    if run is None:
        result: int = _real_spawnvef(mode, file, args, env, func)
        return result
    if not isinstance(args, tuple | list):
        raise TypeError("argv must be a tuple or a list")
    if not args or not args[0]:
        raise ValueError("argv first element cannot be empty")
    search = getattr(func, "__name__", "") in ("execvp", "execvpe")
    run.record("os.spawn", args)
    spawn = _real_posix_spawnp if search else _real_posix_spawn
    try:
        pid: int = spawn(file, args, child_environment(env))
    except OSError:
        if mode == os.P_NOWAIT:
            raise
        return 127  # as the forked child that cannot exec exits
    if mode == os.P_NOWAIT:
        return pid
    while True:
        _, status = os.waitpid(pid, 0)
        if not os.WIFSTOPPED(status):
            return os.waitstatus_to_exitcode(status)


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event not in _WATCHED:
        return
    run = _guarded()
    if run is None or os.getpid() != run.pid:  # a forked copy may do as it likes
        return
    if event == "os.exec":
        run.refuse(EXEC_REFUSED.format(argv=shown_argv(args[1])))
    run.record(event, ())


_WATCHED = frozenset({"os.exec", "os.fork", "os.forkpty"})


def _install_hook() -> None:
    if _hooked:  # once per process: no lock to take on every run after
        return
    with _lock:
        if not _hooked:
            sys.addaudithook(_audit)
            _hooked.append(True)


@cache
def _patches() -> tuple[tuple[Any, str, Any, Any], ...]:
    """(where, name, the guarded function, the real one) for every seam; made
    once per process (the guarded functions find the open run in ``_current``)."""
    patches: list[tuple[Any, str, Any, Any]] = []
    if _real_subprocess_fork_exec is not None:
        guarded = _fork_exec(_real_subprocess_fork_exec, "subprocess")
        patches.append((subprocess, "_fork_exec", guarded, _real_subprocess_fork_exec))
    if _real_fork_exec is not None:
        guarded = _fork_exec(_real_fork_exec, "multiprocessing")
        patches.append((_posixsubprocess, "fork_exec", guarded, _real_fork_exec))
    for module in _OS_MODULES:
        if _real_posix_spawn is not None:
            guarded = _posix_spawn(_real_posix_spawn, "os.posix_spawn")
            patches.append((module, "posix_spawn", guarded, _real_posix_spawn))
        if _real_posix_spawnp is not None:
            guarded = _posix_spawn(_real_posix_spawnp, "os.posix_spawnp")
            patches.append((module, "posix_spawnp", guarded, _real_posix_spawnp))
        patches.append((module, "system", _system, _real_system))
    if _real_spawnvef is not None:
        patches.append((os, "_spawnvef", _spawnvef, _real_spawnvef))
    return tuple(patches)


@contextmanager
def guard_children(
    *,
    mine: Callable[[], bool],
    started: Started | None,
    refusals: list[str],
) -> Iterator[None]:
    """Guard the programs the agent's threads (``mine``) start while open (see
    the module docstring); ``refusals`` gets the message of each refused call."""
    _install_hook()
    nowhere()  # bound before the agent runs: its port is the harness's
    run = _Run(
        mine=mine,
        thread=threading.get_ident(),
        pid=os.getpid(),
        started=started,
        refusals=refusals,
    )
    patches = _patches()
    _current.append(run)
    for where, name, guarded, _ in patches:
        setattr(where, name, guarded)
    try:
        yield
    finally:
        for where, name, _, real in patches:
            setattr(where, name, real)
        _current.remove(run)


def status_text(status: int | None) -> str:
    """How a process ended, from its ``waitpid`` status, in words."""
    if status is None:
        return "its exit status is unknown"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"it was killed by {name}"
    if os.WIFEXITED(status):
        return f"it exited with code {os.WEXITSTATUS(status)}"
    return f"it ended with status {status}"
