"""The indexed oracles (issue 18) score every run exactly as the quadratic ones
did: on synthetic runs of many writes and on the scenario library's runs, with
the careful agent and with each workflow's faulty agents."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import run_scenario
from harness.agents.library import careful_agent
from harness.bench_oracles import synthetic_run
from harness.models.source import own_model
from harness.oracles import ORACLES, RunView, Score
from harness.run import scoring_oracles
from harness.scenario.loader import load_scenario
from tests.oracles.quadratic import quadratic

ROOT = Path(__file__).resolve().parents[2]
#: Agent frameworks' adapters: their runs are the refund scenarios' runs again,
#: and importing each framework is most of a test's time.
ADAPTERS = ("langgraph_", "openai_agents_", "pydantic_ai_")
LIBRARY = sorted(
    p
    for p in (ROOT / "scenarios").rglob("*.yaml")
    if "policies" not in p.relative_to(ROOT).parts and not p.stem.startswith(ADAPTERS)
)


def both(run: RunView) -> tuple[dict[str, Score], dict[str, Score]]:
    """Every oracle's score of ``run``, indexed and as the quadratic reference."""
    names = [name for name in scoring_oracles() if name != "capture"]
    indexed = {name: ORACLES[name](run) for name in names}
    with quadratic():
        reference = {name: ORACLES[name](run) for name in names}
    return indexed, reference


def test_a_long_synthetic_run_meets_every_verdict_the_indexes_serve() -> None:
    run = synthetic_run(writes=600, seed=5)
    indexed, reference = both(run)
    assert indexed == reference
    keys = indexed["idempotency"].details["keys"]
    assert {"ok", "recovered", "duplicated", "unacknowledged", "lost"} <= {
        *keys.values()
    }
    assert indexed["safe_failure"].details["left"] > 0
    assert indexed["escalation"].details["before_irreversible"] is False


@settings(max_examples=12, deadline=None)
@given(
    writes=st.integers(min_value=1, max_value=300),
    seed=st.integers(min_value=0, max_value=2**16),
    status=st.sampled_from(["done", "failed"]),
)
def test_synthetic_runs_score_the_same_indexed_as_quadratic(
    writes: int, seed: int, status: str
) -> None:
    indexed, reference = both(synthetic_run(writes=writes, seed=seed, status=status))
    assert indexed == reference


def _agents(path: Path) -> list[Callable[..., Any]]:
    """The library's careful agent, and the scenario's workflow's other agents."""
    workflow = load_scenario(path).task.input.get("workflow")
    agents: list[Callable[..., Any]] = [careful_agent]
    if workflow is None:
        return agents
    module = importlib.import_module(f"harness.agents.{workflow}")
    agents += [
        func
        for name, func in sorted(vars(module).items())
        if name.endswith("_agent")
        and name != "careful_agent"
        and inspect.isfunction(func)
        and func.__module__ == module.__name__
    ]
    return agents


@pytest.mark.parametrize("path", LIBRARY, ids=[p.stem for p in LIBRARY])
def test_library_runs_score_the_same_indexed_as_quadratic(path: Path) -> None:
    scenario = load_scenario(path)
    compared: list[str] = []

    def capture(run: RunView) -> Score:
        indexed, reference = both(run)
        assert indexed == reference
        compared.append(scenario.name)
        return Score(oracle="capture", passed=True, value=None, explanation="")

    names = (*scoring_oracles(), "capture")
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(ORACLES, "capture", capture)
        for agent in _agents(path):
            run_scenario(scenario, agent, model=own_model(scenario), oracles=names)
    assert compared
