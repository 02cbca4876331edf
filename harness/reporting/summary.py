"""The session summary: a table in the terminal and ``summary.json`` on disk."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import pytest

from harness._version import __version__
from harness.reporting.trace import write_atomic

SUMMARY_VERSION = 1


def summarize(
    records: Sequence[dict[str, Any]], config: pytest.Config, terminal: Any
) -> None:
    """Print the scenario-by-oracle table and write ``<report dir>/summary.json``."""
    from harness.scenario.collect import report_dir

    ordered = sorted(
        records, key=lambda r: (r["path"], r["scenario"], r.get("seed_index", 0))
    )
    scenarios = per_scenario(ordered)
    oracles: list[str] = []
    for record in ordered:
        oracles.extend(o for o in record["scores"] if o not in oracles)
    passed = sum(r["passed"] for r in ordered)
    repeated = any(s["runs"] > 1 for s in scenarios)
    terminal.write_sep("=", "aqe scenario summary")
    width = max(len(s["scenario"]) for s in scenarios)
    head = f"{'scenario':<{width}}  verdict  "
    if repeated:
        head += "runs  pass^k  "
    terminal.write_line(head + "  ".join(oracles))
    for row in scenarios:
        runs = [r for r in ordered if (r["path"], r["scenario"]) == row["key"]]
        cells = "  ".join(
            _cells([r["scores"].get(o) for r in runs]).center(len(o)) for o in oracles
        )
        verdict = "pass" if row["passed"] == row["runs"] else "FAIL"
        line = f"{row['scenario']:<{width}}  {verdict:<7}  "
        if repeated:
            hat = row["pass_hat_k"][str(row["runs"])]
            line += f"{row['passed']}/{row['runs']:<2}  {hat:<6.2f}  "
        terminal.write_line(line + cells)
    _fault_coverage(ordered, terminal)
    escalation = _escalation(ordered, terminal)
    out = report_dir(config)
    summary = {
        "summary_version": SUMMARY_VERSION,
        "harness": __version__,
        "runs": len(ordered),
        "passed": passed,
        "failed": len(ordered) - passed,
        "escalation": escalation,
        "scenarios": [{k: v for k, v in s.items() if k != "key"} for s in scenarios],
        "results": ordered,
    }
    path = out / "summary.json"
    write_atomic(path, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
    terminal.write_line(
        f"{passed}/{len(ordered)} scenario runs passed; "
        f"summary: {path}; traces: {out / 'traces'}"
    )


def per_scenario(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per scenario: runs, passes, pass rate, and pass@k and pass^k for k = 1..n.

    pass^k is tau-bench's: the chance that k runs drawn from the n made all pass,
    C(c, k) / C(n, k) with c passes; pass@k the chance that at least one does.
    """
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault((record["path"], record["scenario"]), []).append(record)
    out = []
    for key, runs in groups.items():
        n, c = len(runs), sum(r["passed"] for r in runs)
        out.append(
            {
                "key": key,
                "path": key[0],
                "scenario": key[1],
                "runs": n,
                "passed": c,
                "pass_rate": c / n,
                "pass_at_k": {
                    str(k): 1 - math.comb(n - c, k) / math.comb(n, k)
                    for k in range(1, n + 1)
                },
                "pass_hat_k": {
                    str(k): math.comb(c, k) / math.comb(n, k) for k in range(1, n + 1)
                },
            }
        )
    return out


def _cells(values: Sequence[bool | None]) -> str:
    """One oracle across a scenario's runs: ok, FAIL, -, or passes/runs."""
    judged = [v for v in values if v is not None]
    if not judged:
        return "-"
    if all(judged):
        return "ok"
    if not any(judged):
        return "FAIL"
    return f"{sum(judged)}/{len(judged)}"


def _fault_coverage(records: Sequence[dict[str, Any]], terminal: Any) -> None:
    """One line of fault coverage, naming the faults that never fired."""
    faults = [(r, f) for r in records for f in r.get("faults", ())]
    if not faults:
        return
    fired = sum(f["fired"] > 0 for _, f in faults)
    line = f"fault coverage: {fired}/{len(faults)} faults fired"
    idle = [
        f"{r['scenario']}/{f['fault']} ({f['kind']}, matched {f['matched']} calls)"
        for r, f in faults
        if f["fired"] == 0
    ]
    if idle:
        line += "; never fired: " + ", ".join(idle)
    terminal.write_line(line)


def _escalation(
    records: Sequence[dict[str, Any]], terminal: Any
) -> dict[str, Any] | None:
    """Escalation decisions across the suite: confusion matrix, precision, recall."""
    from harness.oracles.escalation import confusion

    stats = confusion(r["escalation"] for r in records if r.get("escalation"))
    if not stats.matrix:
        return None
    cells = []
    for label in sorted(stats.precision):
        precision, recall = stats.precision[label], stats.recall[label]
        cells.append(f"{label} precision {_ratio(precision)} recall {_ratio(recall)}")
    terminal.write_line("escalation: " + "; ".join(cells))
    return stats.to_json()


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
