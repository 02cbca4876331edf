"""``aqe bench startup``: how long the short commands take, whole, from a fresh
interpreter, against the interpreter itself and against importing pytest.

Each command is a fresh process, as a user starts it: ``aqe --help``, ``aqe
validate FILE``, ``aqe tools``, and ``aqe run FILE`` of one scenario with the
careful reference agent, in its sandbox (``--aqe-isolation process``, the
default) and in pytest's own process (``--aqe-isolation none``). The commands
are interleaved in rounds, so a slow phase of a shared machine hits them all
alike; each figure is the median wall time of its rounds, in milliseconds.

* ``python_ms``: ``python -c pass``; ``import_pytest_ms``: ``python -c "import
  pytest"`` (what any pytest session pays before its plugins);
* ``help_ms``, ``validate_ms``, ``tools_ms``, ``run_ms``, ``run_in_process_ms``:
  the commands; ``<command>_vs_import_pytest``: each over ``import_pytest_ms``;
* ``slowest_ms`` and ``target_ms`` (:data:`TARGET_MS`, the start-up target of
  every one of them on an idle 2-core machine);
* ``bytecode_cache``: whether these processes could keep compiled modules
  (false under ``PYTHONDONTWRITEBYTECODE``: every harness module is compiled
  anew in every process).

The bench reports; it asserts nothing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.errors import HarnessError

#: What each short command should take at most, on an idle 2-core machine.
TARGET_MS = 1500
#: The scenario ``aqe run`` and ``aqe validate`` are timed on (from the current
#: directory: a checkout of the library).
SCENARIO = "scenarios/payments/refund_ambiguous_timeout.yaml"
#: The agent ``aqe run`` is timed with.
AGENT = "harness.agents.reference:careful_refund_agent"
#: The commands, by figure; ``{scenario}`` and ``{report_dir}`` filled per round.
COMMANDS: dict[str, tuple[str, ...]] = {
    "python": ("-c", "pass"),
    "import_pytest": ("-c", "import pytest"),
    "help": ("-m", "harness.cli", "--help"),
    "validate": ("-m", "harness.cli", "validate", "{scenario}"),
    "tools": ("-m", "harness.cli", "tools"),
    "run": (
        "-m", "harness.cli", "run", "{scenario}", "--agent", AGENT,
        "--aqe-report-dir", "{report_dir}",
    ),
    "run_in_process": (
        "-m", "harness.cli", "run", "{scenario}", "--agent", AGENT,
        "--aqe-report-dir", "{report_dir}", "--aqe-isolation", "none",
    ),
}  # fmt: skip
#: The figures set against ``import_pytest_ms``.
COMPARED = ("help", "validate", "tools", "run", "run_in_process")


def bench_startup(*, rounds: int = 5, scenario: str = SCENARIO) -> dict[str, Any]:
    """Median wall milliseconds of each command over ``rounds`` interleaved
    rounds (see the module)."""
    if not Path(scenario).is_file():
        raise HarnessError(
            f"aqe bench startup: no scenario file {scenario}\n"
            "    fix: run it from a checkout of the scenario library, or give"
            " --scenario FILE"
        )
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, args in COMMANDS.items():
            samples[name].append(_timed(name, args, scenario))
    medians = {name: statistics.median(v) for name, v in samples.items()}
    figures: dict[str, Any] = {f"{n}_ms": round(v, 1) for n, v in medians.items()}
    for name in COMPARED:
        ratio = medians[name] / medians["import_pytest"]
        figures[f"{name}_vs_import_pytest"] = round(ratio, 2)
    figures["slowest_ms"] = round(max(medians[n] for n in COMPARED), 1)
    figures["target_ms"] = TARGET_MS
    figures["bytecode_cache"] = not sys.dont_write_bytecode
    figures["rounds"] = rounds
    return figures


def _timed(name: str, args: tuple[str, ...], scenario: str) -> float:
    """One command's wall milliseconds (it must succeed)."""
    with tempfile.TemporaryDirectory(prefix="aqe-bench-") as report_dir:
        command = [
            sys.executable,
            *(a.format(scenario=scenario, report_dir=report_dir) for a in args),
        ]
        start = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, check=False
        )  # fmt: skip
        elapsed = (time.perf_counter() - start) * 1000.0
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise HarnessError(
            f"aqe bench startup: {name} exited {done.returncode}: " + " / ".join(tail)
        )
    return elapsed
