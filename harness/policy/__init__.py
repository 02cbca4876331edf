"""Policy: the rules an agent acts under (approval rules so far)."""

from __future__ import annotations

from harness.policy.approvals import ApprovalPolicy, Condition, PolicyDecision

__all__ = ["ApprovalPolicy", "Condition", "PolicyDecision"]
