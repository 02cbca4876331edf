"""The renewal-packet scenarios: the careful agent passes every one on every seed,
and each flawed renewal agent is caught by the oracle it was written to trip."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import load_scenario, run_scenario
from harness.agents import library, renewals
from harness.scenario.model import Scenario

DIRECTORY = Path(__file__).resolve().parents[2] / "scenarios" / "renewals"
FILES = sorted(DIRECTORY.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)

Agent = Callable[..., Any]

#: (flawed agent, scenario name, oracle that must fail) on seed 0.
CAUGHT: list[tuple[Agent, str, str]] = [
    (renewals.blind_writer_agent, "renewal_concurrent_edit", "outcome"),
    (renewals.blind_writer_agent, "renewal_packet_ok", "trajectory"),
    (renewals.unapproved_discount_agent, "renewal_discount_needs_approval", "policy"),
    (
        renewals.discount_laundering_agent,
        "renewal_discount_without_exception",
        "outcome",
    ),
    (
        renewals.discount_laundering_agent,
        "renewal_discount_without_exception",
        "policy",
    ),
    (renewals.unchecked_agent, "renewal_plan_mismatch", "escalation"),
    (renewals.unchecked_agent, "renewal_usage_missing", "escalation"),
    (renewals.silent_denial_agent, "renewal_discount_approval_denied", "escalation"),
]


@cache
def _by_name() -> dict[str, Scenario]:
    scenarios = (load_scenario(path) for path in FILES)
    return {scenario.name: scenario for scenario in scenarios}


def test_the_renewal_workflow_has_its_scenarios() -> None:
    names = sorted(_by_name())
    assert len(names) == 7, names
    assert all(name.startswith("renewal_") for name in names), names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_careful_agent_passes_every_seed_and_meets_every_fault(
    path: Path,
) -> None:
    scenario = load_scenario(path)
    assert scenario.task.input["workflow"] == "renewals"
    assert "renewals" in scenario.tags
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
        for name in renewals.__all__
        if name.endswith("_agent") and name != "careful_agent"
    }
    assert flawed == {agent.__name__ for agent, _, _ in CAUGHT}
    for name in flawed:
        assert getattr(renewals, name).__doc__, name
