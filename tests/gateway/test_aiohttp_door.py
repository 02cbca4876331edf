"""The aiohttp door: an unmodified ``aiohttp.ClientSession`` agent reaches the
simulation through the one gateway path, sees every fault as aiohttp's own
failure, and cannot reach anything else; in pytest's process and in its own."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.scenario.model import FaultKind
from tests.conftest import payments_scenario, small_scenario
from tests.faults.test_fault_kinds import _OPS
from tests.faults.test_fault_matrix import CASES, TOOL_KINDS, Params

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("aioresponses")


async def aiohttp_call(
    session: Any, tool: str, params: dict[str, Any]
) -> tuple[str, Any]:
    """``tool`` over aiohttp, as ``(what came back, body)``."""
    op = _OPS[tool]
    rest = dict(params)
    path = op.path.format(**{name: rest.pop(name) for name in op.path_params})
    url = f"https://{op.service}.sim{path}"
    if op.method == "GET":
        request = session.get(url, params=rest)
    elif op.service == "payments":
        request = session.request(
            op.method, url, data={k: str(v) for k, v in rest.items()}
        )
    else:
        request = session.request(op.method, url, json=rest)
    try:
        async with request as response:
            try:
                body = await response.json(content_type=None)
            except ValueError:
                return ("malformed", await response.text())
            return ("ok" if response.status < 400 else str(response.status), body)
    except aiohttp.ServerTimeoutError:
        return ("timeout", None)
    except aiohttp.ClientConnectionError:
        return ("reset", None)


def probe(tool: str, params: Params, times: int) -> Any:
    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        headers = {"authorization": f"Bearer {env.identity.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            seen = [
                await aiohttp_call(session, tool, params(task)) for _ in range(times)
            ]
        return AgentResult(output={"seen": [list(s) for s in seen]})

    return agent


@pytest.mark.parametrize("kind", TOOL_KINDS, ids=str)
def test_every_fault_kind_reaches_aiohttp_as_its_own_failure(kind: FaultKind) -> None:
    params, tool, args, times, sees = CASES[kind]
    fault: dict[str, Any] = {"id": "f", "kind": str(kind), **params}
    if kind not in (FaultKind.CONFLICTING_DATA, FaultKind.DUPLICATE_DELIVERY):
        fault["match"] = {"tool": tool}

    result = run_scenario(small_scenario(faults=[fault]), probe(tool, args, times))

    assert result.agent_result is not None, result.scores
    seen = [tuple(s) for s in result.agent_result.output["seen"]]
    assert sees(seen), seen
    assert result.fault_coverage[0]["fired"] >= 1
    invokes = [h for h in result.world.history if h.type == "invoke"]
    assert {h.value["door"] for h in invokes} == {"http"}


def refund_agent(*, stable_key: bool) -> Any:
    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        charge, amount = task.input["charge"], task.input["amount"]
        headers = {"authorization": f"Bearer {env.identity.api_key}"}
        async with aiohttp.ClientSession(headers=headers) as session:
            for attempt in range(4):
                key = f"refund-{charge}" + ("" if stable_key else f"-{attempt}")
                try:
                    async with session.post(
                        "https://payments.sim/v1/refunds",
                        data={"charge": charge, "amount": str(amount)},
                        headers={"Idempotency-Key": key},
                    ) as response:
                        if response.status < 500:
                            return AgentResult(summary=str(response.status))
                except (aiohttp.ServerTimeoutError, aiohttp.ClientConnectionError):
                    continue
        return AgentResult(status="failed", summary="no answer")

    return agent


careful = refund_agent(stable_key=True)
naive = refund_agent(stable_key=False)


def test_a_careful_aiohttp_agent_refunds_once_under_the_ambiguous_timeout(
    where: Any,
) -> None:
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), careful, seed=3, isolation=where
    )
    assert "idempotency" not in result.failed_oracles, result.scores
    assert [e.operation for e in result.world.ledger] == ["create_refund"]


def test_a_naive_aiohttp_agent_refunds_twice_and_fails_idempotency(where: Any) -> None:
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), naive, seed=3, isolation=where
    )
    assert "idempotency" in result.failed_oracles


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    received: list[bytes] = []
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                received.append(conn.recv(100) or b"(connected)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], received
    done.set()
    thread.join(5)
    server.close()


def test_an_aiohttp_call_outside_the_simulation_is_blocked_and_never_sent(
    where: Any, listener: tuple[int, list[bytes]]
) -> None:
    port, received = listener

    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        async with aiohttp.ClientSession() as session:
            try:
                async with session.get(f"http://127.0.0.1:{port}/escape"):
                    pass
            except aiohttp.ClientConnectionError as exc:
                return AgentResult(summary=str(exc))
        return AgentResult(summary="reached it")

    result = run_scenario(
        payments_scenario("refund_ok"), agent, seed=1, isolation=where
    )

    assert "security" in result.failed_oracles
    assert result.agent_result is not None
    assert result.agent_result.summary.startswith(
        "aqe: blocked outbound request to 127.0.0.1"
    )
    assert received == []


def test_the_first_run_in_a_process_draws_what_later_runs_draw() -> None:
    """Building the door's routes (the first run in a process does) takes
    nothing from the run's random stream."""
    from harness.gateway.doors import aiohttp as door

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        import random
        import uuid

        return AgentResult(output={"draw": [random.random(), str(uuid.uuid4())]})

    door._routes.cache_clear()  # as in a new process
    first = run_scenario(small_scenario(), agent, seed=11)
    later = run_scenario(small_scenario(), agent, seed=11)

    assert first.agent_result is not None
    assert later.agent_result is not None
    assert first.agent_result.output == later.agent_result.output
