"""The fault-kind registry: one source for every kind, duplicates rejected."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from types import MappingProxyType

import pytest

import harness.faults
from harness.faults.docs import README, fault_table, with_table
from harness.faults.kind import DURATION, Kind, Target
from harness.faults.registry import DuplicateKind, Registry, kind_of, registry
from harness.faults.spec import FaultKind


def _kind(name: str, order: int, **attrs: object) -> Kind:
    cls = type(
        f"Kind_{name}",
        (Kind,),
        {"name": name, "summary": "a test kind", "order": order, **attrs},
    )
    kind: Kind = cls()
    return kind


def test_the_registry_holds_every_fault_kind_in_fault_table_order() -> None:
    names = registry().names()
    assert names == tuple(FaultKind)
    assert names[:3] == ("latency", "timeout", "error")
    assert [k.order for k in registry()] == sorted(k.order for k in registry())


def test_a_kind_is_looked_up_by_its_name() -> None:
    assert kind_of("timeout").name == "timeout"
    assert kind_of(FaultKind("duplicate_delivery")).target is Target.TASK


def test_the_registry_rejects_a_second_kind_of_the_same_name() -> None:
    reg = Registry()
    reg.add(_kind("wobble", 10))

    with pytest.raises(DuplicateKind) as err:
        reg.add(_kind("wobble", 20))

    assert str(err.value) == (
        "fault kind 'wobble' is already registered by"
        " tests.faults.test_registry.Kind_wobble\n"
        "    fix: give the new kind another name, or remove one of the two"
    )


def test_the_registry_rejects_a_second_kind_in_the_same_place() -> None:
    reg = Registry()
    reg.add(_kind("wobble", 10))

    with pytest.raises(DuplicateKind, match=re.escape("already 'wobble''s")):
        reg.add(_kind("jitter", 10))


def test_the_registry_rejects_a_parameter_defined_twice() -> None:
    reg = Registry()
    mine = MappingProxyType({"knob": {**DURATION, "description": "x"}})
    reg.add(_kind("wobble", 10, params=("knob",), schemas=mine))

    with pytest.raises(DuplicateKind) as err:
        reg.add(_kind("jitter", 20, params=("knob",), schemas=mine))

    assert str(err.value) == (
        "fault kind 'jitter' defines parameter 'knob', already defined by fault"
        " kind 'wobble'\n"
        "    fix: list 'knob' in params and leave it out of schemas to share it,"
        " or give yours another name"
    )


def test_a_shared_parameter_may_not_be_redefined() -> None:
    reg = Registry()
    with pytest.raises(DuplicateKind, match="already defined by shared"):
        reg.add(
            _kind("wobble", 10, params=("status",), schemas={"status": {}}),
        )


def test_a_parameter_without_a_schema_is_rejected() -> None:
    with pytest.raises(ValueError, match="takes parameters with no schema: knob"):
        Registry().add(_kind("wobble", 10, params=("knob",)))


def test_a_kind_takes_a_shared_parameter_by_naming_it() -> None:
    reg = Registry()
    reg.add(_kind("wobble", 10, params=("delay",)))

    assert reg.durations() == frozenset({"delay"})


def test_the_readme_fault_table_is_generated_from_the_registry() -> None:
    text = README.read_text(encoding="utf-8")

    assert fault_table() in text, (
        "the README's fault table is out of date: run python -m harness.faults.docs"
    )
    assert with_table(text) == text


def test_the_fault_table_has_a_row_per_kind() -> None:
    rows = fault_table().splitlines()[2:]
    assert [row.split("`")[1] for row in rows] == list(registry().names())


def test_the_kinds_and_the_plan_import_nothing_above_them() -> None:
    """Kinds, registry and plan sit below scenario/ and gateway/, which read them."""
    root = Path(harness.faults.__file__).parent
    above = ("harness.scenario", "harness.gateway", "harness.modes", "harness.run")
    fuzzer = {"fuzz.py", "strategies.py"}  # above run: it runs scenarios
    for path in sorted(root.rglob("*.py")):
        if path.name in fuzzer:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(above), (path, node.module)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not alias.name.startswith(above), (path, alias.name)
