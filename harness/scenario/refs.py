"""Record references in scenario values: ``$charge.id`` names a field of a record.

A scenario names the records it creates (``world.records``) and refers to their
fields anywhere a value is written. The loader checks that every reference names a
defined record; a run resolves them once the records exist.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from harness.errors import HarnessError

REF = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)")


def find_refs(value: Any) -> list[tuple[str, str]]:
    """Every ``(record, field)`` referenced in ``value``, in reading order."""
    if isinstance(value, str):
        return [(m.group(1), m.group(2)) for m in REF.finditer(value)]
    if isinstance(value, Mapping):
        return [ref for item in value.values() for ref in find_refs(item)]
    if isinstance(value, list | tuple):
        return [ref for item in value for ref in find_refs(item)]
    return []


def resolve_refs(value: Any, records: Mapping[str, Mapping[str, Any]]) -> Any:
    """``value`` with references replaced by the named records' field values.

    A string that is exactly one reference becomes the field's value with its type
    (``$charge.amount`` -> ``5000``); references inside longer strings are
    substituted as text. Containers are rebuilt with the same shape.
    """
    if isinstance(value, str):
        if "$" not in value:
            return value  # as it is (an enum member stays one)
        whole = REF.fullmatch(value)
        if whole is not None:
            return _lookup(whole.group(1), whole.group(2), records)
        return REF.sub(lambda m: str(_lookup(m.group(1), m.group(2), records)), value)
    if isinstance(value, Mapping):
        return {key: resolve_refs(item, records) for key, item in value.items()}
    if isinstance(value, tuple):
        return tuple(resolve_refs(item, records) for item in value)
    if isinstance(value, list):
        return [resolve_refs(item, records) for item in value]
    return value


def _lookup(name: str, field: str, records: Mapping[str, Mapping[str, Any]]) -> Any:
    ref = f"${name}.{field}"
    record = records.get(name)
    if record is None:
        raise HarnessError(
            f"reference {ref!r} names no record {name!r}"
            f"{_did_you_mean(name, records)}; known records: {_names(records)}"
        )
    if field not in record:
        raise HarnessError(
            f"reference {ref!r}: record {name!r} has no field {field!r}"
            f"{_did_you_mean(field, record)}; its fields: {_names(record)}"
        )
    return record[field]


def _did_you_mean(word: str, choices: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _names(choices: Mapping[str, Any]) -> str:
    return ", ".join(sorted(str(c) for c in choices)) or "none"
