"""The baseline: per scenario, the metrics of a reference run, kept in a JSON file.

A baseline holds, per scenario, ``pass_rate`` (runs passed over runs), one rate per
oracle that judged (runs it passed over runs it judged; a ``None`` score is left
out, and an oracle that never judged has no metric), and the means ``tool_calls``
and ``simulated_seconds``, and, over the runs that made model calls,
``model_tokens`` (tokens in + out a run) and ``model_cost`` (USD a run, over the
runs whose every model call had a price: a partial sum is no cost). Rates keep
their counts and means their values, so a later run can be compared with a test,
not only by its point value.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from statistics import fmean
from typing import Any, ClassVar

from harness._version import __version__
from harness.errors import BaselineError, HarnessError
from harness.files import write_atomic
from harness.reporting.artefacts import kind_of, parse_json, show

BASELINE_VERSION = 1

#: The metrics that are means of a per-run value (lower is better).
MEANS = ("tool_calls", "simulated_seconds", "model_tokens", "model_cost")

_SAVE = "--aqe-save-baseline"
_RESTORE = f"restore it from version control, or write a new one with {_SAVE}"


class MetricKind(StrEnum):
    """A rate (higher is better) or a mean (lower is better)."""

    RATE = "rate"
    MEAN = "mean"


@dataclass(frozen=True, slots=True, kw_only=True)
class RateMetric:
    """``successes`` out of ``n`` runs (n >= 1)."""

    kind: ClassVar[MetricKind] = MetricKind.RATE
    successes: int
    n: int

    def __post_init__(self) -> None:
        if self.n < 1 or not 0 <= self.successes <= self.n:
            raise ValueError(f"a rate needs 0 <= successes <= n, n >= 1: {self}")

    @property
    def value(self) -> float:
        return self.successes / self.n

    @property
    def mixed(self) -> bool:
        """Some runs passed and some failed."""
        return 0 < self.successes < self.n

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "value": self.value,
            "n": self.n,
            "successes": self.successes,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MeanMetric:
    """The mean of one value per run (at least one run)."""

    kind: ClassVar[MetricKind] = MetricKind.MEAN
    values: tuple[float, ...]

    def __post_init__(self) -> None:
        if not self.values:
            raise ValueError("a mean needs at least one value")

    @property
    def value(self) -> float:
        return fmean(self.values)

    @property
    def n(self) -> int:
        return len(self.values)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "value": self.value,
            "n": self.n,
            "values": list(self.values),
        }


Metric = RateMetric | MeanMetric


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioBaseline:
    """One scenario's file path and metrics, by metric name."""

    path: str
    metrics: Mapping[str, Metric]

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "metrics": {name: m.to_json() for name, m in self.metrics.items()},
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Baseline:
    """The metrics of a reference run, per scenario name.

    ``source`` is the file it was loaded from (None when built in memory); it is
    not written to the file.
    """

    harness: str
    created: str
    run_id: str
    git_sha: str | None
    agent: str
    scenarios: Mapping[str, ScenarioBaseline]
    source: Path | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline_version": BASELINE_VERSION,
            "harness": self.harness,
            "created": self.created,
            "run_id": self.run_id,
            "git_sha": self.git_sha,
            "agent": self.agent,
            "scenarios": {
                name: s.to_json() for name, s in sorted(self.scenarios.items())
            },
        }


def scenario_metrics(
    records: Iterable[Mapping[str, Any]],
) -> dict[str, ScenarioBaseline]:
    """Per scenario name, its metrics over its run records: ``pass_rate``, one rate
    per oracle over the runs where it judged (``None`` scores left out; an oracle
    that never judged is left out), and the means of :data:`MEANS`."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        groups.setdefault(record["scenario"], []).append(record)
    scenarios = {}
    for name, runs in sorted(groups.items()):
        metrics: dict[str, Metric] = {
            "pass_rate": RateMetric(
                successes=sum(bool(r["passed"]) for r in runs), n=len(runs)
            )
        }
        oracles = sorted({o for r in runs for o in r.get("scores", {})})
        for oracle in oracles:
            judged = [
                bool(v) for r in runs if (v := r["scores"].get(oracle)) is not None
            ]
            if judged:
                metrics[oracle] = RateMetric(successes=sum(judged), n=len(judged))
        for mean in MEANS:
            values = tuple(v for r in runs if (v := per_run(r, mean)) is not None)
            if values:
                metrics[mean] = MeanMetric(values=values)
        path = str(runs[0].get("path", ""))
        scenarios[name] = ScenarioBaseline(path=path, metrics=metrics)
    return scenarios


def per_run(record: Mapping[str, Any], mean: str) -> float | None:
    """One run's value of the mean ``mean``, None when the run has none."""
    if mean in ("model_tokens", "model_cost"):
        used = record.get("model")
        if not used:
            return None
        if mean == "model_tokens":
            return int(used["tokens"])
        priced = not used.get("unpriced") and used.get("cost_usd") is not None
        return float(used["cost_usd"]) if priced else None
    value: float | None = record.get(mean)
    return value


def build_baseline(
    records: Iterable[Mapping[str, Any]],
    *,
    run_id: str,
    git_sha: str | None,
    agent: str,
    created: str,
) -> Baseline:
    """The baseline of a session's run records (see the module docstring)."""
    scenarios = scenario_metrics(records)
    return Baseline(
        harness=__version__,
        created=created,
        run_id=run_id,
        git_sha=git_sha,
        agent=agent,
        scenarios=scenarios,
    )


def save_baseline(baseline: Baseline, path: Path) -> None:
    """Write ``baseline`` to ``path`` atomically (sorted keys, indent 2)."""
    text = json.dumps(baseline.to_json(), indent=2, sort_keys=True) + "\n"
    write_atomic(Path(path), text.encode())


def load_baseline(path: Path) -> Baseline:
    """Read a baseline file; a ``BaselineError`` says what is wrong and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"{path}: no baseline file here\n"
            f"    fix: write one with a run given {_SAVE}, or check the path"
        ) from None
    except UnicodeDecodeError as exc:
        raise BaselineError(
            f"{path}: not UTF-8 text (byte {exc.start})\n    fix: {_RESTORE}"
        ) from None
    except OSError as exc:
        raise BaselineError(
            f"{path}: cannot be read ({exc.strerror})\n"
            "    fix: name a readable baseline file"
        ) from None
    try:
        data = parse_json(text, str(path), _RESTORE)
    except HarnessError as exc:
        raise BaselineError(str(exc)) from None
    if not isinstance(data, dict):
        raise BaselineError(
            f"{path}: the baseline is {kind_of(data)}, not a JSON object\n"
            f"    fix: {_RESTORE}"
        )
    _check_version(path, data)
    reader = _Reader()
    baseline = reader.baseline(data)
    if reader.problems or baseline is None:
        lines = [f"{path}: {problem}" for problem in reader.problems]
        raise BaselineError("\n".join(lines) + f"\n    fix: {_RESTORE}")
    return Baseline(
        harness=baseline.harness,
        created=baseline.created,
        run_id=baseline.run_id,
        git_sha=baseline.git_sha,
        agent=baseline.agent,
        scenarios=baseline.scenarios,
        source=path,
    )


def _check_version(path: Path, data: Mapping[str, Any]) -> None:
    reads = f"this harness reads baseline_version {BASELINE_VERSION}"
    if "baseline_version" not in data:
        raise BaselineError(
            f"{path}: no baseline_version; {reads}\n"
            f"    fix: write a new baseline with {_SAVE}"
        )
    version = data["baseline_version"]
    if version == BASELINE_VERSION and type(version) is int:
        return
    if type(version) is int and version > BASELINE_VERSION:
        raise BaselineError(
            f"{path}: baseline_version {version} is newer than {reads}: a newer"
            " aqe-harness wrote it\n"
            f"    fix: upgrade aqe-harness, or write a new baseline with {_SAVE}"
        )
    raise BaselineError(
        f"{path}: baseline_version {show(version)} is not one {reads}\n"
        f"    fix: write a new baseline with {_SAVE}"
    )


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _close(value: float, expected: float) -> bool:
    return math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)


class _Reader:
    """Reads the parts of a baseline object, collecting every shape problem."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def _problem(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def _field(
        self, obj: Mapping[str, Any], key: str, where: str, *, nullable: bool = False
    ) -> str | None:
        """A string member; None (and a problem) when it is missing or not one."""
        jpath = f"{where}.{key}" if where else key
        if key not in obj:
            self._problem(jpath, "missing")
            return None
        value = obj[key]
        if isinstance(value, str) or (nullable and value is None):
            return value
        expected = "a string or null" if nullable else "a string"
        self._problem(jpath, f"expected {expected}, got {show(value)}")
        return None

    def baseline(self, data: Mapping[str, Any]) -> Baseline | None:
        harness = self._field(data, "harness", "")
        created = self._field(data, "created", "")
        run_id = self._field(data, "run_id", "")
        git_sha = self._field(data, "git_sha", "", nullable=True)
        agent = self._field(data, "agent", "")
        scenarios: dict[str, ScenarioBaseline] = {}
        if "scenarios" not in data:
            self._problem("scenarios", "missing")
        elif not isinstance(data["scenarios"], dict):
            self._problem(
                "scenarios",
                f"expected an object of scenarios, got {kind_of(data['scenarios'])}",
            )
        else:
            for name, value in data["scenarios"].items():
                scenario = self.scenario(value, f"scenarios.{name}")
                if scenario is not None:
                    scenarios[name] = scenario
        if self.problems:
            return None
        assert harness is not None
        assert created is not None
        assert run_id is not None
        assert agent is not None
        return Baseline(
            harness=harness,
            created=created,
            run_id=run_id,
            git_sha=git_sha,
            agent=agent,
            scenarios=scenarios,
        )

    def scenario(self, value: Any, where: str) -> ScenarioBaseline | None:
        if not isinstance(value, dict):
            self._problem(where, f"expected an object, got {kind_of(value)}")
            return None
        path = self._field(value, "path", where)
        metrics: dict[str, Metric] = {}
        raw = value.get("metrics")
        if "metrics" not in value:
            self._problem(f"{where}.metrics", "missing")
        elif not isinstance(raw, dict):
            self._problem(
                f"{where}.metrics",
                f"expected an object of metrics, got {kind_of(raw)}",
            )
        else:
            for name, metric_value in raw.items():
                metric = self.metric(metric_value, f"{where}.metrics.{name}")
                if metric is not None:
                    metrics[name] = metric
        if path is None or not isinstance(raw, dict):
            return None
        return ScenarioBaseline(path=path, metrics=metrics)

    def metric(self, value: Any, where: str) -> Metric | None:
        if not isinstance(value, dict):
            self._problem(where, f"expected an object, got {kind_of(value)}")
            return None
        kinds = [str(k) for k in MetricKind]
        kind = value.get("kind")
        if "kind" not in value:
            self._problem(f"{where}.kind", "missing")
            return None
        if kind not in kinds:
            hint = ""
            if isinstance(kind, str) and (
                close := difflib.get_close_matches(kind, kinds, n=1)
            ):
                hint = f" (did you mean {json.dumps(close[0])}?)"
            self._problem(
                f"{where}.kind",
                f'{show(kind)} is not "mean" or "rate"{hint}',
            )
            return None
        if not _is_number(value.get("value")):
            self._problem(
                f"{where}.value", f"expected a number, got {show(value.get('value'))}"
            )
            return None
        if kind == MetricKind.RATE:
            return self.rate(value, where)
        return self.mean(value, where)

    def rate(self, value: Mapping[str, Any], where: str) -> RateMetric | None:
        n: Any = value.get("n")
        successes: Any = value.get("successes")
        if not _is_whole(n) or n < 1:
            self._problem(f"{where}.n", f"expected a whole number >= 1, got {show(n)}")
            return None
        if not _is_whole(successes) or not 0 <= successes <= n:
            self._problem(
                f"{where}.successes",
                f"expected a whole number from 0 to n ({n}), got {show(successes)}",
            )
            return None
        metric = RateMetric(successes=successes, n=n)
        if not _close(value["value"], metric.value):
            self._problem(
                f"{where}.value",
                f"{show(value['value'])} is not successes/n = {successes}/{n}"
                f" = {metric.value:g}",
            )
            return None
        return metric

    def mean(self, value: Mapping[str, Any], where: str) -> MeanMetric | None:
        values = value.get("values")
        if not isinstance(values, list) or not values:
            self._problem(
                f"{where}.values",
                f"expected a non-empty array of numbers, got {show(values)}",
            )
            return None
        for index, item in enumerate(values):
            if not _is_number(item):
                self._problem(
                    f"{where}.values[{index}]", f"expected a number, got {show(item)}"
                )
                return None
        metric = MeanMetric(values=tuple(values))
        if value.get("n") != metric.n or not _is_whole(value.get("n")):
            self._problem(
                f"{where}.n",
                f"{show(value.get('n'))} is not the number of values ({metric.n})",
            )
            return None
        if not _close(value["value"], metric.value):
            self._problem(
                f"{where}.value",
                f"{show(value['value'])} is not the mean of the values"
                f" ({metric.value:g})",
            )
            return None
        return metric
