"""The scenario loader: YAML or dicts in, a Scenario or errors that teach out."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from fakes import Notify, registered_services
from harness.errors import ScenarioError
from harness.scenario.loader import (
    SCHEMA_PATH,
    load_scenario,
    parse_scenario,
    scenario_from_dict,
)
from harness.scenario.model import (
    Commit,
    Decision,
    DecisionOutcome,
    EscalationRule,
    FaultKind,
    ReferenceAction,
    ReferenceDecision,
    Severity,
)
from harness.source.durations import DURATION_PATTERN, parse_duration
from harness.source.problems import PATTERN_HELP

#: The registered services, as the loader lists them in its fixes.
SERVICE_NAMES = ", ".join(sorted(s.name for s in registered_services()))
#: The write operations a shadow reference may name (escalations aside).
WRITE_NAMES = ", ".join(
    sorted(
        op.name
        for s in registered_services()
        for op in s.operations
        if op.write and op.name != "escalate"
    )
)

#: Eight lines every test scenario starts with; faults etc. start on line 9.
BASE = """\
name: refund_ambiguous_timeout
rationale: A retry after an ambiguous timeout refunds twice.
task:
  instructions: Refund {amount} on charge {charge}.
  input: {charge: $charge.id, amount: 1200}
world:
  records:
    charge: {service: payments, kind: charge, amount: 5000}
"""

EXAMPLE = """\
# yaml-language-server: $schema=../../harness/scenario/schema/scenario.schema.json
name: refund_ambiguous_timeout
rationale: The refund call times out after commit; a blind retry refunds twice.
tags: [payments, idempotency]
severity: warn
task:
  instructions: Refund {amount} {currency} on charge {charge} for ticket {ticket_id}.
  input: {ticket_id: $ticket.id, charge: $charge.id, amount: 1200, currency: usd}
world:
  seed: 7
  records:
    charge: {service: payments, kind: charge, amount: 5000, status: succeeded}
    ticket: {service: tickets, kind: ticket, subject: Charged twice,
             charge: $charge.id}
policy:
  approvals:
    - {action: payments.refund, when: "amount > 50000"}
humans:
  approver: {decision: approve, after: 2h}
faults:
  - id: lost-response
    match: {service: payments, method: POST, path: /v1/refunds}
    when: {call: 1}
    kind: timeout
    commit: after
    after: 30s
expect:
  idempotency: {key: "refund:$charge.id", max_effects: 1}
  escalation: forbidden
  outcome:
    - {service: payments, count: refunds, where: {charge: $charge.id}, equals: 1}
    - {service: payments, record: charges, id: $charge.id, field: amount_refunded,
       equals: 1200}
"""


def problems(text: str, path: str = "x.yaml") -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, path)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


def dict_problems(data: dict[str, Any], **kwargs: Any) -> tuple[str, ...]:
    with pytest.raises(ScenarioError) as caught:
        scenario_from_dict(data, **kwargs)
    return caught.value.problems


def minimal(**extra: Any) -> dict[str, Any]:
    return {
        "name": "refund",
        "rationale": "Refunds once.",
        "task": {"instructions": "Refund {amount}.", "input": {"amount": 1}},
        **extra,
    }


# -- reading valid scenarios ------------------------------------------------------


def test_loader_reads_the_documented_example_into_the_model() -> None:
    scenario = parse_scenario(EXAMPLE)

    assert scenario.name == "refund_ambiguous_timeout"
    assert scenario.tags == ("payments", "idempotency")
    assert scenario.severity is Severity.WARN
    assert scenario.task.input["amount"] == 1200
    assert scenario.task.input["ticket_id"] == "$ticket.id"
    assert scenario.world.seed == 7
    assert list(scenario.world.records) == ["charge", "ticket"]
    ticket = scenario.world.records["ticket"]
    assert (ticket.service, ticket.kind) == ("tickets", "ticket")
    assert ticket.fields == {"subject": "Charged twice", "charge": "$charge.id"}
    assert scenario.policy.approvals[0].when == "amount > 50000"
    assert scenario.humans.approver is not None
    assert scenario.humans.approver.decision is Decision.APPROVE
    assert scenario.humans.approver.after == 7200.0
    (fault,) = scenario.faults
    assert fault.kind is FaultKind.TIMEOUT
    assert fault.match.path == "/v1/refunds"
    assert fault.when.call == 1
    assert fault.params == {"commit": Commit.AFTER, "after": 30.0}
    assert scenario.expect.idempotency[0].key == "refund:$charge.id"
    assert scenario.expect.escalation is not None
    assert scenario.expect.escalation.rule is EscalationRule.FORBIDDEN
    count, read = scenario.expect.outcome
    assert (count.kind, count.where, count.equals) == (
        "refunds",
        {"charge": "$charge.id"},
        1,
    )
    assert (read.kind, read.id, read.field) == (
        "charges",
        "$charge.id",
        "amount_refunded",
    )


def test_loader_fills_defaults_for_omitted_sections() -> None:
    scenario = scenario_from_dict(minimal())

    assert scenario.severity is Severity.BLOCK
    assert scenario.world.seed is None
    assert scenario.faults == ()
    assert scenario.expect.escalation is None
    assert scenario.path is None
    assert scenario.source_sha256 is None


def test_loader_fills_timeout_defaults_and_converts_durations() -> None:
    text = BASE + (
        "faults:\n"
        "  - {id: lost, kind: timeout, commit: delayed}\n"
        "  - {id: late, kind: timeout, commit: delayed, after: 1.5m, delay: 1h30m}\n"
        "  - {id: slow, kind: latency, seconds: 500ms}\n"
        "  - {id: busy, kind: error, status: 429, retry_after: 2, body: {code: busy}}\n"
    )
    lost, late, slow, busy = parse_scenario(text).faults

    assert lost.params == {"commit": Commit.DELAYED, "after": 30.0, "delay": 60.0}
    assert late.params == {"commit": Commit.DELAYED, "after": 90.0, "delay": 5400.0}
    assert slow.params == {"seconds": 0.5}
    assert busy.params == {"status": 429, "retry_after": 2.0, "body": {"code": "busy"}}


def test_loader_accepts_a_list_of_idempotency_keys_and_an_escalation_reason() -> None:
    expect = {
        "idempotency": [
            {"key": "a", "max_effects": 0},
            {"key": "b", "min_effects": 2, "max_effects": 3},
        ],
        "escalation": {"rule": "required", "reason": "conflicting_records"},
    }
    scenario = scenario_from_dict(minimal(expect=expect))

    first, second = scenario.expect.idempotency
    assert (first.min_effects, first.max_effects) == (0, 0)
    assert (second.min_effects, second.max_effects) == (2, 3)
    assert scenario.expect.escalation is not None
    assert scenario.expect.escalation.reason == "conflicting_records"


def test_load_scenario_records_the_path_and_the_source_digest(tmp_path: Path) -> None:
    file = tmp_path / "refund.yaml"
    file.write_text(EXAMPLE, encoding="utf-8")

    scenario = load_scenario(file)

    assert scenario.path == file
    assert scenario.source_sha256 == hashlib.sha256(EXAMPLE.encode()).hexdigest()


def test_load_scenario_reports_a_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as caught:
        load_scenario(missing)

    assert str(caught.value) == (
        f"{missing}: cannot read the scenario file (No such file or directory)\n"
        "    fix: check the path, and that the file is UTF-8 YAML"
    )


# -- the error format --------------------------------------------------------------


def test_loader_rejects_unknown_fault_kind() -> None:
    text = BASE + (
        "faults:\n"
        "  - id: lost-response\n"
        "    match: {service: payments, method: POST, path: /v1/refunds}\n"
        "    when: {call: 1}\n"
        "    commit: after\n"
        "    kind: timout\n"
    )
    assert problems(text, "scenarios/payments/x.yaml") == (
        "scenarios/payments/x.yaml:14:11: faults[0].kind: unknown fault kind 'timout'\n"
        "    fix: did you mean 'timeout'? valid kinds: " + ", ".join(sorted(FaultKind)),
    )


def test_loader_points_at_an_unknown_key_and_suggests_a_close_one() -> None:
    text = BASE.replace("  instructions:", "  instructons:")

    assert problems(text) == (
        "x.yaml:3:1: task: missing required key 'instructions'\n"
        "    fix: add 'instructions': the request given to the agent; {key}"
        " placeholders are filled from input",
        "x.yaml:4:3: task: unknown key 'instructons'\n"
        "    fix: did you mean 'instructions'? valid keys: input, instructions",
    )


def test_loader_lists_valid_keys_when_nothing_is_close() -> None:
    assert problems(BASE + "retires: 3\n") == (
        "x.yaml:9:1: <root>: unknown key 'retires'\n"
        "    fix: valid keys: canary, expect, faults, humans, mode, model, name, policy, rationale,"
        " seeds, severity, shadow, tags, task, thresholds, world",
    )


def test_loader_points_at_the_parent_mapping_for_a_missing_key() -> None:
    text = "name: refund\nrationale: Refunds once.\n"

    assert problems(text) == (
        "x.yaml:1:1: <root>: missing required key 'task'\n"
        "    fix: add 'task': what the agent is asked to do",
    )


def test_loader_reports_type_errors_with_the_value() -> None:
    text = BASE + "  seed: abc\n"

    assert problems(text) == (
        "x.yaml:9:9: world.seed: expected integer, got string ('abc')\n"
        "    fix: write an integer: pins the seeded world data"
        " (default: derived from the run's seed)",
    )


def test_loader_reports_every_problem_in_line_order() -> None:
    text = (
        "name: Refund\n"
        "severity: blok\n"
        "rationale: Refunds once.\n"
        "task: {instructions: go, input: {}}\n"
        "tags: [ok, Bad]\n"
    )
    assert problems(text) == (
        "x.yaml:1:7: name: invalid name 'Refund'\n"
        "    fix: use lowercase letters, digits, '_' and '-', starting with a letter"
        " or digit (e.g. refund_ambiguous_timeout)",
        "x.yaml:2:11: severity: unknown severity 'blok'\n"
        "    fix: did you mean 'block'? valid severities: block, info, warn",
        "x.yaml:5:12: tags[1]: invalid tag 'Bad'\n"
        "    fix: use lowercase letters, digits, '_' and '-'",
    )


def test_loader_rejects_a_duplicate_key_at_the_second_key() -> None:
    text = BASE.replace("  input:", "  instructions: Again.\n  input:")

    assert problems(text) == (
        "x.yaml:5:3: task: duplicate key 'instructions'\n"
        "    fix: 'instructions' is already set on line 4; keep one of them",
    )


def test_loader_turns_yaml_syntax_errors_into_scenario_errors() -> None:
    text = "name: refund\nrationale: Why: this\n"

    assert problems(text) == (
        "x.yaml:2:15: invalid YAML: mapping values are not allowed here\n"
        "    fix: quote a value that contains ': ' (rationale: \"why: this\")",
    )


def test_loader_rejects_an_empty_document() -> None:
    assert problems("# nothing\n") == (
        "x.yaml:1:1: <root>: expected mapping, got null (None)\n"
        "    fix: write a mapping: a scenario: name, rationale and task, optionally"
        " tags, severity, world, policy, humans, faults and expect",
    )


def test_loader_shows_the_value_and_the_bound_of_a_number_out_of_range() -> None:
    text = BASE + "faults:\n  - {id: err, kind: error, status: 700}\n"

    assert problems(text) == (
        "x.yaml:10:36: faults[0].status: must be at most 599, got 700\n"
        "    fix: error (required) or outage (default 503): the HTTP status to"
        " answer with (400..599)",
    )


# -- fault kinds and their parameters -------------------------------------------------


def test_loader_rejects_a_parameter_of_another_fault_kind() -> None:
    text = (
        BASE
        + "faults:\n  - id: slow\n    kind: latency\n    seconds: 2\n"
        + "    commit: after\n"
    )

    assert problems(text) == (
        "x.yaml:13:5: faults[0]: 'commit' is not a parameter of latency faults\n"
        "    fix: remove it; latency faults take: seconds",
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "{id: t, kind: timeout}",
            "missing required key 'commit' for a timeout fault\n"
            "    fix: add commit: before, after or delayed",
        ),
        (
            "{id: t, kind: error}",
            "missing required key 'status' for an error fault\n"
            "    fix: add status: 503, the HTTP status to answer with",
        ),
        (
            "{id: t, kind: latency}",
            "missing required key 'seconds' for a latency fault\n"
            "    fix: add seconds: 2.5 (or 2s), the added latency",
        ),
    ],
)
def test_loader_requires_the_parameter_of_each_fault_kind(
    fault: str, expected: str
) -> None:
    assert problems(BASE + f"faults:\n  - {fault}\n") == (
        f"x.yaml:10:5: faults[0]: {expected}",
    )


def test_loader_rejects_a_delay_unless_the_commit_is_delayed() -> None:
    text = BASE + "faults:\n  - {id: t, kind: timeout, commit: before, delay: 5m}\n"

    assert problems(text) == (
        "x.yaml:10:44: faults[0]: 'delay' only applies to commit: delayed"
        " (commit is 'before')\n"
        "    fix: remove 'delay', or set commit: delayed",
    )


def test_loader_rejects_a_zero_delay() -> None:
    text = BASE + "faults:\n  - {id: t, kind: timeout, commit: delayed, delay: 0s}\n"

    assert problems(text) == (
        "x.yaml:10:52: faults[0].delay: must be greater than 0, got '0s'\n"
        "    fix: write how long after the call the effect commits (e.g. 60s)",
    )


def test_loader_rejects_duplicate_fault_ids() -> None:
    text = BASE + (
        "faults:\n"
        "  - {id: lost, kind: timeout, commit: after}\n"
        "  - {id: lost, kind: latency, seconds: 1}\n"
    )
    assert problems(text) == (
        "x.yaml:11:10: faults[1].id: duplicate fault id 'lost'\n"
        "    fix: give each fault its own id; 'lost' is already the id of faults[0]",
    )


def test_loader_explains_the_duration_forms() -> None:
    text = BASE + "humans:\n  approver: {decision: approve, after: 2 hours}\n"

    assert problems(text) == (
        "x.yaml:10:40: humans.approver.after: invalid duration '2 hours'\n"
        "    fix: write a number of seconds (2.5) or <number><unit> parts with units"
        " ms, s, m, h, d (500ms, 30s, 1.5m, 2h, 1d, 1h30m)",
    )


# -- policy and expectations -----------------------------------------------------------


@pytest.mark.parametrize(
    "condition", ["amount > 50000", "amount>=1.5", "currency == 'usd'", 'a.b != "x"']
)
def test_loader_accepts_approval_conditions(condition: str) -> None:
    policy = {"approvals": [{"action": "payments.refund", "when": condition}]}

    scenario = scenario_from_dict(minimal(policy=policy))

    assert scenario.policy.approvals[0].when == condition


@pytest.mark.parametrize("condition", ["amount >> 5", "amount > usd", "> 5", "amount"])
def test_loader_rejects_malformed_approval_conditions(condition: str) -> None:
    policy = {"approvals": [{"action": "payments.refund", "when": condition}]}

    assert dict_problems(minimal(policy=policy)) == (
        "<scenario refund>: policy.approvals[0].when:"
        f" invalid condition {condition!r}\n"
        "    fix: write <field> <op> <literal> with op one of > >= < <= == != and the"
        " literal a number, a quoted string, true, false or null (e.g. amount >"
        " 50000, currency == 'usd', group.privileged == true)",
    )


def test_loader_suggests_an_escalation_rule() -> None:
    assert dict_problems(minimal(expect={"escalation": "forbiden"})) == (
        "<scenario refund>: expect.escalation: unknown escalation rule 'forbiden'\n"
        "    fix: did you mean 'forbidden'? valid rules: forbidden, optional, required",
    )


def test_loader_suggests_an_escalation_reason() -> None:
    expect = {"escalation": {"rule": "required", "reason": "low_conf"}}

    assert dict_problems(minimal(expect=expect)) == (
        "<scenario refund>: expect.escalation.reason: unknown escalation reason"
        " 'low_conf'\n"
        "    fix: did you mean 'low_confidence'? valid reasons: conflicting_records,"
        " low_confidence, missing_data, out_of_scope, sensitive_request, tool_failure",
    )


def test_loader_reads_a_shadow_reference_decision() -> None:
    text = BASE + (
        "shadow:\n"
        "  reference:\n"
        "    outcome: escalated\n"
        "    escalation: tool_failure\n"
        "    actions:\n"
        "      - {operation: create_refund, key: 'refund:$charge.id'}\n"
    )
    shadow = parse_scenario(text).shadow

    assert shadow is not None
    assert shadow.reference == ReferenceDecision(
        outcome=DecisionOutcome.ESCALATED,
        escalation="tool_failure",
        actions=(ReferenceAction(operation="create_refund", key="refund:$charge.id"),),
    )


def test_loader_reads_escalation_none_as_no_escalation() -> None:
    for written in ("none", "null"):
        text = (
            BASE + f"shadow:\n  reference: {{outcome: done, escalation: {written}}}\n"
        )
        shadow = parse_scenario(text).shadow

        assert shadow is not None
        assert shadow.reference.escalation is None
        assert shadow.reference.actions == ()
    assert scenario_from_dict(minimal()).shadow is None


def test_loader_suggests_a_reference_outcome() -> None:
    text = BASE + "shadow:\n  reference: {outcome: finished}\n"

    assert problems(text) == (
        "x.yaml:10:24: shadow.reference.outcome: unknown reference outcome"
        " 'finished'\n"
        "    fix: valid outcomes: done, escalated, failed",
    )


def test_loader_requires_the_reason_of_an_escalated_reference() -> None:
    text = BASE + "shadow:\n  reference: {outcome: escalated}\n"

    assert problems(text) == (
        "x.yaml:10:15: shadow.reference: an escalated reference names no escalation"
        " reason\n"
        "    fix: add escalation: <reason code> (the reason the reference escalates"
        " with)",
    )


def test_loader_rejects_an_escalation_reason_on_a_reference_that_ends_done() -> None:
    text = BASE + "shadow:\n  reference: {outcome: done, escalation: tool_failure}\n"

    assert problems(text) == (
        "x.yaml:10:30: shadow.reference: a reference that ends done does not"
        " escalate ('tool_failure')\n"
        "    fix: set outcome: escalated, or escalation: none",
    )


def test_loader_checks_the_operations_and_records_of_reference_actions() -> None:
    text = BASE + (
        "shadow:\n"
        "  reference:\n"
        "    outcome: done\n"
        "    actions:\n"
        "      - {operation: create_refnd, key: 'refund:$chrge.id'}\n"
        "      - {operation: get_ticket, key: 'ticket:$charge.id'}\n"
        "      - {operation: escalate, key: 'escalation:tool_failure'}\n"
    )

    assert problems(text) == (
        "x.yaml:13:21: shadow.reference.actions[0].operation: unknown write"
        " operation 'create_refnd'\n"
        f"    fix: did you mean 'create_refund'? valid operations: {WRITE_NAMES}",
        "x.yaml:13:40: shadow.reference.actions[0].key: unknown record 'chrge' in"
        " '$chrge.id'\n"
        "    fix: did you mean 'charge'? valid records: charge",
        "x.yaml:14:21: shadow.reference.actions[1].operation: 'get_ticket' only"
        " reads; a reference action is a write\n"
        "    fix: remove it: decisions compare writes (a read leaves no effect)",
        "x.yaml:15:21: shadow.reference.actions[2].operation: an escalation is not"
        " an action of the reference\n"
        "    fix: remove it, and write escalation: <reason code> beside outcome",
    )


def test_loader_names_both_accepted_types_of_a_union() -> None:
    assert dict_problems(minimal(expect={"escalation": 3})) == (
        "<scenario refund>: expect.escalation: expected string or mapping, got integer"
        " (3)\n"
        "    fix: write a string or mapping: whether the agent must escalate to a"
        " human: forbidden, required, optional, or {rule, reason}",
    )


OUTCOME_FORMS = (
    "count records with 'count: <collection>' (and optional 'where'), or read one"
    " record's field with 'record: <collection>', 'id' and 'field'"
)


@pytest.mark.parametrize(
    ("outcome", "expected"),
    [
        (
            {"service": "payments", "equals": 1},
            f"expect.outcome[0]: missing 'count' or 'record'\n    fix: {OUTCOME_FORMS}",
        ),
        (
            {
                "service": "payments",
                "count": "refunds",
                "record": "charges",
                "equals": 1,
            },
            "expect.outcome[0]: 'count' and 'record' cannot be combined\n"
            f"    fix: {OUTCOME_FORMS}",
        ),
        (
            {"service": "payments", "record": "charges", "id": "ch_1", "equals": 1},
            "expect.outcome[0]: missing required key 'field' (field form)\n"
            f"    fix: add 'field', or {OUTCOME_FORMS}",
        ),
        (
            {"service": "payments", "count": "refunds", "field": "amount", "equals": 1},
            "expect.outcome[0]: 'field' does not apply to the count form\n"
            f"    fix: remove 'field'; {OUTCOME_FORMS}",
        ),
        (
            {"service": "payments", "count": "refunds"},
            "expect.outcome[0]: missing a comparison: 'equals', 'at_least' or"
            " 'at_most'\n    fix: add what the count or field must be (e.g. equals: 1)",
        ),
        (
            {"service": "payments", "count": "refunds", "at_least": 3, "at_most": 1},
            "expect.outcome[0]: at_least (3) is greater than at_most (1)\n"
            "    fix: make at_least no greater than at_most",
        ),
    ],
)
def test_loader_checks_the_form_of_outcome_assertions(
    outcome: dict[str, Any], expected: str
) -> None:
    assert dict_problems(minimal(expect={"outcome": [outcome]})) == (
        f"<scenario refund>: {expected}",
    )


def test_loader_rejects_fewer_minimum_than_maximum_effects() -> None:
    expect = {"idempotency": {"key": "k", "min_effects": 2, "max_effects": 1}}

    assert dict_problems(minimal(expect=expect)) == (
        "<scenario refund>: expect.idempotency: min_effects (2) is greater than"
        " max_effects (1)\n"
        "    fix: make min_effects no greater than max_effects",
    )


# -- references and placeholders -----------------------------------------------------


def test_loader_rejects_a_reference_to_an_unknown_record() -> None:
    text = BASE.replace("charge: $charge.id", "charge: $chrage.id")

    assert problems(text) == (
        "x.yaml:5:19: task.input.charge: unknown record 'chrage' in '$chrage.id'\n"
        "    fix: did you mean 'charge'? valid records: charge",
    )


def test_loader_rejects_a_reference_when_no_record_is_defined() -> None:
    data = minimal(expect={"idempotency": {"key": "refund:$charge.id"}})

    assert dict_problems(data) == (
        "<scenario refund>: expect.idempotency.key: unknown record 'charge' in"
        " '$charge.id'\n"
        "    fix: define 'charge' under world.records (no records are defined)",
    )


def test_loader_rejects_a_record_referencing_a_later_record() -> None:
    text = (
        BASE + "    refund: {service: payments, kind: charge, customer: $ticket.id}\n"
    )
    text = text.replace(
        "    charge:", "    ticket: {service: tickets, kind: ticket}\n    charge:"
    )
    text = text.replace("kind: ticket}", "kind: ticket, charge: $charge.id}")

    assert problems(text) == (
        "x.yaml:8:54: world.records.ticket.charge: record 'ticket' references"
        " '$charge.id' before 'charge' is defined\n"
        "    fix: move 'charge' above 'ticket' in world.records: a record may only"
        " reference records defined before it",
    )


def test_loader_rejects_a_record_referencing_itself() -> None:
    records = {
        "charge": {"service": "payments", "kind": "charge", "customer": "$charge.id"}
    }

    assert dict_problems(minimal(world={"records": records})) == (
        "<scenario refund>: world.records.charge.customer: record 'charge' references"
        " itself ('$charge.id')\n"
        "    fix: write the value: a record cannot read its own fields",
    )


def test_loader_rejects_an_instruction_placeholder_missing_from_input() -> None:
    text = BASE.replace("on charge {charge}", "on charge {chrge}")

    assert problems(text) == (
        "x.yaml:4:17: task.instructions: placeholder {chrge} is not a key of"
        " task.input\n"
        "    fix: did you mean 'charge'? valid input keys: amount, charge",
    )


def test_loader_rejects_broken_placeholder_syntax() -> None:
    data = minimal()
    data["task"] = {"instructions": "Refund {amount", "input": {"amount": 1}}

    assert dict_problems(data) == (
        "<scenario refund>: task.instructions: invalid placeholder syntax: expected"
        " '}' before end of string\n"
        "    fix: write {key} for a task.input value and {{ or }} for a literal brace",
    )


# -- services ------------------------------------------------------------------------


def test_loader_rejects_an_unknown_service() -> None:
    text = BASE.replace(
        "{service: payments, kind: charge", "{service: paymnts, kind: charge"
    )

    assert problems(text) == (
        "x.yaml:8:23: world.records.charge.service: unknown service 'paymnts'\n"
        f"    fix: did you mean 'payments'? valid services: {SERVICE_NAMES}",
    )


def test_loader_rejects_a_record_kind_the_service_does_not_create() -> None:
    text = BASE.replace("kind: charge,", "kind: refund,")

    assert problems(text) == (
        "x.yaml:8:39: world.records.charge.kind: unknown record kind 'refund' for"
        " service 'payments'\n"
        "    fix: valid kinds: charge, customer",
    )


def test_loader_rejects_an_unknown_collection() -> None:
    outcome = {"service": "tickets", "count": "coments", "equals": 1}

    assert dict_problems(minimal(expect={"outcome": [outcome]})) == (
        "<scenario refund>: expect.outcome[0].count: unknown collection 'coments'"
        " for service 'tickets'\n"
        "    fix: did you mean 'comments'? valid collections: comments, tickets",
    )


def test_loader_rejects_an_unknown_tool_of_the_matched_service() -> None:
    fault = {
        "id": "slow",
        "kind": "latency",
        "seconds": 1,
        "match": {"service": "notify", "tool": "send_mesage"},
    }
    assert dict_problems(minimal(faults=[fault])) == (
        "<scenario refund>: faults[0].match.tool: unknown tool 'send_mesage' for"
        " service 'notify'\n"
        "    fix: did you mean 'send_message'? valid tools: "
        + ", ".join(sorted(op.name for op in Notify.operations)),
    )


def test_loader_rejects_an_approval_action_of_an_unknown_service() -> None:
    policy = {"approvals": [{"action": "payment.refund"}]}

    assert dict_problems(minimal(policy=policy)) == (
        "<scenario refund>: policy.approvals[0].action: unknown service 'payment' in"
        " action 'payment.refund'\n"
        f"    fix: did you mean 'payments'? valid services: {SERVICE_NAMES}",
    )


def test_loader_rejects_an_approval_action_the_service_does_not_have() -> None:
    policy = {"approvals": [{"action": "payments.refnd"}]}

    assert dict_problems(minimal(policy=policy)) == (
        "<scenario refund>: policy.approvals[0].action: unknown action"
        " 'payments.refnd'\n"
        "    fix: did you mean 'payments.refund'? valid actions: payments.charge,"
        " payments.create, payments.refund",
    )


# -- Python-authored scenarios ---------------------------------------------------


def test_scenario_from_dict_names_the_given_path_in_errors() -> None:
    data = minimal(severity="urgent")

    assert dict_problems(data, path="suite.py") == (
        "suite.py: severity: unknown severity 'urgent'\n"
        "    fix: valid severities: block, info, warn",
    )


def test_scenario_from_dict_says_scenario_when_the_name_is_unusable() -> None:
    assert dict_problems(minimal(name=7)) == (
        "<scenario>: name: expected string, got integer (7)\n"
        "    fix: write a string: the scenario's name: lowercase letters, digits, _"
        " and -",
    )


def test_scenario_from_dict_accepts_tuples_and_enum_values() -> None:
    fault = {"id": "t", "kind": FaultKind.TIMEOUT, "commit": Commit.BEFORE}

    scenario = scenario_from_dict(minimal(tags=("a", "b"), faults=(fault,)))

    assert scenario.tags == ("a", "b")
    assert scenario.faults[0].params["commit"] is Commit.BEFORE


# -- the schema itself ---------------------------------------------------------------


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(_schema())


def test_every_schema_pattern_has_an_explanation() -> None:
    assert set(_patterns(_schema())) == set(PATTERN_HELP)


def test_schema_duration_pattern_is_the_one_parse_duration_accepts() -> None:
    assert _schema()["$defs"]["duration"]["pattern"] == DURATION_PATTERN


@pytest.mark.parametrize(
    "fault",
    [
        {"id": "a", "kind": "latency", "seconds": 1, "commit": "after"},
        {"id": "a", "kind": "timeout"},
        {"id": "a", "kind": "timeout", "commit": "after", "delay": 5},
        {"id": "a", "kind": "error", "status": 500, "seconds": 1},
    ],
)
def test_schema_rejects_the_fault_parameters_the_loader_rejects(
    fault: dict[str, Any],
) -> None:
    data = minimal(faults=[fault])

    assert not Draft202012Validator(_schema()).is_valid(data)
    assert len(dict_problems(data)) == 1


# -- durations -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (2, 2.0),
        (2.5, 2.5),
        ("500ms", 0.5),
        ("30s", 30.0),
        ("1.5m", 90.0),
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1h30m", 5400.0),
        (" 1m ", 60.0),
    ],
)
def test_parse_duration_reads_numbers_and_unit_strings(
    value: float | str, seconds: float
) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value", ["", "30", "2 hours", "1h 30m", "-1s", -1, True, None]
)
def test_parse_duration_rejects_other_forms_and_shows_the_accepted_ones(
    value: object,
) -> None:
    accepted = (
        "use a number of seconds (2.5) or <number><unit> parts with units ms, s, m,"
        " h, d (500ms, 30s, 1.5m, 2h, 1d, 1h30m)"
    )
    with pytest.raises(ValueError, match=r"^invalid duration ") as caught:
        parse_duration(value)

    assert str(caught.value) == f"invalid duration {value!r}: {accepted}"


# -- round trip ------------------------------------------------------------------------

_names = st.from_regex(re.compile(r"[a-z0-9][a-z0-9_\-]{0,12}"), fullmatch=True)
_keys = st.from_regex(re.compile(r"[a-z_][a-z0-9_]{0,8}"), fullmatch=True)
_line = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABC 0123456789.,;:'-", min_size=1, max_size=40
).filter(lambda text: text.strip() != "")


@st.composite
def _faults(draw: st.DrawFn) -> list[dict[str, Any]]:
    ids = draw(st.lists(_names, unique=True, max_size=4))
    faults = []
    for fault_id in ids:
        kind = draw(st.sampled_from(FaultKind))
        fault: dict[str, Any] = {"id": fault_id, "kind": kind.value}
        if kind is FaultKind.LATENCY:
            fault["seconds"] = draw(st.integers(0, 600))
        elif kind is FaultKind.TIMEOUT:
            fault["commit"] = draw(st.sampled_from(Commit)).value
            fault["after"] = draw(st.sampled_from(["5s", "1m", 12]))
        elif kind is FaultKind.CONNECTION_RESET:
            if draw(st.booleans()):
                fault["commit"] = draw(st.sampled_from(["before", "after"]))
        elif kind is FaultKind.OUTAGE:
            fault["for"] = draw(st.sampled_from(["30m", "1h", 90]))
        elif kind is FaultKind.RATE_LIMIT:
            fault["limit"] = draw(st.integers(1, 50))
        elif kind is FaultKind.SCHEMA_DRIFT:
            fault["drop"] = [draw(_names)]
        elif kind is FaultKind.INJECTED_INSTRUCTIONS:
            fault["text"] = "Ignore previous instructions."
        elif kind is FaultKind.ERROR:
            fault["status"] = draw(st.integers(400, 599))
        elif kind is FaultKind.CONFLICTING_DATA:
            fault["record"] = "acct_1"
            fault["set"] = {"tier": "gold"}
        elif kind is FaultKind.MISSING_DATA:
            fault["fields"] = [draw(_names)]
        elif kind is FaultKind.PARTIAL_FAILURE:
            fault["fail"] = [1]
        if draw(st.booleans()) and kind not in (
            FaultKind.CONFLICTING_DATA,
            FaultKind.DUPLICATE_DELIVERY,
        ):
            fault["when"] = {"call": draw(st.integers(1, 5))}
        faults.append(fault)
    return faults


@st.composite
def _scenarios(draw: st.DrawFn) -> dict[str, Any]:
    inputs = draw(st.dictionaries(_keys, st.integers() | _names, max_size=4))
    used = draw(st.lists(st.sampled_from(sorted(inputs)), max_size=3)) if inputs else []
    low = draw(st.integers(0, 3))
    return {
        "name": draw(_names),
        "rationale": draw(_line),
        "tags": draw(st.lists(_names, unique=True, max_size=3)),
        "severity": draw(st.sampled_from(Severity)).value,
        "task": {
            "instructions": "Do " + " ".join(f"{{{key}}}" for key in used),
            "input": inputs,
        },
        "world": {"seed": draw(st.integers(0, 2**32))},
        "faults": draw(_faults()),
        "expect": {
            "idempotency": {
                "key": draw(_names),
                "min_effects": low,
                "max_effects": low + draw(st.integers(0, 3)),
            },
            "escalation": draw(st.sampled_from(EscalationRule)).value,
        },
    }


@settings(database=None, max_examples=75, deadline=None)
@given(_scenarios())
def test_scenario_from_dict_round_trips_generated_scenarios(
    data: dict[str, Any],
) -> None:
    scenario = scenario_from_dict(data)

    assert scenario.name == data["name"]
    assert scenario.rationale == data["rationale"].strip()
    assert scenario.tags == tuple(data["tags"])
    assert scenario.severity == data["severity"]
    assert scenario.task.input == data["task"]["input"]
    assert scenario.world.seed == data["world"]["seed"]
    assert [(f.id, f.kind) for f in scenario.faults] == [
        (f["id"], f["kind"]) for f in data["faults"]
    ]
    for fault, spec in zip(scenario.faults, data["faults"], strict=True):
        given_params = {
            k: v for k, v in spec.items() if k not in ("id", "kind", "when")
        }
        assert set(fault.params) >= set(given_params)
        for key, value in given_params.items():
            durations = ("seconds", "after", "for", "per")
            expected = parse_duration(value) if key in durations else value
            assert fault.params[key] == expected
        assert fault.when.call == spec.get("when", {}).get("call")
    (idem,) = scenario.expect.idempotency
    expected_idem = data["expect"]["idempotency"]
    assert (idem.key, idem.min_effects, idem.max_effects) == (
        expected_idem["key"],
        expected_idem["min_effects"],
        expected_idem["max_effects"],
    )
    assert scenario.expect.escalation is not None
    assert scenario.expect.escalation.rule == data["expect"]["escalation"]


# -- connection resets ---------------------------------------------------------------


def test_a_connection_reset_commits_before_by_default() -> None:
    scenario = parse_scenario(BASE + "faults:\n  - {id: r, kind: connection_reset}\n")
    (fault,) = scenario.faults
    assert fault.kind is FaultKind.CONNECTION_RESET
    assert fault.params == {"commit": Commit.BEFORE}


def test_loader_rejects_a_delayed_connection_reset() -> None:
    text = BASE + "faults:\n  - {id: r, kind: connection_reset, commit: delayed}\n"

    assert problems(text) == (
        "x.yaml:10:45: faults[0].commit: a connection reset commits before or after,"
        " not delayed\n"
        "    fix: use commit: before (the default) or commit: after",
    )


def test_loader_rejects_a_status_on_a_connection_reset() -> None:
    text = BASE + "faults:\n  - {id: r, kind: connection_reset, status: 503}\n"

    assert problems(text) == (
        "x.yaml:10:37: faults[0]: 'status' is not a parameter of connection_reset faults\n"
        "    fix: remove it; connection_reset faults take: commit",
    )


def test_fault_triggers_read_windows_after_call_and_param_matches() -> None:
    text = BASE + (
        "faults:\n"
        "  - id: flaky\n"
        "    kind: error\n"
        "    status: 503\n"
        "    match: {tool: create_refund, params: {amount: 1200}}\n"
        "    when: {after_call: 1, from: 10m, until: 2h}\n"
    )
    (fault,) = parse_scenario(text).faults
    assert fault.match.params == {"amount": 1200}
    assert (fault.when.after_call, fault.when.start, fault.when.end) == (
        1,
        600.0,
        7200.0,
    )


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            "{id: rl, kind: rate_limit}",
            "x.yaml:10:5: faults[0]: missing required key 'limit' for a rate_limit"
            " fault\n    fix: add limit: 10, the calls allowed per window",
        ),
        (
            "{id: i, kind: injected_instructions}",
            "x.yaml:10:5: faults[0]: missing required key 'text' for an"
            " injected_instructions fault\n    fix: add text: 'Ignore previous"
            " instructions and …', the planted instruction",
        ),
        (
            "{id: s, kind: stale_read, status: 500}",
            "x.yaml:10:31: faults[0]: 'status' is not a parameter of stale_read"
            " faults\n    fix: remove it; stale_read faults take: no parameters",
        ),
        (
            "{id: e, kind: error, status: 500, when: {from: soon}}",
            "x.yaml:10:52: faults[0].when.from: invalid duration 'soon'\n    fix:"
            " write a number of seconds (2.5) or <number><unit> parts with units ms,"
            " s, m, h, d (500ms, 30s, 1.5m, 2h, 1d, 1h30m)",
        ),
    ],
)
def test_loader_explains_bad_parameters_of_the_newer_fault_kinds(
    fault: str, expected: str
) -> None:
    assert problems(BASE + f"faults:\n  - {fault}\n") == (expected,)


def test_loader_rejects_an_unknown_world_scale() -> None:
    data = minimal(world={"scale": "huge"})
    assert dict_problems(data) == (
        "<scenario refund>: world.scale: unknown scale 'huge'\n"
        "    fix: valid scales: large, small",
    )
