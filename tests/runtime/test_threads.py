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


def _run_in(mode: str, agent: Any, scenario: str = "refund_ok", seed: int = 1) -> Any:
    """``agent`` run in-process (``none``) or in its own process (``process``)."""
    from harness.isolation import ProcessIsolation

    isolation = ProcessIsolation() if mode == "process" else None
    try:
        return run_scenario(
            payments_scenario(scenario), agent, seed=seed, isolation=isolation
        )
    finally:
        if isolation is not None:
            isolation.close()


def _keeps_calling(task: Task, env: AgentEnv) -> AgentResult:
    """Returns at once, leaving a daemon that starts calling a moment later (in
    wall time, so after the return) and goes on until a call is refused."""

    def poll() -> None:
        threading.Event().wait(0.05)
        while True:
            try:
                env.tools.call("retrieve_charge", charge=task.input["charge"])
            except Exception:
                return
            time.sleep(1)

    threading.Thread(target=poll, name="poller", daemon=True).start()
    return AgentResult(status="done")


@pytest.mark.parametrize("mode", ["none", "process"])
def test_a_thread_calling_after_the_agent_returned_fails_it_and_is_refused(
    mode: str,
) -> None:
    result = _run_in(mode, _keeps_calling)

    assert result.failed_oracles[0] == "agent"
    assert result.score("agent").explanation == (
        "a thread the agent left running called a tool after the agent returned;"
        " the call was refused; stop and join its threads before returning"
    )
    late = [h for h in result.world.history if h.f == "late_call"]
    assert [(h.process, h.type, dict(h.value)) for h in late] == [
        (
            "agent",
            "fail",
            {"door": "function", "service": "payments", "op": "retrieve_charge"},
        )
    ]
    # refused, never run: the run made no call at all
    assert not [h for h in result.world.history if h.type == "invoke"]


def test_a_daemon_still_running_after_the_agent_returned_fails_it() -> None:
    stop = threading.Event()

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        threading.Thread(target=stop.wait, name="watcher", daemon=True).start()
        return AgentResult(status="done")

    try:
        result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)
    finally:
        stop.set()

    assert result.failed_oracles[0] == "agent"
    assert result.score("agent").explanation == (
        "the agent left 1 thread running after it returned (watcher); their calls"
        " from then on are refused; stop and join its threads before returning"
    )


def test_a_thread_that_ends_just_after_the_return_is_not_a_leak() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        threading.Thread(target=threading.Event().wait, args=(0.05,)).start()
        return AgentResult(status="done")

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)
    assert "agent" not in result.failed_oracles


def test_a_thread_left_running_in_process_stays_off_the_network_after_its_run() -> None:
    go, done = threading.Event(), threading.Event()
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        def later() -> None:
            go.wait()
            with socket.socket() as sock:
                try:
                    sock.connect(("127.0.0.1", 9))
                except OSError as exc:
                    seen.append(str(exc))
            try:
                socket.getaddrinfo("example.com", 443)
            except OSError as exc:
                seen.append(str(exc))
            done.set()

        threading.Thread(target=later, daemon=True).start()
        return AgentResult(status="done")

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)
    go.set()
    assert done.wait(10)

    assert result.failed_oracles[0] == "agent"
    assert seen == [
        "aqe: blocked socket connection to 127.0.0.1:9: the run this thread was"
        " started in has ended",
        "[Errno -2] aqe: blocked name lookup of example.com: the run this thread"
        " was started in has ended",
    ]
    # the harness's own threads still connect (to a listener of the test's)
    with socket.create_server(("127.0.0.1", 0)) as server:
        socket.create_connection(server.getsockname()[:2], timeout=5).close()


@pytest.mark.parametrize("mode", ["none", "process"])
def test_tasks_an_async_agent_leaves_running_fail_it_and_are_cancelled(
    mode: str,
) -> None:
    import asyncio

    async def poll_charges(env: AgentEnv, charge: str) -> None:
        while True:
            await asyncio.sleep(60)
            env.tools.call("retrieve_charge", charge=charge)

    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        asyncio.get_running_loop().create_task(poll_charges(env, task.input["charge"]))
        await asyncio.sleep(0)
        return AgentResult(status="done")

    result = _run_in(mode, agent)

    assert result.failed_oracles[0] == "agent"
    assert result.score("agent").explanation == (
        "the agent left 1 task running after it returned (poll_charges); they were"
        " cancelled; await or cancel its tasks before returning"
    )
    assert not [h for h in result.world.history if h.type == "invoke"]


async def _anyio_pooled(task: Task, env: AgentEnv) -> Any:
    """The careful agent as Pydantic AI runs a sync tool: anyio's worker thread."""
    import anyio.to_thread

    return await anyio.to_thread.run_sync(careful_refund_agent, task, env)


@pytest.mark.parametrize("seed", range(5))
def test_anyio_to_thread_work_gives_the_same_trace_as_inline(seed: int) -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")
    inline = run_scenario(scenario, careful_refund_agent, seed=seed)
    in_worker = run_scenario(scenario, _anyio_pooled, seed=seed)

    assert in_worker.passed is inline.passed is True
    assert (
        trace_bytes(in_worker).splitlines()[1:] == trace_bytes(inline).splitlines()[1:]
    )


def test_anyio_to_thread_work_in_its_own_process_gives_the_same_trace() -> None:
    in_worker = _run_in("process", _anyio_pooled, "refund_ambiguous_timeout", seed=2)
    scenario = payments_scenario("refund_ambiguous_timeout")
    inline = run_scenario(scenario, careful_refund_agent, seed=2)

    assert in_worker.sandbox == "kernel"
    assert (
        trace_bytes(in_worker).splitlines()[1:] == trace_bytes(inline).splitlines()[1:]
    )


def test_anyio_to_thread_work_runs_before_a_task_that_waits_on_a_timer() -> None:
    # As inline code: the worker's call (after 10 simulated seconds of work) lands
    # before the other task's (whose 5 s timer is due by then), every run.
    import anyio
    import anyio.to_thread

    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        charge = task.input["charge"]

        def work() -> None:
            time.sleep(10)
            env.tools.call("retrieve_charge", charge=charge)

        async def timer() -> None:
            await anyio.sleep(5)
            env.tools.call("list_charges", limit=1)

        async with anyio.create_task_group() as group:
            group.start_soon(timer)
            group.start_soon(anyio.to_thread.run_sync, work)
        return AgentResult(status="done")

    for _ in range(5):
        result = run_scenario(payments_scenario("refund_ok"), agent, seed=1)
        invokes = [(h.f, h.time) for h in result.world.history if h.type == "invoke"]
        assert invokes == [("retrieve_charge", 10.0), ("list_charges", 10.05)]


def _from_thread_agent(call: str) -> Any:
    import anyio.from_thread
    import anyio.to_thread

    async def loop_side() -> int:
        return 2

    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        def work() -> int:
            if call == "run_sync":
                return int(anyio.from_thread.run_sync(lambda: 1))
            return int(anyio.from_thread.run(loop_side))

        return AgentResult(output={"got": await anyio.to_thread.run_sync(work)})

    return agent


def test_anyio_from_thread_run_sync_in_inline_work_calls_at_once() -> None:
    result = run_scenario(
        payments_scenario("refund_ok"), _from_thread_agent("run_sync"), seed=1
    )
    assert "agent" not in result.failed_oracles
    assert result.agent_result is not None
    assert result.agent_result.output == {"got": 1}


def test_anyio_from_thread_run_in_inline_work_says_why_it_cannot() -> None:
    result = run_scenario(
        payments_scenario("refund_ok"), _from_thread_agent("run"), seed=1
    )
    assert result.score("agent").explanation.startswith(
        "the agent raised RuntimeError: aqe: anyio.from_thread.run() in work handed"
        " to anyio.to_thread cannot run here: the harness runs that work inline, on"
        " the event loop's own thread, so the loop cannot run the coroutine; make"
        " the tool async, or call anyio.from_thread.run_sync() instead at "
    )
