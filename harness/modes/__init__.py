"""Run modes: sim (shadow and canary build on it)."""

from __future__ import annotations

from harness.run import RunResult, run_scenario

__all__ = ["RunResult", "run_scenario"]
