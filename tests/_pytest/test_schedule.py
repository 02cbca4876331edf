"""Under ``-n N`` the scenarios a model answers stay on one worker (only it
imports the model SDKs); every other item is scheduled as xdist schedules it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from xdist.remote import Producer

from harness._pytest.schedule import (
    MODEL_GROUP,
    ModelAffinityScheduling,
    ModelGroupScheduling,
)
from tests.conftest import ROOT

MODELLED = [
    f"scenarios/llm/{name}.yaml::{name}[seed-{i}]"
    for name in ("llm_refund_ambiguous_timeout", "langgraph_refund_ambiguous_timeout")
    for i in range(3)
]
PLAIN = [
    f"scenarios/payments/{name}.yaml::{name}[seed-{i}]"
    for name in ("refund_ok", "refund_ambiguous_timeout", "refund_over_limit_approval")
    for i in range(4)
]


QUIET = Producer("aqe", enabled=False)


class Node:
    def __init__(self, name: str) -> None:
        self.name = name
        self.gateway = SimpleNamespace(id=name)
        self.shutting_down = False
        self.sent: list[int] = []

    def send_runtest_some(self, indices: list[int]) -> None:
        self.sent.extend(indices)

    def send_runtest_all(self) -> None:  # pragma: no cover - not used here
        raise AssertionError

    def shutdown(self) -> None:
        self.shutting_down = True


def _config(dist: str) -> Any:
    values = {"dist": dist, "tx": ["2*popen"], "maxschedchunk": None}
    return SimpleNamespace(
        getvalue=values.get,
        getoption=values.get,
        rootpath=ROOT,
        option=SimpleNamespace(loadscopereorder=True),
    )


def _run(
    sched: Any, collection: list[str], names: tuple[str, ...] = ("gw0", "gw1")
) -> dict[str, list[str]]:
    """Schedule ``collection`` on two nodes that finish every item they get."""
    nodes = [Node(name) for name in names]
    for node in nodes:
        sched.add_node(node)
    for node in nodes:
        sched.add_node_collection(node, collection)
    sched.schedule()
    while not sched.tests_finished:
        progressed = False
        for node in nodes:
            pending = sched.node2pending[node]
            # a worker runs an item once it holds the next one, or is told
            # there is no next one
            if len(pending) > 1 or (
                pending and (node.shutting_down or not sched.pending)
            ):
                index = pending[0]
                sched.mark_test_complete(node, index)
                progressed = True
        assert progressed, "the schedule stalled"
    return {n.name: [collection[i] for i in n.sent] for n in nodes}


def test_load_keeps_the_modelled_items_on_one_worker() -> None:
    collection = PLAIN[:6] + MODELLED + PLAIN[6:]
    ran = _run(ModelAffinityScheduling(_config("load"), QUIET), collection)

    holders = {name for name, ids in ran.items() if set(ids) & set(MODELLED)}
    assert len(holders) == 1
    (holder,) = holders
    assert ran[holder][: len(MODELLED)] == MODELLED  # first, so the other goes on
    assert sorted(ran["gw0"] + ran["gw1"]) == sorted(collection)
    assert all(ran.values())  # both workers worked


def test_load_hands_the_modelled_items_to_gw0_whichever_worker_asks_first() -> None:
    """gw0 knows it when it has collected, and starts their fork server then."""
    collection = MODELLED + PLAIN
    ran = _run(
        ModelAffinityScheduling(_config("load"), QUIET), collection, ("gw1", "gw0")
    )

    assert ran["gw0"][: len(MODELLED)] == MODELLED
    assert not set(ran["gw1"]) & set(MODELLED)


def test_load_is_xdists_when_most_items_have_a_model() -> None:
    collection = MODELLED + PLAIN[:2]
    ran = _run(ModelAffinityScheduling(_config("load"), QUIET), collection)

    assert all(set(ids) & set(MODELLED) for ids in ran.values())


def test_loadgroup_hands_the_model_group_to_gw0_whichever_worker_came_first() -> None:
    sched = ModelGroupScheduling(_config("loadgroup"), QUIET)
    collection = [*PLAIN, *MODELLED]
    gw1, gw0 = Node("gw1"), Node("gw0")
    for node in (gw1, gw0):
        sched.add_node(node)
        sched.add_node_collection(node, collection)
    sched.schedule()

    assert MODEL_GROUP in sched.assigned_work[gw0]
    assert MODEL_GROUP not in sched.assigned_work[gw1]
    assert [collection[i] for i in gw0.sent][: len(MODELLED)] == MODELLED


def test_loadgroup_makes_the_modelled_items_one_group() -> None:
    sched = ModelGroupScheduling(_config("loadgroup"), QUIET)
    collection = [*PLAIN[:6], *MODELLED, *PLAIN[6:], f"{PLAIN[0]}x@mine"]
    sched.add_node(Node("gw0"))
    sched.add_node(Node("gw1"))
    for node in sched.nodes:
        sched.add_node_collection(node, collection)
    sched.schedule()

    assert {sched._split_scope(n) for n in MODELLED} == {MODEL_GROUP}
    assert sched._split_scope(PLAIN[0]) == PLAIN[0]
    assert sched._split_scope(f"{PLAIN[0]}x@mine") == "mine"
