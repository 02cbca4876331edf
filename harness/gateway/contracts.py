"""JSON Schema contracts of tool operations, compiled once into fast validators."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastjsonschema

from fakes.base import Operation
from harness.gateway.fastcheck import compile_check


@dataclass(frozen=True, slots=True, kw_only=True)
class Violation:
    """Why a request or response breaks its contract."""

    message: str
    rule: str
    param: str | None
    value: Any = None


Validator = Callable[[Any], Any]


class _Contract:
    """One schema, compiled twice: a fast accept-path and a precise explainer."""

    __slots__ = ("explain", "fast", "schema")

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.schema = schema
        self.explain: Validator = fastjsonschema.compile(dict(schema))
        self.fast = compile_check(schema)

    def check(self, value: Mapping[str, Any]) -> Violation | None:
        if self.fast is not None and self.fast(value):
            return None
        try:
            self.explain(value)
        except fastjsonschema.JsonSchemaValueException as exc:
            return _violation(exc, self.schema, value)
        return None


@cache
def _contracts(op: Operation) -> tuple[_Contract, _Contract]:
    return _Contract(op.request), _Contract(op.response)


def check_request(op: Operation, params: Mapping[str, Any]) -> Violation | None:
    """Why ``params`` break the operation's request contract, or None."""
    return _contracts(op)[0].check(params)


def check_response(op: Operation, body: Mapping[str, Any]) -> Violation | None:
    """Why ``body`` breaks the operation's response contract, or None."""
    return _contracts(op)[1].check(body)


def _violation(
    exc: fastjsonschema.JsonSchemaValueException,
    schema: Mapping[str, Any],
    value: Mapping[str, Any],
) -> Violation:
    rule = str(exc.rule or "invalid")
    path = [str(p) for p in (exc.path or ["data"])[1:]]
    param: str | None = ".".join(path) or None
    message = str(exc.message).replace("data.", "", 1).replace("data ", "request ", 1)
    if rule == "required" and isinstance(exc.value, Mapping):
        missing = [k for k in exc.rule_definition if k not in exc.value]
        param = ".".join([*path, missing[0]]) if missing else param
        message = f"missing required parameter {param!r}"
    elif rule == "additionalProperties" and isinstance(exc.value, Mapping):
        known = _properties_at(schema, path)
        extra = sorted(k for k in exc.value if k not in known)
        param = ".".join([*path, extra[0]]) if extra else param
        message = f"unknown parameter {param!r}"
    offending = exc.value if rule not in ("required", "additionalProperties") else None
    return Violation(message=message, rule=rule, param=param, value=offending)


def _properties_at(schema: Mapping[str, Any], path: list[str]) -> Mapping[str, Any]:
    node: Mapping[str, Any] = schema
    for part in path:
        node = node.get("properties", {}).get(part, {})
    props = node.get("properties", {})
    return props if isinstance(props, Mapping) else {}


def coerce(op: Operation, params: dict[str, Any]) -> dict[str, Any]:
    """Turn form/query strings into the contract's scalar types where they parse.

    Form-encoded bodies and query strings carry only strings; the contract says
    ``amount`` is an integer. Values that do not parse stay strings, so the contract
    check reports them the way a real API would.
    """
    props = op.request.get("properties", {})
    for key, value in params.items():
        if not isinstance(value, str):
            continue
        kind = props.get(key, {}).get("type")
        if kind == "integer":
            with contextlib.suppress(ValueError):
                params[key] = int(value)
        elif kind == "number":
            with contextlib.suppress(ValueError):
                params[key] = float(value)
        elif kind == "boolean" and value in ("true", "false"):
            params[key] = value == "true"
    return params
