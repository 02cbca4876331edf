"""One versioned reader per saved artefact: ``summary.json``, a baseline, a line of
``results.jsonl``, ``selection.json`` and a trace.

``aqe compare``, ``replay``, ``report`` and ``rescore`` read saved files only
through these. Each checks its version key and a small JSON Schema
(:mod:`harness.reporting.schemas`) of exactly the keys the commands read, with
their types; extra keys are fine (a newer writer may add some). A corrupt,
foreign or newer file is one :class:`HarnessError` naming the file, the JSON
path and what is wrong, then a fix line, never a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from harness.errors import HarnessError
from harness.reporting import schemas

if TYPE_CHECKING:
    from harness.reporting.baseline import Baseline
    from harness.reporting.selection import Selection
    from harness.run import RunRecord

#: Deeper JSON than this is not something aqe wrote (and would exhaust the stack).
MAX_DEPTH = 64

_SUMMARY_FIX = "regenerate it with aqe report RUN_DIR, or pass another run folder"
_RESULTS_FIX = "remove the line, or re-run the session"
_SELECTION_FIX = (
    "delete it to compare as a run that recorded no selection, or re-run the session"
)
_TRACE_FIX = "pass a trace written by aqe (one JSON object a line)"


@dataclass(frozen=True, slots=True, kw_only=True)
class _Kind:
    """One kind of artefact: what it is called, its version key and schema."""

    what: str
    version_key: str
    version: int
    schema: Mapping[str, Any]
    fix: str


def _summary_kind() -> _Kind:
    from harness.reporting.summary import SUMMARY_VERSION

    return _Kind(
        what="summary",
        version_key="summary_version",
        version=SUMMARY_VERSION,
        schema=schemas.SUMMARY,
        fix=_SUMMARY_FIX,
    )


def _record_kind() -> _Kind:
    from harness.run import RECORD_VERSION

    return _Kind(
        what="run record",
        version_key="record_version",
        version=RECORD_VERSION,
        schema=schemas.RECORD,
        fix=_RESULTS_FIX,
    )


def _selection_kind() -> _Kind:
    from harness.reporting.selection import SELECTION_VERSION

    return _Kind(
        what="selection",
        version_key="selection_version",
        version=SELECTION_VERSION,
        schema=schemas.SELECTION,
        fix=_SELECTION_FIX,
    )


def _trace_kind() -> _Kind:
    from harness.reporting.trace import TRACE_VERSION

    return _Kind(
        what="trace header",
        version_key="trace_version",
        version=TRACE_VERSION,
        schema=schemas.TRACE_HEADER,
        fix=_TRACE_FIX,
    )


# -- reading and parsing ---------------------------------------------------------------


def read_bytes(path: Path, what: str, fix: str) -> bytes:
    """The bytes of ``path``; a missing or unreadable file is a clear error."""
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise HarnessError(
            f"{path}: a directory, not the {what}\n    fix: {fix}"
        ) from None
    except FileNotFoundError:
        raise HarnessError(
            f"{path}: no such file (the {what})\n    fix: {fix}"
        ) from None
    except ValueError:  # a NUL byte in a path a saved file named
        raise HarnessError(f"{path}: not a file name\n    fix: {fix}") from None
    except OSError as err:
        raise HarnessError(
            f"{path}: cannot read the {what} ({err.strerror})\n    fix: {fix}"
        ) from None


def decode_text(data: bytes, where: str, fix: str) -> str:
    """``data`` as UTF-8; other bytes are an error naming the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise HarnessError(
            f"{where}: not UTF-8 text (byte {err.start})\n    fix: {fix}"
        ) from None


def parse_json(text: str, where: str, fix: str) -> Any:
    """One JSON value, with its nesting limited to :data:`MAX_DEPTH`."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        raise HarnessError(
            f"{where}:{err.lineno}:{err.colno}: not JSON: {err.msg}\n    fix: {fix}"
        ) from None
    except RecursionError:
        raise HarnessError(
            f"{where}: nested deeper than {MAX_DEPTH} levels\n    fix: {fix}"
        ) from None
    except ValueError as err:  # e.g. an integer over Python's digit limit
        raise HarnessError(
            f"{where}: not JSON aqe can read: {err}\n    fix: {fix}"
        ) from None
    if _depth(value) > MAX_DEPTH:
        raise HarnessError(
            f"{where}: nested deeper than {MAX_DEPTH} levels\n    fix: {fix}"
        )
    return value


def _depth(value: Any) -> int:
    """How deep ``value`` nests (iteratively: no recursion limit to hit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def check(document: Any, kind: _Kind, where: str) -> dict[str, Any]:
    """``document`` if it is an object of ``kind``'s version and schema."""
    if not isinstance(document, dict):
        raise HarnessError(
            f"{where}: the {kind.what} is {kind_of(document)}, not a JSON object\n"
            f"    fix: {kind.fix}"
        )
    _check_version(document, kind, where)
    problems = schema_problems(document, kind.schema)
    if problems:
        lines = "\n".join(f"{where}: {problem}" for problem in problems)
        raise HarnessError(f"{lines}\n    fix: {kind.fix}")
    return document


def _check_version(document: Mapping[str, Any], kind: _Kind, where: str) -> None:
    key, version = kind.version_key, kind.version
    reads = f"this harness reads {key} {version}"
    if key not in document:
        raise HarnessError(
            f"{where}: {key}: missing; not an aqe {kind.what}, or an old one ({reads})"
            f"\n    fix: {kind.fix}"
        )
    found = document[key]
    if type(found) is int and found == version:
        return
    if type(found) is int and found > version:
        raise HarnessError(
            f"{where}: {key}: {found} is newer than {reads}: a newer aqe-harness"
            " wrote it\n    fix: upgrade aqe-harness to read it"
        )
    raise HarnessError(
        f"{where}: {key}: {show(found)} is not one {reads}\n    fix: {kind.fix}"
    )


def schema_problems(document: Any, schema: Mapping[str, Any]) -> list[str]:
    """Every way ``document`` breaks ``schema``, as ``json.path: what``, in order."""
    validator = Draft202012Validator(schema)
    found = sorted(
        validator.iter_errors(document), key=lambda e: [str(p) for p in e.path]
    )
    return [_problem(error) for error in found]


def _problem(error: ValidationError) -> str:
    where = json_path(error.absolute_path)
    rule: Any = error.validator_value
    if error.validator == "required":
        missing = str(error.message).split("'")[1]
        return f"{json_path([*error.absolute_path, missing])}: missing"
    if error.validator == "type":
        names = [rule] if isinstance(rule, str) else list(rule)
        wanted = " or ".join(_TYPE_NAMES.get(n, n) for n in names)
        return f"{where}: expected {wanted}, got {show(error.instance)}"
    if error.validator == "enum":
        choices = ", ".join(str(c) for c in rule)
        return f"{where}: {show(error.instance)} is not one of {choices}"
    broken = f"{error.validator} {show(rule)}"
    return f"{where}: {show(error.instance)} breaks the schema's {broken}"


_TYPE_NAMES = {
    "object": "an object",
    "array": "an array",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def json_path(parts: Any) -> str:
    """``results[3].scores.policy`` for the parts ``results, 3, scores, policy``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(the document)"


def kind_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


# -- the readers -----------------------------------------------------------------------


def read_summary(path: Path) -> dict[str, Any]:
    """A ``summary.json``, checked: its version and every key the commands read."""
    kind = _summary_kind()
    text = decode_text(read_bytes(path, "summary", kind.fix), str(path), kind.fix)
    summary = check(parse_json(text, str(path), kind.fix), kind, str(path))
    record = _record_kind()
    for index, found in enumerate(summary["results"]):
        _check_version(found, record, f"{path}: results[{index}]")
    return summary


def read_selection(path: Path) -> Selection:
    """A ``selection.json``, checked: its version and its scenario names."""
    from harness.reporting.selection import Selection

    kind = _selection_kind()
    text = decode_text(read_bytes(path, "selection", kind.fix), str(path), kind.fix)
    return Selection.from_json(
        check(parse_json(text, str(path), kind.fix), kind, str(path))
    )


def is_summary(path: Path) -> bool:
    """Whether ``path`` looks like a summary (a JSON object with summary_version);
    it may still be a corrupt one, which :func:`read_summary` then reports."""
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and "summary_version" in data


def read_baseline(path: Path) -> Baseline:
    """A baseline file (its own reader checks version and shape)."""
    from harness.reporting.baseline import load_baseline

    return load_baseline(path)


def read_results(path: Path) -> Iterator[RunRecord]:
    """The records of a ``results.jsonl``; a torn last line (a session killed while
    writing it) is skipped, any other bad line is an error naming it."""
    fix = "pass a run folder (reports/runs/<id>) or its results.jsonl"
    text = decode_text(read_bytes(path, "results", fix), str(path), _RESULTS_FIX)
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = json.loads(line)
        except json.JSONDecodeError as err:
            if number == len(lines):
                return
            raise HarnessError(
                f"{where}: not a JSON record ({err.msg})\n    fix: {_RESULTS_FIX}"
            ) from None
        except (RecursionError, ValueError):
            value = parse_json(line, where, _RESULTS_FIX)  # raises, saying why
        yield check_record(value, where)


def check_record(value: Any, where: str) -> RunRecord:
    """``value`` if it is a run record (a clear error naming ``where`` if not)."""
    if _depth(value) > MAX_DEPTH:
        raise HarnessError(
            f"{where}: nested deeper than {MAX_DEPTH} levels\n    fix: {_RESULTS_FIX}"
        )
    return cast("RunRecord", check(value, _record_kind(), where))


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    """A trace file read back: its header, every line, and its bytes."""

    path: Path
    header: dict[str, Any]
    lines: tuple[dict[str, Any], ...]
    text: bytes

    @property
    def verdict(self) -> dict[str, Any]:
        return self.lines[-1]


def read_trace(path: Path) -> Trace:
    """A trace file: a header line, lines of known types, a verdict line."""
    fix = "pass a .jsonl file from a run folder's traces/"
    data = read_bytes(path, "trace", fix)
    text = decode_text(data, str(path), _TRACE_FIX)
    lines: list[dict[str, Any]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{path}:{number}"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as err:
            raise HarnessError(
                f"{where}: not a trace line ({err.msg})\n    fix: {_TRACE_FIX}"
            ) from None
        except (RecursionError, ValueError):
            value = parse_json(raw, where, _TRACE_FIX)  # raises, saying why
        if _depth(value) > MAX_DEPTH:
            parse_json(raw, where, _TRACE_FIX)
        if not isinstance(value, dict):
            raise HarnessError(
                f"{where}: the trace line is {kind_of(value)}, not a JSON object\n"
                f"    fix: {_TRACE_FIX}"
            )
        if not lines:
            if value.get("type") != "header":
                break
            check(value, _trace_kind(), where)
        else:
            problems = schema_problems(value, schemas.TRACE_LINE)
            if problems:
                shown = "\n".join(f"{where}: {p}" for p in problems)
                raise HarnessError(f"{shown}\n    fix: {_TRACE_FIX}")
        lines.append(value)
    if (
        len(lines) < 2
        or lines[0].get("type") != "header"
        or lines[-1]["type"] != "verdict"
    ):
        raise HarnessError(
            f"{path}: not a complete aqe trace (it must open with a header line and"
            " end with a verdict line)\n    fix: pass a trace written by aqe"
        )
    return Trace(path=path, header=lines[0], lines=tuple(lines), text=data)
