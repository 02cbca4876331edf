"""What fork servers import before their first fork: the harness's own per-run
modules always, what the last session's servers came to hold when it was kept
(:mod:`harness.isolation.warmlists`), and what the agent declares the planned
runs import (:mod:`harness.runtime.imports`)."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, agent_imports
from harness.agents.library import careful_agent
from harness.isolation import ProcessIsolation
from harness.isolation.host import _Run, _Server
from harness.isolation.warmlists import WarmLists, environment
from harness.models.source import for_scenario
from harness.reporting.trace import trace_bytes
from harness.run import run_scenario
from harness.runtime.imports import declared_imports
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT, copy_payments

pytestmark = pytest.mark.xdist_group("isolation.test_warm")

SPEC = "harness.agents.library:careful_agent"
RENEWAL = "scenarios/renewals/renewal_concurrent_edit.yaml"


class Cache:
    """pytest's ``config.cache``, as far as warm lists use it."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Each warm list the harness sends a fork server, in order."""
    asked: list[list[str]] = []
    real = _Server.warm

    def warm(self: _Server, modules: list[Any]) -> None:
        asked.append(list(modules))
        real(self, modules)

    monkeypatch.setattr(_Server, "warm", warm)
    return asked


def _handed(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each fork server is handed at its start, in order."""
    handed: list[dict[str, Any]] = []
    real = _Server.__init__

    def init(self: _Server, spec: str, **options: Any) -> None:
        handed.append({k: list(options.get(k, ())) for k in ("warm", "tasks")})
        real(self, spec, **options)

    monkeypatch.setattr(_Server, "__init__", init)
    return handed


def _imported(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What each run's process reported it imported, in order."""
    imported: list[list[str]] = []
    real = _Run.end

    def end(self: _Run) -> None:
        imported.append(list(self._imported))
        real(self)

    monkeypatch.setattr(_Run, "end", end)
    return imported


def _runs(isolation: ProcessIsolation, seeds: tuple[int, ...]) -> list[bytes]:
    scenario = load_scenario(ROOT / RENEWAL)
    try:
        results = [
            run_scenario(scenario, careful_agent, seed=s, isolation=isolation)
            for s in seeds
        ]
    finally:
        isolation.close()
    assert [r.sandbox for r in results] == ["kernel"] * len(seeds)
    assert all(r.passed for r in results)
    return [trace_bytes(r) for r in results]


def test_a_fork_server_has_the_client_doors_before_its_first_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked = _asked(monkeypatch)

    _runs(ProcessIsolation(), (1,))

    (first,) = asked  # what the first run imported
    assert "harness.agents.renewals" in first
    assert not [m for m in first if m.startswith(("harness.gateway.doors", "aiohttp"))]


def test_a_session_keeps_what_its_servers_imported_and_the_next_imports_it_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cache = Cache()
    before = _runs(ProcessIsolation(warm_lists=WarmLists(cache.get, cache.set)), (1,))
    kept = WarmLists(cache.get, cache.set).known(SPEC, False)
    assert "harness.agents.renewals" in kept

    handed, asked = _handed(monkeypatch), _asked(monkeypatch)
    imported = _imported(monkeypatch)
    after = _runs(ProcessIsolation(warm_lists=WarmLists(cache.get, cache.set)), (1, 2))

    # the kept list, before the first fork: the runs import nothing themselves
    assert [h["warm"] for h in handed] == [kept]
    assert asked == []
    assert imported == [[], []]
    assert after[0] == before[0]


def _entry(**changes: Any) -> dict[str, Any]:
    entry = {
        "spec": SPEC,
        "modelled": False,
        "environment": environment(),
        "modules": ["json", "harness.agents.renewals"],
    }
    return {**entry, **changes}


@pytest.mark.parametrize(
    "entry",
    [
        _entry(environment={**environment(), "harness": "0.0.0"}),
        _entry(spec="other:agent"),
        _entry(modelled=True),
        _entry(modules=["json", "os; import this"]),
        _entry(modules="json"),
        ["json"],
    ],
    ids=[
        "other-harness",
        "other-spec",
        "other-kind",
        "not-a-name",
        "not-a-list",
        "junk",
    ],
)
def test_a_kept_list_that_is_not_this_environments_or_not_names_is_none(
    entry: Any,
) -> None:
    cache = Cache()
    lists = WarmLists(cache.get, cache.set)
    lists.keep(SPEC, False, ["json"])
    (key,) = cache.values
    cache.values[key] = entry

    assert lists.known(SPEC, False) == []


def test_a_kept_list_grows_by_what_a_later_session_imported() -> None:
    cache = Cache()
    lists = WarmLists(cache.get, cache.set)
    lists.keep(SPEC, False, ["json", "csv"])
    lists.keep(SPEC, False, ["csv", "harness.agents.renewals"])
    lists.keep(SPEC, True, ["anthropic"])

    assert lists.known(SPEC, False) == ["json", "csv", "harness.agents.renewals"]
    assert lists.known(SPEC, True) == ["anthropic"]


def test_a_pytest_session_keeps_its_servers_modules_in_the_cache(
    pytester: pytest.Pytester,
) -> None:
    copy_payments(pytester)
    args = ["scenarios/payments/refund_ok.yaml", f"--aqe-agent={SPEC}"]

    assert pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider").ret == 0
    assert not (pytester.path / ".pytest_cache").exists()
    assert pytester.runpytest_subprocess(*args).ret == 0

    (entry,) = (pytester.path / ".pytest_cache/v/aqe/warm").iterdir()
    kept = json.loads(entry.read_text())
    assert (kept["spec"], kept["modelled"]) == (SPEC, False)
    assert "harness.agents.reference" in kept["modules"]


# -- what the agent declares, imported before the first fork ---------------------------

LLM = "scenarios/llm/llm_refund_ambiguous_timeout.yaml"


def _task(scenario: Any, seed: int) -> Task:
    """A planned task, as a session hands it over when collection ends."""
    return Task(
        input=scenario.task.input,
        instructions=scenario.task.instructions,
        scenario=scenario.name,
        seed=seed,
    )


def _planned_runs(
    agent: Any, path: str, seeds: tuple[int, ...], *, modelled: bool = False
) -> tuple[list[Any], ProcessIsolation]:
    """Runs of ``agent`` on ``path`` by an isolation told of them first (its
    server started before the first run); the isolation, closed."""
    scenario = load_scenario(ROOT / path)
    isolation = ProcessIsolation()
    spec = f"{agent.__module__}:{agent.__qualname__}"
    isolation.plan(spec, {modelled: [_task(scenario, seeds[0])]}, start=[modelled])
    try:
        results = [
            run_scenario(
                scenario,
                agent,
                seed=s,
                isolation=isolation,
                model=for_scenario(scenario, agent=SPEC, seed=s) if modelled else None,
            )
            for s in seeds
        ]
        servers = dict(isolation._servers)
    finally:
        isolation.close()
    assert [r.sandbox for r in results] == ["kernel"] * len(seeds)
    return results, _Isolated(servers)


class _Isolated(ProcessIsolation):
    """What a closed isolation held (its servers), for the asserts."""

    def __init__(self, servers: dict[tuple[str, bool], _Server]) -> None:
        super().__init__()
        self._servers = servers


def test_a_planned_server_imports_the_workflow_module_before_its_first_fork(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported = _imported(monkeypatch)
    planned, isolation = _planned_runs(careful_agent, RENEWAL, (1,))
    unplanned = _runs(ProcessIsolation(), (1,))

    first, cold = imported  # the planned run's imports, then the unplanned one's
    assert "harness.agents.renewals" in cold
    assert "harness.agents.renewals" not in first
    ((_, server),) = isolation._servers.items()
    assert "harness.agents.renewals" in server.warmed  # kept for the next session
    assert planned[0].passed
    assert trace_bytes(planned[0]) == unplanned[0]


def test_a_cold_sessions_first_model_run_does_not_import_the_sdk_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The acceptance of planning: the model worker's server imported openai
    once, before its first fork, and the run's own process did not."""
    imported = _imported(monkeypatch)
    scenario = load_scenario(ROOT / LLM)
    (planned,), _ = _planned_runs(careful_agent, LLM, (4,), modelled=True)
    here = run_scenario(
        scenario,
        careful_agent,
        seed=4,
        model=for_scenario(scenario, agent=SPEC, seed=4),
    )

    (first,) = imported
    assert not [m for m in first if m in ("openai", "harness.agents.llm_refunds")]
    # what openai imports on first use only (a cold first run: ~1,000 modules)
    assert len(first) < 50, first
    assert planned.passed
    assert trace_bytes(planned) == trace_bytes(here)


def _refuses(task: Task) -> list[str]:
    raise RuntimeError("a declaration that fails")


@agent_imports("aqe_no_such_module", "tabnanny", per_task=_refuses)
def declaring_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Whether ``tabnanny`` (declared) was there when the run began."""
    return AgentResult(output={"had": "tabnanny" in sys.modules})


def test_a_declaration_that_fails_or_names_no_module_costs_its_attempt_only() -> None:
    (result,), isolation = _planned_runs(declaring_agent, RENEWAL, (1,))

    assert result.agent_result is not None
    assert result.agent_result.output == {"had": False}  # per_task raised: nothing
    ((_, server),) = isolation._servers.items()
    assert "aqe_no_such_module" not in server.warmed


@agent_imports("aqe_no_such_module", "tabnanny")
def static_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Whether ``tabnanny`` (declared) was there when the run began."""
    return AgentResult(output={"had": "tabnanny" in sys.modules})


def test_a_declared_module_is_there_when_the_first_run_begins() -> None:
    (result,), isolation = _planned_runs(static_agent, RENEWAL, (1,))

    assert result.agent_result is not None
    assert result.agent_result.output == {"had": True}
    ((_, server),) = isolation._servers.items()
    assert "tabnanny" in server.warmed  # from the server, not the run


def test_a_planned_server_starts_at_once_and_serves_the_first_run() -> None:
    scenario = load_scenario(ROOT / RENEWAL)
    isolation = ProcessIsolation()
    try:
        isolation.plan(SPEC, {False: [_task(scenario, 1)]}, start=[False])
        (started,) = isolation._servers.values()
        assert not started.ready  # started, not waited for
        run_scenario(scenario, careful_agent, seed=1, isolation=isolation)
        assert list(isolation._servers.values()) == [started]
        assert started.ready
    finally:
        isolation.close()


def test_a_server_started_before_the_plan_is_handed_it_and_imports_the_workflow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    imported = _imported(monkeypatch)
    scenario = load_scenario(ROOT / RENEWAL)
    isolation = ProcessIsolation()
    try:
        isolation.start_early(SPEC)
        (started,) = isolation._servers.values()
        assert started.awaiting_tasks  # it imports the agent meanwhile
        isolation.plan(SPEC, {False: [_task(scenario, 1)]})
        assert not started.awaiting_tasks
        result = run_scenario(scenario, careful_agent, seed=1, isolation=isolation)
        assert list(isolation._servers.values()) == [started]
    finally:
        isolation.close()
    unplanned = _runs(ProcessIsolation(), (1,))

    (first, cold) = imported
    assert "harness.agents.renewals" in started.warmed
    assert "harness.agents.renewals" not in first  # the server's, before the fork
    assert "harness.agents.renewals" in cold
    assert result.sandbox == "kernel"
    assert trace_bytes(result) == unplanned[0]


def test_a_server_started_early_and_never_planned_serves_the_first_run() -> None:
    scenario = load_scenario(ROOT / RENEWAL)
    isolation = ProcessIsolation()
    try:
        isolation.start_early(SPEC)
        (started,) = isolation._servers.values()
        result = run_scenario(scenario, careful_agent, seed=1, isolation=isolation)
        assert list(isolation._servers.values()) == [started]
        assert result.passed
    finally:
        isolation.close()


def test_an_early_server_of_a_kind_no_run_has_is_stopped_when_the_plan_comes() -> None:
    scenario = load_scenario(ROOT / RENEWAL)
    isolation = ProcessIsolation()
    try:
        isolation.start_early(SPEC, modelled=True)
        (early,) = isolation._servers.values()
        isolation.plan(SPEC, {False: [_task(scenario, 1)]})
        isolation.drop_early(SPEC, keep=[False])
        assert isolation._servers == {}
        assert not early.alive()
    finally:
        isolation.close()


def test_declared_imports_are_the_agents_and_its_tasks() -> None:
    @agent_imports("openai", per_task=lambda task: [task.input["workflow"], "openai"])
    def agent(task: Task, env: AgentEnv) -> None:
        return None

    task = Task(input={"workflow": "renewals"}, instructions="", scenario="s", seed=0)
    assert declared_imports(agent, task) == ["openai", "renewals"]
    assert declared_imports(careful_agent, task) == ["harness.agents.renewals"]
    assert declared_imports(lambda task, env: None, task) == []


def test_the_library_declares_each_workflows_sdk() -> None:
    llm = Task(input={"workflow": "llm_access"}, instructions="", scenario="s", seed=0)
    refund = Task(input={}, instructions="", scenario="s", seed=0)

    assert declared_imports(careful_agent, llm) == [
        "harness.agents.llm_access",
        "anthropic",
        "anthropic.resources.messages",
    ]
    assert declared_imports(careful_agent, refund) == ["harness.agents.reference"]


def test_agent_imports_takes_module_names_and_a_function() -> None:
    with pytest.raises(TypeError) as names:
        agent_imports("openai", 3)  # type: ignore[arg-type]
    with pytest.raises(TypeError) as per_task:
        agent_imports(per_task="openai")  # type: ignore[arg-type]

    assert str(names.value) == (
        "agent_imports() takes module names; got 3\n"
        '    fix: e.g. @agent_imports("openai", "langgraph.graph")'
    )
    assert str(per_task.value) == (
        "agent_imports(per_task=...) takes a function of the task; got str\n"
        "    fix: e.g. per_task=lambda task: [f\"agents.{task.input['team']}\"]"
    )


PROBE = """
import sys


def agent(task, env):
    return {"status": "done", "output": {"pytest": "pytest" in sys.modules,
                                         "time_machine": "time_machine" in sys.modules}}
"""


def test_an_agents_process_has_the_sandbox_clock_without_pytest(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """time_machine would import pytest for its plugin; no pytest session runs
    in the agent's process, so its fork server imports it without."""
    (tmp_path / "aqe_probe_agent.py").write_text(PROBE)
    monkeypatch.syspath_prepend(str(tmp_path))
    from harness.agents.loading import load_agent

    isolation = ProcessIsolation()
    try:
        result = run_scenario(
            load_scenario(ROOT / RENEWAL),
            load_agent("aqe_probe_agent:agent"),
            seed=1,
            isolation=isolation,
        )
    finally:
        isolation.close()
    assert result.agent_result is not None
    assert result.agent_result.output == {"pytest": False, "time_machine": True}
