"""A run's model totals (calls, tokens, cost) in its record and trace, and the
``budget`` oracle's ``model_tokens`` and ``model_cost`` budgets, with an agent on
the official openai SDK and a scripted model that reports its own usage."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.models import ModelCall
from harness.reporting.trace import trace_lines
from harness.run import RunResult, run_record
from tests.conftest import small_scenario

openai = pytest.importorskip("openai")

#: What the script says each call used: gpt-5 at $1.25 in / $10 out per million
#: tokens makes a call $0.00125 + $0.002 = $0.00325.
USAGE = {"prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200}


def asks_twice(task: Task, env: AgentEnv) -> AgentResult:
    """Reads the charge, then asks the model twice (the model named in the task)."""
    env.tools.call("retrieve_charge", charge=task.input["charge"])
    client = openai.OpenAI()
    said = []
    for _ in range(2):
        completion = client.chat.completions.create(
            model=str(task.input["model"]),
            messages=[{"role": "user", "content": task.instructions}],
        )
        said.append(completion.choices[0].message.content or "")
    return AgentResult(status="done", summary=" ".join(said))


def script(call: ModelCall) -> dict[str, Any]:
    return {**call.text("Done."), "usage": USAGE}


def run(model: str = "gpt-5", **budgets: Any) -> RunResult:
    task = {
        "instructions": "Refund {amount} on {charge}",
        "input": {"charge": "$charge.id", "amount": 1200, "model": model},
    }
    policy = {"policy": {"name": "refund-agent", "budgets": budgets}}
    scenario = small_scenario(task=task, **(policy if budgets else {}))
    return run_scenario(scenario, asks_twice, seed=3, model=script)


def record_of(result: RunResult) -> dict[str, Any]:
    return dict(
        run_record(
            result, nodeid="t", path="t.yaml", agent="a", seed_index=0, trace="t"
        )
    )


def test_a_runs_model_totals_are_in_its_record_and_its_trace() -> None:
    result = run()

    totals = {
        "calls": 2,
        "tokens_in": 2000,
        "tokens_out": 400,
        "tokens": 2400,
        "cost_usd": 0.0065,
        "unpriced": 0,
        "unpriced_models": [],
    }
    record = record_of(result)
    assert record["model"] == totals
    assert record["tool_calls"] == 1  # the model calls are not tool calls
    lines = [json.loads(line) for line in trace_lines(result)]
    assert [line for line in lines if line["type"] == "model"] == [
        {"type": "model", **totals}
    ]
    assert lines[-1]["type"] == "verdict"
    assert lines[-1]["tool_calls"] == 1


def test_a_run_without_model_calls_has_no_model_totals() -> None:
    def reads(task: Task, env: AgentEnv) -> AgentResult:
        env.tools.call("retrieve_charge", charge=task.input["charge"])
        return AgentResult(status="done")

    result = run_scenario(small_scenario(), reads, seed=3)

    assert result.model_usage is None
    assert "model" not in record_of(result)
    assert all(json.loads(line)["type"] != "model" for line in trace_lines(result))


def test_a_call_to_a_model_without_a_price_costs_unknown_not_zero() -> None:
    result = run(model="in-house-llm")

    assert record_of(result)["model"] == {
        "calls": 2,
        "tokens_in": 2000,
        "tokens_out": 400,
        "tokens": 2400,
        "cost_usd": None,
        "unpriced": 2,
        "unpriced_models": ["in-house-llm"],
    }


def test_a_model_cost_budget_fails_the_budget_oracle_when_exceeded() -> None:
    result = run(model_cost=0.005)

    score = result.score("budget")
    assert not score.passed
    assert result.failed_oracles == ("budget",)
    assert score.explanation == (
        "over budget: model cost $0.0065 over 2 model calls (budget $0.005)"
    )
    assert [e.text for e in score.evidence] == [
        "budget model_cost $0.005 exceeded: model cost $0.0065 over 2 model calls"
    ]
    assert score.details["model"]["cost_usd"] == 0.0065


def test_a_model_tokens_budget_fails_the_budget_oracle_when_exceeded() -> None:
    result = run(model_tokens=2000, model_cost=0.01)

    score = result.score("budget")
    assert not score.passed
    assert score.explanation == (
        "over budget: 2,400 model tokens (2,000 in, 400 out) over 2 model calls"
        " (budget 2,000)"
    )
    assert [e.text for e in score.evidence] == [
        "budget model_tokens 2,000 exceeded: 2,400 model tokens (2,000 in, 400 out)"
        " over 2 model calls"
    ]


def test_model_budgets_that_hold_say_what_was_used() -> None:
    result = run(model_tokens=2400, model_cost=0.0065, tool_calls=1)

    score = result.score("budget")
    assert score.passed
    assert score.explanation == (
        "within budget: 1 tool calls, 2,400 model tokens (2,000 in, 400 out) over 2"
        " model calls, model cost $0.0065 over 2 model calls"
    )


def test_a_model_cost_budget_cannot_hold_for_a_model_without_a_price() -> None:
    result = run(model="in-house-llm", model_cost=1.0)

    score = result.score("budget")
    assert not score.passed
    assert score.explanation == (
        "model_cost budget cannot be judged: 2 of 2 model calls went to"
        " 'in-house-llm', which the price table (prices.json, checked 2026-12-04)"
        " does not list; add the model to harness/models/prices.json"
    )
    tokens_only = run(model="in-house-llm", model_tokens=5000)
    assert tokens_only.score("budget").passed
