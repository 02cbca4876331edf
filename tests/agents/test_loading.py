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
