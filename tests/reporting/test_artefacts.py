"""Saved artefacts are read through one versioned reader: a corrupt, foreign or
newer summary.json, baseline, results.jsonl or trace is one clear error naming the
file (exit 4), never a traceback; ``aqe report`` of a killed session exits 7.

The Hypothesis test runs 100 corruptions by default; ``AQE_SLOW=1`` runs
the issue's full 2,000 (``AQE_SLOW=1 pytest tests/reporting/test_artefacts.py``),
in four shards of the commands that pytest-xdist's workers share.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.reporting.gate import ExitCode
from tests.conftest import ROOT

CAREFUL = "harness.agents.reference:careful_refund_agent"
NAIVE = "harness.agents.reference:naive_refund_agent"
SCENARIOS = ("refund_ok", "refund_ambiguous_timeout")
#: The issue's full count runs only when asked (the slow CI job).
EXAMPLES = 2000 if os.environ.get("AQE_SLOW") == "1" else 100
#: The corruptions are split over shards (each its own commands), so
#: pytest-xdist's workers share the sweep.
SHARDS = 4


def _records(run_dir: Path, agent: str) -> list[Any]:
    from harness.agents.loading import load_agent
    from harness.reporting.runfolder import ResultsLog
    from harness.reporting.trace import write_trace
    from harness.run import run_record, run_scenario
    from harness.scenario.loader import load_scenario

    log = ResultsLog(run_dir / "results.jsonl")
    records = []
    for name in SCENARIOS:
        path = Path("scenarios") / "payments" / f"{name}.yaml"
        result = run_scenario(load_scenario(path), load_agent(agent), seed=7)
        trace = write_trace(result, run_dir / "traces")
        record = run_record(
            result,
            nodeid=f"{path}::{name}",
            path=str(path),
            agent=agent,
            seed_index=0,
            trace=str(trace.relative_to(run_dir)),
        )
        log.append(record)
        records.append(record)
    return records


@dataclass(frozen=True, slots=True, kw_only=True)
class Saved:
    """A baseline (the careful agent's) and a run folder (the naive agent's)."""

    baseline: Path
    run_dir: Path


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Saved]:
    from harness.reporting.baseline import build_baseline, save_baseline
    from harness.reporting.compare import compare, parse_rule
    from harness.reporting.session import candidate_baseline, dump_summary
    from harness.reporting.summary import build_summary

    root = tmp_path_factory.mktemp("saved")
    old = Path.cwd()
    os.chdir(ROOT)  # traces name their scenario relative to where the run ran
    try:
        base_records = _records(root / "base", CAREFUL)
        baseline = build_baseline(
            base_records, run_id="base", git_sha=None, agent=CAREFUL, created="x"
        )
        save_baseline(baseline, root / "baseline.json")
        run_dir = root / "cand"
        summary = build_summary(
            _records(run_dir, NAIVE),
            run_id="cand",
            started="2026-12-01T08:15:00Z",
            finished="2026-12-01T08:16:00Z",
            git={"sha": None, "branch": None, "dirty": False},
            complete=True,
            incomplete_reason=None,
            run_dir=str(run_dir),
        )
        candidate = candidate_baseline(summary, build_baseline)
        summary["comparison"] = compare(
            baseline, candidate, [parse_rule("pass_rate:0")]
        ).to_json()
        summary["gate"] = {"rules": ["pass_rate:0"], "failed": [], "reasons": []}
        summary["verdict"], summary["exit_code"] = "fail", 1
        summary["shadow"] = None
        (run_dir / "summary.json").write_bytes(dump_summary(summary))
        yield Saved(baseline=root / "baseline.json", run_dir=run_dir)
    finally:
        os.chdir(old)


# -- corruptions ------------------------------------------------------------------------

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=8),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every JSON path in ``value`` (below the document itself)."""
    children: Any = ()
    if isinstance(value, dict):
        children = value.items()
    elif isinstance(value, list):
        children = enumerate(value)
    for key, child in children:
        yield (*prefix, key)
        yield from _paths(child, (*prefix, key))


def _mutate_json(draw: Any, document: Any) -> Any:
    """Delete a key, or replace a value, at a random JSON path of ``document``."""
    paths = list(_paths(document))
    if not paths or draw(st.integers(0, 9)) == 0:
        return draw(_VALUES)  # a foreign document altogether
    path = draw(st.sampled_from(paths))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(_VALUES)
    return document


def _nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def _corrupt(draw: Any, data: bytes) -> bytes:
    """``data`` (one JSON document, or JSON lines) corrupted one way."""
    how = draw(
        st.sampled_from(["truncate", "empty", "bytes", "nest", "json", "json", "json"])
    )
    if how == "truncate":
        return data[: draw(st.integers(0, max(len(data) - 1, 0)))]
    if how == "empty":
        return b""
    if how == "bytes":
        at = draw(st.integers(0, len(data)))
        return (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x00"]))
            + data[at:]
        )
    if how == "nest":
        return _nested(draw(st.sampled_from([65, 1000, 100_000])))
    lines = data.decode().splitlines()
    if not data.endswith(b"\n}\n") and len(lines) > 1:  # JSON lines
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = json.dumps(_mutate_json(draw, json.loads(lines[index])))
        return ("\n".join(lines) + "\n").encode()
    return json.dumps(_mutate_json(draw, json.loads(data)), indent=2).encode()


# -- the commands ------------------------------------------------------------------------


def _command(
    name: str, saved: Saved, work: Path
) -> tuple[Path, Callable[[], list[str]]]:
    """The file to corrupt in ``work`` (a copy of the saved run) and the command
    line that reads it."""
    run_dir = work / "cand"
    trace = next((run_dir / "traces").glob("refund_ok.*.jsonl"))
    baseline = work / "baseline.json"
    table: dict[str, tuple[Path, list[str]]] = {
        "compare-summary": (
            run_dir / "summary.json",
            ["compare", str(baseline), str(run_dir), "--format", "md"],
        ),
        "compare-summary-file": (
            run_dir / "summary.json",
            ["compare", str(run_dir / "summary.json"), str(baseline)],
        ),
        "compare-results": (
            run_dir / "results.jsonl",
            ["compare", str(run_dir), str(baseline), "--format", "html"],
        ),
        "compare-baseline": (baseline, ["compare", str(baseline), str(run_dir)]),
        "report-summary": (run_dir / "summary.json", ["report", str(run_dir)]),
        "report-results": (run_dir / "results.jsonl", ["report", str(run_dir)]),
        "replay": (trace, ["replay", str(trace)]),
        "rescore-results": (run_dir / "results.jsonl", ["rescore", str(run_dir)]),
        "rescore-trace": (trace, ["rescore", str(run_dir)]),
    }
    target, argv = table[name]
    return target, lambda: argv


COMMANDS = (
    "compare-summary",
    "compare-summary-file",
    "compare-results",
    "compare-baseline",
    "report-summary",
    "report-results",
    "replay",
    "rescore-results",
    "rescore-trace",
)
#: What a command may end with on a corrupt file that it can still read.
READ_OK = {ExitCode.PASS, ExitCode.FAILED, ExitCode.ERROR}


def _copy(saved: Saved, work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copytree(saved.run_dir, work / "cand")
    shutil.copy(saved.baseline, work / "baseline.json")


@settings(
    max_examples=EXAMPLES // SHARDS,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@pytest.mark.parametrize("shard", range(SHARDS))
@given(data=st.data())
def test_a_corrupt_saved_artefact_is_one_clear_error_naming_it(
    saved: Saved,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    shard: int,
    data: st.DataObject,
) -> None:
    name = data.draw(st.sampled_from(COMMANDS[shard::SHARDS]), label="command")
    work = tmp_path / "work"
    _copy(saved, work)
    target, argv = _command(name, saved, work)
    target.write_bytes(_corrupt(data.draw, target.read_bytes()))
    capsys.readouterr()
    started = time.monotonic()
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        code = main(argv())
    finally:
        os.chdir(old)
    took = time.monotonic() - started
    err = capsys.readouterr().err
    event(f"{name}: exit {code}")
    assert took < 10, f"{name} took {took:.1f} s"
    if code == ExitCode.USAGE_ERROR:
        command = argv()[0]
        assert err.startswith(f"aqe {command}: "), err
        assert str(target) in err or str(work / "cand") in err, err
        assert "\n    fix: " in err, err
        assert "Traceback" not in err
    else:
        assert code in READ_OK, (code, err)


# -- the messages, word for word -------------------------------------------------------


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        code = main(argv)
    finally:
        os.chdir(old)
    return code, capsys.readouterr().err


@pytest.fixture
def work(saved: Saved, tmp_path: Path) -> Path:
    _copy(saved, tmp_path / "w")
    return tmp_path / "w"


def _edit_summary(run_dir: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    path = run_dir / "summary.json"
    summary = json.loads(path.read_text())
    edit(summary)
    path.write_text(json.dumps(summary))
    return path


FIX_SUMMARY = (
    "    fix: regenerate it with aqe report RUN_DIR, or pass another run folder\n"
)


def test_a_summary_with_a_wrongly_typed_and_a_missing_key_names_both(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def edit(summary: dict[str, Any]) -> None:
        summary["results"][1]["scores"]["policy"] = "yes"
        del summary["git"]["sha"]

    path = _edit_summary(work / "cand", edit)
    code, err = _run(["compare", str(path), str(work / "baseline.json")], capsys)
    assert code == ExitCode.USAGE_ERROR == 4
    assert err == (
        f"aqe compare: {path}: git.sha: missing\n"
        f'{path}: results[1].scores.policy: expected a boolean or null, got "yes"\n'
        + FIX_SUMMARY
    )


def test_a_summary_of_a_newer_harness_says_which_version_this_one_reads(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _edit_summary(work / "cand", lambda s: s.update(summary_version=3))
    code, err = _run(["report", str(work / "cand")], capsys)
    assert code == 4
    assert err == (
        f"aqe report: {path}: summary_version: 3 is newer than this harness reads"
        " summary_version 2: a newer aqe-harness wrote it\n"
        "    fix: upgrade aqe-harness to read it\n"
    )


def test_a_foreign_json_file_is_not_a_summary(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = work / "cand" / "summary.json"
    path.write_text('{"name": "something else"}')
    code, err = _run(["report", str(work / "cand")], capsys)
    assert code == 4
    assert err == (
        f"aqe report: {path}: summary_version: missing; not an aqe summary, or an old"
        " one (this harness reads summary_version 2)\n" + FIX_SUMMARY
    )
    path.write_text('{"summary_version": "2"}')
    assert _run(["report", str(work / "cand")], capsys) == (
        4,
        f'aqe report: {path}: summary_version: "2" is not one this harness reads'
        " summary_version 2\n" + FIX_SUMMARY,
    )
    path.write_text("[1, 2]")
    assert _run(["report", str(work / "cand")], capsys) == (
        4,
        f"aqe report: {path}: the summary is an array, not a JSON object\n"
        + FIX_SUMMARY,
    )


def test_a_summary_that_is_not_json_utf8_or_shallow_is_one_error(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = work / "cand" / "summary.json"
    argv = ["report", str(work / "cand")]
    path.write_bytes(b'{"run_id": \xff}')
    assert _run(argv, capsys) == (
        4,
        f"aqe report: {path}: not UTF-8 text (byte 11)\n" + FIX_SUMMARY,
    )
    path.write_text('{\n  "run_id": }')
    assert _run(argv, capsys) == (
        4,
        f"aqe report: {path}:2:13: not JSON: Expecting value\n" + FIX_SUMMARY,
    )
    path.write_bytes(_nested(65))
    assert _run(argv, capsys) == (
        4,
        f"aqe report: {path}: nested deeper than 64 levels\n" + FIX_SUMMARY,
    )
    path.write_bytes(_nested(100_000))
    assert _run(argv, capsys) == (
        4,
        f"aqe report: {path}: nested deeper than 64 levels\n" + FIX_SUMMARY,
    )
    path.write_text('{"summary_version": ' + "9" * 5000 + "}")
    code, err = _run(argv, capsys)
    assert code == 4
    assert err.startswith(f"aqe report: {path}: not JSON aqe can read: Exceeds the")
    assert err.endswith("\n" + FIX_SUMMARY)


def test_a_bad_results_line_names_its_file_line_and_key(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = work / "cand" / "results.jsonl"
    lines = path.read_text().splitlines()
    first = json.loads(lines[0])
    first["passed"] = 1
    first["record_version"] = 2
    second = json.loads(lines[1])
    del second["trace"]
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    argv = ["rescore", str(work / "cand")]
    assert _run(argv, capsys) == (
        4,
        f"aqe rescore: {path}:1: record_version: 2 is newer than this harness reads"
        " record_version 1: a newer aqe-harness wrote it\n"
        "    fix: upgrade aqe-harness to read it\n",
    )
    first["record_version"] = 1
    path.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    assert _run(argv, capsys) == (
        4,
        f"aqe rescore: {path}:1: passed: expected a boolean, got 1\n"
        "    fix: remove the line, or re-run the session\n",
    )
    path.write_text(json.dumps(lines[0]) + "\n")
    assert _run(argv, capsys) == (
        4,
        f"aqe rescore: {path}:1: the run record is a string, not a JSON object\n"
        "    fix: remove the line, or re-run the session\n",
    )
    second["trace"] = "traces/gone.jsonl"
    path.write_text(json.dumps(second) + "\n")
    assert _run(argv, capsys) == (
        4,
        f"aqe rescore: {work / 'cand' / 'traces' / 'gone.jsonl'}: no such file (the"
        " trace)\n    fix: pass a .jsonl file from a run folder's traces/\n",
    )


def test_a_bad_trace_line_names_its_line_and_key(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = next((work / "cand" / "traces").glob("refund_ok.*.jsonl"))
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    invoke = next(
        i
        for i, line in enumerate(lines)
        if '"process":"agent"' in line and '"type":"invoke"' in line
    )
    call = json.loads(lines[invoke])
    call["time"] = "soon"
    fix = "    fix: pass a trace written by aqe (one JSON object a line)\n"

    def write(*changed: tuple[int, Any]) -> None:
        new = list(lines)
        for index, value in changed:
            new[index] = value if isinstance(value, str) else json.dumps(value)
        trace.write_text("\n".join(new) + "\n")

    write((invoke, call))
    assert _run(["replay", str(trace)], capsys) == (
        4,
        f'aqe replay: {trace}:{invoke + 1}: time: expected a number, got "soon"\n'
        + fix,
    )
    write((0, {**header, "seed": None}))
    assert _run(["replay", str(trace)], capsys) == (
        4,
        f"aqe replay: {trace}:1: seed: expected an integer, got null\n" + fix,
    )
    write((1, "[]"))
    assert _run(["replay", str(trace)], capsys) == (
        4,
        f"aqe replay: {trace}:2: the trace line is an array, not a JSON object\n" + fix,
    )
    write((1, "{"))
    assert _run(["replay", str(trace)], capsys) == (
        4,
        f"aqe replay: {trace}:2: not a trace line (Expecting property name enclosed"
        " in double quotes)\n" + fix,
    )
    verdict = json.loads(lines[-1])
    write((len(lines) - 1, {**verdict, "failed": "none"}))
    assert _run(["rescore", str(work / "cand")], capsys) == (
        4,
        f'aqe rescore: {trace}:{len(lines)}: failed: expected an array, got "none"\n'
        + fix,
    )


def test_a_missing_or_directory_artefact_is_named(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gone = work / "gone.jsonl"
    assert _run(["replay", str(gone)], capsys) == (
        4,
        f"aqe replay: {gone}: no such file (the trace)\n"
        "    fix: pass a .jsonl file from a run folder's traces/\n",
    )
    assert _run(["replay", str(work)], capsys) == (
        4,
        f"aqe replay: {work}: a directory, not the trace\n"
        "    fix: pass a .jsonl file from a run folder's traces/\n",
    )


def test_report_of_a_killed_session_writes_an_incomplete_summary_and_exits_7(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = work / "cand"
    (run_dir / "summary.json").unlink()  # the controller died before writing it
    capsys.readouterr()
    assert main(["report", str(run_dir)]) == ExitCode.ERROR == 7
    out = capsys.readouterr().out
    assert out == (
        f"aqe report: 2 run(s) from {run_dir / 'results.jsonl'}; wrote"
        f" {run_dir / 'summary.json'}, {run_dir / 'summary.md'},"
        f" {run_dir / 'report.html'}\n"
        "INCOMPLETE: the session ended before writing its summary (exit 7)\n"
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["complete"] is False
    assert summary["incomplete_reason"] == (
        "the session ended before writing its summary"
    )
    assert (summary["verdict"], summary["exit_code"]) == ("error", 7)
    # the summary it wrote reads back, still incomplete, still exit 7
    assert main(["report", str(run_dir)]) == 7


def test_report_of_a_finished_session_keeps_its_exit_code_and_exits_0(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_dir = work / "cand"
    assert main(["report", str(run_dir)]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["complete"], summary["verdict"], summary["exit_code"]) == (
        True,
        "fail",
        1,
    )


def test_a_shadow_or_canary_part_of_a_record_is_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.reporting.report_summaries import record

    results = tmp_path / "results.jsonl"
    shadow = {**record("refund_ok"), "mode": "shadow", "shadow": {"seed": "7"}}
    canary = {**record("refund_ok", 1), "mode": "canary", "canary": {"killed": True}}
    results.write_text(json.dumps(shadow) + "\n" + json.dumps(canary) + "\n")
    fix = "    fix: remove the line, or re-run the session\n"
    code, err = _run(["report", str(tmp_path)], capsys)
    assert (code, err) == (
        4,
        f"aqe report: {results}:1: shadow.consequences: missing\n"
        f"{results}:1: shadow.diffs: missing\n"
        f"{results}:1: shadow.noisy: missing\n"
        f"{results}:1: shadow.scenario: missing\n"
        f"{results}:1: shadow.shared_untouched: missing\n"
        f'{results}:1: shadow.seed: expected an integer, got "7"\n' + fix,
    )
    results.write_text(json.dumps(canary) + "\n")
    code, err = _run(["report", str(tmp_path)], capsys)
    assert code == 4
    assert err.startswith(f"aqe report: {results}:1: canary.blast_radius: missing\n")
    assert f"{results}:1: canary.rollback_at: missing\n" in err
    assert err.endswith(fix)
