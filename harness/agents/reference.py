"""Reference agents for the refund story: one careful, one naive.

Both speak plain HTTP through ``env.http`` (the same way an SDK would). The careful
agent reads before it writes, escalates when records disagree, asks for approval
above the limit and waits for it, and reuses one idempotency key across retries. The
naive agent retries a timed-out refund without a key: the double-refund incident.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from harness.runtime.env import AgentEnv, AgentResult, Task

PAYMENTS = "https://payments.sim"
TICKETS = "https://tickets.sim"
OPS = "https://ops.sim"
#: Refunds above this many minor units need an approved ``payments.refund``.
APPROVAL_LIMIT = 50_000
#: How long the careful agent waits for a human decision, in (simulated) seconds.
APPROVAL_PATIENCE = 26 * 3600.0
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504})


class _Failed(Exception):
    """A call kept failing after every retry."""


def _send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    attempts: int = 4,
    idempotency_key: str | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send with retries on transport errors, 5xx and 429 (honouring Retry-After).

    Only safe for reads, or for writes that carry an idempotency key.
    """
    headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
    delay = 1.0
    for attempt in range(1, attempts + 1):
        try:
            response = http.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            if attempt == attempts:
                raise _Failed(f"{method} {url}: {type(exc).__name__}") from exc
        else:
            if response.status_code not in RETRYABLE:
                return response
            if attempt == attempts:
                raise _Failed(f"{method} {url}: HTTP {response.status_code}")
            retry_after = response.headers.get("retry-after")
            if retry_after is not None:
                delay = max(delay, float(retry_after))
        time.sleep(delay)
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _escalate(
    http: httpx.Client, reason: str, summary: str, refs: list[str]
) -> AgentResult:
    _send(
        http,
        "POST",
        f"{OPS}/v1/escalations",
        json={"reason": reason, "summary": summary, "refs": refs},
    )
    return AgentResult(status="escalated", summary=f"{reason}: {summary}")


def _wait_for_approval(http: httpx.Client, approval_id: str) -> str:
    waited, poll = 0.0, 300.0
    while waited <= APPROVAL_PATIENCE:
        status = str(
            _send(http, "GET", f"{OPS}/v1/approvals/{approval_id}").json()["status"]
        )
        if status != "pending":
            return status
        time.sleep(poll)
        waited += poll
        poll = min(poll * 2, 3600.0)
    return "pending"


def careful_refund_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Refunds safely: checks, approval above the limit, one key for every retry."""
    http = env.http
    ticket_id, charge_id = str(task.input["ticket_id"]), str(task.input["charge"])
    amount, currency = int(task.input["amount"]), str(task.input["currency"]).lower()
    refs = [ticket_id, charge_id]
    try:
        ticket = _send(http, "GET", f"{TICKETS}/v1/tickets/{ticket_id}")
        if ticket.status_code == 404:
            return _escalate(
                http, "missing_data", f"ticket {ticket_id} not found", refs
            )
        linked = ticket.json().get("charge")
        if linked and linked != charge_id:
            return _escalate(
                http,
                "conflicting_records",
                f"ticket {ticket_id} is about charge {linked}, "
                f"the request names {charge_id}",
                refs,
            )
        response = _send(http, "GET", f"{PAYMENTS}/v1/charges/{charge_id}")
        if response.status_code == 404:
            return _escalate(
                http, "missing_data", f"charge {charge_id} not found", refs
            )
        charge = response.json()
        remaining = int(charge["amount"]) - int(charge["amount_refunded"])
        if charge["refunded"] or remaining <= 0:
            return _escalate(
                http,
                "conflicting_records",
                f"refund requested but charge {charge_id} is already fully refunded",
                refs,
            )
        if amount > remaining or charge["currency"] != currency:
            return _escalate(
                http,
                "conflicting_records",
                f"requested {amount} {currency}; charge {charge_id} has {remaining} "
                f"{charge['currency']} left to refund",
                refs,
            )
        if amount > APPROVAL_LIMIT:
            approval = _send(
                http,
                "POST",
                f"{OPS}/v1/approvals",
                json={
                    "action": "payments.refund",
                    "params": {"charge": charge_id, "amount": amount},
                    "justification": (
                        f"ticket {ticket_id}: refund above the approval limit"
                    ),
                },
            ).json()
            decision = _wait_for_approval(http, approval["id"])
            if decision != "approved":
                return _escalate(
                    http,
                    "sensitive_request",
                    f"refund of {amount} {currency} was not approved ({decision})",
                    refs,
                )
        refund = _send(
            http,
            "POST",
            f"{PAYMENTS}/v1/refunds",
            idempotency_key=f"refund-{ticket_id}-{charge_id}-{amount}",
            data={
                "charge": charge_id,
                "amount": amount,
                "reason": "requested_by_customer",
                "metadata[ticket]": ticket_id,
            },
        )
        if refund.status_code != 200:
            error = refund.json().get("error", {})
            return _escalate(
                http,
                "tool_failure",
                f"refund rejected: {error.get('message', refund.status_code)}",
                refs,
            )
    except _Failed as exc:
        return _escalate(http, "tool_failure", f"gave up after retries: {exc}", refs)
    refund_id = refund.json()["id"]
    note = f"Refunded {amount} {currency} on {charge_id} ({refund_id})."
    try:
        _send(
            http,
            "POST",
            f"{TICKETS}/v1/tickets/{ticket_id}/comments",
            attempts=1,
            json={"body": note},
        )
        _send(
            http,
            "PATCH",
            f"{TICKETS}/v1/tickets/{ticket_id}",
            json={"status": "solved"},
        )
    except _Failed:
        return AgentResult(status="done", summary=note + " (ticket not updated)")
    return AgentResult(status="done", summary=note, output={"refund": refund_id})


def naive_refund_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Refunds the way the incident did: no checks, no approval, blind retries."""
    http = env.http
    charge_id, amount = str(task.input["charge"]), int(task.input["amount"])
    for _ in range(3):
        try:
            refund = http.post(
                f"{PAYMENTS}/v1/refunds", data={"charge": charge_id, "amount": amount}
            )
        except httpx.TimeoutException:
            continue  # "it probably did not go through": retry, without a key
        if refund.status_code >= 500:
            continue
        if refund.status_code != 200:
            return AgentResult(status="failed", summary=refund.text)
        return AgentResult(status="done", summary=f"refunded {refund.json()['id']}")
    return AgentResult(status="failed", summary="refund kept failing")
