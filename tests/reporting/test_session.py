"""Sessions as CI drives them: run folders, baselines, the gate and its exit codes
(pytester runs pytest in a temporary project)."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import pytest

from harness.reporting.gate import ExitCode
from tests.conftest import PAYMENTS, ROOT, copy_payments

CAREFUL = "harness.agents.reference:careful_refund_agent"
NAIVE = "harness.agents.reference:naive_refund_agent"


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\npythonpath = .\n")
    return copy_payments(pytester)


def latest(project: pytest.Pytester, name: str) -> Path:
    return project.path / "reports" / "latest" / name


def summary_of(project: pytest.Pytester) -> dict[str, Any]:
    return json.loads(latest(project, "summary.json").read_text())  # type: ignore[no-any-return]


def test_a_session_writes_its_run_folder_with_every_report(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest("scenarios", f"--aqe-agent={CAREFUL}")
    assert result.ret == ExitCode.PASS
    run = (project.path / "reports" / "latest").resolve()
    assert run.parent == project.path / "reports" / "runs"
    assert run.name.endswith("-nogit")  # no git repository in the temp project
    names = sorted(p.name for p in run.iterdir())
    assert names == [
        "report.html",
        "results.jsonl",
        "selection.json",
        "summary.json",
        "summary.md",
        "traces",
    ]
    records = [
        json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()
    ]
    assert len(records) == 5
    assert all(r["record_version"] == 1 for r in records)
    assert all((run / r["trace"]).is_file() for r in records)
    summary = summary_of(project)
    assert (summary["summary_version"], summary["verdict"], summary["complete"]) == (
        2,
        "pass",
        True,
    )
    assert summary["run_id"] == run.name
    result.stdout.fnmatch_lines(["5/5 scenario runs passed; aqe gate: PASS (exit 0)"])


def test_a_regressed_agent_fails_the_gate_named_in_terminal_markdown_and_html(
    project: pytest.Pytester,
) -> None:
    saved = project.runpytest(
        "scenarios", f"--aqe-agent={CAREFUL}", "--aqe-save-baseline"
    )
    assert saved.ret == ExitCode.PASS
    baseline = json.loads((project.path / "reports" / "baseline.json").read_text())
    assert baseline["baseline_version"] == 1
    assert len(baseline["scenarios"]) == 5

    result = project.runpytest("scenarios", f"--aqe-agent={NAIVE}")

    assert result.ret == ExitCode.REGRESSION
    result.stdout.fnmatch_lines(
        [
            "*REGRESSED refund_ambiguous_timeout: pass_rate 1.00 -> 0.00 (-1.00, n=1/1)",
            "2/5 scenario runs passed; aqe gate: REGRESSION (exit 6)",
        ]
    )
    markdown = latest(project, "summary.md").read_text()
    assert "REGRESSION" in markdown.splitlines()[0]
    assert "`refund_ambiguous_timeout` | `pass_rate` | **regressed**" in markdown
    html = latest(project, "report.html").read_text()
    assert "refund_ambiguous_timeout" in html
    assert "regressed" in html
    summary = summary_of(project)
    assert summary["verdict"] == "regression"
    assert summary["exit_code"] == 6
    assert (
        "refund_ambiguous_timeout: pass_rate 1.00 -> 0.00 (-1.00, n=1/1)"
        in (summary["gate"]["failed"])
    )


def test_failures_already_in_the_baseline_fail_but_are_not_regressions(
    project: pytest.Pytester,
) -> None:
    project.runpytest("scenarios", f"--aqe-agent={NAIVE}", "--aqe-save-baseline")
    result = project.runpytest("scenarios", f"--aqe-agent={NAIVE}")
    assert result.ret == ExitCode.FAILED
    result.stdout.fnmatch_lines(["2/5 scenario runs passed; aqe gate: FAIL (exit 1)"])
    assert summary_of(project)["comparison"]["counts"]["unchanged"] == 5


#: The committed baseline of the whole library (the project holds payments only).
LIBRARY_BASELINE = ROOT / "reports" / "baseline.json"


def library_baseline(project: pytest.Pytester) -> int:
    """Put the committed full-library baseline in the project; its scenario count."""
    target = project.path / "reports" / "baseline.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(LIBRARY_BASELINE.read_bytes())
    return len(json.loads(target.read_text())["scenarios"])


def test_a_tolerant_rule_lets_a_known_regression_through_but_failures_still_fail(
    project: pytest.Pytester,
) -> None:
    library_baseline(project)  # the careful agents' committed results
    result = project.runpytest(
        "scenarios", f"--aqe-agent={NAIVE}", "--aqe-compare-fail=pass_rate:1"
    )
    assert result.ret == ExitCode.FAILED


def test_a_per_scenario_rule_gates_only_its_scenario(project: pytest.Pytester) -> None:
    library_baseline(project)  # the careful agents' committed results
    result = project.runpytest(
        "scenarios",
        f"--aqe-agent={NAIVE}",
        "--aqe-compare-fail=pass_rate:1",
        "--aqe-compare-fail=refund_ambiguous_timeout/idempotency:0",
    )
    assert result.ret == ExitCode.REGRESSION
    assert summary_of(project)["gate"]["failed"] == [
        "refund_ambiguous_timeout: idempotency 1.00 -> 0.00 (-1.00, n=1/1)"
    ]


def compare_verdict(project: pytest.Pytester, *rules: str) -> int:
    """``aqe compare BASELINE reports/latest --fail-on-regression [rules]``."""
    from harness.cli import main

    options = [f"--compare-fail={rule}" for rule in rules]
    base = project.path / "reports" / "baseline.json"
    run = (project.path / "reports" / "latest").resolve()
    with _cwd(project.path):
        return main(["compare", str(base), str(run), "--fail-on-regression", *options])


def test_a_subset_run_counts_the_rest_of_the_baseline_as_not_selected(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    total = library_baseline(project)
    others = total - 5  # the project holds the 5 payments scenarios

    careful = project.runpytest("scenarios", f"--aqe-agent={CAREFUL}")

    assert careful.ret == ExitCode.PASS
    careful.stdout.fnmatch_lines(
        [
            f"baseline reports/baseline.json: 5 unchanged, {others} not selected",
            "5/5 scenario runs passed; aqe gate: PASS (exit 0)",
        ]
    )
    assert "missing" not in careful.stdout.str()
    summary = summary_of(project)
    assert summary["comparison"]["not_selected"] == others
    assert [s["status"] for s in summary["comparison"]["scenarios"]] == [
        "unchanged"
    ] * 5
    assert summary["selection"]["scenarios"] == sorted(
        p.stem for p in PAYMENTS.glob("*.yaml")
    )
    markdown = latest(project, "summary.md").read_text()
    assert f"5 unchanged, {others} not selected" in markdown
    assert "Missing" not in markdown
    html = latest(project, "report.html").read_text()
    assert f"<span>{others} not selected</span>" in html
    assert "Missing scenarios" not in html
    capsys.readouterr()
    assert compare_verdict(project) == ExitCode.PASS
    assert compare_verdict(project, "pass_rate:0") == ExitCode.PASS
    assert f"5 unchanged, {others} not selected" in capsys.readouterr().out

    naive = project.runpytest("scenarios", f"--aqe-agent={NAIVE}")

    assert naive.ret == ExitCode.REGRESSION
    compared = summary_of(project)["comparison"]
    by_status: dict[str, list[str]] = {}
    for entry in compared["scenarios"]:
        by_status.setdefault(entry["status"], []).append(entry["scenario"])
    assert by_status == {
        "regressed": [
            "refund_already_refunded",
            "refund_ambiguous_timeout",
            "refund_over_limit_approval",
        ],
        "changed": ["refund_503_then_ok", "refund_ok"],  # fewer tool calls, passing
    }
    statuses = {m["status"] for e in compared["scenarios"] for m in e["metrics"]}
    assert "improved" not in statuses
    naive.stdout.fnmatch_lines(
        [f"baseline reports/baseline.json: 3 regressed, 2 changed, {others} not*"]
    )
    failing = latest(project, "summary.md").read_text().split("### Scenarios")[0]
    assert "`refund_ok`" not in failing.split("### Failing and regressed")[1]
    assert compare_verdict(project) == ExitCode.REGRESSION
    assert compare_verdict(project, "pass_rate:0") == ExitCode.REGRESSION


def test_a_selected_scenario_that_did_not_run_is_missing_and_gates_alike(
    project: pytest.Pytester,
) -> None:
    total = library_baseline(project)
    (project.path / "scenarios" / "payments" / "refund_ok.yaml").write_text(
        "name: refund_ok\ntask: [not, a, task]\n"
    )
    selected = ["scenarios", "-k", "refund_ok or refund_503", f"--aqe-agent={CAREFUL}"]

    implicit = project.runpytest(*selected)

    assert implicit.ret == ExitCode.FAILED  # the broken file fails its item
    implicit.stdout.fnmatch_lines(
        [
            f"baseline reports/baseline.json: 1 unchanged, 1 missing,"
            f" {total - 2} not selected",
            "  missing: refund_ok",
        ]
    )
    assert summary_of(project)["selection"]["keyword"] == "refund_ok or refund_503"
    assert compare_verdict(project) == ExitCode.PASS  # missing gates explicit rules

    # under xdist the controller learns the selection from the workers' collection
    explicit = project.runpytest(*selected, "--aqe-compare-fail=pass_rate:0", "-n", "2")

    assert explicit.ret == ExitCode.REGRESSION
    explicit.stdout.fnmatch_lines(
        ["  refund_ok: missing (in the baseline, not in this run)"]
    )
    assert compare_verdict(project, "pass_rate:0") == ExitCode.REGRESSION


def test_a_run_folder_without_a_selection_compares_every_absence_as_missing(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    total = library_baseline(project)
    assert project.runpytest("scenarios", f"--aqe-agent={CAREFUL}").ret == 0
    run = (project.path / "reports" / "latest").resolve()
    (run / "selection.json").unlink()  # as an older harness wrote it
    summary = json.loads((run / "summary.json").read_text())
    del summary["selection"]
    (run / "summary.json").write_text(json.dumps(summary))
    capsys.readouterr()

    assert compare_verdict(project) == ExitCode.PASS
    assert compare_verdict(project, "pass_rate:0") == ExitCode.REGRESSION
    out = capsys.readouterr().out
    assert f"5 unchanged, {total - 5} missing" in out
    assert (
        "the run recorded no selection (an older harness, or a baseline file), so"
        f" all {total - 5} baseline scenarios it lacks count as missing"
    ) in out


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"baseline_version": 99, "scenarios": {}}', "baseline_version"),
    ],
)
def test_a_corrupt_or_newer_baseline_is_a_usage_error_before_anything_runs(
    project: pytest.Pytester, content: str, message: str
) -> None:
    bad = project.path / "bad.json"
    bad.write_text(content)
    result = project.runpytest(
        "scenarios", f"--aqe-agent={CAREFUL}", f"--aqe-baseline={bad}"
    )
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: aqe: {bad}*{message}*"])
    assert "fix:" in result.stderr.str()
    assert not (project.path / "reports" / "runs").exists()


def test_a_named_baseline_that_does_not_exist_says_how_to_make_one(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios", f"--aqe-agent={CAREFUL}", "--aqe-baseline=nope.json"
    )
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: aqe: */nope.json: no such baseline",
            "    fix: run once with --aqe-save-baseline to write it, or point"
            " --aqe-baseline at an existing file",
        ]
    )


def test_a_bad_compare_rule_is_a_usage_error_that_teaches_the_grammar(
    project: pytest.Pytester,
) -> None:
    result = project.runpytest(
        "scenarios", f"--aqe-agent={CAREFUL}", "--aqe-compare-fail=pass_rate"
    )
    assert result.ret == ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: aqe: --aqe-compare-fail 'pass_rate': *", "    fix: *"]
    )


def test_a_session_in_which_nothing_ran_never_passes(project: pytest.Pytester) -> None:
    result = project.runpytest(
        "scenarios", f"--aqe-agent={CAREFUL}", "-k", "no_such_scenario"
    )
    assert result.ret == ExitCode.EMPTY
    ok = project.runpytest("scenarios", f"--aqe-agent={CAREFUL}", "-k", "refund_ok")
    assert ok.ret == ExitCode.PASS


FLAKY_AGENT = """
import zlib

from harness.agents.reference import careful_refund_agent, naive_refund_agent


def sometimes_naive(task, env):
    # naive on a fixed share of worlds: the charge id differs per seed
    charge = str(task.input["charge"])
    if zlib.crc32(charge.encode()) % 3 == 0:
        return naive_refund_agent(task, env)
    return careful_refund_agent(task, env)
"""


def _flaky_project(project: pytest.Pytester, thresholds: str) -> None:
    project.makepyfile(flaky_agent=FLAKY_AGENT)
    path = project.path / "scenarios" / "payments" / "refund_ambiguous_timeout.yaml"
    text = path.read_text()
    path.write_text(text + f"seeds: 12\nthresholds: {thresholds}\n")
    for other in path.parent.glob("*.yaml"):
        if other != path:
            other.unlink()


def test_failed_runs_within_a_scenarios_thresholds_pass_the_session(
    project: pytest.Pytester,
) -> None:
    _flaky_project(project, "{pass_rate: 0.5}")
    result = project.runpytest("scenarios", "--aqe-agent=flaky_agent:sometimes_naive")
    summary = summary_of(project)
    (row,) = summary["scenarios"]
    assert 0 < row["passed"] < row["runs"] == 12, row  # some runs did fail
    assert row["pass_rate"] >= 0.5
    assert row["thresholds_met"] is True
    assert result.ret == ExitCode.PASS
    result.stdout.fnmatch_lines(
        [
            f"thresholds met: refund_ambiguous_timeout: pass rate {row['pass_rate']:.2f} >= 0.50",
            "*failed run(s) within their scenarios' thresholds",
        ]
    )


def test_failed_runs_below_a_scenarios_thresholds_fail_the_session(
    project: pytest.Pytester,
) -> None:
    _flaky_project(project, "{pass_rate: 0.95}")
    result = project.runpytest("scenarios", "--aqe-agent=flaky_agent:sometimes_naive")
    assert result.ret == ExitCode.FAILED
    result.stdout.fnmatch_lines(
        ["thresholds NOT met: refund_ambiguous_timeout: pass rate * < 0.95"]
    )


def test_junit_xml_carries_the_scores_as_properties(project: pytest.Pytester) -> None:
    xml = project.path / "junit.xml"
    project.runpytest(
        "scenarios/payments/refund_ambiguous_timeout.yaml",
        f"--aqe-agent={NAIVE}",
        f"--junitxml={xml}",
    )
    text = xml.read_text()
    assert '<property name="aqe.verdict" value="fail"' in text
    assert '<property name="aqe.oracle.idempotency" value="fail"' in text
    assert '<property name="aqe.oracle.injection" value="n/a"' in text
    assert '<property name="aqe.scenario" value="refund_ambiguous_timeout"' in text


def test_the_markdown_summary_is_appended_to_the_github_step_summary(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    step = project.path / "step.md"
    step.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step))
    project.runpytest("scenarios/payments/refund_ok.yaml", f"--aqe-agent={CAREFUL}")
    text = step.read_text()
    assert text.startswith("earlier step\n")
    assert text.endswith(latest(project, "summary.md").read_text())


def test_the_history_store_keeps_every_session(project: pytest.Pytester) -> None:
    from harness.reporting.store import open_store

    for _ in range(2):
        project.runpytest("scenarios/payments/refund_ok.yaml", f"--aqe-agent={CAREFUL}")
    with open_store(project.path / "reports" / "history.sqlite") as store:
        runs = store.runs()
        assert len(runs) == 2
        trend = store.trends(scenario="refund_ok", metric="pass_rate")
        assert list(trend["value"]) == [1.0, 1.0]


CRASHING_AGENT = """
import os
import signal

from harness.agents.reference import careful_refund_agent


def crashes_on_refund_ok(task, env):
    if task.input.get("amount") == 1500:  # refund_ok's task: the worker dies
        os.kill(os.getpid(), signal.SIGKILL)  # in-process: the worker dies
    return careful_refund_agent(task, env)
"""


def test_killing_a_worker_keeps_finished_results_and_marks_the_report_incomplete(
    project: pytest.Pytester,
) -> None:
    pytest.importorskip("xdist")
    project.makepyfile(crashing_agent=CRASHING_AGENT)
    # only an agent trusted to run in the worker's own process can kill the worker
    result = project.runpytest(
        "scenarios",
        "--aqe-agent=crashing_agent:crashes_on_refund_ok",
        "--aqe-isolation=none",
        "-n",
        "2",
    )
    assert result.ret == ExitCode.ERROR
    result.stdout.fnmatch_lines(["INCOMPLETE: *crashed*refund_ok*"])
    records = [
        json.loads(line)
        for line in latest(project, "results.jsonl").read_text().splitlines()
    ]
    assert sorted(r["scenario"] for r in records) == [
        "refund_503_then_ok",
        "refund_already_refunded",
        "refund_ambiguous_timeout",
        "refund_over_limit_approval",
    ]
    summary = summary_of(project)
    assert (summary["complete"], summary["verdict"], summary["exit_code"]) == (
        False,
        "error",
        7,
    )
    assert "refund_ok" in summary["incomplete_reason"]
    assert "INCOMPLETE" in latest(project, "report.html").read_text()
    assert "INCOMPLETE" in latest(project, "summary.md").read_text()


def test_two_sessions_in_the_same_second_get_their_own_folders(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from harness.reporting.runfolder import GitInfo, new_run_id

    started = datetime(2026, 12, 1, 8, 15, tzinfo=UTC)
    git = GitInfo(sha="e1862da" + "0" * 33)
    first = new_run_id(tmp_path, started, git)
    (tmp_path / "runs" / first).mkdir(parents=True)
    assert first == "20261201T081500Z-e1862da"
    assert new_run_id(tmp_path, started, git) == "20261201T081500Z-e1862da-2"


def test_a_torn_last_line_of_results_is_skipped_and_others_are_errors(
    tmp_path: Path,
) -> None:
    from harness.errors import HarnessError
    from harness.reporting.artefacts import read_results
    from tests.reporting.report_summaries import record

    a, b = record("refund_ok"), record("refund_ok", 1)
    path = tmp_path / "results.jsonl"
    path.write_text(f'{json.dumps(a)}\n{json.dumps(b)}\n{{"c": ')
    assert list(read_results(path)) == [a, b]
    path.write_text(f"{json.dumps(a)}\nnot json\n{json.dumps(b)}\n")
    with pytest.raises(HarnessError) as err:
        list(read_results(path))
    assert str(err.value) == (
        f"{path}:2: not a JSON record (Expecting value)\n"
        "    fix: remove the line, or re-run the session"
    )


def test_reports_are_written_readable_by_others(project: pytest.Pytester) -> None:
    project.runpytest("scenarios/payments/refund_ok.yaml", f"--aqe-agent={CAREFUL}")
    for name in ("summary.json", "summary.md", "report.html"):
        assert os.stat(latest(project, name)).st_mode & 0o777 == 0o644, name


def test_the_gate_ranks_errors_over_regressions_over_failures() -> None:
    from harness.reporting.gate import decide

    base = {"pytest_status": 1, "failed_tests": 2, "tolerated": 0, "ran": 5}
    assert decide(**base).exit_code == ExitCode.FAILED
    assert decide(**base, regressions=["x"]).exit_code == ExitCode.REGRESSION
    assert (
        decide(**base, regressions=["x"], errors=["crash"]).exit_code == ExitCode.ERROR
    )
    assert decide(**{**base, "tolerated": 2}).exit_code == ExitCode.PASS
    assert decide(**{**base, "ran": 0, "failed_tests": 0}).exit_code == ExitCode.EMPTY
    # tests failed before any run was recorded: a failure, not an empty session
    assert decide(**{**base, "ran": 0}).exit_code == ExitCode.FAILED
    interrupted = decide(**{**base, "pytest_status": 2}, errors=["interrupted"])
    assert interrupted.exit_code == ExitCode.INTERRUPTED


def test_the_report_commands_compare_replay_regenerate_and_rescore(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    project.runpytest("scenarios", f"--aqe-agent={CAREFUL}", "--aqe-save-baseline")
    base = (project.path / "reports" / "latest").resolve()
    project.runpytest("scenarios", f"--aqe-agent={NAIVE}")
    cand = (project.path / "reports" / "latest").resolve()
    capsys.readouterr()

    assert main(["compare", str(base), str(cand)]) == 0
    assert main(["compare", str(base), str(cand), "--fail-on-regression"]) == 6
    assert (
        main(["compare", str(project.path / "reports" / "baseline.json"), str(cand)])
        == 0
    )
    text = capsys.readouterr().out
    assert "refund_ambiguous_timeout" in text
    assert "regressed" in text
    assert main(["compare", str(base), str(cand), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["regressed"] == 3
    assert main(["compare", str(base), str(cand), "--format", "md"]) == 0
    assert "**regressed**" in capsys.readouterr().out
    assert main(["compare", str(base), str(cand), "--format", "html"]) == 0
    page = capsys.readouterr().out  # the candidate's runs open to their stories
    assert "was not read" not in page
    assert page.count("aqe replay ") == 5

    trace = next((cand / "traces").glob("refund_ambiguous_timeout.*.jsonl"))
    with (
        project.path.as_cwd() if hasattr(project.path, "as_cwd") else _cwd(project.path)
    ):
        assert main(["replay", str(trace)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("aqe replay: reproduced refund_ambiguous_timeout (seed ")
    assert "verdict failed idempotency, outcome, safe_failure" in out

    (cand / "report.html").unlink()
    (cand / "summary.md").unlink()
    assert main(["report", str(cand)]) == 0
    assert (cand / "report.html").is_file()
    assert (cand / "summary.md").is_file()
    assert "aqe report: 5 run(s)" in capsys.readouterr().out

    with _cwd(project.path):
        assert main(["rescore", str(cand)]) == 1  # the naive agent still fails
    out = capsys.readouterr().out
    assert (
        "aqe rescore: 5 run(s) re-scored from their traces, 0 verdict(s) changed, 2/5 pass"
        in out
    )
    rescored = json.loads((cand / "rescored" / "summary.json").read_text())
    original = json.loads((cand / "summary.json").read_text())
    assert [r["scores"] for r in rescored["results"]] == [
        r["scores"] for r in original["results"]
    ]


def test_replay_names_the_first_line_that_differs(
    project: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    project.runpytest("scenarios/payments/refund_ok.yaml", f"--aqe-agent={NAIVE}")
    trace = next((project.path / "reports" / "latest" / "traces").glob("*.jsonl"))
    lines = trace.read_text().splitlines()
    header = json.loads(lines[0])
    header["agent"] = CAREFUL  # the careful agent does not act like the recorded one
    trace.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n")
    capsys.readouterr()
    with _cwd(project.path):
        assert main(["replay", str(trace)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("aqe replay: NOT reproduced refund_ok (seed ")
    assert "the trace differs from line 1" in out


def test_replay_of_something_that_is_not_a_trace_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    bad = tmp_path / "x.jsonl"
    bad.write_text('{"type": "task"}\n')
    assert main(["replay", str(bad)]) == 4
    assert capsys.readouterr().err == (
        f"aqe replay: {bad}: not a complete aqe trace (it must open with a header"
        " line and end with a verdict line)\n    fix: pass a trace written by aqe\n"
    )


class _cwd:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.old = Path.cwd()

    def __enter__(self) -> None:
        os.chdir(self.path)

    def __exit__(self, *exc: object) -> None:
        os.chdir(self.old)


def test_example_scenario_file_text_is_unchanged() -> None:
    # the flaky-agent tests append to a copy; the library file itself stays valid
    text = (PAYMENTS / "refund_ambiguous_timeout.yaml").read_text()
    assert "thresholds" not in textwrap.dedent(text)
