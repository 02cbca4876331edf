"""The policy pack at the gateway: every call checked, every decision recorded.

For each call the engine decides, in order: is the verb allowed on this service
and resource (permissions); does the action need an approval, and is there an
approved, unused one for exactly these parameters (approvals); does the call stay
within the budgets (tool calls, repeats of one operation, cost, duration); does
an outbound message carry data that must not leave (data rules). In ``enforce``
mode the first violation refuses the call with a 403 in the service's own error
format; in ``observe`` mode it is only recorded. Calls to the humans in the loop
(escalations, approvals) are never refused: stopping must always be possible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fakes.base import fingerprint
from harness.policy.conditions import Condition
from harness.policy.model import Mode, PolicyPack

if TYPE_CHECKING:
    from fakes.base import Operation
    from fakes.ops import Ops
    from harness.policy.data import SensitiveValues
    from harness.world.world import World

#: Actions whose calls send data out of the company's hands.
OUTBOUND = frozenset({"notify.send", "tickets.comment"})
#: Services never refused: the agent can always escalate or ask a human.
ALWAYS_OPEN = frozenset({"ops"})
#: Verdicts that break the pack.
VIOLATIONS = frozenset({"denied", "missing_approval", "exceeded", "leak"})
_CODES = {
    "permission": "permission_denied",
    "approval": "approval_required",
    "budget": "budget_exceeded",
    "data": "data_rule_violation",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PolicyDecision:
    """One rule's verdict on one call."""

    kind: str  # permission | approval | budget | data
    rule: str
    verdict: str  # allowed | approved | denied | missing_approval | exceeded | leak
    approval: str | None = None
    detail: str | None = None

    @property
    def violation(self) -> bool:
        return self.verdict in VIOLATIONS

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "rule": self.rule,
            "verdict": self.verdict,
            "approval": self.approval,
        }
        if self.detail is not None:
            out["detail"] = self.detail
        return out

    def message(self, pack: str) -> str:
        """What a refused caller reads."""
        hint = {
            "permission": "this agent may not do that",
            "approval": "request_approval for exactly these parameters, wait until"
            " it is approved, then retry",
            "budget": "the run's budget is spent; stop and escalate",
            "data": "remove the protected data from the message",
        }[self.kind]
        detail = f" ({self.detail})" if self.detail else ""
        return f"Refused by policy pack {pack!r}: {self.rule}{detail}; {hint}."


Checked = list[tuple[PolicyDecision, dict[str, Any] | None]]


class PolicyEngine:
    """A pack's checks for one run (budgets count across its calls)."""

    __slots__ = (
        "_approvals",
        "_attempts",
        "_budgeted",
        "_cost",
        "_permissions",
        "_sensitive",
        "pack",
        "world",
    )

    def __init__(self, pack: PolicyPack, world: World) -> None:
        self.pack = pack
        self.world = world
        self._approvals = [
            (rule, Condition.parse(rule.when) if rule.when else None)
            for rule in pack.approvals
        ]
        self._attempts: dict[tuple[str, str], int] = {}
        #: Each operation's permission decision under this pack (frozen: the
        #: same every call, and every run with the pack).
        self._permissions = _decisions(pack)
        #: Whether the pack has a budget (fixed, as the pack is).
        self._budgeted = pack.budgets.any
        self._cost = 0.0
        self._sensitive: SensitiveValues | None = None

    @property
    def active(self) -> bool:
        """Whether the pack checks anything (the gateway skips it otherwise)."""
        pack = self.pack
        return bool(
            pack.permissions is not None
            or pack.approvals
            or pack.budgets.any
            or pack.data
        )

    @property
    def enforcing(self) -> bool:
        return self.pack.mode is Mode.ENFORCE

    def check(
        self,
        op: Operation,
        params: Mapping[str, Any],
        effective: Mapping[str, Any],
        *,
        now: float,
        calls: int,
        ops: Ops | None,
    ) -> Checked:
        """Every rule's decision on this call, with the approval covering it."""
        out: Checked = []
        if op.service not in ALWAYS_OPEN:
            out.extend((d, None) for d in self._permission(op))
            out.extend(self._approval(op, effective, ops))
        out.extend((d, None) for d in self._budget(op, params, now, calls))
        if self.pack.data and op.action in OUTBOUND:
            out.extend((d, None) for d in self._data(params))
        return out

    def refusal(self, op: Operation, checked: Checked) -> PolicyDecision | None:
        """The decision that refuses this call (enforce mode only), if any."""
        if not self.enforcing or op.service in ALWAYS_OPEN:
            return None
        return next((d for d, _ in checked if d.violation), None)

    def error_code(self, decision: PolicyDecision) -> str:
        return _CODES[decision.kind]

    # -- the four kinds of rule ------------------------------------------------
    def _permission(self, op: Operation) -> list[PolicyDecision]:
        pack = self.pack
        if pack.permissions is None:
            return []
        decision = self._permissions.get(op)
        if decision is None:  # once per operation and pack
            decision = self._permissions[op] = _permission(pack, op)
        return [decision]

    def _approval(
        self, op: Operation, params: Mapping[str, Any], ops: Ops | None
    ) -> Checked:
        if not self._approvals or op.action is None:
            return []
        out: Checked = []
        for rule, condition in self._approvals:
            if rule.action != op.action:
                continue
            if condition is not None and not condition.holds(
                params, lambda ref: self._lookup(op.service, ref)
            ):
                continue
            # what the approval binds: the declared parameters, else all but the
            # precondition (a re-read must not make an approval stale)
            keys = op.approval_params or tuple(k for k in params if k != "if_match")
            approval = ops.matching_approval(op.action, params, keys) if ops else None
            decision = PolicyDecision(
                kind="approval",
                rule=rule.label,
                verdict="approved" if approval else "missing_approval",
                approval=approval["id"] if approval else None,
            )
            out.append((decision, approval))
        return out

    def _lookup(self, service: str, ref: str) -> Mapping[str, Any] | None:
        """The record ``ref`` names: in the called service first (by id or name)."""
        found = self.world.services[service].lookup(ref)
        if found is not None:
            return found
        owner = self.world.owner_of(ref)
        return None if owner is None else owner[1]

    def _budget(
        self, op: Operation, params: Mapping[str, Any], now: float, calls: int
    ) -> list[PolicyDecision]:
        if not self._budgeted:
            return []
        budgets = self.pack.budgets
        out: list[PolicyDecision] = []
        self._cost += self.pack.cost_of(op.name, op.action)
        tries = 1
        if op.write:  # polling a read is not retrying an operation
            key = (op.name, fingerprint(dict(params)))
            tries = self._attempts[key] = self._attempts.get(key, 0) + 1
        over = (
            ("tool_calls", budgets.tool_calls, calls),
            ("retries", budgets.retries, tries - 1),
            ("cost", budgets.cost, self._cost),
            ("duration", budgets.duration, now),
        )
        for name, limit, used in over:
            if limit is not None and used > limit:
                out.append(
                    PolicyDecision(
                        kind="budget",
                        rule=f"budget {name} {limit:g}",
                        verdict="exceeded",
                        detail=_budget_detail(name, used, op),
                    )
                )
        return out

    def _data(self, params: Mapping[str, Any]) -> list[PolicyDecision]:
        from harness.policy.data import SensitiveValues, find_leaks

        if self._sensitive is None:
            self._sensitive = SensitiveValues(self.world)
        leaks = find_leaks(self.pack.data, params, self.world, values=self._sensitive)
        return [
            PolicyDecision(
                kind="data",
                rule=f"data {leak.rule}",
                verdict="leak",
                detail=f"{leak.kind} in {leak.where}: {leak.excerpt}",
            )
            for leak in leaks
        ]


def _budget_detail(name: str, used: float, op: Operation) -> str:
    """What an exceeded budget's decision says was used (made only when one is)."""
    if name == "tool_calls":
        return f"call {used}"
    if name == "retries":
        return f"repeat {used} of {op.name}"
    if name == "cost":
        return f"cost {used:g}"
    return f"at {used:g}s"


#: Permission decisions by pack (kept alive with them, so an id stays its own).
_DECISIONS: dict[int, tuple[PolicyPack, dict[Operation, PolicyDecision]]] = {}


def _decisions(pack: PolicyPack) -> dict[Operation, PolicyDecision]:
    """The permission decisions made under ``pack`` so far, by operation."""
    found = _DECISIONS.get(id(pack))
    if found is None or found[0] is not pack:
        if len(_DECISIONS) >= 256:
            _DECISIONS.clear()
        found = _DECISIONS[id(pack)] = (pack, {})
    return found[1]


def _permission(pack: PolicyPack, op: Operation) -> PolicyDecision:
    """The pack's permission decision on ``op`` (its service, resource, verb)."""
    resource, verb = op.resource, op.verb
    rule = f"{op.service}.{resource}: {verb}"
    if pack.allows(op.service, resource, verb):
        return PolicyDecision(kind="permission", rule=rule, verdict="allowed")
    grants = (pack.permissions or {}).get(op.service, {})
    allowed = grants.get(resource, grants.get("*", frozenset()))
    detail = f"allowed there: {', '.join(sorted(allowed))}" if allowed else "no access"
    return PolicyDecision(kind="permission", rule=rule, verdict="denied", detail=detail)


__all__ = ["OUTBOUND", "VIOLATIONS", "Checked", "PolicyDecision", "PolicyEngine"]
