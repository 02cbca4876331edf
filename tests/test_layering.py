"""Arrows point down (DESIGN.md): no package imports a higher one, not even lazily
inside a function or under TYPE_CHECKING, and the core packages form no cycle."""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import ROOT

#: Each package's layer, lowest first. A module may import its own package and
#: anything on a lower layer; on its own layer only what keeps the graph acyclic.
LAYERS: dict[str, int] = {
    "fakes": 0,
    "harness._lazy": 1,
    "harness._version": 1,
    "harness.errors": 1,
    "harness.files": 1,
    "harness.source": 1,
    "harness.stats": 1,
    "harness.world": 2,
    "harness.faults": 3,
    "harness.gateway": 3,
    "harness.models": 3,
    "harness.oracles": 3,
    "harness.policy": 3,
    "harness.runtime": 3,
    "harness.scenario": 3,
    "harness.adapters": 4,
    "harness.agents": 4,
    "harness.isolation": 4,
    "harness.run": 4,
    "harness.modes": 5,
    "harness.authoring": 6,
    "harness.reporting": 6,
    "harness.bench": 7,
    "harness.bench_service": 7,
    "harness.bench_suite": 7,
    "harness.bench_oracles": 7,
    "harness.bench_startup": 7,
    "harness.cli": 7,
    "harness._pytest": 7,
    "harness.plugin": 8,
    "harness": 9,
}
#: The packages that must not import each other in a circle.
CORE = (
    "fakes",
    "harness.world",
    "harness.faults",
    "harness.gateway",
    "harness.policy",
    "harness.scenario",
)


def unit(module: str) -> str:
    """The package (or top-level module) a module belongs to."""
    parts = module.split(".")
    if parts[0] == "fakes" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(root: Path = ROOT) -> Iterator[tuple[str, str, str]]:
    """(importing unit, imported unit, file:line) for every import between units."""
    for path in sorted([*root.glob("harness/**/*.py"), *root.glob("fakes/**/*.py")]):
        source = unit(module_name(path, root))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] in ("harness", "fakes") and unit(name) != source:
                    where = f"{path.relative_to(root)}:{node.lineno}"
                    yield source, unit(name), where


def test_every_package_has_a_layer() -> None:
    units = {source for source, _, _ in imports()} | {t for _, t, _ in imports()}
    assert sorted(units - LAYERS.keys()) == []


def test_no_package_imports_a_higher_one() -> None:
    upward = [
        f"{where}: {source} (layer {LAYERS[source]}) imports {target}"
        f" (layer {LAYERS[target]})"
        for source, target, where in imports()
        if LAYERS.get(target, 0) > LAYERS.get(source, 0)
    ]
    assert upward == []


def test_the_core_packages_form_no_cycle() -> None:
    edges: dict[str, set[str]] = {name: set() for name in CORE}
    for source, target, _ in imports():
        if source in edges and target in edges:
            edges[source].add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(
            nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
            for nxt in edges[start]
        )

    cycles = [
        f"{a} <-> {b}"
        for a, b in itertools.combinations(CORE, 2)
        if reaches(a, b, {a}) and reaches(b, a, {b})
    ]
    assert cycles == []


def test_the_walk_sees_imports_inside_functions_and_under_type_checking(
    tmp_path: Path,
) -> None:
    world = tmp_path / "harness" / "world"
    world.mkdir(parents=True)
    (world / "clock.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from harness.run import RunResult\n"
        "def f():\n    import harness.plugin\n"
        "from harness.world import history\n"
    )

    found = sorted(imports(tmp_path))

    assert found == [
        ("harness.world", "harness.plugin", "harness/world/clock.py:5"),
        ("harness.world", "harness.run", "harness/world/clock.py:3"),
    ]
