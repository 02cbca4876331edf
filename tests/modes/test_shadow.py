"""Shadow mode: the candidate acts on a fork, its decisions are compared with a
reference (with noise measured), and the shared world stays untouched."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.errors import HarnessError
from harness.modes import shadow
from harness.modes.shadow import (
    DecisionAction,
    FieldDiff,
    ReferenceSource,
    ShadowResult,
    ShadowThresholds,
    agreement,
    consequences,
    run_shadow,
    state_digest,
)
from harness.oracles.base import Score
from harness.run import prepare_run
from harness.scenario.loader import parse_scenario
from harness.scenario.model import DecisionOutcome, Scenario
from tests.conftest import PAYMENTS, payments_scenario

TIMEOUT = PAYMENTS / "refund_ambiguous_timeout.yaml"
#: What the careful agent decides on the ambiguous timeout, as a scenario says it.
CAREFUL_REFERENCE = """\
shadow:
  reference:
    outcome: done
    escalation: none
    actions:
      - {operation: create_refund, key: "refund:$charge.id"}
      - {operation: add_ticket_comment, key: "comment:$ticket.id:*"}
      - {operation: update_ticket, key: "ticket:$ticket.id:status"}
"""


def timeout_scenario(shadow: str = "") -> Scenario:
    """The ambiguous-timeout scenario, with ``shadow`` appended to its file."""
    return parse_scenario(TIMEOUT.read_text(encoding="utf-8") + shadow, TIMEOUT)


def escalating_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Hands every case to a human without refunding."""
    env.http.post(
        "https://ops.sim/v1/escalations",
        json={"reason": "low_confidence", "summary": "not sure", "refs": []},
    )
    return AgentResult(status="escalated", summary="low_confidence: not sure")


def refund_then_escalate_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Refunds carefully, then escalates anyway."""
    careful_refund_agent(task, env)
    return escalating_agent(task, env)


def crashing_agent(task: Task, env: AgentEnv) -> AgentResult:
    raise RuntimeError("boom")


class SecondRunEscalates:
    """A reference agent that is not steady: careful on its first run, careful
    and then escalating on its second (keyed on its own run counter)."""

    def __init__(self) -> None:
        self.runs = 0

    def __call__(self, task: Task, env: AgentEnv) -> AgentResult:
        self.runs += 1
        if self.runs == 1:
            return careful_refund_agent(task, env)
        return refund_then_escalate_agent(task, env)


# -- the acceptance: would-have double refunds, the shared world untouched --------


def test_a_naive_shadow_run_shows_its_double_refund_and_an_untouched_shared_world() -> (
    None
):
    scenario = payments_scenario("refund_ambiguous_timeout")
    shared = prepare_run(scenario, seed=0).world
    charge = shared.records["charge"]["id"]

    result = run_shadow(
        scenario, naive_refund_agent, seed=0, reference_agent=careful_refund_agent
    )

    idempotency = next(s for s in result.would_have if s.oracle == "idempotency")
    assert not idempotency.passed
    assert idempotency.details["keys"] == {f"refund:{charge}": "duplicated"}
    assert result.consequences[0] == (
        f"would have refunded {charge} twice (refund:{charge}: duplicated)"
    )
    refunds = [a for a in result.proposed if a.operation == "create_refund"]
    assert [(a.business_key, a.time, a.reversible) for a in refunds] == [
        (f"refund:{charge}", 0.0, False),
        (f"refund:{charge}", 30.0, False),
    ]
    assert result.shared_untouched
    assert result.shared.ledger_entries == 0
    assert result.shared.digest_after == result.shared.digest_before
    # the digest is the shared world's as a fresh run finds it: nothing moved
    assert result.shared.digest_before == state_digest(shared)
    assert result.shared.fork_digest == result.shared.digest_before
    # the writes landed in the candidate's fork, which answered realistically
    assert len(result.run.world.ledger) == 2
    assert not result.agreed


def test_the_state_digest_changes_when_a_record_changes() -> None:
    world = prepare_run(payments_scenario("refund_ambiguous_timeout"), seed=0).world
    before = state_digest(world)
    charge = world.records["charge"]["id"]

    world.services["payments"].state["charges"].writable(charge)["amount"] = 1

    assert state_digest(world) != before


def test_the_state_digest_sees_a_shared_snapshot_record_changed_in_place() -> None:
    world = prepare_run(payments_scenario("refund_ambiguous_timeout"), seed=3).world
    before = state_digest(world)
    customers = world.services["payments"].state["customers"]
    seeded = customers[next(iter(customers))]  # a record of the shared snapshot
    email = seeded["email"]
    try:
        seeded["email"] = "leaked@example.com"  # what copy-on-write forbids
        assert state_digest(world) != before
    finally:
        seeded["email"] = email
    assert state_digest(world) == before


def test_the_would_have_scores_are_the_scores_a_sim_run_gives() -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")

    shadow = run_shadow(
        scenario, naive_refund_agent, seed=4, reference_agent=careful_refund_agent
    )
    sim = run_scenario(scenario, naive_refund_agent, seed=4)

    assert [s.to_json() for s in shadow.would_have] == [s.to_json() for s in sim.scores]


def test_each_idempotency_verdict_reads_as_what_would_have_happened() -> None:
    run = run_scenario(
        payments_scenario("refund_ambiguous_timeout"), careful_refund_agent, seed=0
    )
    charge = run.world.records["charge"]["id"]
    ticket = run.world.records["ticket"]["id"]
    verdicts = {
        f"refund:{charge}": "lost",
        f"ticket:{ticket}:status": "unexpected",
        "refund:ch_gone": "lost",
        f"comment:{ticket}": "unacknowledged",
        "escalation:x": "ok",
    }
    failed = Score(
        oracle="idempotency",
        passed=False,
        value=0.0,
        explanation="-",
        details={"keys": verdicts},
    )
    other = Score(oracle="budget", passed=False, value=0.0, explanation="too slow")

    lines = consequences(dataclasses.replace(run, scores=(failed, other)))

    assert lines == (
        f"would have committed refund:{charge} only once (lost);"
        f" ran update_ticket on {ticket}:status once (ticket:{ticket}:status:"
        " unexpected); never committed refund:ch_gone (lost);"
        f" committed comment:{ticket} without learning it had (unacknowledged)",
        "would have failed budget: too slow",
    )


# -- agreement --------------------------------------------------------------------


def test_the_careful_agent_agrees_with_a_careful_reference_agent_without_noise() -> (
    None
):
    result = run_shadow(
        payments_scenario("refund_ambiguous_timeout"),
        careful_refund_agent,
        seed=0,
        reference_agent=careful_refund_agent,
    )

    assert result.agreed
    assert result.diffs == ()
    assert result.noisy == ()
    assert result.reference_source is ReferenceSource.AGENT
    assert result.references[0] == result.references[1] == result.candidate
    assert result.candidate.outcome is DecisionOutcome.DONE
    assert DecisionAction(operation="create_refund", key="refund:$charge") in (
        result.candidate.actions
    )
    assert result.consequences == ()


def test_the_careful_agent_agrees_with_the_scenarios_reference_decision() -> None:
    result = run_shadow(
        timeout_scenario(CAREFUL_REFERENCE), careful_refund_agent, seed=0
    )

    assert result.reference_source is ReferenceSource.SCENARIO
    assert result.reference_agent is None
    assert len(result.references) == 1
    assert result.diffs == ()
    assert result.agreed


def test_the_naive_agent_disagrees_with_the_scenarios_reference_on_the_refund() -> None:
    result = run_shadow(timeout_scenario(CAREFUL_REFERENCE), naive_refund_agent, seed=0)

    assert not result.agreed
    assert [d.describe() for d in result.diffs] == [
        "action add_ticket_comment comment:$ticket:*: candidate 0, reference 1",
        "action create_refund refund:$charge: candidate 2, reference 1",
        "action update_ticket ticket:$ticket:status: candidate 0, reference 1",
    ]
    assert all(d.counted for d in result.diffs)


def test_a_candidate_that_escalates_where_the_reference_refunds_disagrees() -> None:
    result = run_shadow(
        payments_scenario("refund_ambiguous_timeout"),
        escalating_agent,
        seed=0,
        reference_agent=careful_refund_agent,
    )

    assert not result.agreed
    by_field = {d.field: d for d in result.diffs}
    assert by_field["outcome"].describe() == (
        "outcome: candidate escalated, reference done"
    )
    assert by_field["escalation"].describe() == (
        "escalation: candidate low_confidence, reference none"
    )
    assert by_field["action create_refund refund:$charge"].candidate == 0
    assert all(d.counted for d in result.diffs)
    assert result.proposed[0].operation == "escalate"
    charge = result.run.world.records["charge"]["id"]
    assert result.consequences[:2] == (
        f"would have never committed refund:{charge} (lost)",
        "would have failed escalation: escalated (low_confidence) although this"
        " case must be handled without one",
    )


def test_a_crashing_candidate_is_a_failed_decision() -> None:
    result = run_shadow(timeout_scenario(CAREFUL_REFERENCE), crashing_agent, seed=0)

    assert result.candidate.outcome is DecisionOutcome.FAILED
    assert result.diffs[0].describe() == "outcome: candidate failed, reference done"


# -- noise ------------------------------------------------------------------------


def test_a_field_the_reference_runs_disagree_on_is_reported_but_not_counted() -> None:
    scenario = payments_scenario("refund_ambiguous_timeout")

    result = run_shadow(
        scenario,
        refund_then_escalate_agent,
        seed=0,
        reference_agent=SecondRunEscalates(),
    )

    assert result.noisy == ("outcome", "escalation")
    assert [(d.field, d.noisy, d.counted) for d in result.diffs] == [
        ("outcome", True, False),
        ("escalation", True, False),
    ]
    assert result.diffs[0].describe() == (
        "outcome: candidate escalated, reference done (noisy: the reference runs"
        " gave done, escalated; not counted)"
    )
    assert result.agreed


def test_the_same_difference_counts_against_a_steady_reference() -> None:
    result = run_shadow(
        payments_scenario("refund_ambiguous_timeout"),
        refund_then_escalate_agent,
        seed=0,
        reference_agent=careful_refund_agent,
    )

    assert result.noisy == ()
    assert [(d.field, d.counted) for d in result.diffs] == [
        ("outcome", True),
        ("escalation", True),
    ]
    assert not result.agreed


def test_a_noisy_field_still_counts_where_the_reference_runs_agree() -> None:
    result = run_shadow(
        payments_scenario("refund_ambiguous_timeout"),
        escalating_agent,
        seed=0,
        reference_agent=SecondRunEscalates(),
    )

    counted = [d.field for d in result.diffs if d.counted]
    assert "action create_refund refund:$charge" in counted
    assert "outcome" not in counted
    assert not result.agreed


# -- many cases ------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_result() -> ShadowResult:
    return run_shadow(
        payments_scenario("refund_ambiguous_timeout"),
        careful_refund_agent,
        seed=0,
        reference_agent=careful_refund_agent,
    )


def diff(field: str, *, noisy: bool = False) -> FieldDiff:
    return FieldDiff(
        field=field,
        candidate="escalated",
        references=("done", "escalated" if noisy else "done"),
        noisy=noisy,
        counted=not noisy,
    )


def ten_cases(base: ShadowResult) -> list[ShadowResult]:
    """Ten cases: outcome differs in 3 (one of them noisy), a refund in 1."""
    refund = "action create_refund refund:$charge"
    shapes: list[tuple[tuple[FieldDiff, ...], tuple[str, ...]]] = [
        ((diff("outcome", noisy=True),), ("outcome",)),
        ((diff("outcome"),), ()),
        ((diff("outcome"),), ()),
        ((diff(refund),), ()),
    ]
    shapes += [((), ())] * 6
    return [
        dataclasses.replace(
            base,
            seed=seed,
            diffs=diffs,
            noisy=noisy,
            agreed=not any(d.counted for d in diffs),
        )
        for seed, (diffs, noisy) in enumerate(shapes)
    ]


def test_agreement_gives_the_rate_and_each_fields_difference_and_noise_rates(
    one_result: ShadowResult,
) -> None:
    summary = agreement(ten_cases(one_result))

    assert (summary.cases, summary.agreed, summary.agreement_rate) == (10, 7, 0.7)
    assert [
        (f.field, f.differences, f.noise, f.difference_rate, f.noise_rate, f.flagged)
        for f in summary.fields
    ] == [
        ("action create_refund refund:$charge", 1, 0, 0.1, 0.0, True),
        ("outcome", 3, 1, 0.3, 0.1, True),
    ]
    assert [c.seed for c in summary.disagreements] == [1, 2, 3]
    assert summary.passed
    assert summary.explanation == "agreement 0.70 (7 of 10 cases); reported, not gated"
    assert json.loads(json.dumps(summary.to_json())) == summary.to_json()


def test_a_field_is_flagged_only_above_the_relative_threshold(
    one_result: ShadowResult,
) -> None:
    # outcome: (3 - 1) / (3 + 1) = 0.5 relative, (3 - 1) / 10 = 0.2 absolute
    cases = ten_cases(one_result)

    at = agreement(cases, ShadowThresholds(relative=0.5, absolute=0.0))
    below = agreement(cases, ShadowThresholds(relative=0.49, absolute=0.0))

    assert "outcome" not in at.flagged
    assert "outcome" in below.flagged


def test_a_field_is_flagged_only_above_the_absolute_threshold(
    one_result: ShadowResult,
) -> None:
    cases = ten_cases(one_result)

    at = agreement(cases, ShadowThresholds(relative=0.0, absolute=0.2))
    below = agreement(cases, ShadowThresholds(relative=0.0, absolute=0.19))

    assert at.flagged == ()  # the refund's 0.1 is below both
    assert below.flagged == ("outcome",)


def test_agreement_gates_only_when_given_a_minimum(one_result: ShadowResult) -> None:
    cases = ten_cases(one_result)

    held = agreement(cases, ShadowThresholds(min_agreement=0.7))
    missed = agreement(cases, ShadowThresholds(min_agreement=0.71))
    nothing = agreement([], ShadowThresholds(min_agreement=0.0))

    assert (held.passed, held.explanation) == (
        True,
        "agreement 0.70 (7 of 10 cases) >= 0.70",
    )
    assert (missed.passed, missed.explanation) == (
        False,
        "agreement 0.70 (7 of 10 cases) < 0.71",
    )
    assert (nothing.passed, nothing.explanation) == (
        False,
        "no shadow cases ran; the gate needs at least one (min 0.00)",
    )


def test_a_single_case_gates_on_its_agreement_when_given_a_minimum() -> None:
    scenario = timeout_scenario(CAREFUL_REFERENCE)

    reported = run_shadow(scenario, naive_refund_agent, seed=0)
    gated = run_shadow(
        scenario,
        naive_refund_agent,
        seed=0,
        thresholds=ShadowThresholds(min_agreement=1.0),
    )

    assert reported.passed
    assert not gated.passed


def test_thresholds_out_of_range_are_refused_with_the_fix() -> None:
    with pytest.raises(HarnessError) as caught:
        ShadowThresholds(relative=1.0)
    assert str(caught.value) == (
        "shadow threshold relative=1.0 is out of range\n"
        "    fix: give a fraction from 0 up to (not including) 1, e.g. relative=0.2"
    )
    with pytest.raises(HarnessError) as caught:
        ShadowThresholds(min_agreement=1.5)
    assert str(caught.value) == (
        "shadow threshold min_agreement=1.5 is out of range\n"
        "    fix: give an agreement rate from 0 to 1, e.g. 0.9, or None to report"
        " without failing"
    )


# -- determinism and misuse --------------------------------------------------------


def test_the_same_inputs_give_the_same_shadow_report() -> None:
    def report() -> dict[str, Any]:
        return run_shadow(
            payments_scenario("refund_ambiguous_timeout"),
            naive_refund_agent,
            seed=7,
            reference_agent=careful_refund_agent,
        ).to_json()

    first, second = report(), report()

    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert first["shared_untouched"] is True


def test_shadow_without_a_reference_tells_how_to_give_one() -> None:
    with pytest.raises(HarnessError) as caught:
        run_shadow(
            payments_scenario("refund_ambiguous_timeout"), naive_refund_agent, seed=0
        )

    assert str(caught.value) == (
        "scenario 'refund_ambiguous_timeout': shadow mode has nothing to compare"
        " the candidate with\n"
        "    fix: add 'shadow: reference: {outcome: done, escalation: none,"
        " actions: [...]}' to the scenario, or pass --aqe-reference-agent"
        " MODULE:CALLABLE"
    )


def test_a_fork_that_differs_from_the_shared_world_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    digests = iter(["a" * 64, "b" * 64])
    monkeypatch.setattr(shadow, "state_digest", lambda world: next(digests))

    with pytest.raises(HarnessError) as caught:
        run_shadow(timeout_scenario(CAREFUL_REFERENCE), careful_refund_agent, seed=3)

    assert str(caught.value) == (
        "scenario 'refund_ambiguous_timeout': the candidate's fork differs from"
        " the shared world (state bbbbbbbbbbbb != aaaaaaaaaaaa)\n"
        "    fix: a harness bug (the same scenario and seed must build the same"
        " world); report it with the scenario and seed 3"
    )


def test_the_schema_offers_the_reason_codes_ops_accepts() -> None:
    from fakes.ops import REASONS
    from harness.scenario.loader import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    reference = schema["properties"]["shadow"]["properties"]["reference"]
    codes = reference["properties"]["escalation"]["enum"]

    assert set(codes) == {*REASONS, "none", None}
