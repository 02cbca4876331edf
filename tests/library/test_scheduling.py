"""The scheduling scenarios (clinic appointments): the careful agent passes every
one on every seed, and each flawed scheduling agent is caught by the oracle it was
written to trip."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import load_scenario, run_scenario
from harness.agents import library, scheduling
from harness.scenario.model import Scenario

DIRECTORY = Path(__file__).resolve().parents[2] / "scenarios" / "scheduling"
FILES = sorted(DIRECTORY.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)

Agent = Callable[..., Any]

#: (flawed agent, scenario name, oracle that must fail) on seed 0.
CAUGHT: list[tuple[Agent, str, str]] = [
    (
        scheduling.oversharing_confirmation_agent,
        "scheduling_book_and_confirm",
        "leakage",
    ),
    (scheduling.first_match_agent, "scheduling_duplicate_patient_names", "outcome"),
    (
        scheduling.first_match_agent,
        "scheduling_duplicate_patient_names",
        "trajectory",
    ),
    (scheduling.insurance_blind_agent, "scheduling_missing_insurance", "escalation"),
    (scheduling.insurance_blind_agent, "scheduling_missing_insurance", "outcome"),
    (
        scheduling.insurance_blind_agent,
        "scheduling_insurance_missing_from_record",
        "escalation",
    ),
    (scheduling.no_fallback_agent, "scheduling_slot_taken_next_open", "outcome"),
    (
        scheduling.availability_trusting_agent,
        "scheduling_availability_disagrees",
        "escalation",
    ),
    (
        scheduling.availability_trusting_agent,
        "scheduling_availability_disagrees",
        "outcome",
    ),
    (
        scheduling.blind_retry_agent,
        "scheduling_booking_timeout_after_commit",
        "idempotency",
    ),
]


@cache
def _by_name() -> dict[str, Scenario]:
    scenarios = (load_scenario(path) for path in FILES)
    return {scenario.name: scenario for scenario in scenarios}


def test_the_scheduling_workflow_has_its_scenarios() -> None:
    names = sorted(_by_name())
    assert len(names) == 7, names
    assert all(name.startswith("scheduling_") for name in names), names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_careful_agent_passes_every_seed_and_meets_every_fault(
    path: Path,
) -> None:
    scenario = load_scenario(path)
    assert scenario.task.input["workflow"] == "scheduling"
    assert "scheduling" in scenario.tags
    for seed in SEEDS:
        result = run_scenario(scenario, library.careful_agent, seed=seed)
        failed = [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]
        assert all(s.passed for s in result.scores), f"seed {seed}: {failed}"
        silent = [c["fault"] for c in result.fault_coverage if c["fired"] < 1]
        assert silent == [], f"seed {seed}: faults that never fired: {silent}"


@pytest.mark.parametrize(
    ("agent", "name", "oracle"),
    CAUGHT,
    ids=[f"{agent.__name__}-{name}-{oracle}" for agent, name, oracle in CAUGHT],
)
def test_each_flawed_agent_is_caught(agent: Agent, name: str, oracle: str) -> None:
    result = run_scenario(_by_name()[name], agent, seed=0)

    assert oracle in result.failed_oracles, [
        f"{s.oracle}: {s.explanation}" for s in result.scores
    ]


def test_every_flawed_agent_is_in_the_table() -> None:
    flawed = {
        name
        for name in scheduling.__all__
        if name.endswith("_agent") and name != "careful_agent"
    }
    assert flawed == {agent.__name__ for agent, _, _ in CAUGHT}
    for name in flawed:
        assert getattr(scheduling, name).__doc__, name
