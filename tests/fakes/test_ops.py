"""Ops, the humans in the loop: escalations, and approvals decided in simulated time."""

from __future__ import annotations

from typing import Any

import pytest

from harness.run import RunSetup
from harness.world.clock import EPOCH
from harness.world.history import EntryType
from tests.fakes.conftest import DAY, HOUR, Door

REASONS = (
    "missing_data",
    "conflicting_records",
    "sensitive_request",
    "low_confidence",
    "out_of_scope",
    "tool_failure",
)
REFUND_APPROVAL: dict[str, Any] = {
    "action": "payments.refund",
    "params": {"charge": "ch_1", "amount": 60000},
    "justification": "Duplicate charge confirmed by the customer.",
}


def human_decisions(sim: RunSetup) -> list[dict[str, Any]]:
    return [
        dict(e.value)
        for e in sim.world.history.by_process("human")
        if e.type is EntryType.INFO and e.f == "approval_decided"
    ]


def status_of(door: Door, approval: str) -> str:
    answer = door.call("get_approval", approval=approval)
    assert answer.status == 200
    return str(answer.body["status"])


# -- escalations ------------------------------------------------------------------


@pytest.mark.parametrize("reason", REASONS)
def test_an_escalation_with_a_valid_reason_is_created_and_ledgered(
    door: Door, sim: RunSetup, reason: str
) -> None:
    answer = door.call(
        "escalate", reason=reason, summary="Needs a human.", refs=["ch_1", "tkt_1"]
    )
    assert answer.status == 201
    body = answer.body
    assert {k: body[k] for k in ("object", "reason", "summary", "refs", "status")} == {
        "object": "escalation",
        "reason": reason,
        "summary": "Needs a human.",
        "refs": ["ch_1", "tkt_1"],
        "status": "open",
    }
    [entry] = list(sim.world.ledger)
    assert (entry.service, entry.operation, entry.business_key, entry.ref) == (
        "ops",
        "escalate",
        f"escalation:{reason}",
        body["id"],
    )
    assert door.call("get_escalation", escalation=body["id"]).body == body


def test_an_escalation_with_an_unknown_reason_is_a_400_invalid_request(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("escalate", reason="bored", summary="Needs a human.")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "reason must be one of ['missing_data', 'conflicting_records', "
            "'sensitive_request', 'low_confidence', 'out_of_scope', 'tool_failure']",
            "param": "reason",
        }
    }
    assert len(sim.world.ledger) == 0
    assert sim.world.service("ops").state["escalations"] == {}


def test_an_escalation_without_a_summary_is_a_400_invalid_request(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("escalate", reason="missing_data")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "missing required parameter 'summary'",
            "param": "summary",
        }
    }
    assert len(sim.world.ledger) == 0


def test_reading_an_unknown_escalation_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_escalation", escalation="esc_x")
    assert answer.status == 404
    assert answer.body == {
        "error": {"code": "not_found", "message": "No such escalation: 'esc_x'"}
    }


# -- approvals --------------------------------------------------------------------


def test_an_approval_request_is_created_pending_and_ledgered(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("request_approval", **REFUND_APPROVAL)
    assert answer.status == 201
    body = answer.body
    assert {k: body[k] for k in ("object", "action", "params", "status", "used")} == {
        "object": "approval",
        "action": "payments.refund",
        "params": {"charge": "ch_1", "amount": 60000},
        "status": "pending",
        "used": False,
    }
    assert body["decided_at"] is None
    [entry] = list(sim.world.ledger)
    assert (entry.operation, entry.ref) == ("request_approval", body["id"])
    assert entry.business_key.startswith("approval:payments.refund:")
    assert human_decisions(sim) == []


def test_the_scripted_approver_approves_after_two_hours(
    door: Door, sim: RunSetup
) -> None:
    assert sim.world.clock.now == 0  # the request is the run's first call
    approval = door.call("request_approval", **REFUND_APPROVAL).body["id"]
    sim.world.clock.advance(2 * HOUR - 1)
    assert status_of(door, approval) == "pending"
    assert human_decisions(sim) == []
    sim.world.clock.advance(1)
    answer = door.call("get_approval", approval=approval)
    assert answer.body["status"] == "approved"
    assert answer.body["decided_at"] == int(EPOCH) + 2 * 3600
    assert human_decisions(sim) == [
        {"approval": approval, "status": "approved", "action": "payments.refund"}
    ]


@pytest.mark.parametrize(
    "humans", [{"approver": {"decision": "deny", "after": "30m"}}], ids=["deny"]
)
def test_a_denying_approver_denies_after_its_delay(door: Door, sim: RunSetup) -> None:
    approval = door.call("request_approval", **REFUND_APPROVAL).body["id"]
    sim.world.clock.advance(30 * 60 - 1)
    assert status_of(door, approval) == "pending"
    sim.world.clock.advance(1)
    assert status_of(door, approval) == "denied"
    assert human_decisions(sim) == [
        {"approval": approval, "status": "denied", "action": "payments.refund"}
    ]


@pytest.mark.parametrize(
    "humans",
    [None, {"approver": {"decision": "ignore", "after": "1h"}}],
    ids=["no-approver", "ignoring-approver"],
)
def test_an_approval_nobody_answers_expires_after_24_hours(
    door: Door, sim: RunSetup
) -> None:
    approval = door.call("request_approval", **REFUND_APPROVAL).body["id"]
    sim.world.clock.advance(DAY - 1)
    assert status_of(door, approval) == "pending"
    sim.world.clock.advance(1)
    assert status_of(door, approval) == "expired"
    assert human_decisions(sim) == [
        {"approval": approval, "status": "expired", "action": "payments.refund"}
    ]


def test_an_approved_approval_does_not_expire_later(door: Door, sim: RunSetup) -> None:
    approval = door.call("request_approval", **REFUND_APPROVAL).body["id"]
    sim.world.clock.advance(DAY + 1)
    assert status_of(door, approval) == "approved"
    assert len(human_decisions(sim)) == 1


def test_an_approval_action_must_be_service_dot_verb(door: Door, sim: RunSetup) -> None:
    answer = door.call("request_approval", **{**REFUND_APPROVAL, "action": "refund"})
    assert answer.status == 400
    assert answer.error["code"] == "invalid_request"
    assert answer.error["param"] == "action"
    assert len(sim.world.ledger) == 0


def test_reading_an_unknown_approval_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_approval", approval="apr_x")
    assert answer.status == 404
    assert answer.body == {
        "error": {"code": "not_found", "message": "No such approval: 'apr_x'"}
    }
