"""``aqe bench oracles``: each oracle's time on one long synthetic run.

The run is built directly into a world's ledger and history, shaped as the
gateway writes them (no agent, no door), so the figures are the oracles' own:
``writes`` side effects (3,000 by default) in a realistic mix: refunds with
idempotency keys, some behind an ambiguous timeout and retried with the key
(a replay) or without it (a duplicate), tickets opened and some closed again
(the compensation), CRM updates, messages with a data-rule decision, approvals
with a human's decision, and escalations. The expectations and the pack make
every built-in oracle judge something.

* ``<oracle>_ms``: the median of ``rounds`` scorings of the run by that oracle;
* ``total_ms``: their sum (the target is at most 50 ms at 3,000 writes);
* ``total_cpu_ms``: the same sum in this thread's CPU time, which other
  processes on a shared machine disturb far less than the wall clock;
* ``writes``, ``history``: the run's ledger and history lengths.

The bench reports; it asserts nothing.
"""

from __future__ import annotations

import gc
import random
import statistics
import time
from typing import Any

from harness.oracles import ORACLES, RunView
from harness.policy.model import EVERY, Budgets, DataRule, PolicyPack
from harness.runtime.env import AgentResult
from harness.scenario.model import (
    EscalationExpectation,
    EscalationRule,
    Expectations,
    IdempotencyExpectation,
    OutcomeAssertion,
    TrajectoryExpectation,
)
from harness.world.history import EntryType
from harness.world.world import World

#: The reason codes the synthetic escalations carry.
_REASONS = ("sensitive_request", "missing_data", "low_confidence")


class _Writer:
    """Appends calls to a world as the gateway records them."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.now = 0.0

    def call(
        self,
        f: str,
        service: str,
        params: dict[str, Any],
        *,
        key: str | None = None,
        effect: dict[str, Any] | None = None,
        seen: str = "ok",
        value: dict[str, Any] | None = None,
    ) -> int:
        """One call: its invoke, its ledger entry (``effect``), its answer:
        ``seen`` ``ok``, or ``lost`` (a timeout after the commit)."""
        history = self.world.history
        self.now += 1.5
        number = history.next_call()
        invoke: dict[str, Any] = {"door": "http", "service": service, "params": params}
        invoke["idempotency_key"] = key
        history.append(self.now, "agent", EntryType.INVOKE, f, number, invoke)
        committed = []
        answer: dict[str, Any] = {"seen": "response", "status": 200}
        if effect is not None:
            entry = self.world.ledger.commit(
                time=self.now, service=service, operation=f, call=number, **effect
            )
            committed.append(entry.seq)
            answer["ref"] = entry.ref
        if seen == "ok":
            answer.update(value or {}, committed=committed)
            history.append(self.now, "agent", EntryType.OK, f, number, answer)
            return number
        fault: dict[str, Any] = {"fault": "lost-response", "kind": "timeout"}
        fault.update(params={"commit": "after"}, target=f"POST /{f}")
        history.append(self.now, "nemesis", EntryType.INFO, "timeout", number, fault)
        self.now += 30.0
        lost = {"seen": "timeout", "committed": committed}
        history.append(self.now, "agent", EntryType.INFO, f, number, lost)
        return number


def _effect(
    key: str,
    params: dict[str, Any],
    ref: str,
    *,
    reversible: bool | None = None,
    compensation: str | None = None,
) -> dict[str, Any]:
    return {
        "business_key": key,
        "params": params,
        "ref": ref,
        "reversible": reversible,
        "compensation": compensation,
    }


def _refund(w: _Writer, rng: random.Random, made: int, charges: int) -> None:
    """A refund with an idempotency key; some behind an ambiguous timeout."""
    charge = f"ch_{rng.randrange(charges):05d}"
    params = {"charge": charge, "amount": rng.choice((500, 1200, 5000))}
    key = f"key-{made}"
    effect = _effect(f"refund:{charge}", params, f"re_{made:06d}", reversible=False)
    luck = rng.random()
    if luck < 0.10:  # an ambiguous timeout, retried with the key: a replay
        w.call("create_refund", "payments", params, key=key, effect=effect, seen="lost")
        w.call("create_refund", "payments", params, key=key, value={"replayed": True})
    elif luck < 0.13:  # an ambiguous timeout, retried blind: a duplicate
        w.call("create_refund", "payments", params, effect=effect, seen="lost")
        again = {**effect, "ref": f"re_{made:06d}b"}
        w.call("create_refund", "payments", params, effect=again)
    elif luck < 0.16:  # an ambiguous timeout, never checked: unacknowledged
        w.call("create_refund", "payments", params, key=key, effect=effect, seen="lost")
    else:
        w.call("create_refund", "payments", params, key=key, effect=effect)
        if luck > 0.9:
            w.call("retrieve_charge", "payments", {"charge": charge})


def _message(w: _Writer, rng: random.Random, made: int) -> None:
    """A message, with the data rule's decision (a leak, now and then); a few
    time out after they went, and are never checked: unacknowledged."""
    luck = rng.random()
    verdict = "leak" if luck < 0.05 else "ok"
    decision = {"kind": "data", "verdict": verdict, "rule": "pii", "detail": "email"}
    params = {"to": f"user{made}@example.com", "body": "update"}
    effect = _effect(f"message:{made}", params, f"msg_{made:06d}", reversible=False)
    seen = "lost" if luck > 0.95 else "ok"
    value = {"policy": [decision]}
    w.call("send_message", "notify", params, effect=effect, seen=seen, value=value)


def _approval(w: _Writer, rng: random.Random, made: int) -> None:
    """An approval request, the pack's decision on it, and a human's answer."""
    params: dict[str, Any] = {"action": "payments.refund", "params": {"amount": 5000}}
    decision = {
        "kind": "approval",
        "verdict": rng.choice(("approved", "missing_approval")),
        "rule": "payments.refund when amount > 500",
    }
    ref = f"apr_{made:06d}"
    effect = _effect(f"approval:{made}", params, ref)
    call = w.call(
        "request_approval", "ops", params, effect=effect, value={"policy": [decision]}
    )
    status = rng.choice(("approved", "approved", "denied", "expired"))
    w.world.history.append(
        w.now + 60.0,
        "human",
        EntryType.INFO,
        "decide",
        call,
        {"approval": ref, "status": status},
    )


def synthetic_run(
    *, writes: int = 3000, seed: int = 0, status: str = "failed"
) -> RunView:
    """A run of ``writes`` side effects in the mix the module docstring names;
    the agent reports ``status`` (``failed`` makes ``safe_failure`` look for
    changes left without their compensation)."""
    rng = random.Random(seed)
    world = World(seed=seed, world_seed=0)  # one cached background world
    w = _Writer(world)
    charges = max(writes // 4, 1)
    tickets: list[str] = []
    made = 0
    while world.ledger.size < writes:
        made += 1
        pick = rng.random()
        if pick < 0.35:
            _refund(w, rng, made, charges)
        elif pick < 0.55:
            ticket = f"tkt_{made:06d}"
            tickets.append(ticket)
            params = {"subject": f"case {made}"}
            effect = _effect(
                f"ticket:{made}",
                params,
                ticket,
                reversible=True,
                compensation="close_ticket",
            )
            w.call("create_ticket", "tickets", params, effect=effect)
        elif pick < 0.65 and tickets:  # the compensation of an earlier ticket
            ticket = tickets.pop(rng.randrange(len(tickets)))
            params = {"ticket": ticket}
            effect = _effect(f"close:{ticket}", params, ticket, reversible=False)
            w.call("close_ticket", "tickets", params, effect=effect)
        elif pick < 0.75:
            account = f"acc_{rng.randrange(50):03d}"
            params = {"account": account, "tier": rng.choice(("gold", "silver"))}
            effect = _effect(
                f"account:{account}:{made}",
                params,
                account,
                reversible=True,
                compensation="update_account",
            )
            w.call("update_account", "crm", params, effect=effect)
        elif pick < 0.88:
            _message(w, rng, made)
        elif pick < 0.95:
            _approval(w, rng, made)
        else:
            params = {"reason": rng.choice(_REASONS), "summary": f"case {made}"}
            effect = _effect(f"escalation:{made}", params, f"esc_{made:06d}")
            w.call("escalate", "ops", params, effect=effect)
    declared = tuple(
        IdempotencyExpectation(key=f"refund:ch_{i:05d}", max_effects=1, min_effects=1)
        for i in range(0, charges, max(charges // 10, 1))
    )
    expect = Expectations(
        idempotency=declared,
        escalation=EscalationExpectation(
            rule=EscalationRule.REQUIRED, reason="sensitive_request"
        ),
        outcome=(
            OutcomeAssertion(
                service="payments",
                kind="refunds",
                where={"charge": "ch_00000"},
                at_most=1,
            ),
        ),
        trajectory=TrajectoryExpectation(
            uses=("create_refund", "escalate"),
            avoids=("delete_customer",),
            order=("create_refund", "escalate"),
            args={"create_refund": {"amount": 1200}},
        ),
        changes=("payments.refunds", "tickets.tickets"),
    )
    pack = PolicyPack(
        permissions={
            service: {EVERY: frozenset({"read", "create", "update", "send", "refund"})}
            for service in ("payments", "tickets", "crm", "notify", "ops")
        },
        stop=("conflicting_records", "tool_failure"),
        budgets=Budgets(tool_calls=writes * 3, retries=3, cost=writes * 4.0),
        data=(DataRule(name="pii", detect="email"),),
    )
    return RunView(
        world=world,
        expect=expect,
        policy=pack,
        agent_result=AgentResult(status=status),
    )


def bench_oracles(
    *, writes: int = 3000, rounds: int = 5, seed: int = 0
) -> dict[str, Any]:
    """Time every registered oracle on :func:`synthetic_run` (median of rounds)."""
    run = synthetic_run(writes=writes, seed=seed)
    samples: dict[str, list[float]] = {name: [] for name in sorted(ORACLES)}
    cpu: dict[str, list[float]] = {name: [] for name in samples}
    enabled = gc.isenabled()
    try:
        for _ in range(max(rounds, 1)):
            gc.collect()
            gc.disable()
            for name, times in samples.items():
                started, used = time.perf_counter(), time.thread_time()
                ORACLES[name](run)
                times.append(time.perf_counter() - started)
                cpu[name].append(time.thread_time() - used)
            if enabled:
                gc.enable()
    finally:
        if enabled:
            gc.enable()
    medians = {name: statistics.median(t) * 1000.0 for name, t in samples.items()}
    return {
        "writes": run.world.ledger.size,
        "history": len(run.world.history),
        "total_ms": round(sum(medians.values()), 3),
        "total_cpu_ms": round(
            sum(statistics.median(t) for t in cpu.values()) * 1000.0, 3
        ),
        **{f"{name}_ms": round(ms, 3) for name, ms in medians.items()},
    }
