"""Summaries (contract version 2) and trend frames for the report writer tests.

Built from run records the way the harness builds them: five scenarios, one run
five times with a regression against the baseline, one failing on policy, one whose
name holds markup, and an escalation and fault coverage across them.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd

from harness.reporting.summary import build_summary
from harness.reporting.summary import per_scenario as _per_scenario
from harness.run import DEFAULT_ORACLES

ORACLES = list(DEFAULT_ORACLES)
SCRIPT_NAME = "<script>alert('pwned')</script>"
RUN_ID = "20261201T081500Z-e1862da"


def record(
    scenario: str,
    seed_index: int = 0,
    *,
    failed: tuple[str, ...] = (),
    escalation: tuple[str | None, str] | None = None,
    faults: tuple[tuple[str, str, int], ...] = (),
    unjudged: tuple[str, ...] = ("escalation", "trajectory"),
) -> dict[str, Any]:
    """A run record: every oracle passed but ``failed``, ``unjudged`` had nothing."""
    scores: dict[str, bool | None] = {
        o: None if o in unjudged else o not in failed for o in ORACLES
    }
    if escalation is not None:
        scores["escalation"] = "escalation" not in failed
    seed = 1084519350 + 7919 * seed_index + len(scenario)
    return {
        "record_version": 1,
        "nodeid": f"scenarios/payments/{scenario}.yaml::{scenario}[seed={seed_index}]",
        "scenario": scenario,
        "path": f"scenarios/payments/{scenario}.yaml",
        "seed": seed,
        "seed_index": seed_index,
        "agent": "harness.agents.library:careful_agent",
        "mode": "sim",
        "passed": not failed,
        "failed": list(failed),
        "scores": scores,
        "values": {o: None if v is None else float(v) for o, v in scores.items()},
        "severity": dict.fromkeys(ORACLES, "block"),
        "faults": [
            {"fault": f, "kind": kind, "matched": 2, "fired": fired}
            for f, kind, fired in faults
        ],
        "escalation": None
        if escalation is None
        else {"expected": escalation[0], "actual": escalation[1]},
        "tool_calls": 4 + len(failed),
        "simulated_seconds": 12.5,
        "trace": f"traces/{scenario}.careful_agent.seed-{seed}.jsonl",
    }


def records() -> list[dict[str, Any]]:
    timeout = (("lost-response", "timeout", 1),)
    refund_ok = [
        record(
            "refund_ok",
            i,
            failed=("idempotency",) if i in (1, 2, 4) else (),
            faults=timeout,
        )
        for i in range(5)
    ]
    return [
        *refund_ok,
        record(
            "refund_ambiguous_timeout",
            escalation=("tool_failure", "tool_failure"),
            faults=(("timeout-1", "timeout", 1), ("outage-2", "http_5xx", 0)),
        ),
        record(
            "approval_limit",
            failed=("policy", "escalation"),
            escalation=("sensitive_request", "none"),
        ),
        record("refund_partial", escalation=("none", "none")),
        record(SCRIPT_NAME),
    ]


def per_scenario(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary's scenario rows, as the harness computes them."""
    return [{k: v for k, v in row.items() if k != "key"} for row in _per_scenario(runs)]


def comparison() -> dict[str, Any]:
    regressed = {
        "metric": "pass_rate",
        "base": 1.0,
        "cand": 0.4,
        "delta": -0.6,
        "n_base": 5,
        "n_cand": 5,
        "p_value": 0.038,
        "interval": [-0.92, -0.15],
        "status": "regressed",
        "rule": "pass_rate:0",
    }
    improved = {
        "metric": "tool_calls",
        "base": 6.0,
        "cand": 4.0,
        "delta": -2.0,
        "n_base": 1,
        "n_cand": 1,
        "p_value": None,
        "interval": None,
        "status": "improved",
        "rule": None,
    }
    unchanged = {**regressed, "base": 1.0, "cand": 1.0, "delta": 0.0}
    unchanged.update(
        n_base=1, n_cand=1, p_value=1.0, interval=[-0.79, 0.79], status="unchanged"
    )
    return {
        "baseline": {
            "path": "reports/baseline.json",
            "run_id": "20261130T220000Z-a1b2c3d",
            "git_sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
            "created": "2026-11-30T22:00:09Z",
        },
        "counts": {
            "regressed": 1,
            "improved": 1,
            "unchanged": 2,
            "new": 1,
            "missing": 0,
            "flaky": 0,
        },
        "scenarios": [
            {
                "scenario": "refund_ok",
                "status": "regressed",
                "metrics": [
                    regressed,
                    {**unchanged, "metric": "idempotency", "status": "unchanged"},
                ],
            },
            {
                "scenario": "refund_ambiguous_timeout",
                "status": "improved",
                "metrics": [unchanged, improved],
            },
            {"scenario": "approval_limit", "status": "unchanged", "metrics": []},
            {"scenario": "refund_partial", "status": "unchanged", "metrics": []},
            {"scenario": SCRIPT_NAME, "status": "new", "metrics": []},
        ],
        "regressions": [
            "refund_ok: pass_rate 1.00 -> 0.40 (-0.60, 95% CI [-0.92, -0.15], "
            "p=0.038, n=5/5)"
        ],
    }


def realistic_summary() -> dict[str, Any]:
    """A complete session that regressed against its baseline."""
    summary = build_summary(
        records(),
        run_id=RUN_ID,
        started="2026-12-01T08:15:00Z",
        finished="2026-12-01T08:15:09Z",
        git={
            "sha": "e1862da0c0ffee00112233445566778899aabbcc",
            "branch": "main",
            "dirty": False,
        },
        complete=True,
        incomplete_reason=None,
    )
    summary.update(
        harness="0.7.0",
        agent="harness.agents.library:careful_agent",
        verdict="regression",
        oracles=ORACLES,
        comparison=comparison(),
        gate={
            "rules": ["pass_rate:0"],
            "failed": [
                "refund_ok: pass_rate 1.00 -> 0.40 (-0.60, 95% CI [-0.92, -0.15], "
                "p=0.038, n=5/5)"
            ],
        },
    )
    return summary


def incomplete_summary() -> dict[str, Any]:
    """The same session cut short by a crashed worker."""
    summary = copy.deepcopy(realistic_summary())
    summary.update(
        complete=False,
        verdict="error",
        incomplete_reason=(
            "worker gw1 crashed while running "
            "scenarios/payments/refund_partial.yaml::refund_partial[seed=0]"
        ),
    )
    return summary


def many_scenarios_summary(count: int = 40) -> dict[str, Any]:
    """A large suite: one failing scenario among ``count``, no baseline."""
    runs = [record(f"scenario_{i:02d}") for i in range(count - 1)]
    runs.append(record("zz_broken", failed=("outcome",)))
    summary = realistic_summary()
    passed = sum(r["passed"] for r in runs)
    summary.update(
        verdict="fail",
        runs=len(runs),
        passed=passed,
        failed=len(runs) - passed,
        scenarios=per_scenario(runs),
        comparison=None,
        gate={"rules": [], "failed": []},
        results=runs,
    )
    return summary


def trend_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six past runs as the results store returns them: metrics and suite rows."""
    started = pd.date_range("2026-11-25T08:00:00Z", periods=6, freq="D", unit="us")
    run_ids = [f"2026112{5 + i}T080000Z-{i:07x}" for i in range(6)]
    names = [
        "refund_ok",
        "refund_ambiguous_timeout",
        "approval_limit",
        "refund_partial",
    ]
    rates = {
        "refund_ok": [1.0, 1.0, 1.0, 0.8, 1.0, 1.0],
        "refund_ambiguous_timeout": [0.0, 0.0, 1.0, 1.0, 1.0, 1.0],
        "approval_limit": [0.0] * 6,
        "refund_partial": [1.0] * 6,
    }
    rows = [
        {
            "run_id": run_id,
            "started": when,
            "git_sha": f"{i:07x}" + "0" * 33,
            "scenario": name,
            "metric": metric,
            "value": rates[name][i] if metric == "pass_rate" else 4.0,
            "n": 5 if name == "refund_ok" else 1,
        }
        for i, (run_id, when) in enumerate(zip(run_ids, started, strict=True))
        for name in names
        for metric in ("pass_rate", "tool_calls")
    ]
    suite = pd.DataFrame(
        {
            "run_id": run_ids,
            "started": started,
            "git_sha": [f"{i:07x}" + "0" * 33 for i in range(6)],
            "verdict": ["fail", "fail", "fail", "regression", "fail", "fail"],
            "complete": [True] * 6,
            "runs": [8] * 6,
            "passed": [6, 6, 7, 6, 7, 7],
            "regressions": pd.array([None, None, 0, 1, 0, 0], dtype="Int64"),
        }
    )
    suite["pass_rate"] = suite["passed"] / suite["runs"]
    return pd.DataFrame(rows), suite
