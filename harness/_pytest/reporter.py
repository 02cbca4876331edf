"""The session's side of aqe under pytest: it gathers run records on the
controller, writes the reports, decides the gate and prints the verdict.

Registered only in a session that asked for aqe (see :mod:`harness._pytest.config`);
on xdist workers nothing here runs: a worker's records travel to the controller on
its test reports (the Hypothesis plugin's pattern).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from harness._pytest.config import (
    WORKER_DIST,
    WORKER_RUN_DIR,
    AqeConfig,
    aqe_config,
)
from harness._pytest.items import RECORD, RUN_DIR

if TYPE_CHECKING:
    from harness.reporting.selection import Selection
    from harness.reporting.session import ReportOptions, SessionReport
    from harness.run import RunRecord


def start(config: pytest.Config) -> None:
    """On the controller of a session that asked for aqe: open the run folder,
    load the baseline, register the reporter."""
    from harness.errors import HarnessError
    from harness.reporting.session import SessionReport

    settings = aqe_config(config)
    _extend_args(config, settings)
    try:
        report = SessionReport.start(report_options(settings), config.rootpath)
    except HarnessError as err:
        raise pytest.UsageError(f"aqe: {err}") from None
    config.stash[RUN_DIR] = report.run_dir
    config.pluginmanager.register(SessionReporter(report), "aqe-results")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(XdistHooks(report), "aqe-xdist")


def _extend_args(config: pytest.Config, settings: AqeConfig) -> None:
    """Declared scenario paths are collected even when ``testpaths`` leaves them
    out (a session given paths on the command line collects just those)."""
    if config.args_source is pytest.Config.ArgsSource.ARGS:
        return
    walked = [Path(arg).resolve() for arg in config.args]
    for root in settings.scenario_roots:
        if not any(w == root or w in root.parents for w in walked):
            config.args.append(str(root))


def report_options(settings: AqeConfig) -> ReportOptions:
    """The session's reporting options, resolved against the report dir."""
    from harness.reporting.session import ReportOptions

    reports = settings.report_dir
    baseline = settings.baseline
    path = baseline if baseline is not None else reports / "baseline.json"
    if not path.is_absolute():
        path = Path.cwd() / path
    return ReportOptions(
        reports=reports,
        baseline=path,
        baseline_explicit=baseline is not None,
        save_baseline=settings.save_baseline,
        store=settings.store,
        rules=settings.compare_fail,
        shadow_min_agreement=settings.shadow_min_agreement,
        expects_runs=settings.agent_on_command_line,
    )


def selection(config: pytest.Config, nodeids: list[str]) -> Selection:
    """What the session selected: its items after paths, ``-k`` and ``-m``."""
    from harness.reporting.selection import select

    return select(
        nodeids,
        args=[str(a) for a in config.args],
        keyword=config.getoption("keyword", None),
        markexpr=config.getoption("markexpr", None),
    )


def attach_record(item: pytest.Item, call: pytest.CallInfo[None], report: Any) -> None:
    """Put the item's run record on its call report (it travels to the xdist
    controller with it) and its scores in the JUnit properties."""
    record = item.stash.get(RECORD, None)
    if call.when == "call" and record is not None:
        report.aqe_record = record
        # JUnit XML writes the teardown report's properties, taken from the item
        item.user_properties.extend(junit_properties(record))


def junit_properties(record: RunRecord) -> list[tuple[str, object]]:
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


class SessionReporter:
    """Gathers run records on the controller; reports and gates at session end."""

    def __init__(self, report: SessionReport) -> None:
        self.report = report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from harness.reporting.session import crash_reason

        record = getattr(report, "aqe_record", None)
        if report.when == "call" and record is not None:
            self.report.add(cast("RunRecord", record))
        reason = crash_reason(report)
        if reason is not None:
            self.report.incomplete.append(reason)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.report.select(selection(session.config, [i.nodeid for i in session.items]))

    def pytest_keyboard_interrupt(self) -> None:
        self.report.incomplete.append("the session was interrupted")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from harness.reporting.session import failed_count

        if (
            session.exitstatus == pytest.ExitCode.USAGE_ERROR
            and not self.report.records
        ):
            return  # a usage error before any run: its message says it all
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


class XdistHooks:
    """Tells workers the run folder and the distribution (see
    :mod:`harness._pytest.plan`), and notices a worker that died."""

    def __init__(self, report: SessionReport) -> None:
        self.report = report

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[WORKER_RUN_DIR] = str(self.report.run_dir)
        node.workerinput[WORKER_DIST] = node.config.getvalue("dist")

    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        # every worker collects the same items (xdist checks); the first one says
        if self.report.selection is None:
            self.report.select(selection(node.config, ids))

    def pytest_testnodedown(self, node: Any, error: object) -> None:
        from harness._pytest.preflight import raise_worker_error

        if error is not None:
            self.report.incomplete.append(f"worker {node.gateway.id} crashed: {error}")
            return
        raise_worker_error(node)  # an agent that does not load: the usage error
