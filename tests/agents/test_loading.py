"""Loading a ``module:callable`` agent brings in none of what agents outside the
process need (their loopback server, its TLS authority: trustme, cryptography),
neither in pytest's process nor in the agent's fork server."""

from __future__ import annotations

import subprocess
import sys

from harness.agents.loading import load_agent
from harness.runtime.outside import CommandAgent, ServiceAgent
from tests.conftest import ROOT

CAREFUL = "harness.agents.reference:careful_refund_agent"

CHECK = f"""
import sys
from harness.agents.loading import load_agent
load_agent({CAREFUL!r})
print(sorted(m for m in ("harness.runtime.outside", "trustme", "cryptography")
             if m in sys.modules))
"""


def test_a_module_agent_loads_without_the_outside_agents_machinery() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_a_command_and_a_service_load_as_outside_agents() -> None:
    assert isinstance(load_agent("cmd:true"), CommandAgent)
    assert isinstance(load_agent("http://127.0.0.1:9/run"), ServiceAgent)


SERVER_SIDE = f"""
import sys
from harness.isolation import child
from harness.agents.loading import load_agent
load_agent({CAREFUL!r})
print(sorted(m for m in ("harness.gateway.core", "harness.isolation.host",
                         "fakes.registry", "harness.faults", "jsonschema", "simpy")
             if m in sys.modules))
"""


def test_the_agents_process_imports_none_of_the_harnesss_side_of_a_run() -> None:
    """What a fork server imports for the careful agent (the child's modules and
    the agent) holds no gateway core, fakes, fault plan or clock: only the
    harness's side of a run uses them."""
    done = subprocess.run(
        [sys.executable, "-c", SERVER_SIDE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "[]"
