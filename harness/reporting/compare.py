"""Compare a candidate run with a baseline, scenario by scenario, metric by metric.

Each metric both baselines have is compared: ``delta = cand - base``. It worsens
when a rate goes down or a mean goes up, and it changes *beyond its rule* when it
worsens (or improves) by more than the rule's DELTA (an absolute number, or a
percentage of the baseline value). Then:

* with one run on each side the delta alone decides (a run is deterministic for
  its seed, so a single run's change is real): regressed, or improved;
* with several runs on either side a change needs statistical support, a
  one-sided p < alpha (Fisher's exact test for rates, Mann-Whitney U for means).
  A change beyond the rule without support is ``flaky`` when either side has mixed
  outcomes (for a rate: 0 < successes < n; for a mean: the scenario's pass rate),
  and ``unchanged`` otherwise.

Metrics without a rule are compared and reported too, under the default rule
``DELTA 0``: any supported worsening of a rate is reported as regressed. The
means (``tool_calls``, ``simulated_seconds``, ``model_tokens``, ``model_cost``)
are efficiency, judged in context: without a rule naming them a supported move
is ``changed``, neither better nor worse (fewer tool calls may be a shortcut);
with one it is regressed or improved, but a mean of a scenario that failed a run
in the candidate is never ``improved`` (failing sooner is not being efficient),
only ``changed``.

``rules`` only change thresholds and decide what *gates*:
``Comparison.gate_failures`` holds the regressions of metrics a rule names and,
when the rules were given explicitly (``explicit``), every scenario missing from
the candidate (a scenario that stopped running must not pass a gate unnoticed).
Improvements never gate. For one scenario and metric a scenario-specific rule
wins over a general one; among equals the last one wins.

``selected``, the scenario names the candidate's session collected (see
:mod:`harness.reporting.selection`), tells a baseline scenario the session did
not select (paths, ``-k``, ``-m``) from one it selected and did not run: the
first kind is only counted (``not_selected``), never listed and never gating;
the second is ``missing``. With no selection known (a run folder from a harness
that did not record one, or a baseline file) every baseline scenario the
candidate lacks is missing.

A scenario is regressed if any metric is, else flaky if any is, else improved if
any is, else changed if any is, else unchanged; ``new`` (candidate only) and
``missing`` scenarios are listed and counted. A metric one side lacks (an oracle
that judged only in one run) is listed as new or missing but does not change the
scenario.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.errors import HarnessError
from harness.models.usage import usd
from harness.reporting._view import counts_text, selection_note
from harness.reporting.baseline import (
    MEANS,
    Baseline,
    MeanMetric,
    Metric,
    MetricKind,
    RateMetric,
)
from harness.stats import (
    Alternative,
    Interval,
    Significance,
    fisher_one_sided,
    mann_whitney_one_sided,
    newcombe_interval,
)

#: Float noise allowed when a change is compared with a rule's threshold.
_EPSILON = 1e-9

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]*")
_OPTION = "--aqe-compare-fail"
#: The rule a comparison gates on when the user gives none.
DEFAULT_RULE = "pass_rate:0"
GRAMMAR = (
    "a rule is [SCENARIO/]METRIC:DELTA, METRIC pass_rate, an oracle name,"
    " tool_calls, simulated_seconds, model_tokens or model_cost, DELTA how much"
    " worse it may get: an absolute number (0.1) or a percentage of the baseline"
    " value (10%), e.g. pass_rate:0, refund_ok/tool_calls:10% or model_tokens:20%"
)


class Status(StrEnum):
    """What became of a scenario, or of one of its metrics."""

    REGRESSED = "regressed"
    IMPROVED = "improved"
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    NEW = "new"
    MISSING = "missing"
    FLAKY = "flaky"


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareRule:
    """How much worse ``metric`` may get (in ``scenario``, or in every scenario)."""

    metric: str
    delta: float
    percent: bool = False
    scenario: str | None = None

    def __str__(self) -> str:
        where = f"{self.scenario}/" if self.scenario else ""
        return f"{where}{self.metric}:{self.delta:g}{'%' if self.percent else ''}"

    def threshold(self, base_value: float) -> float:
        """The change allowed from ``base_value``, in the metric's own units."""
        if self.percent:
            return abs(base_value) * self.delta / 100.0
        return self.delta

    def applies_to(self, scenario: str, metric: str) -> bool:
        return self.metric == metric and self.scenario in (None, scenario)


def _rule_error(text: str, what: str, hint: str = "") -> HarnessError:
    return HarnessError(f"{_OPTION} {text!r}: {what}\n    fix: {hint}{GRAMMAR}")


def _suggest(value: str, known: Collection[str], what: str) -> str:
    close = difflib.get_close_matches(value, sorted(known), n=1)
    if close:
        return f"did you mean {close[0]!r}? "
    return f"the {what} here are {', '.join(sorted(known))}; "


def parse_rule(
    text: str,
    *,
    metrics: Collection[str] | None = None,
    scenarios: Collection[str] | None = None,
) -> CompareRule:
    """Parse one ``--aqe-compare-fail`` value, ``[SCENARIO/]METRIC:DELTA``.

    With ``metrics`` (or ``scenarios``) given, a name outside it is an error that
    suggests the closest known name.
    """
    rule = text.strip()
    if not rule:
        raise _rule_error(text, "empty rule")
    head, colon, delta_text = rule.rpartition(":")
    if not colon:
        raise _rule_error(text, "no ':DELTA' after the metric")
    delta_text = delta_text.strip()
    if not delta_text:
        raise _rule_error(text, "no DELTA after ':'")
    scenario: str | None = None
    if "/" in head:
        scenario, _, head = head.partition("/")
        scenario = scenario.strip()
        if not scenario:
            raise _rule_error(text, "no scenario name before '/'")
        if not _NAME.fullmatch(scenario):
            raise _rule_error(text, f"{scenario!r} is not a scenario name")
        if scenarios is not None and scenario not in scenarios:
            raise _rule_error(
                text,
                f"unknown scenario {scenario!r}",
                _suggest(scenario, scenarios, "scenarios"),
            )
    metric = head.strip()
    if not metric:
        raise _rule_error(text, "no METRIC before ':'")
    if not _NAME.fullmatch(metric):
        raise _rule_error(text, f"{metric!r} is not a metric name")
    if metrics is not None and metric not in metrics:
        raise _rule_error(
            text, f"unknown metric {metric!r}", _suggest(metric, metrics, "metrics")
        )
    percent = delta_text.endswith("%")
    number = delta_text.removesuffix("%").strip() if percent else delta_text
    try:
        delta = float(number)
    except ValueError:
        raise _rule_error(
            text, f"DELTA {delta_text!r} is not a number or a percentage"
        ) from None
    if not math.isfinite(delta):
        raise _rule_error(text, f"DELTA {delta_text!r} is not a finite number")
    if delta < 0:
        raise _rule_error(
            text,
            f"DELTA {delta_text!r} is negative",
            "write how much worse the metric may get as a positive amount; ",
        )
    if not percent and metric not in MEANS and delta > 1:
        raise _rule_error(
            text,
            f"DELTA {delta_text} is more than a rate can change (rates are 0..1)",
            f"write {delta / 100:g} for {delta:g} points, or {delta:g}% for"
            f" {delta:g}% of the baseline value; ",
        )
    return CompareRule(metric=metric, delta=delta, percent=percent, scenario=scenario)


def rule_for(
    rules: Sequence[CompareRule], scenario: str, metric: str
) -> CompareRule | None:
    """The rule for ``scenario``'s ``metric``: the last specific one, else general."""
    matching = [r for r in rules if r.applies_to(scenario, metric)]
    specific = [r for r in matching if r.scenario is not None]
    chosen = specific or matching
    return chosen[-1] if chosen else None


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricComparison:
    """One metric of one scenario, in the baseline and in the candidate."""

    metric: str
    kind: MetricKind
    base: float | None
    cand: float | None
    n_base: int
    n_cand: int
    p_value: float | None
    interval: Interval | None
    status: Status
    rule: CompareRule | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.cand is None:
            return None
        return self.cand - self.base

    def to_json(self) -> dict[str, Any]:
        delta = self.delta
        return {
            "metric": self.metric,
            "base": self.base,
            "cand": self.cand,
            "delta": None if delta is None else round(delta, 9),
            "n_base": self.n_base,
            "n_cand": self.n_cand,
            "p_value": None if self.p_value is None else round(self.p_value, 6),
            "interval": None
            if self.interval is None
            else [round(v, 6) for v in self.interval.to_json()],
            "status": str(self.status),
            "rule": None if self.rule is None else str(self.rule),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ScenarioComparison:
    """One scenario's status and its metrics (in report order)."""

    scenario: str
    status: Status
    metrics: tuple[MetricComparison, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "status": str(self.status),
            "metrics": [m.to_json() for m in self.metrics],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Comparison:
    """A candidate compared with a baseline: every scenario of either, by name."""

    baseline_path: str | None
    baseline_run_id: str
    baseline_git_sha: str | None
    baseline_created: str
    scenarios: tuple[ScenarioComparison, ...]
    rules: tuple[CompareRule, ...]
    #: The rules were given by the user (not the default): missing scenarios gate.
    explicit: bool = True
    #: Baseline scenarios the candidate's session did not select (counted only).
    not_selected: tuple[str, ...] = ()
    #: Whether the candidate recorded its selection (else every absent is missing).
    selection_known: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Scenarios per status (every status present, zero or not)."""
        counts = {str(s): 0 for s in Status}
        for scenario in self.scenarios:
            counts[scenario.status] += 1
        return counts

    @property
    def regressions(self) -> list[str]:
        """One line per regressed metric, in scenario order."""
        return [
            _regression_line(s.scenario, m)
            for s in self.scenarios
            for m in s.metrics
            if m.status is Status.REGRESSED
        ]

    @property
    def gate_failures(self) -> list[str]:
        """What fails the gate: regressions under a rule, and missing scenarios
        when the rules were explicit; never a scenario that was not selected."""
        if not self.rules:
            return []
        out = []
        for scenario in self.scenarios:
            if scenario.status is Status.MISSING and self.explicit:
                out.append(
                    f"{scenario.scenario}: missing (in the baseline, not in this run)"
                )
            out.extend(
                _regression_line(scenario.scenario, m)
                for m in scenario.metrics
                if m.status is Status.REGRESSED and m.rule is not None
            )
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "baseline": {
                "path": self.baseline_path,
                "run_id": self.baseline_run_id,
                "git_sha": self.baseline_git_sha,
                "created": self.baseline_created,
            },
            "counts": self.counts,
            "not_selected": len(self.not_selected),
            "selection_known": self.selection_known,
            "scenarios": [s.to_json() for s in self.scenarios],
            "regressions": self.regressions,
            "gate_failures": self.gate_failures,
        }


def _regression_line(scenario: str, m: MetricComparison) -> str:
    assert m.base is not None
    assert m.cand is not None
    assert m.delta is not None
    parts = [_signed(m.metric, m.delta)]
    if m.interval is not None:
        parts.append(f"95% CI [{m.interval.low:.2f}, {m.interval.high:.2f}]")
    if m.p_value is not None:
        parts.append(_p_text(m.p_value))
    parts.append(f"n={m.n_base}/{m.n_cand}")
    base, cand = _number(m.metric, m.base), _number(m.metric, m.cand)
    return f"{scenario}: {m.metric} {base} -> {cand} ({', '.join(parts)})"


def _number(metric: str, value: float) -> str:
    """A metric's value as reports show it: USD for ``model_cost``."""
    return usd(value) if metric == "model_cost" else f"{value:.2f}"


def _signed(metric: str, value: float) -> str:
    if metric == "model_cost":
        return ("-" if value < 0 else "+") + usd(abs(value))
    return f"{value:+.2f}"


def _p_text(p: float) -> str:
    return "p<0.001" if p < 0.001 else f"p={p:.3f}"


def gate_comparison(
    base: Baseline,
    cand: Baseline,
    rule_texts: Sequence[str],
    *,
    selected: Collection[str] | None,
) -> Comparison:
    """The comparison a gate decides on, the same for a session and ``aqe
    compare``: the user's rules (explicit, so missing scenarios gate), else
    :data:`DEFAULT_RULE` (worse pass rates gate, absent scenarios do not)."""
    rules = [parse_rule(r) for r in (rule_texts or (DEFAULT_RULE,))]
    return compare(base, cand, rules, selected=selected, explicit=bool(rule_texts))


def compare(
    base: Baseline,
    cand: Baseline,
    rules: Sequence[CompareRule],
    alpha: float = 0.05,
    *,
    selected: Collection[str] | None = None,
    explicit: bool = True,
) -> Comparison:
    """Compare ``cand`` with ``base`` (see the module docstring for the rules)."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}")
    chosen = None if selected is None else frozenset(selected)
    scenarios = []
    not_selected = []
    for name in sorted(set(base.scenarios) | set(cand.scenarios)):
        if name not in cand.scenarios and chosen is not None and name not in chosen:
            not_selected.append(name)
        elif name not in cand.scenarios:
            one_sided = _one_sided(name, base.scenarios[name].metrics, rules, True)
            scenarios.append(
                ScenarioComparison(
                    scenario=name, status=Status.MISSING, metrics=one_sided
                )
            )
        elif name not in base.scenarios:
            one_sided = _one_sided(name, cand.scenarios[name].metrics, rules, False)
            scenarios.append(
                ScenarioComparison(scenario=name, status=Status.NEW, metrics=one_sided)
            )
        else:
            scenarios.append(
                _compare_scenario(
                    name,
                    base.scenarios[name].metrics,
                    cand.scenarios[name].metrics,
                    rules,
                    alpha,
                )
            )
    return Comparison(
        baseline_path=None if base.source is None else str(base.source),
        baseline_run_id=base.run_id,
        baseline_git_sha=base.git_sha,
        baseline_created=base.created,
        scenarios=tuple(scenarios),
        rules=tuple(rules),
        explicit=explicit,
        not_selected=tuple(not_selected),
        selection_known=chosen is not None,
    )


def _order(metrics: Mapping[str, Metric]) -> list[str]:
    """pass_rate, the oracles' rates by name, then the means."""

    def key(name: str) -> tuple[int, int, str]:
        if name == "pass_rate":
            return (0, 0, name)
        if metrics[name].kind is MetricKind.RATE:
            return (1, 0, name)
        return (2, MEANS.index(name) if name in MEANS else len(MEANS), name)

    return sorted(metrics, key=key)


def _one_sided(
    scenario: str,
    metrics: Mapping[str, Metric],
    rules: Sequence[CompareRule],
    in_base: bool,
) -> tuple[MetricComparison, ...]:
    """The metrics of a scenario (or metric) only one side has."""
    return tuple(
        _absent(scenario, name, metrics[name], rules, in_base)
        for name in _order(metrics)
    )


def _absent(
    scenario: str,
    name: str,
    metric: Metric,
    rules: Sequence[CompareRule],
    in_base: bool,
) -> MetricComparison:
    return MetricComparison(
        metric=name,
        kind=metric.kind,
        base=metric.value if in_base else None,
        cand=None if in_base else metric.value,
        n_base=metric.n if in_base else 0,
        n_cand=0 if in_base else metric.n,
        p_value=None,
        interval=None,
        status=Status.MISSING if in_base else Status.NEW,
        rule=rule_for(rules, scenario, name),
    )


def _compare_scenario(
    scenario: str,
    base: Mapping[str, Metric],
    cand: Mapping[str, Metric],
    rules: Sequence[CompareRule],
    alpha: float,
) -> ScenarioComparison:
    mixed = _passes_mixed(base) or _passes_mixed(cand)
    failed = _some_failed(cand)
    out = []
    for name in _order({**cand, **base}):
        if name not in cand:
            out.append(_absent(scenario, name, base[name], rules, True))
        elif name not in base:
            out.append(_absent(scenario, name, cand[name], rules, False))
        else:
            rule = rule_for(rules, scenario, name)
            out.append(
                _compare_metric(
                    name, base[name], cand[name], rule, alpha, mixed, failed
                )
            )
    statuses = {m.status for m in out}
    status = Status.UNCHANGED
    ranked = (Status.REGRESSED, Status.FLAKY, Status.IMPROVED, Status.CHANGED)
    for candidate in ranked:
        if candidate in statuses:
            status = candidate
            break
    return ScenarioComparison(scenario=scenario, status=status, metrics=tuple(out))


def _passes_mixed(metrics: Mapping[str, Metric]) -> bool:
    """Some of the scenario's runs passed and some failed."""
    passes = metrics.get("pass_rate")
    return isinstance(passes, RateMetric) and passes.mixed


def _some_failed(metrics: Mapping[str, Metric]) -> bool:
    """Some of the scenario's runs failed."""
    passes = metrics.get("pass_rate")
    return isinstance(passes, RateMetric) and passes.successes < passes.n


def _compare_metric(
    name: str,
    base: Metric,
    cand: Metric,
    rule: CompareRule | None,
    alpha: float,
    scenario_mixed: bool,
    scenario_failed: bool = False,
) -> MetricComparison:
    """Classify one metric both sides have (see the module docstring)."""
    if base.kind is not cand.kind:
        raise ValueError(
            f"metric {name!r} is a {base.kind} in the baseline and a {cand.kind}"
            " in the candidate"
        )
    rate = base.kind is MetricKind.RATE
    worsening = (base.value - cand.value) if rate else (cand.value - base.value)
    allowed = rule.threshold(base.value) if rule is not None else 0.0
    single = base.n == 1 and cand.n == 1
    # No change is tested in the worse direction: it is the one that matters.
    significance = None if single else _significance(base, cand, worse=worsening >= 0)
    interval = None
    if rate and not single:
        assert isinstance(base, RateMetric)
        assert isinstance(cand, RateMetric)
        interval = newcombe_interval(base.successes, base.n, cand.successes, cand.n)
    if abs(worsening) <= allowed + _EPSILON:
        status = Status.UNCHANGED
    elif significance is None or significance.p_value < alpha:
        if not rate and (rule is None or (worsening < 0 and scenario_failed)):
            status = Status.CHANGED  # efficiency, in context (module docstring)
        else:
            status = Status.REGRESSED if worsening > 0 else Status.IMPROVED
    else:
        if rate:
            assert isinstance(base, RateMetric)
            assert isinstance(cand, RateMetric)
            mixed = base.mixed or cand.mixed
        else:
            mixed = scenario_mixed
        status = Status.FLAKY if mixed else Status.UNCHANGED
    return MetricComparison(
        metric=name,
        kind=base.kind,
        base=base.value,
        cand=cand.value,
        n_base=base.n,
        n_cand=cand.n,
        p_value=None if significance is None else significance.p_value,
        interval=interval,
        status=status,
        rule=rule,
    )


def _significance(base: Metric, cand: Metric, *, worse: bool) -> Significance:
    """The one-sided test in the direction of the change (worse, or better)."""
    if isinstance(base, RateMetric) and isinstance(cand, RateMetric):
        alternative = Alternative.LOWER if worse else Alternative.HIGHER
        return fisher_one_sided(
            base.successes, base.n, cand.successes, cand.n, alternative=alternative
        )
    assert isinstance(base, MeanMetric)
    assert isinstance(cand, MeanMetric)
    alternative = Alternative.HIGHER if worse else Alternative.LOWER
    return mann_whitney_one_sided(base.values, cand.values, alternative=alternative)


def render_comparison_text(comparison: Comparison) -> str:
    """A short plain-text report: the counts, the scenarios that changed, the gate."""
    sha = comparison.baseline_git_sha
    sha = sha[:7] if sha else "no git sha"
    lines = [
        f"baseline {comparison.baseline_run_id} ({sha}, {comparison.baseline_created})",
        counts_text(comparison.to_json()),
    ]
    rows = [["scenario", "status", "metric", "base", "cand", "delta", "p", "n"]]
    for scenario in _report_order(comparison.scenarios):
        if scenario.status is Status.UNCHANGED:
            continue
        if scenario.status in (Status.NEW, Status.MISSING):
            rows.append([scenario.scenario, str(scenario.status), *["-"] * 6])
            continue
        for m in scenario.metrics:
            if m.status in _MOVED:
                rows.append([scenario.scenario, str(m.status), *_cells(m)])
    if len(rows) > 1:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines.append("")
        lines.extend(
            "  ".join(
                cell.ljust(w) for cell, w in zip(row, widths, strict=True)
            ).rstrip()
            for row in rows
        )
    else:
        lines.append(f"all {len(comparison.scenarios)} scenarios unchanged")
    note = selection_note(comparison.to_json())
    if note:
        lines.extend(["", note])
    lines.append("")
    if not comparison.rules:
        lines.append(f"gate: none (no {_OPTION} rule given)")
    else:
        rules = ", ".join(str(r) for r in comparison.rules)
        failures = comparison.gate_failures
        lines.append(f"gate: {'FAIL' if failures else 'pass'} (rules: {rules})")
        lines.extend(f"  {line}" for line in failures)
    return "\n".join(lines) + "\n"


#: Metric statuses that mean the metric moved.
_MOVED = (Status.REGRESSED, Status.IMPROVED, Status.FLAKY, Status.CHANGED)


def _report_order(
    scenarios: Sequence[ScenarioComparison],
) -> list[ScenarioComparison]:
    rank = [
        Status.REGRESSED,
        Status.MISSING,
        Status.FLAKY,
        Status.NEW,
        Status.IMPROVED,
        Status.CHANGED,
        Status.UNCHANGED,
    ]
    return sorted(scenarios, key=lambda s: (rank.index(s.status), s.scenario))


def _cells(m: MetricComparison) -> list[str]:
    assert m.base is not None
    assert m.cand is not None
    assert m.delta is not None
    p = "-" if m.p_value is None else _p_text(m.p_value)[1:].removeprefix("=")
    return [
        m.metric,
        _number(m.metric, m.base),
        _number(m.metric, m.cand),
        _signed(m.metric, m.delta),
        p,
        f"{m.n_base}/{m.n_cand}",
    ]
