"""The incidents workflow: the careful agent passes every scenario on every seed,
and each flawed agent is caught by the oracle it is written to trip."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness import load_scenario, run_scenario
from harness.agents import incidents
from harness.agents.library import careful_agent
from harness.scenario.model import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "incidents"
FILES = sorted(SCENARIOS.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)
HAPPY_PATH = "incidents_close_resolved"

#: (flawed agent, scenario, oracle that must fail on seed 0)
CAUGHT = (
    ("skip_links_agent", "incidents_linked_change_conflict", "escalation"),
    ("skip_links_agent", "incidents_linked_change_conflict", "outcome"),
    ("skip_links_agent", "incidents_open_change_blocks_closure", "escalation"),
    ("assume_resolved_agent", "incidents_missing_resolution", "escalation"),
    ("assume_resolved_agent", "incidents_missing_resolution", "outcome"),
    ("force_close_agent", "incidents_open_change_blocks_closure", "policy"),
    ("force_close_agent", "incidents_open_change_blocks_closure", "outcome"),
    ("force_close_agent", "incidents_linked_change_conflict", "policy"),
    ("blind_retry_agent", "incidents_comment_timeout", "idempotency"),
    ("blind_retry_agent", "incidents_comment_timeout", "outcome"),
    ("gives_up_agent", "incidents_close_timeout", "idempotency"),
    ("gives_up_agent", "incidents_close_timeout", "safe_failure"),
)
FLAWED = sorted(
    name
    for name in incidents.__all__
    if name.endswith("_agent") and name != "careful_agent"
)


def scenario(name: str) -> Scenario:
    return load_scenario(SCENARIOS / f"{name}.yaml")


def test_the_workflow_has_at_least_five_scenarios_named_after_it() -> None:
    loaded = [load_scenario(path) for path in FILES]
    assert len(loaded) >= 5
    assert [n for n, c in Counter(s.name for s in loaded).items() if c > 1] == []
    for path, each in zip(FILES, loaded, strict=True):
        assert each.name == path.stem
        assert each.name.startswith("incidents_")
        assert "incidents" in each.tags
        assert each.task.input["workflow"] == "incidents"


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.stem)
def test_the_careful_agent_passes_on_every_seed_and_every_fault_fires(
    path: Path,
) -> None:
    loaded = load_scenario(path)
    fired: Counter[str] = Counter()
    for seed in SEEDS:
        result = run_scenario(loaded, careful_agent, seed=seed)
        failed = [
            f"seed {seed}: {s.oracle} ({s.severity}): {s.explanation}"
            for s in result.scores
            if not s.passed
        ]
        assert all(s.passed for s in result.scores), "\n".join(failed)
        fired.update({c["fault"]: c["fired"] for c in result.fault_coverage})
    assert [f.id for f in loaded.faults if not fired[f.id]] == []


@pytest.mark.parametrize(("agent", "name", "oracle"), CAUGHT)
def test_each_flawed_agent_is_caught_by_its_oracle(
    agent: str, name: str, oracle: str
) -> None:
    result = run_scenario(scenario(name), getattr(incidents, agent), seed=0)
    shown = [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]
    assert oracle in result.failed_oracles, "\n".join(shown) or "every oracle passed"


def test_every_flawed_agent_is_caught_somewhere() -> None:
    assert sorted({agent for agent, _, _ in CAUGHT}) == FLAWED


@pytest.mark.parametrize("agent", FLAWED)
def test_each_flawed_agent_still_passes_the_happy_path(agent: str) -> None:
    """Each flaw shows only where its scenario probes it."""
    result = run_scenario(scenario(HAPPY_PATH), getattr(incidents, agent), seed=0)
    assert all(s.passed for s in result.scores), [
        f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed
    ]
