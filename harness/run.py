"""One run: build the seeded world, hand the task to the agent, score what it did.

Every mode and command runs through here: sim (a run is the sim mode), shadow,
canary, fuzz, replay and rescore; nothing below this module imports it.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any, NotRequired, TypedDict

from harness.agents.loading import is_outside, load_agent
from harness.errors import HarnessError
from harness.faults.plan import FaultPlan
from harness.gateway.core import Gateway
from harness.gateway.http import HttpDoor
from harness.gateway.tools import Tools
from harness.models.providers import PROVIDER_NAMES, Model, Script, providers
from harness.models.source import ModelSource
from harness.models.turns import Turns
from harness.models.usage import ModelUsage, usage_of
from harness.oracles import ORACLES, Evidence, RunView, Score
from harness.policy.engine import PolicyEngine
from harness.runtime.caught import AgentWarning, CaughtWarnings
from harness.runtime.env import AgentResult, Identity, Task
from harness.runtime.heap import settle_after_imports
from harness.runtime.session import (
    IN_PROCESS,
    Isolation,
    SpawnsAgents,
    Stage,
    agent_name,
    opens_own_session,
    shown,
)
from harness.scenario.model import (
    Expectations,
    FaultSpec,
    Scenario,
    Severity,
)
from harness.scenario.refs import resolve_refs
from harness.world.history import EntryType
from harness.world.secrets import Secrets
from harness.world.world import World, derive_seed

#: The version of the record's shape (``record_version`` of every record).
RECORD_VERSION = 1


class RunRecord(TypedDict):
    """One run's record: the JSON line a session appends to ``results.jsonl``.

    Records are what travels from an xdist worker to the controller (on the test
    report), what the summary, the baseline and the history store are computed
    from, and what ``aqe report`` reads back. They hold no wall-clock time, so the
    same scenario + agent + seed gives the same record.
    """

    record_version: int
    nodeid: str
    scenario: str
    path: str
    seed: int
    seed_index: int
    agent: str
    mode: str
    passed: bool
    failed: list[str]
    #: Per oracle: passed, failed, or None (it had nothing to judge in this run).
    scores: dict[str, bool | None]
    values: dict[str, float | None]
    severity: dict[str, str]
    faults: list[dict[str, Any]]
    escalation: dict[str, Any] | None
    thresholds: dict[str, Any] | None
    #: Calls to the simulated services' tools (model calls are counted in
    #: ``model``, not here).
    tool_calls: int | None
    simulated_seconds: float
    #: The trace file, relative to the run folder.
    trace: str
    #: Shadow mode: the comparison with the reference.
    shadow: NotRequired[dict[str, Any]]
    #: Canary mode: the stream's report.
    canary: NotRequired[dict[str, Any]]
    #: How the agent was contained: ``kernel`` (its own process, in kernel
    #: namespaces), ``process`` (its own process, Python-level guards only) or
    #: ``none`` (the harness's process); absent in records before it was kept.
    sandbox: NotRequired[str]
    #: The run's model calls: calls, tokens_in, tokens_out, tokens, cost_usd,
    #: unpriced, unpriced_models (:class:`harness.models.usage.ModelUsage`);
    #: absent when the run made none (and in records before it was kept).
    model: NotRequired[dict[str, Any]]


#: Oracles every run is scored by, in report order.
DEFAULT_ORACLES = (
    "idempotency",
    "escalation",
    "outcome",
    "safe_failure",
    "policy",
    "budget",
    "leakage",
    "injection",
    "trajectory",
    "security",
)
#: How much of a warning's message a result keeps (its secrets redacted first).
WARNING_MESSAGE_CHARS = 2000
_LATE_CALL = (
    "a thread the agent left running called a tool after the agent returned; the"
    " call was refused; stop and join its threads before returning"
)

#: Simulated seconds after the agent returns in which pending effects still land.
DRAIN_SECONDS = 24 * 3600.0
_KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunResult:
    """Everything one run produced: the world it left, its scores, its verdict."""

    scenario: Scenario
    seed: int
    agent: str
    world: World
    task: Task
    agent_result: AgentResult | None
    scores: tuple[Score, ...]
    passed: bool
    #: Per fault, in scenario order: kind, calls matched, times fired.
    fault_coverage: tuple[Mapping[str, Any], ...] = ()
    #: What the agent printed, secrets redacted (captured in its own process).
    output: str = ""
    #: How the agent was contained: ``kernel``, ``process`` or ``none``.
    sandbox: str = "none"
    #: Warnings raised during the run (recorded, never raised), in the order first
    #: seen, each once with a count; secrets redacted, files as traces name them.
    warnings: tuple[AgentWarning, ...] = ()
    #: How many raised warnings were not kept (past the distinct ones kept).
    warnings_dropped: int = 0

    @property
    def model_usage(self) -> ModelUsage | None:
        """What the run's model calls added up to; None when it made none."""
        return usage_of(self.world.history)

    @property
    def tool_calls(self) -> int:
        """Calls the agent made to tools: every call but those to a model."""
        history = self.world.history
        model_calls = sum(
            1
            for h in history
            if h.process == "agent"
            and h.type is EntryType.INVOKE
            and h.value.get("service") in PROVIDER_NAMES
        )
        return history.calls - model_calls

    def score(self, oracle: str) -> Score:
        for s in self.scores:
            if s.oracle == oracle:
                return s
        raise KeyError(f"no score from oracle {oracle!r}")

    @property
    def failed_oracles(self) -> tuple[str, ...]:
        return tuple(
            s.oracle for s in self.scores if not s.passed and s.severity == "block"
        )


def run_seed(session_seed: int, scenario_name: str, index: int = 0) -> int:
    """The ``index``-th run seed of a scenario: the session seed plus the CRC32 of
    its name, plus ``index``."""
    return (session_seed + zlib.crc32(scenario_name.encode()) + index) & 0xFFFFFFFF


def resolve_agent(
    agent: Callable[..., Any] | str, isolation: Isolation | None = None
) -> Callable[..., Any]:
    """The agent a run hands its task to. A spec (``module:callable``,
    ``cmd:…``, a service URL) is loaded here only where the agent runs here:
    an isolation that spawns agents gets a stand-in for the copy its fork
    server imports, so the agent's import-time code never runs in the
    harness's process (where it could patch the judge)."""
    if not isinstance(agent, str):
        return agent
    if isinstance(isolation, SpawnsAgents) and not is_outside(agent):
        return isolation.spawned(agent)
    return load_agent(agent)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSetup:
    """A world ready for an agent: records created, doors open, task resolved."""

    world: World
    gateway: Gateway
    door: HttpDoor
    tools: Tools
    identity: Identity
    task: Task
    expect: Expectations
    #: The run's model (its providers answer from it); finished with the run.
    model: Model | None = None


def prepare_run(
    scenario: Scenario,
    *,
    seed: int,
    max_calls: int = 500,
    model: Script | ModelSource | None = None,
) -> RunSetup:
    """Build the seeded world for ``scenario`` and everything the agent will use.

    ``model``: what answers the run's model calls (:mod:`harness.models`): a
    scripted model, or a :class:`ModelSource` (a script, a cassette, the real
    providers); the model providers' hosts are simulated services answering
    from it (without one, each model call fails the run, saying so).
    """
    source = _model_source(model)
    world = World(seed=seed, world_seed=scenario.world.seed, scale=scenario.world.scale)
    world.humans = {"approver": scenario.humans.approver}
    for name, spec in scenario.world.records.items():
        fields = resolve_refs(dict(spec.fields), world.records)
        try:
            record = world.service(spec.service).create_record(spec.kind, fields)
        except (LookupError, KeyError, ValueError) as exc:
            raise HarnessError(
                f"scenario {scenario.name!r}: cannot create record {name!r}: {exc}"
            ) from exc
        world.records[name] = dict(record)
    faults = FaultPlan(_resolve_fault_matches(scenario, world), seed=seed)
    faults.prepare_world(world, scenario=scenario.name)
    for service in world.services.values():
        for table in service.state.values():
            table.settle()  # the world as the agent finds it
    task_input = resolve_refs(dict(scenario.task.input), world.records)
    task = Task(
        input=task_input,
        instructions=scenario.task.instructions.format_map(_Defaulting(task_input)),
        scenario=scenario.name,
        seed=seed,
    )
    key_rng = derive_seed(seed, "credentials")
    identity = Identity(
        name=scenario.policy.identity.agent or "aqe-agent",
        api_key="sk_test_" + "".join(key_rng.choices(_KEY_ALPHABET, k=24)),
    )
    world.secrets.add(identity.api_key, "credential")
    gateway = Gateway(
        world,
        identities={identity.api_key: identity.name},
        faults=faults,
        policy=PolicyEngine(scenario.policy, world),
        max_calls=max_calls,
    )
    tools = list(world.services.values())  # the model providers are no tools
    if source is not None and isinstance(source.script, Turns):
        turns = resolve_refs(list(source.script.turns), world.records)
        source = dataclasses.replace(source, script=Turns(tuple(turns)))
    if source is not None:
        for key in source.keys().values():
            world.secrets.add(key, "model key")
    the_model, made = providers(world, source, seed=seed)
    for provider in made:
        world.services[provider.name] = provider
    return RunSetup(
        world=world,
        gateway=gateway,
        door=HttpDoor(gateway, world.services.values()),
        tools=Tools(gateway, tools, identity.api_key),
        identity=identity,
        task=task,
        expect=_resolve_fields(scenario.expect, world.records),
        model=the_model,
    )


def _model_source(model: Script | ModelSource | None) -> ModelSource | None:
    if model is None or isinstance(model, ModelSource):
        return model
    if not callable(model):
        raise HarnessError(
            f"model: expected a scripted model, script(call) -> dict; got "
            f"{type(model).__name__}\n    fix: pass a function, e.g. "
            "model=lambda call: call.text('Done.')"
        )
    return ModelSource(mode="scripted", script=model)


def run_scenario(
    scenario: Scenario,
    agent: Callable[..., Any] | str,
    *,
    seed: int = 0,
    wall_timeout: float | None = 60.0,
    max_calls: int = 500,
    oracles: tuple[str, ...] | None = None,
    setup: RunSetup | None = None,
    isolation: Isolation | None = None,
    model: Script | ModelSource | None = None,
) -> RunResult:
    """Run ``agent`` on ``scenario`` with ``seed``; never raises for agent failures.

    ``agent``: a callable, or its spec as ``--aqe-agent`` takes it (see
    :func:`resolve_agent`: under an isolation that spawns agents, only a spec
    keeps the agent's import out of this process).

    ``model``: what answers the run's model calls (OpenAI at
    ``api.openai.com``, Anthropic at ``api.anthropic.com``): a scripted model
    (:mod:`harness.models.call` is the contract) or a
    :class:`harness.models.source.ModelSource` (replay, record, live).

    ``isolation``: where the agent runs; by default in this process (trusted
    agents: not a security boundary). Sessions run agents in their own processes
    (:class:`harness.isolation.ProcessIsolation`).

    ``setup``: a world :func:`prepare_run` made for this scenario and seed, to run
    in instead of a fresh one (shadow mode checks its fork before the agent acts).
    """
    settle_after_imports()  # what the last run imported stays: the collector skips it
    agent = resolve_agent(agent, isolation)
    if setup is None:
        setup = prepare_run(scenario, seed=seed, max_calls=max_calls, model=model)
    world, gateway, door, tools = setup.world, setup.gateway, setup.door, setup.tools
    identity, task, expect = setup.identity, setup.task, setup.expect
    redeliveries = gateway.faults.redeliveries()
    stage = Stage(
        task=task,
        identity=identity,
        door=door,
        tools=tools,
        clock=world.clock,
        seed=seed,
        wall_timeout=wall_timeout,
        modelled=setup.model is not None and setup.model.source is not None,
    )
    opened = (
        agent.open_session(stage)
        if opens_own_session(agent)
        else (isolation or IN_PROCESS).open(agent, stage)
    )
    with opened as session:
        first = session.deliver()
        agent_result, stopped = first.result, first.stopped
        failure = _agent_failure(world, first.failure) if first.failure else None
        for again in redeliveries:  # the same task, delivered again
            if stopped:
                break  # the harness stopped the agent: no second chance
            world.clock.advance(again.delay)
            gateway.faults.record(again.fault, world.history, now=world.clock.now)
            later = session.deliver()
            stopped = later.stopped
            if failure is None and later.failure:
                failure = _agent_failure(world, later.failure)
        gateway.close()  # a thread the agent left running calls in vain
        left = session.finish() or (_LATE_CALL if gateway.late else None)
        if failure is None and left:
            failure = _agent_failure(world, left)
    output, contained = world.secrets.redact(session.output), session.sandbox
    caught = session.warnings
    if setup.model is not None:
        setup.model.finish()
    if gateway.fatal is not None:
        raise gateway.fatal
    _drain(world)

    view = RunView(
        world=world, expect=expect, policy=scenario.policy, agent_result=agent_result
    )
    names = oracles if oracles is not None else scoring_oracles()
    scores = [ORACLES[name](view) for name in names]
    scores = [
        s if s.passed else dataclasses.replace(s, severity=severity(scenario, s.oracle))
        for s in scores
    ]
    model_failure = _model_failure(world)
    if model_failure is not None:
        scores.insert(0, model_failure)
    if failure is not None:
        scores.insert(0, failure)
    passed = all(s.passed for s in scores if s.severity == "block")
    return RunResult(
        scenario=scenario,
        seed=seed,
        agent=agent_name(agent),
        world=world,
        task=task,
        agent_result=agent_result,
        scores=tuple(scores),
        passed=passed,
        fault_coverage=tuple(gateway.faults.coverage()),
        output=output,
        sandbox=contained,
        warnings=_shown_warnings(caught, world.secrets),
        warnings_dropped=caught.dropped,
    )


def scoring_oracles() -> tuple[str, ...]:
    """The built-in oracles in report order, then users' own as registered."""
    return (*DEFAULT_ORACLES, *(n for n in ORACLES if n not in DEFAULT_ORACLES))


def severity(scenario: Scenario, oracle: str) -> Severity:
    """A failing oracle's severity: the scenario's for that oracle, else the
    pack's for it, else the scenario's default."""
    if oracle in scenario.severities:
        return scenario.severities[oracle]
    return Severity(scenario.policy.severity.get(oracle, scenario.severity))


def _resolve_fault_matches(scenario: Scenario, world: World) -> tuple[FaultSpec, ...]:
    """Faults with the records they name (``$charge.id``) resolved."""
    return tuple(
        dataclasses.replace(
            fault,
            match=dataclasses.replace(
                fault.match,
                params=resolve_refs(dict(fault.match.params), world.records),
            ),
            params=resolve_refs(dict(fault.params), world.records),
        )
        for fault in scenario.faults
    )


def _resolve_fields(value: Any, records: Mapping[str, Mapping[str, Any]]) -> Any:
    """``resolve_refs`` through frozen dataclasses, leaving enum members alone;
    what names no record (no ``$`` anywhere in it) is kept as it is, so a
    template's expectations cost a run only the references they hold."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            name: _resolve_fields(getattr(value, name), records)
            for name in _fields_with_refs(value)
        }
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, Enum):
        return value
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return tuple(_resolve_fields(v, records) for v in value)
    return resolve_refs(value, records)


#: The fields of frozen dataclasses (a template's expectations) that mention
#: records, by the value's id, the value kept alive with them: a stream's cases
#: share their template's expectations.
_REF_FIELDS: dict[int, tuple[object, tuple[str, ...]]] = {}


def _fields_with_refs(value: Any) -> tuple[str, ...]:
    """The names of ``value``'s fields that mention a record (``$``)."""
    found = _REF_FIELDS.get(id(value))
    if found is None or found[0] is not value:
        kind: type = type(value)
        names = tuple(
            name for name in _field_names(kind) if _mentions_refs(getattr(value, name))
        )
        params = getattr(kind, "__dataclass_params__", None)
        if params is None or not params.frozen:
            return names  # a value that can change is read anew
        if len(_REF_FIELDS) >= 1024:
            _REF_FIELDS.clear()
        found = _REF_FIELDS[id(value)] = (value, names)
    return found[1]


@cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def _mentions_refs(value: Any) -> bool:
    """Whether a ``$`` (a record reference) is anywhere in ``value``."""
    if isinstance(value, str):
        return "$" in value
    if isinstance(value, Mapping):
        return any(_mentions_refs(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_mentions_refs(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return any(_mentions_refs(getattr(value, n)) for n in _field_names(type(value)))
    return False


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _drain(world: World) -> None:
    """Let effects already in flight land (a delayed commit still commits)."""
    env = world.clock.env
    horizon = env.now + DRAIN_SECONDS
    while env.peek() <= horizon:
        env.step()


def _shown_warnings(
    caught: CaughtWarnings, secrets: Secrets
) -> tuple[AgentWarning, ...]:
    """The run's warnings as its result keeps them: secrets redacted, then
    messages shortened, files relative (as :func:`shown` names them)."""
    shortened = []
    for warning in caught.kept:
        message = secrets.redact(warning.message)
        if len(message) > WARNING_MESSAGE_CHARS:
            extra = len(message) - WARNING_MESSAGE_CHARS
            message = f"{message[:WARNING_MESSAGE_CHARS]}... ({extra} more characters)"
        shortened.append(
            dataclasses.replace(
                warning,
                category=secrets.redact(warning.category),
                message=message,
                filename=secrets.redact(_shown_file(warning.filename)),
            )
        )
    return tuple(shortened)


def _shown_file(filename: str) -> str:
    try:
        return shown(filename)
    except (OSError, ValueError):  # not a path (the agent's process sent it)
        return filename


def _agent_failure(world: World, message: str) -> Score:
    return Score(
        oracle="agent",
        passed=False,
        value=0.0,
        explanation=message,
        evidence=(Evidence(ref="agent", time=world.clock.now, text=message),),
    )


def _model_failure(world: World) -> Score | None:
    """The harness could not answer a model call (no model, no recorded answer,
    a script's bug, the real provider unreachable): the run fails on it."""
    for entry in world.history:
        if entry.process == "model" and entry.type is EntryType.FAIL:
            message = str(entry.value.get("error", entry.f))
            return Score(
                oracle="model",
                passed=False,
                value=0.0,
                explanation=message,
                evidence=(Evidence(ref="history", time=entry.time, text=message),),
            )
    return None


def run_record(
    result: RunResult,
    *,
    nodeid: str,
    path: str,
    agent: str,
    seed_index: int,
    trace: str,
    mode: str = "sim",
) -> RunRecord:
    """The record of ``result`` (see the module docstring)."""
    scenario = result.scenario
    thresholds = scenario.thresholds
    record: RunRecord = {
        "record_version": RECORD_VERSION,
        "nodeid": nodeid,
        "scenario": scenario.name,
        "path": path,
        "seed": result.seed,
        "seed_index": seed_index,
        "agent": agent,
        "mode": mode,
        "passed": result.passed,
        "failed": list(result.failed_oracles),
        # None: the oracle had nothing to judge in this run
        "scores": {
            s.oracle: None if s.passed and s.value is None else s.passed
            for s in result.scores
        },
        "values": {s.oracle: s.value for s in result.scores},
        "severity": {s.oracle: str(s.severity) for s in result.scores},
        "faults": [dict(f) for f in result.fault_coverage],
        "escalation": {
            k: result.score("escalation").details.get(k) for k in ("expected", "actual")
        },
        "thresholds": thresholds.to_json() if thresholds is not None else None,
        "tool_calls": result.tool_calls,
        "simulated_seconds": round(result.world.clock.now, 6),
        "trace": trace,
        "sandbox": result.sandbox,
    }
    usage = result.model_usage
    if usage is not None:
        record["model"] = usage.to_json()
    return record
