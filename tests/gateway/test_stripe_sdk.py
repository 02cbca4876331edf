"""The issue's acceptance: the stripe SDK exactly as its docs show it
(``stripe.StripeClient(key)``, whose HTTP client is ``requests``) passes every
payments scenario the careful reference agent passes, under this project's own
``filterwarnings = error`` and with no warning filter here."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness import RunResult, run_scenario
from harness.agents.reference import careful_refund_agent
from tests.conftest import PAYMENTS, copy_payments, payments_scenario
from tests.gateway import requests_agents as agents

pytest.importorskip("stripe")

SCENARIOS = sorted(p.stem for p in PAYMENTS.glob("*.yaml"))


def _failures(result: RunResult) -> list[str]:
    return [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]


def _passes_like_the_careful_agent(name: str, agent: Callable[..., Any]) -> None:
    scenario = payments_scenario(name)
    careful = run_scenario(scenario, careful_refund_agent, seed=11)
    result = run_scenario(scenario, agent, seed=11)
    assert careful.passed  # the bar: every scenario the careful agent passes
    assert result.passed, _failures(result)
    assert result.score("security").passed


def _one_refund_with_a_simulated_backoff(agent: Callable[..., Any]) -> None:
    started = time.perf_counter()
    result = run_scenario(payments_scenario("refund_ambiguous_timeout"), agent, seed=7)
    wall = time.perf_counter() - started
    assert result.passed, _failures(result)
    charge = result.world.records["charge"]["id"]
    refunds = result.world.service("payments").query("refunds", {"charge": charge})
    assert len(refunds) == 1
    calls = [
        h
        for h in result.world.history
        if h.process == "agent" and h.f == "create_refund"
    ]
    invokes = [h for h in calls if h.type == "invoke"]
    # the SDK retried once with its own key, after a jittered backoff (>= 0.5 s)
    # spent on the simulated clock, after the 30 s the timeout took
    assert len(invokes) == 2
    assert invokes[0].value["idempotency_key"] == invokes[1].value["idempotency_key"]
    assert invokes[1].time >= 30.5
    assert calls[-1].value["replayed"] is True
    assert result.world.clock.now > 30.5
    assert wall < 5


@pytest.mark.parametrize("name", SCENARIOS)
def test_the_default_stripe_client_passes_what_the_careful_agent_passes(
    name: str,
) -> None:
    _passes_like_the_careful_agent(name, agents.stripe_default_agent)


def test_the_default_stripe_client_refunds_once_under_the_ambiguous_timeout() -> None:
    _one_refund_with_a_simulated_backoff(agents.stripe_default_agent)


def test_the_httpx_stripe_client_passes_what_the_careful_agent_passes() -> None:
    for name in SCENARIOS:
        _passes_like_the_careful_agent(name, agents.stripe_httpx_agent)


def test_the_httpx_stripe_client_refunds_once_under_the_ambiguous_timeout() -> None:
    _one_refund_with_a_simulated_backoff(agents.stripe_httpx_agent)


def test_the_default_stripe_client_passes_a_pytest_session_in_its_own_process(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(stripe_agents=Path(agents.__file__).read_text(encoding="utf-8"))
    result = pytester.runpytest_subprocess(
        "scenarios/payments", "--aqe-agent=stripe_agents:stripe_default_agent"
    )
    result.stdout.fnmatch_lines(["5/5 scenario runs passed; aqe gate: PASS*"])
    assert result.ret == 0
    summary = json.loads(
        (pytester.path / "reports" / "latest" / "summary.json").read_text()
    )
    assert "none" not in summary["sandbox"]  # each run in the agent's own process
    assert sum(summary["sandbox"].values()) == 5
