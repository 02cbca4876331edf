"""``schema_drift``: response fields renamed, dropped or retyped (a new version)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from harness.faults.kind import Answer, Issue, Kind
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

_RETYPE: dict[str, Callable[[Any], Any]] = {
    "string": str,
    "integer": lambda v: int(float(v)) if v is not None else 0,
    "number": lambda v: float(v) if v is not None else 0.0,
    "boolean": bool,
    "null": lambda v: None,
}


@register
class SchemaDrift(Kind):
    name = "schema_drift"
    summary = "response fields renamed, dropped or retyped"
    order = 120
    doc_params = "`rename`, `drop`, `retype`"
    doc_sees = "response fields renamed, missing or of another type"
    params = ("rename", "drop", "retype")
    schemas = MappingProxyType(
        {
            "rename": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "schema_drift only: response fields to rename, old: new",
            },
            "drop": {
                "type": "array",
                "items": {"type": "string"},
                "description": "schema_drift only: response fields to leave out",
            },
            "retype": {
                "type": "object",
                "additionalProperties": {
                    "enum": ["string", "integer", "number", "boolean", "null"]
                },
                "description": "schema_drift only: response fields to answer with"
                " another JSON type",
            },
        }
    )
    generic = False
    changes_answer = True

    @property
    def needs_params(self) -> bool:
        return True  # with none, it changes nothing

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        if not any(key in fault for key in self.params):
            yield Issue(
                message="a schema_drift fault changes nothing",
                fix="add rename: {old: new}, drop: [field] or retype: {field: string}",
            )

    def respond(self, fault: FaultSpec, answer: Answer) -> None:
        for record in answer.records:
            if isinstance(record, dict):
                _drift(record, fault.params)


def _drift(record: dict[str, Any], params: Mapping[str, Any]) -> None:
    for old, new in dict(params.get("rename", {})).items():
        if old in record:
            record[new] = record.pop(old)
    for name in params.get("drop", ()):
        record.pop(name, None)
    for name, kind in dict(params.get("retype", {})).items():
        if name in record:
            try:
                record[name] = _RETYPE[kind](record[name])
            except (TypeError, ValueError):
                record[name] = str(record[name])
