"""The urllib3 door: ``requests`` and plain urllib3 reach the simulation, in the
harness's process and in the agent's own, and every fault reaches them as their
own failure."""

from __future__ import annotations

import io
import select
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import urllib3
from urllib3.exceptions import MaxRetryError, ProtocolError

from harness import AgentEnv, AgentResult, RunResult, Task, run_scenario
from harness.gateway.doors import CLIENT_DOORS, available
from harness.gateway.doors import urllib3 as door
from harness.gateway.exchange import HttpReply, TransportFailure
from harness.isolation import ProcessIsolation
from harness.scenario.model import FaultKind
from tests.conftest import payments_scenario, small_scenario
from tests.faults.test_fault_kinds import _OPS
from tests.faults.test_fault_matrix import CASES, TOOL_KINDS
from tests.gateway import requests_agents as agents
from tests.gateway.conftest import BLOCKED


def _run(scenario: Any, agent: Any, where: ProcessIsolation | None) -> RunResult:
    result = run_scenario(scenario, agent, seed=3, isolation=where)
    assert (result.sandbox == "none") is (where is None)
    return result


def test_the_door_is_registered_and_available() -> None:
    assert "harness.gateway.doors.urllib3" in CLIENT_DOORS
    assert door in available()
    assert door.LIBRARY == "urllib3"


# -- through a run ---------------------------------------------------------------


def test_requests_reaches_payments_at_both_hosts(
    where: ProcessIsolation | None,
) -> None:
    result = _run(small_scenario(), agents.reader_agent, where)
    assert result.agent_result is not None, result.scores
    charge = result.world.records["charge"]["id"]
    assert result.agent_result.output == {
        "statuses": [200, 200, 200],
        "ids": [charge, charge],
        "content_type": "application/json",
        "refund": charge,
    }
    assert result.score("security").passed
    refunds = result.world.service("payments").query("refunds", {"charge": charge})
    assert [r["amount"] for r in refunds] == [700]
    invokes = [h for h in result.world.history if h.type == "invoke"]
    assert [h.f for h in invokes] == [
        "retrieve_charge",
        "retrieve_charge",
        "create_refund",
    ]
    assert invokes[2].value["idempotency_key"] == "key-1"  # as the history names it


def test_a_careful_requests_agent_passes_the_ambiguous_timeout(
    where: ProcessIsolation | None,
) -> None:
    result = _run(
        payments_scenario("refund_ambiguous_timeout"),
        agents.careful_requests_agent,
        where,
    )
    assert result.passed, [s.explanation for s in result.scores if not s.passed]
    invokes = [h for h in result.world.history if h.f == "create_refund"]
    keys = [h.value["idempotency_key"] for h in invokes if h.type == "invoke"]
    assert keys == ["key-1", "key-1"]


def test_a_naive_requests_agent_double_refunds_on_the_ambiguous_timeout(
    where: ProcessIsolation | None,
) -> None:
    result = _run(
        payments_scenario("refund_ambiguous_timeout"),
        agents.naive_requests_agent,
        where,
    )
    assert "idempotency" in result.failed_oracles
    charge = result.world.records["charge"]["id"]
    assert result.score("idempotency").details["keys"] == {
        f"refund:{charge}": "duplicated"
    }


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock


def test_a_call_to_an_outside_host_fails_security_and_is_never_sent(
    where: ProcessIsolation | None, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    url = f"http://127.0.0.1:{port}/collect"
    result = _run(
        small_scenario(task={"instructions": "leak", "input": {"url": url}}),
        agents.outside_agent,
        where,
    )
    assert result.failed_oracles == ("security",)
    assert (
        "blocked POST http://127.0.0.1/collect (via http)"
        in result.score("security").evidence[0].text
    )
    assert result.agent_result is not None
    assert result.agent_result.summary == (
        f"HTTPConnectionPool(host='127.0.0.1', port={port}): Max retries exceeded "
        'with url: /collect (Caused by NewConnectionError("HTTPConnection('
        f"host='127.0.0.1', port={port}): {BLOCKED.format(host='127.0.0.1')}\"))"
    )
    ready, _, _ = select.select([listener], [], [], 0.2)
    assert ready == []  # nothing ever connected


# -- the fault matrix ------------------------------------------------------------


def requests_call(env: AgentEnv, tool: str, params: dict[str, Any]) -> Any:
    """``tool`` over ``requests``, the way test_fault_kinds.http_call sends it."""
    op = _OPS[tool]
    rest = dict(params)
    path = op.path.format(**{name: rest.pop(name) for name in op.path_params})
    url = f"https://{op.service}.sim{path}"
    headers = {"Authorization": f"Bearer {env.identity.api_key}"}
    if op.method == "GET":
        return requests.get(url, params=rest, headers=headers, timeout=10)
    if op.service == "payments":
        data = {k: str(v) for k, v in rest.items()}
        return requests.request(op.method, url, data=data, headers=headers)
    return requests.request(op.method, url, json=rest, headers=headers)


def _outcome(env: AgentEnv, tool: str, params: dict[str, Any]) -> Any:
    try:
        response = requests_call(env, tool, params)
    except requests.exceptions.ReadTimeout:
        return ("timeout", None)
    except requests.exceptions.ConnectionError as exc:
        (cause,) = exc.args
        if isinstance(cause, ProtocolError) and isinstance(
            cause.args[1], ConnectionResetError
        ):
            return ("reset", None)
        return ("other", repr(exc))
    try:
        body = response.json()
    except ValueError:
        return ("malformed", response.text)
    return ("ok" if response.ok else str(response.status_code), body)


def requests_probe(task: Task, env: AgentEnv) -> AgentResult:
    """The fault matrix's probe (its kind in ``task.input["kind"]``), over requests."""
    _, tool, params, times, _ = CASES[FaultKind(task.input["kind"])]
    seen = [_outcome(env, tool, params(task)) for _ in range(times)]
    return AgentResult(output={"seen": seen})


def _matrix(kind: FaultKind, where: ProcessIsolation | None) -> None:
    params, tool, _, _, sees = CASES[kind]
    fault: dict[str, Any] = {"id": "f", "kind": str(kind), **params}
    if kind not in (FaultKind.CONFLICTING_DATA, FaultKind.DUPLICATE_DELIVERY):
        fault["match"] = {"tool": tool}
    scenario = small_scenario(
        faults=[fault],
        task={
            "instructions": "probe",
            "input": {**_INPUT, "kind": str(kind)},
        },
    )
    result = _run(scenario, requests_probe, where)
    assert result.agent_result is not None, result.scores
    seen = result.agent_result.output["seen"]
    assert sees([tuple(s) for s in seen]), seen
    fired = [h for h in result.world.history if h.process == "nemesis"]
    assert fired
    assert fired[0].f == str(kind)
    invokes = [h for h in result.world.history if h.type == "invoke"]
    assert {h.value["door"] for h in invokes} == {"http"}


_INPUT = {"ticket_id": "$ticket.id", "charge": "$charge.id", "amount": 1200}


@pytest.mark.parametrize("kind", TOOL_KINDS, ids=str)
def test_every_fault_kind_reaches_requests_as_its_own_failure(kind: FaultKind) -> None:
    _matrix(kind, None)


@pytest.mark.parametrize(
    "kind", [FaultKind.TIMEOUT, FaultKind.CONNECTION_RESET, FaultKind.ERROR], ids=str
)
def test_transport_faults_reach_requests_in_the_agents_own_process(
    kind: FaultKind, isolation: ProcessIsolation
) -> None:
    _matrix(kind, isolation)


# -- the hook itself, with an exchange of our own ------------------------------------


class Recorder:
    """An exchange that records what it is given and answers from a script."""

    def __init__(self, *answers: HttpReply | TransportFailure) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[str, str, list[tuple[str, str]], bytes]] = []

    def __call__(
        self, method: str, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> HttpReply:
        self.calls.append((method, url, headers, body))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, TransportFailure):
            raise answer
        return answer


def _reply(status: int = 200, body: bytes = b'{"ok": true}', **headers: str) -> Any:
    pairs = (("content-type", "application/json"), *headers.items())
    return HttpReply(status=status, headers=tuple(pairs), body=body)


@pytest.mark.parametrize(
    ("url", "full"),
    [
        ("https://payments.sim/v1/x?a=1", "https://payments.sim/v1/x?a=1"),
        ("https://payments.sim:8443/v1/x", "https://payments.sim:8443/v1/x"),
        ("http://payments.sim:80/v1/x#frag", "http://payments.sim/v1/x"),
        ("http://[::1]:8080/v1/x", "http://[::1]:8080/v1/x"),
    ],
)
def test_the_full_url_is_built_from_the_pool(url: str, full: str) -> None:
    exchange = Recorder(_reply())
    with door.install(exchange):
        assert requests.get(url, timeout=1).json() == {"ok": True}
    assert exchange.calls[0][1] == full


def _body_chunks() -> Iterator[bytes | str]:
    yield b"a=1"
    yield "&b=2"


@pytest.mark.parametrize(
    "body",
    [b"a=1&b=2", "a=1&b=2", io.BytesIO(b"a=1&b=2"), _body_chunks],
    ids=["bytes", "str", "file", "generator"],
)
def test_every_kind_of_body_is_read_whole(body: Any) -> None:
    exchange = Recorder(_reply())
    if callable(body):
        body = body()
    with door.install(exchange):
        pool = urllib3.HTTPSConnectionPool("payments.sim")
        response = pool.urlopen("POST", "/v1/refunds", body=body, headers={"X": "1"})
    assert response.status == 200
    method, url, headers, sent = exchange.calls[0]
    assert (method, url, headers, sent) == (
        "POST",
        "https://payments.sim/v1/refunds",
        [("X", "1")],
        b"a=1&b=2",
    )


def test_the_response_is_urllib3s_own_and_honours_preload_and_decode() -> None:
    import gzip

    packed = gzip.compress(b"hello")
    exchange = Recorder(_reply(body=packed, **{"content-encoding": "gzip"}))
    with door.install(exchange):
        pool = urllib3.HTTPSConnectionPool("payments.sim")
        loaded = pool.urlopen("GET", "/")
        streamed = pool.urlopen("GET", "/", preload_content=False)
        raw = pool.urlopen("GET", "/", decode_content=False)
    assert isinstance(loaded, urllib3.HTTPResponse)
    assert loaded.data == b"hello"
    assert b"".join(streamed.stream(2)) == b"hello"
    assert raw.data == packed
    assert loaded.headers["content-encoding"] == "gzip"


def test_repeated_headers_are_kept() -> None:
    reply = HttpReply(status=200, headers=(("set", "a"), ("set", "b")), body=b"")
    with door.install(Recorder(reply)):
        response = urllib3.request("GET", "https://payments.sim/")
    assert response.headers.getlist("set") == ["a", "b"]


def test_urllib3s_own_retries_run_as_configured() -> None:
    reset = TransportFailure("reset", "connection reset by peer")
    exchange = Recorder(reset, _reply(503), _reply())
    with door.install(exchange):
        http = urllib3.PoolManager(
            retries=urllib3.Retry(total=3, status_forcelist=[503], backoff_factor=0)
        )
        response = http.request("GET", "https://payments.sim/v1/x")
    assert response.status == 200
    assert len(exchange.calls) == 3
    assert len(response.retries.history) == 2  # type: ignore[union-attr]


def test_a_redirect_is_followed_through_the_exchange() -> None:
    exchange = Recorder(_reply(303, b"", location="/v1/there"), _reply())
    with door.install(exchange):
        pool = urllib3.HTTPSConnectionPool("payments.sim")
        response = pool.urlopen("POST", "/v1/here", body=b"x=1")
    assert response.status == 200
    assert [(m, u, b) for m, u, _, b in exchange.calls] == [
        ("POST", "https://payments.sim/v1/here", b"x=1"),
        ("GET", "https://payments.sim/v1/there", b""),
    ]


def test_retries_false_returns_the_redirect() -> None:
    exchange = Recorder(_reply(302, b"", location="/v1/there"))
    with door.install(exchange):
        pool = urllib3.HTTPSConnectionPool("payments.sim")
        response = pool.urlopen("GET", "/v1/here", retries=False)
    assert response.status == 302
    assert len(exchange.calls) == 1


@pytest.mark.parametrize(
    ("kind", "raised", "text"),
    [
        (
            "timeout",
            requests.exceptions.ReadTimeout,
            "HTTPSConnectionPool(host='payments.sim', port=443): Read timed out.",
        ),
        (
            "reset",
            requests.exceptions.ConnectionError,
            "('Connection aborted.', ConnectionResetError(104, "
            "'Connection reset by peer'))",
        ),
        (
            "blocked",
            requests.exceptions.ConnectionError,
            "HTTPSConnectionPool(host='payments.sim', port=443): Max retries exceeded"
            ' with url: /v1/x (Caused by NewConnectionError("HTTPSConnection('
            "host='payments.sim', port=443): no way out\"))",
        ),
    ],
)
def test_each_failure_is_requests_own(
    kind: Any, raised: type[Exception], text: str
) -> None:
    with (
        door.install(Recorder(TransportFailure(kind, "no way out"))),
        pytest.raises(raised) as caught,
    ):
        requests.post("https://payments.sim/v1/x", data=b"a=1")
    assert type(caught.value) is raised
    assert str(caught.value) == text


def test_a_blocked_call_is_not_retried_into_the_void() -> None:
    exchange = Recorder(TransportFailure("blocked", "no way out"))
    with door.install(exchange), pytest.raises(MaxRetryError):
        urllib3.PoolManager(retries=urllib3.Retry(2, backoff_factor=0)).request(
            "GET", "https://evil.example/"
        )
    assert len(exchange.calls) == 3  # urllib3 retried, as configured: never sent


def test_a_request_from_another_thread_goes_through_the_exchange() -> None:
    from concurrent.futures import ThreadPoolExecutor

    exchange = Recorder(_reply())
    with door.install(exchange), ThreadPoolExecutor(1) as pool:
        status = pool.submit(
            lambda: requests.get("https://payments.sim/v1/x").status_code
        ).result()
    assert status == 200
    assert [url for _, url, _, _ in exchange.calls] == ["https://payments.sim/v1/x"]


def test_the_hook_is_removed_on_exit() -> None:
    before = urllib3.HTTPConnectionPool.urlopen
    with door.install(Recorder(_reply())):
        assert urllib3.HTTPConnectionPool.urlopen is not before
        assert urllib3.HTTPSConnectionPool.urlopen is not before
    assert urllib3.HTTPConnectionPool.urlopen is before
