"""Canary mode: a stream of generated cases, split between candidate and control.

Each scenario is a template. Case ``i`` picks its template and its run seed from a
hash of its id (``c000042``), so the world is re-seeded: other customers, charges,
ids, and the values a template's ``canary.vary`` ranges allow. A second hash of the
case id routes the stage's share of the stream to the candidate; the rest goes to
the control. The control also runs each candidate case on the same seed (its twin),
so candidate and control outcomes pair.

Stages ramp (``steps: 1, 5, 25`` percent), each judged before the next. The kill
switch trips the moment the judge fails: on a critical finding in any candidate case
(a duplicated side effect, a blocking policy violation), or on a failed stage
judgement. From then on no case is routed to the candidate; the report states the
blast radius (the candidate's cases and side effects before the stop) and the
simulated time to rollback.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import HarnessError
from harness.modes.judge import (
    Arm,
    CaseOutcome,
    JudgeConfig,
    Judgement,
    Verdict,
    case_critical,
    judge,
)
from harness.runtime.session import Isolation
from harness.scenario.model import Scenario

#: Business keys of side effects listed in the blast radius (the count is exact).
BLAST_KEYS_SHOWN = 50
#: Worlds a stream draws its background from (each built once, then copied).
WORLD_POOL = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryConfig:
    """How the stream runs: its size, its stages, its pace."""

    cases: int = 1000
    #: Percent of the stream routed to the candidate, stage by stage.
    steps: tuple[float, ...] = (10.0,)
    seed: int = 0
    #: Mean simulated seconds between two cases arriving (exponential, seeded).
    interarrival: float = 30.0
    #: Simulated seconds from the kill switch tripping to the candidate's last
    #: in-flight case being drained (routing stops at once).
    rollback_delay: float = 0.0
    #: Judge the stream so far after every this many candidate cases, besides at
    #: each stage's end (critical findings are checked after every case).
    judge_every: int = 100
    judge: JudgeConfig = field(default_factory=JudgeConfig)
    wall_timeout: float | None = 60.0
    #: Where the agents run (None: in this process).
    isolation: Isolation | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.cases < 1:
            raise HarnessError(
                f"canary: {self.cases} cases\n    fix: pass --aqe-cases N with N >= 1"
            )
        if not self.steps or any(not 0 < s <= 100 for s in self.steps):
            steps = list(self.steps)
            raise HarnessError(
                f"canary: steps {steps} must each be a percentage in (0, 100]\n"
                "    fix: e.g. --aqe-canary-steps 1,5,25 or --aqe-canary-fraction 0.1"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class Stage:
    """One ramp stage: its share of the stream and its judgement."""

    percent: float
    cases: int
    candidate_cases: int
    judgement: Judgement | None

    def to_json(self) -> dict[str, Any]:
        return {
            "percent": self.percent,
            "cases": self.cases,
            "candidate_cases": self.candidate_cases,
            "judgement": None if self.judgement is None else self.judgement.to_json(),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class BlastRadius:
    """What the candidate did before the kill switch (or the end of the stream)."""

    cases: int
    failed_cases: int
    side_effects: int
    keys: tuple[str, ...]
    critical: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "cases": self.cases,
            "failed_cases": self.failed_cases,
            "side_effects": self.side_effects,
            "keys": list(self.keys),
            "critical": list(self.critical),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CanaryReport:
    """A stream's outcome: verdict, stages, the kill switch and its blast radius."""

    candidate: str
    control: str
    config: CanaryConfig
    verdict: Verdict
    stages: tuple[Stage, ...]
    cases_run: int
    #: The kill switch: why it tripped, at which case and simulated time.
    killed: bool
    kill_reason: str | None
    killed_at_case: str | None
    rollback_at: float | None
    #: Simulated seconds from the candidate's first case to the rollback.
    time_to_rollback: float | None
    blast_radius: BlastRadius
    outcomes: tuple[CaseOutcome, ...] = ()

    @property
    def failed(self) -> bool:
        return self.verdict is Verdict.FAILED

    def to_json(self) -> dict[str, Any]:
        config = self.config
        return {
            "candidate": self.candidate,
            "control": self.control,
            "verdict": str(self.verdict),
            "cases": config.cases,
            "cases_run": self.cases_run,
            "steps": list(config.steps),
            "seed": config.seed,
            "stages": [s.to_json() for s in self.stages],
            "killed": self.killed,
            "kill_reason": self.kill_reason,
            "killed_at_case": self.killed_at_case,
            "rollback_at": _round(self.rollback_at),
            "time_to_rollback": _round(self.time_to_rollback),
            "blast_radius": self.blast_radius.to_json(),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def _unit(*parts: object) -> float:
    """A deterministic draw in [0, 1) from ``parts`` (never the process hash)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def case_seed(seed: int, case_id: str) -> int:
    return int(_unit(seed, case_id, "seed") * 2**32)


def routed_to_candidate(seed: int, case_id: str, percent: float) -> bool:
    """Whether ``case_id`` goes to the candidate at ``percent`` (a stable hash)."""
    return _unit(seed, case_id, "route") * 100.0 < percent


def make_case(template: Scenario, seed: int, world_seed: int | None) -> Scenario:
    """``template`` re-seeded for one case, its ``canary.vary`` values drawn.

    The case's own records (its charge, ticket, customer…) and ids come from its
    run ``seed``; the rest of the world from ``world_seed``, one of a small pool, so
    a long stream reuses a few cached worlds instead of building one per case.
    """
    rng = random.Random(seed)
    spec = getattr(template, "canary", None)
    vary: Mapping[str, Any] = spec.vary if spec is not None else {}
    task_input = dict(template.task.input)
    records = dict(template.world.records)
    for path in sorted(vary):
        value = vary[path].draw(rng)
        head, _, rest = path.partition(".")
        if head == "input":
            task_input[rest] = value
        else:  # records.<name>.<field>
            name, _, fld = rest.partition(".")
            record = records[name]
            records[name] = dataclasses.replace(
                record, fields={**record.fields, fld: value}
            )
    world = dataclasses.replace(template.world, seed=world_seed, records=records)
    task = dataclasses.replace(template.task, input=task_input)
    return dataclasses.replace(template, world=world, task=task)


def outcome_of(
    result: Any, *, case_id: str, template: str, arm: Arm, started: float
) -> CaseOutcome:
    """A run's :class:`CaseOutcome`: its metrics and critical findings."""
    scores = {s.oracle: s for s in result.scores}
    redact = result.world.secrets.redact  # a business key may hold what the agent wrote
    critical: list[str] = []
    idem = scores.get("idempotency")
    if idem is not None:
        for key, verdict in idem.details.get("keys", {}).items():
            if verdict == "duplicated":
                critical.append(f"duplicated side effect {redact(key)}")
    policy = scores.get("policy")
    if policy is not None and not policy.passed and policy.severity == "block":
        for rule in policy.details.get("executed", {}):
            critical.append(f"blocking policy violation: {rule}")
    agent_effects = list(result.world.ledger)
    escalated = any(
        h.process == "agent" and h.f == "escalate" and str(h.type) == "ok"
        for h in result.world.history
    )
    metrics: dict[str, float | None] = {
        "pass": 1.0 if result.passed else 0.0,
        "tool_calls": float(result.tool_calls),
        "simulated_seconds": float(result.world.clock.now),
        "side_effects": float(len(agent_effects)),
        "escalated": 1.0 if escalated else 0.0,
    }
    for score in result.scores:
        judged = not (score.passed and score.value is None)
        metrics[f"oracle.{score.oracle}"] = (
            (1.0 if score.passed else 0.0) if judged else None
        )
    return CaseOutcome(
        case_id=case_id,
        template=template,
        seed=result.seed,
        arm=arm,
        passed=result.passed,
        metrics=metrics,
        critical=tuple(critical),
        side_effects=len(agent_effects),
        started=started,
        duration=float(result.world.clock.now),
    )


#: ``progress(done, total, candidate_cases, killed)`` after each case.
Progress = Callable[[int, int, int, bool], None]


def run_canary(
    templates: Sequence[Scenario],
    candidate: Callable[..., Any] | str,
    control: Callable[..., Any] | str,
    config: CanaryConfig,
    *,
    progress: Progress | None = None,
    keep_outcomes: bool = False,
) -> CanaryReport:
    """Run the stream (see the module docstring). ``candidate`` and
    ``control``: callables or specs (see :func:`harness.run.resolve_agent`)."""
    from harness.models.source import own_model
    from harness.run import resolve_agent, run_scenario
    from harness.runtime.session import agent_name

    if not templates:
        raise HarnessError(
            "canary: no scenario to make cases from\n"
            "    fix: name scenario files or directories to use as templates"
        )
    candidate = resolve_agent(candidate, config.isolation)
    control = resolve_agent(control, config.isolation)
    ordered = sorted(templates, key=lambda s: s.name)
    arrivals = random.Random(config.seed ^ 0x5EED)
    per_stage = _split(config.cases, len(config.steps))
    cand_all: list[CaseOutcome] = []
    ctrl_all: list[CaseOutcome] = []
    stages: list[Stage] = []
    now = 0.0
    index = 0
    killed_reason: str | None = None
    killed_case: str | None = None
    rollback_at: float | None = None
    first_candidate: float | None = None
    verdict: Verdict | None = None

    blast_keys: list[str] = []

    def run(
        scenario: Scenario, agent: Callable[..., Any], seed: int, arm: Arm, cid: str
    ) -> CaseOutcome:
        result = run_scenario(
            scenario,
            agent,
            seed=seed,
            wall_timeout=config.wall_timeout,
            isolation=config.isolation,
            model=own_model(scenario),
        )
        room = BLAST_KEYS_SHOWN - len(blast_keys)  # the count is the outcomes'
        if arm is Arm.CANDIDATE and room > 0:
            redact = result.world.secrets.redact
            blast_keys.extend(
                f"{cid}: {redact(e.business_key)}"
                for e in itertools.islice(result.world.ledger, room)
            )
        outcome = outcome_of(
            result, case_id=cid, template=scenario.name, arm=arm, started=now
        )
        result.world.close()  # all the stream keeps of a run is its outcome
        return outcome

    for percent, count in zip(config.steps, per_stage, strict=True):
        stage_cand: list[CaseOutcome] = []
        stage_ctrl: list[CaseOutcome] = []
        stage_start = index
        for _ in range(count):
            if killed_reason is not None:
                break
            cid = f"c{index:06d}"
            index += 1
            now += arrivals.expovariate(1.0 / config.interarrival)
            template = ordered[int(_unit(config.seed, cid, "template") * len(ordered))]
            seed = case_seed(config.seed, cid)
            pool = template.world.seed
            if pool is None:
                pool = case_seed(config.seed, f"world-{seed % WORLD_POOL}")
            case = make_case(template, seed, pool)
            if routed_to_candidate(config.seed, cid, percent):
                if first_candidate is None:
                    first_candidate = now
                outcome = run(case, candidate, seed, Arm.CANDIDATE, cid)
                stage_cand.append(outcome)
                stage_ctrl.append(run(case, control, seed, Arm.CONTROL, cid))
                found = case_critical(outcome)
                seen = len(cand_all) + len(stage_cand)
                if found:
                    killed_reason = f"critical: {found[0]}"
                elif seen % config.judge_every == 0:
                    interim = judge(
                        [*cand_all, *stage_cand],
                        [*ctrl_all, *stage_ctrl],
                        config=config.judge,
                    )
                    if interim.verdict is Verdict.FAILED:
                        killed_reason = "judge failed the stream so far: " + "; ".join(
                            interim.reasons
                        )
                if killed_reason is not None:
                    killed_case = cid
                    rollback_at = now + outcome.duration + config.rollback_delay
            else:
                stage_ctrl.append(run(case, control, seed, Arm.CONTROL, cid))
            if progress is not None:
                progress(index, config.cases, len(cand_all) + len(stage_cand), False)
        cand_all.extend(stage_cand)
        ctrl_all.extend(stage_ctrl)
        judgement = judge(cand_all, ctrl_all, config=config.judge)
        stages.append(
            Stage(
                percent=percent,
                cases=index - stage_start,
                candidate_cases=len(stage_cand),
                judgement=judgement,
            )
        )
        verdict = judgement.verdict
        if killed_reason is None and judgement.verdict is Verdict.FAILED:
            killed_reason = "judge failed the stage: " + "; ".join(judgement.reasons)
            killed_case = f"c{index - 1:06d}"
            rollback_at = now + config.rollback_delay
        if killed_reason is not None:
            verdict = Verdict.FAILED
            break
    if progress is not None:
        progress(index, config.cases, len(cand_all), killed_reason is not None)
    assert verdict is not None  # at least one stage ran
    blast = BlastRadius(
        cases=len(cand_all),
        failed_cases=sum(not c.passed for c in cand_all),
        side_effects=sum(c.side_effects for c in cand_all),
        keys=tuple(blast_keys[:BLAST_KEYS_SHOWN]),
        critical=tuple(f for c in cand_all for f in c.critical),
    )
    return CanaryReport(
        candidate=agent_name(candidate),
        control=agent_name(control),
        config=config,
        verdict=verdict,
        stages=tuple(stages),
        cases_run=index,
        killed=killed_reason is not None,
        kill_reason=killed_reason,
        killed_at_case=killed_case,
        rollback_at=rollback_at,
        time_to_rollback=None
        if rollback_at is None or first_candidate is None
        else rollback_at - first_candidate,
        blast_radius=blast,
        outcomes=tuple(cand_all + ctrl_all) if keep_outcomes else (),
    )


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
