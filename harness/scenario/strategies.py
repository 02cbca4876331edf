"""Hypothesis strategies for fault plans, for ``@given`` tests and ``aqe fuzz``.

:func:`fault_documents` draws faults as a scenario file writes them (plain dicts,
valid against the scenario schema), :func:`fault_plans` the same plans as
:class:`~harness.scenario.model.FaultSpec` values ready for a run::

    from hypothesis import given
    from harness import load_scenario, run_scenario
    from harness.scenario.strategies import fault_plans

    SCENARIO = load_scenario("scenarios/payments/refund_ok.yaml")

    @given(plan=fault_plans(tools=["create_refund"]))
    def test_refunds_land_once(plan):
        result = run_scenario(SCENARIO.with_faults(plan), my_agent, seed=1)
        assert result.score("idempotency").passed

Simpler plans shrink first: fewer faults; kinds in the order of the fault table
(latency, timeout, error, …); a fault on the first matching call before one on
every call. So a failure shrinks to the plainest plan that still shows it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from hypothesis import strategies as st

from fakes.base import Operation
from fakes.registry import registered_services
from harness.faults.kind import Target
from harness.faults.registry import kind_of, registry
from harness.faults.spec import FaultKind, FaultSpec

#: Kinds drawn by default: those that need no knowledge of the scenario's data.
#: ``conflicting_data``, ``missing_data``, ``schema_drift`` and
#: ``injected_instructions`` name records, fields or text; pass ``kinds=`` and
#: ``params=`` to draw them with yours.
GENERIC_KINDS: tuple[FaultKind, ...] = tuple(
    FaultKind(kind.name) for kind in registry() if kind.generic
)

#: Parameters per kind, simplest (or most common) first.
CHOICES: dict[FaultKind, tuple[dict[str, Any], ...]] = {
    FaultKind(kind.name): tuple(dict(c) for c in kind.choices)
    for kind in registry()
    if kind.choices
}

#: Schedules, simplest first: one matching call, every call after one, a
#: window, a seeded chance, every matching call.
_WHEN: st.SearchStrategy[dict[str, Any] | None] = st.one_of(
    st.builds(lambda n: {"call": n}, st.integers(1, 3)),
    st.builds(lambda n: {"after_call": n}, st.integers(0, 2)),
    st.builds(
        lambda start, length: {"from": start, "until": f"{length}m"},
        st.sampled_from([0, "1m"]),
        st.integers(5, 60),
    ),
    st.builds(lambda p: {"probability": p}, st.sampled_from([0.5, 0.25, 0.9])),
    st.none(),
)


def fault_documents(
    *,
    tools: Sequence[str],
    kinds: Iterable[FaultKind | str] = GENERIC_KINDS,
    params: dict[FaultKind | str, st.SearchStrategy[dict[str, Any]]] | None = None,
    max_faults: int = 3,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Fault plans as scenario YAML writes them: ``[{id, kind, match, when, …}]``.

    ``tools`` are the tool names faults may match (say, the ones the agent
    calls); ``params`` adds or overrides a kind's parameter strategy.
    """
    if not tools:
        raise ValueError("fault_documents needs at least one tool name to match")
    ops = _operations()
    eligible = {
        kind: [t for t in tools if t not in ops or _applies(kind, ops[t])]
        for kind in map(FaultKind, kinds)
    }
    chosen = [k for k, names in eligible.items() if names]
    extra = {FaultKind(k): v for k, v in (params or {}).items()}
    missing = [
        k
        for k in chosen
        if k not in extra and k not in CHOICES and kind_of(k).needs_params
    ]
    if missing:
        raise ValueError(
            "no parameter strategy for "
            + ", ".join(str(k) for k in missing)
            + "; pass params={kind: strategy} for it"
        )
    if not chosen:
        raise ValueError(f"none of the fault kinds applies to {', '.join(tools)}")
    one = st.sampled_from(chosen).flatmap(
        lambda kind: _fault(kind, eligible[kind], extra.get(kind))
    )
    return st.lists(one, min_size=1, max_size=max_faults).map(_named)


def fault_plans(
    *,
    tools: Sequence[str],
    kinds: Iterable[FaultKind | str] = GENERIC_KINDS,
    params: dict[FaultKind | str, st.SearchStrategy[dict[str, Any]]] | None = None,
    max_faults: int = 3,
) -> st.SearchStrategy[tuple[FaultSpec, ...]]:
    """The plans of :func:`fault_documents`, as validated :class:`FaultSpec` s."""
    from harness.scenario.loader import faults_from_documents

    return fault_documents(
        tools=tools, kinds=kinds, params=params, max_faults=max_faults
    ).map(faults_from_documents)


def single_faults(
    *, tools: Sequence[str], kinds: Iterable[FaultKind | str] = GENERIC_KINDS
) -> Iterator[list[dict[str, Any]]]:
    """Every one-fault plan on the first matching call, simplest first.

    In the order of the fault table, then of each kind's parameter choices, then
    of ``tools``: the plans ``aqe fuzz`` tries before it searches at random.
    """
    ops = _operations()
    for kind in map(FaultKind, kinds):
        for params in CHOICES.get(kind, ()):
            if kind_of(kind).target is not Target.CALL:
                yield _named([{"kind": str(kind), **params}])
                continue
            for tool in tools:
                if tool not in ops or _applies(kind, ops[tool]):
                    fault = {"kind": str(kind), "match": {"tool": tool}}
                    yield _named([{**fault, "when": {"call": 1}, **params}])


def _operations() -> dict[str, Operation]:
    return {op.name: op for svc in registered_services() for op in svc.operations}


def _applies(kind: FaultKind, op: Operation) -> bool:
    """Whether a fault of ``kind`` can hit calls to ``op`` at all."""
    return kind_of(kind).can_hit(op)


def _fault(
    kind: FaultKind,
    tools: list[str],
    params: st.SearchStrategy[dict[str, Any]] | None,
) -> st.SearchStrategy[dict[str, Any]]:
    kind_params = params if params is not None else kind_of(kind).strategy()
    if kind_of(kind).target is not Target.CALL:
        return kind_params.map(lambda p: {"kind": str(kind), **p})
    return st.tuples(kind_params, st.sampled_from(tools), _WHEN).map(
        lambda parts: {
            "kind": str(kind),
            "match": {"tool": parts[1]},
            **({"when": parts[2]} if parts[2] is not None else {}),
            **parts[0],
        }
    )


def _named(faults: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Ids by position and kind (``timeout-1``), placed first as a file has them."""
    return [
        {"id": f"{fault['kind'].replace('_', '-')}-{n}", **fault}
        for n, fault in enumerate(faults, start=1)
    ]


__all__ = [
    "CHOICES",
    "GENERIC_KINDS",
    "fault_documents",
    "fault_plans",
    "single_faults",
]
