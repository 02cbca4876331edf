"""One run's record: the JSON line a session appends to ``results.jsonl``.

Records are what travels from an xdist worker to the controller (on the test
report), what the summary, the baseline and the history store are computed from,
and what ``aqe report`` reads back. They hold no wall-clock time, so the same
scenario + agent + seed gives the same record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.modes.sim import RunResult

RECORD_VERSION = 1


def run_record(
    result: RunResult,
    *,
    nodeid: str,
    path: str,
    agent: str,
    seed_index: int,
    trace: str,
    mode: str = "sim",
) -> dict[str, Any]:
    """The record of ``result`` (see the module docstring)."""
    scenario = result.scenario
    thresholds = scenario.thresholds
    return {
        "record_version": RECORD_VERSION,
        "nodeid": nodeid,
        "scenario": scenario.name,
        "path": path,
        "seed": result.seed,
        "seed_index": seed_index,
        "agent": agent,
        "mode": mode,
        "passed": result.passed,
        "failed": list(result.failed_oracles),
        # None: the oracle had nothing to judge in this run
        "scores": {
            s.oracle: None if s.passed and s.value is None else s.passed
            for s in result.scores
        },
        "values": {s.oracle: s.value for s in result.scores},
        "severity": {s.oracle: str(s.severity) for s in result.scores},
        "faults": [dict(f) for f in result.fault_coverage],
        "escalation": {
            k: result.score("escalation").details.get(k) for k in ("expected", "actual")
        },
        "thresholds": thresholds.to_json() if thresholds is not None else None,
        "tool_calls": result.world.history.calls,
        "simulated_seconds": round(result.world.clock.now, 6),
        "trace": trace,
    }
