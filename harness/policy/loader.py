"""Policy pack files: YAML checked against ``schema/pack.schema.json``.

Errors read like the scenario loader's: ``file:line:col: json.path: what is
wrong`` and a ``fix:`` line, every problem of the file at once, in line order.

A pack is read once per process for each path and content: a library's
scenarios share a handful of packs, and a session loads every scenario.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from harness.policy._checks import pack_problems
from harness.policy.build import pack_from_data
from harness.policy.model import PolicyPack
from harness.source.problems import Problem, SourceMap, check_document, unreadable
from harness.source.yamlpos import YamlSyntaxError, read_yaml

SCHEMA_PATH = Path(__file__).parent / "schema" / "pack.schema.json"
#: How many (path, content) packs one process keeps; a library has a handful.
_CACHED_PACKS = 128


@functools.cache
def _validator() -> Draft202012Validator:
    """Built once per process; the schema's own validity is a test's job."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return Draft202012Validator(schema)


def _semantic(data: Any) -> list[Problem]:
    return list(pack_problems(data, ()))


def load_pack(path: Path | str) -> PolicyPack:
    """Read and validate the policy pack file at ``path``."""
    origin = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise unreadable(err, origin, "policy pack") from None
    return _parsed_pack(origin, text)


@functools.lru_cache(maxsize=_CACHED_PACKS)
def _parsed_pack(origin: str, text: str) -> PolicyPack:
    """The pack ``text`` read from ``origin``: keyed by both, so an edited file
    is read again and the same file under another name keeps its own name.
    Failures are not cached; each load of a broken pack reports it afresh."""
    try:
        document = read_yaml(text)
    except YamlSyntaxError as err:
        check_document(
            None, SourceMap(), origin, [err.problem], _validator(), _semantic
        )
        raise AssertionError("unreachable") from None  # pragma: no cover
    check_document(
        document.data,
        document.source_map,
        origin,
        list(document.problems),
        _validator(),
        _semantic,
    )
    return pack_from_data(document.data, Path(origin))


__all__ = ["SCHEMA_PATH", "load_pack"]
