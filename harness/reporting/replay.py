"""Reading traces back: reproduce a run (``aqe replay``) or re-score it without
its agent (``aqe rescore``).

Re-scoring re-issues the calls a trace recorded, in order and at their simulated
times, through the function door of a fresh world built from the same scenario
and seed. Faults decide from the seed, the fault id and the call index, so the
world ends as the agent left it; the oracles then judge it with today's code and
expectations.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessError, ToolError
from harness.faults.kind import Target
from harness.reporting.artefacts import Trace, read_trace
from harness.world.clock import EPOCH

if TYPE_CHECKING:
    from harness.run import RunRecord


def trace_scenario(trace: Trace, override: Path | None = None) -> Any:
    """The scenario a trace ran, from ``override`` or the path its header names."""
    from harness.scenario.loader import load_scenario

    named = trace.header.get("scenario_path")
    path = override or (Path(named) if named else None)
    if path is None or not path.is_file():
        raise HarnessError(
            f"{trace.path}: cannot find the scenario file"
            f" {named or '(the trace names none)'}\n"
            "    fix: pass --scenario PATH (run from the directory the session ran in)"
        )
    return load_scenario(path)


def replay_agent(
    trace: Trace, reveal: Callable[[Any], Any] | None = None
) -> Callable[..., Any]:
    """An agent that re-issues the trace's calls, delivery by delivery.

    ``reveal`` turns the trace's secret aliases back into the secrets the new
    run issued (see :class:`harness.world.secrets.Secrets`)."""
    from harness.faults.registry import registry

    kinds = registry()
    deliveries: list[list[dict[str, Any]]] = [[]]
    for line in trace.lines:
        process = line.get("process")
        name = line.get("f")
        if (
            process == "nemesis"
            and name in kinds
            and kinds[str(name)].target is Target.TASK
        ):  # a task fault: the task delivered again
            deliveries.append([])
        elif process == "agent" and line.get("type") == "invoke":
            deliveries[-1].append(line)
    verdict = trace.verdict
    queue = list(deliveries)

    def agent(task: Any, env: Any) -> dict[str, Any]:
        calls = queue.pop(0) if queue else []
        for call in calls:
            wait = float(call["time"]) - (time.time() - EPOCH)
            if wait > 1e-9:
                time.sleep(wait)
            value = call["value"]
            args = dict(value.get("params") or {})
            if reveal is not None:
                args = reveal(args)
            if value.get("idempotency_key") is not None:
                args["idempotency_key"] = value["idempotency_key"]
            # the agent saw an error here too; it is in the new history
            with contextlib.suppress(ToolError):
                env.tools.call(call["f"], **args)
        return {
            "status": verdict.get("agent_status") or "done",
            "summary": verdict.get("agent_summary") or "",
        }

    return agent


def _is_invoke(line: dict[str, Any]) -> bool:
    return (
        line.get("value", {}).get("door") is not None and line.get("call") is not None
    )


def rescore_records(records: Sequence[RunRecord], run_dir: Path) -> list[RunRecord]:
    """New records for ``records``, re-scored from their traces."""
    from harness.run import prepare_run, run_record, run_scenario

    out = []
    for record in records:
        trace = read_trace(run_dir / record["trace"])
        scenario = trace_scenario(trace, _record_path(record))
        setup = prepare_run(scenario, seed=record["seed"])
        agent = replay_agent(trace, reveal=setup.world.secrets.reveal)
        result = run_scenario(scenario, agent, seed=record["seed"], setup=setup)
        new = run_record(  # the secrets of the new run as their aliases
            result,
            nodeid=record["nodeid"],
            path=record["path"],
            agent=record["agent"],
            seed_index=record.get("seed_index", 0),
            trace=record["trace"],
            mode=record.get("mode", "sim"),
        )
        if "model" in record and "model" not in new:
            # the recorded run's model calls are not made again: keep what they used
            new["model"] = record["model"]
        out.append(result.world.secrets.redact_json(new))
    return out


def _record_path(record: RunRecord) -> Path | None:
    path = Path(record["path"])
    return path if path.is_file() else None
