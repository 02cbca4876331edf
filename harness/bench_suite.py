"""``aqe bench suite``: the scenario library x K new seeds, end to end, through
the Python API and through pytest (``-n 0`` and ``-n 2``), in runs/s and tool
calls/s, against τ-bench's scripted replay on the same machine.

* ``api``: every scenario of the library, ``seeds`` run seeds each (the seeds
  ``--aqe-seeds`` gives, from a session seed no earlier round used, so every
  world is built anew), through :func:`harness.run.run_scenario` in this
  process with the library's careful agent; the model a scenario names (its
  script or turns) answers its model calls, as in a session. A first round of
  one seed per scenario, on seeds of its own, imports what the agents import
  (the model SDKs, the frameworks) before the timed rounds; its time is
  reported apart (``api_first_round``).
* ``pytest_n0`` / ``pytest_n2``: ``python -m pytest PATHS --aqe-agent …
  --aqe-seeds K -n 0|2`` in a fresh interpreter, timed from the start of the
  command to its exit (start-up, collection, the runs in their own processes,
  the reports); runs and tool calls counted from the run folder's
  ``results.jsonl``.
* ``tau_bench_tasks_per_s``: τ-bench's figure, a constant with its source;
  ``api_vs_tau_bench`` and ``pytest_n0_vs_tau_bench`` the ratios;
  ``n2_vs_n0`` the speed-up of two workers.

Rounds are interleaved (API, ``-n 0``, ``-n 2``, then again), so a slow phase
of a shared machine hits all three alike; each figure is the median over the
rounds. The bench reports; it asserts nothing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

#: τ-bench's scripted replay: its retail tasks' gold actions replayed through its
#: tool environment with no model in the loop.
TAU_BENCH_TASKS_PER_S = 0.85
TAU_BENCH_SOURCE = (
    "τ-bench (sierra-research/tau-bench) retail, gold actions replayed with no "
    "model: 0.78-0.91 tasks/s on this 2-core machine, paired with the harness in "
    "one window (issue 18); 0.85 is the middle of that range"
)
#: The agent the library is judged with (``aqe run``'s main job).
AGENT = "harness.agents.library:careful_agent"


def library_files(paths: Sequence[Path]) -> list[Path]:
    """The scenario files pytest collects under ``paths`` (not policy packs)."""
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
            continue
        for found in sorted(path.rglob("*")):
            if found.suffix in (".yaml", ".yml") and "policies" not in found.parts:
                files.append(found)
    return files


def _api_round(files: Sequence[Path], seeds: int, session_seed: int) -> dict[str, Any]:
    from harness.agents.loading import load_agent
    from harness.models.source import for_scenario
    from harness.run import run_scenario, run_seed
    from harness.scenario.loader import load_scenario

    agent = load_agent(AGENT)
    scenarios = [load_scenario(path) for path in files]
    runs = calls = failed = 0
    start = time.perf_counter()
    for scenario in scenarios:
        for index in range(seeds):
            seed = run_seed(session_seed, scenario.name, index)
            model = for_scenario(scenario, agent=AGENT, seed=seed)
            result = run_scenario(scenario, agent, seed=seed, model=model)
            runs += 1
            calls += result.tool_calls
            failed += not result.passed
    seconds = time.perf_counter() - start
    return {"runs": runs, "tool_calls": calls, "failed": failed, "seconds": seconds}


def _pytest_round(
    paths: Sequence[Path], seeds: int, workers: int, session_seed: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="aqe-bench-suite-") as tmp:
        command = [
            sys.executable,
            "-m",
            "pytest",
            *map(str, paths),
            "--aqe-agent",
            AGENT,
            "--aqe-seeds",
            str(seeds),
            "--aqe-seed",
            str(session_seed),
            "--aqe-report-dir",
            tmp,
            "-n",
            str(workers),
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - start
        records = [
            json.loads(line)
            for results in Path(tmp).rglob("results.jsonl")
            for line in results.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    if not records:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise HarnessError(
            f"aqe bench suite: pytest -n {workers} wrote no run records "
            f"(exit {done.returncode}):\n{tail}\n"
            "    fix: run the same pytest command by hand to see why"
        )
    return {
        "runs": len(records),
        "tool_calls": sum(int(r.get("tool_calls") or 0) for r in records),
        "failed": sum(not r["passed"] for r in records),
        "seconds": seconds,
        "exit": done.returncode,
    }


def _summary(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = statistics.median(r["seconds"] for r in rounds)
    runs, calls = rounds[0]["runs"], rounds[0]["tool_calls"]
    return {
        "runs": runs,
        "tool_calls": calls,
        "failed": max(r["failed"] for r in rounds),
        "seconds": round(seconds, 3),
        "runs_per_s": round(runs / seconds, 2),
        "tool_calls_per_s": round(calls / seconds, 1),
        "seconds_each_round": [round(r["seconds"], 3) for r in rounds],
    }


def bench_suite(
    *,
    paths: Sequence[Path | str] = ("scenarios",),
    seeds: int = 5,
    rounds: int = 1,
    workers: Sequence[int] = (0, 2),
) -> dict[str, Any]:
    """The library x ``seeds`` new seeds through the API and through pytest."""
    where = [Path(p) for p in paths]
    missing = [str(p) for p in where if not p.exists()]
    if missing:
        raise HarnessError(
            f"aqe bench suite: no such path: {', '.join(missing)}\n"
            "    fix: run it from the project's root, or pass --paths DIR"
        )
    files = library_files(where)
    # The process's first round imports every SDK the library's agents use
    # (openai, anthropic, langgraph, pydantic_ai: seconds) and builds the
    # per-process tables; it is timed on seeds of its own and reported apart,
    # so the rounds measure runs on new seeds, not imports.
    warm_up = _api_round(files, 1, session_seed=987_654_321)
    api: list[dict[str, Any]] = []
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in workers}
    for index in range(rounds):
        session_seed = 1_000_003 * (index + 1)
        api.append(_api_round(files, seeds, session_seed))
        for n in workers:
            runs[n].append(_pytest_round(where, seeds, n, session_seed + 17 * n))
    results: dict[str, Any] = {
        "scenarios": len(files),
        "seeds": seeds,
        "rounds": rounds,
        "cpus": os.cpu_count(),
        "api": _summary(api),
        "api_first_round": {
            "runs": warm_up["runs"],
            "seconds": round(warm_up["seconds"], 3),
            "note": "one seed per scenario in a fresh process, SDK imports included",
        },
        "tau_bench_tasks_per_s": TAU_BENCH_TASKS_PER_S,
        "tau_bench_source": TAU_BENCH_SOURCE,
    }
    results["api_vs_tau_bench"] = round(
        results["api"]["runs_per_s"] / TAU_BENCH_TASKS_PER_S, 1
    )
    for n in workers:
        results[f"pytest_n{n}"] = _summary(runs[n])
    if 0 in runs:
        results["pytest_n0_vs_tau_bench"] = round(
            results["pytest_n0"]["runs_per_s"] / TAU_BENCH_TASKS_PER_S, 1
        )
    if 0 in runs and 2 in runs:
        results["n2_vs_n0"] = round(
            results["pytest_n0"]["seconds"] / results["pytest_n2"]["seconds"], 3
        )
    return results


def render(results: dict[str, Any]) -> str:
    """The figures as lines a person reads."""
    lines = [
        f"library: {results['scenarios']} scenarios x {results['seeds']} new seeds, "
        f"{results['rounds']} round(s), {results['cpus']} cpus"
    ]
    for key in ("api", "pytest_n0", "pytest_n2"):
        if key in results:
            r = results[key]
            lines.append(
                f"{key:>10}: {r['runs']} runs in {r['seconds']:.2f} s = "
                f"{r['runs_per_s']:.1f} runs/s, {r['tool_calls_per_s']:.0f} tool "
                f"calls/s ({r['failed']} failed)"
            )
    if "api_first_round" in results:
        first = results["api_first_round"]
        lines.append(
            f"{'first':>10}: {first['runs']} runs in {first['seconds']:.2f} s "
            "(the process's first round: SDK imports, not counted above)"
        )
    lines.append(
        f"  tau-bench: {results['tau_bench_tasks_per_s']} tasks/s "
        f"({results['tau_bench_source']})"
    )
    for key in ("api_vs_tau_bench", "pytest_n0_vs_tau_bench", "n2_vs_n0"):
        if key in results:
            lines.append(f"{key:>22}: {results[key]}x")
    return "\n".join(lines)
