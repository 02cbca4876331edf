"""The vendor scenarios (onboarding, invoices, payment runs): the careful agent
passes every one on every seed and meets every fault, and each flawed vendor agent
is caught by the oracle it was written to trip."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import load_scenario, run_scenario
from harness.agents import library, vendors
from harness.scenario.model import Scenario

DIRECTORY = Path(__file__).resolve().parents[2] / "scenarios" / "vendors"
FILES = sorted(DIRECTORY.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)

Agent = Callable[..., Any]

#: (flawed agent, scenario name, oracle that must fail) on seed 0.
CAUGHT: list[tuple[Agent, str, str]] = [
    (vendors.duplicate_creating_agent, "vendor_duplicate_tax_id_reused", "outcome"),
    (vendors.duplicate_creating_agent, "vendor_onboard_activate", "trajectory"),
    (vendors.rubber_stamp_agent, "vendor_onboard_activate", "policy"),
    (vendors.rubber_stamp_agent, "vendor_invoice_matched_paid", "policy"),
    (vendors.leaky_notice_agent, "vendor_onboard_activate", "leakage"),
    (vendors.abandoning_agent, "vendor_onboarding_fault_rolled_back", "safe_failure"),
    (vendors.abandoning_agent, "vendor_onboarding_fault_rolled_back", "escalation"),
    (vendors.invoice_rewriting_agent, "vendor_invoice_mismatch_held", "escalation"),
    (vendors.invoice_rewriting_agent, "vendor_invoice_mismatch_held", "outcome"),
    (vendors.report_trusting_agent, "vendor_payment_run_misreported", "idempotency"),
]


@cache
def _by_name() -> dict[str, Scenario]:
    scenarios = (load_scenario(path) for path in FILES)
    return {scenario.name: scenario for scenario in scenarios}


def test_the_vendor_workflow_has_its_scenarios() -> None:
    names = sorted(_by_name())
    assert len(names) == 6, names
    assert all(name.startswith("vendor_") for name in names), names


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_careful_agent_passes_every_seed_and_meets_every_fault(
    path: Path,
) -> None:
    scenario = load_scenario(path)
    assert scenario.task.input["workflow"] == "vendors"
    assert "vendors" in scenario.tags
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
        for name in vendors.__all__
        if name.endswith("_agent") and name != "careful_agent"
    }
    assert flawed == {agent.__name__ for agent, _, _ in CAUGHT}
    for name in flawed:
        doc = str(getattr(vendors, name).__doc__)
        tripped = {oracle for agent, _, oracle in CAUGHT if agent.__name__ == name}
        assert any(f"``{oracle}``" in doc for oracle in tripped), name


def test_the_careful_agent_reuses_the_vendor_it_finds_by_tax_id() -> None:
    result = run_scenario(
        _by_name()["vendor_duplicate_tax_id_reused"], library.careful_agent, seed=0
    )

    assert result.agent_result is not None
    assert result.agent_result.output == {
        "vendor": result.world.records["existing"]["id"],
        "created": False,
    }
