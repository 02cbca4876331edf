"""The library's workflows, one table row each: the careful agent passes every
scenario of its workflow on every seed and meets every fault, and each flawed agent
is caught by the oracle it was written to trip."""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from harness import RunResult, load_scenario, run_scenario
from harness.agents import library
from harness.scenario.model import Scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SEEDS = (0, 1, 2, 3, 4)

Agent = Callable[..., Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Workflow:
    """One workflow: its scenarios (``scenarios/<name>``), its agents
    (``harness.agents.<name>``) and what must catch each flawed agent."""

    name: str
    #: Every scenario's name starts with it.
    prefix: str
    #: How many scenarios it has (None: five at least).
    scenarios: int | None
    #: (flawed agent, scenario, oracle that must fail on seed 0).
    caught: tuple[tuple[str, str, str], ...]
    #: A scenario every flawed agent still passes: each flaw shows only where its
    #: scenario probes it.
    happy_path: str | None = None
    #: Each flawed agent's docstring names (````oracle````) an oracle it trips.
    docs_name_the_oracle: bool = False

    @property
    def module(self) -> ModuleType:
        return importlib.import_module(f"harness.agents.{self.name}")

    @property
    def files(self) -> list[Path]:
        return sorted((SCENARIOS / self.name).glob("*.yaml"))

    def flawed(self) -> set[str]:
        return {
            name
            for name in self.module.__all__
            if name.endswith("_agent") and name != "careful_agent"
        }


WORKFLOWS = (
    Workflow(
        name="access",
        prefix="access_",
        scenarios=6,
        caught=(
            ("link_sharing_agent", "access_reset_verified_requester", "leakage"),
            ("unverified_reset_agent", "access_reset_requester_not_user", "escalation"),
            ("unverified_reset_agent", "access_reset_requester_not_user", "outcome"),
            ("unverified_reset_agent", "access_reset_suspended_user", "escalation"),
            ("unverified_reset_agent", "access_reset_suspended_user", "trajectory"),
            ("no_approval_agent", "access_grant_privileged_approved", "policy"),
            ("no_approval_agent", "access_grant_privileged_denied", "policy"),
            ("denial_ignoring_agent", "access_grant_privileged_denied", "policy"),
            ("denial_ignoring_agent", "access_grant_privileged_denied", "escalation"),
            ("blind_retry_agent", "access_grant_timeout_after_commit", "idempotency"),
            ("blind_retry_agent", "access_grant_timeout_after_commit", "safe_failure"),
        ),
    ),
    Workflow(
        name="incidents",
        prefix="incidents_",
        scenarios=None,
        caught=(
            ("skip_links_agent", "incidents_linked_change_conflict", "escalation"),
            ("skip_links_agent", "incidents_linked_change_conflict", "outcome"),
            ("skip_links_agent", "incidents_open_change_blocks_closure", "escalation"),
            ("assume_resolved_agent", "incidents_missing_resolution", "escalation"),
            ("assume_resolved_agent", "incidents_missing_resolution", "outcome"),
            ("force_close_agent", "incidents_open_change_blocks_closure", "policy"),
            ("force_close_agent", "incidents_open_change_blocks_closure", "outcome"),
            ("force_close_agent", "incidents_linked_change_conflict", "policy"),
            ("blind_retry_agent", "incidents_comment_timeout", "idempotency"),
            ("blind_retry_agent", "incidents_comment_timeout", "outcome"),
            ("gives_up_agent", "incidents_close_timeout", "idempotency"),
            ("gives_up_agent", "incidents_close_timeout", "safe_failure"),
        ),
        happy_path="incidents_close_resolved",
    ),
    Workflow(
        name="knowledge",
        prefix="knowledge_",
        scenarios=None,
        caught=(
            ("latest_version_agent", "knowledge_stale_policy_version", "outcome"),
            ("latest_version_agent", "knowledge_future_policy_version", "outcome"),
            ("obedient_agent", "knowledge_injection_in_ticket", "injection"),
            ("obedient_agent", "knowledge_injection_in_ticket", "leakage"),
            ("obedient_agent", "knowledge_injection_in_ticket", "policy"),
            ("obedient_agent", "knowledge_injection_in_policy", "injection"),
            ("obedient_agent", "knowledge_injection_in_policy", "policy"),
            ("obedient_agent", "knowledge_injection_in_policy", "outcome"),
            ("trusting_parser_agent", "knowledge_schema_drift", "escalation"),
            ("trusting_parser_agent", "knowledge_schema_drift", "outcome"),
        ),
        happy_path="knowledge_answer_from_policy",
    ),
    Workflow(
        name="leads",
        prefix="lead_",
        scenarios=5,
        caught=(
            ("prospect_emailer_agent", "lead_qualify_and_draft", "policy"),
            ("prospect_emailer_agent", "lead_qualify_and_draft", "outcome"),
            ("prospect_emailer_agent", "lead_intro_needs_approval", "policy"),
            ("rubric_guessing_agent", "lead_missing_rubric", "escalation"),
            ("rubric_guessing_agent", "lead_missing_rubric", "idempotency"),
            ("no_dedupe_agent", "lead_existing_contact", "idempotency"),
            ("no_dedupe_agent", "lead_existing_contact", "outcome"),
            ("resend_on_redelivery_agent", "lead_redelivered", "idempotency"),
        ),
    ),
    Workflow(
        name="renewals",
        prefix="renewal_",
        scenarios=7,
        caught=(
            ("blind_writer_agent", "renewal_concurrent_edit", "outcome"),
            ("blind_writer_agent", "renewal_packet_ok", "trajectory"),
            ("unapproved_discount_agent", "renewal_discount_needs_approval", "policy"),
            (
                "discount_laundering_agent",
                "renewal_discount_without_exception",
                "outcome",
            ),
            (
                "discount_laundering_agent",
                "renewal_discount_without_exception",
                "policy",
            ),
            ("unchecked_agent", "renewal_plan_mismatch", "escalation"),
            ("unchecked_agent", "renewal_usage_missing", "escalation"),
            ("silent_denial_agent", "renewal_discount_approval_denied", "escalation"),
        ),
    ),
    Workflow(
        name="scheduling",
        prefix="scheduling_",
        scenarios=7,
        caught=(
            (
                "oversharing_confirmation_agent",
                "scheduling_book_and_confirm",
                "leakage",
            ),
            ("first_match_agent", "scheduling_duplicate_patient_names", "outcome"),
            ("first_match_agent", "scheduling_duplicate_patient_names", "trajectory"),
            ("insurance_blind_agent", "scheduling_missing_insurance", "escalation"),
            ("insurance_blind_agent", "scheduling_missing_insurance", "outcome"),
            (
                "insurance_blind_agent",
                "scheduling_insurance_missing_from_record",
                "escalation",
            ),
            ("no_fallback_agent", "scheduling_slot_taken_next_open", "outcome"),
            (
                "availability_trusting_agent",
                "scheduling_availability_disagrees",
                "escalation",
            ),
            (
                "availability_trusting_agent",
                "scheduling_availability_disagrees",
                "outcome",
            ),
            (
                "blind_retry_agent",
                "scheduling_booking_timeout_after_commit",
                "idempotency",
            ),
        ),
    ),
    Workflow(
        name="travel",
        prefix="travel_",
        scenarios=5,
        caught=(
            ("overcautious_agent", "travel_within_limit_booked", "trajectory"),
            ("self_approving_agent", "travel_over_limit_manager_approval", "policy"),
            ("self_approving_agent", "travel_approval_denied_not_booked", "policy"),
            ("silent_denial_agent", "travel_approval_denied_not_booked", "escalation"),
            ("impatient_agent", "travel_outage_mid_booking", "safe_failure"),
            ("impatient_agent", "travel_outage_mid_booking", "outcome"),
            ("rebooking_agent", "travel_request_redelivered", "idempotency"),
        ),
        docs_name_the_oracle=True,
    ),
    Workflow(
        name="vendors",
        prefix="vendor_",
        scenarios=6,
        caught=(
            ("duplicate_creating_agent", "vendor_duplicate_tax_id_reused", "outcome"),
            ("duplicate_creating_agent", "vendor_onboard_activate", "trajectory"),
            ("rubber_stamp_agent", "vendor_onboard_activate", "policy"),
            ("rubber_stamp_agent", "vendor_invoice_matched_paid", "policy"),
            ("leaky_notice_agent", "vendor_onboard_activate", "leakage"),
            (
                "abandoning_agent",
                "vendor_onboarding_fault_rolled_back",
                "safe_failure",
            ),
            ("abandoning_agent", "vendor_onboarding_fault_rolled_back", "escalation"),
            ("invoice_rewriting_agent", "vendor_invoice_mismatch_held", "escalation"),
            ("invoice_rewriting_agent", "vendor_invoice_mismatch_held", "outcome"),
            (
                "report_trusting_agent",
                "vendor_payment_run_misreported",
                "idempotency",
            ),
        ),
        docs_name_the_oracle=True,
    ),
)


@cache
def scenario(workflow: str, name: str) -> Scenario:
    return load_scenario(SCENARIOS / workflow / f"{name}.yaml")


def _failures(result: RunResult) -> list[str]:
    return [f"{s.oracle}: {s.explanation}" for s in result.scores if not s.passed]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_each_workflow_has_its_scenarios_named_after_it(workflow: Workflow) -> None:
    loaded = [load_scenario(path) for path in workflow.files]
    names = [each.name for each in loaded]
    if workflow.scenarios is None:
        assert len(names) >= 5, names
    else:
        assert len(names) == workflow.scenarios, names
    assert [n for n, c in Counter(names).items() if c > 1] == []
    for path, each in zip(workflow.files, loaded, strict=True):
        assert each.name == path.stem
        assert each.name.startswith(workflow.prefix)
        assert workflow.name in each.tags
        assert each.task.input["workflow"] == workflow.name


CAREFUL_RUNS = [(w, path) for w in WORKFLOWS for path in w.files]


@pytest.mark.parametrize(
    ("workflow", "path"),
    CAREFUL_RUNS,
    ids=[f"{w.name}-{path.stem}" for w, path in CAREFUL_RUNS],
)
def test_the_careful_agent_passes_every_seed_and_meets_every_fault(
    workflow: Workflow, path: Path
) -> None:
    loaded = load_scenario(path)
    assert loaded.task.input["workflow"] == workflow.name
    assert workflow.name in loaded.tags
    for seed in SEEDS:
        result = run_scenario(loaded, library.careful_agent, seed=seed)
        assert all(s.passed for s in result.scores), f"seed {seed}: {_failures(result)}"
        silent = [c["fault"] for c in result.fault_coverage if c["fired"] < 1]
        assert silent == [], f"seed {seed}: faults that never fired: {silent}"
        assert {c["fault"] for c in result.fault_coverage} >= {
            f.id for f in loaded.faults
        }


CAUGHT = [
    (w, agent, name, oracle) for w in WORKFLOWS for agent, name, oracle in w.caught
]


@pytest.mark.parametrize(
    ("workflow", "agent", "name", "oracle"),
    CAUGHT,
    ids=[f"{w.name}-{agent}-{name}-{oracle}" for w, agent, name, oracle in CAUGHT],
)
def test_each_flawed_agent_is_caught_by_its_oracle(
    workflow: Workflow, agent: str, name: str, oracle: str
) -> None:
    flawed: Agent = getattr(workflow.module, agent)
    result = run_scenario(scenario(workflow.name, name), flawed, seed=0)
    shown = _failures(result)
    assert oracle in result.failed_oracles, "\n".join(shown) or "every oracle passed"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_flawed_agent_is_in_the_table_with_a_docstring(
    workflow: Workflow,
) -> None:
    flawed = workflow.flawed()
    assert flawed == {agent for agent, _, _ in workflow.caught}
    assert {name for _, name, _ in workflow.caught} <= {p.stem for p in workflow.files}
    for name in flawed:
        doc = str(getattr(workflow.module, name).__doc__ or "")
        assert doc.strip(), name
        if workflow.docs_name_the_oracle:
            tripped = {o for agent, _, o in workflow.caught if agent == name}
            assert any(f"``{oracle}``" in doc for oracle in tripped), name


HAPPY = [
    (w, agent)
    for w in WORKFLOWS
    if w.happy_path is not None
    for agent in sorted(w.flawed())
]


@pytest.mark.parametrize(
    ("workflow", "agent"), HAPPY, ids=[f"{w.name}-{agent}" for w, agent in HAPPY]
)
def test_each_flawed_agent_still_passes_the_happy_path(
    workflow: Workflow, agent: str
) -> None:
    """Each flaw shows only where its scenario probes it."""
    assert workflow.happy_path is not None
    flawed: Agent = getattr(workflow.module, agent)
    result = run_scenario(scenario(workflow.name, workflow.happy_path), flawed, seed=0)
    assert all(s.passed for s in result.scores), _failures(result)


# -- what one workflow's careful agent must do besides -----------------------------


def test_the_careful_agent_waits_out_the_outage_and_places_the_order_once() -> None:
    result = run_scenario(
        scenario("travel", "travel_outage_mid_booking"), library.careful_agent, seed=0
    )

    placed = [e for e in result.world.ledger if e.operation == "place_purchase_order"]
    assert len(placed) == 1
    assert placed[0].time >= 45 * 60


def test_a_redelivered_travel_request_changes_nothing_the_second_time() -> None:
    result = run_scenario(
        scenario("travel", "travel_request_redelivered"), library.careful_agent, seed=0
    )

    redelivered_at = 10 * 60
    assert [e.operation for e in result.world.ledger if e.time >= redelivered_at] == []
    assert any(e.time < redelivered_at for e in result.world.ledger)


def test_the_careful_agent_reuses_the_vendor_it_finds_by_tax_id() -> None:
    result = run_scenario(
        scenario("vendors", "vendor_duplicate_tax_id_reused"),
        library.careful_agent,
        seed=0,
    )

    assert result.agent_result is not None
    assert result.agent_result.output == {
        "vendor": result.world.records["existing"]["id"],
        "created": False,
    }
