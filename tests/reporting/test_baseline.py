from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness._version import __version__
from harness.errors import BaselineError, HarnessError
from harness.reporting.baseline import (
    BASELINE_VERSION,
    Baseline,
    MeanMetric,
    Metric,
    RateMetric,
    ScenarioBaseline,
    build_baseline,
    load_baseline,
    save_baseline,
)

SHA = "e1862da" + "0" * 33
FIX = "    fix: restore it from version control, or write a new one with --aqe-save-baseline"


def record(
    scenario: str = "refund_ok",
    *,
    passed: bool = True,
    scores: dict[str, bool | None] | None = None,
    tool_calls: int | None = 4,
    simulated_seconds: float | None = 12.5,
    seed_index: int = 0,
) -> dict[str, Any]:
    """A run record as the plugin writes it (only the keys the baseline reads)."""
    return {
        "record_version": 1,
        "scenario": scenario,
        "path": f"scenarios/payments/{scenario}.yaml",
        "seed_index": seed_index,
        "passed": passed,
        "scores": scores if scores is not None else {"policy": passed},
        "tool_calls": tool_calls,
        "simulated_seconds": simulated_seconds,
    }


def baseline_of(records: list[dict[str, Any]], run_id: str = "r1") -> Baseline:
    return build_baseline(
        records, run_id=run_id, git_sha=SHA, agent="m:agent", created="2026-12-01"
    )


def rates() -> st.SearchStrategy[Metric]:
    return st.integers(1, 8).flatmap(
        lambda n: st.builds(RateMetric, successes=st.integers(0, n), n=st.just(n))
    )


def means() -> st.SearchStrategy[Metric]:
    value = st.integers(0, 20) | st.floats(0, 1000, allow_nan=False)
    return st.builds(
        MeanMetric, values=st.lists(value, min_size=1, max_size=6).map(tuple)
    )


def scenario_baselines() -> st.SearchStrategy[ScenarioBaseline]:
    metrics = st.fixed_dictionaries(
        {"pass_rate": rates()},
        optional={
            "idempotency": rates(),
            "policy": rates(),
            "tool_calls": means(),
            "simulated_seconds": means(),
        },
    )
    return st.builds(
        ScenarioBaseline, path=st.just("scenarios/x.yaml"), metrics=metrics
    )


def baselines() -> st.SearchStrategy[Baseline]:
    """Baselines of up to four scenarios, each with pass_rate and some metrics."""
    names = st.sampled_from(["refund_ok", "refund_lost", "renewal", "lead-1"])
    return st.builds(
        Baseline,
        harness=st.just(__version__),
        created=st.just("2026-12-01T08:15:09Z"),
        run_id=st.just("20261201T081500Z-e1862da"),
        git_sha=st.none() | st.just(SHA),
        agent=st.just("harness.agents.library:careful_agent"),
        scenarios=st.dictionaries(names, scenario_baselines(), max_size=4),
    )


def test_build_baseline_counts_passes_per_scenario() -> None:
    records = [record(passed=True, seed_index=i) for i in range(4)]
    records.append(record(passed=False, seed_index=4))
    baseline = baseline_of(records)
    metric = baseline.scenarios["refund_ok"].metrics["pass_rate"]
    assert metric == RateMetric(successes=4, n=5)
    assert metric.value == 0.8


def test_build_baseline_leaves_out_runs_an_oracle_did_not_judge() -> None:
    records = [
        record(scores={"policy": True, "escalation": None, "budget": None}),
        record(scores={"policy": False, "escalation": True, "budget": None}),
        record(scores={"policy": True, "escalation": None, "budget": None}),
    ]
    metrics = baseline_of(records).scenarios["refund_ok"].metrics
    assert metrics["policy"] == RateMetric(successes=2, n=3)
    assert metrics["escalation"] == RateMetric(successes=1, n=1)
    assert "budget" not in metrics


def test_build_baseline_keeps_the_values_of_the_means() -> None:
    records = [record(tool_calls=t, simulated_seconds=1.5 * t) for t in (4, 4, 5)]
    metrics = baseline_of(records).scenarios["refund_ok"].metrics
    assert metrics["tool_calls"] == MeanMetric(values=(4, 4, 5))
    assert metrics["tool_calls"].value == pytest.approx(13 / 3)
    assert metrics["simulated_seconds"] == MeanMetric(values=(6.0, 6.0, 7.5))


def test_build_baseline_leaves_out_a_mean_no_run_recorded() -> None:
    metrics = baseline_of([record(tool_calls=None)]).scenarios["refund_ok"].metrics
    assert "tool_calls" not in metrics
    assert "simulated_seconds" in metrics


def test_baseline_json_has_the_contract_shape() -> None:
    records = [
        record(
            passed=passed,
            scores={"idempotency": True, "policy": passed},
            tool_calls=t,
            seed_index=i,
        )
        for i, (passed, t) in enumerate([(True, 4), (True, 4), (False, 5)])
    ]
    assert baseline_of(records).to_json() == {
        "baseline_version": 1,
        "harness": __version__,
        "created": "2026-12-01",
        "run_id": "r1",
        "git_sha": SHA,
        "agent": "m:agent",
        "scenarios": {
            "refund_ok": {
                "path": "scenarios/payments/refund_ok.yaml",
                "metrics": {
                    "pass_rate": {
                        "kind": "rate",
                        "value": 2 / 3,
                        "n": 3,
                        "successes": 2,
                    },
                    "idempotency": {
                        "kind": "rate",
                        "value": 1.0,
                        "n": 3,
                        "successes": 3,
                    },
                    "policy": {"kind": "rate", "value": 2 / 3, "n": 3, "successes": 2},
                    "tool_calls": {
                        "kind": "mean",
                        "value": 13 / 3,
                        "n": 3,
                        "values": [4, 4, 5],
                    },
                    "simulated_seconds": {
                        "kind": "mean",
                        "value": 12.5,
                        "n": 3,
                        "values": [12.5, 12.5, 12.5],
                    },
                },
            }
        },
    }


def test_saved_baseline_is_sorted_indented_json_with_a_trailing_newline(
    tmp_path: Path,
) -> None:
    baseline = baseline_of([record()])
    path = tmp_path / "reports" / "baseline.json"
    save_baseline(baseline, path)
    text = path.read_text()
    assert text == json.dumps(baseline.to_json(), indent=2, sort_keys=True) + "\n"
    assert text.startswith('{\n  "agent": "m:agent",\n  "baseline_version": 1,\n')
    assert list(tmp_path.joinpath("reports").iterdir()) == [path]


def test_a_saved_baseline_loads_back_equal_and_knows_its_file(tmp_path: Path) -> None:
    baseline = baseline_of(
        [record("a", passed=False), record("b", scores={"policy": None})]
    )
    path = tmp_path / "baseline.json"
    save_baseline(baseline, path)
    loaded = load_baseline(path)
    assert loaded == baseline
    assert loaded.source == path
    assert baseline.source is None


@settings(deadline=None)  # file system time is not the code under test
@given(baselines())
def test_any_baseline_survives_a_save_and_load(baseline: Baseline) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "baseline.json"
        save_baseline(baseline, path)
        assert load_baseline(path) == baseline


def test_metrics_refuse_impossible_counts() -> None:
    with pytest.raises(ValueError, match="a rate needs"):
        RateMetric(successes=3, n=2)
    with pytest.raises(ValueError, match="a mean needs at least one value"):
        MeanMetric(values=())


def test_baseline_error_is_a_harness_error() -> None:
    assert issubclass(BaselineError, HarnessError)


def load_error(path: Path) -> str:
    with pytest.raises(BaselineError) as info:
        load_baseline(path)
    return str(info.value)


def write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "baseline.json"
    text = data if isinstance(data, str) else json.dumps(data)
    path.write_text(text, encoding="utf-8")
    return path


def valid() -> dict[str, Any]:
    return baseline_of([record()]).to_json()


def test_a_missing_baseline_file_says_how_to_write_one(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    assert load_error(path) == (
        f"{path}: no baseline file here\n"
        "    fix: write one with a run given --aqe-save-baseline, or check the path"
    )


def test_a_directory_is_not_a_readable_baseline(tmp_path: Path) -> None:
    assert load_error(tmp_path) == (
        f"{tmp_path}: cannot be read (Is a directory)\n"
        "    fix: name a readable baseline file"
    )


def test_a_baseline_that_is_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_bytes(b'{"a": "\xff"}')
    assert load_error(path) == f"{path}: not UTF-8 text (byte 7)\n{FIX}"


def test_a_baseline_that_is_not_json_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "baseline_version": 1,\n  "harness" "0.1"\n}\n')
    assert load_error(path) == (
        f"{path}:3:13: not JSON: Expecting ':' delimiter\n{FIX}"
    )


def test_a_baseline_that_is_not_an_object_says_what_it_is(tmp_path: Path) -> None:
    path = write(tmp_path, [1, 2])
    assert load_error(path) == (
        f"{path}: the baseline is an array, not a JSON object\n{FIX}"
    )


def test_a_baseline_without_a_version_says_which_version_is_read(
    tmp_path: Path,
) -> None:
    data = valid()
    del data["baseline_version"]
    path = write(tmp_path, data)
    assert load_error(path) == (
        f"{path}: no baseline_version; this harness reads baseline_version 1\n"
        "    fix: write a new baseline with --aqe-save-baseline"
    )


def test_a_baseline_from_a_newer_harness_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, {**valid(), "baseline_version": BASELINE_VERSION + 1})
    assert load_error(path) == (
        f"{path}: baseline_version 2 is newer than this harness reads"
        " baseline_version 1: a newer aqe-harness wrote it\n"
        "    fix: upgrade aqe-harness, or write a new baseline with --aqe-save-baseline"
    )


@pytest.mark.parametrize(
    ("version", "shown"), [("1", '"1"'), (0, "0"), (True, "true"), (None, "null")]
)
def test_a_baseline_version_that_is_not_known_is_shown_as_json(
    tmp_path: Path, version: Any, shown: str
) -> None:
    path = write(tmp_path, {**valid(), "baseline_version": version})
    assert load_error(path) == (
        f"{path}: baseline_version {shown} is not one this harness reads"
        " baseline_version 1\n"
        "    fix: write a new baseline with --aqe-save-baseline"
    )


def metric_path(tmp_path: Path, metric: str, **change: Any) -> Path:
    data = valid()
    data["scenarios"]["refund_ok"]["metrics"][metric].update(change)
    return write(tmp_path, data)


WHERE = "scenarios.refund_ok.metrics"


@pytest.mark.parametrize(
    ("metric", "change", "problem"),
    [
        ("pass_rate", {"kind": "count"}, 'kind: "count" is not "mean" or "rate"'),
        (
            "pass_rate",
            {"kind": "rates"},
            'kind: "rates" is not "mean" or "rate" (did you mean "rate"?)',
        ),
        ("pass_rate", {"value": "1.0"}, 'value: expected a number, got "1.0"'),
        ("pass_rate", {"n": 0}, "n: expected a whole number >= 1, got 0"),
        ("pass_rate", {"n": True}, "n: expected a whole number >= 1, got true"),
        (
            "pass_rate",
            {"successes": 2},
            "successes: expected a whole number from 0 to n (1), got 2",
        ),
        ("pass_rate", {"value": 0.5}, "value: 0.5 is not successes/n = 1/1 = 1"),
        (
            "tool_calls",
            {"values": []},
            "values: expected a non-empty array of numbers, got []",
        ),
        ("tool_calls", {"values": [4, "x"]}, 'values[1]: expected a number, got "x"'),
        ("tool_calls", {"n": 2}, "n: 2 is not the number of values (1)"),
        ("tool_calls", {"value": 5}, "value: 5 is not the mean of the values (4)"),
    ],
)
def test_a_wrong_metric_names_its_json_path(
    tmp_path: Path, metric: str, change: dict[str, Any], problem: str
) -> None:
    path = metric_path(tmp_path, metric, **change)
    assert load_error(path) == f"{path}: {WHERE}.{metric}.{problem}\n{FIX}"


def test_a_metric_without_a_kind_names_its_json_path(tmp_path: Path) -> None:
    data = valid()
    del data["scenarios"]["refund_ok"]["metrics"]["policy"]["kind"]
    path = write(tmp_path, data)
    assert load_error(path) == f"{path}: {WHERE}.policy.kind: missing\n{FIX}"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"harness": 1}, "harness: expected a string, got 1"),
        ({"git_sha": 7}, "git_sha: expected a string or null, got 7"),
        ({"scenarios": []}, "scenarios: expected an object of scenarios, got an array"),
        ({"scenarios": {"x": 3}}, "scenarios.x: expected an object, got a number"),
        (
            {"scenarios": {"x": {"path": "p", "metrics": None}}},
            "scenarios.x.metrics: expected an object of metrics, got null",
        ),
        ({"scenarios": {"x": {"path": "p"}}}, "scenarios.x.metrics: missing"),
        (
            {"scenarios": {"x": {"path": "p", "metrics": {"pass_rate": [1]}}}},
            "scenarios.x.metrics.pass_rate: expected an object, got an array",
        ),
    ],
)
def test_a_wrong_shape_names_its_json_path(
    tmp_path: Path, change: dict[str, Any], problem: str
) -> None:
    path = write(tmp_path, {**valid(), **change})
    assert load_error(path) == f"{path}: {problem}\n{FIX}"


def test_every_shape_problem_is_reported_at_once(tmp_path: Path) -> None:
    data = valid()
    del data["agent"]
    del data["scenarios"]["refund_ok"]["path"]
    data["scenarios"]["refund_ok"]["metrics"]["pass_rate"]["n"] = "five"
    path = write(tmp_path, data)
    assert load_error(path) == (
        f"{path}: agent: missing\n"
        f"{path}: scenarios.refund_ok.path: missing\n"
        f'{path}: {WHERE}.pass_rate.n: expected a whole number >= 1, got "five"\n'
        f"{FIX}"
    )


def test_unknown_top_level_keys_are_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, {**valid(), "note": "kept by hand"})
    assert load_baseline(path) == baseline_of([record()])
