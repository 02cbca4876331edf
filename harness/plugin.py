"""The aqe pytest plugin: the list of hooks; each delegates to :mod:`harness._pytest`.

It is inert unless the session asks for aqe (names an agent, declares
``aqe_scenarios``, or names scenario files on the command line): pytest loads every
installed plugin in every project, and one that merely has aqe-harness installed
must see no collected YAML, no baseline read, no subprocess and no output of ours.
For the same reason this module imports nothing heavy (no simpy, pandas, httpx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness._pytest.config import aqe_config
from harness._pytest.options import add_options
from harness._pytest.rewrite import leave_the_harness_unrewritten
from harness.errors import HarnessError

leave_the_harness_unrewritten()  # in every session (see the module)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "aqe(scenario=None): an aqe-harness scenario test; aqe_run() runs the"
        " scenario it names",
    )
    try:
        settings = aqe_config(config)
    except HarnessError as err:  # a bad ini value: a usage error, no traceback
        raise pytest.UsageError(f"aqe: {err}") from None
    if not settings.active:
        return
    from harness._pytest.finalize import quick_exit
    from harness._pytest.rewrite import narrow_plugin_rewrites
    from harness._pytest.secrets import WarningRedactor

    narrow_plugin_rewrites(config)
    quick_exit()

    config.pluginmanager.register(WarningRedactor(config), "aqe-secrets")
    if hasattr(config, "workerinput"):
        return  # workers run and trace; the controller reports
    if not config.pluginmanager.hasplugin("cacheprovider"):
        from harness._pytest.plan import start_early

        start_early(config)  # no warm list to wait for (see the module)
    from harness._pytest.reporter import start

    start(config)


def pytest_collect_file(
    file_path: Path, parent: pytest.Collector
) -> pytest.Collector | None:
    settings = aqe_config(parent.config)
    if not settings.active:
        return None
    from harness._pytest.items import ScenarioFile

    if settings.is_scenario_path(file_path, parent.session.isinitpath(file_path)):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    if not aqe_config(config).active:
        return
    from harness._pytest.canary import gather_canary

    gather_canary(session, config, items)


@pytest.hookimpl(tryfirst=True)
def pytest_collection(session: pytest.Session) -> None:
    if not aqe_config(session.config).active:
        return
    from harness._pytest.plan import start_early

    start_early(session.config)  # a head start on the agent's fork server


@pytest.hookimpl(tryfirst=True)  # first: before an xdist worker sends its items
def pytest_collection_finish(session: pytest.Session) -> None:
    if not aqe_config(session.config).active:
        return
    from harness._pytest.plan import plan_runs, start_planned, warm_while_servers_start
    from harness._pytest.preflight import check_session

    plan_runs(session)  # first: the servers the check starts get the plan
    warm_while_servers_start(session)  # before the check waits for one
    check_session(session)
    start_planned(session)


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if not aqe_config(config).active or aqe_config(config).model:
        return None
    from harness._pytest.schedule import make_scheduler

    return make_scheduler(config, log)


@pytest.fixture
def aqe_run(request: pytest.FixtureRequest) -> Any:
    """Run a scenario with the session's agent: ``aqe_run(scenario, agent=None,
    seed=None) -> RunResult`` (see :func:`harness._pytest.items.run_for_test`)."""
    from functools import partial

    from harness._pytest.items import run_for_test

    return partial(run_for_test, request)


@pytest.fixture
def aqe_world(request: pytest.FixtureRequest) -> Any:
    """Build a scenario's world without running an agent: ``aqe_world(scenario,
    seed=0) -> RunSetup`` (its world, tools, HTTP door and resolved task)."""
    from harness.authoring import as_scenario
    from harness.run import prepare_run

    def build(scenario: Any, seed: int = 0) -> Any:
        return prepare_run(as_scenario(scenario), seed=seed)

    return build


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    from harness._pytest.reporter import attach_record
    from harness._pytest.secrets import redact_report

    redact_report(item, report)
    attach_record(item, call, report)
    return report
