"""Past runs for the HTML report's trend plots, read from the store's frames.

The rows come from :class:`harness.reporting.store.ResultStore` (``trend_rows`` and
``suite_rows``, as a session passes them, or the frames of ``trends`` and
``suite_trend``, read through :class:`Frame`), so pandas is never imported here.
Missing values (None, NaN, NaT, ``pd.NA``) read as None.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from harness.reporting import _view as view


class Frame(Protocol):
    """What the report reads of a trends table (a pandas ``DataFrame``)."""

    def __len__(self) -> int: ...

    def to_dict(self, orient: Any) -> Any: ...


#: A trends table: a frame, or its rows as the store's ``*_rows`` give them.
Rows = Frame | Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True, kw_only=True)
class PastRun:
    """One session of the history: when, at which commit, how it went."""

    run_id: str
    started: str
    git_sha: str | None
    pass_rate: float | None
    verdict: str
    regressions: int | None


#: How many runs of a series the plots show.
SHOWN_RUNS = 30


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """The sessions of one agent on one suite (None: not recorded)."""

    agent: str | None
    suite: str | None
    runs: tuple[PastRun, ...]

    @property
    def label(self) -> str:
        agent = self.agent or "unnamed agent"
        suite = f"suite {self.suite}" if self.suite else "suite not recorded"
        return f"{agent} · {suite}"


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    """This series' runs in the order they started, per scenario its pass rate in
    each, and the other series' runs (other agents, or other suites)."""

    runs: tuple[PastRun, ...]
    current: str | None
    rates: dict[str, dict[str, float]]
    series: Series | None = None
    others: tuple[Series, ...] = ()


def series_of(summary: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The trend series a session belongs to: its agent and its suite (the
    fingerprint of what it selected); None where it has none."""
    agent = summary.get("agent")
    selection = summary.get("selection") or {}
    suite = selection.get("fingerprint") if isinstance(selection, Mapping) else None
    return (agent if isinstance(agent, str) else None, suite)


def _row_series(row: Mapping[str, Any]) -> tuple[str | None, str | None]:
    def value(key: str) -> str | None:
        found = text(row.get(key))
        return None if found in (None, "None", "nan", "") else found

    return value("agent"), value("suite")


def _same_series(
    row: Mapping[str, Any], current: tuple[str | None, str | None]
) -> bool:
    """A row is of the current series when its agent and suite match the current
    run's; what the current run does not know, or a frame without the column
    (a store that never recorded it), matches anything."""
    found = _row_series(row)
    return all(
        c is None or column not in row or r == c
        for column, r, c in zip(("agent", "suite"), found, current, strict=True)
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RateSeries:
    """A scenario's pass rate in every run of the history (None: not run)."""

    scenario: str
    values: tuple[float | None, ...]
    first: float
    last: float
    low: float
    high: float
    runs: int

    @property
    def spread(self) -> float:
        return self.high - self.low


def read_history(
    summary: Mapping[str, Any], trends: Rows | None, suite: Rows | None
) -> History:
    """The history of both frames, with the current run added when they lack it:
    the suite frame's runs of the current run's series (agent and suite), and
    its other series apart."""
    key = series_of(summary)
    runs: dict[str, PastRun] = {}
    other_runs: dict[tuple[str | None, str | None], list[PastRun]] = {}
    for row in records(suite):
        run = _past_run(row)
        if _same_series(row, key):
            runs[run.run_id] = run
        elif run.run_id != summary.get("run_id"):
            other_runs.setdefault(_row_series(row), []).append(run)
    elsewhere = {run.run_id for found in other_runs.values() for run in found}
    rates: dict[str, dict[str, float]] = {}
    weighted: dict[str, tuple[float, float]] = {}
    for row in records(trends):
        value = number(row.get("value"))
        if row.get("metric") != "pass_rate" or value is None:
            continue
        run_id = str(row.get("run_id"))
        rates.setdefault(str(row.get("scenario")), {})[run_id] = value
        n = number(row.get("n")) or 1.0
        passed, total = weighted.get(run_id, (0.0, 0.0))
        weighted[run_id] = (passed + value * n, total + n)
        if run_id not in runs and run_id not in elsewhere:
            runs[run_id] = _past_run(row)
    for run_id, (passed, total) in weighted.items():
        if run_id in runs and runs[run_id].pass_rate is None and total:
            runs[run_id] = replace(runs[run_id], pass_rate=passed / total)
    current = str(summary["run_id"]) if summary.get("run_id") else None
    if current is not None:
        _add_current(summary, current, runs, rates)
    ordered = sorted(runs.values(), key=lambda r: (r.started, r.run_id))
    shown = tuple(ordered[-SHOWN_RUNS:])
    others = tuple(
        Series(agent=agent, suite=suite_, runs=tuple(found[-SHOWN_RUNS:]))
        for (agent, suite_), found in sorted(
            other_runs.items(), key=lambda item: (str(item[0][0]), str(item[0][1]))
        )
    )
    return History(
        runs=shown,
        current=current,
        rates=rates,
        series=Series(agent=key[0], suite=key[1], runs=shown),
        others=others,
    )


def _add_current(
    summary: Mapping[str, Any],
    current: str,
    runs: dict[str, PastRun],
    rates: dict[str, dict[str, float]],
) -> None:
    total = int(summary.get("runs") or 0)
    if current not in runs and total:
        runs[current] = PastRun(
            run_id=current,
            started=when(summary.get("started")) or "~",
            git_sha=view.short_sha((summary.get("git") or {}).get("sha")),
            pass_rate=int(summary.get("passed") or 0) / total,
            verdict=view.verdict_key(summary),
            regressions=len(view.regressed_scenarios(summary)),
        )
    for entry in summary.get("scenarios") or ():
        rate = rates.setdefault(str(entry["scenario"]), {})
        if current not in rate and entry.get("runs"):
            rate[current] = int(entry.get("passed") or 0) / int(entry["runs"])


def _past_run(row: Mapping[str, Any]) -> PastRun:
    sha = text(row.get("git_sha"))
    return PastRun(
        run_id=str(row.get("run_id")),
        started=when(row.get("started")) or "",
        git_sha=view.short_sha(sha) if sha not in ("None", "nan") else None,
        pass_rate=number(row.get("pass_rate")),
        verdict=(text(row.get("verdict")) or "").lower(),
        regressions=integer(row.get("regressions")),
    )


def records(frame: Rows | None) -> list[dict[str, Any]]:
    """The rows of ``frame`` (or the rows given) as dicts; none for None or an
    empty frame."""
    if frame is None or len(frame) == 0:
        return []
    if isinstance(frame, Sequence):
        return [dict(row) for row in frame]
    return [dict(row) for row in frame.to_dict(orient="records")]


def missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT are not equal to themselves
    except (TypeError, ValueError):  # pd.NA has no truth value
        return True


def text(value: object) -> str | None:
    return None if missing(value) else str(value)


def when(value: object) -> str | None:
    """A time as ``2026-12-01T08:15:00Z`` (UTC), from a string or a timestamp."""
    if missing(value):
        return None
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def number(value: object) -> float | None:
    if missing(value) or isinstance(value, bool):
        return None
    try:
        found = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return None if math.isnan(found) else found


def integer(value: object) -> int | None:
    found = number(value)
    return None if found is None else int(found)


def changed_rates(history: History) -> list[RateSeries]:
    """Scenarios whose pass rate moved, with their rate in every run (or None)."""
    order = [run.run_id for run in history.runs]
    changed = []
    for name, by_run in history.rates.items():
        values = tuple(by_run.get(run_id) for run_id in order)
        known = [v for v in values if v is not None]
        if len(known) > 1 and max(known) - min(known) > 1e-9:
            changed.append(
                RateSeries(
                    scenario=name,
                    values=values,
                    first=known[0],
                    last=known[-1],
                    low=min(known),
                    high=max(known),
                    runs=len(known),
                )
            )
    return changed
