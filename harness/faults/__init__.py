"""Fault injection: kinds, plans and their deterministic decisions."""

from __future__ import annotations

from harness.faults.plan import FaultPlan, matches

__all__ = ["FaultPlan", "matches"]
