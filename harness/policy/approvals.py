"""Approval rules: ``payments.refund`` needs approval when ``amount > 50000``.

This is the observe-only seam the full policy packs build on: the gateway asks
:meth:`ApprovalPolicy.check` before every call and records the decision in the
history; the ``policy`` oracle scores executed calls that lacked approval.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import ScenarioError
from harness.scenario.model import ApprovalRule

if TYPE_CHECKING:
    from fakes.base import Operation
    from fakes.ops import Ops

_CONDITION = re.compile(
    r"^\s*(?P<field>[A-Za-z_][A-Za-z0-9_.]*)\s*(?P<op>>=|<=|==|!=|>|<)\s*"
    r"(?P<value>-?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\")\s*$"
)
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


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
                f"cannot read approval condition {text!r}\n"
                "    fix: write '<param> <op> <value>', e.g. 'amount > 50000' "
                "(ops: > >= < <= == !=)"
            )
        raw = found["value"]
        value: Any = raw[1:-1] if raw[0] in "'\"" else float(raw)
        return cls(field=found["field"], op=found["op"], value=value)

    def holds(self, params: Mapping[str, Any]) -> bool:
        actual = params.get(self.field)
        if actual is None:
            return False
        if isinstance(self.value, float):
            try:
                actual = float(actual)
            except (TypeError, ValueError):
                return False
        return _OPERATORS[self.op](actual, self.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDecision:
    rule: str
    verdict: str  # "approved" | "missing_approval"
    approval: str | None

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "verdict": self.verdict, "approval": self.approval}


class ApprovalPolicy:
    """The scenario's approval rules, evaluated against each call."""

    __slots__ = ("_rules",)

    def __init__(self, rules: Iterable[ApprovalRule]) -> None:
        self._rules = [(r, Condition.parse(r.when) if r.when else None) for r in rules]

    @property
    def active(self) -> bool:
        """Whether any rule exists (the gateway skips the check when none does)."""
        return bool(self._rules)

    def check(
        self, op: Operation, params: Mapping[str, Any], ops: Ops | None
    ) -> list[tuple[PolicyDecision, dict[str, Any] | None]]:
        """Decisions for this call, each with the approval that covers it (if any)."""
        if not self._rules or op.action is None:
            return []
        out: list[tuple[PolicyDecision, dict[str, Any] | None]] = []
        for rule, condition in self._rules:
            if rule.action != op.action:
                continue
            if condition is not None and not condition.holds(params):
                continue
            label = f"{rule.action} when {rule.when}" if rule.when else rule.action
            keys = op.approval_params or tuple(params)
            approval = ops.matching_approval(op.action, params, keys) if ops else None
            out.append(
                (
                    PolicyDecision(
                        rule=label,
                        verdict="approved" if approval else "missing_approval",
                        approval=approval["id"] if approval else None,
                    ),
                    approval,
                )
            )
        return out
