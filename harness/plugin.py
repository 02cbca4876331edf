"""The aqe pytest plugin: options, hooks and fixtures only; the work is elsewhere.

pytest imports every installed plugin on every run, so this module imports nothing
heavy at module level (no simpy, pandas, httpx): collection and running import what
they need when a scenario is actually collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

_SUMMARY = pytest.StashKey[list[dict[str, Any]]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("aqe", "aqe-harness: agent scenarios")
    group.addoption(
        "--aqe-agent",
        dest="aqe_agent",
        metavar="MODULE:CALLABLE",
        help="the agent under test, e.g. harness.agents.reference:careful_refund_agent",
    )
    group.addoption(
        "--aqe-seed",
        dest="aqe_seed",
        type=int,
        metavar="N",
        help="session seed; each scenario's run seed derives from it (default 0)",
    )
    group.addoption(
        "--aqe-seeds",
        dest="aqe_seeds",
        type=int,
        metavar="K",
        help="run each scenario K times with derived seeds; the summary reports "
        "pass rate, pass@k and pass^k per scenario (default 1)",
    )
    group.addoption(
        "--aqe-report-dir",
        dest="aqe_report_dir",
        metavar="DIR",
        help="where traces and the summary go (default: reports/)",
    )
    group.addoption(
        "--aqe-timeout",
        dest="aqe_timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="wall-clock limit per run; a hung agent is a recorded failure "
        "(default 60)",
    )
    parser.addini("aqe_agent", "the agent under test (module:callable)", default="")
    parser.addini("aqe_seed", "session seed (default 0)", default="0")
    parser.addini("aqe_seeds", "runs per scenario (default 1)", default="1")
    parser.addini(
        "aqe_report_dir", "directory for traces and summaries", default="reports"
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "aqe(scenario=None): an aqe-harness scenario test; aqe_run() runs the"
        " scenario it names",
    )
    config.pluginmanager.register(_ResultCollector(config), "aqe-results")


def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> pytest.Collector | None:
    from harness.scenario.collect import ScenarioFile, is_scenario_path

    if is_scenario_path(file_path, parent.session.isinitpath(file_path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


@pytest.fixture
def aqe_run(request: pytest.FixtureRequest) -> Any:
    """Run a scenario with the session's agent: ``aqe_run(scenario, agent=None,
    seed=None) -> RunResult`` (see :func:`harness.scenario.collect.run_for_test`)."""
    from functools import partial

    from harness.scenario.collect import run_for_test

    return partial(run_for_test, request)


@pytest.fixture
def aqe_world(request: pytest.FixtureRequest) -> Any:
    """Build a scenario's world without running an agent: ``aqe_world(scenario,
    seed=0) -> RunSetup`` (its world, tools, HTTP door and resolved task)."""
    from harness.authoring import as_scenario
    from harness.modes.sim import prepare_run

    def build(scenario: Any, seed: int = 0) -> Any:
        return prepare_run(as_scenario(scenario), seed=seed)

    return build


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    record = getattr(item, "record", None)
    if call.when == "call" and record is not None:
        report.user_properties.append(("aqe", record))
    return report


class _ResultCollector:
    """Gathers run records from test reports (on the xdist controller too)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.records: list[dict[str, Any]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call":
            self.records.extend(
                cast("dict[str, Any]", v)
                for k, v in report.user_properties
                if k == "aqe"
            )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.records or hasattr(self.config, "workerinput"):
            return
        from harness.reporting.summary import summarize

        summarize(self.records, self.config, terminalreporter)
