"""clock_skew: a service's timestamps are off; the world's are not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from harness import AgentEnv, AgentResult, RunResult, Task, run_scenario
from harness.errors import ScenarioError
from harness.scenario.loader import faults_from_documents, scenario_from_dict
from harness.scenario.model import FaultKind
from harness.scenario.strategies import CHOICES, GENERIC_KINDS, fault_documents
from tests.conftest import small_scenario
from tests.faults.test_fault_kinds import http_call, nemesis


def _reads_charge_twice(door: str) -> Any:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        seen = []
        for _ in range(2):
            if door == "function":
                seen.append(
                    env.tools.call("retrieve_charge", charge=task.input["charge"])
                )
            else:
                response = http_call(
                    env, "retrieve_charge", charge=task.input["charge"]
                )
                seen.append(response.json())
        return AgentResult(output={"seen": seen})

    return agent


def _run(door: str = "function", seed: int = 0, **params: Any) -> RunResult:
    fault = {"id": "skew", "kind": "clock_skew", "match": {"tool": "retrieve_charge"}}
    return run_scenario(
        small_scenario(faults=[{**fault, **params}]),
        _reads_charge_twice(door),
        seed=seed,
    )


def _created(result: RunResult) -> list[int]:
    assert result.agent_result is not None, result.scores
    return [body["created"] for body in result.agent_result.output["seen"]]


@pytest.mark.parametrize("door", ["function", "http"])
def test_a_skewed_service_answers_with_timestamps_an_offset_ahead(door: str) -> None:
    result = _run(door, offset="10m")

    true = result.world.records["charge"]["created"]
    assert _created(result) == [true + 600, true + 600]
    entries = nemesis(result, "clock_skew")
    assert [e.value["params"]["skew"] for e in entries] == [600, 600]


def test_the_world_keeps_the_true_time() -> None:
    result = _run(offset="1h")

    charge = result.world.records["charge"]
    stored = result.world.services["payments"].state["charges"].get(charge["id"])
    assert stored is not None
    assert stored["created"] == charge["created"]


def test_a_clock_behind_answers_with_earlier_timestamps() -> None:
    result = _run(offset="1d", direction="behind")

    true = result.world.records["charge"]["created"]
    assert _created(result) == [true - 86400, true - 86400]


def test_the_default_skew_is_an_hour_ahead() -> None:
    (fault,) = faults_from_documents([{"id": "s", "kind": "clock_skew"}])

    assert dict(fault.params) == {"offset": 3600.0, "direction": "ahead", "jitter": 0.0}


def test_jitter_is_drawn_from_the_seed_and_recorded_per_call() -> None:
    first = _run(seed=7, offset="10m", jitter="5m")
    again = _run(seed=7, offset="10m", jitter="5m")

    skews = [e.value["params"]["skew"] for e in nemesis(first, "clock_skew")]
    assert skews == [e.value["params"]["skew"] for e in nemesis(again, "clock_skew")]
    assert skews[0] != skews[1]
    assert all(300 <= s <= 900 for s in skews)
    true = first.world.records["charge"]["created"]
    assert _created(first) == [true + s for s in skews]


def test_only_the_timestamps_named_are_off() -> None:
    result = _run(offset="1h", timestamps=["updated"])

    true = result.world.records["charge"]["created"]
    assert _created(result) == [true, true]


def test_a_clock_skew_that_changes_nothing_is_a_file_error() -> None:
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(
            {
                "name": "s",
                "rationale": "r",
                "task": {"instructions": "Go.", "input": {}},
                "faults": [{"id": "s", "kind": "clock_skew", "offset": 0}],
            }
        )

    assert (
        "faults[0].offset: a clock_skew fault with offset 0 and no jitter changes"
        " nothing\n    fix: give the offset, e.g. offset: 10m (or a jitter: 30s)"
    ) in str(err.value)


def test_clock_skew_takes_only_its_own_parameters() -> None:
    with pytest.raises(ScenarioError) as err:
        faults_from_documents([{"id": "s", "kind": "clock_skew", "fields": ["x"]}])

    assert (
        "'fields' is not a parameter of clock_skew faults\n"
        "    fix: remove it; clock_skew faults take: offset, direction, jitter,"
        " timestamps"
    ) in str(err.value)


def test_the_fuzzer_draws_clock_skew_by_default() -> None:
    assert FaultKind("clock_skew") in GENERIC_KINDS
    assert CHOICES[FaultKind("clock_skew")][0] == {"offset": "5m"}


@settings(max_examples=30, deadline=None)
@given(documents=fault_documents(tools=["retrieve_charge"], kinds=["clock_skew"]))
def test_drawn_clock_skews_are_valid_faults(documents: list[dict[str, Any]]) -> None:
    faults = faults_from_documents(documents)

    assert {str(f.kind) for f in faults} == {"clock_skew"}
