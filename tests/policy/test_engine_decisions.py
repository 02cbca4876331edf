"""The engine's decisions on calls: permissions the same on every call (and every
run with the pack), budgets exceeded named with what was used."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from fakes.payments.service import Payments
from harness.policy.engine import PolicyDecision, PolicyEngine
from harness.policy.loader import load_pack


def _op(name: str) -> Any:
    return next(op for op in Payments.operations if op.name == name)


def _engine(tmp_path: Path, text: str) -> PolicyEngine:
    path = tmp_path / "pack.yaml"
    path.write_text(text)
    return PolicyEngine(load_pack(path), cast("Any", None))


def _decisions(engine: PolicyEngine, op: Any, **params: Any) -> list[PolicyDecision]:
    checked = engine.check(op, params, params, now=7200.0, calls=3, ops=None)
    return [decision for decision, _ in checked]


def test_exceeded_budgets_say_what_was_used(tmp_path: Path) -> None:
    engine = _engine(
        tmp_path,
        "name: tight\nbudgets: {tool_calls: 2, retries: 0, cost: 1.5, duration: 1h}\n",
    )
    refund = _op("create_refund")
    _decisions(engine, refund, charge="ch_1", amount=100)

    second = _decisions(engine, refund, charge="ch_1", amount=100)

    assert [(d.rule, d.verdict, d.detail) for d in second] == [
        ("budget tool_calls 2", "exceeded", "call 3"),
        ("budget retries 0", "exceeded", "repeat 1 of create_refund"),
        ("budget cost 1.5", "exceeded", "cost 2"),
        ("budget duration 3600", "exceeded", "at 7200s"),
    ]


def test_permission_decisions_are_the_same_on_every_call_and_engine(
    tmp_path: Path,
) -> None:
    text = "name: reader\npermissions:\n  payments: {charges: [read]}\n"
    engine = _engine(tmp_path, text)
    read, refund = _op("retrieve_charge"), _op("create_refund")

    first = _decisions(engine, read, charge="ch_1") + _decisions(engine, refund)
    again = _decisions(engine, read, charge="ch_1") + _decisions(engine, refund)
    other = PolicyEngine(engine.pack, cast("Any", None))

    assert [d.to_json() for d in first] == [
        {
            "kind": "permission",
            "rule": "payments.charges: read",
            "verdict": "allowed",
            "approval": None,
        },
        {
            "kind": "permission",
            "rule": "payments.refunds: refund",
            "verdict": "denied",
            "approval": None,
            "detail": "no access",
        },
    ]
    assert again == first
    assert _decisions(other, read, charge="ch_1") == first[:1]
