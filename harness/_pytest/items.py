"""pytest collection of scenario files: one item per scenario and seed.

A YAML file is a scenario when the session asked for aqe (see
:mod:`harness._pytest.config`) and it lies under a declared ``aqe_scenarios`` path,
or, with none declared, under a directory named ``scenarios`` (not under its
``policies``), or when it is named on the command line. A file that does not load
becomes one failing item that shows the loader's message, with no Python traceback.

With ``--aqe-seeds K`` each scenario runs K times, as items ``name[seed=0]`` …
``name[seed=K-1]`` (the k-th run seed is the scenario's run seed plus k); with one
seed the item is just ``name``. A scenario's tags become pytest markers, so ``-m``
and ``-k`` select by tag.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness._pytest.config import WORKER_RUN_DIR, aqe_config
from harness._pytest.secrets import collecting
from harness.errors import HarnessError, ScenarioError

if TYPE_CHECKING:
    from harness.isolation import ProcessIsolation  # noqa: F401 - a stash key's type
    from harness.models.source import ModelSource
    from harness.run import RunRecord, RunResult
    from harness.runtime.session import Isolation

#: The record of the run an item made (travels to the controller on its report).
RECORD = pytest.StashKey["RunRecord"]()
#: The controller's run folder for this session.
RUN_DIR = pytest.StashKey[Path]()
#: The session's agent processes (``--aqe-isolation process``).
_ISOLATION = pytest.StashKey["ProcessIsolation"]()


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
        seeds = aqe_config(self.config).seed_count(scenario.seeds)
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
        self.add_marker(pytest.mark.aqe(scenario=scenario.name, seed=seed_index))
        for tag in scenario.tags:
            self.add_marker(tag)

    def runtest(self) -> None:
        with collecting(self):  # its report shows the secrets' aliases only
            self._run()

    def _run(self) -> None:
        from harness.reporting.text import render_failure
        from harness.run import run_scenario, run_seed

        config = self.config
        settings = aqe_config(config)
        spec = settings.agent_spec()  # loaded where it runs: its own process
        seed = run_seed(settings.seed, self.scenario.name, self.seed_index)
        model = run_model(config, self.scenario, spec, seed)
        if effective_mode(config, self.scenario) == "shadow":
            self._shadow(spec, seed, model)
            return
        result = run_scenario(
            self.scenario,
            spec,
            seed=seed,
            wall_timeout=settings.timeout,
            isolation=session_isolation(config),
            model=model,
        )
        record = self.stash[RECORD] = record_run(
            config, result, self.path, spec, self.seed_index, nodeid=self.nodeid
        )
        if not result.passed:
            target = _relative(self.path, config.rootpath)
            seeds = settings.seed_count(self.scenario.seeds)
            if seeds > 1:
                target = f"{target}::{self.name}"
            reproduce = shlex.join(
                [
                    "pytest",
                    target,
                    "--aqe-agent",
                    spec,
                    "--aqe-seed",
                    str(settings.seed),
                    *(["--aqe-seeds", str(seeds)] if seeds > 1 else []),
                    *(["--aqe-model", settings.model] if settings.model else []),
                    *(["--aqe-model-mode", "replay"] if _recorded(model) else []),
                ]
            )
            raise ScenarioFailed(
                render_failure(
                    result,
                    reproduce=reproduce,
                    trace=_relative(run_dir(config) / record["trace"], config.rootpath),
                )
            )

    def _shadow(self, spec: str, seed: int, model: Any) -> None:
        """Shadow mode: act on a fork, compare with the reference; never fails
        the item (``--aqe-shadow-min-agreement`` gates the session)."""
        from harness.modes.shadow import run_shadow

        config = self.config
        settings = aqe_config(config)
        reference = settings.reference_agent
        shadow = run_shadow(
            self.scenario,
            spec,
            seed=seed,
            reference_agent=reference or None,
            wall_timeout=settings.timeout,
            isolation=session_isolation(config),
            model=model,
        )
        record = record_run(
            config,
            shadow.run,
            self.path,
            spec,
            self.seed_index,
            nodeid=self.nodeid,
            mode="shadow",
        )
        record["shadow"] = shadow.to_json()
        self.stash[RECORD] = record

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


def run_model(
    config: pytest.Config, scenario: Any, agent: str, seed: int
) -> ModelSource | None:
    """What answers one run's model calls: ``--aqe-model``, else the scenario's
    ``model:`` (a script or turns), else its cassette for this agent and seed,
    as ``--aqe-model-mode`` says (see :func:`harness.models.source.choose`)."""
    from harness.models.source import for_scenario

    settings = aqe_config(config)
    return for_scenario(
        scenario,
        agent=agent,
        seed=seed,
        script=settings.model,
        mode=settings.model_mode,  # type: ignore[arg-type]
        upstream=dict(settings.model_upstreams),
    )


def _recorded(model: ModelSource | None) -> bool:
    return model is not None and model.mode in ("record", "replay")


def effective_mode(config: pytest.Config, scenario: Any) -> str:
    """``--aqe-mode`` if given, else the scenario's own ``mode``, else sim."""
    mode = aqe_config(config).mode
    return str(mode or getattr(scenario, "mode", None) or "sim")


def record_run(
    config: pytest.Config,
    result: RunResult,
    path: Path,
    agent: str,
    seed_index: int = 0,
    *,
    nodeid: str,
    mode: str = "sim",
) -> RunRecord:
    """Write the run's trace; its record for the session summary (the run's
    secrets as their aliases, as in the trace)."""
    from harness.reporting.trace import write_trace
    from harness.run import run_record

    folder = run_dir(config)
    trace = write_trace(result, folder / "traces", mode=mode)
    record = run_record(
        result,
        nodeid=nodeid,
        path=_relative(path, config.rootpath),
        agent=agent,
        seed_index=seed_index,
        trace=_relative(trace, folder),
        mode=mode,
    )
    return result.world.secrets.redact_json(record)


def run_for_test(
    request: pytest.FixtureRequest,
    scenario: Any = None,
    agent: Any = None,
    *,
    seed: int | None = None,
) -> RunResult:
    """What the ``aqe_run`` fixture does: run a scenario for a Python test.

    ``scenario``: a Scenario, a dict as YAML holds it, or a file path; by default
    the ``scenario`` of the test's ``@pytest.mark.aqe(scenario=...)``. ``agent``: a
    callable or ``module:callable``; by default the session's ``--aqe-agent``.
    In a session that asked for aqe the run is traced and added to the session
    summary under the test's name; in any other session it only runs.
    """
    from harness.authoring import as_scenario
    from harness.run import run_scenario, run_seed
    from harness.runtime.session import agent_name

    config = request.config
    settings = aqe_config(config)
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
        spec = agent = settings.agent_spec()  # loaded where it runs
    elif isinstance(agent, str):
        spec = agent
    else:
        spec = agent_name(agent)
    if seed is None:
        seed = run_seed(settings.seed, built.name)
    model = run_model(config, built, spec, seed)
    with collecting(request.node):
        result = run_scenario(
            built,
            agent,
            seed=seed,
            wall_timeout=settings.timeout,
            isolation=session_isolation(config),
            model=model,
        )
    if has_run_dir(config):
        request.node.stash[RECORD] = record_run(
            config, result, request.node.path, spec, nodeid=request.node.nodeid
        )
    return result


def session_isolation(config: pytest.Config) -> Isolation | None:
    """Where this session's agents run: their own processes (one fork server
    per agent, kept for the session; what the servers imported is kept in
    pytest's cache for the next session), or None (pytest's process) for
    ``--aqe-isolation none``; either way with the session's allowed hosts."""
    settings = aqe_config(config)
    if settings.isolation == "none":
        if not settings.allow_hosts:
            return None
        from harness.runtime.session import InProcessIsolation

        return InProcessIsolation(allow_hosts=settings.allow_hosts)
    isolation = config.stash.get(_ISOLATION, None)
    if isolation is None:
        from harness.isolation import ProcessIsolation
        from harness.isolation.warmlists import WarmLists

        cache = getattr(config, "cache", None)  # none with -p no:cacheprovider
        isolation = config.stash[_ISOLATION] = ProcessIsolation(
            memory=settings.memory,
            read_only=_protected(config),
            allow_hosts=settings.allow_hosts,
            warm_lists=WarmLists(cache.get, cache.set) if cache else None,
        )
        config.add_cleanup(isolation.close)
    return isolation


def _protected(config: pytest.Config) -> tuple[Path, ...]:
    """What an agent must not change: the reports, the baseline, the history."""
    settings = aqe_config(config)
    paths = [settings.report_dir]
    if settings.baseline is not None:
        paths.append(settings.baseline.parent)
    store = settings.store
    if store and "://" not in store:
        paths.append(Path(store).parent)
    protected = tuple(p if p.is_absolute() else config.rootpath / p for p in paths)
    for path in protected:  # made now: a folder made later would not be bound
        with suppress(OSError):
            path.mkdir(parents=True, exist_ok=True)
    return protected


def has_run_dir(config: pytest.Config) -> bool:
    """Whether this session writes reports (it asked for aqe)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return WORKER_RUN_DIR in workerinput
    return RUN_DIR in config.stash


def run_dir(config: pytest.Config) -> Path:
    """This session's run folder (the controller names it; workers are told)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and WORKER_RUN_DIR in workerinput:
        return Path(workerinput[WORKER_RUN_DIR])
    return config.stash[RUN_DIR]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
