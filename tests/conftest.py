from __future__ import annotations

import shutil
from pathlib import Path

import pandas  # noqa: F401
import pytest
import scipy.stats  # noqa: F401
from hypothesis import settings

import harness.run  # noqa: F401 - see pytest_plugins below
from harness.scenario.loader import load_scenario, scenario_from_dict
from harness.scenario.model import Scenario

ROOT = Path(__file__).resolve().parents[1]
PAYMENTS = ROOT / "scenarios" / "payments"

pytest_plugins = ["pytester"]
# pandas, numpy and scipy are imported above, before any in-process pytester run:
# pytester restores sys.modules after each run, and numpy cannot be imported twice
# in one process. harness.run too (via the loader): a second import of its httpx
# door would register respx's 'aqe' mocker twice (an INTERNALERROR in every test
# module that ran a session before importing it, when run alone).

#: The slow CI job's Hypothesis profile (``--hypothesis-profile=ci``, with the full
#: counts of ``AQE_SLOW=1``): the same examples on every run and no example
#: database, so a failure there reproduces with the same command anywhere.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)

#: The modules whose tests take longest (10-110 s each on a busy 2-core machine,
#: several of them one xdist group a single worker runs), slowest first. They
#: start first, so ``-n 2`` does not end with one worker running them alone
#: while the other idles: alphabetical order put most of them in the last 5%.
SLOWEST_FIRST = (
    "tests/gateway/test_allowed_hosts.py",
    "tests/security/test_secrets_in_files.py",
    "tests/agents/test_llm_agents.py",
    "tests/test_bench.py",
    "tests/test_plugin.py",
    "tests/reporting/test_session.py",
    "tests/isolation/test_isolation.py",
    "tests/models/test_session.py",
    "tests/gateway/test_mcp.py",
    "tests/faults/test_fuzz.py",
    "tests/models/test_providers.py",
    "tests/modes/test_shadow_session.py",
    "tests/security/test_red_team.py",
    "tests/modes/test_canary.py",
    "tests/faults/test_faults.py",
    "tests/runtime/test_warnings.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest modules first (a stable sort: the rest keep their order)."""
    rank = {path: place for place, path in enumerate(SLOWEST_FIRST)}
    last = len(rank)
    items.sort(key=lambda item: rank.get(item.nodeid.partition("::")[0], last))


def copy_payments(pytester: pytest.Pytester) -> pytest.Pytester:
    """A temporary project holding the payments scenarios and their packs."""
    target = pytester.path / "scenarios" / "payments"
    target.mkdir(parents=True)
    for path in sorted(PAYMENTS.glob("*.yaml")):
        shutil.copy(path, target / path.name)
    shutil.copytree(PAYMENTS.parent / "policies", target.parent / "policies")
    return pytester


def payments_scenario(name: str) -> Scenario:
    return load_scenario(PAYMENTS / f"{name}.yaml")


def small_scenario(**overrides: object) -> Scenario:
    """A refund-shaped scenario built in Python, for tests that tweak one part."""
    data: dict[str, object] = {
        "name": "small",
        "rationale": "a test scenario",
        "task": {
            "instructions": "Refund {amount} on {charge}",
            "input": {
                "ticket_id": "$ticket.id",
                "charge": "$charge.id",
                "amount": 1200,
                "currency": "usd",
            },
        },
        "world": {
            "records": {
                "charge": {"service": "payments", "kind": "charge", "amount": 5000},
                "ticket": {
                    "service": "tickets",
                    "kind": "ticket",
                    "charge": "$charge.id",
                },
            }
        },
    }
    data.update(overrides)
    return scenario_from_dict(data)


def seeded_ceo(seed: int = 0) -> str:
    """The id of the seeded IAM's first employee, the CEO (active, in no
    privileged group), in the world of ``seed`` (a run's default is 0)."""
    from harness.world.world import World

    return next(iter(World(seed=seed).service("iam").state["users"]))


def seeded_group(name: str, seed: int = 0) -> str:
    """The id of the seeded IAM group ``name`` in the world of ``seed``."""
    from harness.world.world import World

    groups = World(seed=seed).service("iam").state["groups"]
    return str(groups.where("name", name)[0]["id"])


@pytest.fixture
def small() -> Scenario:
    return small_scenario()
