"""The summary read for people: verdict words, oracle cells, regressions, pass^k.

Shared by the Markdown and HTML writers, which are pure functions of a
``summary.json`` (version 2) so a stored summary can be rendered again. Readers are
lenient: a missing optional part (no comparison, no escalation, no fault coverage)
is shown as absent, never an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.models.usage import ModelUsage, usd
from harness.reporting.baseline import MEANS

#: The suite verdict as shown, loud when it is bad.
VERDICT_WORDS = {
    "pass": "pass",
    "fail": "FAIL",
    "regression": "REGRESSION",
    "error": "ERROR",
    "empty": "EMPTY",
    "interrupted": "INTERRUPTED",
}
#: Metric statuses shown in the regressions section, in this order (``changed``:
#: an efficiency metric that moved with no rule naming it, neither better nor worse).
CHANGE_ORDER = ("regressed", "flaky", "improved", "changed")
#: Means (lower is better); every other metric is a rate in [0, 1].
MEAN_METRICS = frozenset(MEANS)


@dataclass(frozen=True, slots=True, kw_only=True)
class Cell:
    """One oracle across a scenario's runs: ``ok``, ``FAIL``, ``-`` or ``k/n``."""

    judged: int
    passed: int

    @property
    def text(self) -> str:
        if not self.judged:
            return "-"
        if self.passed == self.judged:
            return "ok"
        if not self.passed:
            return "FAIL"
        return f"{self.passed}/{self.judged}"

    @property
    def state(self) -> str:
        """``ok``, ``fail``, ``mixed`` or ``none`` (not judged): a CSS class."""
        if not self.judged:
            return "none"
        if self.passed == self.judged:
            return "ok"
        return "fail" if not self.passed else "mixed"

    @property
    def title(self) -> str:
        if not self.judged:
            return "nothing to judge"
        return f"passed in {self.passed} of {self.judged} judged runs"


@dataclass(frozen=True, slots=True, kw_only=True)
class FailedRun:
    """A run that failed: which seed, on which oracles, and where its trace is."""

    nodeid: str
    seed: int | None
    seed_index: int
    oracles: tuple[str, ...]
    trace: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioRow:
    """A scenario's line of the matrix."""

    name: str
    path: str
    runs: int
    passed: int
    pass_rate: float
    failing: bool
    regressed: bool
    cells: tuple[Cell, ...]
    pass_hat_k: dict[int, float]
    failed_runs: tuple[FailedRun, ...]
    thresholds: str | None

    @property
    def verdict(self) -> str:
        return "FAIL" if self.failing else "pass"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricChange:
    """A metric that moved against the baseline (from ``Comparison.to_json()``)."""

    scenario: str
    metric: str
    status: str
    base: float | None
    cand: float | None
    delta: float | None
    interval: tuple[float, float] | None
    p_value: float | None
    n_base: int | None
    n_cand: int | None
    rule: str | None

    @property
    def is_rate(self) -> bool:
        return self.metric not in MEAN_METRICS


def verdict_word(summary: Mapping[str, Any]) -> str:
    """``pass``, ``FAIL``, ``REGRESSION``, ``ERROR`` or ``EMPTY``."""
    verdict = str(summary.get("verdict") or _derived_verdict(summary))
    return VERDICT_WORDS.get(verdict, verdict.upper())


def verdict_key(summary: Mapping[str, Any]) -> str:
    """The verdict as a lower-case key (a CSS class)."""
    return str(summary.get("verdict") or _derived_verdict(summary)).lower()


def _derived_verdict(summary: Mapping[str, Any]) -> str:
    if not summary.get("runs"):
        return "empty"
    return "pass" if summary.get("passed") == summary.get("runs") else "fail"


def headline(summary: Mapping[str, Any]) -> str:
    """``FAIL: 61 of 62 runs passed``: the first line of every report."""
    runs, passed = int(summary.get("runs") or 0), int(summary.get("passed") or 0)
    return f"{verdict_word(summary)}: {passed} of {runs} runs passed"


def incomplete_reason(summary: Mapping[str, Any]) -> str | None:
    """Why the session is incomplete, or None when it ran to the end."""
    if summary.get("complete", True) is not False:
        return None
    return str(summary.get("incomplete_reason") or "the session did not finish")


def short_sha(sha: object) -> str | None:
    if not isinstance(sha, str) or not sha:
        return None
    return sha[:7]


def provenance(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Label/value pairs saying what was run: run id, agent, git, time."""
    pairs = []
    if summary.get("run_id"):
        pairs.append(("run", str(summary["run_id"])))
    agent = summary.get("agent")
    if agent:
        agents = agent if isinstance(agent, list) else [agent]
        pairs.append(("agent", ", ".join(map(str, agents))))
    git = summary.get("git") or {}
    sha = short_sha(git.get("sha"))
    if sha:
        where = sha + (f" on {git['branch']}" if git.get("branch") else "")
        pairs.append(("git", where + (" (dirty)" if git.get("dirty") else "")))
    if summary.get("started"):
        pairs.append(("started", str(summary["started"])))
    if summary.get("harness"):
        pairs.append(("harness", str(summary["harness"])))
    return pairs


def oracle_names(summary: Mapping[str, Any]) -> list[str]:
    """The matrix columns: ``summary["oracles"]``, else as first met in the runs."""
    names = [str(o) for o in summary.get("oracles") or ()]
    if names:
        return names
    for record in summary.get("results") or ():
        names.extend(o for o in record.get("scores", {}) if o not in names)
    return names


def scenario_rows(summary: Mapping[str, Any]) -> list[ScenarioRow]:
    """Every scenario of the summary, in its order, with cells per oracle."""
    oracles = oracle_names(summary)
    regressed = regressed_scenarios(summary)
    by_scenario: dict[str, list[Mapping[str, Any]]] = {}
    for record in summary.get("results") or ():
        by_scenario.setdefault(str(record.get("scenario")), []).append(record)
    rows = []
    for entry in summary.get("scenarios") or ():
        name = str(entry["scenario"])
        records = by_scenario.get(name, [])
        runs, passed = int(entry.get("runs") or 0), int(entry.get("passed") or 0)
        stats = entry.get("oracles") or _oracle_stats(records)
        verdict = entry.get("verdict")
        rows.append(
            ScenarioRow(
                name=name,
                path=str(entry.get("path") or ""),
                runs=runs,
                passed=passed,
                pass_rate=float(entry.get("pass_rate", passed / runs if runs else 0)),
                failing=verdict == "FAIL" if verdict else passed < runs,
                regressed=name in regressed,
                cells=tuple(_cell(stats.get(o)) for o in oracles),
                pass_hat_k={
                    int(k): float(v) for k, v in (entry.get("pass_hat_k") or {}).items()
                },
                failed_runs=tuple(_failed_runs(records)),
                thresholds=str(entry["thresholds_explanation"])
                if entry.get("thresholds_explanation")
                else None,
            )
        )
    return rows


def _cell(stats: Mapping[str, Any] | None) -> Cell:
    if not stats:
        return Cell(judged=0, passed=0)
    return Cell(judged=int(stats.get("judged", 0)), passed=int(stats.get("passed", 0)))


def _oracle_stats(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, int]]:
    """Per oracle, runs judged and passed, for summaries without ``oracles``."""
    stats: dict[str, dict[str, int]] = {}
    for record in records:
        for oracle, score in (record.get("scores") or {}).items():
            if score is None:
                continue
            counts = stats.setdefault(oracle, {"judged": 0, "passed": 0})
            counts["judged"] += 1
            counts["passed"] += bool(score)
    return stats


def _failed_runs(records: Iterable[Mapping[str, Any]]) -> Iterable[FailedRun]:
    for record in records:
        if record.get("passed", True):
            continue
        seed = record.get("seed")
        yield FailedRun(
            nodeid=str(record.get("nodeid") or record.get("scenario")),
            seed=seed if isinstance(seed, int) else None,
            seed_index=int(record.get("seed_index") or 0),
            oracles=tuple(str(o) for o in record.get("failed") or ()),
            trace=str(record["trace"]) if record.get("trace") else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FailureGroup:
    """A scenario's failed runs that failed on the same oracles."""

    oracles: tuple[str, ...]
    runs: tuple[FailedRun, ...]


def failure_groups(runs: Iterable[FailedRun]) -> list[FailureGroup]:
    """Failed runs grouped by the oracles they failed, in order of first failure."""
    groups: dict[tuple[str, ...], list[FailedRun]] = {}
    for run in runs:
        groups.setdefault(run.oracles, []).append(run)
    return [FailureGroup(oracles=k, runs=tuple(v)) for k, v in groups.items()]


def repeated(rows: Sequence[ScenarioRow]) -> bool:
    """Whether any scenario ran several times (pass^k is then worth showing)."""
    return any(row.runs > 1 for row in rows)


def pass_k_columns(rows: Sequence[ScenarioRow]) -> list[int]:
    """The k shown for pass^k: every k up to 8 runs, else powers of two and n."""
    most = max((row.runs for row in rows), default=0)
    if most <= 8:
        return list(range(1, most + 1))
    ks = [2**i for i in range(int(math.log2(most)) + 1)]
    return ks if ks[-1] == most else [*ks, most]


def comparison(summary: Mapping[str, Any]) -> Mapping[str, Any] | None:
    found = summary.get("comparison")
    return found if isinstance(found, Mapping) else None


def regressed_scenarios(summary: Mapping[str, Any]) -> set[str]:
    compared = comparison(summary)
    if compared is None:
        return set()
    return {
        str(s["scenario"])
        for s in compared.get("scenarios") or ()
        if s.get("status") == "regressed"
    }


def changes(summary: Mapping[str, Any]) -> list[MetricChange]:
    """Metrics that moved: regressed first, then flaky, then improved."""
    compared = comparison(summary)
    if compared is None:
        return []
    found = []
    for entry in compared.get("scenarios") or ():
        for metric in entry.get("metrics") or ():
            status = str(metric.get("status"))
            if status not in CHANGE_ORDER:
                continue
            interval = metric.get("interval")
            found.append(
                MetricChange(
                    scenario=str(entry["scenario"]),
                    metric=str(metric.get("metric")),
                    status=status,
                    base=_float(metric.get("base")),
                    cand=_float(metric.get("cand")),
                    delta=_float(metric.get("delta")),
                    interval=(float(interval[0]), float(interval[1]))
                    if interval and len(interval) == 2
                    else None,
                    p_value=_float(metric.get("p_value")),
                    n_base=_int(metric.get("n_base")),
                    n_cand=_int(metric.get("n_cand")),
                    rule=str(metric["rule"]) if metric.get("rule") else None,
                )
            )
    return sorted(found, key=lambda c: CHANGE_ORDER.index(c.status))


def scenarios_with_status(summary: Mapping[str, Any], status: str) -> list[str]:
    """Scenario names the comparison gave ``status`` (``new``, ``missing``...)."""
    compared = comparison(summary)
    if compared is None:
        return []
    return [
        str(s["scenario"])
        for s in compared.get("scenarios") or ()
        if s.get("status") == status
    ]


def not_selected(summary: Mapping[str, Any]) -> int:
    """Baseline scenarios the session did not select (counted, never listed)."""
    compared = comparison(summary)
    return int((compared or {}).get("not_selected") or 0)


def selection_text(summary: Mapping[str, Any]) -> str | None:
    """Why absent scenarios count as missing (the run recorded no selection)."""
    compared = comparison(summary)
    return None if compared is None else selection_note(compared)


def counts_text(data: Mapping[str, Any]) -> str:
    """``3 regressed, 2 changed, 65 not selected``: a comparison's counts (from
    its JSON), statuses with no scenario left out."""
    counts = data.get("counts") or {}
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    if data.get("not_selected"):
        parts.append(f"{data['not_selected']} not selected")
    return ", ".join(parts) or "no scenario compared"


def selection_note(data: Mapping[str, Any]) -> str | None:
    """Why scenarios count as missing when the run recorded no selection."""
    missing = int((data.get("counts") or {}).get("missing") or 0)
    if data.get("selection_known", True) or not missing:
        return None
    return (
        "the run recorded no selection (an older harness, or a baseline file), so"
        f" all {missing} baseline scenarios it lacks count as missing; a run of"
        " this harness records what it selected"
    )


def gate_failures(summary: Mapping[str, Any]) -> list[str]:
    gate = summary.get("gate") or {}
    return [str(f) for f in gate.get("failed") or ()]


def gate_rules(summary: Mapping[str, Any]) -> list[str]:
    gate = summary.get("gate") or {}
    return [str(r) for r in gate.get("rules") or ()]


def escalation_labels(matrix: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Rows and columns of the confusion matrix: every label, ``none`` last."""
    labels = {*matrix} | {a for row in matrix.values() for a in row}
    return sorted(labels, key=lambda label: (label in ("none", "any"), label))


def never_fired(summary: Mapping[str, Any]) -> list[str]:
    coverage = summary.get("fault_coverage") or {}
    return [str(f) for f in coverage.get("never_fired") or ()]


def fmt_value(value: float | None, metric: str = "") -> str:
    if value is not None and metric == "model_cost":
        return usd(value)
    return "n/a" if value is None else f"{value:.2f}"


def fmt_delta(value: float | None, metric: str = "") -> str:
    if value is not None and metric == "model_cost":
        return ("-" if value < 0 else "+") + usd(abs(value))
    return "n/a" if value is None else f"{value:+.2f}"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelRow:
    """One scenario's model calls added up over its runs."""

    name: str
    usage: ModelUsage


def model_rows(summary: Mapping[str, Any]) -> list[ModelRow]:
    """The scenarios that made model calls, in the summary's order."""
    return [
        ModelRow(name=str(entry["scenario"]), usage=ModelUsage.from_json(used))
        for entry in summary.get("scenarios") or ()
        if (used := entry.get("model"))
    ]


def session_model(summary: Mapping[str, Any]) -> ModelUsage | None:
    """The session's model calls added up; None when no run made one."""
    used = summary.get("model")
    return ModelUsage.from_json(used) if used else None


def prices_note(summary: Mapping[str, Any]) -> str:
    """Where the costs come from, and what they leave out."""
    used = summary.get("model") or {}
    note = (
        "Cost at the prices of harness/models/prices.json, checked"
        f" {used.get('prices_checked', '?')}; update the table when providers"
        " change theirs."
    )
    session = session_model(summary)
    if session is not None and session.unpriced:
        calls = "1 call" if session.unpriced == 1 else f"{session.unpriced} calls"
        note += (
            f" Not in the cost: {calls} to models it does not list"
            f" ({', '.join(session.unpriced_models)})."
        )
    return note


def fmt_interval(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return "n/a"
    return f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def fmt_p(value: float | None) -> str:
    if value is None:
        return "n/a"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def fmt_n(change: MetricChange) -> str:
    def one(n: int | None) -> str:
        return "?" if n is None else str(n)

    return f"{one(change.n_base)}/{one(change.n_cand)}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(value) else float(value)


def _int(value: object) -> int | None:
    number = _float(value)
    return None if number is None else int(number)
