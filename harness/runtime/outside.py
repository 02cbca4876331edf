"""Agents outside the harness's process: a command (``--aqe-agent cmd:"..."``)
and a service that already runs (``--aqe-agent http://HOST:PORT/PATH``).

For each delivery the harness serves the simulation on loopback
(:mod:`harness.gateway.loopback`) and hands the agent the task and where to
reach it. A **command** gets them in its environment (the stable contract):

* ``AQE_TASK``: the task as JSON, ``{"input", "instructions", "scenario", "seed"}``;
* ``AQE_API_KEY``: the bearer credential (also ``OPENAI_API_KEY`` and
  ``ANTHROPIC_API_KEY``: the simulated providers take it);
* ``AQE_BASE_URL``: ``http://127.0.0.1:PORT``, each service at
  ``$AQE_BASE_URL/<service>/…`` (``OPENAI_BASE_URL`` and ``ANTHROPIC_BASE_URL``
  point at the simulated providers there);
* ``HTTP_PROXY``/``HTTPS_PROXY`` (and lower case): the same server, so a client
  using the real host names (``api.stripe.com``) reaches the simulation too,
  trusting the run's own certificate authority (``SSL_CERT_FILE``,
  ``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``, ``NODE_EXTRA_CA_CERTS``).

It prints its result as JSON on the last line of its stdout and exits 0. Where
Linux namespaces can be had it runs in its own (user, network, PID, mount):
loopback is its only network, so a connection anywhere else fails at once and
the kernel's count of it fails ``security``; what it leaves running is killed
when it exits. A **service** gets ``{"task", "api_key", "base_url", "proxy",
"ca_cert"}`` as one JSON ``POST`` and answers with the result JSON; it runs
where it runs, so only what it sends through the server is seen (an outside
call through ``proxy`` is blocked and fails ``security``). Both are stopped
waiting at ``--aqe-timeout`` of wall time.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.errors import HarnessError
from harness.gateway.certs import CA_VARIABLES, RunAuthority
from harness.gateway.loopback import LoopbackServer, Mount
from harness.runtime import netns
from harness.runtime.caught import CaughtWarnings
from harness.runtime.children import PROXY_VARIABLES, status_text
from harness.runtime.env import AgentResult
from harness.runtime.netns import counted_attempts, namespaces_unavailable
from harness.runtime.session import MODEL_KEY_VARIABLES, AgentSession, Delivery, Stage

#: How much of a command's stdout and of its stderr is kept (each, its tail).
OUTPUT_TAIL = 64 * 1024
#: Wall seconds the harness waits for a namespace to start, or to report.
BOOT_WAIT = 30.0
_BOOT = Path(__file__).with_name("netboot.py")
_STOPPED = (
    "stopped by the harness (wall_timeout): the agent ran for more than {wall:g} s"
    " of wall time without finishing (hung or stuck in a loop)"
)
_RESULT_FIX = (
    '\n    fix: print the result as the last line, e.g. {"status": "done",'
    ' "summary": "refunded re_123"}'
)


def task_json(stage: Stage) -> dict[str, Any]:
    """The task as an outside agent gets it (``AQE_TASK``, a service's ``task``)."""
    task = stage.task
    return {
        "input": dict(task.input),
        "instructions": task.instructions,
        "scenario": task.scenario,
        "seed": task.seed,
    }


def command_environment(
    stage: Stage, base_url: str, ca_file: Path, inherited: dict[str, str]
) -> dict[str, str]:
    """The environment a command agent starts with (see the module docstring):
    ``inherited`` without the harness's own variables and any proxy settings,
    plus the contract's."""
    proxies = {name.lower() for name in PROXY_VARIABLES} | {"no_proxy"}
    env = {
        name: value
        for name, value in inherited.items()
        if not name.startswith("AQE_") and name.lower() not in proxies
    }
    api_key = stage.identity.api_key
    env.update(
        AQE_TASK=json.dumps(task_json(stage)),
        AQE_API_KEY=api_key,
        AQE_BASE_URL=base_url,
        OPENAI_BASE_URL=f"{base_url}/openai/v1",
        ANTHROPIC_BASE_URL=f"{base_url}/anthropic",
    )
    env.update(dict.fromkeys(MODEL_KEY_VARIABLES, api_key))
    for name in ("http_proxy", "https_proxy"):
        env[name] = env[name.upper()] = base_url
    env["no_proxy"] = env["NO_PROXY"] = "127.0.0.1,localhost"
    env.update(dict.fromkeys(CA_VARIABLES, str(ca_file)))
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def mounts(stage: Stage) -> dict[str, Mount]:
    """What the loopback server serves besides the services: the run's tools
    over MCP streamable HTTP at ``$AQE_BASE_URL/mcp`` (where the mcp SDK is
    installed: the ``mcp`` extra)."""
    try:
        from harness.gateway.mcp_http import MCP_PATH, McpHttp
    except ImportError:
        return {}
    return {MCP_PATH: McpHttp(stage.tools, stage.task.instructions).exchange}


def read_result(stdout: str) -> AgentResult:
    """The result on the last non-empty line of ``stdout``; ValueError if none."""
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise ValueError("the agent printed nothing; its last line must be its result")
    last = lines[-1].strip()
    try:
        value = json.loads(last)
    except ValueError:
        raise ValueError(
            f"the agent's last line of output is not JSON ({last[:200]!r})"
        ) from None
    if not isinstance(value, dict):
        raise ValueError(f"the agent's result is not a JSON object ({last[:200]!r})")
    return AgentResult.coerce(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class CommandAgent:
    """An agent that runs as a command (``cmd:COMMAND``, run by ``/bin/sh -c``)."""

    command: str

    @property
    def spec(self) -> str:
        return f"cmd:{self.command}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise HarnessError(
            f"{self.spec} runs as its own program, not as a Python call\n"
            "    fix: run it through harness.run_scenario or --aqe-agent"
        )

    def open_session(self, stage: Stage) -> Any:
        return _command_session(self, stage)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceAgent:
    """An agent that already runs as an HTTP service at ``url``."""

    url: str

    @property
    def spec(self) -> str:
        return self.url

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise HarnessError(
            f"the agent service at {self.url} is called over HTTP, not as a"
            " Python call\n    fix: run it through harness.run_scenario or --aqe-agent"
        )

    def open_session(self, stage: Stage) -> Any:
        return _service_session(self, stage)


# -- commands ---------------------------------------------------------------------


@contextmanager
def _command_session(agent: CommandAgent, stage: Stage) -> Iterator[AgentSession]:
    with tempfile.TemporaryDirectory(prefix="aqe-run-") as folder:
        yield _Command(agent, stage, Path(folder))


class _Tail:
    """The last :data:`OUTPUT_TAIL` bytes of a stream, and how many were dropped."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > OUTPUT_TAIL:
            extra = len(self.data) - OUTPUT_TAIL
            del self.data[:extra]
            self.dropped += extra

    def text(self) -> str:
        text = self.data.decode(errors="replace")
        if self.dropped:
            text = f"[{self.dropped} earlier bytes not kept]\n" + text
        return text


class _Command:
    """One run of a command agent: a process (in namespaces of its own where
    they can be had) for each delivery."""

    def __init__(self, agent: CommandAgent, stage: Stage, folder: Path) -> None:
        self.agent, self.stage = agent, stage
        self.authority = RunAuthority()
        self.ca_file = self.authority.write(folder / "ca.pem")
        why_not = namespaces_unavailable()
        self.sandbox = "kernel" if why_not is None else "proxy"
        self.mounts = mounts(stage)
        self._stdout, self._stderr = _Tail(), _Tail()
        self._left: str | None = None

    @property
    def output(self) -> str:
        out, err = self._stdout.text(), self._stderr.text()
        return out + (f"\n[stderr]\n{err}" if err else "")

    @property
    def warnings(self) -> CaughtWarnings:
        return CaughtWarnings()

    def finish(self) -> str | None:
        return self._left

    def deliver(self) -> Delivery:
        stdout_start = len(self._stdout.data)
        run = _Process(self)
        try:
            failure = run.wait()
        finally:
            run.close()
        if failure is None and run.attempts > 0:
            self.stage.door.gateway.block(
                method="CONNECT", url=f"kernel://{run.attempts}-attempts", door="kernel"
            )
        if run.left and self._left is None:
            self._left = (
                f"the agent command left {run.left} process"
                f"{'es' if run.left > 1 else ''} running after it exited; they were"
                " killed; wait for the programs it starts before it exits"
            )
        if failure is not None:
            return Delivery(result=None, failure=failure, stopped=True)
        status = run.status
        if status is None or not os.WIFEXITED(status) or os.WEXITSTATUS(status):
            return Delivery(
                result=None,
                failure=f"the agent command ended: {status_text(status)}"
                + self._last_words(),
                stopped=False,
            )
        printed = bytes(self._stdout.data[stdout_start:]).decode(errors="replace")
        try:
            result = read_result(printed)
        except (ValueError, TypeError) as exc:
            return Delivery(result=None, failure=f"{exc}{_RESULT_FIX}", stopped=False)
        return Delivery(result=result, failure=None, stopped=False)

    def _last_words(self) -> str:
        lines = [
            line.strip()
            for line in (self._stderr.text() or self._stdout.text()).splitlines()
            if line.strip()
        ]
        return f"; its last output: {' | '.join(lines[-3:])[-400:]}" if lines else ""


class _Process:
    """The command's process for one delivery, and the server it talks to."""

    def __init__(self, owner: _Command) -> None:
        self.owner = owner
        stage = owner.stage
        wall = stage.wall_timeout
        self.deadline = time.monotonic() + wall if wall else None
        self.status: int | None = None
        self.left = 0
        self.attempts = 0
        self._control: socket.socket | None = None
        self._report: dict[str, Any] | None = None
        listener: socket.socket | None = None
        if owner.sandbox == "kernel":
            self._control, theirs = socket.socketpair(
                socket.AF_UNIX, socket.SOCK_SEQPACKET
            )
            self.process = subprocess.Popen(
                [*netns.UNSHARE, sys.executable, "-I", "-S", str(_BOOT)],
                env={"AQE_BOOT_FD": str(theirs.fileno()), "PATH": os.defpath},
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
            theirs.close()
            listener = self._listening()
        self.server = LoopbackServer(
            stage.door,
            stage.clock,
            listener=listener,
            authority=owner.authority,
            mounts=owner.mounts,
        ).start()
        env = command_environment(
            stage, self.server.base_url, owner.ca_file, dict(os.environ)
        )
        argv = ["/bin/sh", "-c", owner.agent.command]
        if self._control is not None:
            self._control.send(json.dumps({"argv": argv, "env": env}).encode())
        else:
            self.process = subprocess.Popen(
                argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )

    def _listening(self) -> socket.socket:
        assert self._control is not None
        ready, _, _ = select.select([self._control], [], [], BOOT_WAIT)
        got: tuple[bytes, list[int], int, Any] = (b"", [], 0, None)
        if ready:
            with suppress(OSError):
                got = socket.recv_fds(self._control, 4096, 1)
        message, fds = got[0], got[1]
        if not fds:
            err = b""
            self._kill()
            if self.process.stderr is not None:
                with suppress(OSError):
                    err = self.process.stderr.read()
            last = err.decode(errors="replace").strip().splitlines()
            raise HarnessError(
                "the agent command's namespaces did not start"
                + (f": {last[-1]}" if last else f" ({message!r})")
                + "\n    fix: check that `unshare` works here"
            )
        return socket.socket(fileno=fds[0])

    def wait(self) -> str | None:
        """Until the command ends: None, or why the harness stopped it."""
        process = self.process
        assert process.stdout is not None
        assert process.stderr is not None
        streams = {
            process.stdout.fileno(): self.owner._stdout,
            process.stderr.fileno(): self.owner._stderr,
        }
        for fd in streams:
            os.set_blocking(fd, False)
        why: str | None = None
        while streams or not self._ended():
            if why is None:
                why = self._why_stop()
                if why is not None:
                    self._kill()
            waits = list(streams)
            if self._control is not None and self._report is None:
                waits.append(self._control.fileno())
            ready, _, _ = select.select(waits, [], [], 0.05)
            for fd in ready:
                if fd in streams:
                    chunk = _read(fd)
                    if chunk:
                        streams[fd].add(chunk)
                    else:
                        del streams[fd]
                else:
                    self._receive()
            if why is not None and self._ended() and streams:
                for fd in list(streams):  # what is left in the pipes, then stop
                    chunk = _read(fd)
                    while chunk:
                        streams[fd].add(chunk)
                        chunk = _read(fd)
                    del streams[fd]
        process.wait()
        if self._report is not None:
            self.status = _int(self._report.get("status"))
            self.left = _int(self._report.get("left")) or 0
            made = counted_attempts(
                str(self._report.get("snmp", "")), str(self._report.get("snmp6", ""))
            )
            self.attempts = max(0, made - self.server.accepted)
        else:
            self.status = _wait_status(process.returncode)
            self.left = self._reap_group()
        return why

    def _ended(self) -> bool:
        if self._control is not None:
            return self._report is not None or self.process.poll() is not None
        return self.process.poll() is not None

    def _why_stop(self) -> str | None:
        stopped = self.server.stopped
        if stopped is not None:
            return f"stopped by the harness ({stopped.reason}): {stopped.message}"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return _STOPPED.format(wall=self.owner.stage.wall_timeout)
        return None

    def _receive(self) -> None:
        assert self._control is not None
        try:
            data = self._control.recv(1 << 20)
        except OSError:
            data = b""
        try:
            message = json.loads(data) if data else {}
        except ValueError:
            message = {}
        self._report = message if isinstance(message, dict) else {}

    def _kill(self) -> None:
        if self._control is not None and self._report is None:
            with suppress(OSError):
                self._control.send(b'{"op": "kill"}')
            ready, _, _ = select.select([self._control], [], [], BOOT_WAIT)
            if ready:
                self._receive()
                return
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def _reap_group(self) -> int:
        """Without namespaces: kill what the command left in its process group."""
        try:
            os.killpg(self.process.pid, 0)
        except (ProcessLookupError, PermissionError):
            return 0
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        return 1

    def close(self) -> None:
        self.server.close()
        if self.process.poll() is None:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        if self._control is not None:
            self._control.close()
        if self.server.fatal is not None:
            raise self.server.fatal


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return b""
    except OSError:
        return b""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _wait_status(returncode: int | None) -> int | None:
    """``Popen.returncode`` as a ``waitpid`` status."""
    if returncode is None:
        return None
    if returncode < 0:
        return -returncode
    return returncode << 8


# -- services ---------------------------------------------------------------------


@contextmanager
def _service_session(agent: ServiceAgent, stage: Stage) -> Iterator[AgentSession]:
    yield _Service(agent, stage)


class _Service:
    """One run of an agent service: one ``POST`` for each delivery."""

    sandbox = "service"

    def __init__(self, agent: ServiceAgent, stage: Stage) -> None:
        self.agent, self.stage = agent, stage
        self.authority = RunAuthority()
        self.mounts = mounts(stage)
        self._said = ""

    @property
    def output(self) -> str:
        return self._said

    @property
    def warnings(self) -> CaughtWarnings:
        return CaughtWarnings()

    def finish(self) -> str | None:
        return None

    def deliver(self) -> Delivery:
        stage = self.stage
        with LoopbackServer(
            stage.door, stage.clock, authority=self.authority, mounts=self.mounts
        ) as srv:
            body = {
                "task": task_json(stage),
                "api_key": stage.identity.api_key,
                "base_url": srv.base_url,
                "proxy": srv.base_url,
                "ca_cert": self.authority.pem,
            }
            try:
                status, text = _post(
                    self.agent.url, body, wall=stage.wall_timeout, server=srv
                )
            except _Stopped as stop:
                return Delivery(result=None, failure=str(stop), stopped=True)
            except OSError as exc:
                return Delivery(
                    result=None,
                    failure=f"the agent service at {self.agent.url} did not answer:"
                    f" {exc}",
                    stopped=True,
                )
        if srv.fatal is not None:
            raise srv.fatal
        self._said += text[-OUTPUT_TAIL:]
        if status >= 300:
            return Delivery(
                result=None,
                failure=f"the agent service answered {status}: {text[:400]}",
                stopped=False,
            )
        try:
            result = read_result(text.replace("\n", " "))
        except (ValueError, TypeError) as exc:
            message = str(exc).replace("last line of output", "answer")
            return Delivery(result=None, failure=message, stopped=False)
        return Delivery(result=result, failure=None, stopped=False)


class _Stopped(Exception):
    pass


def _post(
    url: str,
    body: dict[str, Any],
    *,
    wall: float | None,
    server: LoopbackServer,
) -> tuple[int, str]:
    """POST ``body`` to the service; its status and answer, waiting while it
    calls the simulation, until ``deadline`` or the run is stopped."""
    deadline = time.monotonic() + wall if wall else None
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port
    connection: http.client.HTTPConnection
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=BOOT_WAIT)
    else:
        connection = http.client.HTTPConnection(host, port, timeout=BOOT_WAIT)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        assert connection.sock is not None
        while True:
            ready, _, _ = select.select([connection.sock], [], [], 0.05)
            if ready:
                break
            stopped = server.stopped
            if stopped is not None:
                raise _Stopped(
                    f"stopped by the harness ({stopped.reason}): {stopped.message}"
                )
            if deadline is not None and time.monotonic() >= deadline:
                raise _Stopped(_STOPPED.format(wall=wall))
        response = connection.getresponse()
        return response.status, response.read().decode(errors="replace")
    finally:
        connection.close()
