"""Runs that make their own scenarios (canary cases, fuzz plans) keep the
scenario's own scripted model: an LLM agent is judged, not failed on ``model``."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.agents.library import careful_agent
from harness.agents.llm_refunds import careful_agent as llm_refunds
from harness.models.source import own_model
from harness.modes.canary import CanaryConfig, run_canary
from harness.modes.fuzz import fuzz
from harness.scenario.loader import load_scenario
from tests.conftest import ROOT

pytest.importorskip("openai")

LLM = ROOT / "scenarios" / "llm" / "llm_refund_ambiguous_timeout.yaml"


def test_a_scenarios_own_model_is_its_script_and_nothing_else() -> None:
    source = own_model(load_scenario(LLM))

    assert source is not None
    assert (source.mode, source.cassette) == ("scripted", None)
    assert own_model(load_scenario(ROOT / "scenarios/payments/refund_ok.yaml")) is None


def test_canary_cases_of_an_llm_template_are_answered_by_its_model() -> None:
    config = CanaryConfig(cases=12, steps=(50.0,), seed=3)

    report = run_canary(
        [load_scenario(LLM)], careful_agent, careful_agent, config, keep_outcomes=True
    )

    assert report.outcomes
    assert all(o.passed for o in report.outcomes), [
        o.case_id for o in report.outcomes if not o.passed
    ]


def test_fuzzing_an_llm_agent_runs_with_the_scenarios_model(tmp_path: Path) -> None:
    outcome = fuzz(LLM, llm_refunds, out=tmp_path, examples=3)

    assert outcome.baseline_failed == ()  # the baseline run had its model
    assert outcome.examples >= 1
