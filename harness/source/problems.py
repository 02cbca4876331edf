"""Scenario problems and how they read: ``file:line:col: json.path: what (value)``.

Every problem carries a fix line. Schema errors from ``jsonschema`` are translated
here into problems that name the key, the valid choices and a close match.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from harness.errors import ScenarioError
from harness.source.durations import ACCEPTED_FORMS, DURATION_PATTERN

JsonPath = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_NAMES = {"object": "mapping", "array": "list"}

#: Help for each ``pattern`` in the schema: (what the value is, how to write it).
PATTERN_HELP: Mapping[str, tuple[str, str]] = {
    r"^[a-z0-9][a-z0-9_\-]*$": (
        "name",
        "use lowercase letters, digits, '_' and '-', starting with a letter or digit"
        " (e.g. refund_ambiguous_timeout)",
    ),
    r"^[^\n]*\S[^\n]*$": (
        "rationale",
        "write one non-empty line: what the scenario tests and why it matters",
    ),
    r"^[a-z0-9_\-]+$": ("tag", "use lowercase letters, digits, '_' and '-'"),
    r"^(input\.[A-Za-z_][A-Za-z0-9_]*|records\.[A-Za-z_][A-Za-z0-9_]*"
    r"\.[A-Za-z_][A-Za-z0-9_]*)$": (
        "value to vary",
        "write input.<key> or records.<name>.<field> (e.g. input.amount,"
        " records.charge.amount)",
    ),
    r"^[a-z_][a-z0-9_]*$": (
        "record name",
        "use lowercase letters, digits and '_', not starting with a digit"
        " (e.g. charge, second_ticket)",
    ),
    r"^[a-z]+\.[a-z_]+$": (
        "action",
        "write service.action in lowercase (e.g. payments.refund)",
    ),
    r"^\s*[A-Za-z_][A-Za-z0-9_.]*\s*(>=|<=|==|!=|>|<)\s*"
    r"""(-?\d+(\.\d+)?|"[^"]*"|'[^']*'|true|false|null)\s*$""": (
        "condition",
        "write <field> <op> <literal> with op one of > >= < <= == != and the literal"
        " a number, a quoted string, true, false or null (e.g. amount > 50000,"
        " currency == 'usd', group.privileged == true)",
    ),
    r"^[a-z]+[.][a-z_]+$": (
        "collection name",
        "write service.collection (e.g. payments.refunds)",
    ),
    r"^[a-z]+\.[a-z_]+\.[a-z_]+$": (
        "field name",
        "write service.collection.field (e.g. payments.customers.email)",
    ),
    r"^/[^\s?#]*$": (
        "path",
        "write the request path starting with '/', without query string; use"
        " {param} for path parameters (e.g. /v1/refunds/{id})",
    ),
    r"^[A-Za-z_][A-Za-z0-9_]*$": (
        "tool name",
        "write the function-tool name as an identifier (e.g. create_refund)",
    ),
    r"^[A-Za-z_][A-Za-z0-9_.]*:[A-Za-z_][A-Za-z0-9_.]*$": (
        "scripted model",
        "write MODULE:CALLABLE (e.g. harness.agents.llm_refunds:careful_model)",
    ),
    DURATION_PATTERN: ("duration", f"write {ACCEPTED_FORMS}"),
}


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column in the scenario's source text."""

    line: int
    col: int


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceMap:
    """Where each value (and each mapping key) of a document was written."""

    values: Mapping[JsonPath, Position] = field(default_factory=dict)
    keys: Mapping[JsonPath, Position] = field(default_factory=dict)
    #: Document order of every path, so problems without lines still sort.
    order: Mapping[JsonPath, int] = field(default_factory=dict)

    @classmethod
    def of_data(cls, data: Any) -> SourceMap:
        """The document order of Python-authored data (no positions)."""
        order: dict[JsonPath, int] = {}

        def walk(value: Any, path: JsonPath) -> None:
            order[path] = len(order)
            if isinstance(value, Mapping):
                for key, item in value.items():
                    walk(item, (*path, str(key)))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(item, (*path, index))

        walk(data, ())
        return cls(order=order)

    def position(self, path: JsonPath, *, key: bool = False) -> Position | None:
        if key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path)

    def rank(self, path: JsonPath) -> int:
        while path not in self.order and path:
            path = path[:-1]
        return self.order.get(path, 0)


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with a scenario, and how to fix it."""

    path: JsonPath | None  # None: not tied to a value (a YAML syntax error)
    message: str
    fix: str
    #: The problem is about this key of the mapping at ``path``: point at the key.
    key: str | None = None
    #: Point at the key holding ``path`` (the line opening a mapping), if any.
    at_key: bool = False
    #: Where it is, when known without a path (YAML syntax errors).
    position: Position | None = None


def render_problems(
    problems: Iterable[Problem], *, origin: str, source_map: SourceMap
) -> tuple[str, ...]:
    """Each problem as ``origin[:line:col]: path: message`` plus its fix line."""
    located = []
    for index, problem in enumerate(problems):
        at = problem.position
        rank = 0
        if problem.path is not None:
            target = (
                problem.path if problem.key is None else (*problem.path, problem.key)
            )
            on_key = problem.key is not None or problem.at_key
            at = at or source_map.position(target, key=on_key)
            rank = source_map.rank(target)
        sort_key = (at.line, at.col) if at else (0, 0)
        located.append(((*sort_key, rank, index), _render(problem, origin, at)))
    rendered = [text for _, text in sorted(located)]
    return tuple(dict.fromkeys(rendered))


def _render(problem: Problem, origin: str, at: Position | None) -> str:
    parts = [f"{origin}:{at.line}:{at.col}" if at else origin]
    if problem.path is not None:
        parts.append(json_path(problem.path))
    parts.append(printable(problem.message))
    return ": ".join(parts) + f"\n    fix: {printable(problem.fix)}"


def printable(text: str) -> str:
    """``text`` with each character a terminal cannot show as itself (a line
    break, a control character, a lone surrogate) written as its escape, so a
    problem is two lines and can be printed whatever the file held."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def json_path(path: JsonPath) -> str:
    """``faults[0].match.path``; ``<root>`` for the document itself."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text or "<root>"


def short(value: Any, limit: int = 40) -> str:
    """``repr`` of a value, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def type_name(value: Any) -> str:
    names = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list | tuple):
        return "list"
    return names.get(type(value), type(value).__name__)


def choices_fix(word: object, choices: Iterable[str], label: str) -> str:
    """``did you mean 'timeout'? valid kinds: error, latency, timeout``."""
    valid = sorted(choices)
    shown = [c if c.isprintable() else repr(c) for c in valid]  # a line break, say
    listing = f"valid {label}: {', '.join(shown) or 'none'}"
    if isinstance(word, str):
        close = difflib.get_close_matches(word, valid, n=1)
        if close:
            return f"did you mean {close[0]!r}? {listing}"
    return listing


def plural(noun: str) -> str:
    """The last word of ``noun``, plural: ``fault kind`` -> ``kinds``,
    ``status`` -> ``statuses``."""
    last = noun.split()[-1]
    if last.endswith("y"):
        return last[:-1] + "ies"
    return last + "es" if last.endswith(("s", "x", "sh", "ch")) else last + "s"


# -- jsonschema errors -------------------------------------------------------------


def is_variant_rule(error: ValidationError) -> bool:
    """Whether ``error`` comes from a per-variant rule (``allOf``) of the schema.

    The loader checks those rules itself, with messages that name the variant.
    """
    return "allOf" in error.absolute_schema_path


def schema_problems(error: ValidationError) -> list[Problem]:
    """The problems one ``jsonschema`` error stands for."""
    path: JsonPath = tuple(error.absolute_path)
    instance: Any = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    value: Any = error.validator_value
    kind: Any = error.validator
    if kind in ("anyOf", "oneOf"):
        return _union_problems(error, path)
    if kind == "additionalProperties":
        allowed = list(schema.get("properties", {}))
        return [
            Problem(
                path=path,
                key=extra,
                message=f"unknown key {extra!r}",
                fix=choices_fix(extra, allowed, "keys"),
            )
            for extra in instance
            if extra not in allowed
        ]
    if kind == "required":
        return [_missing(path, name, schema) for name in value if name not in instance]
    if kind in ("enum", "const"):
        allowed = value if kind == "enum" else [value]
        choices = [str(c) for c in allowed if c is not None]  # null: left unsaid
        noun = str(schema.get("title") or _last_key(path))
        return [
            Problem(
                path=path,
                message=f"unknown {noun} {short(instance)}",
                fix=choices_fix(instance, choices, plural(noun)),
            )
        ]
    if kind == "type":
        return [_wrong_type(path, instance, _as_list(value), schema)]
    if kind == "pattern":
        return [_bad_pattern(error, path, str(value))]
    if kind == "uniqueItems":
        return [_duplicate_item(path, instance)]
    return [_bound_problem(path, kind, value, instance, schema, error.message)]


def _missing(path: JsonPath, name: str, schema: Mapping[str, Any]) -> Problem:
    description = schema.get("properties", {}).get(name, {}).get("description")
    fix = f"add {name!r}: {description}" if description else f"add {name!r}"
    return Problem(
        path=path, message=f"missing required key {name!r}", fix=fix, at_key=True
    )


def _wrong_type(
    path: JsonPath, instance: Any, expected: Sequence[str], schema: Mapping[str, Any]
) -> Problem:
    names = [_TYPE_NAMES.get(name, name) for name in expected]
    wanted = " or ".join(dict.fromkeys(names))
    description = schema.get("description")
    fix = f"write {article(wanted)} {wanted}"
    return Problem(
        path=path,
        message=f"expected {wanted}, got {type_name(instance)} ({short(instance)})",
        fix=f"{fix}: {description}" if description else fix,
    )


def _bad_pattern(error: ValidationError, path: JsonPath, pattern: str) -> Problem:
    noun, fix = PATTERN_HELP.get(pattern, ("value", f"match the pattern {pattern}"))
    message = f"invalid {noun} {short(error.instance)}"
    if "propertyNames" in error.absolute_schema_path:
        return Problem(path=path, key=str(error.instance), message=message, fix=fix)
    return Problem(path=path, message=message, fix=fix)


def _duplicate_item(path: JsonPath, items: Sequence[Any]) -> Problem:
    for index, item in enumerate(items):
        if item in items[:index]:
            return Problem(
                path=(*path, index),
                message=f"duplicate item {short(item)}",
                fix="list each item once",
            )
    return Problem(path=path, message="duplicate items", fix="list each item once")


def _bound_problem(
    path: JsonPath,
    kind: str | None,
    bound: Any,
    instance: Any,
    schema: Mapping[str, Any],
    fallback: str,
) -> Problem:
    words = {
        "minimum": "at least",
        "maximum": "at most",
        "exclusiveMinimum": "greater than",
        "exclusiveMaximum": "less than",
    }
    if kind in words:
        message = f"must be {words[kind]} {bound}, got {short(instance)}"
    elif kind in ("minLength", "minItems", "minProperties"):
        message = f"must not be empty ({short(instance)})"
    else:
        message = fallback
    description = schema.get("description")
    return Problem(
        path=path,
        message=message,
        fix=str(description) if description else "see the scenario schema",
    )


def _union_problems(error: ValidationError, path: JsonPath) -> list[Problem]:
    """For ``anyOf``: the errors of the branch the value's type fits, if any."""
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    depth = len(error.absolute_path)
    expected: list[str] = []
    fitting = []
    for errors in branches.values():
        type_errors = [
            e for e in errors if e.validator == "type" and len(e.absolute_path) == depth
        ]
        if type_errors:
            expected.extend(_as_list(type_errors[0].validator_value))
        else:
            fitting.append(errors)
    if fitting:
        best = min(fitting, key=len)
        return [problem for sub in best for problem in schema_problems(sub)]
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    return [_wrong_type(path, error.instance, expected, schema)]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def article(noun: str) -> str:
    """``a`` or ``an``, for the noun that follows."""
    return "an" if noun[:1] in "aeiou" else "a"


def _last_key(path: JsonPath) -> str:
    keys = [part for part in path if isinstance(part, str)]
    return keys[-1] if keys else "value"


def document_error(
    problems: list[Problem], origin: str, source_map: SourceMap
) -> ScenarioError:
    """One error naming every problem of a file, rendered in order."""
    rendered = render_problems(problems, origin=origin, source_map=source_map)
    return ScenarioError("\n".join(rendered), problems=rendered)


def unreadable(err: OSError | UnicodeDecodeError, origin: str, what: str) -> Exception:
    """The error for a ``what`` file that cannot be read."""
    reason = err.strerror or str(err) if isinstance(err, OSError) else "not UTF-8 text"
    problem = Problem(
        path=None,
        message=f"cannot read the {what} file ({reason})",
        fix="check the path, and that the file is UTF-8 YAML",
    )
    return document_error([problem], origin, SourceMap())


def check_document(
    data: Any,
    source_map: SourceMap,
    origin: str,
    problems: list[Problem],
    validator: Draft202012Validator,
    semantic: Callable[[Any], list[Problem]],
) -> None:
    """Raise a :class:`ScenarioError` naming every problem of ``data``, in order."""
    errors = list(validator.iter_errors(data))
    problems += [
        p for e in errors if not is_variant_rule(e) for p in schema_problems(e)
    ]
    checked = semantic(data)
    if not checked:
        # The schema's per-variant rules are checked again (with better messages)
        # in the semantic checks; should the two ever disagree, the schema speaks.
        checked = [p for e in errors if is_variant_rule(e) for p in schema_problems(e)]
    problems += checked
    if problems:
        raise document_error(problems, origin, source_map)
