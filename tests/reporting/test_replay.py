"""Re-scoring replays a trace's calls delivery by delivery, through a fresh world."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.agents import reference
from harness.reporting.artefacts import read_trace
from harness.reporting.replay import replay_agent
from harness.reporting.trace import write_trace
from harness.run import run_scenario
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT

REDELIVERED = ROOT / "scenarios" / "refunds" / "refund_task_delivered_twice.yaml"


@pytest.mark.parametrize(
    ("agent", "passed"),
    [(reference.careful_refund_agent, True), (reference.fresh_key_agent, False)],
)
def test_replaying_a_redelivered_task_repeats_each_delivery_and_its_verdict(
    tmp_path: Path, agent: object, passed: bool
) -> None:
    scenario = load_scenario(REDELIVERED)
    first = run_scenario(scenario, agent, seed=3)  # type: ignore[arg-type]
    trace = read_trace(write_trace(first, tmp_path))

    again = run_scenario(scenario, replay_agent(trace), seed=3)

    assert first.passed is again.passed is passed

    def steps(result: object) -> list[tuple[float, str, str, str | None]]:
        history = result.world.history  # type: ignore[attr-defined]
        return [(round(h.time, 3), h.process, str(h.type), h.f) for h in history]

    # the same steps at the same times, the redelivery between the deliveries'
    # calls (the replay calls through the function door, the agent used HTTP)
    assert steps(again) == steps(first)
