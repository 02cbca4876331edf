"""The travel-booking scenarios: the careful agent passes every one on every seed
and meets every fault, and each flawed travel agent is caught by the oracle it was
written to trip."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import load_scenario, run_scenario
from harness.agents import library, travel
from harness.scenario.model import Scenario

DIRECTORY = Path(__file__).resolve().parents[2] / "scenarios" / "travel"
FILES = sorted(DIRECTORY.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)

Agent = Callable[..., Any]

#: (flawed agent, scenario name, oracle that must fail) on seed 0.
CAUGHT: list[tuple[Agent, str, str]] = [
    (travel.overcautious_agent, "travel_within_limit_booked", "trajectory"),
    (travel.self_approving_agent, "travel_over_limit_manager_approval", "policy"),
    (travel.self_approving_agent, "travel_approval_denied_not_booked", "policy"),
    (travel.silent_denial_agent, "travel_approval_denied_not_booked", "escalation"),
    (travel.impatient_agent, "travel_outage_mid_booking", "safe_failure"),
    (travel.impatient_agent, "travel_outage_mid_booking", "outcome"),
    (travel.rebooking_agent, "travel_request_redelivered", "idempotency"),
]


@cache
def _by_name() -> dict[str, Scenario]:
    scenarios = (load_scenario(path) for path in FILES)
    return {scenario.name: scenario for scenario in scenarios}


def test_the_travel_workflow_has_its_scenarios() -> None:
    names = sorted(_by_name())
    assert len(names) == 5, names
    assert all(name.startswith("travel_") for name in names), names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_careful_agent_passes_every_seed_and_meets_every_fault(
    path: Path,
) -> None:
    scenario = load_scenario(path)
    assert scenario.task.input["workflow"] == "travel"
    assert "travel" in scenario.tags
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


def test_every_flawed_agent_is_in_the_table_and_names_an_oracle_it_trips() -> None:
    flawed = {
        name
        for name in travel.__all__
        if name.endswith("_agent") and name != "careful_agent"
    }
    assert flawed == {agent.__name__ for agent, _, _ in CAUGHT}
    for name in flawed:
        doc = str(getattr(travel, name).__doc__)
        tripped = {oracle for agent, _, oracle in CAUGHT if agent.__name__ == name}
        assert any(f"``{oracle}``" in doc for oracle in tripped), name


def test_the_careful_agent_waits_out_the_outage_and_places_the_order_once() -> None:
    result = run_scenario(
        _by_name()["travel_outage_mid_booking"], library.careful_agent, seed=0
    )

    placed = [e for e in result.world.ledger if e.operation == "place_purchase_order"]
    assert len(placed) == 1
    assert placed[0].time >= 45 * 60


def test_a_redelivered_request_changes_nothing_the_second_time() -> None:
    result = run_scenario(
        _by_name()["travel_request_redelivered"], library.careful_agent, seed=0
    )

    redelivered_at = 10 * 60
    assert [e.operation for e in result.world.ledger if e.time >= redelivered_at] == []
    assert any(e.time < redelivered_at for e in result.world.ledger)
