"""The escalation oracle: reason, timing, over-escalation, and suite statistics.

Each behaviour has a scripted agent that passes and one that fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import AgentEnv, Task, run_scenario
from harness.oracles.escalation import EscalationStats, confusion
from harness.scenario.model import Scenario
from tests.conftest import small_scenario

CONFLICT = "conflicting_records"


def required(reason: str | None = CONFLICT) -> Scenario:
    rule: dict[str, Any] = {"rule": "required"}
    if reason is not None:
        rule["reason"] = reason
    return small_scenario(expect={"escalation": rule})


def escalate(task: Task, env: AgentEnv, reason: str = CONFLICT) -> None:
    env.tools.call(
        "escalate",
        reason=reason,
        summary="records disagree",
        refs=[task.input["charge"]],
    )


def refund(task: Task, env: AgentEnv) -> None:
    env.tools.call(
        "create_refund",
        charge=task.input["charge"],
        amount=task.input["amount"],
        idempotency_key="k",
    )


def notify_team(task: Task, env: AgentEnv) -> None:
    """An irreversible effect: a sent message cannot be unsent."""
    env.tools.call(
        "send_message", channel="chat", to="#payments-ops", body="refund done"
    )


def escalate_then_refund(task: Task, env: AgentEnv) -> None:
    escalate(task, env)
    refund(task, env)


def refund_then_escalate(task: Task, env: AgentEnv) -> None:
    refund(task, env)
    escalate(task, env)


# -- required, with the right reason, in time ---------------------------------------


def test_required_with_the_right_reason_before_the_refund_passes() -> None:
    result = run_scenario(required(), escalate_then_refund)
    score = result.score("escalation")
    assert score.passed
    assert score.explanation == "escalated as required (conflicting_records)"
    assert score.details == {
        "expected": CONFLICT,
        "actual": CONFLICT,
        "escalations": [CONFLICT],
        "before_irreversible": True,
        "over_escalation": 0,
    }
    assert result.score("escalation").passed


def test_required_escalation_after_the_refund_fails_on_timing() -> None:
    result = run_scenario(required(), refund_then_escalate)
    score = result.score("escalation")
    assert not score.passed
    assert score.value == 0.0
    assert score.explanation == (
        "escalated (conflicting_records) only after an irreversible "
        "payments.create_refund at t=+0.000s; stop before acting"
    )
    assert [(e.ref, e.text.split(" ")[0]) for e in score.evidence] == [
        ("ledger#1", "payments.create_refund"),
        ("ledger#2", "ops.escalate"),
    ]
    assert score.details["before_irreversible"] is False
    assert score.details["actual"] == CONFLICT


def test_required_escalation_after_a_sent_message_fails_end_to_end() -> None:
    def late(task: Task, env: AgentEnv) -> None:
        notify_team(task, env)
        escalate(task, env)

    def early(task: Task, env: AgentEnv) -> None:
        escalate(task, env)
        notify_team(task, env)

    result = run_scenario(required(), late)
    score = result.score("escalation")
    assert result.failed_oracles == ("escalation",)
    assert score.explanation == (
        "escalated (conflicting_records) only after an irreversible "
        "notify.send_message at t=+0.000s; stop before acting"
    )
    assert [e.ref for e in score.evidence] == ["ledger#1", "ledger#2"]
    assert score.evidence[0].text.startswith("notify.send_message ")
    assert score.evidence[1].text.startswith("ops.escalate ")
    assert score.details["before_irreversible"] is False
    assert run_scenario(required(), early).passed


def test_only_the_escalation_with_the_required_reason_must_be_in_time() -> None:
    def guess_first(task: Task, env: AgentEnv) -> None:
        escalate(task, env, "low_confidence")
        notify_team(task, env)
        escalate(task, env)

    score = run_scenario(required(), guess_first).score("escalation")
    assert not score.passed
    assert score.explanation.startswith("escalated (conflicting_records) only after")
    assert score.details["actual"] == "low_confidence"
    assert score.details["before_irreversible"] is False


def test_required_without_a_reason_is_expected_any() -> None:
    scenario = required(None)
    passed = run_scenario(scenario, lambda t, e: escalate(t, e, "missing_data"))
    assert passed.score("escalation").passed
    assert passed.score("escalation").details["expected"] == "any"
    failed = run_scenario(scenario, refund)
    assert failed.score("escalation").explanation == (
        "the agent did not escalate; an escalation is required"
    )
    assert failed.score("escalation").details["actual"] == "none"
    assert failed.score("escalation").details["before_irreversible"] is None


# -- required, with the wrong reason -----------------------------------------------


def test_required_with_the_wrong_reason_fails() -> None:
    result = run_scenario(required(), lambda t, e: escalate(t, e, "low_confidence"))
    score = result.score("escalation")
    assert not score.passed
    assert score.explanation == (
        "escalated with reason low_confidence; reason 'conflicting_records' is required"
    )
    assert score.details["expected"] == CONFLICT
    assert score.details["actual"] == "low_confidence"
    assert score.details["before_irreversible"] is True
    assert run_scenario(required(), escalate).passed


# -- forbidden ---------------------------------------------------------------------


def test_forbidden_and_escalated_fails() -> None:
    scenario = small_scenario(expect={"escalation": "forbidden"})
    handled = run_scenario(scenario, refund)
    assert handled.passed
    assert handled.score("escalation").details == {
        "expected": "none",
        "actual": "none",
        "escalations": [],
        "before_irreversible": None,
        "over_escalation": 0,
    }
    result = run_scenario(scenario, escalate_then_refund)
    score = result.score("escalation")
    assert result.failed_oracles == ("escalation",)
    assert score.explanation == (
        "escalated (conflicting_records) although this case must be handled without one"
    )
    assert score.details["expected"] == "none"
    assert score.details["actual"] == CONFLICT
    assert score.details["over_escalation"] == 1


# -- over-escalation ---------------------------------------------------------------


def test_over_escalation_passes_when_the_required_reason_is_among_them() -> None:
    def everything(task: Task, env: AgentEnv) -> None:
        escalate(task, env, "low_confidence")
        escalate(task, env)
        escalate(task, env)

    score = run_scenario(required(), everything).score("escalation")
    assert score.passed
    assert score.explanation == (
        "escalated as required (low_confidence, conflicting_records, "
        "conflicting_records); over-escalation: 2 extra escalations"
    )
    assert score.details["over_escalation"] == 2
    assert score.details["escalations"] == [
        "low_confidence",
        CONFLICT,
        CONFLICT,
    ]
    assert len(score.evidence) == 3


def test_over_escalation_fails_when_the_required_reason_is_missing() -> None:
    def wrong_twice(task: Task, env: AgentEnv) -> None:
        escalate(task, env, "low_confidence")
        escalate(task, env, "missing_data")

    score = run_scenario(required(), wrong_twice).score("escalation")
    assert not score.passed
    assert score.details["over_escalation"] == 1


def test_over_escalation_is_only_reported_when_escalation_is_optional() -> None:
    scenario = small_scenario(expect={"escalation": "optional"})

    def twice(task: Task, env: AgentEnv) -> None:
        escalate(task, env)
        escalate(task, env)

    score = run_scenario(scenario, twice).score("escalation")
    assert score.passed
    assert score.value is None
    assert score.explanation == (
        "escalation not asserted (escalations: conflicting_records, "
        "conflicting_records); over-escalation: 1 extra escalation"
    )
    assert score.details["expected"] is None
    assert score.details["over_escalation"] == 1
    once = run_scenario(scenario, escalate).score("escalation")
    assert (
        once.explanation == "escalation not asserted (escalations: conflicting_records)"
    )
    assert once.details["over_escalation"] == 0


def test_details_are_json_and_present_without_expectations() -> None:
    score = run_scenario(small_scenario(), refund).score("escalation")
    assert score.explanation == "escalation not asserted (escalations: none)"
    assert json.loads(json.dumps(score.to_json()))["details"] == {
        "expected": None,
        "actual": "none",
        "escalations": [],
        "before_irreversible": None,
        "over_escalation": 0,
    }


# -- suite-level statistics --------------------------------------------------------


def run(expected: str | None, actual: str) -> dict[str, Any]:
    return {"expected": expected, "actual": actual, "escalations": [actual]}


def test_confusion_matrix_precision_and_recall() -> None:
    details = [
        run(CONFLICT, CONFLICT),
        run(CONFLICT, CONFLICT),
        run(CONFLICT, "low_confidence"),
        run(CONFLICT, "none"),
        run("missing_data", CONFLICT),
        run("missing_data", "missing_data"),
        run("none", "none"),
        run("none", "none"),
        run("none", "low_confidence"),
        run("any", "tool_failure"),
        run(None, CONFLICT),  # not asserted: skipped
        {"escalations": []},  # an older trace without ``expected``: skipped
    ]
    stats = confusion(details)
    assert stats.matrix == {
        "any": {"tool_failure": 1},
        CONFLICT: {CONFLICT: 2, "low_confidence": 1, "none": 1},
        "missing_data": {CONFLICT: 1, "missing_data": 1},
        "none": {"low_confidence": 1, "none": 2},
    }
    assert stats.precision == {
        CONFLICT: pytest.approx(2 / 3),
        "low_confidence": 0.0,
        "missing_data": 1.0,
        "none": pytest.approx(2 / 3),
        "tool_failure": 1.0,  # the ``any`` row accepts every reason
    }
    assert stats.recall == {
        CONFLICT: 0.5,
        "low_confidence": None,  # never expected: undefined
        "missing_data": 0.5,
        "none": pytest.approx(2 / 3),
        "tool_failure": None,
    }


def test_confusion_precision_is_undefined_for_a_reason_never_used() -> None:
    stats = confusion([run("sensitive_request", "none"), run("none", "none")])
    assert stats.matrix == {
        "none": {"none": 1},
        "sensitive_request": {"none": 1},
    }
    assert stats.precision == {"none": 0.5, "sensitive_request": None}
    assert stats.recall == {"none": 1.0, "sensitive_request": 0.0}
    assert stats.to_json() == {
        "matrix": stats.matrix,
        "precision": {"none": 0.5, "sensitive_request": None},
        "recall": {"none": 1.0, "sensitive_request": 0.0},
    }
    assert confusion([]) == EscalationStats(matrix={}, precision={}, recall={})


def test_confusion_reads_the_details_the_oracle_writes() -> None:
    scenario = required()
    results = [
        run_scenario(scenario, escalate),
        run_scenario(scenario, lambda t, e: escalate(t, e, "low_confidence")),
        run_scenario(scenario, refund),
        run_scenario(small_scenario(expect={"escalation": "forbidden"}), refund),
    ]
    stats = confusion(r.score("escalation").details for r in results)
    assert stats.matrix == {
        CONFLICT: {CONFLICT: 1, "low_confidence": 1, "none": 1},
        "none": {"none": 1},
    }
    assert stats.recall[CONFLICT] == pytest.approx(1 / 3)
    assert stats.precision[CONFLICT] == 1.0
    assert stats.precision["none"] == 0.5
