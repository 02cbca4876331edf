"""The in-process heap settle: one collection and a freeze after an import, and
nothing in the steady state."""

from __future__ import annotations

import gc
import sys
import types
from collections.abc import Iterator

import pytest

from harness.runtime import heap


@pytest.fixture
def fresh_modules() -> Iterator[list[str]]:
    """Module names a test adds to ``sys.modules``, removed after it."""
    names: list[str] = []
    yield names
    for name in names:
        sys.modules.pop(name, None)


def _import_many(names: list[str], count: int) -> None:
    for index in range(count):
        name = f"_aqe_heap_test_{len(names)}_{index}"
        sys.modules[name] = types.ModuleType(name)
        names.append(name)


def test_a_large_import_is_settled_once(fresh_modules: list[str]) -> None:
    heap.settle_after_imports()  # whatever came before this test
    assert not heap.settle_after_imports()  # nothing new: the steady state
    _import_many(fresh_modules, heap.IMPORTS_TO_SETTLE)
    frozen = gc.get_freeze_count()
    kept = [[index] for index in range(1000)]  # alive across the settle
    assert heap.settle_after_imports()
    assert gc.get_freeze_count() >= frozen + len(kept)
    assert not heap.settle_after_imports()


def test_a_few_new_modules_do_not_cost_a_collection(fresh_modules: list[str]) -> None:
    heap.settle_after_imports()
    _import_many(fresh_modules, heap.IMPORTS_TO_SETTLE - 1)
    assert not heap.settle_after_imports()


def test_a_process_with_the_collector_off_is_left_as_it_is(
    fresh_modules: list[str],
) -> None:
    heap.settle_after_imports()
    _import_many(fresh_modules, heap.IMPORTS_TO_SETTLE)
    frozen = gc.get_freeze_count()
    gc.disable()
    try:
        assert not heap.settle_after_imports()
    finally:
        gc.enable()
    assert gc.get_freeze_count() == frozen


def test_an_in_process_run_settles_what_the_last_run_imported(
    fresh_modules: list[str],
) -> None:
    from pathlib import Path

    from harness.agents.library import careful_agent
    from harness.run import run_scenario
    from harness.scenario.loader import load_scenario

    root = Path(__file__).resolve().parents[2] / "scenarios"
    scenario = load_scenario(root / "payments" / "refund_ambiguous_timeout.yaml")
    run_scenario(scenario, careful_agent, seed=3)
    _import_many(fresh_modules, heap.IMPORTS_TO_SETTLE)  # as an SDK's first run does
    frozen = gc.get_freeze_count()
    result = run_scenario(scenario, careful_agent, seed=3)
    assert result.passed
    assert gc.get_freeze_count() > frozen
    assert not heap.settle_after_imports()
