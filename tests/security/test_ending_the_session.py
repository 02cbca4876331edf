"""An agent that tries to end the session ends only its own runs: the other runs
are scored, the summary is written, and the session never exits 0 for it."""

from __future__ import annotations

import json

import pytest

from tests.conftest import copy_payments

AGENTS = """
import os
import sys


def exits_hard(task, env):
    os._exit(0)


def exits_ok(task, env):
    sys.exit(0)


def replaces_itself(task, env):
    os.execv("/bin/true", ["true"])


def interrupts(task, env):
    raise KeyboardInterrupt


def exits_on_refund_ok(task, env):
    from harness.agents.reference import careful_refund_agent

    if task.scenario == "refund_ok":
        sys.exit(0)
    return careful_refund_agent(task, env)
"""


@pytest.mark.parametrize("agent", ["exits_ok", "exits_hard", "interrupts"])
def test_an_agent_that_tries_to_end_the_session_fails_every_run_and_the_summary_is_written(
    pytester: pytest.Pytester, agent: str
) -> None:
    project = copy_payments(pytester)
    project.makepyfile(hostile=AGENTS)

    result = project.runpytest("scenarios", f"--aqe-agent=hostile:{agent}")

    result.assert_outcomes(failed=5)
    assert result.ret != 0
    summary = json.loads((project.path / "reports/latest/summary.json").read_text())
    assert (summary["runs"], summary["passed"]) == (5, 0)
    assert summary["complete"] is True


def test_the_other_runs_of_the_session_are_scored(pytester: pytest.Pytester) -> None:
    project = copy_payments(pytester)
    project.makepyfile(hostile=AGENTS)

    result = project.runpytest("scenarios", "--aqe-agent=hostile:exits_on_refund_ok")

    result.assert_outcomes(passed=4, failed=1)
    result.stdout.fnmatch_lines(["*the agent tried to end the process: sys.exit(0)*"])


@pytest.mark.parametrize("isolation", ["none", "process"])
def test_an_agent_that_replaces_its_process_fails_every_run_and_the_session_goes_on(
    pytester: pytest.Pytester, isolation: str
) -> None:
    project = copy_payments(pytester)
    project.makepyfile(hostile=AGENTS)

    result = project.runpytest(
        "scenarios",
        "--aqe-agent=hostile:replaces_itself",
        f"--aqe-isolation={isolation}",
    )

    result.assert_outcomes(failed=5)
    assert (
        "agent: stopped by the harness (exit): the agent tried to replace the process"
        " with another program (exec of ['true']); start it with subprocess instead"
    ) in result.stdout.str()
    summary = json.loads((project.path / "reports/latest/summary.json").read_text())
    assert (summary["runs"], summary["passed"], summary["complete"]) == (5, 0, True)
