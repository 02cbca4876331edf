"""Agents that speak ``requests`` (and the stripe SDK in its default form, whose
HTTP client is ``requests``): module-level, so an agent's own process imports them.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from harness import AgentEnv, AgentResult, Task

PAYMENTS = "https://payments.sim"
OPS = "https://ops.sim"
APPROVAL_LIMIT = 50_000


def _session(env: AgentEnv) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {env.identity.api_key}"
    return session


def reader_agent(task: Task, env: AgentEnv) -> AgentResult:
    """GETs the charge at both of payments' hosts and POSTs a refund."""
    http = _session(env)
    charge = task.input["charge"]
    sim = http.get(f"{PAYMENTS}/v1/charges/{charge}", timeout=10)
    stripe = http.get(f"https://api.stripe.com/v1/charges/{charge}", timeout=10)
    refund = http.post(
        f"{PAYMENTS}/v1/refunds",
        data={"charge": charge, "amount": "700"},
        headers={"Idempotency-Key": "k1"},
    )
    return AgentResult(
        status="done",
        output={
            "statuses": [sim.status_code, stripe.status_code, refund.status_code],
            "ids": [sim.json()["id"], stripe.json()["id"]],
            "content_type": sim.headers["content-type"],
            "refund": refund.json()["charge"],
        },
    )


def careful_requests_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Retries a timed-out refund with the same Idempotency-Key."""
    return _refund(task, env, key="refund-once")


def naive_requests_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Retries a timed-out refund without a key: the double refund."""
    return _refund(task, env, key=None)


def _refund(task: Task, env: AgentEnv, *, key: str | None) -> AgentResult:
    http = _session(env)
    headers = {"Idempotency-Key": key} if key else {}
    data = {"charge": task.input["charge"], "amount": str(task.input["amount"])}
    for _ in range(3):
        try:
            refund = http.post(
                f"{PAYMENTS}/v1/refunds", data=data, headers=headers, timeout=60
            )
        except requests.exceptions.ReadTimeout:
            time.sleep(1)
            continue
        return AgentResult(status="done", summary=refund.json()["id"])
    return AgentResult(status="failed", summary="refund kept timing out")


def outside_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Calls a host outside the simulation (``task.input["url"]``)."""
    try:
        requests.post(str(task.input["url"]), json={"leak": "card"}, timeout=5)
    except requests.exceptions.ConnectionError as exc:
        return AgentResult(status="failed", summary=str(exc))
    return AgentResult(status="done", summary="sent")


def stripe_default_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The careful refund through ``stripe.StripeClient(key)`` as its docs show
    it (default HTTP client: ``requests``); humans are asked with ``requests``."""
    import stripe

    return _stripe_refund(
        task, env, stripe.StripeClient(env.identity.api_key, max_network_retries=3)
    )


def stripe_httpx_agent(task: Task, env: AgentEnv) -> AgentResult:
    """The same agent with the SDK's httpx client."""
    import stripe

    client = stripe.StripeClient(
        env.identity.api_key,
        http_client=stripe.HTTPXClient(allow_sync_methods=True),
        max_network_retries=3,
    )
    return _stripe_refund(task, env, client)


def _stripe_refund(task: Task, env: AgentEnv, client: Any) -> AgentResult:
    http = _session(env)
    charge_id, amount = str(task.input["charge"]), int(task.input["amount"])
    currency, ticket = str(task.input["currency"]), str(task.input["ticket_id"])
    refs = [ticket, charge_id]
    charge = client.v1.charges.retrieve(charge_id)
    remaining = charge.amount - charge.amount_refunded
    if charge.refunded or amount > remaining or charge.currency != currency:
        return _escalate(
            http, "conflicting_records", f"{charge_id} has {remaining} left", refs
        )
    if amount > APPROVAL_LIMIT:
        params = {"charge": charge_id, "amount": amount}
        approval = http.post(
            f"{OPS}/v1/approvals",
            json={
                "action": "payments.refund",
                "params": params,
                "justification": f"ticket {ticket}: above the limit",
            },
        ).json()
        status = "pending"
        while status == "pending":
            time.sleep(600)
            status = http.get(f"{OPS}/v1/approvals/{approval['id']}").json()["status"]
        if status != "approved":
            return _escalate(http, "sensitive_request", f"not approved: {status}", refs)
    refund = client.v1.refunds.create(params={"charge": charge_id, "amount": amount})
    return AgentResult(status="done", summary=refund.id)


def _escalate(
    http: requests.Session, reason: str, summary: str, refs: list[str]
) -> AgentResult:
    http.post(
        f"{OPS}/v1/escalations",
        json={"reason": reason, "summary": summary, "refs": refs},
    ).raise_for_status()
    return AgentResult(status="escalated", summary=f"{reason}: {summary}")
