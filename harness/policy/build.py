"""Validated pack data (from a file or inline in a scenario) into a PolicyPack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.policy.model import (
    EVERY,
    ApprovalRule,
    Budgets,
    DataRule,
    Identity,
    Mode,
    PolicyPack,
)
from harness.source.durations import parse_duration


def pack_from_data(data: dict[str, Any], path: Path | None = None) -> PolicyPack:
    identity = data.get("identity", {})
    budgets = data.get("budgets", {})
    permissions = data.get("permissions")
    return PolicyPack(
        name=str(data.get("name", path.stem if path else "inline")),
        mode=Mode(data.get("mode", Mode.OBSERVE)),
        identity=Identity(
            agent=identity.get("agent"),
            owner=identity.get("owner"),
            scope=identity.get("scope"),
        ),
        permissions=None
        if permissions is None
        else {
            service: {
                resource: frozenset(verbs)
                for resource, verbs in (
                    grants.items() if isinstance(grants, dict) else [(EVERY, grants)]
                )
            }
            for service, grants in permissions.items()
        },
        approvals=tuple(
            ApprovalRule(action=rule["action"], when=rule.get("when"))
            for rule in data.get("approvals", ())
        ),
        stop=tuple(data.get("stop", ())),
        budgets=Budgets(
            tool_calls=budgets.get("tool_calls"),
            retries=budgets.get("retries"),
            cost=None if budgets.get("cost") is None else float(budgets["cost"]),
            duration=None
            if budgets.get("duration") is None
            else parse_duration(budgets["duration"]),
            model_tokens=budgets.get("model_tokens"),
            model_cost=None
            if budgets.get("model_cost") is None
            else float(budgets["model_cost"]),
        ),
        costs={k: float(v) for k, v in data.get("costs", {}).items()},
        data=tuple(
            DataRule(
                name=rule["name"],
                detect=rule.get("detect"),
                pattern=rule.get("pattern"),
                fields=tuple(rule.get("fields", ())),
            )
            for rule in data.get("data", ())
        ),
        severity=dict(data.get("severity", {})),
        path=path,
    )
