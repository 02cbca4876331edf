"""``aqe bench service``: what a tool call costs an agent outside the process,
over the loopback server (:mod:`harness.gateway.loopback`), against the same
call in process and against a bare loopback HTTP round trip.

The outside agent is what it is in a run: another process, here a small
``http.client`` loop on one keep-alive connection, timing each call itself (so
the figures hold what the agent waits for, not the harness's own view). The
measurements are interleaved in blocks, a fresh client process for each, so a
slow phase of a shared machine hits them all alike.

* ``loopback_call_us``: ``GET $AQE_BASE_URL/payments/v1/charges/{id}`` from the
  client process, through the loopback server, the HTTP door and the gateway;
* ``bare_loopback_us``: the same request from the same client to a bare
  ``http.server`` on loopback that answers the fake's answer, made once (what
  any HTTP round trip over loopback costs); ``loopback_vs_bare_loopback``;
* ``http_call_us``: the same read through ``env.http`` in process (httpx → respx
  → the HTTP door + gateway); ``loopback_vs_http_door``;
* ``command_run_ms``: a whole run of a command agent that returns at once (its
  namespaces, its init, ``/bin/sh``; what a command adds to a run).

The bench reports; it asserts nothing.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import httpx

from harness.bench import (
    _SCENARIO,
    BLOCKS,
    _interleaved_medians,
    _sample,
    in_sandbox,
)
from harness.gateway.loopback import LoopbackServer
from harness.run import prepare_run, run_scenario
from harness.runtime.outside import CommandAgent

#: The outside agent: N timed GETs on one keep-alive connection, in ns, as JSON.
_CLIENT = """
import gc, http.client, json, sys, time
port, path, key, rounds, warm = sys.argv[1:6]
connection = http.client.HTTPConnection("127.0.0.1", int(port))
headers = {"Authorization": "Bearer " + key}
clock, times = time.perf_counter_ns, []
gc.disable()
for i in range(int(warm) + int(rounds)):
    start = clock()
    connection.request("GET", path, headers=headers)
    answer = connection.getresponse()
    answer.read()
    times.append(clock() - start)
    if answer.status != 200:
        sys.exit(f"HTTP {answer.status}")
print(json.dumps(times[int(warm):]))
"""


def bench_service(*, rounds: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Medians of a tool call over the loopback server, against the bare loopback
    round trip and the in-process HTTP door."""
    setup = prepare_run(_SCENARIO, seed=seed, max_calls=4 * rounds + 2000)
    charge = str(setup.world.records["charge"]["id"])
    key = setup.identity.api_key
    answer = setup.door.exchange(
        "GET",
        f"https://payments.sim/v1/charges/{charge}",
        [("authorization", f"Bearer {key}")],
        b"",
    )
    samples: dict[str, list[int]] = {"loopback_call": [], "bare_loopback": []}
    per_block = max(1, rounds // BLOCKS)
    with (
        LoopbackServer(setup.door, setup.world.clock) as served,
        _bare_server(answer.body) as bare_port,
    ):
        targets = {
            "loopback_call": (served.port, f"/payments/v1/charges/{charge}"),
            "bare_loopback": (bare_port, f"/v1/charges/{charge}"),
        }
        for port, path in targets.values():
            _client(port, path, key, 1, warm=min(200, rounds))
        for _ in range(BLOCKS):
            for name, (port, path) in targets.items():
                samples[name] += _client(port, path, key, per_block, warm=20)
    medians = {name: statistics.median(v) / 1000.0 for name, v in samples.items()}
    medians["http_call"] = _in_process(rounds, seed, charge)
    runs: list[int] = []
    agent = CommandAgent(command="echo '{}'")
    _sample(lambda: run_scenario(_SCENARIO, agent, seed=seed), 5, runs)
    return {
        "loopback_call_us": round(medians["loopback_call"], 2),
        "bare_loopback_us": round(medians["bare_loopback"], 2),
        "loopback_vs_bare_loopback": round(
            medians["loopback_call"] / medians["bare_loopback"], 3
        ),
        "http_call_us": round(medians["http_call"], 2),
        "loopback_vs_http_door": round(
            medians["loopback_call"] / medians["http_call"], 3
        ),
        "command_run_ms": round(statistics.median(runs) / 1e6, 2),
        "rounds": rounds,
    }


def _client(port: int, path: str, key: str, rounds: int, *, warm: int) -> list[int]:
    done = subprocess.run(
        [sys.executable, "-c", _CLIENT, str(port), path, key, str(rounds), str(warm)],
        capture_output=True,
        check=True,
        text=True,
    )
    times: list[int] = json.loads(done.stdout)
    return times


def _in_process(rounds: int, seed: int, charge: str) -> float:
    run = prepare_run(_SCENARIO, seed=seed, max_calls=4 * rounds + 2000)

    def in_run() -> Any:
        return in_sandbox(run, seed)

    url = f"https://payments.sim/v1/charges/{charge}"
    headers = {"authorization": f"Bearer {run.identity.api_key}"}
    with httpx.Client(headers=headers) as client:
        medians = _interleaved_medians(
            {"http_call": (lambda: client.get(url), in_run)}, rounds
        )
    return medians["http_call"]


@contextmanager
def _bare_server(body: bytes) -> Iterator[int]:
    class Fixed(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self.send_response_only(200)
            self.send_header("content-type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Fixed)
    server.daemon_threads = True
    thread = Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        thread.join()
        server.server_close()
