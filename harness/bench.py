"""``aqe bench gateway``: what the gateway costs, measured against bare baselines
(``aqe bench models``, the model providers' round trips: :func:`bench_models`).

Each figure is the median of per-call wall times over ``rounds`` calls of the same
read operation (``retrieve_charge``), after a warm-up. The measurements are
interleaved in blocks, so a slow phase of a shared machine hits them all alike,
and the collector is paused while timing (as pytest-benchmark's
``--benchmark-disable-gc``); it runs between blocks.

* ``bare_call_us``: the fake's handler called directly;
* ``function_call_us``: through ``env.tools.call`` (function door + gateway);
* ``http_call_us``: through ``env.http`` (httpx → respx → HTTP door + gateway);
* ``bare_httpx_us``: the same request (the same headers) as an httpx round trip
  over a plain ``MockTransport`` whose handler calls the fake directly (what
  any HTTP mock costs);
* ``httpx2_call_us``: through an ``httpx2.Client`` (its door → the exchange →
  HTTP door + gateway); ``bare_httpx2_us`` an httpx2 round trip over
  ``httpx2.MockTransport`` returning a fixed response, and their ratio
  ``httpx2_vs_bare_httpx2``; only where httpx2 is installed;
* ``requests_call_us``: a GET through ``requests`` in a run (the urllib3 door,
  the HTTP door and the gateway); ``bare_requests_us`` the same GET over a bare
  ``urlopen`` stub of urllib3's pools returning a fixed ``HTTPResponse``, and
  their ratio ``requests_vs_bare_requests``; only where requests is installed;
* ``aiohttp_call_us``: a GET through an ``aiohttp.ClientSession`` (its door →
  the exchange → HTTP door + gateway); ``bare_aiohttp_us`` the same GET over
  aioresponses (aiohttp's mocker, patched as its docs show) returning a fixed
  response, and their ratio ``aiohttp_vs_bare_aiohttp``; each call is one
  ``run_until_complete`` on one loop kept open for both; only where aiohttp and
  aioresponses are installed;
* ``urllib_call_us``: through ``urllib.request.urlopen`` (its door → the exchange
  → HTTP door + gateway); ``bare_urllib_us`` the same request through an opener
  (``build_opener``, so the stock processors run) whose HTTPS handler returns a
  fixed ``http.client.HTTPResponse`` (read from fixed bytes, as urllib returns
  one), and their ratio ``urllib_vs_bare_urllib``;

* ``reset_ms``: building a run's world from the cached seeded snapshot;
* ``isolated_call_us``: ``env.tools.call`` from an agent in its own process (the
  stub, the run's socket, the gateway, and back), timed in the agent's process;
  ``isolated_http_call_us`` the same through ``env.http``; against
  ``function_call_us`` and ``http_call_us`` (the same calls in-process);
* ``isolated_run_start_ms``: what isolation adds to a run (forking the agent's
  process, handing it the task, ending it): the median run of an agent that
  returns at once in its own process, less the same run in-process
  (``run_ms``).

A fixed response is the fake's answer, made once; every bare baseline sends the
door's request, headers included. Each door's target is to stay within 2x of
its own bare round trip (every ``*_vs_bare_*`` at most 2.0), httpx's within 1.3x
(``http_vs_bare_httpx``); the bench reports the ratios, it asserts nothing.
"""

from __future__ import annotations

import dataclasses
import gc
import http.client
import importlib.util
import io
import json
import statistics
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from functools import partial
from typing import Any

import httpx

from fakes.base import CallContext
from harness.errors import HarnessError
from harness.gateway.tools import Tools
from harness.isolation import ProcessIsolation
from harness.models import ENDPOINTS, EVENT_STREAM, ModelCall, complete
from harness.models.call import Endpoint
from harness.run import RunSetup, prepare_run, run_scenario
from harness.runtime.env import AgentEnv, Task
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


BLOCKS = 10


def _sample(func: Callable[[], Any], count: int, into: list[int]) -> None:
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for _ in range(count):
            start = clock()
            func()
            into.append(clock() - start)
    finally:
        gc.enable()


Within = Callable[[], AbstractContextManager[Any]]


def _interleaved_medians(
    funcs: dict[str, tuple[Callable[[], Any], Within]], rounds: int
) -> dict[str, float]:
    """Median microseconds per call of each function, sampled in turns.

    Each function runs inside its own context (the run sandbox, or none), entered
    afresh for every block.
    """
    samples: dict[str, list[int]] = {name: [] for name in funcs}
    per_block = max(1, rounds // BLOCKS)
    for func, within in funcs.values():
        with within():
            _sample(func, min(200, rounds), [])  # warm-up
    for _ in range(BLOCKS):
        for name, (func, within) in funcs.items():
            with within():
                _sample(func, per_block, samples[name])
        gc.collect()
    return {name: statistics.median(v) / 1000.0 for name, v in samples.items()}


Calls = dict[str, tuple[Callable[[], Any], Within]]


def in_sandbox(run: RunSetup, seed: int) -> AbstractContextManager[Any]:
    """``run``'s sandbox, as an agent's code runs in it (no wall-clock limit)."""
    return sandbox(
        clock=run.world.clock,
        router=run.door.router(),
        block=run.door.gateway.block,
        seed=seed,
        wall_timeout=None,
        exchange=run.door.exchange,
    )


#: The fixed answer's headers.
_FIXED = {"content-type": "application/json"}

#: Each door's figure, its bare baseline and the name of their ratio.
DOOR_RATIOS = (
    ("http_call", "bare_httpx", "http_vs_bare_httpx"),
    ("httpx2_call", "bare_httpx2", "httpx2_vs_bare_httpx2"),
    ("requests_call", "bare_requests", "requests_vs_bare_requests"),
    ("aiohttp_call", "bare_aiohttp", "aiohttp_vs_bare_aiohttp"),
    ("urllib_call", "bare_urllib", "urllib_vs_bare_urllib"),
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Target:
    """The request every door sends, the run it is sent in, the fixed answer."""

    url: str
    headers: dict[str, str]
    in_run: Within
    status: int
    body: bytes


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

    def in_run() -> AbstractContextManager[Any]:
        return in_sandbox(setup, seed)

    answer = bare()
    target = _Target(
        url=f"https://payments.sim/v1/charges/{charge_id}",
        headers={"authorization": f"Bearer {setup.identity.api_key}"},
        in_run=in_run,
        status=answer.status,
        body=json.dumps(answer.body).encode(),
    )
    with (
        httpx.Client(
            transport=httpx.MockTransport(handler), headers=target.headers
        ) as plain,
        httpx.Client(headers=target.headers) as client,
        ExitStack() as stack,
    ):
        funcs: Calls = {
            "bare_call": (bare, nullcontext),
            "function_call": (
                lambda: setup.tools.call("retrieve_charge", charge=charge_id),
                nullcontext,
            ),
            "http_call": (lambda: client.get(target.url), in_run),
            "bare_httpx": (lambda: plain.get(target.url), nullcontext),
        }
        for calls in (_httpx2_calls, _requests_calls, _aiohttp_calls, _urllib_calls):
            funcs.update(stack.enter_context(calls(target)))
        medians = _interleaved_medians(funcs, rounds)
    reset = _interleaved_medians(
        {"reset": (lambda: World(seed=seed), nullcontext)}, 200
    )["reset"]
    isolated = _isolated(rounds, seed)
    bare_call, function_call = medians["bare_call"], medians["function_call"]
    doors: dict[str, float] = {}
    for door, baseline, ratio in DOOR_RATIOS:
        if door in medians:
            doors[f"{door}_us"] = round(medians[door], 2)
            doors[f"{baseline}_us"] = round(medians[baseline], 2)
            doors[ratio] = round(medians[door] / medians[baseline], 3)
    return {
        "bare_call_us": round(bare_call, 2),
        "function_call_us": round(function_call, 2),
        "function_overhead_us": round(function_call - bare_call, 2),
        **doors,
        "reset_ms": round(reset / 1000.0, 3),
        "isolated_call_us": round(isolated["call"], 2),
        "isolated_http_call_us": round(isolated["http"], 2),
        "isolated_vs_function_call": round(isolated["call"] / function_call, 3),
        "run_ms": round(isolated["run"], 3),
        "isolated_run_ms": round(isolated["isolated_run"], 3),
        "isolated_run_start_ms": round(isolated["isolated_run"] - isolated["run"], 3),
        "rounds": rounds,
    }


@contextmanager
def _httpx2_calls(target: _Target) -> Iterator[Calls]:
    """httpx2's door and its bare baseline (nothing where httpx2 is absent)."""
    try:
        import httpx2
    except ImportError:
        yield {}
        return

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(target.status, headers=_FIXED, content=target.body)

    with (
        httpx2.Client(
            transport=httpx2.MockTransport(handler), headers=target.headers
        ) as plain,
        httpx2.Client(headers=target.headers) as client,
    ):
        yield {
            "httpx2_call": (lambda: client.get(target.url), target.in_run),
            "bare_httpx2": (lambda: plain.get(target.url), nullcontext),
        }


@contextmanager
def _requests_calls(target: _Target) -> Iterator[Calls]:
    """A GET through requests in a run and over a bare stub of urllib3's pools."""
    if importlib.util.find_spec("requests") is None:
        yield {}
        return
    import requests
    from urllib3.connectionpool import HTTPConnectionPool
    from urllib3.response import HTTPResponse

    @contextmanager
    def bare_pools() -> Iterator[None]:
        """urllib3's pools answering a fixed response: the least a mock costs."""

        def urlopen(
            pool: HTTPConnectionPool, method: str, url: str, **kwargs: Any
        ) -> HTTPResponse:
            return HTTPResponse(
                body=io.BytesIO(target.body),
                headers=_FIXED,
                status=target.status,
                preload_content=kwargs.get("preload_content", True),
            )

        original = HTTPConnectionPool.__dict__["urlopen"]
        HTTPConnectionPool.urlopen = urlopen  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            HTTPConnectionPool.urlopen = original  # type: ignore[method-assign]

    with requests.Session() as session, requests.Session() as bare_session:
        session.headers.update(target.headers)
        bare_session.headers.update(target.headers)
        yield {
            "requests_call": (lambda: session.get(target.url), target.in_run),
            "bare_requests": (lambda: bare_session.get(target.url), bare_pools),
        }


@contextmanager
def _aiohttp_calls(target: _Target) -> Iterator[Calls]:
    """A GET through aiohttp in a run and over aioresponses (nothing where
    aiohttp or aioresponses is absent)."""
    if any(importlib.util.find_spec(n) is None for n in ("aiohttp", "aioresponses")):
        yield {}
        return
    import asyncio

    import aiohttp
    from aioresponses import aioresponses

    from harness.gateway.doors.aiohttp import response_class

    @contextmanager
    def mocked() -> Iterator[None]:
        with aioresponses() as mock:
            mock.get(
                target.url,
                status=target.status,
                body=target.body,
                response_class=response_class(),
                repeat=True,
            )
            yield

    async def start() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(headers=target.headers)

    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(start())

    async def get() -> bytes:
        async with session.get(target.url) as response:
            return await response.read()

    def call() -> bytes:
        return loop.run_until_complete(get())

    try:
        yield {"aiohttp_call": (call, target.in_run), "bare_aiohttp": (call, mocked)}
    finally:
        loop.run_until_complete(session.close())
        loop.close()


class _Wire:
    """Just enough socket for ``http.client.HTTPResponse`` to read fixed bytes."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BytesIO:
        return io.BytesIO(self._data)


@contextmanager
def _urllib_calls(target: _Target) -> Iterator[Calls]:
    """``urlopen`` in a run, and an opener whose HTTPS handler answers a fixed
    response."""
    reason = http.client.responses.get(target.status, "")
    wire = (
        f"HTTP/1.1 {target.status} {reason}\r\ncontent-type: application/json\r\n"
        f"Content-Length: {len(target.body)}\r\n\r\n"
    ).encode("latin-1") + target.body

    class FixedHTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            response = http.client.HTTPResponse(
                _Wire(wire),  # type: ignore[arg-type]
                method=req.get_method(),
                url=req.full_url,
            )
            response.begin()
            response.msg = response.reason  # type: ignore[assignment]
            return response

    opener = urllib.request.build_opener(FixedHTTPS)
    request = urllib.request.Request(target.url, headers=target.headers)

    def door() -> bytes:
        with urllib.request.urlopen(request) as response:
            return bytes(response.read())

    def bare() -> bytes:
        with opener.open(request) as response:
            return bytes(response.read())

    yield {
        "urllib_call": (door, target.in_run),
        "bare_urllib": (bare, nullcontext),
    }


def idle_agent(task: Task, env: AgentEnv) -> None:
    """Returns at once: the run costs only its start and end."""


def timing_agent(task: Task, env: AgentEnv) -> dict[str, Any]:
    """Times ``rounds`` tool calls and as many HTTP calls, in its own process."""
    clock = time.perf_counter_ns  # not simulated: the sandbox leaves it real
    charge, rounds = str(task.input["charge"]), int(task.input["rounds"])
    url = f"https://payments.sim/v1/charges/{charge}"
    calls: list[int] = []
    https: list[int] = []
    for _ in range(rounds):
        start = clock()
        env.tools.call("retrieve_charge", charge=charge)
        calls.append(clock() - start)
        start = clock()
        env.http.get(url)
        https.append(clock() - start)
    return {"output": {"call": calls, "http": https}}


def _isolated(rounds: int, seed: int) -> dict[str, float]:
    """Medians (us per call, ms per run) with the agent in its own process."""
    isolation = ProcessIsolation()
    try:
        timed = dataclasses.replace(
            _SCENARIO,
            task=TaskSpec(
                instructions="read a charge, many times",
                input={"charge": "$charge.id", "rounds": max(1, rounds // 2)},
            ),
        )
        result = run_scenario(
            timed,
            timing_agent,
            seed=seed,
            isolation=isolation,
            max_calls=4 * rounds + 10,
            oracles=(),
        )
        if result.agent_result is None:
            raise RuntimeError(f"the timing agent failed: {result.scores}")
        output = result.agent_result.output
        runs: dict[str, list[int]] = {"run": [], "isolated_run": []}
        kinds = {"run": None, "isolated_run": isolation}
        for _ in range(3):  # warm-up: the fork server imports what runs import
            run_scenario(_SCENARIO, idle_agent, seed=seed, isolation=isolation)
        for _ in range(max(5, min(40, rounds // 50))):
            for name, where in kinds.items():
                start = time.perf_counter_ns()
                run_scenario(_SCENARIO, idle_agent, seed=seed, isolation=where)
                runs[name].append(time.perf_counter_ns() - start)
    finally:
        isolation.close()
    return {
        "call": statistics.median(output["call"]) / 1000.0,
        "http": statistics.median(output["http"]) / 1000.0,
        "run": statistics.median(runs["run"]) / 1e6,
        "isolated_run": statistics.median(runs["isolated_run"]) / 1e6,
    }


def render(results: dict[str, Any]) -> str:
    width = max(len(k) for k in results)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in results.items())


def _rss_mb() -> float:
    """This process's resident set size now, in MiB (Linux), else its peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


#: What a typical library run reads of its world (the services most built).
TOUCHED = ("payments", "iam", "tickets")


def _fresh_seeds(count: int, *, start: int) -> Iterator[int]:
    """Seeds no snapshot in this process was made for (a run on a new seed)."""
    from harness.world.snapshot import load_snapshot

    load_snapshot.cache_clear()
    yield from range(start, start + count)


def first_reads(world: World) -> int:
    """What a typical library run reads first of its world, through the fakes'
    own queries: a charge, its customer's charges and refunds, the customer's
    CRM account and its contacts, the account's owner in IAM, the customer's
    tickets and a ticket. Returns how many records were read."""
    payments, crm = world.service("payments"), world.service("crm")
    iam, tickets = world.service("iam"), world.service("tickets")
    charge = payments.get_or_404("charges", next(iter(payments.records("charges"))))
    customer = str(charge["customer"])
    read = [charge, payments.get_or_404("customers", customer)]
    read += payments.query("charges", {"customer": customer})
    read += payments.query("refunds", {"charge": charge["id"]})
    accounts = crm.query("accounts", {"customer": customer})
    read += accounts
    for account in accounts:
        read += crm.query("contacts", {"account": account["id"]})
        owner = iam.records("users").get(str(account["owner"]))
        read += [owner] if owner is not None else []
    read += tickets.query("tickets", {"customer": customer})
    read.append(tickets.get_or_404("tickets", next(iter(tickets.records("tickets")))))
    return len(read)


def _first_reads_ms(scale: str, seeds: Iterator[int]) -> float:
    """Median milliseconds of a run's start on a new seed, honestly: the world
    made and forked, and :func:`first_reads` done."""
    samples = []
    for world_seed in seeds:
        started = time.perf_counter_ns()
        first_reads(World(seed=world_seed, scale=scale))
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1e6


def _new_seed_ms(
    scale: str, seeds: Iterator[int], read: tuple[str, ...], *, every: bool = False
) -> float:
    """Median milliseconds of a world on a new seed: made, forked, ``read`` built
    (and, with ``every``, each of their records made, lazily seeded or not)."""
    samples = []
    for world_seed in seeds:
        started = time.perf_counter_ns()
        world = World(seed=world_seed, scale=scale)
        for service in read:
            tables = world.snapshot.seed_of(service)
            for table in tables.values() if every else ():
                for _ in table.values():
                    pass
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1e6


def bench_world(*, runs: int = 200, seed: int = 0) -> dict[str, float]:
    """What a run's world costs: on a new seed, on a cached one, in memory.

    * ``start_ms_small`` / ``start_ms_large``: a run on a new seed starts in
      (``World(...)`` made and forked; seeded records are built on first read),
      median over fresh seeds;
    * ``first_reads_ms_small`` / ``first_reads_ms_large``: the same with what a
      typical run reads first (:func:`first_reads`: a charge, a customer's
      charges, the CRM account, a ticket...): when a run on a new seed has
      honestly started; targets 2 ms and 20 ms, and their ratios to building
      every service, ``first_reads_vs_eager_small`` / ``_large``;
    * ``touched_ms_small`` / ``touched_ms_large``: the same, plus building what a
      typical run reads (:data:`TOUCHED`);
    * ``eager_ms_small`` / ``eager_s_large``: the baseline, every service built
      and every record made (what each new seed cost before worlds were built
      on read, and before records were made one by one), and the
      ratios ``start_vs_eager_small`` and ``touched_vs_eager_small``;
    * ``cached_start_ms``: a run's world on a seed already built (small);
    * ``rss_mb_before`` / ``rss_mb_20_large``: resident memory before and after
      20 large worlds on new seeds, each read as a typical run does (the
      services of :data:`TOUCHED` and :func:`first_reads`; target 300 MB);
    * ``records_large``: the records of a large world, every record made.
    """
    from fakes import registered_services

    every = tuple(cls.name for cls in registered_services())
    gc.collect()
    rss_before = _rss_mb()
    few = max(3, min(runs, 200) // 20)
    base = 1_000_000 + seed
    World(seed=seed, scale="small").snapshot.seed_of("payments")  # imports, vocab
    eager_small = _new_seed_ms(
        "small", _fresh_seeds(few, start=base), every, every=True
    )
    start_small = _new_seed_ms("small", _fresh_seeds(runs, start=base + 10_000), ())
    touched_small = _new_seed_ms(
        "small", _fresh_seeds(few, start=base + 20_000), TOUCHED
    )
    first_small = _first_reads_ms("small", _fresh_seeds(runs, start=base + 70_000))
    start_large = _new_seed_ms("large", _fresh_seeds(runs, start=base + 30_000), ())
    first_large = _first_reads_ms("large", _fresh_seeds(few, start=base + 80_000))
    touched_large = _new_seed_ms("large", _fresh_seeds(3, start=base + 40_000), TOUCHED)
    eager_large = _new_seed_ms(
        "large", _fresh_seeds(1, start=base + 50_000), every, every=True
    )
    records_large = World(seed=base + 50_000, scale="large").snapshot.records()
    medians = _interleaved_medians(
        {"cached": (lambda: World(seed=seed, scale="small"), nullcontext)}, runs
    )
    for world_seed in _fresh_seeds(20, start=base + 60_000):
        world = World(seed=world_seed, scale="large")
        for service in TOUCHED:
            world.snapshot.seed_of(service)
        first_reads(world)
    del world
    gc.collect()
    return {
        "start_ms_small": round(start_small, 3),
        "start_ms_large": round(start_large, 3),
        "first_reads_ms_small": round(first_small, 3),
        "first_reads_ms_large": round(first_large, 3),
        "first_reads_vs_eager_small": round(first_small / eager_small, 4),
        "first_reads_vs_eager_large": round(first_large / eager_large, 5),
        "touched_ms_small": round(touched_small, 2),
        "touched_ms_large": round(touched_large, 1),
        "eager_ms_small": round(eager_small, 2),
        "eager_s_large": round(eager_large / 1000.0, 3),
        "start_vs_eager_small": round(start_small / eager_small, 4),
        "touched_vs_eager_small": round(touched_small / eager_small, 3),
        "cached_start_ms": round(medians["cached"] / 1000.0, 4),
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_20_large": round(_rss_mb(), 1),
        "records_large": records_large,
    }


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def bench_canary(*, cases: int = 10_000, seed: int = 0) -> dict[str, Any]:
    """A canary stream of ``cases`` over the payments and refunds libraries, with
    the careful reference agent as both candidate and control (10% routed, so
    every candidate case also runs its control twin).

    * ``cases``: cases in the stream; ``runs``: agent runs (cases plus twins);
    * ``wall_s``, ``cases_per_s``: wall time of the whole stream and its rate;
    * ``peak_rss_mb``: the process's peak resident memory.
    """
    from pathlib import Path

    from harness.agents.library import careful_agent
    from harness.modes.canary import CanaryConfig, run_canary
    from harness.scenario.loader import load_scenario

    root = Path(__file__).resolve().parents[1] / "scenarios"
    templates = [
        load_scenario(path)
        for name in ("payments", "refunds")
        for path in sorted((root / name).glob("*.yaml"))
    ]
    config = CanaryConfig(cases=cases, steps=(10.0,), seed=seed)
    started = time.perf_counter()
    report = run_canary(templates, careful_agent, careful_agent, config)
    wall = time.perf_counter() - started
    return {
        "cases": report.cases_run,
        "runs": report.cases_run + report.blast_radius.cases,
        "templates": len(templates),
        "verdict": str(report.verdict),
        "wall_s": round(wall, 2),
        "cases_per_s": round(report.cases_run / wall, 1),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }


# -- aqe bench models ----------------------------------------------------------------

#: Each model round trip in a run, its bare baseline and the name of their ratio.
MODEL_RATIOS = tuple(
    (f"{name}_call", f"bare_{name}", f"{name}_vs_bare_{name}")
    for api in ("chat", "messages")
    for name in (api, f"{api}_stream", f"{api}_one_tool")
)

#: The tool the scripted model calls, and the one a one-tool request carries.
_ONE_TOOL = "retrieve_charge"

#: The user's turn every model request carries.
_MODEL_PROMPT = (
    "Refund 1200 usd on the charge of ticket tkt_1; the customer was charged twice."
)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _ModelTarget:
    """What every model round trip shares: the run, its tools and credential,
    the script, and the canned answer to a request (what the run's provider
    sends for it)."""

    in_run: Within
    tools: Tools
    api_key: str
    script: Callable[[ModelCall], dict[str, Any]]
    seed: int

    def canned(self, endpoint: Endpoint, body: dict[str, Any]) -> Any:
        """An httpx2 client answering every request with what the run's
        provider answers ``body`` with."""
        import httpx2

        call = ModelCall(
            provider=ENDPOINTS[endpoint], endpoint=endpoint, body=body, seed=self.seed
        )
        answer, stream = complete(call, self.script(call))
        headers = {"content-type": EVENT_STREAM} if stream is not None else _FIXED
        content = stream if stream is not None else json.dumps(answer).encode()

        def handler(request: httpx2.Request) -> httpx2.Response:
            return httpx2.Response(200, headers=headers, content=content)

        return httpx2.Client(transport=httpx2.MockTransport(handler))


def bench_models(*, rounds: int = 500, seed: int = 0) -> dict[str, Any]:
    """Medians of model round trips through the official SDKs in a run, answered
    by a scripted model, against the same SDK calls over ``httpx2.MockTransport``
    returning the same answer.

    A request is what an agent written as the SDKs' docs show sends: one user
    message and every tool of the run (``env.tools.specs(format=...)``); the
    scripted model answers with a tool call. Each client is made once, as agents
    do.

    * ``chat_call_us``: ``chat.completions.create(...)`` of an ``openai.OpenAI()``
      client in a run (the httpx2 door, the HTTP door, the gateway, the OpenAI
      provider, the script); ``bare_chat_us`` the same call of an
      ``OpenAI(http_client=httpx2.Client(transport=httpx2.MockTransport(...)))``
      whose handler returns the canned body; their ratio ``chat_vs_bare_chat``;
    * ``chat_stream_*``: the same with ``stream=True``, every chunk read;
    * ``chat_one_tool_*``: the same as ``chat_*`` with one tool in the request
      (the SDK does the least work, so the harness's share is the largest);
    * ``messages_*``, ``messages_stream_*``, ``messages_one_tool_*``: the same
      with ``anthropic.Anthropic()``'s ``messages.create(...)``;
    * ``tools``: how many tools the requests carry (``*_one_tool_*`` aside).

    An SDK that is not installed has no figures. The target is each ratio at most
    2.0; the bench reports them, it asserts nothing.
    """
    charge: dict[str, str] = {}

    def script(call: ModelCall) -> dict[str, Any]:
        return call.tool_call(_ONE_TOOL, charge)

    setup = prepare_run(_SCENARIO, seed=seed, model=script)
    charge["charge"] = str(setup.world.records["charge"]["id"])

    @contextmanager
    def in_run() -> Iterator[None]:
        """A fresh run for each block (the same seed: the same credential and
        charge), so a run holds as many model calls as an agent's, not the
        bench's thousands (the history keeps every request)."""
        run = prepare_run(
            _SCENARIO, seed=seed, max_calls=4 * rounds + 1000, model=script
        )
        with in_sandbox(run, seed):
            yield

    target = _ModelTarget(
        in_run=in_run,
        tools=setup.tools,
        api_key=setup.identity.api_key,
        script=script,
        seed=seed,
    )
    with ExitStack() as stack:
        funcs: Calls = {}
        for calls in (_openai_calls, _anthropic_calls):
            funcs.update(stack.enter_context(calls(target)))
        if not funcs:
            raise HarnessError(
                "aqe bench models: neither the openai nor the anthropic SDK is "
                "installed\n    fix: pip install openai anthropic"
            )
        medians = _interleaved_medians(funcs, rounds)
    figures: dict[str, Any] = {}
    for call, baseline, ratio in MODEL_RATIOS:
        if call in medians:
            figures[f"{call}_us"] = round(medians[call], 2)
            figures[f"{baseline}_us"] = round(medians[baseline], 2)
            figures[ratio] = round(medians[call] / medians[baseline], 3)
    figures["tools"] = len(setup.tools.names)
    figures["rounds"] = rounds
    return figures


def _drain(events: Any) -> None:
    """Read a stream to its end, as an agent reads an answer."""
    with events:
        for _ in events:
            pass


def _round_trips(
    api: str,
    target: _ModelTarget,
    client: Callable[[dict[str, Any] | None], Any],
    create: Callable[..., Any],
    tools: list[dict[str, Any]],
    **ask: Any,
) -> Calls:
    """``create(client, **request)`` in the run (``client(None)``: the SDK's own
    HTTP client) and over MockTransport (``client(request)``: answering that
    request's canned body): whole, streamed, and whole with one tool."""
    sdk = client(None)
    whole = {**ask, "tools": tools}
    streamed = {**whole, "stream": True}
    one_tool = {**ask, "tools": [t for t in tools if _tool_name(t) == _ONE_TOOL]}

    def pair(name: str, request: dict[str, Any], send: Callable[..., Any]) -> Calls:
        bare = client(request)
        return {
            f"{name}_call": (partial(send, sdk, **request), target.in_run),
            f"bare_{name}": (partial(send, bare, **request), nullcontext),
        }

    def drained(sdk: Any, **request: Any) -> None:
        _drain(create(sdk, **request))

    return {
        **pair(api, whole, create),
        **pair(f"{api}_stream", streamed, drained),
        **pair(f"{api}_one_tool", one_tool, create),
    }


@contextmanager
def _openai_calls(target: _ModelTarget) -> Iterator[Calls]:
    """Chat Completions in a run and over MockTransport."""
    if importlib.util.find_spec("openai") is None:
        yield {}
        return
    import openai

    with ExitStack() as stack:

        def client(request: dict[str, Any] | None) -> Any:
            http = (
                None if request is None else target.canned("chat.completions", request)
            )
            made = openai.OpenAI(api_key=target.api_key, http_client=http)
            return stack.enter_context(made)

        def create(sdk: openai.OpenAI, **request: Any) -> Any:
            return sdk.chat.completions.create(**request)

        yield _round_trips(
            "chat",
            target,
            client,
            create,
            target.tools.specs(format="openai"),
            model="gpt-6.1-terra",
            reasoning_effort="none",
            messages=[{"role": "user", "content": _MODEL_PROMPT}],
        )


@contextmanager
def _anthropic_calls(target: _ModelTarget) -> Iterator[Calls]:
    """Messages in a run and over MockTransport."""
    if importlib.util.find_spec("anthropic") is None:
        yield {}
        return
    import anthropic

    with ExitStack() as stack:

        def client(request: dict[str, Any] | None) -> Any:
            http = None if request is None else target.canned("messages", request)
            made = anthropic.Anthropic(api_key=target.api_key, http_client=http)
            return stack.enter_context(made)

        def create(sdk: anthropic.Anthropic, **request: Any) -> Any:
            return sdk.messages.create(**request)

        yield _round_trips(
            "messages",
            target,
            client,
            create,
            target.tools.specs(format="anthropic"),
            model="claude-sonnet-5-5",
            max_tokens=1024,
            messages=[{"role": "user", "content": _MODEL_PROMPT}],
        )


def _tool_name(spec: dict[str, Any]) -> str:
    """A tool definition's name, in OpenAI's format or Anthropic's."""
    return str(spec.get("function", spec)["name"])
