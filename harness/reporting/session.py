"""A session's reports, end to end: records in, run folder, comparison, gate out.

The plugin hands every finished run's record to :class:`SessionReport` on the
controller (xdist workers only run and write traces). At session end it builds the
summary, compares it with the baseline, decides the gate once, and writes
``summary.json``, ``summary.md`` and ``report.html`` (atomically), the history
store and the baseline if asked.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import BaselineError, HarnessError
from harness.files import write_atomic
from harness.reporting.gate import Gate, decide
from harness.reporting.runfolder import (
    RESULTS,
    GitInfo,
    ResultsLog,
    git_info,
    iso,
    new_run_id,
    point_latest,
    utc_now,
)
from harness.reporting.summary import build_summary

if TYPE_CHECKING:
    from harness.reporting.selection import Selection
    from harness.run import RunRecord


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportOptions:
    """The reporting options of a session, resolved to paths and rules."""

    reports: Path
    baseline: Path
    #: The baseline was named on the command line (so it must exist).
    baseline_explicit: bool = False
    save_baseline: bool = False
    store: str | None = None
    rules: tuple[str, ...] = ()
    #: Shadow mode: the least agreement rate that passes (None: report only).
    shadow_min_agreement: float | None = None
    #: The session was asked to run an agent: running nothing is then a failure.
    expects_runs: bool = False


@dataclass(slots=True, kw_only=True)
class SessionReport:
    """What the controller gathers during a session and writes at its end."""

    options: ReportOptions
    root: Path
    run_id: str
    git: GitInfo
    started: Any
    records: list[RunRecord] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)
    baseline: Any = None
    #: What the session collected (None until collection is done).
    selection: Selection | None = None
    summary: dict[str, Any] | None = None
    gate: Gate | None = None
    written: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def start(cls, options: ReportOptions, root: Path) -> SessionReport:
        """Resolve the run folder and load the baseline (a bad one raises)."""
        from harness.reporting.compare import parse_rule

        for rule in options.rules:
            parse_rule(rule)  # raises HarnessError naming the grammar
        least = options.shadow_min_agreement
        if least is not None and not 0.0 <= least <= 1.0:
            raise HarnessError(
                f"--aqe-shadow-min-agreement {least}: not a rate\n"
                "    fix: a share of cases between 0 and 1, e.g. 0.95"
            )
        started = utc_now()
        git = git_info(root)
        report = cls(
            options=options,
            root=root,
            run_id=new_run_id(options.reports, started, git),
            git=git,
            started=started,
        )
        report.baseline = load_session_baseline(options)
        return report

    @property
    def run_dir(self) -> Path:
        return self.options.reports / "runs" / self.run_id

    def select(self, selection: Selection) -> None:
        """Collection is done: keep what was selected and write ``selection.json``
        (when it selected a scenario: a session of other tests leaves no folder)."""
        from harness.reporting.selection import write_selection

        self.selection = selection
        if not selection.scenarios:
            return
        try:
            write_selection(self.run_dir, selection)
        except OSError as err:
            self.errors.append(f"cannot write {self.run_dir}/selection.json: {err}")

    def add(self, record: RunRecord) -> None:
        """A run finished: keep its record and append it to ``results.jsonl``."""
        self.records.append(record)
        try:
            ResultsLog(self.run_dir / RESULTS).append(record)
        except OSError as err:
            self.errors.append(f"cannot append to {self.run_dir / RESULTS}: {err}")

    def finish(self, *, pytest_status: int, failed_tests: int) -> Gate | None:
        """Build the summary, compare, decide the gate and write the reports.

        Returns None when the session had nothing to do with scenarios.
        """
        if not self.records and not self.options.expects_runs:
            return None
        summary = build_summary(
            self.records,
            run_id=self.run_id,
            started=iso(self.started),
            finished=iso(utc_now()),
            git=self.git.to_json(),
            complete=not self.incomplete,
            incomplete_reason="; ".join(self.incomplete) or None,
            run_dir=str(self.run_dir),
        )
        summary.update(mode_sections(self.records, self.options.shadow_min_agreement))
        summary["selection"] = (
            None if self.selection is None else self.selection.to_json()
        )
        failures = []
        if summary["shadow"] is not None and not summary["shadow"]["passed"]:
            failures.append(f"shadow: {summary['shadow']['explanation']}")
        regressions = self._compare(summary)
        tolerated = sum(
            row["runs"] - row["passed"]
            for row in summary["scenarios"]
            if row.get("thresholds_met")
        )

        def gate() -> Gate:
            return decide(
                pytest_status=pytest_status,
                failed_tests=failed_tests,
                tolerated=tolerated,
                ran=len(self.records),
                regressions=regressions,
                errors=[*self.incomplete, *self.errors],
                failures=failures,
            )

        self.gate = gate()
        self.summary = summary
        if self.records:
            self._write(summary, self.gate)
            if self.errors and self.gate.verdict != "error":  # a write failed
                self.gate = gate()
                self._write_summary_json(summary, self.gate)
        return self.gate

    # -- comparison --------------------------------------------------------------

    def _compare(self, summary: dict[str, Any]) -> list[str]:
        """Compare with the baseline; the gate failures it yields."""
        from harness.reporting.baseline import build_baseline
        from harness.reporting.compare import DEFAULT_RULE, gate_comparison

        summary["comparison"] = None
        summary["gate"] = {"rules": list(self.options.rules), "failed": []}
        candidate = candidate_baseline(summary, build_baseline)
        # shadow and canary sessions report on their own terms: a baseline
        # compares what acted in the simulated world
        if self.baseline is None or not candidate.scenarios:
            return []
        selected = None if self.selection is None else self.selection.scenarios
        comparison = gate_comparison(
            self.baseline, candidate, self.options.rules, selected=selected
        )
        data = comparison.to_json()
        data["baseline"]["path"] = str(self.options.baseline)
        summary["comparison"] = data
        failures = list(comparison.gate_failures)
        summary["gate"] = {
            "rules": list(self.options.rules) or [DEFAULT_RULE],
            "failed": failures,
        }
        return failures

    # -- writing -----------------------------------------------------------------

    def _write(self, summary: dict[str, Any], gate: Gate) -> None:
        from harness.reporting.baseline import build_baseline, save_baseline

        self._write_summary_json(summary, gate)
        trends = suite = None
        try:
            from harness.reporting.store import open_store

            with open_store(self.store_url) as store:
                store.add_run(summary)
                from harness.reporting._history import series_of

                agent, fingerprint = series_of(summary)
                # the scenarios' trends of this agent on this suite; every
                # series' sessions, for the report to show this one and offer others
                trends = store.trend_rows(last=30, agent=agent, suite=fingerprint)
                suite = store.suite_rows(last=HISTORY_RUNS)
        except Exception as err:
            # an infrastructure error (exit 7); the run's own reports still get written
            self.errors.append(f"history store {self.store_url}: {err}")
        self.written.update(
            write_reports(summary, self.run_dir, trends=trends, suite_trend=suite)
        )
        step = os.environ.get("GITHUB_STEP_SUMMARY")
        if step:
            try:
                with open(step, "a", encoding="utf-8") as handle:
                    handle.write((self.run_dir / "summary.md").read_text("utf-8"))
            except OSError as err:
                self.errors.append(f"cannot append to $GITHUB_STEP_SUMMARY: {err}")
        baseline = candidate_baseline(summary, build_baseline)
        if self.options.save_baseline and baseline.scenarios:
            save_baseline(baseline, self.options.baseline)
            self.written["baseline"] = self.options.baseline
        point_latest(self.options.reports, self.run_dir)

    def _write_summary_json(self, summary: dict[str, Any], gate: Gate) -> None:
        summary["verdict"] = gate.verdict
        summary["exit_code"] = gate.exit_code
        summary["gate"]["reasons"] = list(gate.reasons)
        path = self.run_dir / "summary.json"
        write_atomic(path, dump_summary(summary))
        self.written["summary"] = path

    @property
    def store_url(self) -> str:
        return self.options.store or str(self.options.reports / "history.sqlite")


#: How many past sessions (of every series) a report's trends read.
HISTORY_RUNS = 300


def mode_sections(
    records: Sequence[RunRecord], shadow_min_agreement: float | None = None
) -> dict[str, Any]:
    """The summary's ``canary`` (the stream's report) and ``shadow`` (agreement
    over the shadow records, gated by ``shadow_min_agreement``) entries."""
    from harness.modes.shadow_diff import ShadowCase, ShadowThresholds, agreement

    canary = next((r["canary"] for r in records if r.get("mode") == "canary"), None)
    shadows = [r["shadow"] for r in records if r.get("shadow")]
    if not shadows:
        return {"canary": canary, "shadow": None}
    gate = ShadowThresholds(min_agreement=shadow_min_agreement)
    shadow = agreement([ShadowCase.from_json(s) for s in shadows], gate).to_json()
    shadow["shared_untouched"] = all(s["shared_untouched"] for s in shadows)
    shadow["would_have"] = [
        f"{s['scenario']} (seed {s['seed']}): {line}"
        for s in shadows
        for line in s["consequences"]
    ]
    return {"canary": canary, "shadow": shadow}


def load_session_baseline(options: ReportOptions) -> Any:
    """The baseline to compare with, None when there is none to use."""
    from harness.reporting.baseline import load_baseline

    path = options.baseline
    if not path.exists():
        if options.baseline_explicit and not options.save_baseline:
            raise BaselineError(
                f"{path}: no such baseline\n"
                "    fix: run once with --aqe-save-baseline to write it, or point"
                " --aqe-baseline at an existing file"
            )
        return None
    try:
        return load_baseline(path)
    except BaselineError:
        if options.save_baseline:
            return None  # it is about to be replaced
        raise


def candidate_baseline(summary: dict[str, Any], build: Any) -> Any:
    """The baseline of a summary's runs in the simulated world (sim mode): what a
    comparison with a baseline compares, and what a saved baseline holds."""
    sim = [r for r in summary["results"] if r.get("mode", "sim") == "sim"]
    return build(
        sim,
        run_id=summary["run_id"],
        git_sha=summary["git"]["sha"],
        agent=agent if isinstance(agent := summary["agent"], str) else str(agent),
        created=summary["finished"],
    )


def dump_summary(summary: dict[str, Any]) -> bytes:
    return (json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n").encode()


def write_reports(
    summary: dict[str, Any],
    run_dir: Path,
    *,
    trends: Any = None,
    suite_trend: Any = None,
) -> dict[str, Path]:
    """Write ``summary.md`` and ``report.html`` of ``summary`` into ``run_dir``
    (the page with each run's story, read from the traces under ``run_dir``)."""
    from harness.reporting.html import render_html
    from harness.reporting.markdown import render_markdown
    from harness.reporting.viewer import load_stories

    md = run_dir / "summary.md"
    html = run_dir / "report.html"
    write_atomic(md, render_markdown(summary).encode())
    page = render_html(
        summary,
        trends=trends,
        suite_trend=suite_trend,
        stories=load_stories(summary, run_dir),
    )
    write_atomic(html, page.encode())
    return {"markdown": md, "html": html}


def write_terminal(report: SessionReport, terminal: Any) -> None:
    """The table, the comparison and the gate's one-line verdict."""
    from harness.reporting.summary import write_table

    summary, gate = report.summary, report.gate
    if summary is None or gate is None:
        return
    write_table(summary, terminal)
    from harness.reporting.modes import canary_lines, shadow_lines

    if summary.get("canary"):
        for text in canary_lines(summary["canary"]):
            terminal.write_line(text)
    if summary.get("shadow"):
        for text in shadow_lines(summary["shadow"]):
            terminal.write_line(text)
    comparison = summary.get("comparison")
    if comparison is not None:
        _write_comparison(comparison, terminal)
    from harness.reporting.summary import unsandboxed_line

    loose = unsandboxed_line(summary)
    if loose is not None:
        terminal.write_line(f"aqe: verdicts {loose}", yellow=True)
        if (summary.get("sandbox") or {}).get("process"):
            from harness.runtime.netns import namespaces_unavailable

            why = namespaces_unavailable()
            if why is not None:
                terminal.write_line(f"  no kernel namespaces here: {why}")
    for reason in report.incomplete:
        terminal.write_line(f"INCOMPLETE: {reason}", red=True, bold=True)
    for error in report.errors:
        terminal.write_line(f"aqe error: {error}", red=True)
    passed, runs = summary["passed"], summary["runs"]
    line = f"{passed}/{runs} scenario runs passed; aqe gate: {gate.verdict.upper()}"
    line += f" (exit {gate.exit_code}{', unsandboxed' if loose else ''})"
    terminal.write_line(line, bold=True, red=gate.exit_code != 0)
    for reason in gate.reasons:
        terminal.write_line(f"  {reason}")
    if "summary" in report.written:
        where = _shown(report.run_dir)
        terminal.write_line(
            f"reports: {where}/ (summary.json, summary.md, report.html, traces/)"
        )


def _shown(path: Path) -> str:
    try:
        return path.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return path.as_posix()


def _write_comparison(comparison: dict[str, Any], terminal: Any) -> None:
    from harness.reporting._view import counts_text, selection_note

    shown = _shown(Path(comparison["baseline"]["path"]))
    terminal.write_line(f"baseline {shown}: {counts_text(comparison)}")
    for line in comparison["regressions"]:
        terminal.write_line(f"  REGRESSED {line}", red=True)
    for status in ("flaky", "new", "missing"):
        names = [
            r["scenario"] for r in comparison["scenarios"] if r["status"] == status
        ]
        if names:
            shown = ", ".join(names[:8])
            more = f" and {len(names) - 8} more" if len(names) > 8 else ""
            terminal.write_line(f"  {status}: {shown}{more}")
    note = selection_note(comparison)
    if note:
        terminal.write_line(f"  {note}")


def failed_count(session: Any) -> int:
    return int(getattr(session, "testsfailed", 0))


def crash_reason(report: Any) -> str | None:
    """xdist's report for an item whose worker died, else None."""
    if report.failed and report.when not in ("setup", "call", "teardown"):
        text = str(report.longrepr)
        if "crashed" in text:
            return text
    return None


def sorted_records(records: Sequence[RunRecord]) -> list[RunRecord]:
    return sorted(
        records, key=lambda r: (r["path"], r["scenario"], r.get("seed_index", 0))
    )
