"""The session summary: a table in the terminal and ``summary.json`` on disk."""

from __future__ import annotations

import json
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

    ordered = sorted(records, key=lambda r: (r["path"], r["scenario"], r["seed"]))
    oracles: list[str] = []
    for record in ordered:
        oracles.extend(o for o in record["scores"] if o not in oracles)
    passed = sum(r["passed"] for r in ordered)
    terminal.write_sep("=", "aqe scenario summary")
    width = max(len(r["scenario"]) for r in ordered)
    terminal.write_line(f"{'scenario':<{width}}  verdict  " + "  ".join(oracles))
    for record in ordered:
        cells = "  ".join(
            _cell(record["scores"].get(o)).center(len(o)) for o in oracles
        )
        verdict = "pass" if record["passed"] else "FAIL"
        terminal.write_line(f"{record['scenario']:<{width}}  {verdict:<7}  {cells}")
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
        "results": ordered,
    }
    path = out / "summary.json"
    write_atomic(path, (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode())
    terminal.write_line(
        f"{passed}/{len(ordered)} scenario runs passed; "
        f"summary: {path}; traces: {out / 'traces'}"
    )


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


def _cell(value: bool | None) -> str:
    if value is None:
        return "-"
    return "ok" if value else "FAIL"
