"""``aqe mcp``: one run's tools over MCP on stdin/stdout, for an MCP client that
runs outside the harness (another program spawns ``aqe mcp`` as its server), or
with ``--http`` over streamable HTTP at ``http://127.0.0.1:PORT/mcp``
(:mod:`harness.gateway.mcp_http`) until Ctrl-C.

The run is the one pytest would make for the scenario with the same session
seed (the first of its seeds): the same world, faults, policy and history. The
client is the agent: it connects once; when it closes stdin (over HTTP: at
Ctrl-C, or when the harness stops the run) the run ends, the effects in flight
land, and the run is scored as any other. Only MCP traffic goes to stdout;
everything else (over HTTP: the URL first) to stderr.

What the client cannot send over MCP comes by files: ``--task-file`` gets the
task before serving (the fields a command agent finds in ``AQE_TASK``:
``input``, ``instructions``, ``scenario``, ``seed``; the instructions are also
the server's ``instructions`` in the handshake), and the client may write its
result (``{"status": "done", "summary": ...}``, as a command agent prints it) to
``--result-file`` before it disconnects (over HTTP: before the Ctrl-C). Without
a result the run is scored on what the client did alone (``safe_failure`` then
cannot count it as completed).

Simulated time moves only with tool calls (their latency, faults' delays): a
client outside the process has no way to wait on the run's clock.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import anyio

from harness.cli import MCP_AGENT, MCP_HTTP_AGENT
from harness.errors import HarnessError, RunAborted
from harness.files import write_atomic
from harness.gateway.mcp import ToolSet, serve_stdio
from harness.gateway.mcp_http import McpHttp, McpHttpServer
from harness.reporting.trace import trace_bytes
from harness.run import RunResult, run_scenario, run_seed
from harness.runtime.caught import CaughtWarnings
from harness.runtime.env import AgentResult, Task
from harness.runtime.session import AgentSession, Delivery, Stage
from harness.scenario.loader import load_scenario


def command(args: argparse.Namespace, extra: list[str]) -> int:
    """Run ``aqe mcp`` (see the module docstring)."""
    try:
        if args.port is not None and not args.http:
            raise HarnessError(
                f"--port {args.port} is the HTTP server's port, and this serves"
                " over stdio\n    fix: add --http, or leave out --port"
            )
        scenario = load_scenario(args.scenario)
        seed = run_seed(args.seed, scenario.name)
        isolation = McpClient(
            serve=over_http(args.port or 0, _announce) if args.http else over_stdio,
            task_file=Path(args.task_file) if args.task_file else None,
            result_file=Path(args.result_file) if args.result_file else None,
        )
        name = args.agent_name or (MCP_HTTP_AGENT if args.http else MCP_AGENT)
        result = run_scenario(
            scenario,
            named_agent(name),
            seed=seed,
            wall_timeout=None,
            isolation=isolation,
        )
    except HarnessError as err:
        sys.stderr.write(f"aqe mcp: {err}\n")
        return 2
    if args.trace:
        write_atomic(Path(args.trace), trace_bytes(result))
    sys.stderr.write(verdict_line(result, session_seed=args.seed) + "\n")
    return 0 if result.passed else 1


def verdict_line(result: RunResult, *, session_seed: int) -> str:
    """What ``aqe mcp`` says on stderr when the client has gone."""
    failed = result.failed_oracles
    verdict = "passed" if result.passed else f"FAILED {', '.join(failed)}"
    return (
        f"aqe mcp: {result.scenario.name} (seed {result.seed}, session seed"
        f" {session_seed}): {verdict}; {result.tool_calls} tool call(s),"
        f" {result.world.clock.now:g} simulated seconds"
    )


def named_agent(name: str) -> Callable[..., Any]:
    """A stand-in callable that traces name ``name`` (``module:name``)."""

    def client(task: Task, env: Any) -> None:
        raise HarnessError("an MCP client of aqe mcp is not called; it connects")

    module, _, qualname = name.rpartition(":")
    client.__module__ = module or "mcp"
    client.__qualname__ = qualname or name
    return client


#: How ``aqe mcp`` serves a run's tools (``tools``, the handshake's
#: ``instructions``) until its client is done; raises ``RunAborted`` when the
#: harness stops the run.
Serve = Callable[[ToolSet, str], None]


def over_stdio(tools: ToolSet, instructions: str) -> None:
    """Serve on this process's stdin/stdout until the client closes stdin."""
    anyio.run(serve_stdio, tools, instructions)


def over_http(port: int, announce: Callable[[str], None]) -> Serve:
    """Serve over streamable HTTP on 127.0.0.1 (``port`` 0: a free one), telling
    ``announce`` the URL, until Ctrl-C (or SIGTERM) or the harness stops the run."""

    def serve(tools: ToolSet, instructions: str) -> None:
        try:
            server = McpHttpServer(McpHttp(tools, instructions), port=port)
        except OSError as exc:
            raise HarnessError(
                f"cannot serve on 127.0.0.1:{port} ({exc.strerror or exc})\n"
                "    fix: choose another --port, or leave it out for a free one"
            ) from None
        server.start()
        try:
            with _terminate_as_interrupt():
                announce(server.url)
                server.wait()
        except KeyboardInterrupt:  # the user's way to say the client is done
            pass
        finally:
            server.close()
        if server.stopped is not None:
            raise server.stopped

    return serve


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a supervisor's stop) ends the serving as Ctrl-C does; so does
    SIGINT even where it was ignored when the process started (a background job
    of a non-interactive shell, ``aqe mcp --http &`` in a CI script, inherits
    SIGINT ignored, and Python then leaves it ignored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {
        signum: signal.signal(signum, interrupt)
        for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _announce(url: str) -> None:
    sys.stderr.write(f"aqe mcp: serving at {url} (Ctrl-C ends the run)\n")
    sys.stderr.flush()


class McpClient:
    """The :class:`~harness.runtime.session.Isolation` of ``aqe mcp``: the agent
    is an MCP client ``serve`` answers (on this process's stdin/stdout by
    default), in a process of its own that the harness neither started nor
    contains (``sandbox: none``)."""

    def __init__(
        self,
        *,
        serve: Serve = over_stdio,
        task_file: Path | None = None,
        result_file: Path | None = None,
    ) -> None:
        self.serve = serve
        self.task_file = task_file
        self.result_file = result_file

    def open(
        self, agent: Callable[..., Any], stage: Stage
    ) -> AbstractContextManager[AgentSession]:
        return self._open(stage)

    @contextmanager
    def _open(self, stage: Stage) -> Iterator[AgentSession]:
        if self.task_file is not None:
            task = stage.task
            body = {
                "input": dict(task.input),
                "instructions": task.instructions,
                "scenario": task.scenario,
                "seed": task.seed,
            }
            write_atomic(self.task_file, json.dumps(body, sort_keys=True).encode())
        yield _McpSession(stage, self.serve, self.result_file)


class _McpSession:
    sandbox = "none"
    output = ""

    def __init__(self, stage: Stage, serve: Serve, result_file: Path | None) -> None:
        self._stage, self._serve, self._result_file = stage, serve, result_file
        self._served = False

    @property
    def warnings(self) -> CaughtWarnings:
        return CaughtWarnings()

    def deliver(self) -> Delivery:
        if self._served:  # a redelivery: the client connected once, and is gone
            return Delivery(result=None, failure=None, stopped=True)
        self._served = True
        try:
            self._serve(self._stage.tools, self._stage.task.instructions)
        except RunAborted as exc:
            return _stopped(exc)
        except BaseExceptionGroup as group:
            aborted, _ = group.split(RunAborted)
            if aborted is None:
                raise
            return _stopped(_first(aborted))
        return self._result()

    def _result(self) -> Delivery:
        path = self._result_file
        if path is None or not path.exists():
            return Delivery(result=None, failure=None, stopped=False)
        try:
            result = AgentResult.coerce(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as exc:
            message = f"the client's result in {path} cannot be read: {exc}"
            return Delivery(result=None, failure=message, stopped=False)
        return Delivery(result=result, failure=None, stopped=False)

    def finish(self) -> str | None:
        return None


def _stopped(exc: RunAborted) -> Delivery:
    message = f"stopped by the harness ({exc.reason}): {exc.message}"
    return Delivery(result=None, failure=message, stopped=True)


def _first(group: BaseExceptionGroup[RunAborted]) -> RunAborted:
    inner = group.exceptions[0]
    return _first(inner) if isinstance(inner, BaseExceptionGroup) else inner
