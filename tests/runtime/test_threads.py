"""The agent's threads are inside the simulation: work handed to a pool runs as
inline code would, and a thread the agent starts has simulated time and no
network."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.agents.reference import careful_refund_agent
from harness.reporting.trace import trace_bytes
from tests.conftest import payments_scenario


def pooled(task: Task, env: AgentEnv) -> Any:
    """The careful agent, run from a framework-style tool pool."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        return pool.submit(careful_refund_agent, task, env).result()


@pytest.mark.parametrize("seed", range(20))
def test_a_pooled_agent_gives_the_same_trace_as_inline(seed: int) -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")
    inline = run_scenario(scenario, careful_refund_agent, seed=seed)
    in_pool = run_scenario(scenario, pooled, seed=seed)

    assert in_pool.passed is inline.passed is True
    assert in_pool.world.clock.now == inline.world.clock.now
    # the same lines but the header's agent name
    assert trace_bytes(in_pool).splitlines()[1:] == trace_bytes(inline).splitlines()[1:]


def test_calls_mapped_over_a_pool_come_in_submission_order() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        tools = ["retrieve_charge", "list_charges", "retrieve_charge"]
        args = [{"charge": task.input["charge"]}, {"limit": 1}, {"charge": "ch_no"}]

        def call(i: int) -> str:
            try:
                env.tools.call(tools[i], **args[i])
                return "ok"
            except Exception as exc:
                return type(exc).__name__

        with ThreadPoolExecutor(max_workers=3) as pool:
            seen = list(pool.map(call, range(3)))
        return AgentResult(output={"seen": seen})

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)

    invokes = [h.f for h in result.world.history if h.type == "invoke"]
    assert invokes == ["retrieve_charge", "list_charges", "retrieve_charge"]
    assert result.agent_result is not None
    assert result.agent_result.output["seen"] == ["ok", "ok", "ToolError"]


def test_a_thread_the_agent_starts_sleeps_in_simulated_time() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        seen: list[float] = []

        def work() -> None:
            start = time.monotonic()
            time.sleep(3600)
            seen.append(time.monotonic() - start)

        worker = threading.Thread(target=work)
        started = time.perf_counter()
        worker.start()
        worker.join()
        return AgentResult(
            output={"slept": seen[0], "wall": time.perf_counter() - started}
        )

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)

    assert result.agent_result is not None
    assert result.agent_result.output["slept"] == 3600.0
    assert result.agent_result.output["wall"] < 5


def test_a_worker_thread_opening_a_socket_fails_security() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        errors: list[str] = []

        def connect() -> None:
            with socket.socket() as sock:
                try:
                    sock.connect(("127.0.0.1", 9))
                except OSError as exc:
                    errors.append(str(exc))
            try:
                socket.create_connection(("example.com", 443), timeout=1)
            except OSError as exc:
                errors.append(str(exc))

        worker = threading.Thread(target=connect)
        worker.start()
        worker.join()
        return AgentResult(output={"errors": errors})

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)

    assert "security" in result.failed_oracles
    assert result.agent_result is not None
    errors = result.agent_result.output["errors"]
    assert errors[0].startswith("aqe: blocked socket connection to 127.0.0.1:9")
    assert errors[1].startswith("[Errno -2] aqe: blocked name lookup of example.com")


def test_a_pooled_agent_in_its_own_process_gives_the_same_trace_as_inline() -> None:
    from harness.isolation import ProcessIsolation

    scenario = payments_scenario("refund_ambiguous_timeout")
    isolation = ProcessIsolation()
    try:
        in_pool = run_scenario(scenario, pooled, seed=3, isolation=isolation)
    finally:
        isolation.close()
    inline = run_scenario(scenario, careful_refund_agent, seed=3)

    assert in_pool.sandbox == "kernel"
    assert trace_bytes(in_pool).splitlines()[1:] == trace_bytes(inline).splitlines()[1:]
