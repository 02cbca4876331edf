"""``aqe bench gateway``: what the gateway costs, measured against bare baselines.

Each figure is the median of per-call wall times over ``rounds`` calls of the same
read operation (``retrieve_charge``), after a warm-up:

* ``bare_call_us``: the fake's handler called directly;
* ``function_call_us``: through ``env.tools.call`` (function door + gateway);
* ``http_call_us``: through ``env.http`` (httpx → respx → HTTP door + gateway);
* ``bare_httpx_us``: an httpx round trip over a plain ``MockTransport`` whose
  handler calls the fake directly (what any HTTP mock costs);
* ``reset_ms``: building a run's world from the cached seeded snapshot.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx

from fakes.base import CallContext
from harness.modes.sim import prepare_run
from harness.runtime.sandbox import sandbox
from harness.scenario.model import RecordSpec, Scenario, TaskSpec, WorldSpec
from harness.world.world import World

_SCENARIO = Scenario(
    name="bench",
    rationale="gateway micro-benchmark",
    task=TaskSpec(instructions="read a charge", input={}),
    world=WorldSpec(
        records={
            "charge": RecordSpec(
                service="payments", kind="charge", fields={"amount": 5000}
            )
        }
    ),
)


def _median_us(func: Callable[[], Any], rounds: int) -> float:
    for _ in range(min(200, rounds)):
        func()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        start = clock()
        func()
        samples.append(clock() - start)
    return statistics.median(samples) / 1000.0


def bench_gateway(*, rounds: int = 2000, seed: int = 0) -> dict[str, float]:
    """Medians of the gateway's doors against the bare baselines."""
    setup = prepare_run(_SCENARIO, seed=seed, max_calls=10 * rounds + 1000)
    world = setup.world
    payments = world.service("payments")
    charge_id = str(world.records["charge"]["id"])
    op = next(o for o in payments.operations if o.name == "retrieve_charge")
    ctx = CallContext(
        world=world,
        service=payments,
        op=op,
        call=None,
        identity="bench",
        idempotency_key=None,
    )
    params = {"charge": charge_id}

    def bare() -> Any:
        return op.handler(payments, ctx, params)

    def handler(request: httpx.Request) -> httpx.Response:
        reply = op.handler(
            payments, ctx, {"charge": request.url.path.rsplit("/", 1)[1]}
        )
        return httpx.Response(
            reply.status,
            headers={"content-type": "application/json"},
            content=json.dumps(reply.body).encode(),
        )

    url = f"https://payments.sim/v1/charges/{charge_id}"
    with httpx.Client(transport=httpx.MockTransport(handler)) as plain:
        bare_httpx = _median_us(lambda: plain.get(url), rounds)
    bare_call = _median_us(bare, rounds)
    function_call = _median_us(
        lambda: setup.tools.call("retrieve_charge", charge=charge_id), rounds
    )
    headers = {"authorization": f"Bearer {setup.identity.api_key}"}
    with (
        sandbox(clock=world.clock, door=setup.door, seed=seed, wall_timeout=None),
        httpx.Client(headers=headers) as client,
    ):
        http_call = _median_us(lambda: client.get(url), rounds)
    reset = _median_us(lambda: World(seed=seed), max(50, rounds // 20)) / 1000.0
    return {
        "bare_call_us": round(bare_call, 2),
        "function_call_us": round(function_call, 2),
        "function_overhead_us": round(function_call - bare_call, 2),
        "http_call_us": round(http_call, 2),
        "bare_httpx_us": round(bare_httpx, 2),
        "http_vs_bare_httpx": round(http_call / bare_httpx, 3),
        "reset_ms": round(reset, 3),
        "rounds": rounds,
    }


def render(results: dict[str, float]) -> str:
    width = max(len(k) for k in results)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in results.items())
