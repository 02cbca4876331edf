"""Scenario checks a JSON Schema cannot express, with messages that name the fix.

Each check tolerates malformed data (the schema reports that), so a file's schema
and semantic problems are reported together.
"""

from __future__ import annotations

import re
import string
from collections.abc import Generator, Iterator, Mapping
from dataclasses import replace
from typing import Any

from jsonschema import Draft202012Validator

from harness.faults.kind import Kind, Target
from harness.faults.registry import kind_of, registry
from harness.models.providers import PROVIDERS
from harness.policy._checks import catalog as services_by_name
from harness.policy._checks import pack_problems
from harness.scenario.refs import REF, find_refs
from harness.source.problems import (
    JsonPath,
    Problem,
    article,
    choices_fix,
    json_path,
    plural,
    schema_problems,
)

_OUTCOME_FORMS = (
    "count records with 'count: <collection>' (and optional 'where'), or read"
    " one record's field with 'record: <collection>', 'id' and 'field'"
)


def semantic_problems(data: Any) -> list[Problem]:
    """Problems with faults, outcomes, references, placeholders and services."""
    if not isinstance(data, dict):
        return []
    return [
        *_fault_problems(data),
        *_outcome_problems(data),
        *_reference_problems(data),
        *_placeholder_problems(data),
        *_service_problems(data),
        *_threshold_problems(data),
        *_canary_problems(data),
        *_shadow_problems(data),
        *_model_problems(data),
    ]


def _model_problems(data: dict[str, Any]) -> Iterator[Problem]:
    """A model is a script or turns, not both; a turn is one kind of answer."""
    model = _dict(data.get("model"))
    if "script" in model and "turns" in model:
        yield Problem(
            path=("model",),
            key="turns",
            message="a model is a script or turns, not both",
            fix="keep script: MODULE:CALLABLE, or the turns written as data",
        )
    for index, turn in enumerate(_list(model.get("turns"))):
        kinds = [
            k for k in ("text", "tool_call", "tool_calls", "body") if k in _dict(turn)
        ]
        if len(kinds) > 1 and kinds != ["text", "tool_calls"]:
            yield Problem(
                path=("model", "turns", index),
                key=kinds[1],
                message=f"a turn is one answer: {' or '.join(kinds)}, not both",
                fix="split it into turns, one per model call (text may go with"
                " tool_calls)",
            )


def _canary_problems(data: dict[str, Any]) -> Iterator[Problem]:
    vary = _dict(_dict(data.get("canary")).get("vary"))
    inputs = _dict(_dict(data.get("task")).get("input"))
    records = _dict(_dict(data.get("world")).get("records"))
    for path, spec in vary.items():
        where = ("canary", "vary", path)
        head, _, rest = str(path).partition(".")
        name = rest.partition(".")[0]
        if head == "input" and rest not in inputs:
            yield Problem(
                path=where,
                at_key=True,
                message=f"the task has no input {rest!r} to vary",
                fix=choices_fix(rest, sorted(inputs), "task inputs"),
            )
        elif head == "records" and name not in records:
            yield Problem(
                path=where,
                at_key=True,
                message=f"the world has no record {name!r} to vary",
                fix=choices_fix(name, sorted(records), "records"),
            )
        low, high = _dict(spec).get("min"), _dict(spec).get("max")
        if (
            isinstance(low, int | float)
            and isinstance(high, int | float)
            and low > high
        ):
            yield Problem(
                path=where,
                message=f"min {low} is more than max {high}",
                fix="swap them: min is the smallest value a case may draw",
            )


def _threshold_problems(data: dict[str, Any]) -> Iterator[Problem]:
    hat = _dict(_dict(data.get("thresholds")).get("pass_hat_k"))
    k, seeds = hat.get("k"), data.get("seeds", 1)
    if isinstance(k, int) and isinstance(seeds, int) and k > max(seeds, 1):
        yield Problem(
            path=("thresholds", "pass_hat_k", "k"),
            message=f"pass^{k} needs {k} runs, but the scenario makes {seeds}",
            fix=f"set seeds: {k} or more, or lower k to {seeds} or less",
        )


def _shadow_problems(data: dict[str, Any]) -> Iterator[Problem]:
    """A reference decision escalates exactly when its outcome says so, and
    names write operations."""
    from fakes.ops import REASONS

    reference = _dict(_dict(data.get("shadow")).get("reference"))
    outcome, reason = reference.get("outcome"), reference.get("escalation")
    path: JsonPath = ("shadow", "reference")
    if outcome == "escalated" and reason in (None, "none"):
        yield Problem(
            path=path,
            key="outcome",
            message="an escalated reference names no escalation reason",
            fix="add escalation: <reason code> (the reason the reference escalates"
            " with)",
        )
    elif outcome in ("done", "failed") and reason in REASONS:
        yield Problem(
            path=path,
            key="escalation",
            message=f"a reference that ends {outcome} does not escalate ({reason!r})",
            fix="set outcome: escalated, or escalation: none",
        )
    operations = [op for s in services_by_name().values() for op in s.operations]
    writes = sorted({op.name for op in operations if op.write} - {"escalate"})
    reads = {op.name for op in operations if not op.write}
    for item_path, item in _items(data, "shadow", "reference", "actions"):
        name = item.get("operation")
        if name == "escalate":
            yield Problem(
                path=(*item_path, "operation"),
                message="an escalation is not an action of the reference",
                fix="remove it, and write escalation: <reason code> beside outcome",
            )
        elif name in reads:
            yield Problem(
                path=(*item_path, "operation"),
                message=f"{name!r} only reads; a reference action is a write",
                fix="remove it: decisions compare writes (a read leaves no effect)",
            )
        elif isinstance(name, str) and name not in writes:
            yield Problem(
                path=(*item_path, "operation"),
                message=f"unknown write operation {name!r}",
                fix=choices_fix(name, writes, "operations"),
            )


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _items(
    data: dict[str, Any], *keys: str
) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """``(path, mapping)`` for each mapping in the list at ``data[keys...]``."""
    parent: Any = data
    for key in keys:
        parent = _dict(parent).get(key)
    for index, item in enumerate(_list(parent)):
        if isinstance(item, dict):
            yield (*keys, index), item


# -- faults -----------------------------------------------------------------------


def _fault_problems(data: dict[str, Any]) -> Iterator[Problem]:
    seen: dict[str, JsonPath] = {}
    for path, fault in _items(data, "faults"):
        fault_id = fault.get("id")
        if isinstance(fault_id, str) and fault_id in seen:
            yield Problem(
                path=(*path, "id"),
                message=f"duplicate fault id {fault_id!r}",
                fix=f"give each fault its own id; {fault_id!r} is already the id"
                f" of {json_path(seen[fault_id])}",
            )
        elif isinstance(fault_id, str):
            seen[fault_id] = path
        kinds = registry()
        if isinstance(fault.get("kind"), str) and fault["kind"] in kinds:
            yield from _fault_params(path, fault, kinds[fault["kind"]])


def _fault_params(
    path: JsonPath, fault: dict[str, Any], info: Kind
) -> Iterator[Problem]:
    kind = info.name
    allowed = info.params
    every = registry().param_schemas()
    for key in fault:
        if key in every and key not in allowed:
            yield Problem(
                path=path,
                key=key,
                message=f"{key!r} is not a parameter of {kind} faults",
                fix=f"remove it; {kind} faults take: "
                f"{', '.join(allowed) or 'no parameters'}",
            )
    if info.target is not Target.CALL:
        acts_on = (
            "the world as it is built"
            if info.target is Target.WORLD
            else "the task's delivery"
        )
        for key in ("match", "when"):
            if key in fault:
                yield Problem(
                    path=path,
                    key=key,
                    message=f"{kind} faults act on {acts_on}, not on tool calls;"
                    f" they take no {key!r}",
                    fix=f"remove {key!r}",
                )
    for required, example in info.required:
        if required not in fault:
            yield Problem(
                path=path,
                message=f"missing required key {required!r}"
                f" for {article(kind)} {kind} fault",
                fix=f"add {example}",
            )
    for issue in info.check(fault):
        yield Problem(
            path=(*path, *issue.path),
            key=issue.key,
            message=issue.message,
            fix=issue.fix,
        )


# -- expectations ---------------------------------------------------------------------


def _outcome_problems(data: dict[str, Any]) -> Iterator[Problem]:
    for path, item in _items(data, "expect", "outcome"):
        if "count" in item and "record" in item:
            yield Problem(
                path=path,
                key="record",
                message="'count' and 'record' cannot be combined",
                fix=_OUTCOME_FORMS,
            )
        elif "record" in item:
            yield from _misplaced(path, item, ("count", "where"), "field")
            for key in ("id", "field"):
                if key not in item:
                    yield Problem(
                        path=path,
                        message=f"missing required key {key!r} (field form)",
                        fix=f"add {key!r}, or {_OUTCOME_FORMS}",
                    )
        elif "count" in item:
            yield from _misplaced(path, item, ("id", "field"), "count")
        else:
            yield Problem(
                path=path, message="missing 'count' or 'record'", fix=_OUTCOME_FORMS
            )
        if not {"equals", "at_least", "at_most"} & item.keys():
            yield Problem(
                path=path,
                message="missing a comparison: 'equals', 'at_least' or 'at_most'",
                fix="add what the count or field must be (e.g. equals: 1)",
            )
        yield from _bounds(path, item, "at_least", "at_most")
    for path, item in _idempotency_items(data):
        yield from _bounds(path, item, "min_effects", "max_effects")


def _misplaced(
    path: JsonPath, item: dict[str, Any], keys: tuple[str, ...], form: str
) -> Iterator[Problem]:
    for key in keys:
        if key in item:
            yield Problem(
                path=path,
                key=key,
                message=f"{key!r} does not apply to the {form} form",
                fix=f"remove {key!r}; {_OUTCOME_FORMS}",
            )


def _bounds(
    path: JsonPath, item: dict[str, Any], low: str, high: str
) -> Iterator[Problem]:
    lower, upper = item.get(low), item.get(high)
    if isinstance(lower, int) and isinstance(upper, int) and lower > upper:
        yield Problem(
            path=path,
            key=low,
            message=f"{low} ({lower}) is greater than {high} ({upper})",
            fix=f"make {low} no greater than {high}",
        )


def _idempotency_items(
    data: dict[str, Any],
) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    value = _dict(data.get("expect")).get("idempotency")
    if isinstance(value, dict):
        yield ("expect", "idempotency"), value
    else:
        yield from _items(data, "expect", "idempotency")


# -- references and placeholders ------------------------------------------------


def _strings(value: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _reference_problems(data: dict[str, Any]) -> Iterator[Problem]:
    records = _dict(_dict(data.get("world")).get("records"))
    names = list(records)
    for index, (name, record) in enumerate(records.items()):
        for path, text in _strings(record, ("world", "records", name)):
            for ref_name, ref_field in find_refs(text):
                ref = f"${ref_name}.{ref_field}"
                if ref_name in names[:index]:
                    continue
                if ref_name == name:
                    yield Problem(
                        path=path,
                        message=f"record {name!r} references itself ({ref!r})",
                        fix="write the value: a record cannot read its own fields",
                    )
                elif ref_name in names:
                    yield Problem(
                        path=path,
                        message=f"record {name!r} references {ref!r} before"
                        f" {ref_name!r} is defined",
                        fix=f"move {ref_name!r} above {name!r} in world.records:"
                        " a record may only reference records defined before it",
                    )
                else:
                    yield _unknown_record(path, ref_name, ref, names)
    for section in ("task", "faults", "expect", "shadow"):
        for path, text in _strings(data.get(section), (section,)):
            for ref_name, ref_field in find_refs(text):
                if ref_name not in names:
                    ref = f"${ref_name}.{ref_field}"
                    yield _unknown_record(path, ref_name, ref, names)


def _unknown_record(path: JsonPath, name: str, ref: str, names: list[str]) -> Problem:
    fix = (
        choices_fix(name, names, "records")
        if names
        else f"define {name!r} under world.records (no records are defined)"
    )
    return Problem(path=path, message=f"unknown record {name!r} in {ref!r}", fix=fix)


def _placeholder_problems(data: dict[str, Any]) -> Iterator[Problem]:
    task = _dict(data.get("task"))
    instructions, inputs = task.get("instructions"), task.get("input")
    if not isinstance(instructions, str) or not isinstance(inputs, dict):
        return
    path: JsonPath = ("task", "instructions")
    try:
        fields = [
            f for _, f, _, _ in string.Formatter().parse(instructions) if f is not None
        ]
    except ValueError as err:
        yield Problem(
            path=path,
            message=f"invalid placeholder syntax: {err}",
            fix="write {key} for a task.input value and {{ or }} for a literal brace",
        )
        return
    for placeholder in fields:
        key = re.split(r"[.\[!:]", placeholder, maxsplit=1)[0]
        if not key:
            yield Problem(
                path=path,
                message="empty placeholder {}",
                fix="name a task.input key inside the braces (e.g. {amount})",
            )
        elif key not in inputs:
            yield Problem(
                path=path,
                message=f"placeholder {{{key}}} is not a key of task.input",
                fix=choices_fix(key, [str(k) for k in inputs], "input keys"),
            )


# -- services -------------------------------------------------------------------


def _service_problems(data: dict[str, Any]) -> Iterator[Problem]:
    catalog = services_by_name()
    records = _dict(_dict(data.get("world")).get("records"))
    for name, record in records.items():
        if isinstance(record, dict):
            path: JsonPath = ("world", "records", name)
            service = yield from _service(catalog, path, record.get("service"))
            yield from _member(
                path, record, "kind", service, "record_kinds", "record kind"
            )
            yield from _record_field_problems(path, record, service)
    # faults also match model calls (answered when a run has a model)
    callable_services = {**catalog, **{str(p.name): p for p in PROVIDERS}}
    for path, fault in _items(data, "faults"):
        match = _dict(fault.get("match"))
        service = yield from _service(
            callable_services, (*path, "match"), match.get("service")
        )
        tool = match.get("tool")
        if service is not None and service.name in _MODEL_NAMES:
            yield from _model_fault_problems(path, fault)
        services = (
            [service] if service is not None else list(callable_services.values())
        )
        tools = [op.name for s in services for op in s.operations]
        if isinstance(tool, str) and tool not in tools:
            yield Problem(
                path=(*path, "match", "tool"),
                message=f"unknown tool {tool!r}"
                + (f" for service {service.name!r}" if service is not None else ""),
                fix=choices_fix(tool, tools, "tools"),
            )
    for path, item in _items(data, "expect", "outcome"):
        service = yield from _service(catalog, path, item.get("service"))
        for key in ("count", "record"):
            yield from _member(path, item, key, service, "collections", "collection")
    yield from pack_problems(data.get("policy"), ("policy",))
    yield from _expectation_names(catalog, _dict(data.get("expect")))


_MODEL_NAMES = frozenset(str(p.name) for p in PROVIDERS)


def _model_fault_problems(path: JsonPath, fault: dict[str, Any]) -> Iterator[Problem]:
    """A kind that rewrites a tool's data (drift, injected text, stale data)
    has nothing to act on in a model's answer: say which kinds do."""
    name = fault.get("kind")
    if not isinstance(name, str) or name not in registry().names():
        return
    if kind_of(name).on_models:
        return
    fits = sorted(n for n in registry().names() if kind_of(n).on_models)
    yield Problem(
        path=(*path, "kind"),
        message=f"{name} faults do not act on model calls",
        fix=f"on a model, use one of {', '.join(fits)}",
    )


def _expectation_names(
    catalog: Mapping[str, Any], expect: dict[str, Any]
) -> Iterator[Problem]:
    """Tools a trajectory names and collections ``changes`` names must exist."""
    tools = sorted(op.name for s in catalog.values() for op in s.operations)
    trajectory = _dict(expect.get("trajectory"))
    for key in ("uses", "avoids", "order"):
        for index, tool in enumerate(_list(trajectory.get(key))):
            if isinstance(tool, str) and tool not in tools:
                yield Problem(
                    path=("expect", "trajectory", key, index),
                    message=f"unknown tool {tool!r}",
                    fix=choices_fix(tool, tools, "tools"),
                )
    for tool in _dict(trajectory.get("args")):
        if tool not in tools:
            yield Problem(
                path=("expect", "trajectory", "args"),
                key=tool,
                message=f"unknown tool {tool!r}",
                fix=choices_fix(tool, tools, "tools"),
            )
    for index, name in enumerate(_list(expect.get("changes"))):
        if not isinstance(name, str) or "." not in name:
            continue
        service_name, collection = name.split(".", 1)
        service = catalog.get(service_name)
        if service is None:
            yield Problem(
                path=("expect", "changes", index),
                message=f"unknown service {service_name!r}",
                fix=choices_fix(service_name, catalog, "services"),
            )
        elif collection not in service.collections:
            yield Problem(
                path=("expect", "changes", index),
                message=f"{service_name} has no collection {collection!r}",
                fix=choices_fix(collection, service.collections, "collections"),
            )


def _record_field_problems(
    path: JsonPath, record: dict[str, Any], service: Any
) -> Iterator[Problem]:
    """A record's fields as its service declares them (``record_fields``):
    known names, each of its type and, for a closed set, one of its values.

    A value that is a whole reference (``$charge.amount``) takes the type of
    what it names when the run builds the world, so it is not checked here.
    """
    kind = record.get("kind")
    if service is None or not isinstance(kind, str):
        return
    schema = service.record_fields.get(kind)
    if schema is None:
        return
    fields = {k: v for k, v in record.items() if k not in ("service", "kind")}
    names = list(schema.get("properties", {}))
    noun = f"{service.name} {kind}"
    for name in fields:
        if name not in names:
            yield Problem(
                path=path,
                key=name,
                message=f"unknown field {name!r} for {article(noun)} {noun}",
                fix=choices_fix(name, names, "fields"),
            )
    errors = [
        error
        for error in Draft202012Validator(schema).iter_errors(fields)
        if error.validator != "additionalProperties"
        and not (isinstance(error.instance, str) and REF.fullmatch(error.instance))
    ]
    enums = {tuple(e.absolute_path) for e in errors if e.validator == "enum"}
    for error in errors:
        if error.validator == "type" and tuple(error.absolute_path) in enums:
            continue  # the enum's problem names the valid values
        for problem in schema_problems(error):
            yield replace(problem, path=(*path, *(problem.path or ())))


def _service(
    catalog: Mapping[str, Any], path: JsonPath, name: Any
) -> Generator[Problem, None, Any]:
    """Yield a problem for an unknown service name; return the known service."""
    if not isinstance(name, str):
        return None
    if name not in catalog:
        yield Problem(
            path=(*path, "service"),
            message=f"unknown service {name!r}",
            fix=choices_fix(name, catalog, "services"),
        )
        return None
    return catalog[name]


def _member(
    path: JsonPath,
    item: dict[str, Any],
    key: str,
    service: Any,
    attribute: str,
    noun: str,
) -> Iterator[Problem]:
    value = item.get(key)
    if service is None or not isinstance(value, str):
        return
    choices = [str(c) for c in getattr(service, attribute)]
    if value not in choices:
        yield Problem(
            path=(*path, key),
            message=f"unknown {noun} {value!r} for service {service.name!r}",
            fix=choices_fix(value, choices, plural(noun)),
        )
