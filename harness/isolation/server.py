"""The fork server: imports the agent once, then forks one fresh process per run.

Started by the harness (:mod:`harness.isolation.host`) as a script
(``python -P .../server.py``: nothing but the standard library is imported until
its namespaces are set, since a thread some library starts on import makes
``unshare`` refuse a new user namespace), inside new user, network, PID and mount
namespaces where the machine allows them (``unshare``), so the namespaces exist
before any agent code runs. It is PID 1 of its PID namespace: the agent cannot
signal it, and ending a run kills every process the run started, however it
detached (``kill(-1)``). Before it imports the agent it binds the paths the
harness names (the reports, the baseline, the harness's own code) read-only and
enters one more user and mount namespace, which locks those mounts: the agent,
root only there, cannot undo them. Before it says it is ready it imports what
the harness handed it at its start (a file: no socket buffer to fill before the
server reads it): the warm list the last session kept, and what the agent
declares the session's planned runs import (:mod:`harness.runtime.imports`).
It speaks to the harness over a ``SOCK_SEQPACKET``
control socket (one JSON message per packet; a run's socket and output pipe
travel as file descriptors):

* harness -> server: ``start`` (once, first, to a server started before the
  harness knew its runs: the start file's descriptor, read once the agent is
  imported), ``run`` (with the two descriptors), ``reap``, ``warm``
  (modules a run imported, to import before the next fork), ``complete``
  (pydantic models a run finished building, to finish before the next fork),
  ``sync``;
* server -> harness: ``ready`` or ``error`` once, ``started``, ``exited`` (the
  run's process ended by itself), ``reaped``, ``synced`` (what came before
  the ``sync`` is done).

The server's word is not trusted for verdicts: the harness records from its own
side of the run's socket.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import gc
import importlib
import json
import os
import pkgutil
import platform
import select
import signal
import socket
import struct
import subprocess
import sys
import traceback
from typing import Any

#: The most modules one ``warm`` message imports.
MAX_WARM = 2000
#: The most planned tasks the server asks the agent's declaration about.
MAX_TASKS = 20000
#: The most characters of module names the ``ready`` message carries (the
#: harness reads 64 KiB a message).
MAX_PREPARED = 32768
#: ``AQE_ISOLATION_START`` of a server whose start file is handed to it later.
_HANDED = "handed"
#: The largest control message the server reads (a packet past it would be cut
#: short, and a cut ``warm`` list is not JSON).
MAX_PACKET = 1 << 20
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
#: SIOCGIFFLAGS / SIOCSIFFLAGS and the flags of an interface that is up.
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1


def _loopback_up() -> None:
    """Bring up the namespace's loopback (the agent's own, not the host's)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _read_only(paths: list[str]) -> list[str]:
    """Bind each path read-only over itself (in this mount namespace); the ones
    that took."""
    done = []
    for path in paths:
        if not os.path.exists(path):
            continue
        result = subprocess.run(
            ["mount", "--bind", "-o", "ro", path, path],
            capture_output=True,
            check=False,
        )
        if result.returncode == 0:
            done.append(path)
    return done


def _lock() -> bool:
    """Enter a new user and mount namespace, so the agent, root only in the new
    one, cannot unmount or remount what was made read-only (the kernel locks
    mounts inherited across a user namespace), nor reconfigure the network."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid, gid = os.getuid(), os.getgid()
    if libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) != 0:
        return False
    for name, text in (
        ("setgroups", "deny"),
        ("uid_map", f"{uid} {uid} 1"),
        ("gid_map", f"{gid} {gid} 1"),
    ):
        with contextlib.suppress(OSError), open(f"/proc/self/{name}", "w") as file:
            file.write(text)
    return True


def _ask_once() -> None:
    """What every run's sandbox asks the standard library for, asked here once,
    so each forked run inherits the cached answer instead of asking anew:
    ``platform.processor()`` runs ``uname -p`` in a subprocess, and
    ``pkgutil.resolve_name`` (``mock.patch``'s) compiles its pattern."""
    platform.processor()
    pkgutil.resolve_name("os.path")


def _import_without_pytest() -> None:
    """Import the run's own modules with pytest kept out: time_machine (the
    sandbox's clock) imports pytest whenever it can, for its pytest plugin, and
    no pytest session runs in an agent's process (~60 modules, 50-90 ms of every
    server's start). An agent that imports pytest still gets it."""
    had = sys.modules.get("pytest", _MISSING)
    sys.modules["pytest"] = None  # type: ignore[assignment]  # import raises
    try:
        from harness.isolation import child  # noqa: F401
    finally:
        if had is _MISSING:
            del sys.modules["pytest"]
        else:
            sys.modules["pytest"] = had  # type: ignore[assignment]


_MISSING = object()


def _import_once() -> None:
    """What every run's sandbox imports, whatever its agent: the client doors and
    the libraries they route (the first run of each server would import them,
    then the server again from its warm list), and the library hooks' modules
    (not the libraries they act on: those are the agent's to import)."""
    from harness.gateway.doors import available
    from harness.runtime.libraries import hooks

    for door in available():
        for name in getattr(door, "LIBRARIES", (door.LIBRARY,)):
            importlib.import_module(name)
    hooks()


def _settle() -> None:
    """Collect the garbage of what was imported, then freeze the rest: a run's
    process shares the server's memory copy-on-write, and its collector would
    otherwise walk (and so copy) every object the server holds: a full
    collection there costs ~300 ms of CPU with the SDK agents imported.
    The TLS contexts the runs' clients share are built first, for the same
    reason: once here, not once in every run's process."""
    from harness.runtime.tls import prebuild

    prebuild()
    gc.collect()
    gc.freeze()


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.send(json.dumps(message).encode())


def main() -> None:
    control = socket.socket(fileno=int(os.environ.pop("AQE_ISOLATION_FD")))
    spec = os.environ.pop("AQE_ISOLATION_AGENT")
    memory = int(os.environ.pop("AQE_ISOLATION_MEMORY") or 0) or None
    sys.path[:] = json.loads(os.environ.pop("AQE_ISOLATION_PATH"))
    readonly = json.loads(os.environ.pop("AQE_ISOLATION_READONLY", "[]"))
    start_fd = os.environ.pop("AQE_ISOLATION_START", "")
    start = _startup(start_fd) if start_fd != _HANDED else None
    init = os.getpid() == 1
    protected: list[str] = []
    locked = False
    if init:  # in the namespaces unshare made: set them up before any agent code
        with contextlib.suppress(OSError):
            _loopback_up()
        protected = _read_only(readonly)
        locked = _lock()
    try:
        _import_without_pytest()
        from harness.agents.loading import load_agent
        from harness.isolation import child
        from harness.runtime.session import agent_name, tls_context

        tls_context()  # loaded once, inherited by every run
        _ask_once()
        _import_once()
        agent = load_agent(spec)
        if start is None:
            start = _handed(control)
            if start is None:  # the harness went away before it knew its runs
                return
        prepared = _prepare(agent, start.get("tasks"))
        _warm(start.get("warm"))
        _settle()
    except BaseException as exc:
        message = str(exc) if type(exc).__name__ == "AgentLoadError" else None
        _send(
            control,
            {
                "op": "error",
                "message": message
                or f"importing the agent {spec!r} failed:\n"
                + "".join(traceback.format_exception(exc)).rstrip(),
            },
        )
        return
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    _send(
        control,
        {
            "op": "ready",
            "pid": os.getpid(),
            "agent": agent_name(agent),
            "init": init,
            "read_only": protected if locked else [],
            "prepared": _capped(prepared),
        },
    )
    running: int | None = None
    status: int | None = None

    def reap(block_for: int | None) -> None:
        nonlocal status
        while True:
            try:
                pid, code = os.waitpid(-1, 0 if block_for is not None else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            if pid == running:
                status = code
                if block_for is None:
                    _send(control, {"op": "exited", "status": code})

    while True:
        waits: list[Any] = [control, wake_r]
        ready, _, _ = select.select(waits, [], [])
        if wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 512)
            reap(None)
        if control not in ready:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(control, MAX_PACKET, 2)
        except OSError:
            data, fds = b"", []
        if not data:  # the harness went away: so does every run
            _kill_all(init, running)
            return
        request = _message(data)
        op = request.get("op")
        if op == "run" and len(fds) == 2:
            status = None
            gc.freeze()  # what came since the last settle: the run's GC skips it too
            running = os.fork()
            if running == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                control.close()
                os.close(wake_r)
                os.close(wake_w)
                if not init:
                    os.setsid()  # without a PID namespace: its own process group
                child.main(socket.socket(fileno=fds[0]), fds[1], agent, memory)
            for fd in fds:
                os.close(fd)
            _send(control, {"op": "started", "pid": running})
        elif op == "warm":
            _warm(request.get("modules"))
        elif op == "complete":
            _complete(request.get("models"))
        elif op == "sync":
            _settle()
            _send(control, {"op": "synced"})
        elif op == "reap":
            _kill_all(init, running)
            reap(0)
            _send(control, {"op": "reaped", "status": status})
            running = None
        else:
            for fd in fds:
                os.close(fd)


def _message(data: bytes) -> dict[str, Any]:
    """A control message; one that does not read as a JSON object is none (the
    server keeps serving: its runs are the session's)."""
    try:
        message = json.loads(data)
    except ValueError:
        return {}
    return message if isinstance(message, dict) else {}


def _startup(fd: str) -> dict[str, Any]:
    """What the harness handed the server to import before its first fork (a
    file at descriptor ``fd``): ``warm`` (module names) and ``tasks`` (the
    planned runs' tasks, for the agent's declaration); none if it does not
    read."""
    if not fd.isdigit():
        return {}
    try:
        with os.fdopen(int(fd), "rb") as file:
            start = json.loads(file.read())
    except (OSError, ValueError):
        return {}
    return start if isinstance(start, dict) else {}


def _handed(control: socket.socket) -> dict[str, Any] | None:
    """The start file of a server started before the harness knew its runs: it
    comes as a ``start`` message with the file's descriptor (read as
    :func:`_startup`); None if the harness went away first."""
    data, fds, _, _ = socket.recv_fds(control, MAX_PACKET, 1)
    if not data:
        return None
    if _message(data).get("op") != "start" or not fds:
        for fd in fds:
            os.close(fd)
        return {}
    return _startup(str(fds[0]))


def _prepare(agent: Any, tasks: object) -> list[str]:
    """Import what the agent declares runs of the planned tasks import (see
    :mod:`harness.runtime.imports`): the names that imported. The declaration is
    the agent's code, run where its import ran; what it raises is dropped."""
    from harness.runtime.env import Task
    from harness.runtime.imports import declared_imports

    if not isinstance(tasks, list):
        return []
    names: dict[str, None] = {}
    for fields in tasks[:MAX_TASKS]:
        with contextlib.suppress(BaseException):
            names.update(dict.fromkeys(declared_imports(agent, Task(**fields))))
    imported = []
    for name in list(names)[:MAX_WARM]:
        with contextlib.suppress(BaseException):
            importlib.import_module(name)
            imported.append(name)
    return imported


def _capped(names: list[str]) -> list[str]:
    """The first of ``names`` that fit in :data:`MAX_PREPARED` characters."""
    kept, size = [], 0
    for name in names:
        size += len(name) + 4
        if size > MAX_PREPARED:
            break
        kept.append(name)
    return kept


def _warm(modules: object) -> None:
    """Import what runs imported, so the next fork starts with it."""
    if not isinstance(modules, list):
        return
    for name in modules[:MAX_WARM]:
        if isinstance(name, str) and name not in sys.modules:
            with contextlib.suppress(BaseException):
                importlib.import_module(name)


def _complete(models: object) -> None:
    """Finish building the pydantic models runs finished, so the next fork
    starts with them built (see ``_record_completions`` in the child). Each is
    looked up among the modules imported (nothing is imported for it) and
    rebuilt as pydantic rebuilds a deferred model on first use, from the
    namespace of its own module."""
    if not isinstance(models, list):
        return
    base: Any = getattr(sys.modules.get("pydantic"), "BaseModel", None)
    if base is None:
        return
    for name in models[:MAX_WARM]:
        if not isinstance(name, str):
            continue
        module, _, qualname = name.partition(":")
        with contextlib.suppress(BaseException):
            found: Any = sys.modules.get(module)
            for part in qualname.split(".") if found is not None else ():
                found = getattr(found, part)
            if not (isinstance(found, type) and issubclass(found, base)):
                continue
            model: Any = found
            if model.__pydantic_complete__ is False:
                model.model_rebuild(raise_errors=False, _parent_namespace_depth=0)


def _kill_all(init: bool, running: int | None) -> None:
    """Kill the run's process and everything it started."""
    try:
        if init:
            os.kill(-1, signal.SIGKILL)  # every process of the namespace but this one
        elif running is not None:
            os.killpg(running, signal.SIGKILL)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


if __name__ == "__main__":
    main()
