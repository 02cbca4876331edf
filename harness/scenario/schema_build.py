"""The published scenario schema, with its generated parts brought up to date.

``harness/scenario/schema/scenario.schema.json`` is hand-written except for two
parts generated from their single sources: the ``fault`` definition (from the
fault-kind registry, :mod:`harness.faults.registry`) and the policy pack's
definitions (from ``harness/policy/schema/pack.schema.json``, so a pack inline in
a scenario and a pack file are checked alike). ``python -m
harness.scenario.schema_build`` rewrites the file; a test keeps it current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from harness.scenario.fault_kinds import fault_defs, fault_schema

SCHEMA_PATH = Path(__file__).parent / "schema" / "scenario.schema.json"
PACK_SCHEMA_PATH = Path(__file__).parents[1] / "policy" / "schema" / "pack.schema.json"


def generated_schema() -> dict[str, Any]:
    """The scenario schema on disk with its generated definitions regenerated."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    defs = schema["$defs"]
    defs["fault"] = fault_schema(defs["fault"])
    defs.update(fault_defs())
    pack = json.loads(PACK_SCHEMA_PATH.read_text(encoding="utf-8"))
    defs.update(pack["$defs"])
    schema["properties"]["policy"] = {
        "description": "the policy pack the agent runs under: a file (relative to"
        " this scenario) or the pack itself",
        "anyOf": [
            {
                "type": "string",
                "minLength": 1,
                "description": "a policy pack file, e.g. ../policies/refund_agent.yaml",
            },
            {"$ref": "#/$defs/policy_pack"},
        ],
    }
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    """Rewrite the published scenario schema's generated parts."""
    text = render(generated_schema())
    if SCHEMA_PATH.read_text(encoding="utf-8") == text:
        sys.stdout.write(f"{SCHEMA_PATH} is current\n")
        return 0
    SCHEMA_PATH.write_text(text, encoding="utf-8")
    sys.stdout.write(f"rewrote {SCHEMA_PATH}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
