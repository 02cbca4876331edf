"""The fault kinds as the scenario file sees them: read from the registry.

The kinds themselves (what each does, where it acts, which parameters it takes)
are in :mod:`harness.faults.kinds`, one module each; this module gives the
loader's checks, the published JSON Schema (its ``fault`` definition is generated
here; see :mod:`harness.scenario.schema_build`) and the reports their view of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kind import Kind, Target
from harness.faults.registry import registry

#: Every kind by name, in fault-table order.
KINDS: Mapping[str, Kind] = {kind.name: kind for kind in registry()}
#: Every kind parameter and its JSON Schema (which says what it means for which kinds).
PARAMS: Mapping[str, Mapping[str, Any]] = registry().param_schemas()


def fault_schema(base: dict[str, Any]) -> dict[str, Any]:
    """The ``fault`` definition: ``base`` (id, match, when) plus the kinds."""
    kinds = tuple(registry())
    params = registry().param_schemas()
    properties = {name: base["properties"][name] for name in ("id", "match", "when")}
    properties["kind"] = {
        "type": "string",
        "title": "fault kind",
        "enum": [kind.name for kind in kinds],
        "description": ", ".join(f"{k.name} ({k.summary})" for k in kinds),
    }
    properties.update(params)
    rules: list[Any] = []
    for kind in kinds:
        then: dict[str, Any] = {
            "properties": {p: False for p in params if p not in kind.params}
        }
        if kind.target is not Target.CALL:
            then["properties"] = {"match": False, "when": False, **then["properties"]}
        if kind.required:
            then["required"] = [name for name, _ in kind.required]
        rules.append(
            {
                "if": {
                    "required": ["kind"],
                    "properties": {"kind": {"const": kind.name}},
                },
                "then": then,
            }
        )
    extra = [rule for kind in kinds for rule in kind.rules]
    return {**base, "properties": properties, "allOf": rules + extra}


def fault_defs() -> dict[str, Any]:
    """The schema definitions the kinds' parameters refer to."""
    defs: dict[str, Any] = {}
    for kind in registry():
        defs.update(kind.defs)
    return defs


__all__ = ["KINDS", "PARAMS", "Target", "fault_defs", "fault_schema"]
