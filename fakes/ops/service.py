"""The humans in the loop: escalations and approvals.

``POST /v1/approvals`` opens a pending approval; the scenario's scripted approver
decides it after a delay in simulated time (``approved`` or ``denied``); one that
nobody answers expires after 24 h. An approval authorises exactly one execution of
the action with exactly the parameters it was granted for.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from fakes import _schema as s
from fakes.base import (
    CallContext,
    EntryType,
    FakeService,
    Record,
    Reply,
    fingerprint,
    operation,
    same_param,
)

REASONS = (
    "missing_data",
    "conflicting_records",
    "sensitive_request",
    "low_confidence",
    "out_of_scope",
    "tool_failure",
)
APPROVAL_STATUSES = ("pending", "approved", "denied", "expired")
#: An approval nobody answers expires after this many simulated seconds.
APPROVAL_TTL = 24 * 3600.0

ESCALATION = s.obj(
    {
        "id": s.string("Escalation id (esc_…)."),
        "object": {"const": "escalation"},
        "reason": s.enum("Reason code.", *REASONS),
        "summary": s.string("What the human needs to know."),
        "refs": {"type": "array", "items": {"type": "string"}},
        "status": s.enum("Escalation status.", "open", "resolved"),
        "created": {"type": "integer"},
    },
    required=("id", "object", "reason", "summary", "refs", "status", "created"),
)
APPROVAL = s.obj(
    {
        "id": s.string("Approval id (apr_…)."),
        "object": {"const": "approval"},
        "action": s.string("The action, as <service>.<verb>."),
        "params": {"type": "object"},
        "justification": s.string("Why the action is needed."),
        "status": s.enum("Decision so far.", *APPROVAL_STATUSES),
        "created": {"type": "integer"},
        "decided_at": s.nullable({"type": "integer"}),
        "used": s.boolean("Whether the approved action has been executed."),
    },
    required=("id", "object", "action", "params", "status", "created"),
)


class Ops(FakeService):
    """Escalations to, and approvals by, the humans around the agent."""

    name: ClassVar[str] = "ops"
    hosts: ClassVar[tuple[str, ...]] = ("ops.sim",)
    collections: ClassVar[tuple[str, ...]] = ("escalations", "approvals")

    @operation(
        "POST",
        "/v1/escalations",
        tool="escalate",
        summary=(
            "Stop and hand the case to a human, with a reason code: missing_data, "
            "conflicting_records, sensitive_request, low_confidence, out_of_scope, "
            "tool_failure."
        ),
        request=s.obj(
            {
                "reason": s.enum("Reason code.", *REASONS),
                "summary": s.string("What the human needs to know.", minLength=1),
                "refs": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Ids of the records involved.",
                },
            },
            required=("reason", "summary"),
        ),
        response=ESCALATION,
        status=201,
        action="ops.escalate",
        write=True,
    )
    def escalate(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        escalation: Record = {
            "id": ctx.new_id("esc", 14),
            "object": "escalation",
            "reason": params["reason"],
            "summary": params["summary"],
            "refs": list(params.get("refs", [])),
            "status": "open",
            "created": ctx.now,
        }
        self.state["escalations"][escalation["id"]] = escalation
        ctx.commit(
            business_key=f"escalation:{params['reason']}",
            params=params,
            ref=escalation["id"],
        )
        return Reply(status=201, body=escalation)

    @operation(
        "GET",
        "/v1/escalations/{escalation}",
        tool="get_escalation",
        summary="Read an escalation.",
        request=s.by_id("escalation", "Escalation id (esc_…)."),
        response=ESCALATION,
    )
    def get_escalation(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200, body=self.get_or_404("escalations", params["escalation"])
        )

    @operation(
        "POST",
        "/v1/approvals",
        tool="request_approval",
        summary=(
            "Ask a human to approve an action (<service>.<verb>, e.g. payments.refund) "
            "with its exact parameters. Poll get_approval until it is decided."
        ),
        request=s.obj(
            {
                "action": s.string(
                    "The action, e.g. payments.refund.", pattern=r"^[a-z]+\.[a-z_]+$"
                ),
                "params": {
                    "type": "object",
                    "description": "The exact parameters of the action.",
                },
                "justification": s.string("Why the action is needed.", minLength=1),
            },
            required=("action", "params", "justification"),
        ),
        response=APPROVAL,
        status=201,
        action="ops.request_approval",
        write=True,
    )
    def request_approval(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        approval: Record = {
            "id": ctx.new_id("apr", 14),
            "object": "approval",
            "action": params["action"],
            "params": dict(params["params"]),
            "justification": params["justification"],
            "status": "pending",
            "created": ctx.now,
            "decided_at": None,
            "used": False,
        }
        self.state["approvals"][approval["id"]] = approval
        ctx.commit(
            business_key=f"approval:{params['action']}:{fingerprint(params['params'])}",
            params=params,
            ref=approval["id"],
        )
        self._schedule_decision(approval)
        return Reply(status=201, body=approval)

    @operation(
        "GET",
        "/v1/approvals/{approval}",
        tool="get_approval",
        summary="Read an approval: pending, approved, denied or expired.",
        request=s.by_id("approval", "Approval id (apr_…)."),
        response=APPROVAL,
    )
    def get_approval(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self.get_or_404("approvals", params["approval"]))

    def _schedule_decision(self, approval: Record) -> None:
        approver = self.world.humans.get("approver")
        decision = getattr(approver, "decision", None)
        if approver is not None and decision in ("approve", "deny"):
            status = "approved" if decision == "approve" else "denied"
            self.world.clock.call_later(
                float(approver.after), lambda: self._decide(approval, status)
            )
        else:
            self.world.clock.call_later(
                APPROVAL_TTL, lambda: self._decide(approval, "expired")
            )

    def _decide(self, approval: Record, status: str) -> None:
        if approval["status"] != "pending":
            return
        approval["status"] = status
        approval["decided_at"] = int(self.world.clock.epoch())
        self.world.history.append(
            time=self.world.clock.now,
            process="human",
            type=EntryType.INFO,
            f="approval_decided",
            value={
                "approval": approval["id"],
                "status": status,
                "action": approval["action"],
            },
        )

    # -- used by the gateway's policy step ---------------------------------------------
    def matching_approval(
        self, action: str, params: Mapping[str, Any], keys: tuple[str, ...]
    ) -> Record | None:
        """An approved, unused approval for ``action`` with exactly these params."""
        for approval in self.state["approvals"].values():
            if (
                approval["action"] == action
                and approval["status"] == "approved"
                and not approval["used"]
                and all(
                    same_param(approval["params"].get(k), params.get(k)) for k in keys
                )
            ):
                return approval
        return None
