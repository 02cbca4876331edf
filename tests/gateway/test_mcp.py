"""The MCP door: the run's tools through the official ``mcp`` client, in process
(``env.mcp()``, in pytest's process and in the agent's own) and over stdio from
``aqe mcp``; the same specs, gateway path, verdicts and bytes as the function door."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent

from harness import AgentEnv, AgentResult, Task
from harness.cli import main
from harness.errors import (
    HarnessError,
    ToolConnectionError,
    ToolError,
    ToolMalformedResponse,
)
from harness.gateway.mcp import client_session, error_result
from harness.isolation import ProcessIsolation
from harness.reporting.trace import trace_bytes
from harness.run import RunSetup, prepare_run, run_scenario, run_seed
from tests.conftest import ROOT, payments_scenario
from tests.gateway import mcp_agents
from tests.gateway.mcp_agents import refund_over_mcp

TIMEOUT_TEXT = (
    "create_refund timed out: the answer never came, so the call may or may not"
    " have taken effect"
)
SCENARIO = ROOT / "scenarios" / "payments" / "refund_ambiguous_timeout.yaml"


def _wire(tools: list[Any]) -> list[dict[str, Any]]:
    return [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def _in_session(setup: RunSetup, body: Callable[[ClientSession], Any]) -> Any:
    async def go() -> Any:
        async with client_session(setup.tools) as session:
            return await body(session)

    return anyio.run(go)


# -- the server ---------------------------------------------------------------------


def test_the_server_lists_exactly_the_run_s_mcp_specs() -> None:
    setup = prepare_run(payments_scenario("refund_ambiguous_timeout"), seed=1)

    async def listed(session: ClientSession) -> Any:
        return await session.list_tools()

    result = _in_session(setup, listed)
    assert result.next_cursor is None
    assert _wire(result.tools) == setup.tools.specs(format="mcp")


def test_a_call_over_mcp_leaves_the_history_a_direct_call_leaves() -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")
    direct, over_mcp = prepare_run(scenario, seed=2), prepare_run(scenario, seed=2)
    charge = str(direct.task.input["charge"])
    calls = [
        ("retrieve_charge", {"charge": charge}),
        ("create_refund", {"charge": charge, "amount": 1200, "idempotency_key": "k"}),
        ("create_refund", {"charge": charge, "amount": 1200, "idempotency_key": "k"}),
        ("create_refund", {"charge": "ch_nope", "amount": 1}),
    ]
    for name, args in calls:
        with contextlib.suppress(ToolError):
            direct.tools.call(name, **args)

    async def call_all(session: ClientSession) -> list[bool]:
        return [(await session.call_tool(n, a)).is_error for n, a in calls]

    assert _in_session(over_mcp, call_all) == [False, True, False, True]
    assert [h.to_json() for h in over_mcp.world.history] == [
        h.to_json() for h in direct.world.history
    ]
    assert over_mcp.world.clock.now == direct.world.clock.now


def test_answers_errors_and_timeouts_come_back_as_mcp_results() -> None:
    setup = prepare_run(payments_scenario("refund_ambiguous_timeout"), seed=3)
    charge = str(setup.task.input["charge"])
    refund = {"charge": charge, "amount": 1200, "idempotency_key": "k"}

    async def calls(session: ClientSession) -> list[CallToolResult]:
        return [
            await session.call_tool("create_refund", refund),
            await session.call_tool("create_refund", refund),
            await session.call_tool(
                "create_refund", {"charge": "ch_nope", "amount": 1}
            ),
        ]

    timeout, replayed, missing = _in_session(setup, calls)

    assert (timeout.is_error, _text(timeout)) == (True, TIMEOUT_TEXT)
    assert timeout.structured_content == {
        "error": {
            "kind": "timeout",
            "status": 0,
            "message": TIMEOUT_TEXT,
            "committed": "unknown",
        }
    }
    assert replayed.is_error is False
    body = replayed.structured_content
    assert (body["object"], body["amount"], body["charge"]) == ("refund", 1200, charge)
    assert json.loads(_text(replayed)) == body
    assert missing.is_error is True
    assert _text(missing) == (
        "create_refund failed with 404 (resource_missing): No such charge: 'ch_nope'"
    )
    assert missing.structured_content["error"] == {
        "kind": "status",
        "status": 404,
        "code": "resource_missing",
        "message": "No such charge: 'ch_nope'",
    }
    assert missing.structured_content["body"]["error"]["param"] == "charge"


def test_a_tool_the_run_lacks_is_a_protocol_error() -> None:
    setup = prepare_run(payments_scenario("refund_ok"), seed=1)

    async def call(session: ClientSession) -> None:
        await session.call_tool("create_refunds", {})

    with pytest.raises(MCPError) as caught:
        _in_session(setup, call)
    assert caught.value.error.code == INVALID_PARAMS
    assert caught.value.error.message.startswith(
        "unknown tool 'create_refunds'; did you mean 'create_refund'? known tools: "
    )


def test_the_other_ambiguous_errors_and_a_rate_limit() -> None:
    reset = error_result("send_message", ToolConnectionError("x"))
    garbled = error_result(
        "send_message", ToolMalformedResponse("x", status=200, raw="{")
    )
    limited = error_result(
        "send_message",
        ToolError(
            "x",
            status=429,
            body={"error": {"code": "rate_limited", "message": "Slow down."}},
            headers={"retry-after": "2"},
        ),
    )

    assert _text(reset) == (
        "send_message lost its connection (reset): the answer never came, so the"
        " call may or may not have taken effect"
    )
    assert _text(garbled) == (
        "send_message answered with a body that is not JSON: the answer never came,"
        " so the call may or may not have taken effect"
    )
    assert garbled.structured_content["error"]["status"] == 200
    assert _text(limited) == "send_message failed with 429 (rate_limited): Slow down."
    assert limited.structured_content["retry_after"] == 2.0
    assert all(r.is_error for r in (reset, garbled, limited))


# -- agents with env.mcp(): in pytest's process and in their own ---------------------


@pytest.mark.parametrize(
    "agent",
    [mcp_agents.careful_mcp_agent, mcp_agents.careful_mcp_sync_agent],
    ids=["async", "sync"],
)
def test_an_mcp_agent_that_reuses_its_key_passes_the_ambiguous_timeout(
    agent: Callable[..., Any], where: ProcessIsolation | None
) -> None:
    result = run_scenario(payments_scenario("refund_ambiguous_timeout"), agent, seed=4)
    there = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), agent, seed=4, isolation=where
    )

    assert there.passed is True, [s for s in there.scores if not s.passed]
    assert there.agent_result is not None
    assert there.agent_result.status == "done"
    assert (there.sandbox == "none") is (where is None)
    assert len(there.world.ledger) == 1
    assert trace_bytes(there) == trace_bytes(result)


@pytest.mark.parametrize(
    "agent",
    [mcp_agents.naive_mcp_agent, mcp_agents.naive_mcp_sync_agent],
    ids=["async", "sync"],
)
def test_an_mcp_agent_that_retries_without_a_key_fails_idempotency(
    agent: Callable[..., Any], where: ProcessIsolation | None
) -> None:
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), agent, seed=4, isolation=where
    )

    assert result.passed is False
    assert "idempotency" in result.failed_oracles
    assert result.score("idempotency").passed is False
    assert [e.operation for e in result.world.ledger] == [
        "create_refund",
        "create_refund",
    ]


def test_an_mcp_run_gives_the_same_bytes_every_time() -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")
    runs = [
        trace_bytes(run_scenario(scenario, mcp_agents.careful_mcp_agent, seed=9))
        for _ in range(3)
    ]
    assert runs[0] == runs[1] == runs[2]
    assert b'"simulated_seconds":30.15' in runs[0]


async def _raises_inside(task: Task, env: AgentEnv) -> AgentResult:
    async with env.mcp() as session:
        await session.list_tools()
        raise LookupError("the agent's own bug")


def test_the_agent_s_own_exception_comes_out_of_env_mcp_as_itself() -> None:
    result = run_scenario(payments_scenario("refund_ok"), _raises_inside, seed=1)

    explanation = result.score("agent").explanation
    assert explanation.startswith(
        "the agent raised LookupError: the agent's own bug at "
    )
    assert explanation.endswith(f"tests/gateway/test_mcp.py:{_LINE + 3}")


_LINE = _raises_inside.__code__.co_firstlineno


async def _calls_forever(task: Task, env: AgentEnv) -> AgentResult:
    async with env.mcp() as session:
        while True:
            await session.call_tool("retrieve_charge", {"charge": task.input["charge"]})


def test_a_run_stopped_during_an_mcp_call_is_stopped_not_crashed() -> None:
    result = run_scenario(
        payments_scenario("refund_ok"), _calls_forever, seed=1, max_calls=3
    )

    assert result.score("agent").explanation == (
        "stopped by the harness (call_budget): the agent made more than 3 tool"
        " calls; a runaway loop"
    )
    assert result.world.history.calls == 4


# -- over stdio: aqe mcp ---------------------------------------------------------------


def _server(tmp_path: Path, *extra: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=[
            "-m",
            "harness.cli",
            "mcp",
            "--scenario",
            str(SCENARIO),
            "--task-file",
            str(tmp_path / "task.json"),
            "--result-file",
            str(tmp_path / "result.json"),
            "--trace",
            str(tmp_path / "trace.jsonl"),
            *extra,
        ],
        env={"PYTHONPATH": str(ROOT)},
        cwd=str(ROOT),
    )


def _over_stdio(tmp_path: Path, *, careful: bool) -> tuple[list[dict[str, Any]], str]:
    """Run the refund against ``aqe mcp``; the tools it listed and its instructions."""

    async def go(errlog: TextIO) -> tuple[list[dict[str, Any]], str]:
        async with (
            stdio_client(_server(tmp_path), errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            init = await session.initialize()
            listed = await session.list_tools()
            task = json.loads((tmp_path / "task.json").read_text())
            result = await refund_over_mcp(session, task["input"], careful=careful)
            body = {"status": result.status, "summary": result.summary}
            (tmp_path / "result.json").write_text(json.dumps(body))
            return _wire(listed.tools), str(init.instructions)

    with (tmp_path / "stderr").open("w") as errlog:
        return anyio.run(go, errlog)


def _trace(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "trace.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


@dataclass(frozen=True, slots=True, kw_only=True)
class StdioRun:
    folder: Path
    listed: list[dict[str, Any]]
    instructions: str


@pytest.fixture(scope="module")
def careful_stdio(tmp_path_factory: pytest.TempPathFactory) -> StdioRun:
    """One careful client's run against ``aqe mcp``, for the tests that read it."""
    folder = tmp_path_factory.mktemp("careful_stdio")
    listed, instructions = _over_stdio(folder, careful=True)
    return StdioRun(folder=folder, listed=listed, instructions=instructions)


@pytest.mark.xdist_group(
    "gateway.test_mcp.careful_stdio"
)  # one worker computes the shared run
def test_aqe_mcp_lists_the_tools_aqe_tools_prints(
    careful_stdio: StdioRun, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp_path = careful_stdio.folder
    listed, instructions = careful_stdio.listed, careful_stdio.instructions

    assert main(["tools", "--format", "mcp"]) == 0
    assert listed == json.loads(capsys.readouterr().out)
    task = json.loads((tmp_path / "task.json").read_text())
    assert instructions == task["instructions"]
    assert task["seed"] == run_seed(0, "refund_ambiguous_timeout")
    assert sorted(task) == ["input", "instructions", "scenario", "seed"]


@pytest.mark.xdist_group(
    "gateway.test_mcp.careful_stdio"
)  # one worker computes the shared run
def test_a_careful_stdio_client_passes_and_leaves_the_in_process_history(
    careful_stdio: StdioRun,
) -> None:
    tmp_path = careful_stdio.folder
    trace = _trace(tmp_path)

    verdict = trace[-1]
    assert verdict == {
        "type": "verdict",
        "passed": True,
        "failed": [],
        "agent_status": "done",
        "agent_summary": verdict["agent_summary"],
        "simulated_seconds": 30.15,
        "tool_calls": 4,
    }
    assert trace[0]["agent"] == "mcp:stdio-client"
    assert (
        (tmp_path / "stderr")
        .read_text()
        .endswith(
            "aqe mcp: refund_ambiguous_timeout (seed"
            f" {run_seed(0, 'refund_ambiguous_timeout')}, session seed 0): passed;"
            " 4 tool call(s), 30.15 simulated seconds\n"
        )
    )
    # the very run an in-process MCP agent makes on pytest's first seed
    here = run_scenario(
        payments_scenario("refund_ambiguous_timeout"),
        mcp_agents.careful_mcp_agent,
        seed=run_seed(0, "refund_ambiguous_timeout"),
    )
    same = [json.loads(line) for line in trace_bytes(here).decode().splitlines()]
    assert [t for t in trace if t["type"] in ("history", "effect", "score")] == [
        t for t in same if t["type"] in ("history", "effect", "score")
    ]


def test_a_naive_stdio_client_fails_idempotency(tmp_path: Path) -> None:
    _over_stdio(tmp_path, careful=False)
    trace = _trace(tmp_path)

    assert "idempotency" in trace[-1]["failed"]
    effects = [t for t in trace if t["type"] == "effect"]
    assert [e["operation"] for e in effects] == ["create_refund", "create_refund"]
    assert "FAILED idempotency" in (tmp_path / "stderr").read_text()


def test_aqe_mcp_writes_only_mcp_messages_on_stdout(tmp_path: Path) -> None:
    messages = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    params = _server(tmp_path)
    lines = []
    with subprocess.Popen(
        [params.command, *params.args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    ) as server:
        assert server.stdin is not None
        assert server.stdout is not None
        for message in messages:  # as a client does: each answer before the next
            server.stdin.write(json.dumps(message) + "\n")
            server.stdin.flush()
            if "id" in message:
                lines.append(server.stdout.readline())
        rest, stderr = server.communicate(timeout=120)  # closes stdin: EOF
    done = subprocess.CompletedProcess(server.args, server.returncode, rest, stderr)
    assert rest == ""
    answers = [json.loads(line) for line in lines]
    assert [a["id"] for a in answers] == [1, 2]
    assert all(a["jsonrpc"] == "2.0" and "result" in a for a in answers)
    assert len(answers[1]["result"]["tools"]) >= 20
    # the client refunded nothing: the run fails, and says so on stderr (exit 1)
    assert done.returncode == 1
    assert done.stderr.endswith(
        "FAILED idempotency, outcome; 0 tool call(s), 0 simulated seconds\n"
    ), done.stderr


def test_aqe_mcp_says_what_is_wrong_with_its_scenario(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["mcp", "--scenario", "nope.yaml"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "aqe mcp: nope.yaml: cannot read the scenario file (No such file or"
        " directory)\n    fix: check the path, and that the file is UTF-8 YAML\n",
    )


def test_without_the_sdk_env_mcp_and_aqe_mcp_say_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("harness.gateway.mcp", "harness.cli.mcp"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    for name in [n for n in sys.modules if n == "mcp" or n.startswith("mcp.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    setup = prepare_run(payments_scenario("refund_ok"), seed=1)
    env = AgentEnv(
        http=None,  # type: ignore[arg-type]
        ahttp=None,  # type: ignore[arg-type]
        tools=setup.tools,
        identity=setup.identity,
    )

    with pytest.raises(HarnessError) as caught:
        env.mcp()
    assert str(caught.value) == (
        "env.mcp() needs the MCP SDK, which does not import here (import of"
        " mcp.client.session halted; None in sys.modules)\n"
        "    fix: pip install 'aqe-harness[mcp]' (the mcp package, 2.3 or later)"
    )
    assert main(["mcp", "--scenario", str(SCENARIO)]) == 2
    assert capsys.readouterr().err == (
        "aqe mcp: the MCP SDK does not import here (import of mcp.client.session"
        " halted; None in sys.modules)\n"
        "    fix: pip install 'aqe-harness[mcp]' (the mcp package, 2.3 or later)\n"
    )


def test_the_readme_mcp_agent_passes_the_ambiguous_timeout() -> None:
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(
        r"```python\n(async def mcp_refund_agent\(task, env\):\n.*?)```", text, re.S
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)

    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), namespace["mcp_refund_agent"]
    )

    assert result.passed, result.scores
    assert [e.operation for e in result.world.ledger] == ["create_refund"]


async def _impatient(task: Task, env: AgentEnv) -> AgentResult:
    async with env.mcp(read_timeout_seconds=10) as session:
        refund = {"charge": task.input["charge"], "amount": 1200}
        try:
            await session.call_tool("create_refund", refund)
        except MCPError as exc:
            return AgentResult(status="failed", summary=f"{exc.error.code} {exc}")
    return AgentResult(status="done")


def test_a_client_read_timeout_shorter_than_the_tool_is_the_sdk_s_own_timeout() -> None:
    result = run_scenario(payments_scenario("refund_ambiguous_timeout"), _impatient)

    assert result.agent_result == AgentResult(
        status="failed", summary="-32001 Request 'tools/call' timed out"
    )
    assert result.world.clock.now == 30.0  # the fault's 30 s, in simulated time
