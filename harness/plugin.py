"""The aqe pytest plugin: options, hooks and fixtures only; the work is elsewhere.

pytest imports every installed plugin on every run, so this module imports nothing
heavy at module level (no simpy, pandas, httpx): collection and running import what
they need when a scenario is actually collected.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest

RUN_DIR = pytest.StashKey[Path]()


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
    group.addoption(
        "--aqe-baseline",
        dest="aqe_baseline",
        metavar="PATH",
        help="the baseline to compare with (default: <report dir>/baseline.json)",
    )
    group.addoption(
        "--aqe-save-baseline",
        dest="aqe_save_baseline",
        action="store_true",
        help="write this session's results as the baseline",
    )
    group.addoption(
        "--aqe-compare-fail",
        dest="aqe_compare_fail",
        action="append",
        default=[],
        metavar="[SCENARIO/]METRIC:DELTA",
        help="fail (exit 6) when METRIC gets worse than the baseline by more than"
        " DELTA (0.1 or 10%%), e.g. pass_rate:0 or refund_ok/idempotency:0;"
        " repeatable (default: pass_rate:0 when a baseline exists)",
    )
    group.addoption(
        "--aqe-store",
        dest="aqe_store",
        metavar="URL",
        help="results history: a SQLite path or postgresql://… "
        "(default: <report dir>/history.sqlite)",
    )
    group.addoption(
        "--aqe-mode",
        dest="aqe_mode",
        choices=["sim", "shadow", "canary"],
        help="sim: act in the simulated world (default, or the scenario's own"
        " mode); shadow: act on a fork, compare with a reference, change nothing;"
        " canary: a stream of generated cases split with a control agent",
    )
    group.addoption(
        "--aqe-reference-agent",
        dest="aqe_reference_agent",
        metavar="MODULE:CALLABLE",
        help="shadow: the reference agent (run twice, to measure noise); default:"
        " the scenario's recorded reference decision",
    )
    group.addoption(
        "--aqe-shadow-min-agreement",
        dest="aqe_shadow_min_agreement",
        type=float,
        metavar="RATE",
        help="shadow: fail the session when the agreement rate is below RATE"
        " (default: report only)",
    )
    group.addoption(
        "--aqe-control-agent",
        dest="aqe_control_agent",
        metavar="MODULE:CALLABLE",
        help="canary: the control agent (the one in production today)",
    )
    group.addoption(
        "--aqe-cases",
        dest="aqe_cases",
        type=int,
        default=1000,
        metavar="N",
        help="canary: cases generated across the scenario templates (default 1000)",
    )
    group.addoption(
        "--aqe-canary-fraction",
        dest="aqe_canary_fraction",
        type=float,
        default=0.1,
        metavar="F",
        help="canary: the share of cases routed to the candidate (default 0.1)",
    )
    group.addoption(
        "--aqe-canary-steps",
        dest="aqe_canary_steps",
        metavar="P1,P2,...",
        help="canary: ramp in stages of these percentages, each judged before the"
        " next, e.g. 1,5,25 (default: one stage at the fraction)",
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
    if hasattr(config, "workerinput"):
        return  # workers run and trace; the controller reports
    from harness.errors import HarnessError
    from harness.reporting.session import SessionReport
    from harness.scenario.collect import report_options

    try:
        report = SessionReport.start(report_options(config), config.rootpath)
    except HarnessError as err:
        raise pytest.UsageError(f"aqe: {err}") from None
    config.stash[RUN_DIR] = report.run_dir
    config.pluginmanager.register(_SessionReporter(report), "aqe-results")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(report), "aqe-xdist")


def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> pytest.Collector | None:
    from harness.scenario.collect import ScenarioFile, is_scenario_path

    if is_scenario_path(file_path, parent.session.isinitpath(file_path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    from harness.modes.canary_item import gather_canary

    gather_canary(session, config, items)


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
        # travels to the xdist controller with the report; JUnit shows the scores
        report.aqe_record = record
        # JUnit XML writes the teardown report's properties, taken from the item
        item.user_properties.extend(junit_properties(record))
    return report


def junit_properties(record: dict[str, Any]) -> list[tuple[str, object]]:
    """A run's verdict and scores as JUnit ``<property>`` pairs."""
    props: list[tuple[str, object]] = [
        ("aqe.scenario", record["scenario"]),
        ("aqe.seed", record["seed"]),
        ("aqe.agent", record["agent"]),
        ("aqe.verdict", "pass" if record["passed"] else "fail"),
    ]
    for oracle, passed in record["scores"].items():
        outcome = "n/a" if passed is None else "pass" if passed else "fail"
        props.append((f"aqe.oracle.{oracle}", outcome))
        value = record["values"].get(oracle)
        if value is not None:
            props.append((f"aqe.value.{oracle}", value))
    props.append(("aqe.trace", record["trace"]))
    return props


class _SessionReporter:
    """Gathers run records on the controller; reports and gates at session end."""

    def __init__(self, report: Any) -> None:
        self.report = report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from harness.reporting.session import crash_reason

        record = getattr(report, "aqe_record", None)
        if report.when == "call" and record is not None:
            self.report.add(cast("dict[str, Any]", record))
        reason = crash_reason(report)
        if reason is not None:
            self.report.incomplete.append(reason)

    def pytest_keyboard_interrupt(self) -> None:
        self.report.incomplete.append("the session was interrupted")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from harness.reporting.session import failed_count

        if session.shouldstop and session.shouldstop is not True:
            self.report.incomplete.append(f"the session stopped: {session.shouldstop}")
        gate = self.report.finish(
            pytest_status=int(session.exitstatus), failed_tests=failed_count(session)
        )
        if gate is not None:
            session.exitstatus = gate.exit_code

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from harness.reporting.session import write_terminal

        write_terminal(self.report, terminalreporter)


class _XdistHooks:
    """Tells workers the run folder, and notices a worker that died."""

    def __init__(self, report: Any) -> None:
        self.report = report

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput["aqe_run_dir"] = str(self.report.run_dir)

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        if error is not None:
            self.report.incomplete.append(f"worker {node.gateway.id} crashed: {error}")
