"""``aqe fuzz``: search for the fault plan that breaks an agent, and write it down.

The agent first runs the scenario with no faults: it must pass, and the tools it
calls are the ones faults may hit. The search then looks for a fault plan under
which an oracle fails: first every one-fault plan in order of simplicity (the
fault table's order, each kind's simplest parameters first, on the first matching
call), so the plan found is the plainest single fault that breaks the agent; then,
if none does, plans of several faults drawn by Hypothesis
(:mod:`harness.scenario.strategies`), shrunk to the simplest that still fails. The
plan is written into a copy of the scenario: a new, valid scenario file that
reproduces the failure under pytest. The search is derandomized, so the same
scenario, agent and seed find the same plan.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import zlib
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from harness.errors import HarnessError
from harness.files import write_atomic
from harness.models.source import own_model
from harness.run import RunResult, resolve_agent, run_scenario, run_seed
from harness.runtime.session import Isolation, agent_name
from harness.scenario.loader import SCHEMA_PATH, load_scenario, scenario_from_dict
from harness.scenario.model import Scenario
from harness.scenario.strategies import fault_documents, single_faults
from harness.source.yamlpos import YamlSyntaxError, read_yaml


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """A shrunk fault plan that makes the agent fail, written as a scenario."""

    path: Path
    faults: list[dict[str, Any]]
    oracles: tuple[str, ...]
    seed: int
    session_seed: int
    explanation: str


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class FuzzOutcome:
    """What a search found (``finding``), or why there was nothing to search."""

    finding: Finding | None
    examples: int
    baseline_failed: tuple[str, ...] = ()


def fuzz(
    path: Path,
    agent: Callable[..., Any] | str,
    *,
    out: Path,
    examples: int = 200,
    session_seed: int = 0,
    oracles: Sequence[str] | None = None,
    max_faults: int = 3,
    agent_spec: str | None = None,
    isolation: Isolation | None = None,
) -> FuzzOutcome:
    """Search fault plans for ``agent`` on the scenario at ``path``.

    ``oracles`` limits which failing oracles count (default: any blocking one);
    ``isolation``: where the agent runs (default: in this process).
    """
    scenario = load_scenario(path)
    data = _document(path)
    if isinstance(agent, str):
        agent_spec = agent_spec or agent
    agent = resolve_agent(agent, isolation)
    name = f"{scenario.name}_fuzz_{_short(agent_spec or agent_name(agent))}"
    seed = run_seed(session_seed, name)
    baseline = run_scenario(
        scenario.with_faults(()),
        agent,
        seed=seed,
        isolation=isolation,
        model=own_model(scenario),
    )
    if not baseline.passed:
        return FuzzOutcome(
            finding=None, examples=0, baseline_failed=baseline.failed_oracles
        )
    tools = _tools_called(baseline)
    if not tools:
        raise HarnessError(
            f"{path}: the agent made no tool calls without faults, so there is"
            " nothing for faults to hit\n    fix: check that the agent works on"
            " this scenario (aqe run)"
        )
    wanted = None if oracles is None else frozenset(oracles)
    tried = 0

    def breaks(documents: list[dict[str, Any]]) -> bool:
        nonlocal tried
        tried += 1
        return bool(_failing(_run(scenario, documents, agent, seed, isolation), wanted))

    plan = next(
        (p for p in islice(single_faults(tools=tools), examples) if breaks(p)), None
    )
    if plan is None and examples > tried:
        strategy = fault_documents(tools=tools, max_faults=max_faults)
        with contextlib.suppress(NoSuchExample):
            plan = find(strategy, breaks, settings=_search_settings(examples - tried))
    if plan is None:
        return FuzzOutcome(finding=None, examples=tried)
    result = _run(scenario, plan, agent, seed, isolation)
    failed = _failing(result, wanted)
    target = out / f"{name}.yaml"
    text = _render(data, name, plan, result, failed, target, agent_spec, session_seed)
    write_atomic(target, text.encode())
    written = load_scenario(target)
    again = run_scenario(
        written, agent, seed=seed, isolation=isolation, model=own_model(written)
    )
    if _failing(again, wanted) != failed:
        raise HarnessError(  # pragma: no cover - a determinism bug in the harness
            f"{target}: the written scenario did not reproduce the failure"
            f" ({', '.join(failed)}); please report this"
        )
    explanation = result.world.secrets.redact(  # printed: the secrets as aliases
        "; ".join(s.explanation for s in result.scores if s.oracle in failed)
    )
    return FuzzOutcome(
        finding=Finding(
            path=target,
            faults=plan,
            oracles=failed,
            seed=seed,
            session_seed=session_seed,
            explanation=explanation,
        ),
        examples=tried,
    )


def _search_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def _run(
    scenario: Scenario,
    documents: list[dict[str, Any]],
    agent: Callable[..., Any],
    seed: int,
    isolation: Isolation | None = None,
) -> RunResult:
    from harness.scenario.loader import faults_from_documents

    return run_scenario(
        scenario.with_faults(faults_from_documents(documents)),
        agent,
        seed=seed,
        isolation=isolation,
        model=own_model(scenario),
    )


def _failing(result: RunResult, wanted: frozenset[str] | None) -> tuple[str, ...]:
    return tuple(o for o in result.failed_oracles if wanted is None or o in wanted)


def _tools_called(result: RunResult) -> list[str]:
    """The tools the agent called, in the order it first called them."""
    seen: dict[str, None] = {}
    for entry in result.world.history:
        if entry.process == "agent" and entry.type == "invoke":
            seen.setdefault(entry.f, None)
    return list(seen)


def _document(path: Path) -> dict[str, Any]:
    try:
        data = read_yaml(Path(path).read_text(encoding="utf-8")).data
    except YamlSyntaxError as err:  # pragma: no cover - load_scenario said it first
        raise HarnessError(str(err.problem.message)) from None
    assert isinstance(data, dict)
    return data


def _short(spec: str) -> str:
    """``pkg.mod:naive_refund_agent`` -> ``naive_refund_agent`` (a name part)."""
    tail = spec.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c in "_-" else "_" for c in tail)
    return cleaned or f"agent{zlib.crc32(spec.encode()):08x}"


def _render(
    data: dict[str, Any],
    name: str,
    plan: list[dict[str, Any]],
    result: RunResult,
    failed: tuple[str, ...],
    target: Path,
    agent_spec: str | None,
    session_seed: int,
) -> str:
    agent = agent_spec or result.agent
    policy = data.get("policy")
    if isinstance(policy, str):  # a pack file, named relative to the scenario
        source = Path(str(result.scenario.path)).parent / policy
        data = {**data, "policy": os.path.relpath(source, target.parent)}
    document = {
        **data,
        "name": name,
        "rationale": (
            f"Found by aqe fuzz from {data['name']}: under this fault plan"
            f" {_short(agent)} fails {', '.join(failed)}."
        ),
        "tags": [*data.get("tags", []), "fuzz"],
        "faults": plan,
    }
    scenario_from_dict(document, path=target)  # what is written must load
    schema = os.path.relpath(SCHEMA_PATH, target.parent.resolve())
    header = [
        f"# yaml-language-server: $schema={schema}",
        f"# Written by `aqe fuzz {data['name']}` for {agent}.",
        f"# Reproduce: pytest {target} --aqe-agent {agent} --aqe-seed {session_seed}",
    ]
    body = yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, width=88, default_flow_style=None
    )
    return "\n".join(header) + "\n" + body


__all__ = ["Finding", "FuzzOutcome", "fuzz"]
