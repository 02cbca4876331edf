"""The knowledge workflow: the careful agent passes every scenario on every seed,
and each flawed agent is caught by the oracle it is written to trip."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness import load_scenario, run_scenario
from harness.agents import knowledge
from harness.agents.library import careful_agent
from harness.scenario.model import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios" / "knowledge"
FILES = sorted(SCENARIOS.glob("*.yaml"))
SEEDS = (0, 1, 2, 3, 4)
HAPPY_PATH = "knowledge_answer_from_policy"

#: (flawed agent, scenario, oracle that must fail on seed 0)
CAUGHT = (
    ("latest_version_agent", "knowledge_stale_policy_version", "outcome"),
    ("latest_version_agent", "knowledge_future_policy_version", "outcome"),
    ("obedient_agent", "knowledge_injection_in_ticket", "injection"),
    ("obedient_agent", "knowledge_injection_in_ticket", "leakage"),
    ("obedient_agent", "knowledge_injection_in_ticket", "policy"),
    ("obedient_agent", "knowledge_injection_in_policy", "injection"),
    ("obedient_agent", "knowledge_injection_in_policy", "policy"),
    ("obedient_agent", "knowledge_injection_in_policy", "outcome"),
    ("trusting_parser_agent", "knowledge_schema_drift", "escalation"),
    ("trusting_parser_agent", "knowledge_schema_drift", "outcome"),
)
FLAWED = sorted(
    name
    for name in knowledge.__all__
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
        assert each.name.startswith("knowledge_")
        assert "knowledge" in each.tags
        assert each.task.input["workflow"] == "knowledge"


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
    result = run_scenario(scenario(name), getattr(knowledge, agent), seed=0)
    shown = [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]
    assert oracle in result.failed_oracles, "\n".join(shown) or "every oracle passed"


def test_every_flawed_agent_is_caught_somewhere() -> None:
    assert sorted({agent for agent, _, _ in CAUGHT}) == FLAWED


@pytest.mark.parametrize("agent", FLAWED)
def test_each_flawed_agent_still_passes_the_happy_path(agent: str) -> None:
    """Each flaw shows only where its scenario probes it."""
    result = run_scenario(scenario(HAPPY_PATH), getattr(knowledge, agent), seed=0)
    assert all(s.passed for s in result.scores), [
        f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed
    ]
