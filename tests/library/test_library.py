"""The scenario library as a whole: its size, its spread, and that it loads."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness import load_scenario, run_scenario
from harness.agents.library import careful_agent
from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
FILES = sorted(
    p for p in SCENARIOS.rglob("*.yaml") if "policies" not in p.relative_to(ROOT).parts
)


def test_the_library_holds_at_least_forty_scenarios_with_unique_names() -> None:
    names = [load_scenario(p).name for p in FILES]
    assert len(names) >= 40, f"{len(names)} scenarios"
    assert [n for n, c in Counter(names).items() if c > 1] == []


def test_each_scenario_has_a_one_line_rationale_and_tags() -> None:
    for path in FILES:
        scenario = load_scenario(path)
        assert "\n" not in scenario.rationale, path
        assert len(scenario.rationale) >= 30, path
        assert scenario.tags, path


def test_each_workflow_has_its_agent_module_and_pack() -> None:
    import importlib

    workflows = {
        str(load_scenario(p).task.input.get("workflow"))
        for p in FILES
        if "workflow" in load_scenario(p).task.input
    }
    for workflow in workflows:
        module = importlib.import_module(f"harness.agents.{workflow}")
        assert callable(module.careful_agent), workflow
        if workflow.startswith(
            ("llm_", "langgraph_", "pydantic_ai_", "openai_agents_")
        ):
            continue  # an LLM agent runs under the pack of the workflow it automates
        assert (SCENARIOS / "policies" / f"{workflow}.yaml").is_file(), workflow


def test_every_library_file_validates() -> None:
    assert main(["validate", str(SCENARIOS)]) == 0


PAYMENTS = sorted((SCENARIOS / "payments").glob("*.yaml"))


@pytest.mark.parametrize("path", PAYMENTS, ids=[p.stem for p in PAYMENTS])
def test_the_careful_agent_passes_every_payments_scenario_on_five_seeds(
    path: Path,
) -> None:
    scenario = load_scenario(path)
    for seed in range(5):
        result = run_scenario(scenario, careful_agent, seed=seed)
        failed = [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]
        assert failed == [], f"seed {seed}: {failed}"
