"""Copy-on-write tables: runs share the seeded base and never change it."""

from __future__ import annotations

import hashlib
import json

import pytest

from fakes import registered_services
from fakes.base import SCALES
from fakes.table import BaseTable, Table
from harness import run_scenario
from harness.agents.reference import careful_refund_agent, naive_refund_agent
from harness.world import snapshot
from tests.conftest import PAYMENTS, payments_scenario


def base_digest(seed: int) -> str:
    snap = snapshot.load_snapshot(seed, registered_services(), SCALES["small"])
    data = {
        service: {name: dict(table.records) for name, table in tables.items()}
        for service, tables in snap.tables.items()
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("name", sorted(p.stem for p in PAYMENTS.glob("*.yaml")))
def test_runs_never_change_the_shared_seeded_base(name: str) -> None:
    scenario = payments_scenario(name)
    run_scenario(scenario, careful_refund_agent, seed=3)  # builds the snapshot
    before = base_digest(3)
    for agent in (careful_refund_agent, naive_refund_agent):
        run_scenario(scenario, agent, seed=3)
    assert base_digest(3) == before


def test_a_write_copies_the_record_into_the_run_and_leaves_the_base() -> None:
    base = BaseTable({"a": {"id": "a", "tags": ["x"]}, "b": {"id": "b", "tags": []}})
    run = Table(base)
    record = run.writable("a")
    record["tags"].append("y")
    assert run["a"]["tags"] == ["x", "y"]
    assert base.records["a"]["tags"] == ["x"]
    assert Table(base)["a"]["tags"] == ["x"]


def test_a_table_reads_adds_and_deletes_like_a_dict() -> None:
    run = Table(BaseTable({"a": {"id": "a", "k": 1}, "b": {"id": "b", "k": 2}}))
    run["c"] = {"id": "c", "k": 1}
    del run["b"]
    assert list(run) == ["a", "c"]
    assert len(run) == 2
    assert "b" not in run
    assert run.get("b") is None
    assert [r["id"] for r in run.where("k", 1)] == ["a", "c"]
    assert [r["id"] for r in run.values()] == ["a", "c"]
    with pytest.raises(KeyError):
        run["b"]


def test_where_sees_the_runs_changes_over_the_indexed_base() -> None:
    run = Table(BaseTable({"a": {"id": "a", "k": 1}, "b": {"id": "b", "k": 1}}))
    run.writable("a")["k"] = 2
    assert [r["id"] for r in run.where("k", 1)] == ["b"]
    assert [r["id"] for r in run.where("k", 2)] == ["a"]
