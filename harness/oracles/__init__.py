"""Oracles: turn history, ledger and final state into scores."""

from __future__ import annotations

from harness.oracles import (
    budget,
    escalation,
    idempotency,
    injection,
    leakage,
    outcome,
    policy,
    safe_failure,
    security,
    trajectory,
)
from harness.oracles.base import ORACLES, Evidence, Oracle, RunView, Score, oracle

__all__ = [
    "ORACLES",
    "Evidence",
    "Oracle",
    "RunView",
    "Score",
    "budget",
    "escalation",
    "idempotency",
    "injection",
    "leakage",
    "oracle",
    "outcome",
    "policy",
    "safe_failure",
    "security",
    "trajectory",
]
