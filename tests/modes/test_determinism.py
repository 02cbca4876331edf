"""Same scenario + agent + seed ⇒ byte-identical trace; other seeds ⇒ other data."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import uuid
from pathlib import Path
from uuid import uuid4 as taken_uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import AgentEnv, AgentResult, Task, run_scenario
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.reporting.trace import trace_bytes
from harness.world import World
from tests.conftest import ROOT, payments_scenario

TIMEOUT = payments_scenario("refund_ambiguous_timeout")
APPROVAL = payments_scenario("refund_over_limit_approval")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_same_seed_gives_a_byte_identical_trace(seed: int) -> None:
    for scenario, agent in (
        (TIMEOUT, naive_refund_agent),
        (APPROVAL, careful_refund_agent),
    ):
        first = trace_bytes(run_scenario(scenario, agent, seed=seed))
        second = trace_bytes(run_scenario(scenario, agent, seed=seed))
        assert first == second


def jittery_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Draws from the global random module and uuid4, as SDKs do for jitter and keys."""
    key = str(uuid.uuid4())
    env.tools.call(
        "create_refund",
        charge=task.input["charge"],
        amount=task.input["amount"],
        idempotency_key=key,
        metadata={"jitter": f"{random.random():.12f}"},
    )
    return AgentResult(status="done", summary=key)


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_global_random_and_uuid4_are_seeded_from_the_run_seed(seed: int) -> None:
    first = run_scenario(TIMEOUT, jittery_agent, seed=seed)
    second = run_scenario(TIMEOUT, jittery_agent, seed=seed)
    assert first.agent_result == second.agent_result
    assert trace_bytes(first) == trace_bytes(second)


def test_the_global_random_state_is_restored_after_a_run() -> None:
    random.seed(1234)
    expected = random.Random(1234).random()
    run_scenario(TIMEOUT, jittery_agent, seed=3)
    assert random.random() == expected


def test_different_seeds_give_different_faker_data() -> None:
    def people(seed: int) -> list[tuple[str, str]]:
        customers = World(seed=seed).service("payments").state["customers"].values()
        return [(c["name"], c["email"]) for c in customers]

    assert people(1) == people(1)
    assert people(1) != people(2)
    assert len(set(people(1)) & set(people(2))) < 5


def test_different_seeds_give_different_record_ids_and_traces() -> None:
    one = run_scenario(TIMEOUT, careful_refund_agent, seed=1)
    two = run_scenario(TIMEOUT, careful_refund_agent, seed=2)
    assert one.world.records["charge"]["id"] != two.world.records["charge"]["id"]
    assert trace_bytes(one) != trace_bytes(two)


TRACE_DIGEST = """
import hashlib
from harness import run_scenario
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.reporting.trace import trace_bytes
from tests.conftest import payments_scenario
out = []
for name in ("refund_ambiguous_timeout", "refund_over_limit_approval"):
    for agent in (careful_refund_agent, naive_refund_agent):
        data = trace_bytes(run_scenario(payments_scenario(name), agent, seed=99))
        out.append(hashlib.sha256(data).hexdigest()[:16])
print(" ".join(out))
"""


@pytest.mark.parametrize("hashseeds", [("1", "2")])
def test_traces_are_identical_across_processes_and_hash_seeds(
    hashseeds: tuple[str, str],
) -> None:
    digests = {
        subprocess.run(
            [sys.executable, "-c", TRACE_DIGEST],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in hashseeds
    }
    assert len(digests) == 1
    (digest,) = digests
    assert len(digest.split()) == 4


def test_an_id_drawn_while_a_module_is_imported_is_not_the_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A library imported for the first time during a run (module-level ids, as
    opentelemetry's context keys) leaves the run's ids as a later run draws them."""
    (tmp_path / "aqe_draws_on_import.py").write_text(
        "import uuid\nKEY = uuid.uuid4()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "aqe_draws_on_import", raising=False)

    def agent(task: Task, env: AgentEnv) -> AgentResult:
        import aqe_draws_on_import  # noqa: F401

        return AgentResult(summary=str(uuid.uuid4()))

    first = run_scenario(TIMEOUT, agent, seed=7)  # imports it
    later = run_scenario(TIMEOUT, agent, seed=7)  # finds it imported

    assert first.agent_result == later.agent_result
    assert "aqe_draws_on_import" in sys.modules


def test_uuid4_taken_by_name_before_a_run_draws_the_runs_ids() -> None:
    def agent(task: Task, env: AgentEnv) -> AgentResult:
        return AgentResult(summary=f"{taken_uuid4()} {uuid.uuid4()}")

    one = run_scenario(TIMEOUT, agent, seed=7)
    two = run_scenario(TIMEOUT, agent, seed=7)

    assert one.agent_result is not None
    assert one.agent_result == two.agent_result
    assert uuid.uuid4 is taken_uuid4  # the function is left in place
