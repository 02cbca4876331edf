"""Warnings raised in agent code are recorded per run, never raised, even under
this project's ``filterwarnings = error``: on the result, in the trace and in a
failing item's text, in either isolation; pytest's own capture works after."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import AgentEnv, Task
from harness.agents.library import careful_agent
from harness.isolation import ProcessIsolation
from harness.reporting.artefacts import read_trace
from harness.reporting.text import render_failure
from harness.reporting.trace import trace_bytes, trace_lines, write_trace
from harness.run import RunResult, run_scenario
from harness.runtime.caught import (
    AgentWarning,
    CaughtWarnings,
    WarningLog,
    capture_warnings,
)
from tests.conftest import copy_payments, payments_scenario

HERE = "tests/runtime/test_warnings.py"


#: one worker runs this module: its module-scoped set-up is made once (--dist loadgroup)
pytestmark = pytest.mark.xdist_group("runtime.test_warnings")


def line_of(text: str) -> int:
    """The line of this file that starts with ``text`` (once)."""
    (number,) = [
        n
        for n, line in enumerate(Path(__file__).read_text().splitlines(), 1)
        if line.strip().startswith(text)
    ]
    return number


def _in_a_thread() -> None:
    warnings.warn("from a worker thread", RuntimeWarning, stacklevel=1)


def warning_agent(task: Task, env: AgentEnv) -> Any:
    """The careful agent, warning as SDKs do: the same warning three times, a
    second kind, one from a thread of its own."""
    for _ in range(3):
        warnings.warn("the old way", DeprecationWarning, stacklevel=1)
    warnings.warn(f"key {env.identity.api_key} in a log", UserWarning, stacklevel=1)
    worker = threading.Thread(target=_in_a_thread)
    worker.start()
    worker.join()
    return careful_agent(task, env)


def expected() -> tuple[AgentWarning, ...]:
    return (
        AgentWarning(
            category="DeprecationWarning",
            message="the old way",
            filename=HERE,
            lineno=line_of('warnings.warn("the old way"'),
            count=3,
        ),
        AgentWarning(
            category="UserWarning",
            message="key <secret:credential:1> in a log",
            filename=HERE,
            lineno=line_of('warnings.warn(f"key {env.identity.api_key} in a log"'),
        ),
        AgentWarning(
            category="RuntimeWarning",
            message="from a worker thread",
            filename=HERE,
            lineno=line_of('warnings.warn("from a worker thread"'),
        ),
    )


@pytest.fixture(scope="module")
def isolation() -> Iterator[ProcessIsolation]:
    isolation = ProcessIsolation()
    yield isolation
    isolation.close()


def test_an_agents_warnings_are_recorded_not_raised_under_filterwarnings_error() -> (
    None
):
    result = run_scenario(payments_scenario("refund_ok"), warning_agent, seed=3)

    assert result.passed, [s.explanation for s in result.scores if not s.passed]
    assert result.warnings == expected()
    assert result.warnings_dropped == 0


def test_an_agent_in_its_own_process_has_its_warnings_carried_to_the_trace(
    isolation: ProcessIsolation,
) -> None:
    scenario = payments_scenario("refund_ok")
    here = run_scenario(scenario, warning_agent, seed=3)
    there = run_scenario(scenario, warning_agent, seed=3, isolation=isolation)

    assert there.sandbox != "none"
    assert there.passed
    assert there.warnings == expected()
    assert there.output == ""  # recorded, not printed to its stderr
    assert trace_bytes(there) == trace_bytes(here)


def test_the_trace_has_one_warning_line_per_distinct_warning() -> None:
    result = run_scenario(payments_scenario("refund_ok"), warning_agent, seed=3)
    lines = [json.loads(line) for line in trace_lines(result)]
    found = [line for line in lines if line["type"].startswith("warning")]
    old, key, thread = (w.where for w in expected())

    assert found == [
        {
            "type": "warning",
            "category": "DeprecationWarning",
            "message": "the old way",
            "where": old,
            "count": 3,
        },
        {
            "type": "warning",
            "category": "UserWarning",
            "message": "key <secret:credential:1> in a log",
            "where": key,
            "count": 1,
        },
        {
            "type": "warning",
            "category": "RuntimeWarning",
            "message": "from a worker thread",
            "where": thread,
            "count": 1,
        },
    ]
    assert lines[-1]["type"] == "verdict"
    assert lines[-2 - len(found)]["type"] == "score"


def test_a_run_without_warnings_writes_no_warning_line() -> None:
    result = run_scenario(payments_scenario("refund_ok"), careful_agent, seed=3)

    assert result.warnings == ()
    assert not [line for line in trace_lines(result) if '"type":"warning' in line]


def test_pytests_own_capture_works_again_after_a_run() -> None:
    filters = list(warnings.filters)
    hook = warnings.showwarning

    run_scenario(payments_scenario("refund_ok"), warning_agent, seed=3)

    assert warnings.filters == filters
    assert warnings.showwarning is hook
    with pytest.raises(UserWarning, match="after the run"):  # filterwarnings=error
        warnings.warn("after the run", UserWarning, stacklevel=1)
    with pytest.warns(DeprecationWarning, match="still seen"):
        warnings.warn("still seen", DeprecationWarning, stacklevel=1)


def _noisy(count: int) -> None:
    for n in range(count):
        warnings.warn_explicit(f"warning {n}", UserWarning, "noisy.py", n + 1)


def test_the_log_keeps_the_first_distinct_warnings_and_counts_the_rest() -> None:
    with capture_warnings() as log:
        _noisy(103)
        _noisy(2)  # seen before: counted with the kept ones
        warnings.warn_explicit("warning 102", UserWarning, "noisy.py", 103)

    caught = log.caught()
    assert len(caught.kept) == 100
    assert caught.kept[0] == AgentWarning(
        category="UserWarning",
        message="warning 0",
        filename="noisy.py",
        lineno=1,
        count=2,
    )
    assert [w.count for w in caught.kept[1:3]] == [2, 1]
    assert caught.kept[-1].message == "warning 99"
    assert caught.dropped == 4


def test_a_small_log_limit_is_the_limit() -> None:
    log = WarningLog(limit=1)
    log.showwarning("one", UserWarning, "a.py", 1)
    log.showwarning("two", UserWarning, "a.py", 2)
    log.showwarning("one", UserWarning, "a.py", 1)

    assert [(w.message, w.count) for w in log.caught().kept] == [("one", 2)]
    assert log.caught().dropped == 1


def test_warnings_cross_the_wire_and_what_is_not_a_warning_is_left_out() -> None:
    caught = CaughtWarnings(
        kept=(
            AgentWarning(
                category="UserWarning", message="m", filename="a.py", lineno=3, count=2
            ),
        ),
        dropped=7,
    )
    sent = json.loads(json.dumps(caught.to_wire()))

    assert CaughtWarnings.from_wire(sent) == caught
    assert CaughtWarnings.from_wire(None) == CaughtWarnings()
    assert CaughtWarnings.from_wire(
        {
            "kept": [
                ["UserWarning", "m", "a.py", 3, 2],
                ["UserWarning", "m", "a.py", "3", 2],
                ["UserWarning", "m", "a.py", 3, 0],
                [1, "m", "a.py", 3, 1],
                "nothing",
                ["short"],
            ],
            "dropped": -1,
        }
    ) == CaughtWarnings(kept=caught.kept)


def long_warning_agent(task: Task, env: AgentEnv) -> None:
    warnings.warn("x" * 2100 + "\nsecond line", UserWarning, stacklevel=1)


def test_a_long_message_is_shortened_after_its_secrets_are_redacted() -> None:
    result = run_scenario(payments_scenario("refund_ok"), long_warning_agent, seed=3)

    (warning,) = result.warnings
    assert warning.message == "x" * 2000 + "... (112 more characters)"


def many_warnings_agent(task: Task, env: AgentEnv) -> None:
    warnings.warn("first line\nsecond line", DeprecationWarning, stacklevel=1)
    for n in range(104):
        warnings.warn_explicit(f"warning {n}", UserWarning, "sdk/noisy.py", n + 1)


def failure_text(result: RunResult) -> str:
    return render_failure(result, reproduce="aqe reproduce", trace="t.jsonl")


def test_a_failing_runs_text_lists_its_warnings_capped() -> None:
    result = run_scenario(payments_scenario("refund_ok"), many_warnings_agent, seed=3)
    many = line_of('warnings.warn("first line\\nsecond line"')

    assert not result.passed
    assert result.warnings_dropped == 5
    text = failure_text(result).splitlines()
    start = text.index(
        f"  warnings: DeprecationWarning at {HERE}:{many}: first line ..."
    )
    assert text[start + 1 : start + 8] == [
        "            UserWarning at sdk/noisy.py:1: warning 0",
        "            UserWarning at sdk/noisy.py:2: warning 1",
        "            UserWarning at sdk/noisy.py:3: warning 2",
        "            UserWarning at sdk/noisy.py:4: warning 3",
        "            and 95 more in the trace",
        "            and 5 more not kept",
        "  trace: t.jsonl",
    ]


def test_a_failing_runs_text_shows_a_warnings_count_and_no_secret() -> None:
    def agent(task: Task, env: AgentEnv) -> None:
        for _ in range(2):
            warnings.warn(f"key {env.identity.api_key}", UserWarning, stacklevel=1)

    result = run_scenario(payments_scenario("refund_ok"), agent, seed=3)
    line = line_of('warnings.warn(f"key {env.identity.api_key}",')
    where = f"{HERE}:{line}"

    assert f"  warnings: UserWarning at {where}: key <secret:credential:1> (x2)" in (
        failure_text(result).splitlines()
    )


WARNER = """
import warnings


def agent(task, env):
    for _ in range(3):
        warnings.warn("an old way", DeprecationWarning, stacklevel=1)
    return {"status": "done"}
"""


@pytest.mark.parametrize("isolation_mode", ["process", "none"])
def test_a_failing_item_shows_its_agents_warnings_under_w_error(
    pytester: pytest.Pytester, isolation_mode: str
) -> None:
    copy_payments(pytester)
    pytester.makepyfile(warner=WARNER)

    result = pytester.runpytest_subprocess(
        "scenarios/payments/refund_ok.yaml",
        "--aqe-agent=warner:agent",
        f"--aqe-isolation={isolation_mode}",
        "-W",
        "error",
        "-p",
        "no:cacheprovider",
    )

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenario 'refund_ok' failed on idempotency, outcome (seed *",
            "  agent said: done: ",
            "  warnings: DeprecationWarning at warner.py:6: an old way (x3)",
            "  trace: *",
        ]
    )
    (trace,) = pytester.path.glob("reports/runs/*/traces/*.jsonl")
    assert [line for line in trace.read_text().splitlines() if "warning" in line] == [
        '{"category":"DeprecationWarning","count":3,"message":"an old way",'
        '"type":"warning","where":"warner.py:6"}'
    ]


def crashing_warning_agent(task: Task, env: AgentEnv) -> None:
    warnings.warn("before the crash", UserWarning, stacklevel=1)
    raise RuntimeError("boom")


def test_a_crashing_agents_warnings_come_with_its_delivery(
    isolation: ProcessIsolation,
) -> None:
    scenario = payments_scenario("refund_ok")
    for result in (
        run_scenario(scenario, crashing_warning_agent, seed=3),
        run_scenario(scenario, crashing_warning_agent, seed=3, isolation=isolation),
    ):
        assert result.failed_oracles[0] == "agent"
        assert [(w.category, w.message) for w in result.warnings] == [
            ("UserWarning", "before the crash")
        ]


def test_a_trace_with_warnings_reads_back(tmp_path: Path) -> None:
    result = run_scenario(payments_scenario("refund_ok"), many_warnings_agent, seed=3)
    trace = read_trace(write_trace(result, tmp_path))

    types = [line["type"] for line in trace.lines]
    assert types.count("warning") == 100
    assert trace.lines[-2] == {"type": "warnings_dropped", "count": 5}
