"""pytest collection of scenario files: one item per scenario and seed.

A YAML file is a scenario when it lies under a directory named ``scenarios`` (and
not under its ``policies``), or when it is named on the command line. A file that
does not load becomes one failing item that shows the loader's message, with no
Python traceback.

With ``--aqe-seeds K`` each scenario runs K times, as items ``name[seed=0]`` …
``name[seed=K-1]`` (the k-th run seed is the scenario's run seed plus k); with one
seed the item is just ``name``. A scenario's tags become pytest markers, so ``-m``
and ``-k`` select by tag.
"""

from __future__ import annotations

import shlex
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.errors import HarnessError, ScenarioError

SUFFIXES = (".yaml", ".yml")


def is_scenario_path(path: Path, explicitly_named: bool) -> bool:
    if path.suffix not in SUFFIXES:
        return False
    if explicitly_named:
        return True
    parents = [p.name for p in path.parents]
    return "scenarios" in parents and "policies" not in parents


def run_seed(session_seed: int, scenario_name: str, index: int = 0) -> int:
    """The ``index``-th run seed of a scenario: the session seed plus the CRC32 of
    its name, plus ``index``."""
    return (session_seed + zlib.crc32(scenario_name.encode()) + index) & 0xFFFFFFFF


def seed_count(config: pytest.Config, scenario: Any = None) -> int:
    """Runs per scenario: ``--aqe-seeds``, else the scenario's ``seeds``, else the
    ``aqe_seeds`` ini value (default 1)."""
    value = config.getoption("aqe_seeds")
    if value is None and scenario is not None and scenario.seeds > 1:
        value = scenario.seeds
    return max(1, int(value or config.getini("aqe_seeds") or 1))


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        from harness.scenario.loader import load_scenario

        try:
            scenario = load_scenario(self.path)
        except ScenarioError as exc:
            yield InvalidScenarioItem.from_parent(
                self, name=self.path.stem, error=str(exc)
            )
            return
        for tag in scenario.tags:
            register_marker(self.config, tag)
        seeds = seed_count(self.config, scenario)
        for index in range(seeds):
            name = scenario.name if seeds == 1 else f"{scenario.name}[seed={index}]"
            yield ScenarioItem.from_parent(
                self, name=name, scenario=scenario, seed_index=index
            )


def register_marker(config: pytest.Config, tag: str) -> None:
    """Declare a scenario tag as a marker (so ``--strict-markers`` accepts it)."""
    known = {
        line.split(":", 1)[0].split("(", 1)[0] for line in config.getini("markers")
    }
    if tag not in known:
        config.addinivalue_line("markers", f"{tag}: scenarios tagged {tag}")


class InvalidScenarioItem(pytest.Item):
    """A scenario that did not load: fails with the loader's message."""

    def __init__(self, *, error: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.error = error

    def runtest(self) -> None:
        raise ScenarioError(self.error)

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        return f"invalid scenario:\n{self.error}"

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario file {self.path.name}"


class ScenarioFailed(Exception):
    """The scenario ran and at least one blocking oracle failed."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class ScenarioItem(pytest.Item):
    """Runs the agent under test on one scenario and fails on a blocking oracle."""

    def __init__(self, *, scenario: Any, seed_index: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.seed_index = seed_index
        self.record: dict[str, Any] | None = None
        self.add_marker(pytest.mark.aqe(scenario=scenario.name, seed=seed_index))
        for tag in scenario.tags:
            self.add_marker(tag)

    def runtest(self) -> None:
        from harness.agents.loading import load_agent
        from harness.modes.sim import run_scenario
        from harness.reporting.text import render_failure

        config = self.config
        spec = agent_spec(config)
        agent = load_agent(spec)
        base_seed = session_seed(config)
        seed = run_seed(base_seed, self.scenario.name, self.seed_index)
        if effective_mode(config, self.scenario) == "shadow":
            self._shadow(agent, spec, seed)
            return
        result = run_scenario(
            self.scenario,
            agent,
            seed=seed,
            wall_timeout=config.getoption("aqe_timeout"),
        )
        self.record = record_run(
            config, result, self.path, spec, self.seed_index, nodeid=self.nodeid
        )
        if not result.passed:
            target = _relative(self.path, config.rootpath)
            seeds = seed_count(config, self.scenario)
            if seeds > 1:
                target = f"{target}::{self.name}"
            reproduce = shlex.join(
                [
                    "pytest",
                    target,
                    "--aqe-agent",
                    spec,
                    "--aqe-seed",
                    str(base_seed),
                    *(["--aqe-seeds", str(seeds)] if seeds > 1 else []),
                ]
            )
            raise ScenarioFailed(
                render_failure(
                    result,
                    reproduce=reproduce,
                    trace=_relative(
                        run_dir(config) / self.record["trace"], config.rootpath
                    ),
                )
            )

    def _shadow(self, agent: Any, spec: str, seed: int) -> None:
        """Shadow mode: act on a fork, compare with the reference; never fails
        the item (``--aqe-shadow-min-agreement`` gates the session)."""
        from harness.agents.loading import load_agent
        from harness.modes.shadow import run_shadow

        config = self.config
        reference = config.getoption("aqe_reference_agent")
        shadow = run_shadow(
            self.scenario,
            agent,
            seed=seed,
            reference_agent=load_agent(reference) if reference else None,
            wall_timeout=config.getoption("aqe_timeout"),
        )
        self.record = record_run(
            config,
            shadow.run,
            self.path,
            spec,
            self.seed_index,
            nodeid=self.nodeid,
            mode="shadow",
        )
        self.record["shadow"] = shadow.to_json()

    def repr_failure(
        self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
    ) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.text
        if isinstance(excinfo.value, HarnessError):
            return f"aqe: {excinfo.value}"
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario: {self.scenario.name}"


def effective_mode(config: pytest.Config, scenario: Any) -> str:
    """``--aqe-mode`` if given, else the scenario's own ``mode``, else sim."""
    mode = config.getoption("aqe_mode", None)
    return str(mode or getattr(scenario, "mode", None) or "sim")


def agent_spec(config: pytest.Config) -> str:
    """The agent under test, as ``module:callable``, from the options or ini."""
    spec = config.getoption("aqe_agent") or config.getini("aqe_agent")
    if not spec:
        raise HarnessError(
            "no agent under test\n"
            "    fix: pass --aqe-agent module:callable, or set aqe_agent in the "
            "pytest ini file"
        )
    return str(spec)


def record_run(
    config: pytest.Config,
    result: Any,
    path: Path,
    agent: str,
    seed_index: int = 0,
    *,
    nodeid: str,
    mode: str = "sim",
) -> dict[str, Any]:
    """Write the run's trace; its record for the session summary."""
    from harness.reporting.records import run_record
    from harness.reporting.trace import write_trace

    folder = run_dir(config)
    trace = write_trace(result, folder / "traces", mode=mode)
    return run_record(
        result,
        nodeid=nodeid,
        path=_relative(path, config.rootpath),
        agent=agent,
        seed_index=seed_index,
        trace=_relative(trace, folder),
        mode=mode,
    )


def run_for_test(
    request: pytest.FixtureRequest,
    scenario: Any = None,
    agent: Any = None,
    *,
    seed: int | None = None,
) -> Any:
    """What the ``aqe_run`` fixture does: run a scenario for a Python test.

    ``scenario``: a Scenario, a dict as YAML holds it, or a file path; by default
    the ``scenario`` of the test's ``@pytest.mark.aqe(scenario=...)``. ``agent``: a
    callable or ``module:callable``; by default the session's ``--aqe-agent``.
    The run is traced and added to the session summary under the test's name.
    """
    from harness.agents.loading import load_agent
    from harness.authoring import as_scenario
    from harness.modes.sim import agent_name, run_scenario

    config = request.config
    if scenario is None:
        marker = request.node.get_closest_marker("aqe")
        scenario = marker.kwargs.get("scenario") if marker is not None else None
        if scenario is None:
            raise HarnessError(
                "aqe_run() needs a scenario\n    fix: pass one (a Scenario, a dict"
                " or a file), or mark the test @pytest.mark.aqe(scenario=...)"
            )
    built = as_scenario(scenario)
    if agent is None:
        spec = agent_spec(config)
        agent = load_agent(spec)
    elif isinstance(agent, str):
        spec, agent = agent, load_agent(agent)
    else:
        spec = agent_name(agent)
    if seed is None:
        seed = run_seed(session_seed(config), built.name)
    result = run_scenario(
        built, agent, seed=seed, wall_timeout=config.getoption("aqe_timeout")
    )
    request.node.record = record_run(
        config, result, request.node.path, spec, nodeid=request.node.nodeid
    )
    return result


def session_seed(config: pytest.Config) -> int:
    value = config.getoption("aqe_seed")
    if value is None:
        value = config.getini("aqe_seed") or 0
    return int(value)


def report_dir(config: pytest.Config) -> Path:
    value = config.getoption("aqe_report_dir") or config.getini("aqe_report_dir")
    path = Path(value)
    return path if path.is_absolute() else config.rootpath / path


def run_dir(config: pytest.Config) -> Path:
    """This session's run folder (the controller names it; workers are told)."""
    from harness.plugin import RUN_DIR

    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "aqe_run_dir" in workerinput:
        return Path(workerinput["aqe_run_dir"])
    return config.stash[RUN_DIR]


def report_options(config: pytest.Config) -> Any:
    """The session's reporting options, resolved against the report dir."""
    from harness.reporting.session import ReportOptions

    reports = report_dir(config)
    baseline = config.getoption("aqe_baseline")
    path = Path(baseline) if baseline else reports / "baseline.json"
    if not path.is_absolute():
        path = Path.cwd() / path
    return ReportOptions(
        reports=reports,
        baseline=path,
        baseline_explicit=bool(baseline),
        save_baseline=bool(config.getoption("aqe_save_baseline")),
        store=config.getoption("aqe_store"),
        rules=tuple(config.getoption("aqe_compare_fail") or ()),
        shadow_min_agreement=config.getoption("aqe_shadow_min_agreement"),
        expects_runs=bool(config.getoption("aqe_agent")),
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
