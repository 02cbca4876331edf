"""Scenarios written in Python: the builder, the fixtures and the assertions."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import ScenarioError, run_scenario
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.authoring import ScenarioBuilder, assert_oracle, assert_passed

ROOT = Path(__file__).resolve().parents[2]


def lost_answer() -> ScenarioBuilder:
    return (
        ScenarioBuilder("refund_lost_answer", "A lost answer must not refund twice.")
        .task(
            "Refund {amount} {currency} on {charge} for {ticket_id}",
            ticket_id="$ticket.id",
            charge="$charge.id",
            amount=1200,
            currency="usd",
        )
        .record("charge", "payments", "charge", amount=5000, currency="usd")
        .record("ticket", "tickets", "ticket", charge="$charge.id")
        .fault(
            "timeout", commit="after", match={"tool": "create_refund"}, when={"call": 1}
        )
        .expect(
            idempotency={"key": "refund:$charge.id", "max_effects": 1},
            escalation="forbidden",
        )
        .tags("payments", "python")
    )


def test_the_builder_makes_the_scenario_a_file_would() -> None:
    scenario = lost_answer().build()

    assert scenario.name == "refund_lost_answer"
    assert scenario.tags == ("payments", "python")
    (fault,) = scenario.faults
    assert (fault.id, str(fault.kind), fault.when.call) == ("timeout-1", "timeout", 1)
    assert lost_answer().to_dict()["faults"][0]["commit"] == "after"


def test_the_builder_reports_problems_by_json_path() -> None:
    builder = lost_answer().fault("latency", match={"tool": "create_refnd"})

    with pytest.raises(ScenarioError) as caught:
        builder.build()

    assert caught.value.problems[0].startswith(
        "<scenario refund_lost_answer>: faults[1]: missing required key 'seconds'"
    )


def test_assertions_explain_a_failure_with_the_evidence() -> None:
    scenario = lost_answer().build()
    careful = run_scenario(scenario, careful_refund_agent)
    naive = run_scenario(scenario, naive_refund_agent)

    assert_passed(careful)
    assert_oracle(naive, "idempotency", passed=False, says="duplicated")
    with pytest.raises(AssertionError) as caught:
        assert_passed(naive)
    assert "failed on idempotency" in str(caught.value)
    with pytest.raises(AssertionError) as caught:
        assert_oracle(naive, "idempotency", passed=True)
    assert str(caught.value).startswith("expected idempotency to pass; it said:")


BUILDER_TEST = """
import pytest
from harness.authoring import ScenarioBuilder, assert_oracle

def lost_answer():
    return (
        ScenarioBuilder("refund_lost_answer", "A lost answer must not refund twice.")
        .task("Refund {amount} on {charge}", ticket_id="$ticket.id",
              charge="$charge.id", amount=1200, currency="usd")
        .record("charge", "payments", "charge", amount=5000, currency="usd")
        .record("ticket", "tickets", "ticket", charge="$charge.id")
        .fault("timeout", commit="after", match={"tool": "create_refund"},
               when={"call": 1})
        .expect(idempotency={"key": "refund:$charge.id", "max_effects": 1})
    )

def test_builder(aqe_run):
    result = aqe_run(lost_answer())
    assert_oracle(result, "idempotency", passed=True)

@pytest.mark.aqe(scenario=SCENARIO)
def test_marked(aqe_run):
    assert aqe_run().passed

def test_world(aqe_world):
    setup = aqe_world(lost_answer(), seed=3)
    charge = setup.world.records["charge"]["id"]
    assert setup.tools.call("retrieve_charge", charge=charge)["amount"] == 5000
"""


def test_the_fixtures_run_python_scenarios_into_the_session_summary(
    pytester: pytest.Pytester,
) -> None:
    refund_ok = repr(str(ROOT / "scenarios" / "payments" / "refund_ok.yaml"))
    pytester.makepyfile(test_mine=BUILDER_TEST.replace("SCENARIO", refund_ok))

    result = pytester.runpytest(
        "--aqe-agent=harness.agents.reference:careful_refund_agent"
    )

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "*aqe scenario summary*",
            "refund_lost_answer * pass*",
            "refund_ok * pass*",
            "2/2 scenario runs passed*",
        ]
    )
