"""The refund and dispute scenarios: the careful agent passes them all, and each
flawed refund agent is caught by the oracle its flaw is written to trip."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from harness import Scenario, load_scenario, run_scenario
from harness.agents import reference
from harness.agents.library import careful_agent

ROOT = Path(__file__).resolve().parents[2]
REFUNDS = ROOT / "scenarios" / "refunds"
FILES = sorted(REFUNDS.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)


@cache
def scenario(name: str) -> Scenario:
    return load_scenario(REFUNDS / f"{name}.yaml")


def test_the_refund_library_holds_the_fault_stories() -> None:
    names = [load_scenario(p).name for p in FILES]
    assert names == [p.stem for p in FILES]
    assert len(names) >= 7
    kinds = {str(f.kind) for name in names for f in scenario(name).faults}
    assert kinds >= {
        "rate_limit",
        "schema_drift",
        "outage",
        "duplicate_delivery",
        "malformed_response",
    }


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_careful_agent_passes_every_refund_scenario_on_every_seed(path: Path) -> None:
    loaded = load_scenario(path)
    assert "workflow" not in loaded.task.input  # refunds go to the refund agent
    fired: dict[str, int] = {f.id: 0 for f in loaded.faults}
    for seed in SEEDS:
        result = run_scenario(loaded, careful_agent, seed=seed)
        assert all(s.passed for s in result.scores), (
            seed,
            [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed],
        )
        for entry in result.fault_coverage:
            fired[entry["fault"]] += entry["fired"]
    assert [fault for fault, times in fired.items() if times == 0] == []


#: (flawed agent, scenario, the oracle that catches it), at seed 0.
CAUGHT: list[tuple[Callable[..., Any], str, str]] = [
    (reference.naive_refund_agent, "refund_wrong_currency", "escalation"),
    (
        reference.naive_refund_agent,
        "refund_second_partial_over_remaining",
        "escalation",
    ),
    (reference.naive_refund_agent, "refund_task_delivered_twice", "idempotency"),
    (reference.blind_retry_agent, "refund_malformed_refund_response", "idempotency"),
    (reference.blind_retry_agent, "refund_ticket_outage_after_refund", "idempotency"),
    (reference.no_wait_rate_limit_agent, "refund_rate_limited_retry_after", "budget"),
    (reference.trusting_reader_agent, "refund_charge_schema_drift", "escalation"),
    (reference.trusting_reader_agent, "refund_charge_schema_drift", "trajectory"),
    (reference.card_echo_agent, "refund_card_number_in_ticket", "leakage"),
    (
        reference.abandon_ticket_agent,
        "refund_ticket_outage_after_refund",
        "safe_failure",
    ),
    (reference.fresh_key_agent, "refund_task_delivered_twice", "idempotency"),
    (reference.refund_rest_agent, "refund_second_partial_within_remaining", "outcome"),
]


@pytest.mark.parametrize(
    ("agent", "name", "oracle"),
    CAUGHT,
    ids=[f"{agent.__name__}-{name}-{oracle}" for agent, name, oracle in CAUGHT],
)
def test_each_flawed_refund_agent_is_caught_by_its_oracle(
    agent: Callable[..., Any], name: str, oracle: str
) -> None:
    result = run_scenario(scenario(name), agent, seed=0)
    assert oracle in result.failed_oracles, (
        result.failed_oracles,
        [f"{s.oracle}: {s.explanation}" for s in result.scores],
    )


def test_every_flawed_refund_agent_appears_in_the_table() -> None:
    flawed = {
        name
        for name in dir(reference)
        if name.endswith("_agent") and name != "careful_refund_agent"
    }
    assert flawed == {agent.__name__ for agent, _, _ in CAUGHT}
    assert {name for _, name, _ in CAUGHT} <= {p.stem for p in FILES}


def test_a_drifted_charge_makes_the_careful_agent_recount_the_refunds() -> None:
    result = run_scenario(scenario("refund_charge_schema_drift"), careful_agent, seed=0)
    assert result.agent_result is not None
    assert result.agent_result.summary == (
        f"conflicting_records: requested 3000 usd; charge "
        f"{result.world.records['charge']['id']} has 2000 usd left to refund"
    )


def test_the_careful_agent_finishes_the_ticket_after_the_outage_not_before() -> None:
    result = run_scenario(
        scenario("refund_ticket_outage_after_refund"), careful_agent, seed=0
    )
    writes = [
        (h.f, h.value.get("status"), h.time)
        for h in result.world.history
        if h.process == "agent"
        and h.type != "invoke"
        and h.f in ("create_refund", "add_ticket_comment")
    ]
    assert [(f, status) for f, status, _ in writes] == [
        ("create_refund", 200),
        ("add_ticket_comment", 503),
        ("add_ticket_comment", 201),
    ]
    assert writes[-1][2] >= 2 * 3600  # it waited as long as Retry-After said


def test_a_second_delivery_finds_the_refund_instead_of_making_another() -> None:
    result = run_scenario(
        scenario("refund_task_delivered_twice"), careful_agent, seed=0
    )
    tools = [
        h.f for h in result.world.history if h.process == "agent" and h.type == "invoke"
    ]
    assert tools.count("create_refund") == 1
    assert tools.count("add_ticket_comment") == 1
    assert tools.count("get_ticket") == 2  # both deliveries did the work
