"""``aqe bench gateway|models|canary|service|suite`` report every figure the acceptances name (no
timing asserts)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from harness.bench import DOOR_RATIOS, MODEL_RATIOS
from harness.bench_suite import TAU_BENCH_TASKS_PER_S, bench_suite, library_files
from harness.cli import main
from tests.conftest import ROOT

KEYS = {
    "bare_call_us",
    "function_call_us",
    "http_call_us",
    "bare_httpx_us",
    "httpx2_call_us",
    "bare_httpx2_us",
    "urllib_call_us",
    "requests_call_us",
    "bare_requests_us",
    "aiohttp_call_us",
    "bare_aiohttp_us",
    "bare_urllib_us",
    "http_vs_bare_httpx",
    "httpx2_vs_bare_httpx2",
    "requests_vs_bare_requests",
    "aiohttp_vs_bare_aiohttp",
    "urllib_vs_bare_urllib",
    "reset_ms",
    "isolated_call_us",
    "isolated_http_call_us",
    "run_ms",
    "isolated_run_ms",
}


def test_bench_gateway_prints_one_json_object_with_the_medians(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "gateway", "--json", "--rounds", "50"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    figures = json.loads(out)
    assert set(figures) >= KEYS
    assert all(figures[k] > 0 for k in KEYS)
    assert "isolated_run_start_ms" in figures  # a difference: noise may make it < 0
    for door, bare, ratio in DOOR_RATIOS:
        assert figures[ratio] == pytest.approx(
            figures[f"{door}_us"] / figures[f"{bare}_us"], abs=0.01
        )


def test_bench_canary_prints_the_stream_figures(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "canary", "--json", "--cases", "40"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) >= {"cases", "wall_s", "cases_per_s", "peak_rss_mb"}
    assert figures["cases"] == 40
    assert figures["runs"] >= 40  # every case, plus the control twin of each routed
    assert figures["cases_per_s"] > 0
    assert figures["peak_rss_mb"] > 0


def test_bench_oracles_times_every_registered_oracle_on_the_synthetic_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from harness.oracles import ORACLES

    assert main(["bench", "oracles", "--json", "--writes", "200", "--rounds", "2"]) == 0
    figures = json.loads(capsys.readouterr().out)
    timed = {f"{name}_ms" for name in ORACLES}
    assert set(figures) == {"writes", "history", "total_ms", "total_cpu_ms", *timed}
    assert figures["writes"] == 200
    assert figures["history"] > 2 * figures["writes"]  # invokes and answers
    assert figures["total_ms"] == pytest.approx(
        sum(figures[k] for k in timed), abs=0.01
    )
    assert 0 < figures["total_cpu_ms"] <= figures["total_ms"] * 1.5


MODEL_KEYS = {
    f"{name}_us" for call, bare, _ in MODEL_RATIOS for name in (call, bare)
} | {ratio for _, _, ratio in MODEL_RATIOS}


def test_bench_models_prints_the_sdk_round_trips_against_mock_transport(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("openai")
    pytest.importorskip("anthropic")
    assert main(["bench", "models", "--json", "--rounds", "20"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    figures = json.loads(out)
    assert set(figures) == MODEL_KEYS | {"tools", "rounds"}
    assert {"chat_vs_bare_chat", "messages_stream_vs_bare_messages_stream"} <= set(
        figures
    )
    assert all(figures[k] > 0 for k in MODEL_KEYS)
    assert figures["rounds"] == 20
    assert figures["tools"] > 1  # every tool of the run, as env.tools.specs() gives
    for call, bare, ratio in MODEL_RATIOS:
        assert figures[ratio] == pytest.approx(
            figures[f"{call}_us"] / figures[f"{bare}_us"], abs=0.01
        )


def test_bench_models_without_the_sdks_says_what_to_install(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    find_spec = importlib.util.find_spec

    def without_sdks(name: str, *args: Any) -> Any:
        return None if name in ("openai", "anthropic") else find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_sdks)
    assert main(["bench", "models", "--rounds", "5"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "aqe bench models: neither the openai nor the anthropic SDK is installed\n"
        "    fix: pip install openai anthropic\n"
    )


def test_bench_service_prints_the_loopback_round_trip_against_its_baselines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "service", "--json", "--rounds", "20"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {
        "loopback_call_us",
        "bare_loopback_us",
        "loopback_vs_bare_loopback",
        "http_call_us",
        "loopback_vs_http_door",
        "command_run_ms",
        "rounds",
    }
    assert all(v > 0 for v in figures.values())
    assert figures["loopback_vs_http_door"] == pytest.approx(
        figures["loopback_call_us"] / figures["http_call_us"], abs=0.01
    )


def test_bench_startup_times_each_short_command_against_import_pytest(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["bench", "startup", "--json", "--repeat", "1"]) == 0
    figures = json.loads(capsys.readouterr().out)
    commands = ("help", "validate", "tools", "run", "run_in_process")
    assert set(figures) == {
        "python_ms",
        "import_pytest_ms",
        *(f"{c}_ms" for c in commands),
        *(f"{c}_vs_import_pytest" for c in commands),
        "slowest_ms",
        "target_ms",
        "bytecode_cache",
        "rounds",
    }
    assert figures["target_ms"] == 1500
    assert figures["rounds"] == 1
    assert figures["slowest_ms"] == max(figures[f"{c}_ms"] for c in commands)
    assert figures["run_vs_import_pytest"] == pytest.approx(
        figures["run_ms"] / figures["import_pytest_ms"], abs=0.01
    )


def test_bench_startup_outside_the_library_says_which_file_it_needs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "startup"]) == 2
    assert capsys.readouterr().err == (
        "aqe bench startup: no scenario file"
        " scenarios/payments/refund_ambiguous_timeout.yaml\n"
        "    fix: run it from a checkout of the scenario library, or give"
        " --scenario FILE\n"
    )


def test_bench_suite_counts_runs_and_tool_calls_through_the_api_and_pytest() -> None:
    figures = bench_suite(
        paths=["scenarios/payments/refund_ok.yaml"], seeds=2, workers=(0,)
    )
    for key in ("api", "pytest_n0"):
        assert figures[key]["runs"] == 2
        assert figures[key]["failed"] == 0
        assert figures[key]["tool_calls"] > 0
        assert figures[key]["runs_per_s"] > 0
    # the same runs either way: the same seeds, the same agent, the same calls
    assert figures["api"]["tool_calls"] == figures["pytest_n0"]["tool_calls"]
    # the first round ran the same scenario on a seed of its own, apart
    assert figures["api_first_round"]["runs"] == 1
    assert figures["api_first_round"]["seconds"] > 0
    assert figures["tau_bench_tasks_per_s"] == TAU_BENCH_TASKS_PER_S
    assert "tau-bench" in figures["tau_bench_source"]
    assert figures["api_vs_tau_bench"] == pytest.approx(
        figures["api"]["runs_per_s"] / TAU_BENCH_TASKS_PER_S, abs=0.1
    )


def test_bench_suite_takes_the_scenarios_but_not_their_policy_packs() -> None:
    files = library_files([Path("scenarios")])
    assert files
    assert all("policies" not in f.parts for f in files)
    assert Path("scenarios/payments/refund_ok.yaml") in files


def test_bench_suite_on_a_missing_path_says_where_to_run_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["bench", "suite", "--paths", "no/such/dir"]) == 2
    err = capsys.readouterr().err
    assert "no such path: no/such/dir" in err
    assert "fix:" in err


@pytest.mark.parametrize(
    ("flag", "value"), [("--seeds", "0"), ("--repeat", "-1"), ("--writes", "many")]
)
def test_bench_counts_below_one_are_refused_with_the_fix(
    capsys: pytest.CaptureFixture[str], flag: str, value: str
) -> None:
    target = "oracles" if flag == "--writes" else "suite"
    with pytest.raises(SystemExit) as exit_:
        main(["bench", target, flag, value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}: {value!r} is not a whole number of at least 1" in err
    assert "fix: give e.g. 5" in err
