"""When collection ends: tell the session's fork servers what will run, and start
the ones this process will need.

Under ``--aqe-isolation process`` a fork server starts on its kind's first run
(a model answers it or not), imports the agent, and forks every run from there;
what the runs import beyond the agent's module, each first run paid for in its
own process and the server again after it. Given the collected runs' tasks, a
server imports what the agent declares they import (:mod:`harness.runtime.imports`;
the library's dispatcher declares its workflows' modules and SDKs) before its
first fork, once. Started here rather than on the first run, a server's start
and imports overlap, on another core, with the harness building worlds and
with runs of the other kind.

Which servers start here: with no workers, every kind the collection holds;
on an xdist worker under ``--dist load`` or ``loadgroup`` the kinds it will be
handed (the runs with a model go to :data:`~harness._pytest.schedule.MODEL_WORKER`
while they are a minority: see :mod:`harness._pytest.schedule`); under any other
distribution none (a server started on a worker that is never handed its kind
would take seconds of a core from the others). The plan is a head start only:
a run that was not foreseen starts its server as before.

A session that runs in one process starts its agent's server earlier still
(:func:`start_early`): as soon as what the server is handed at its start is
known (the warm list kept in pytest's cache: when collection starts; with no
cache, as ``aqe run`` has it, when the session is configured). The server
imports the harness and the agent while pytest configures and collects, and is
handed the plan when collection ends. It is of the kind without a model unless
``--aqe-model`` names one; a server of a kind no collected run has is stopped
then.
"""

from __future__ import annotations

import importlib
from contextlib import suppress

import pytest

from harness._pytest.config import WORKER_DIST, aqe_config
from harness._pytest.items import _ISOLATION, ScenarioItem, run_model, session_isolation
from harness.errors import HarnessError
from harness.runtime.env import Task

#: The agent and the kinds of fork server :func:`start_planned` starts.
_START = pytest.StashKey[tuple[str, list[bool]]]()


def start_early(config: pytest.Config) -> None:
    """In a session that runs in this process only: start the agent's fork
    server, to be handed the plan (see the module); once."""
    settings = aqe_config(config)
    spec = settings.agent
    if not _runs_here(config) or settings.isolation == "none" or not spec:
        return
    from harness.agents.loading import is_outside
    from harness.isolation import ProcessIsolation

    if is_outside(spec):
        return
    isolation = session_isolation(config)
    if isinstance(isolation, ProcessIsolation):
        isolation.start_early(spec, modelled=settings.model is not None)


def _runs_here(config: pytest.Config) -> bool:
    """Whether this process runs the session's items itself: no xdist worker,
    no distributing controller, and not only collecting (or showing help,
    markers or fixtures)."""
    option = config.option
    if any(getattr(option, name, False) for name in _NOT_RUNNING):
        return False
    if hasattr(config, "workerinput"):
        return False
    # xdist distributes with a --dist mode and workers to run on (-n gives them)
    return getattr(option, "dist", "no") == "no" or not getattr(option, "tx", None)


#: pytest's options under which a session runs nothing.
_NOT_RUNNING = (
    "collectonly",
    "help",
    "markers",
    "showfixtures",
    "show_fixtures_per_test",
)


def plan_runs(session: pytest.Session) -> None:
    """Hand the session's fork servers the collected runs' tasks; start the ones
    this process will use (see the module)."""
    from harness.agents.loading import is_outside
    from harness.isolation import ProcessIsolation
    from harness.run import run_seed

    config = session.config
    settings = aqe_config(config)
    items = [i for i in session.items if isinstance(i, ScenarioItem)]
    if not items or settings.isolation == "none" or not settings.agent:
        return
    if config.option.collectonly:
        return  # nothing will run
    spec = settings.agent
    if is_outside(spec):
        return  # a command or a service: no fork server
    tasks: dict[bool, dict[str, Task]] = {False: {}, True: {}}
    for item in items:
        scenario = item.scenario
        seed = run_seed(settings.seed, scenario.name, item.seed_index)
        try:
            modelled = run_model(config, scenario, spec, seed) is not None
        except HarnessError:
            continue  # the run says why
        # one task per scenario, not per seed: the seed is the first run's
        tasks[modelled].setdefault(
            scenario.name,
            Task(
                input=scenario.task.input,
                instructions=scenario.task.instructions,
                scenario=scenario.name,
                seed=seed,
            ),
        )
    planned = {kind: list(found.values()) for kind, found in tasks.items() if found}
    isolation = session_isolation(config)
    if not planned or not isinstance(isolation, ProcessIsolation):
        return
    isolation.plan(spec, planned)
    isolation.drop_early(spec, keep=planned)
    config.stash[_START] = (spec, _kinds_to_start(session, set(planned)))


#: What this process imports next in a session that runs scenarios: the first
#: world's seeding (numpy) and the session's report writers.
NEXT_IMPORTS = (
    "numpy",
    "harness.reporting.html",
    "harness.reporting.markdown",
    "harness.reporting.store",
)


def warm_while_servers_start(session: pytest.Session) -> None:
    """While a fork server this session started imports the agent (on another
    core), do here what the first run and the reports would do first anyway:
    import the fakes' services, build the Faker the worlds are seeded with (a
    process-wide instance, seeded anew for each world: no run sees a
    difference) and import :data:`NEXT_IMPORTS`. Nothing when no server is
    starting: then it would only move the work, not overlap it."""
    from harness.isolation import ProcessIsolation

    isolation = session.config.stash.get(_ISOLATION, None)
    if not isinstance(isolation, ProcessIsolation) or not isolation.starting():
        return
    if not any(isinstance(i, ScenarioItem) for i in session.items):
        return
    from fakes import registered_services
    from harness.world.snapshot import shared_faker

    registered_services()
    shared_faker()
    for name in NEXT_IMPORTS:
        with suppress(ImportError):
            importlib.import_module(name)


def start_planned(session: pytest.Session) -> None:
    """Start the fork servers :func:`plan_runs` chose, not waited for: after
    the preflight check has started (and waited for) the one it needs, so
    their imports do not slow that one, nor the report of this worker's
    collection that every worker's first items wait for."""
    from harness.isolation import ProcessIsolation

    planned = session.config.stash.get(_START, None)
    if planned is None:
        return
    isolation = session_isolation(session.config)
    if isinstance(isolation, ProcessIsolation):
        spec, kinds = planned
        isolation.plan(spec, {}, start=kinds)


def _kinds_to_start(session: pytest.Session, kinds: set[bool]) -> list[bool]:
    """The kinds of fork server this process starts now (see the module), the
    one with a model first (the slower to start)."""
    config = session.config
    kinds_now = sorted(kinds, reverse=True)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        return kinds_now
    if workerinput.get(WORKER_DIST) not in ("load", "loadgroup"):
        return []
    from harness._pytest.schedule import MODEL_WORKER, model_minority

    collection = [item.nodeid for item in session.items]
    if not model_minority(config.rootpath, collection):  # xdist's own schedule
        return kinds_now
    mine = workerinput.get("workerid") == MODEL_WORKER
    return [kind for kind in kinds_now if mine or not kind]
