"""The MCP door over streamable HTTP: the official client against
:class:`~harness.gateway.mcp_http.McpHttp` on a loopback port, and ``aqe mcp
--http``; the same specs, gateway path, verdicts and bytes as in process."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, CallToolResult, TextContent

from harness import AgentEnv, AgentResult, Task
from harness.cli import main
from harness.cli.mcp import McpClient, Serve, named_agent
from harness.errors import RunAborted, ToolError
from harness.gateway.mcp import ToolSet
from harness.gateway.mcp_http import McpHttp, serving, stopped_reply
from harness.reporting.trace import trace_bytes
from harness.run import RunResult, prepare_run, run_scenario, run_seed
from tests.conftest import ROOT, payments_scenario
from tests.gateway import mcp_agents
from tests.gateway.mcp_agents import refund_over_mcp
from tests.gateway.test_mcp import SCENARIO, TIMEOUT_TEXT

HEADERS = [
    ("Host", "127.0.0.1:8765"),
    ("Accept", "application/json, text/event-stream"),
    ("Content-Type", "application/json"),
    ("MCP-Protocol-Version", "2025-06-18"),
]


def _wire(tools: list[Any]) -> list[dict[str, Any]]:
    return [t.model_dump(by_alias=True, exclude_none=True, mode="json") for t in tools]


def _text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def _over_http(tools: ToolSet, body: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    """``body`` with a ``ClientSession`` over streamable HTTP to ``tools``."""
    with serving(McpHttp(tools, "the task")) as server:

        async def go() -> Any:
            async with (
                streamable_http_client(server.url) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                return await body(session)

        return anyio.run(go)


def _call(name: str, arguments: dict[str, Any], call_id: int = 1) -> bytes:
    message = {
        "jsonrpc": "2.0",
        "id": call_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    return json.dumps(message).encode()


# -- the handler ---------------------------------------------------------------------


def test_the_http_server_lists_the_tools_aqe_tools_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    setup = prepare_run(payments_scenario("refund_ambiguous_timeout"), seed=1)

    async def listed(session: ClientSession) -> Any:
        return await session.list_tools()

    result = _over_http(setup.tools, listed)

    assert main(["tools", "--format", "mcp"]) == 0
    assert _wire(result.tools) == json.loads(capsys.readouterr().out)
    assert _wire(result.tools) == setup.tools.specs(format="mcp")
    assert result.next_cursor is None


def test_the_escalation_and_approval_tools_work_over_http() -> None:
    setup = prepare_run(payments_scenario("refund_over_limit_approval"), seed=1)
    charge = str(setup.task.input["charge"])

    async def humans(session: ClientSession) -> list[CallToolResult]:
        names = {t.name for t in (await session.list_tools()).tools}
        assert {"escalate", "request_approval", "get_approval"} <= names
        asked = await session.call_tool(
            "request_approval",
            {
                "action": "payments.refund",
                "params": {"charge": charge, "amount": 1200},
                "justification": "over the limit",
            },
        )
        approval = (asked.structured_content or {})["id"]
        polled = await session.call_tool("get_approval", {"approval": approval})
        escalated = await session.call_tool(
            "escalate", {"reason": "low_confidence", "summary": "unsure"}
        )
        return [asked, polled, escalated]

    asked, polled, escalated = _over_http(setup.tools, humans)

    assert [r.is_error for r in (asked, polled, escalated)] == [False, False, False]
    assert asked.structured_content is not None
    assert asked.structured_content["status"] == "pending"
    assert polled.structured_content == asked.structured_content
    assert escalated.structured_content is not None
    assert escalated.structured_content["reason"] == "low_confidence"


def test_errors_and_timeouts_come_back_as_in_process_leaving_the_same_history() -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")
    setup, direct = prepare_run(scenario, seed=3), prepare_run(scenario, seed=3)
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

    timeout, replayed, missing = _over_http(setup.tools, calls)

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
    assert (replayed.structured_content or {})["amount"] == 1200
    assert (missing.is_error, _text(missing)) == (
        True,
        "create_refund failed with 404 (resource_missing): No such charge: 'ch_nope'",
    )
    for arguments in (refund, refund, {"charge": "ch_nope", "amount": 1}):
        with contextlib.suppress(ToolError):
            direct.tools.call("create_refund", **arguments)
    assert [h.to_json() for h in setup.world.history] == [
        h.to_json() for h in direct.world.history
    ]
    assert setup.world.clock.now == direct.world.clock.now  # simulated time only


def test_a_tool_the_run_lacks_is_a_protocol_error_over_http() -> None:
    setup = prepare_run(payments_scenario("refund_ok"), seed=1)

    async def call(session: ClientSession) -> MCPError:
        with pytest.raises(MCPError) as caught:
            await session.call_tool("create_refunds", {})
        return caught.value

    error = _over_http(setup.tools, call)
    assert error.error.code == INVALID_PARAMS
    assert error.error.message.startswith(
        "unknown tool 'create_refunds'; did you mean 'create_refund'?"
    )


def test_a_2026_client_skips_the_handshake_and_gets_the_same_answers() -> None:
    setup = prepare_run(payments_scenario("refund_ambiguous_timeout"), seed=1)

    async def go(url: str) -> tuple[str, list[dict[str, Any]], CallToolResult]:
        async with Client(url) as client:  # mode "auto": server/discover first
            listed = await client.list_tools()
            missing = await client.call_tool("retrieve_charge", {"charge": "ch_nope"})
            return client.protocol_version, _wire(listed.tools), missing

    with serving(McpHttp(setup.tools)) as server:
        version, listed, missing = anyio.run(go, server.url)

    assert version == "2026-07-28"
    assert listed == setup.tools.specs(format="mcp")
    assert missing.is_error is True
    assert _text(missing) == (
        "retrieve_charge failed with 404 (resource_missing): No such charge: 'ch_nope'"
    )


def test_there_is_no_session_so_get_and_delete_answer_405() -> None:
    handler = McpHttp(prepare_run(payments_scenario("refund_ok"), seed=1).tools)

    stream = handler.exchange("GET", "/mcp", HEADERS, b"")
    ended = handler.exchange("DELETE", "/mcp", HEADERS, b"")

    assert (stream.status, ("allow", "POST") in stream.headers) == (405, True)
    assert json.loads(stream.body)["error"]["message"] == (
        "Method Not Allowed: no server stream"
    )
    assert ended.status == 405
    assert json.loads(ended.body)["error"]["message"] == (
        "Method Not Allowed: Session termination not supported"
    )


def test_a_request_from_another_host_or_a_web_page_is_refused() -> None:
    setup = prepare_run(payments_scenario("refund_ok"), seed=1)
    handler = McpHttp(setup.tools)
    charge = str(setup.task.input["charge"])
    body = _call("retrieve_charge", {"charge": charge})

    rebound = handler.exchange(
        "POST", "/mcp", [("Host", "attacker.example"), *HEADERS[1:]], body
    )
    page = handler.exchange(
        "POST", "/mcp", [*HEADERS, ("Origin", "https://attacker.example")], body
    )
    local = handler.exchange(
        "POST", "/mcp", [*HEADERS, ("Origin", "http://localhost:3000")], body
    )

    assert (rebound.status, page.status, local.status) == (421, 403, 200)
    assert setup.world.history.calls == 1  # the refused ones never reached a tool


def test_each_tool_call_runs_in_the_thread_that_calls_exchange() -> None:
    setup = prepare_run(payments_scenario("refund_ok"), seed=1)
    seen: list[int] = []

    class Recorded:
        names = setup.tools.names

        def specs(self, format: Any = "mcp") -> list[dict[str, Any]]:
            return setup.tools.specs(format=format)

        def call(self, name: str, /, **args: Any) -> Any:
            seen.append(threading.get_ident())
            return setup.tools.call(name, **args)

    handler = McpHttp(Recorded())
    body = _call("retrieve_charge", {"charge": str(setup.task.input["charge"])})
    replies = []
    worker = threading.Thread(
        target=lambda: replies.append(handler.exchange("POST", "/mcp", HEADERS, body))
    )
    worker.start()
    worker.join()
    replies.append(handler.exchange("POST", "/mcp", HEADERS, body))

    assert [r.status for r in replies] == [200, 200]
    assert seen == [worker.ident, threading.get_ident()]


def _exchanges_in_its_own_run(task: Task, env: AgentEnv) -> AgentResult:
    """Calls the handler from the run's thread: the run's clock, random, uuid4
    and event-loop policy are in force there, as in a thread the run started."""
    handler = McpHttp(env.tools)
    refund = {
        "charge": task.input["charge"],
        "amount": task.input["amount"],
        "idempotency_key": "one-key",
    }
    replies = [
        handler.exchange("POST", "/mcp", HEADERS, _call("create_refund", refund, n))
        for n in (1, 2)
    ]
    answers = [json.loads(r.body)["result"]["isError"] for r in replies]
    return AgentResult(status="done", summary="refunded", output={"errors": answers})


def _calls_directly(task: Task, env: AgentEnv) -> None:
    refund = {"charge": task.input["charge"], "amount": task.input["amount"]}
    for _ in range(2):
        with contextlib.suppress(ToolError):
            env.tools.call("create_refund", **refund, idempotency_key="one-key")


def test_the_handler_works_in_a_thread_the_run_s_sandbox_governs() -> None:
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), _exchanges_in_its_own_run, seed=4
    )

    assert result.agent_result is not None
    assert result.agent_result.output == {"errors": [True, False]}
    assert result.passed is True, [s for s in result.scores if not s.passed]
    assert [e.operation for e in result.world.ledger] == ["create_refund"]
    direct = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), _calls_directly, seed=4
    )
    assert [h.to_json() for h in result.world.history] == [
        h.to_json() for h in direct.world.history
    ]
    assert result.world.clock.now == direct.world.clock.now  # simulated, not wall


def test_a_run_stopped_during_a_call_raises_out_of_exchange_and_ends_the_server() -> (
    None
):
    setup = prepare_run(payments_scenario("refund_ok"), seed=1, max_calls=1)
    body = _call("retrieve_charge", {"charge": str(setup.task.input["charge"])})
    handler = McpHttp(setup.tools)
    assert handler.exchange("POST", "/mcp", HEADERS, body).status == 200
    with pytest.raises(RunAborted) as caught:
        handler.exchange("POST", "/mcp", HEADERS, body)
    assert caught.value.reason == "call_budget"

    async def again(url: str) -> MCPError:
        async with Client(url) as client:  # the 2026 era's path
            with pytest.raises(MCPError) as heard:
                await client.call_tool("retrieve_charge", {"charge": "ch_1"})
            return heard.value

    with serving(handler) as server:
        error = anyio.run(again, server.url)
    assert str(error) == (
        "the harness stopped the run (call_budget): the agent made more than 1"
        " tool calls; a runaway loop"
    )
    assert server.stopped is not None
    assert stopped_reply(server.stopped).status == 503


def test_the_server_answers_only_at_its_mcp_path() -> None:
    setup = prepare_run(payments_scenario("refund_ok"), seed=1)
    with serving(McpHttp(setup.tools)) as server:
        reply = server.exchange("POST", "/payments/v1/charges", HEADERS, b"{}")
    assert reply.status == 404
    assert json.loads(reply.body)["error"]["message"] == (
        "no MCP endpoint at /payments/v1/charges; it is at /mcp"
    )


# -- runs: aqe mcp's isolation, served over HTTP ---------------------------------------


def _client_over_http(tmp_path: Path, *, careful: bool) -> Serve:
    """Serve as ``aqe mcp --http`` does; the refund client reads the task file,
    refunds over HTTP and leaves its result, then the serving ends."""

    def serve(tools: ToolSet, instructions: str) -> None:
        async def client(url: str) -> None:
            task = json.loads((tmp_path / "task.json").read_text())
            async with (
                streamable_http_client(url) as (read, write),
                ClientSession(read, write) as session,
            ):
                init = await session.initialize()
                assert init.instructions == task["instructions"]
                result = await refund_over_mcp(session, task["input"], careful=careful)
            body = {"status": result.status, "summary": result.summary}
            (tmp_path / "result.json").write_text(json.dumps(body))

        with serving(McpHttp(tools, instructions)) as server:
            anyio.run(client, server.url)

    return serve


def _run_over_http(tmp_path: Path, *, careful: bool) -> RunResult:
    isolation = McpClient(
        serve=_client_over_http(tmp_path, careful=careful),
        task_file=tmp_path / "task.json",
        result_file=tmp_path / "result.json",
    )
    return run_scenario(
        payments_scenario("refund_ambiguous_timeout"),
        named_agent("mcp:http-client"),
        seed=run_seed(0, "refund_ambiguous_timeout"),
        wall_timeout=None,
        isolation=isolation,
    )


def _kinds(trace: bytes) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in trace.decode().splitlines()]
    return [t for t in lines if t["type"] in ("history", "effect", "score")]


def test_a_careful_http_client_passes_and_leaves_the_in_process_history(
    tmp_path: Path,
) -> None:
    result = _run_over_http(tmp_path, careful=True)

    assert result.passed is True, [s for s in result.scores if not s.passed]
    assert result.agent_result is not None
    assert result.agent_result.status == "done"
    assert [e.operation for e in result.world.ledger] == ["create_refund"]
    here = run_scenario(
        payments_scenario("refund_ambiguous_timeout"),
        mcp_agents.careful_mcp_agent,
        seed=run_seed(0, "refund_ambiguous_timeout"),
    )
    assert _kinds(trace_bytes(result)) == _kinds(trace_bytes(here))


def test_a_naive_http_client_fails_idempotency(tmp_path: Path) -> None:
    result = _run_over_http(tmp_path, careful=False)

    assert result.passed is False
    assert result.score("idempotency").passed is False
    assert [e.operation for e in result.world.ledger] == [
        "create_refund",
        "create_refund",
    ]


# -- aqe mcp --http ------------------------------------------------------------------


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# "ignored": started as a background job of a non-interactive shell is
# (``aqe mcp --http &`` in a CI script), with SIGINT ignored from the start
@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_aqe_mcp_http_serves_until_sigint_then_scores_the_run(
    tmp_path: Path, sigint: str
) -> None:
    command = [
        sys.executable,
        "-m",
        "harness.cli",
        "mcp",
        "--http",
        "--scenario",
        str(SCENARIO),
        "--task-file",
        str(tmp_path / "task.json"),
        "--result-file",
        str(tmp_path / "result.json"),
        "--trace",
        str(tmp_path / "trace.jsonl"),
    ]
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        preexec_fn=_ignore_sigint if sigint == "ignored" else None,
    ) as server:
        assert server.stderr is not None
        first = server.stderr.readline()
        url = first.removeprefix("aqe mcp: serving at ").partition(" ")[0]
        task = json.loads((tmp_path / "task.json").read_text())

        async def client() -> str:
            async with (
                streamable_http_client(url) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                result = await refund_over_mcp(session, task["input"], careful=True)
            return str(result.status)

        status = anyio.run(client)
        (tmp_path / "result.json").write_text(json.dumps({"status": status}))
        server.send_signal(signal.SIGINT)
        try:
            out, rest = server.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            pytest.fail(f"aqe mcp --http did not end on SIGINT: {server.communicate()}")

    assert first.startswith("aqe mcp: serving at http://127.0.0.1:")
    assert first.endswith("/mcp (Ctrl-C ends the run)\n")
    assert (server.returncode, out) == (0, "")
    assert rest.endswith(
        "aqe mcp: refund_ambiguous_timeout (seed"
        f" {run_seed(0, 'refund_ambiguous_timeout')}, session seed 0): passed;"
        " 4 tool call(s), 30.15 simulated seconds\n"
    ), rest
    lines = (tmp_path / "trace.jsonl").read_text().splitlines()
    trace = [json.loads(line) for line in lines]
    assert trace[0]["agent"] == "mcp:http-client"
    assert trace[-1]["agent_status"] == "done"


def test_aqe_mcp_port_without_http_says_to_add_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["mcp", "--port", "8765", "--scenario", str(SCENARIO)]) == 2
    assert capsys.readouterr().err == (
        "aqe mcp: --port 8765 is the HTTP server's port, and this serves over"
        " stdio\n    fix: add --http, or leave out --port\n"
    )


def test_aqe_mcp_http_on_a_taken_port_says_to_choose_another(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["mcp", "--http", "--port", str(port), "--scenario", str(SCENARIO)])
    assert code == 2
    assert capsys.readouterr().err == (
        f"aqe mcp: cannot serve on 127.0.0.1:{port} (Address already in use)\n"
        "    fix: choose another --port, or leave it out for a free one\n"
    )


def test_the_readme_http_client_reads_the_run_s_refunds() -> None:
    text = (ROOT / "README.md").read_text()
    (code,) = re.findall(
        r"```python\n(from mcp import Client\n\n\nasync def list_refunds.*?)```",
        text,
        re.S,
    )
    namespace: dict[str, Any] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    setup = prepare_run(payments_scenario("refund_already_refunded"), seed=1)
    charge = str(setup.task.input["charge"])

    with serving(McpHttp(setup.tools)) as server:
        listed = anyio.run(namespace["list_refunds"], server.url, charge)

    assert [r["charge"] for r in listed["data"]] == [charge]
