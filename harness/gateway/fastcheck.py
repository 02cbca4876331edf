"""A fast accept-path for the JSON Schema subset the contracts use.

``compile_check(schema)`` returns a predicate that answers "valid?" in a few
microseconds, or ``None`` when the schema uses a keyword outside the subset. Callers
run the full validator only when the predicate says no (to explain why), so a
valid call never pays for a general-purpose validator. A property test holds this
predicate to ``jsonschema``'s verdicts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list, tuple),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}
_SUPPORTED = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "enum",
        "const",
        "items",
        "minimum",
        "maximum",
        "minLength",
        "minItems",
        "maxItems",
        "pattern",
        "anyOf",
        "description",
        "title",
    }
)


class _Unsupported(Exception):
    pass


def compile_check(schema: Mapping[str, Any]) -> Check | None:
    """A fast validity predicate for ``schema``, or None if it is out of the subset."""
    try:
        return _compile(schema)
    except _Unsupported:
        return None


def _type_check(kind: str | list[str]) -> Check:
    types = _simple_types({"type": kind})
    assert types is not None
    return lambda value: type(value) in types


def _compile(schema: Mapping[str, Any]) -> Check:
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise _Unsupported(unknown)
    checks: list[Check] = []
    type_check: Check | None = None
    if "type" in schema:
        type_check = _type_check(schema["type"])
        checks.append(type_check)
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: v == const and type(v) is type(const))
    if "enum" in schema:
        options = list(schema["enum"])
        checks.append(lambda v: any(v == o and type(v) is type(o) for o in options))
    if "anyOf" in schema:
        branches = [_compile(b) for b in schema["anyOf"]]
        checks.append(lambda v: any(b(v) for b in branches))
    _numeric(schema, checks)
    _string(schema, checks)
    _sized(schema, checks)
    if "items" in schema:
        item = _compile(schema["items"])
        checks.append(
            lambda v: not isinstance(v, list | tuple) or all(item(i) for i in v)
        )
    if {"properties", "required", "additionalProperties"} & set(schema):
        if checks and checks[0] is type_check and schema.get("type") == "object":
            checks[0] = _object_check(schema, strict=True)  # one call, not two
        else:
            checks.append(_object_check(schema))
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda v: first(v) and second(v)
    return lambda v: all(c(v) for c in checks)


def _numeric(schema: Mapping[str, Any], checks: list[Check]) -> None:
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None:
        checks.append(lambda v: type(v) not in (int, float) or v >= low)
    if high is not None:
        checks.append(lambda v: type(v) not in (int, float) or v <= high)


def _sized(schema: Mapping[str, Any], checks: list[Check]) -> None:
    low, high = schema.get("minItems"), schema.get("maxItems")
    if low is not None:
        checks.append(lambda v: not isinstance(v, list | tuple) or len(v) >= low)
    if high is not None:
        checks.append(lambda v: not isinstance(v, list | tuple) or len(v) <= high)


def _string(schema: Mapping[str, Any], checks: list[Check]) -> None:
    if "minLength" in schema:
        shortest = int(schema["minLength"])
        checks.append(lambda v: type(v) is not str or len(v) >= shortest)
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        checks.append(lambda v: type(v) is not str or pattern.search(v) is not None)


def _simple_types(schema: Mapping[str, Any]) -> frozenset[type] | None:
    """The exact Python types a ``{"type": ...}``-only schema admits, else None."""
    if set(schema) - {"type", "description", "title"} or "type" not in schema:
        return None
    kinds = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
    if any(k not in _TYPES for k in kinds):
        raise _Unsupported(kinds)
    # Conservative: exact types only (no 5.0 for an integer); a miss falls back
    # to the precise validator, so this never accepts what the schema rejects.
    return frozenset(
        t for k in kinds for t in _TYPES[k] if k != "number" or t is not bool
    )


def _simple_values(schema: Mapping[str, Any]) -> frozenset[Any] | None:
    """The admitted values of a ``const``/``enum`` of strings (and null), else None."""
    if set(schema) - {"type", "description", "title", "enum", "const"}:
        return None
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if values is None or not all(v is None or type(v) is str for v in values):
        return None
    if "type" in schema:
        types = _simple_types({"type": schema["type"]})
        if types is None or any(type(v) not in types for v in values):
            return None
    return frozenset(values)


def _object_check(schema: Mapping[str, Any], *, strict: bool = False) -> Check:
    """Properties, required keys and closedness; ``strict`` also demands a dict."""
    simple: list[tuple[str, frozenset[type]]] = []
    valued: list[tuple[str, frozenset[Any]]] = []
    complex_: list[tuple[str, Check]] = []
    for key, sub in schema.get("properties", {}).items():
        types = _simple_types(sub)
        values = None if types is not None else _simple_values(sub)
        if types is not None:
            simple.append((key, types))
        elif values is not None:
            valued.append((key, values))
        else:
            complex_.append((key, _compile(sub)))
    required = frozenset(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check: Check | None = _compile(extra) if isinstance(extra, Mapping) else None
    closed = extra is False
    known = frozenset(schema.get("properties", {}))
    simple_items, complex_items = tuple(simple), tuple(complex_)
    valued_items = tuple(valued)

    # Shapes (keys, and the type of each value) already seen to satisfy
    # required/closed and every type-only property: the fakes answer with the same
    # few record shapes over and over, so most checks end at one set lookup.
    good_shapes: set[tuple[tuple[str, ...], tuple[type, ...]]] = set()

    def check(value: Any) -> bool:
        if type(value) is not dict:
            return not strict  # else the type keyword judges non-objects
        get = value.get
        shape = (tuple(value), tuple(map(type, value.values())))
        if shape not in good_shapes:
            if required and not value.keys() >= required:
                return False
            if closed and not known.issuperset(value):
                return False
            for key, types in simple_items:
                item = get(key, _MISSING)
                if item is not _MISSING and type(item) not in types:
                    return False
            if len(good_shapes) < 512:
                good_shapes.add(shape)
        for key, values in valued_items:
            item = get(key, _MISSING)
            if item is not _MISSING and (
                (item is not None and type(item) is not str) or item not in values
            ):
                return False
        for key, prop in complex_items:
            item = get(key, _MISSING)
            if item is not _MISSING and not prop(item):
                return False
        if extra_check is not None:
            for key, item in value.items():
                if key not in known and not extra_check(item):
                    return False
        return True

    return check


_MISSING = object()
