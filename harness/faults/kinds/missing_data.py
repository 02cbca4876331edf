"""``missing_data``: fields absent (or null, or empty) in what the agent reads."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from harness.faults.kind import Answer, Kind
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class MissingData(Kind):
    name = "missing_data"
    summary = "fields absent (or null, or empty) in what the agent reads"
    order = 110
    doc_params = "`fields`, `as: absent\\|null\\|empty`, `record`"
    doc_sees = "fields missing from what it reads"
    params = ("fields", "as", "record")
    required = (("fields", "fields: [email], the fields that are missing"),)
    schemas = MappingProxyType(
        {
            "fields": {
                "type": "array",
                "items": {
                    "type": "string",
                    "minLength": 1,
                    "description": "a field name",
                },
                "minItems": 1,
                "description": "missing_data: the fields that are missing",
            },
            "as": {
                "type": ["string", "null"],
                "title": "missing-data form",
                "enum": ["absent", "null", "empty", None],
                "description": "missing_data only: how a field is missing: absent"
                " (default), null, or empty (an empty string or list)",
            },
        }
    )
    generic = False
    changes_answer = True

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("as", "absent")
        if params["as"] is None:  # YAML reads an unquoted `as: null` as null
            params["as"] = "null"

    def respond(self, fault: FaultSpec, answer: Answer) -> None:
        if "record" in fault.params:
            for record in _nested(answer.body, str(fault.params["record"])):
                _missing(record, fault.params)
            return
        for record in answer.records:
            if isinstance(record, dict):
                _missing(record, fault.params)


def _nested(value: Any, ident: str) -> list[dict[str, Any]]:
    """Every object in ``value``, at any depth, whose ``id`` is ``ident``."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        if value.get("id") == ident:
            found.append(value)
        for item in value.values():
            found.extend(_nested(item, ident))
    elif isinstance(value, list):
        for item in value:
            found.extend(_nested(item, ident))
    return found


def _missing(record: dict[str, Any], params: Mapping[str, Any]) -> None:
    how = params.get("as", "absent")
    for name in params["fields"]:
        if name not in record:
            continue
        if how == "absent":
            del record[name]
        elif how == "null":
            record[name] = None
        else:
            record[name] = [] if isinstance(record[name], list) else ""
