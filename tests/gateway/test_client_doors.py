"""The urllib and httpx2 doors (sync and async), in the harness's process and in
the agent's own: simulated hosts answer, every fault kind arrives as the client's
own failure, the refund story is judged the same as through httpx, and a host
outside the simulation is blocked, recorded and never reached."""

from __future__ import annotations

import dataclasses
import socket
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.gateway.doors import CLIENT_DOORS, available
from harness.isolation import ProcessIsolation
from harness.run import RunResult
from harness.scenario.model import FaultKind, Scenario
from tests.conftest import payments_scenario, small_scenario
from tests.faults.test_fault_matrix import CASES, TOOL_KINDS
from tests.gateway.clients import AGENTS, CLIENTS
from tests.gateway.conftest import BLOCKED

NAMES = list(CLIENTS)
WAYS = ["in_process", "isolated"]


def _run(
    way: str, isolation: ProcessIsolation, scenario: Any, agent: Callable[..., Any]
) -> RunResult:
    if way == "in_process":
        result = run_scenario(scenario, agent, seed=3)
        assert result.sandbox == "none"
    else:
        result = run_scenario(scenario, agent, seed=3, isolation=isolation)
        assert result.sandbox in ("kernel", "process")
    return result


def _seen(result: RunResult) -> list[Any]:
    assert result.agent_result is not None, [
        f"{s.oracle}: {s.explanation}" for s in result.scores
    ]
    return [tuple(s) for s in result.agent_result.output["seen"]]


def test_both_doors_are_registered_and_installed_here() -> None:
    assert "harness.gateway.doors.urllib" in CLIENT_DOORS
    assert "harness.gateway.doors.httpx2" in CLIENT_DOORS
    assert {door.LIBRARY for door in available()} >= {"urllib", "httpx2"}


def _probe_scenario(kind: FaultKind, fault: dict[str, Any] | None) -> Any:
    _, tool, args, times, _ = CASES[kind]
    task = Task(
        input={"charge": "$charge.id", "ticket_id": "$ticket.id"},
        instructions="",
        scenario="small",
        seed=0,
    )
    return small_scenario(
        task={
            "instructions": "Probe {tool}",
            "input": {
                "story": "probe",
                "ticket_id": "$ticket.id",
                "charge": "$charge.id",
                "tool": tool,
                "times": times,
                # the case's parameters, with the records' $ references left in
                "params": args(task),
            },
        },
        faults=[] if fault is None else [fault],
    )


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", NAMES)
def test_a_simulated_host_answers_each_client(
    name: str, way: str, isolation: ProcessIsolation
) -> None:
    scenario = _probe_scenario(FaultKind.LATENCY, None)
    result = _run(way, isolation, scenario, AGENTS[name])
    ((status, body),) = _seen(result)
    assert status == "ok"
    assert body["id"] == result.world.records["charge"]["id"]
    assert body["amount"] == 5000
    assert result.passed
    invokes = [h for h in result.world.history if h.type == "invoke"]
    assert [(h.f, h.value["door"]) for h in invokes] == [("retrieve_charge", "http")]


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("kind", TOOL_KINDS, ids=str)
@pytest.mark.parametrize("name", NAMES)
def test_every_fault_kind_reaches_each_client_as_its_own_failure(
    name: str, kind: FaultKind, way: str, isolation: ProcessIsolation
) -> None:
    params, tool, _, _, sees = CASES[kind]
    fault: dict[str, Any] = {"id": "f", "kind": str(kind), **params}
    if kind not in (FaultKind.CONFLICTING_DATA, FaultKind.DUPLICATE_DELIVERY):
        fault["match"] = {"tool": tool}

    result = _run(way, isolation, _probe_scenario(kind, fault), AGENTS[name])

    seen = _seen(result)
    own = {
        "urllib": {"timeout": "TimeoutError", "reset": "RemoteDisconnected"},
        "httpx2": {"timeout": "ReadTimeout", "reset": "RemoteProtocolError"},
    }[name.removesuffix("_async")]
    if kind is FaultKind.TIMEOUT:
        assert seen == [("timeout", own["timeout"])]
    elif kind is FaultKind.CONNECTION_RESET:
        assert seen == [("reset", own["reset"])]
    else:
        assert sees(seen), seen
    fired = [h for h in result.world.history if h.process == "nemesis"]
    assert fired
    assert fired[0].f == str(kind)
    invokes = [h for h in result.world.history if h.type == "invoke"]
    assert {h.value["door"] for h in invokes} == {"http"}


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", NAMES)
def test_a_careful_agent_passes_the_ambiguous_timeout_and_a_naive_one_refunds_twice(
    name: str, way: str, isolation: ProcessIsolation
) -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")

    careful = _run(way, isolation, _telling(scenario, "careful"), AGENTS[name])
    naive = _run(way, isolation, _telling(scenario, "naive"), AGENTS[name])

    assert careful.passed, [f"{s.oracle}: {s.explanation}" for s in careful.scores]
    assert careful.agent_result is not None
    assert careful.agent_result.summary.startswith("200 re_")
    assert "idempotency" in naive.failed_oracles
    charge = naive.world.records["charge"]["id"]
    refunds = naive.world.service("payments").state["refunds"].values()
    assert [r["amount"] for r in refunds if r["charge"] == charge] == [1200, 1200]
    waited = [h for h in careful.world.history if h.process == "nemesis"]
    assert [h.f for h in waited] == ["timeout"]


def _telling(scenario: Scenario, story: str) -> Scenario:
    """``scenario`` with the agents of :mod:`tests.gateway.clients` told to act
    out ``story``."""
    task = dataclasses.replace(
        scenario.task, input={**scenario.task.input, "story": story}
    )
    return dataclasses.replace(scenario, task=task)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


def _outside_scenario(target: str) -> Any:
    return small_scenario(
        task={
            "instructions": "Fetch {target}",
            "input": {"story": "outside", "target": target},
        }
    )


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", NAMES)
def test_an_outside_host_fails_security_and_is_never_sent(
    name: str, way: str, isolation: ProcessIsolation
) -> None:
    target = "https://example.com/exfiltrate?card=4242"
    result = _run(way, isolation, _outside_scenario(target), AGENTS[name])

    assert result.agent_result is not None
    seen = result.agent_result.output
    assert seen["failure"] == "blocked"
    message = BLOCKED.format(host="example.com")
    assert seen["message"] == (
        f"<urlopen error [Errno 111] {message}>" if name == "urllib" else message
    )
    assert result.failed_oracles == ("security",)
    (evidence,) = result.score("security").evidence
    assert "blocked GET https://example.com/exfiltrate (via http)" in evidence.text


@pytest.mark.parametrize("way", WAYS)
@pytest.mark.parametrize("name", NAMES)
def test_a_loopback_listener_is_never_reached(
    name: str, way: str, isolation: ProcessIsolation, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    target = f"http://127.0.0.1:{port}/admin"
    result = _run(way, isolation, _outside_scenario(target), AGENTS[name])

    assert result.agent_result is not None
    assert result.agent_result.output["failure"] == "blocked"
    assert result.failed_oracles == ("security",)
    assert "blocked GET http://127.0.0.1/admin (via http)" in (
        result.score("security").evidence[0].text
    )
    with pytest.raises(BlockingIOError):
        listener.accept()


# -- urllib: its processors still act on the door's answers -----------------------


def test_urllib_raises_http_error_for_a_refusal_and_reads_its_body() -> None:
    seen: dict[str, Any] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        url = f"https://payments.sim/v1/charges/{task.input['charge']}"
        try:
            urllib.request.urlopen(url)  # no credential
        except urllib.error.HTTPError as error:
            with error:
                seen.update(
                    code=error.code,
                    reason=error.reason,
                    type=error.headers.get_content_type(),
                    body=error.read(),
                    url=error.url,
                )

    run_scenario(small_scenario(), agent, seed=1)
    assert seen["code"] == 401
    assert seen["reason"] == "Unauthorized"
    assert seen["type"] == "application/json"
    assert b'"type": "invalid_request_error"' in seen["body"]
    assert seen["url"].startswith("https://payments.sim/v1/charges/ch_")


def test_urllib_answers_are_its_own_response_objects() -> None:
    seen: dict[str, Any] = {}

    def agent(task: Task, env: AgentEnv) -> None:
        url = f"https://payments.sim/v1/charges/{task.input['charge']}#top"
        request = urllib.request.Request(url)
        request.add_unredirected_header(
            "Authorization", f"Bearer {env.identity.api_key}"
        )
        opener = urllib.request.build_opener()
        with opener.open(request) as response:
            seen.update(
                status=response.status,
                code=response.getcode(),
                reason=response.reason,
                msg=response.msg,
                url=response.geturl(),
                type=response.headers.get_content_type(),
                info=response.info() is response.headers,
                first=response.read(1),
                rest=response.read(),
            )

    result = run_scenario(small_scenario(), agent, seed=1)
    charge = result.world.records["charge"]["id"]
    assert seen["status"] == seen["code"] == 200
    assert seen["reason"] == seen["msg"] == "OK"
    assert seen["url"] == f"https://payments.sim/v1/charges/{charge}#top"
    assert seen["type"] == "application/json"
    assert seen["info"] is True
    assert len(seen["first"]) == 1
    assert (seen["first"] + seen["rest"]).startswith(b'{"id": "' + charge.encode())
    assert result.passed


def test_urllib_posts_its_form_body_and_the_headers_it_adds() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        data = f"charge={task.input['charge']}&amount=700".encode()
        request = urllib.request.Request(
            "https://payments.sim/v1/refunds",
            data=data,
            headers={
                "Authorization": f"Bearer {env.identity.api_key}",
                "Idempotency-Key": "k-1",
            },
        )
        with urllib.request.urlopen(request) as response:
            return AgentResult(summary=str(response.status))

    result = run_scenario(small_scenario(), agent, seed=1)
    assert result.agent_result is not None
    assert result.agent_result.summary == "200"
    charge = result.world.records["charge"]["id"]
    refunds = result.world.service("payments").state["refunds"].values()
    (refund,) = [r for r in refunds if r["charge"] == charge]
    assert refund["amount"] == 700
    (invoke,) = [h for h in result.world.history if h.type == "invoke"]
    assert invoke.f == "create_refund"


def test_the_doors_are_removed_after_the_run() -> None:
    before = (
        urllib.request.HTTPHandler.http_open,
        urllib.request.HTTPSHandler.https_open,
        httpx2.HTTPTransport.handle_request,
        httpx2.AsyncHTTPTransport.handle_async_request,
    )
    inside: list[bool] = []

    def agent(task: Task, env: AgentEnv) -> None:
        inside.append(httpx2.HTTPTransport.handle_request is not before[2])

    run_scenario(small_scenario(), agent, seed=1)
    assert inside == [True]
    assert (
        urllib.request.HTTPHandler.http_open,
        urllib.request.HTTPSHandler.https_open,
        httpx2.HTTPTransport.handle_request,
        httpx2.AsyncHTTPTransport.handle_async_request,
    ) == before
