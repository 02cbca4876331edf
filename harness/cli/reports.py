"""The report commands of ``aqe``: compare, replay, report, rescore.

Each returns an exit code (see :mod:`harness.reporting.gate`) and prints to the
given stream. Saved files are read through :mod:`harness.reporting.artefacts`;
misuse or a corrupt, foreign or newer file raises
:class:`harness.errors.HarnessError`, which the CLI prints as ``aqe COMMAND: …``
with the usage exit code, 4.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from harness.errors import HarnessError
from harness.files import write_atomic
from harness.reporting.artefacts import (
    is_summary,
    read_baseline,
    read_results,
    read_selection,
    read_summary,
)
from harness.reporting.gate import ExitCode
from harness.reporting.runfolder import RESULTS
from harness.reporting.session import (
    candidate_baseline,
    dump_summary,
    mode_sections,
    write_reports,
)

if TYPE_CHECKING:
    from harness.run import RunRecord

#: Why a run folder without a ``summary.json`` is incomplete.
INCOMPLETE_REASON = "the session ended before writing its summary"


def load_any_baseline(path: Path) -> Any:
    """A baseline from a baseline file, a run folder, or a ``summary.json``."""
    from harness.reporting.baseline import build_baseline

    if path.is_dir():
        return candidate_baseline(run_summary(path), build_baseline)
    if path.name == "summary.json" or (path.suffix == ".json" and is_summary(path)):
        return candidate_baseline(file_summary(path), build_baseline)
    return read_baseline(path)


def run_selection(path: Path) -> tuple[str, ...] | None:
    """The scenario names the session of a run folder (or ``summary.json``)
    selected: its ``selection.json``, else its summary's ``selection``; None for
    a baseline file or a run from a harness that recorded none."""
    from harness.reporting.selection import SELECTION, Selection

    folder = path if path.is_dir() else path.parent
    if path.is_dir() and (folder / SELECTION).is_file():
        return read_selection(folder / SELECTION).scenarios
    summary = folder / "summary.json" if path.is_dir() else path
    if not summary.is_file() or not is_summary(summary):
        return None
    found = read_summary(summary).get("selection")
    return None if found is None else Selection.from_json(found).scenarios


def file_summary(path: Path) -> dict[str, Any]:
    """A ``summary.json`` given on its own, rebuilt from the records it holds."""
    old = read_summary(path)
    return _rebuilt(old["results"], old, run_dir=path.parent)


def run_summary(run_dir: Path) -> dict[str, Any]:
    """A run folder's summary, its records re-read from ``results.jsonl`` (which
    holds every run that finished, even if the session died before its summary)."""
    results = run_dir / RESULTS
    if not results.is_file():
        raise HarnessError(
            f"{run_dir}: no {RESULTS} here\n    fix: pass a run folder,"
            " reports/runs/<id> (or reports/latest)"
        )
    records = list(read_results(results))
    summary_path = run_dir / "summary.json"
    old = read_summary(summary_path) if summary_path.is_file() else None
    return _rebuilt(records, old, run_dir=run_dir)


def _rebuilt(
    records: list[RunRecord], old: dict[str, Any] | None, *, run_dir: Path
) -> dict[str, Any]:
    """The summary of ``records``, keeping what the session decided (``old``, a
    checked summary) or marked incomplete when there is none (a killed session)."""
    from harness.reporting.summary import build_summary

    if old is not None:
        keys = ("run_id", "started", "finished", "git", "complete", "incomplete_reason")
        meta = {k: old[k] for k in keys}
        kept = ("comparison", "gate", "verdict", "exit_code", "shadow", "selection")
        extra = {k: old.get(k) for k in kept}
    else:
        meta = {
            "run_id": run_dir.name,
            "started": None,
            "finished": None,
            "git": {"sha": None, "branch": None, "dirty": False},
            "complete": False,
            "incomplete_reason": INCOMPLETE_REASON,
        }
        extra = {"verdict": "error", "exit_code": int(ExitCode.ERROR)}
    summary = build_summary(records, **meta, run_dir=str(run_dir))
    gated = ((extra.get("shadow") or {}).get("thresholds") or {}).get("min_agreement")
    summary.update(mode_sections(records, gated))
    summary["comparison"] = extra.get("comparison")
    summary["selection"] = extra.get("selection")
    summary["gate"] = extra.get("gate") or {"rules": [], "failed": []}
    summary["verdict"] = extra.get("verdict") or (
        "error"
        if not summary["complete"]
        else "pass"
        if not summary["failed"]
        else "fail"
    )
    summary["exit_code"] = extra.get("exit_code")
    return summary


def compare_command(
    base: Path,
    cand: Path,
    *,
    rules: Sequence[str],
    fail_on_regression: bool,
    fmt: str,
    out: TextIO,
) -> int:
    """``aqe compare BASE CAND``: print the comparison; exit 6 on a regression
    when asked to."""
    from harness.reporting.compare import gate_comparison, render_comparison_text

    comparison = gate_comparison(
        load_any_baseline(base),
        load_any_baseline(cand),
        rules,
        selected=run_selection(cand),
    )
    data = comparison.to_json()
    data["baseline"]["path"] = str(base)
    failures = comparison.gate_failures
    if fmt == "json":
        out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
    elif fmt in ("md", "html"):
        summary = _comparison_summary(cand, data, rules=rules, failures=failures)
        if fmt == "md":
            from harness.reporting.markdown import render_markdown

            out.write(render_markdown(summary))
        else:
            from harness.reporting.html import render_html
            from harness.reporting.viewer import load_stories

            # the candidate's runs open to their stories, read from its traces
            folder = (
                cand if cand.is_dir() else cand.parent if is_summary(cand) else None
            )
            out.write(render_html(summary, stories=load_stories(summary, folder)))
    else:
        out.write(render_comparison_text(comparison))
    if fail_on_regression and failures:
        return int(ExitCode.REGRESSION)
    return int(ExitCode.PASS)


def _comparison_summary(
    cand: Path,
    comparison: dict[str, Any],
    *,
    rules: Sequence[str],
    failures: Sequence[str],
) -> dict[str, Any]:
    """The candidate's summary (a run folder's, or an empty one) with the
    comparison in it, for the Markdown and HTML renderers."""
    if cand.is_dir():
        summary = run_summary(cand)
    elif is_summary(cand):
        summary = file_summary(cand)
    else:
        from harness.reporting.summary import build_summary

        summary = build_summary(
            [],
            run_id=cand.stem,
            started=None,
            finished=None,
            git={"sha": None, "branch": None, "dirty": False},
            complete=True,
            incomplete_reason=None,
        )
        summary["gate"] = {"rules": [], "failed": []}
    from harness.reporting.compare import DEFAULT_RULE

    summary["comparison"] = comparison
    summary["gate"] = {
        **(summary.get("gate") or {}),
        "rules": list(rules) or [DEFAULT_RULE],
        "failed": list(failures),
    }
    summary["verdict"] = "regression" if failures else summary.get("verdict", "pass")
    return summary


def report_command(run_dir: Path, *, out: TextIO) -> int:
    """``aqe report RUN_DIR``: regenerate summary.json, summary.md and report.html
    from ``results.jsonl``; a session that did not complete (killed before its
    summary, or marked so) gives an incomplete summary and exit 7."""
    summary = run_summary(run_dir)
    if not summary["complete"] and summary["exit_code"] is None:
        summary["verdict"], summary["exit_code"] = "error", int(ExitCode.ERROR)
    write_atomic(run_dir / "summary.json", dump_summary(summary))
    written = write_reports(summary, run_dir, trends=None, suite_trend=None)
    out.write(
        f"aqe report: {summary['runs']} run(s) from {run_dir / RESULTS}; wrote"
        f" {run_dir / 'summary.json'}, {written['markdown']}, {written['html']}\n"
    )
    if not summary["complete"]:
        out.write(f"INCOMPLETE: {summary['incomplete_reason']} (exit 7)\n")
        return int(ExitCode.ERROR)
    return int(ExitCode.PASS)


def replay_command(trace_path: Path, *, scenario: Path | None, out: TextIO) -> int:
    """``aqe replay TRACE``: run the trace's agent again on its scenario and seed;
    exit 0 when the trace and verdict are reproduced byte for byte."""
    from harness.isolation import ProcessIsolation
    from harness.models.source import for_scenario
    from harness.reporting.artefacts import read_trace
    from harness.reporting.replay import trace_scenario
    from harness.reporting.trace import trace_bytes
    from harness.run import run_scenario

    trace = read_trace(trace_path)
    loaded = trace_scenario(trace, scenario)
    header = trace.header
    agent = str(header["agent"])  # imported only in its own process
    seed = int(header["seed"])
    # the scenario's own model, or the run's cassette: never a live call
    model = for_scenario(loaded, agent=agent, seed=seed)
    isolation = ProcessIsolation()  # the agent is the one under test: not trusted
    try:
        result = run_scenario(
            loaded, agent, seed=seed, isolation=isolation, model=model
        )
    finally:
        isolation.close()
    new = trace_bytes(result, mode=str(header.get("mode") or "sim"))
    old_verdict = trace.verdict
    verdict = (
        "passed" if result.passed else "failed " + ", ".join(result.failed_oracles)
    )
    if new == trace.text:
        out.write(
            f"aqe replay: reproduced {header['scenario']} (seed {header['seed']},"
            f" agent {header['agent']}): identical trace"
            f" ({len(trace.lines)} lines), verdict {verdict}\n"
        )
        return int(ExitCode.PASS)
    old_lines = trace.text.decode().splitlines()
    new_lines = new.decode().splitlines()
    first = next(
        (
            i
            for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=False))
            if a != b
        ),
        min(len(old_lines), len(new_lines)),
    )
    was = (
        "passed"
        if old_verdict["passed"]
        else "failed " + ", ".join(old_verdict["failed"])
    )
    out.write(
        f"aqe replay: NOT reproduced {header['scenario']} (seed {header['seed']}):"
        f" the trace differs from line {first + 1}\n"
        f"  recorded: {_clip(old_lines[first] if first < len(old_lines) else '')}\n"
        f"  now:      {_clip(new_lines[first] if first < len(new_lines) else '')}\n"
        f"  verdict recorded: {was}; now: {verdict}\n"
    )
    if header.get("scenario_sha256") != loaded.source_sha256:
        out.write("  the scenario file changed since the trace was written\n")
    return int(ExitCode.FAILED)


def _clip(line: str, width: int = 160) -> str:
    return line if len(line) <= width else line[: width - 1] + "…"


def rescore_command(run_dir: Path, *, out: TextIO) -> int:
    """``aqe rescore RUN_DIR``: re-score the run folder's traces with today's
    oracles and scenarios, without running agents; writes ``RUN_DIR/rescored/``."""
    from harness.reporting.replay import rescore_records
    from harness.reporting.runfolder import ResultsLog
    from harness.reporting.summary import build_summary

    old = run_summary(run_dir)
    records = rescore_records(old["results"], run_dir)
    target = run_dir / "rescored"
    results = target / RESULTS
    results.unlink(missing_ok=True)
    log = ResultsLog(results)
    for record in records:
        log.append(record)
    summary = build_summary(
        records,
        run_id=f"{old['run_id']}-rescored",
        started=old.get("started"),
        finished=old.get("finished"),
        git=old["git"],
        complete=old["complete"],
        incomplete_reason=old.get("incomplete_reason"),
        run_dir=str(target),
    )
    summary["comparison"] = None
    summary["gate"] = {"rules": [], "failed": []}
    summary["verdict"] = "pass" if not summary["failed"] else "fail"
    write_atomic(target / "summary.json", dump_summary(summary))
    write_reports(summary, target)
    before = {(r["scenario"], r["seed"]): r for r in old["results"]}
    changed = 0
    for record in records:
        prior = before.get((record["scenario"], record["seed"]))
        if prior is not None and prior["passed"] != record["passed"]:
            changed += 1
            now = (
                "passes" if record["passed"] else "fails " + ", ".join(record["failed"])
            )
            out.write(f"  {record['scenario']} (seed {record['seed']}): now {now}\n")
    out.write(
        f"aqe rescore: {len(records)} run(s) re-scored from their traces,"
        f" {changed} verdict(s) changed, {summary['passed']}/{summary['runs']} pass;"
        f" wrote {target}/\n"
    )
    return int(ExitCode.PASS if not summary["failed"] else ExitCode.FAILED)
