"""A command agent (any executable; here Node and sh) gets the task, the
credential and the simulation's address in its environment, is scored exactly
as the same agent in process, and cannot leak past, outlast or outlive its run."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.agents.loading import load_agent
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.errors import AgentLoadError
from harness.reporting.trace import trace_bytes
from harness.run import RunResult, run_scenario
from harness.runtime.netns import namespaces_unavailable
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT, copy_payments

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not installed here")
needs_namespaces = pytest.mark.skipif(
    namespaces_unavailable() is not None,
    reason=f"no Linux namespaces here ({namespaces_unavailable()})",
)
REFUNDS = ROOT / "harness/agents/node/refunds.mjs"
SCENARIOS = ["refund_ambiguous_timeout", "refund_over_limit_approval"]


def _scenario(name: str) -> Any:
    return load_scenario(ROOT / f"scenarios/payments/{name}.yaml")


def _run(command: str, scenario: str = "refund_ambiguous_timeout", **kw: Any) -> Any:
    return run_scenario(_scenario(scenario), load_agent(f"cmd:{command}"), **kw)


def _ledger(result: RunResult) -> list[dict[str, Any]]:
    return [entry.to_json() for entry in result.world.ledger]


def _verdicts(result: RunResult) -> dict[str, bool]:
    return {s.oracle: s.passed for s in result.scores}


@needs_node
@pytest.mark.parametrize("scenario", SCENARIOS)
@pytest.mark.parametrize(
    ("variant", "in_process"),
    [("careful", careful_refund_agent), ("naive", naive_refund_agent)],
)
def test_the_node_agent_gets_the_verdicts_and_ledger_of_the_same_agent_in_process(
    scenario: str, variant: str, in_process: Any
) -> None:
    outside = _run(f"node {REFUNDS} {variant}", scenario, seed=11)
    inside = run_scenario(_scenario(scenario), in_process, seed=11)
    assert outside.passed is inside.passed is (variant == "careful")
    assert _verdicts(outside) == _verdicts(inside)
    assert _ledger(outside) == _ledger(inside)
    assert outside.agent_result == inside.agent_result
    assert outside.agent == f"cmd:node {REFUNDS} {variant}"


@needs_node
def test_a_naive_command_fails_idempotency_on_the_ambiguous_timeout() -> None:
    result = _run(f"node {REFUNDS} naive", seed=2)
    assert "idempotency" in result.failed_oracles


@needs_node
def test_the_same_command_and_seed_give_the_same_trace() -> None:
    first = _run(f"node {REFUNDS} careful", seed=4)
    second = _run(f"node {REFUNDS} careful", seed=4)
    assert trace_bytes(first) == trace_bytes(second)


def _echo_env(names: list[str]) -> str:
    code = (
        "import json, os; print('working'); print(json.dumps({'status': 'done',"
        f" 'output': {{n: os.environ.get(n) for n in {names!r}}}}}))"
    )
    return f"{sys.executable} -c {shlex.quote(code)}"


def test_a_command_gets_the_task_key_base_url_proxies_and_authority() -> None:
    names = [
        "AQE_TASK",
        "AQE_API_KEY",
        "AQE_BASE_URL",
        "HTTPS_PROXY",
        "http_proxy",
        "NO_PROXY",
        "SSL_CERT_FILE",
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
    ]
    result = _run(_echo_env(names), seed=3)
    env = dict(result.agent_result.output)
    task = json.loads(env["AQE_TASK"])
    assert set(task) == {"input", "instructions", "scenario", "seed"}
    assert task["scenario"] == "refund_ambiguous_timeout"
    assert task["seed"] == 3
    assert task["input"]["amount"] == 1200
    assert task["instructions"].startswith("Refund 1200 usd on charge ch_")
    base = env["AQE_BASE_URL"]
    assert base.startswith("http://127.0.0.1:")
    assert env["HTTPS_PROXY"] == env["http_proxy"] == base
    assert env["NO_PROXY"] == "127.0.0.1,localhost"
    assert env["OPENAI_BASE_URL"] == f"{base}/openai/v1"
    assert env["AQE_API_KEY"] == env["OPENAI_API_KEY"]
    assert env["AQE_API_KEY"].startswith("sk_test_")
    ca = env["SSL_CERT_FILE"]
    assert env["REQUESTS_CA_BUNDLE"] == env["NODE_EXTRA_CA_CERTS"] == ca
    assert ca.endswith("/ca.pem")
    assert not Path(ca).exists()  # the run's authority goes with the run
    assert "working" in result.output


def test_the_users_own_model_key_never_reaches_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-live-the-users-own")
    monkeypatch.setenv("HTTPS_PROXY", "http://corporate-proxy:3128")
    result = _run(_echo_env(["OPENAI_API_KEY", "HTTPS_PROXY"]), seed=1)
    seen = result.agent_result.output
    assert seen["OPENAI_API_KEY"].startswith("sk_test_")
    assert seen["HTTPS_PROXY"].startswith("http://127.0.0.1:")


@pytest.mark.parametrize(
    "setup",
    [
        # through HTTPS_PROXY to the real host; stripe pins its own CA bundle
        "stripe.ca_bundle_path = os.environ['SSL_CERT_FILE']",
        # or by the base URL, no TLS at all
        "stripe.api_base = os.environ['AQE_BASE_URL'] + '/payments'",
    ],
    ids=["proxy", "base-url"],
)
def test_the_stripe_sdk_in_a_command_reaches_the_simulated_payments(
    setup: str,
) -> None:
    pytest.importorskip("stripe", reason="the stripe SDK is not installed")
    code = (
        "import json, os, stripe\n"
        "stripe.api_key = os.environ['AQE_API_KEY']\n"
        f"{setup}\n"
        "task = json.loads(os.environ['AQE_TASK'])['input']\n"
        "charge = stripe.Charge.retrieve(task['charge'])\n"
        "print(json.dumps({'status': 'done', 'summary': charge.id}))\n"
    )
    result = _run(f"{sys.executable} -c {shlex.quote(code)}", seed=6)
    assert result.agent_result is not None, result.output
    assert result.agent_result.summary == result.task.input["charge"]


def test_requests_in_a_command_reaches_a_vendor_host_by_its_real_name() -> None:
    code = (
        "import json, os, requests\n"
        "task = json.loads(os.environ['AQE_TASK'])['input']\n"
        "answer = requests.get(\n"
        "    f\"https://api.stripe.com/v1/charges/{task['charge']}\",\n"
        "    headers={'Authorization': 'Bearer ' + os.environ['AQE_API_KEY']},\n"
        ")\n"
        "print(json.dumps({'status': 'done', 'summary': answer.json()['id']}))\n"
    )
    result = _run(f"{sys.executable} -c {shlex.quote(code)}", seed=6)
    assert result.agent_result is not None, result.output
    assert result.agent_result.summary == result.task.input["charge"]


def test_a_command_that_never_answers_is_stopped_at_the_wall_timeout() -> None:
    result = _run("sleep 30", wall_timeout=1.0, seed=1)
    assert not result.passed
    agent = result.score("agent")
    assert agent.explanation.startswith(
        "stopped by the harness (wall_timeout): the agent ran for more than 1 s"
    )


def test_a_command_that_fails_is_a_recorded_failure_with_its_last_words() -> None:
    result = _run("echo 'no charge given' >&2; exit 3", seed=1)
    assert result.score("agent").explanation == (
        "the agent command ended: it exited with code 3; its last output: no"
        " charge given"
    )
    assert "no charge given" in result.output


def test_a_last_line_that_is_not_json_says_what_to_print() -> None:
    result = _run("echo refunded it", seed=1)
    assert result.score("agent").explanation == (
        "the agent's last line of output is not JSON ('refunded it')\n"
        '    fix: print the result as the last line, e.g. {"status": "done",'
        ' "summary": "refunded re_123"}'
    )


def test_a_command_that_prints_nothing_says_so() -> None:
    result = _run("true", seed=1)
    assert result.score("agent").explanation.startswith(
        "the agent printed nothing; its last line must be its result"
    )


@needs_namespaces
def test_a_command_that_leaves_a_process_running_fails_and_it_is_killed() -> None:
    result = _run('(exec sleep 4321.5) & echo \'{"status": "done"}\'', seed=1)
    assert result.score("agent").explanation == (
        "the agent command left 1 process running after it exited; they were"
        " killed; wait for the programs it starts before it exits"
    )
    assert not result.passed
    still = subprocess.run(["pgrep", "-f", "sleep 4321.5"], capture_output=True)
    assert still.stdout == b""


@needs_namespaces
def test_a_connection_past_the_proxy_is_seen_by_the_kernel_and_fails_security() -> None:
    code = (
        "import json, socket\n"
        "try:\n"
        "    socket.create_connection(('93.184.215.14', 443), timeout=2)\n"
        "except OSError as exc:\n"
        "    print(json.dumps({'status': 'done', 'summary': str(exc)}))\n"
    )
    result = _run(f"{sys.executable} -c {shlex.quote(code)}", seed=1)
    assert result.sandbox == "kernel"
    assert "unreachable" in result.agent_result.summary.lower()
    assert not result.score("security").passed
    blocked = [e.value for e in result.world.history if e.f == "blocked_request"]
    assert blocked == [
        {"door": "kernel", "method": "CONNECT", "url": "kernel://1-attempts"}
    ]


def test_cmd_with_no_command_is_a_clear_load_error() -> None:
    with pytest.raises(AgentLoadError) as caught:
        load_agent("cmd:  ")
    assert str(caught.value) == (
        "cannot read agent 'cmd:': no command after 'cmd:'\n"
        "    fix: e.g. --aqe-agent 'cmd:node agents/refund.mjs'"
    )


@needs_node
def test_without_namespaces_a_command_still_runs_and_says_it_was_not_contained(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import harness.runtime.outside as outside

    monkeypatch.setattr(outside, "namespaces_unavailable", lambda: "no unshare here")
    result = _run(f"node {REFUNDS} careful", seed=1)
    inside = run_scenario(
        _scenario("refund_ambiguous_timeout"), careful_refund_agent, seed=1
    )
    assert result.passed
    assert result.sandbox == "proxy"
    assert _ledger(result) == _ledger(inside)


@needs_node
def test_a_session_runs_a_command_agent_and_its_failure_reproduces_with_it(
    pytester: pytest.Pytester,
) -> None:
    project = copy_payments(pytester)
    naive = f"cmd:node {REFUNDS} naive"
    result = project.runpytest(
        "scenarios/payments/refund_ambiguous_timeout.yaml",
        "scenarios/payments/refund_ok.yaml",
        f"--aqe-agent={naive}",
        "-p",
        "no:cacheprovider",
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*refund_ambiguous_timeout*fail*",
            f"*reproduce: pytest scenarios/payments/refund_ambiguous_timeout.yaml"
            f" --aqe-agent 'cmd:node {REFUNDS} naive' --aqe-seed *",
        ]
    )
    records = [
        json.loads(line)
        for line in (project.path / "reports/latest/results.jsonl")
        .read_text()
        .splitlines()
    ]
    assert sorted((r["scenario"], r["passed"]) for r in records) == [
        ("refund_ambiguous_timeout", False),
        ("refund_ok", True),
    ]
    assert {r["agent"] for r in records} == {naive}


REFUND_LIBRARY = sorted(
    p.relative_to(ROOT / "scenarios").with_suffix("").as_posix()
    for folder in ("payments", "refunds")
    for p in (ROOT / "scenarios" / folder).glob("*.yaml")
)


@needs_node
@pytest.mark.skipif(
    os.environ.get("AQE_SLOW") != "1", reason="the whole refund library: AQE_SLOW=1"
)
@pytest.mark.parametrize("name", REFUND_LIBRARY)
def test_the_careful_node_agent_is_the_careful_reference_on_every_refund_scenario(
    name: str,
) -> None:
    scenario = load_scenario(ROOT / f"scenarios/{name}.yaml")
    outside = run_scenario(scenario, load_agent(f"cmd:node {REFUNDS} careful"), seed=5)
    inside = run_scenario(scenario, careful_refund_agent, seed=5)
    assert outside.passed
    assert inside.passed
    assert _ledger(outside) == _ledger(inside)
    assert _verdicts(outside) == _verdicts(inside)


MCP_COMMAND = """
import asyncio, json, os, sys
from mcp import Client

async def main():
    task = json.loads(os.environ["AQE_TASK"])["input"]
    refund = {"charge": task["charge"], "amount": task["amount"]}
    if sys.argv[1] == "careful":
        refund["idempotency_key"] = f"refund-{task['ticket_id']}"
    async with Client(os.environ["AQE_BASE_URL"] + "/mcp") as client:
        for _ in range(3):
            result = await client.call_tool("create_refund", refund)
            if not result.is_error:
                return {"status": "done", "summary": result.structured_content["id"]}
    return {"status": "failed", "summary": "never answered"}

print(json.dumps(asyncio.run(main())))
"""


def test_a_command_calls_the_tools_over_mcp_at_the_base_url() -> None:
    pytest.importorskip("mcp", reason="the mcp extra is not installed")
    command = f"{sys.executable} -c {shlex.quote(MCP_COMMAND)} careful"
    result = _run(command, seed=8)
    assert result.agent_result is not None, result.output
    assert result.passed
    invoked = [
        e.f for e in result.world.history if e.process == "agent" and e.type == "invoke"
    ]
    assert invoked == ["create_refund", "create_refund"]  # the retry, with its key
