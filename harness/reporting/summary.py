"""The session summary: ``summary.json``'s content and the terminal table."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness._version import __version__
from harness.models.usage import ModelUsage, describe, total
from harness.scenario.model import Thresholds

if TYPE_CHECKING:
    from harness.run import RunRecord

SUMMARY_VERSION = 2


def build_summary(records: Sequence[RunRecord], **meta: Any) -> dict[str, Any]:
    """The summary of a session's records (``summary.json``, version 2), without
    its verdict, comparison and gate (see :mod:`harness.reporting.session`).

    ``meta``: run_id, started, finished, git, agent, complete, incomplete_reason.
    """
    ordered = sorted(
        records, key=lambda r: (r["path"], r["scenario"], r.get("seed_index", 0))
    )
    oracles: list[str] = []
    for record in ordered:
        oracles.extend(o for o in record["scores"] if o not in oracles)
    passed = sum(r["passed"] for r in ordered)
    scenarios = per_scenario(ordered)
    agents = sorted({str(r.get("agent")) for r in ordered})
    return {
        "summary_version": SUMMARY_VERSION,
        "harness": __version__,
        "agent": agents[0] if len(agents) == 1 else agents or None,
        **meta,
        "runs": len(ordered),
        "passed": passed,
        "failed": len(ordered) - passed,
        "oracles": oracles,
        "scenarios": [{k: v for k, v in s.items() if k != "key"} for s in scenarios],
        "escalation": _escalation(ordered),
        "fault_coverage": _fault_coverage(ordered),
        "sandbox": sandbox_counts(ordered),
        "model": model_totals(ordered),
        "results": ordered,
    }


def model_totals(records: Sequence[RunRecord]) -> dict[str, Any] | None:
    """The runs' model calls added up, with the price table's date; None when
    no run made a model call."""
    from harness.models.prices import prices

    usage = _usage(records)
    if usage is None:
        return None
    return {**usage.to_json(), "prices_checked": prices().checked}


def _usage(records: Sequence[RunRecord]) -> ModelUsage | None:
    return total(
        ModelUsage.from_json(r["model"]) if r.get("model") else None for r in records
    )


def sandbox_counts(records: Sequence[RunRecord]) -> dict[str, int]:
    """How many runs each containment had: ``kernel``, ``process``, ``none``
    (``unknown``: records written before the field was)."""
    counts: dict[str, int] = {}
    for record in records:
        kind = str(record.get("sandbox", "unknown"))
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


#: How runs were contained when not by the kernel (see :func:`unsandboxed_line`).
_LOOSE = ("process", "none", "proxy", "service")


def unsandboxed_line(summary: dict[str, Any]) -> str | None:
    """Says how many verdicts were reached without the kernel sandbox, or None."""
    counts = summary.get("sandbox") or {}
    runs = int(summary.get("runs") or 0)
    loose = sum(n for kind, n in counts.items() if kind in _LOOSE)
    if not runs or not loose:
        return None
    parts = []
    if counts.get("process"):
        parts.append(
            f"{counts['process']} in their own processes without kernel namespaces"
            " (the network blocked by Python-level guards only)"
        )
    if counts.get("none"):
        parts.append(
            f"{counts['none']} in pytest's own process (--aqe-isolation none, or an"
            " agent only that process can import); not a security boundary"
        )
    if counts.get("proxy"):
        parts.append(
            f"{counts['proxy']} as commands without kernel namespaces (pointed at the"
            " simulation by proxy variables only)"
        )
    if counts.get("service"):
        parts.append(
            f"{counts['service']} by agent services, which run where they run (only"
            " what they send the harness is seen)"
        )
    return f"unsandboxed: {loose} of {runs} runs: " + "; ".join(parts)


def write_table(summary: dict[str, Any], terminal: Any) -> None:
    """The scenario-by-oracle table, fault coverage and escalation lines."""
    scenarios = summary["scenarios"]
    if not scenarios:
        return
    oracles: list[str] = summary["oracles"]
    repeated = any(s["runs"] > 1 for s in scenarios)
    terminal.write_sep("=", "aqe scenario summary")
    width = max(len(s["scenario"]) for s in scenarios)
    head = f"{'scenario':<{width}}  verdict  "
    if repeated:
        head += "runs  pass^k  "
    terminal.write_line(head + "  ".join(oracles))
    for row in scenarios:
        cells = "  ".join(_cells(row["oracles"].get(o)).center(len(o)) for o in oracles)
        line = f"{row['scenario']:<{width}}  {row['verdict']:<7}  "
        if repeated:
            hat = row["pass_hat_k"][str(row["runs"])]
            line += f"{row['passed']}/{row['runs']:<2}  {hat:<6.2f}  "
        terminal.write_line(line + cells)
    for row in scenarios:
        if row.get("thresholds_met") is not None:
            held = "met" if row["thresholds_met"] else "NOT met"
            terminal.write_line(
                f"thresholds {held}: {row['scenario']}: {row['thresholds_explanation']}"
            )
    coverage = summary["fault_coverage"]
    if coverage["faults"]:
        line = f"fault coverage: {coverage['fired']}/{coverage['faults']} faults fired"
        if coverage["never_fired"]:
            line += "; never fired: " + ", ".join(coverage["never_fired"])
        terminal.write_line(line)
    write_model_lines(summary, terminal)
    escalation = summary["escalation"]
    if escalation:
        cells_ = [
            f"{label} precision {_ratio(escalation['precision'][label])}"
            f" recall {_ratio(escalation['recall'][label])}"
            for label in sorted(escalation["precision"])
        ]
        terminal.write_line("escalation: " + "; ".join(cells_))


def write_model_lines(summary: dict[str, Any], terminal: Any) -> None:
    """The model calls' totals, per scenario and for the session (nothing when
    no run made a model call)."""
    session = summary.get("model")
    if not session:
        return
    terminal.write_line(
        f"model usage: {describe(ModelUsage.from_json(session))} (at prices"
        f" checked {session['prices_checked']})"
    )
    rows = [s for s in summary["scenarios"] if s.get("model")]
    width = max(len(s["scenario"]) for s in rows)
    for row in rows:
        used = describe(ModelUsage.from_json(row["model"]))
        terminal.write_line(f"  {row['scenario']:<{width}}  {used}")


def per_scenario(records: Sequence[RunRecord]) -> list[dict[str, Any]]:
    """Per scenario: runs, passes, pass rate, and pass@k and pass^k for k = 1..n.

    pass^k is tau-bench's: the chance that k runs drawn from the n made all pass,
    C(c, k) / C(n, k) with c passes; pass@k the chance that at least one does.
    """
    groups: dict[tuple[str, str], list[RunRecord]] = {}
    for record in records:
        groups.setdefault((record["path"], record["scenario"]), []).append(record)
    out = []
    for key, runs in groups.items():
        n, c = len(runs), sum(r["passed"] for r in runs)
        thresholds = Thresholds.from_json(runs[0].get("thresholds"))
        judged = thresholds.judge(n, c) if thresholds is not None else None
        verdict = c == n if judged is None else judged.met
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
                "oracles": _oracle_counts(runs),
                "model": None if (used := _usage(runs)) is None else used.to_json(),
                "verdict": "pass" if verdict else "FAIL",
                "thresholds": runs[0].get("thresholds"),
                "thresholds_met": None if judged is None else judged.met,
                "thresholds_explanation": None
                if judged is None
                else judged.explanation,
            }
        )
    return out


def _oracle_counts(runs: Sequence[RunRecord]) -> dict[str, dict[str, int]]:
    """Per oracle: the runs it judged and the runs it passed."""
    counts: dict[str, dict[str, int]] = {}
    for run in runs:
        for oracle, passed in run.get("scores", {}).items():
            cell = counts.setdefault(oracle, {"judged": 0, "passed": 0})
            if passed is not None:
                cell["judged"] += 1
                cell["passed"] += bool(passed)
    return counts


def _cells(counts: dict[str, int] | None) -> str:
    """One oracle across a scenario's runs: ok, FAIL, -, or passes/runs."""
    if not counts or not counts["judged"]:
        return "-"
    if counts["passed"] == counts["judged"]:
        return "ok"
    if not counts["passed"]:
        return "FAIL"
    return f"{counts['passed']}/{counts['judged']}"


def _fault_coverage(records: Sequence[RunRecord]) -> dict[str, Any]:
    """How many of the suite's faults fired, naming those that never did."""
    faults = [(r, f) for r in records for f in r.get("faults", ())]
    return {
        "faults": len(faults),
        "fired": sum(f["fired"] > 0 for _, f in faults),
        "never_fired": [
            f"{r['scenario']}/{f['fault']} ({f['kind']}, matched {f['matched']} calls)"
            for r, f in faults
            if f["fired"] == 0
        ],
    }


def _escalation(records: Sequence[RunRecord]) -> dict[str, Any] | None:
    """Escalation decisions across the suite: confusion matrix, precision, recall."""
    from harness.oracles.escalation import confusion

    stats = confusion(e for r in records if (e := r.get("escalation")))
    return stats.to_json() if stats.matrix else None


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"
