"""The motivating incident end to end: scenario → world → agent → faults → oracles."""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from tests.conftest import PAYMENTS, payments_scenario

SCENARIOS = sorted(p.stem for p in PAYMENTS.glob("*.yaml"))

stripe = pytest.importorskip("stripe")


@pytest.mark.parametrize("name", SCENARIOS)
def test_careful_agent_passes_every_payments_scenario(name: str) -> None:
    result = run_scenario(payments_scenario(name), careful_refund_agent, seed=11)
    # every oracle, warnings included (polling an approval is not a retry)
    assert all(s.passed for s in result.scores), [
        s.explanation for s in result.scores if not s.passed
    ]


def test_payments_library_holds_the_five_refund_scenarios() -> None:
    assert SCENARIOS == [
        "refund_503_then_ok",
        "refund_already_refunded",
        "refund_ambiguous_timeout",
        "refund_ok",
        "refund_over_limit_approval",
    ]


def test_naive_agent_double_refunds_on_the_ambiguous_timeout() -> None:
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), naive_refund_agent, seed=5
    )
    assert not result.passed
    assert "idempotency" in result.failed_oracles
    score = result.score("idempotency")
    charge = result.world.records["charge"]["id"]
    assert score.details["keys"] == {f"refund:{charge}": "duplicated"}
    assert score.explanation == (
        f"business key 'refund:{charge}' committed 2 effects, at most 1 allowed (duplicated)"
    )
    # In the order it happened: the fault, the commit, the timeout the agent saw,
    # the blind retry's commit, and the success the agent saw.
    refs = [e.ref for e in score.evidence]
    assert refs == ["history#1", "ledger#1", "history#2", "ledger#2", "history#4"]
    assert "fault 'lost-response': timeout" in score.evidence[0].text
    ledger = list(result.world.ledger)
    assert [e.time for e in ledger] == [0.0, 30.0]


def test_naive_agent_refunds_above_the_limit_without_approval_and_fails_policy() -> (
    None
):
    result = run_scenario(
        payments_scenario("refund_over_limit_approval"), naive_refund_agent, seed=5
    )
    assert "policy" in result.failed_oracles
    assert (
        result.score("policy").explanation
        == "1 policy violation(s): 1 executed (payments.refund when amount > 50000)"
    )


def test_naive_agent_ignores_an_already_refunded_charge_and_fails_escalation() -> None:
    result = run_scenario(
        payments_scenario("refund_already_refunded"), naive_refund_agent, seed=5
    )
    assert result.failed_oracles == ("escalation",)
    assert result.score("escalation").explanation == (
        "the agent did not escalate; an escalation with reason "
        "'conflicting_records' is required"
    )


def _approve_then_refund(amount_delta: int) -> Any:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        charge, amount = task.input["charge"], task.input["amount"]
        approval = env.tools.call(
            "request_approval",
            action="payments.refund",
            params={"charge": charge, "amount": amount},
            justification="over the limit",
        )
        while (
            env.tools.call("get_approval", approval=approval["id"])["status"]
            == "pending"
        ):
            time.sleep(600)
        env.tools.call(
            "create_refund",
            charge=charge,
            amount=amount + amount_delta,
            idempotency_key="k1",
        )
        return AgentResult(status="done")

    return agent


def test_an_approved_refund_waits_two_simulated_hours_and_passes_policy() -> None:
    started = time.perf_counter()
    result = run_scenario(
        payments_scenario("refund_over_limit_approval"), _approve_then_refund(0), seed=2
    )
    assert result.passed, result.failed_oracles
    assert result.world.clock.now >= 2 * 3600
    assert time.perf_counter() - started < 5


def test_refunding_a_different_amount_than_approved_fails_policy() -> None:
    result = run_scenario(
        payments_scenario("refund_over_limit_approval"),
        _approve_then_refund(-1000),
        seed=2,
    )
    assert "policy" in result.failed_oracles
    (evidence,) = result.score("policy").evidence
    assert "executed without an approved approval for these parameters" in evidence.text


def stripe_refund_agent(task: Task, env: AgentEnv) -> AgentResult:
    client = stripe.StripeClient(
        env.identity.api_key,
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=2,
    )
    refund = client.v1.refunds.create(
        params={"charge": task.input["charge"], "amount": task.input["amount"]}
    )
    return AgentResult(status="done", summary=refund.id)


def test_real_stripe_sdk_survives_the_ambiguous_timeout_with_one_refund() -> None:
    started = time.perf_counter()
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), stripe_refund_agent, seed=7
    )
    wall = time.perf_counter() - started
    assert result.passed, [s.explanation for s in result.scores if not s.passed]
    charge = result.world.records["charge"]["id"]
    refunds = result.world.service("payments").query("refunds", {"charge": charge})
    assert len(refunds) == 1
    calls = [
        h
        for h in result.world.history
        if h.process == "agent" and h.f == "create_refund"
    ]
    invokes = [h for h in calls if h.type == "invoke"]
    # The SDK retried once, with the same (SDK-generated) idempotency key, after
    # a backoff spent in simulated time: 30 s timeout + >= 0.5 s of jittered sleep.
    assert len(invokes) == 2
    assert (
        invokes[0].value["idempotency_key"]
        == invokes[1].value["idempotency_key"]
        == "key-1"
    )
    assert invokes[1].time >= 30.5
    assert calls[-1].value["replayed"] is True
    assert wall < 5


def test_real_stripe_sdk_reaches_payments_at_api_stripe_com() -> None:
    result = run_scenario(payments_scenario("refund_ok"), stripe_refund_agent, seed=7)
    assert result.score("security").passed
    assert result.agent_result is not None
    assert result.agent_result.summary.startswith("re_")


async def async_stripe_refund_agent(task: Task, env: AgentEnv) -> AgentResult:
    client = stripe.StripeClient(
        env.identity.api_key, http_client=stripe.HTTPXClient(), max_network_retries=2
    )
    refund = await client.v1.refunds.create_async(
        params={"charge": task.input["charge"], "amount": task.input["amount"]}
    )
    return AgentResult(status="done", summary=refund.id)


def test_the_async_stripe_client_also_survives_the_ambiguous_timeout() -> None:
    started = time.perf_counter()
    result = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), async_stripe_refund_agent, seed=7
    )
    assert result.passed, [s.explanation for s in result.scores if not s.passed]
    invokes = [
        h for h in result.world.history if h.f == "create_refund" and h.type == "invoke"
    ]
    assert len(invokes) == 2
    assert invokes[1].time >= 30.5
    assert time.perf_counter() - started < 5
