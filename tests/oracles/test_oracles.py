"""Each oracle with a scripted agent that must pass and one that must fail."""

from __future__ import annotations

from harness import AgentEnv, AgentResult, Task, run_scenario
from tests.conftest import small_scenario


def refund(
    task: Task, env: AgentEnv, amount: int = 1200, key: str | None = "k"
) -> None:
    args = {"idempotency_key": key} if key else {}
    env.tools.call("create_refund", charge=task.input["charge"], amount=amount, **args)


def escalate(task: Task, env: AgentEnv, reason: str = "conflicting_records") -> None:
    env.tools.call(
        "escalate",
        reason=reason,
        summary="records disagree",
        refs=[task.input["charge"]],
    )


def test_idempotency_without_expectations_flags_identical_effects_twice() -> None:
    def twice(task: Task, env: AgentEnv) -> None:
        refund(task, env, key=None)
        refund(task, env, key=None)

    result = run_scenario(small_scenario(), twice)
    assert result.failed_oracles == ("idempotency",)
    assert run_scenario(small_scenario(), refund).passed


def test_idempotency_reports_a_lost_effect() -> None:
    scenario = small_scenario(expect={"idempotency": {"key": "refund:$charge.id"}})
    result = run_scenario(scenario, lambda task, env: None)
    charge = result.world.records["charge"]["id"]
    assert result.score("idempotency").explanation == (
        f"business key 'refund:{charge}' committed 0 effects, at least 1 expected (lost)"
    )
    assert run_scenario(scenario, refund).passed


def test_escalation_required_with_a_reason() -> None:
    scenario = small_scenario(
        expect={"escalation": {"rule": "required", "reason": "conflicting_records"}}
    )
    assert run_scenario(scenario, escalate).passed
    wrong = run_scenario(scenario, lambda t, e: escalate(t, e, "low_confidence"))
    assert wrong.score("escalation").explanation == (
        "escalated with reason low_confidence; reason 'conflicting_records' is required"
    )


def test_escalation_forbidden() -> None:
    scenario = small_scenario(expect={"escalation": "forbidden"})
    assert run_scenario(scenario, refund).passed
    result = run_scenario(scenario, escalate)
    assert result.score("escalation").explanation == (
        "escalated (conflicting_records) although this case must be handled without one"
    )


def test_outcome_counts_and_fields() -> None:
    scenario = small_scenario(
        expect={
            "outcome": [
                {
                    "service": "payments",
                    "count": "refunds",
                    "where": {"charge": "$charge.id"},
                    "equals": 1,
                },
                {
                    "service": "payments",
                    "record": "charges",
                    "id": "$charge.id",
                    "field": "amount_refunded",
                    "equals": 1200,
                },
            ]
        }
    )
    assert run_scenario(scenario, refund).passed
    result = run_scenario(scenario, lambda t, e: refund(t, e, amount=1000))
    charge = result.world.records["charge"]["id"]
    assert result.score("outcome").explanation == (
        f"expected payments.charges[{charge}].amount_refunded == 1200, found 1000"
    )


def test_security_passes_when_everything_stays_inside() -> None:
    result = run_scenario(small_scenario(), refund)
    assert (
        result.score("security").explanation
        == "every request stayed inside the simulation"
    )


def test_policy_passes_a_refund_under_the_limit_without_approval() -> None:
    scenario = small_scenario(
        policy={"approvals": [{"action": "payments.refund", "when": "amount > 50000"}]}
    )
    result = run_scenario(scenario, refund)
    assert result.score("policy").explanation == "every call kept to the pack"


def test_an_approval_authorises_one_execution_only() -> None:
    scenario = small_scenario(
        policy={"approvals": [{"action": "payments.refund"}]},
        humans={"approver": {"decision": "approve", "after": "10m"}},
    )

    def approved_twice(task: Task, env: AgentEnv) -> AgentResult:
        params = {"charge": task.input["charge"], "amount": 1200}
        approval = env.tools.call(
            "request_approval",
            action="payments.refund",
            params=params,
            justification="x",
        )
        import time

        time.sleep(900)
        assert (
            env.tools.call("get_approval", approval=approval["id"])["status"]
            == "approved"
        )
        env.tools.call("create_refund", **params, idempotency_key="a")
        env.tools.call("create_refund", **params, idempotency_key="b")
        return AgentResult()

    result = run_scenario(scenario, approved_twice)
    assert "policy" in result.failed_oracles
    assert result.score("policy").details["violations"] == 1
