"""Saved artefacts are read through one versioned reader: a corrupt, foreign or
newer summary.json, baseline, results.jsonl or trace is one clear error naming the
file (exit 4), never a traceback; ``aqe report`` of a killed session exits 7.

The Hypothesis test runs a few dozen corruptions by default; ``AQE_SLOW=1`` runs
the issue's full 2,000 (``AQE_SLOW=1 pytest tests/reporting/test_artefacts.py``).
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
EXAMPLES = 2000 if os.environ.get("AQE_SLOW") == "1" else 24


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
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=4), inner, max_size=3),
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
        return data[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x00"])) + data[at:]
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
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(data=st.data(), name=st.sampled_from(COMMANDS))
def test_a_corrupt_saved_artefact_is_one_clear_error_naming_it(
    saved: Saved,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    data: st.DataObject,
    name: str,
) -> None:
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
