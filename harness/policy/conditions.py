"""Conditions on a call's parameters: ``amount > 50000``, ``group.privileged == true``.

A condition is ``<field> <op> <literal>``. The field is a parameter, or
``param.field`` where the parameter names a record (an id): its field is read from
the world (``group.privileged`` reads the ``privileged`` field of the group the
call names). Literals are numbers, quoted strings, ``true``, ``false``, ``null``.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import ScenarioError

_CONDITION = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<value>-?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\"|true|false|null)\s*$"
)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
_WORDS: dict[str, Any] = {"true": True, "false": False, "null": None}

#: Looks a record up by id: the record, or None.
Lookup = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Condition:
    field: str
    op: str
    value: Any

    @classmethod
    def parse(cls, text: str) -> Condition:
        found = _CONDITION.match(text)
        if found is None:
            raise ScenarioError(
                f"cannot read condition {text!r}\n"
                "    fix: write '<param> <op> <value>', e.g. 'amount > 50000' "
                "(ops: > >= < <= == !=)"
            )
        raw = found["value"]
        value: Any
        if raw in _WORDS:
            value = _WORDS[raw]
        elif raw[0] in "'\"":
            value = raw[1:-1]
        else:
            value = float(raw)
        return cls(field=found["field"], op=found["op"], value=value)

    def holds(self, params: Mapping[str, Any], lookup: Lookup | None = None) -> bool:
        """Whether the condition holds for a call with ``params``."""
        actual = self._actual(params, lookup)
        if self.value is None or isinstance(self.value, bool):
            if self.op not in ("==", "!="):
                return False
            same = actual is self.value or actual == self.value
            return same if self.op == "==" else not same
        if actual is None:
            return False
        if isinstance(self.value, float):
            try:
                actual = float(actual)
            except (TypeError, ValueError):
                return False
        return _OPERATORS[self.op](actual, self.value)

    def _actual(self, params: Mapping[str, Any], lookup: Lookup | None) -> Any:
        if self.field in params or "." not in self.field:
            return params.get(self.field)
        name, _, rest = self.field.partition(".")
        ident = params.get(name)
        if not isinstance(ident, str) or lookup is None:
            return None
        record: Any = lookup(ident)
        for part in rest.split("."):
            if not isinstance(record, Mapping):
                return None
            record = record.get(part)
        return record


__all__ = ["Condition", "Lookup"]
