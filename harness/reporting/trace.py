"""Replayable JSONL traces: one file per run, byte-identical for the same inputs.

Lines, in order: ``header`` (versions, scenario, seed, agent), ``task``, one
``history`` line per history entry, one ``effect`` line per ledger entry, one
``fault`` line per fault of the plan (its coverage: calls matched, times fired), one
``score`` line per oracle, an ``output`` line with what the agent printed (when it
ran in its own process and printed anything), one ``warning`` line per distinct
warning raised during the run (category, message, ``where`` as ``file:line``,
count) and a ``warnings_dropped`` line with how many were not kept (each only
when there are any), a ``model`` line with the run's model totals (calls,
tokens in and out, cost: :mod:`harness.models.usage`; only when it made model
calls), and the ``verdict``. Keys are
sorted and no wall-clock value is written, so the same scenario + agent + seed
gives the same bytes. The run's secrets appear as their aliases
(``<secret:reset_link:1>``), never in clear.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness._version import __version__
from harness.files import write_atomic

if TYPE_CHECKING:
    from harness.run import RunResult

TRACE_VERSION = 1


#: One encoder for every line (``json.dumps`` with options builds one per call).
_JSON = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
)


def _dump(obj: dict[str, Any]) -> str:
    return _JSON.encode(obj)


@functools.cache
def _faker_version() -> str:
    """Faker's installed version, read once a process (reading the package
    metadata parses files: milliseconds a trace)."""
    from importlib.metadata import version

    return version("faker")


def trace_lines(result: RunResult, *, mode: str = "sim") -> list[str]:
    """The trace of ``result`` as JSON lines (without newlines)."""
    scenario = result.scenario
    lines = [
        _dump(
            {
                "type": "header",
                "trace_version": TRACE_VERSION,
                "harness": __version__,
                "faker": _faker_version(),
                "scenario": scenario.name,
                "scenario_sha256": scenario.source_sha256,
                "scenario_path": _shown(scenario.path),
                "seed": result.seed,
                "world_seed": result.world.world_seed,
                "agent": result.agent,
                "mode": mode,
                "policy_pack": scenario.policy.name,
            }
        ),
        _dump(
            {
                "type": "task",
                "input": dict(result.task.input),
                "instructions": result.task.instructions,
                "records": {k: v.get("id") for k, v in result.world.records.items()},
            }
        ),
    ]
    lines.extend(
        _dump({"type": "history", **h.to_json()}) for h in result.world.history
    )
    lines.extend(_dump({"type": "effect", **e.to_json()}) for e in result.world.ledger)
    lines.extend(_dump({"type": "fault", **f}) for f in result.fault_coverage)
    lines.extend(_dump({"type": "score", **s.to_json()}) for s in result.scores)
    if result.output:  # what the agent printed, from its own process
        lines.append(_dump({"type": "output", "text": result.output}))
    lines.extend(_dump({"type": "warning", **w.to_json()}) for w in result.warnings)
    if result.warnings_dropped:
        lines.append(
            _dump({"type": "warnings_dropped", "count": result.warnings_dropped})
        )
    usage = result.model_usage
    if usage is not None:
        lines.append(_dump({"type": "model", **usage.to_json()}))
    agent_result = result.agent_result
    lines.append(
        _dump(
            {
                "type": "verdict",
                "passed": result.passed,
                "failed": list(result.failed_oracles),
                "agent_status": agent_result.status if agent_result else None,
                "agent_summary": agent_result.summary if agent_result else None,
                "simulated_seconds": round(result.world.clock.now, 6),
                "tool_calls": result.tool_calls,
            }
        )
    )
    # secrets (the credential, issued reset links) never reach the file in clear
    redact = result.world.secrets.redact
    return [redact(line) for line in lines]


def _shown(path: Path | None) -> str | None:
    """A scenario's path as a trace names it: relative to where the run ran."""
    if path is None:
        return None
    return _relative(path, os.getcwd())


@functools.lru_cache(maxsize=1024)
def _relative(path: Path, cwd: str) -> str:
    """``path`` relative to ``cwd`` where it is inside it (resolving a path
    stats each of its parts: cached, as a suite's scenarios are few)."""
    try:
        return path.resolve().relative_to(Path(cwd)).as_posix()
    except ValueError:
        return path.as_posix()


def trace_bytes(result: RunResult, *, mode: str = "sim") -> bytes:
    return ("\n".join(trace_lines(result, mode=mode)) + "\n").encode()


def write_trace(result: RunResult, directory: Path, *, mode: str = "sim") -> Path:
    """Write the run's trace under ``directory``; returns its path."""
    agent = result.agent.rpartition(":")[2] or "agent"
    path = directory / f"{result.scenario.name}.{agent}.seed-{result.seed}.jsonl"
    write_atomic(path, trace_bytes(result, mode=mode))
    return path
