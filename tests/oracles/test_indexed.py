"""The indexed oracles (issue 18) score every run exactly as the quadratic ones
did: on synthetic runs of many writes and on the scenario library's runs, with
the careful agent and with each workflow's faulty agents."""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness import run_scenario
from harness.agents.library import careful_agent
from harness.bench_oracles import _effect, _Writer, synthetic_run
from harness.models.source import own_model
from harness.oracles import ORACLES, RunView, Score
from harness.run import scoring_oracles
from harness.scenario.loader import load_scenario
from harness.world.world import World
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


class Tier(StrEnum):
    GOLD = "gold"


#: Parameter values whose equality and canonical JSON disagree, or that JSON
#: makes equal though Python does not: 1, 1.0 and True; "gold" and Tier.GOLD;
#: 0.0 and -0.0; a nested dict; None.
VALUES = (1, 1.0, True, "1", "gold", Tier.GOLD, 0.0, -0.0, None, {"n": 1})
#: (tool, service, compensation) of the writes a drawn run makes.
TOOLS = (
    ("create_refund", "payments", None),
    ("send_message", "notify", None),
    ("create_ticket", "tickets", "close_ticket"),
    ("close_ticket", "tickets", None),
)

write = st.tuples(
    st.sampled_from(TOOLS),
    st.dictionaries(st.sampled_from(["amount", "charge"]), st.sampled_from(VALUES)),
    st.sampled_from(["refund:a", "refund:b", "ticket:t"]),
    st.sampled_from(["ok", "lost"]),
    st.sampled_from(["tkt_1", "tkt_2", None]),
    st.booleans(),
)


def drawn_run(writes: list[tuple[Any, ...]], declared: bool) -> RunView:
    """A run of ``writes`` (as :func:`drawn` draws them) on one synthetic world."""
    base = synthetic_run(writes=1)
    world = World(seed=0, world_seed=0)
    writer = _Writer(world)
    for n, ((f, service, undo), params, key, seen, ref, keyed) in enumerate(writes):
        effect = _effect(key, params, ref or f"r{n}", compensation=undo)
        retry = f"k{n % 3}" if keyed else None
        writer.call(f, service, params, key=retry, effect=effect, seen=seen)
    expect = base.expect
    if not declared:
        expect = dataclasses.replace(expect, idempotency=())
    return dataclasses.replace(base, world=world, expect=expect)


@settings(max_examples=40, deadline=None)
@given(writes=st.lists(write, max_size=14), declared=st.booleans())
def test_runs_of_look_alike_parameters_score_the_same_as_the_reference(
    writes: list[tuple[Any, ...]], declared: bool
) -> None:
    indexed, reference = both(drawn_run(writes, declared))
    assert indexed == reference


def test_a_repeat_is_counted_by_canonical_json_not_by_python_equality() -> None:
    refund = (TOOLS[0], "refund:a", "ok", None, False)
    same = [({"amount": "gold"},), ({"amount": Tier.GOLD},)]
    unlike = [({"amount": 1},), ({"amount": 1.0},), ({"amount": True},)]

    def repeats(calls: list[tuple[dict[str, Any]]]) -> float:
        writes = [(refund[0], params, *refund[1:]) for (params,) in calls]
        indexed, reference = both(drawn_run(writes, declared=False))
        assert indexed == reference
        return float(indexed["budget"].details["used"]["retries"])

    assert repeats(same) == 1.0
    assert repeats(unlike) == 0.0


def test_a_key_committed_with_two_parameter_sets_keeps_the_order_of_its_problems() -> (
    None
):
    refund, ticket = TOOLS[0], TOOLS[2]
    writes = [
        (refund, {"amount": 1}, "refund:a", "ok", None, False),
        (ticket, {"amount": 2}, "ticket:t", "ok", None, False),
        (refund, {"amount": 3}, "refund:a", "ok", None, False),
        (ticket, {"amount": 2}, "ticket:t", "ok", None, False),
        (refund, {"amount": 3}, "refund:a", "ok", None, False),
        (refund, {"amount": 1}, "refund:a", "ok", None, False),
    ]
    indexed, reference = both(drawn_run(writes, declared=False))
    assert indexed == reference
    assert indexed["idempotency"].explanation.count("(duplicated)") == 3


def test_an_effect_repeats_another_when_its_parameters_print_the_same() -> None:
    def verdict(*calls: dict[str, Any]) -> str:
        writes = [(TOOLS[1], params, "refund:a", "ok", None, False) for params in calls]
        indexed, reference = both(drawn_run(writes, declared=False))
        assert indexed == reference
        return str(indexed["idempotency"].details["keys"]["refund:a"])

    assert verdict({"amount": 1}, {"amount": 1}) == "duplicated"
    assert verdict({"amount": 1}, {"amount": True}) == "ok"
    assert verdict({"amount": 1}, {"amount": 1.0}) == "ok"
    assert verdict({"amount": "gold"}, {"amount": Tier.GOLD}) == "ok"
