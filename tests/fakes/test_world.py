"""The world the fakes live in: seeded, isolated between runs, sealed off from the net."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from fakes.base import SCALES
from harness.run import RunSetup, prepare_run
from harness.scenario.loader import scenario_from_dict
from harness.world import snapshot
from harness.world.history import EntryType
from harness.world.world import World
from tests.fakes.conftest import RECORDS, SEED, Door


def seeded_states(world: World) -> dict[str, Any]:
    return copy.deepcopy({name: s.state for name, s in world.services.items()})


def customers(world: World) -> list[dict[str, Any]]:
    return list(world.service("payments").state["customers"].values())


def fresh_snapshots() -> None:
    """Forget the cached snapshots, so the next world is built by Faker again."""
    snapshot.load_snapshot.cache_clear()


# -- seeds --------------------------------------------------------------------------


def test_the_same_seed_builds_identical_seeded_data() -> None:
    fresh_snapshots()
    first = seeded_states(World(seed=11))
    fresh_snapshots()
    second = seeded_states(World(seed=11))
    assert snapshot.load_snapshot.cache_info().misses == 1
    assert first == second
    assert len(first["payments"]["customers"]) == SCALES["small"].customers
    assert len(first["payments"]["charges"]) == SCALES["small"].charges
    assert len(first["tickets"]["tickets"]) == SCALES["small"].tickets


def test_different_seeds_build_different_people() -> None:
    one, two = World(seed=1), World(seed=2)
    names = ({c["name"] for c in customers(one)}, {c["name"] for c in customers(two)})
    emails = (
        {c["email"] for c in customers(one)},
        {c["email"] for c in customers(two)},
    )
    assert names[0] != names[1]
    assert emails[0] != emails[1]
    assert set(one.service("payments").state["charges"]).isdisjoint(
        two.service("payments").state["charges"]
    )


def test_tickets_name_real_customers_of_the_same_world() -> None:
    world = World(seed=3)
    payments = world.service("payments").state
    for ticket in world.service("tickets").state["tickets"].values():
        customer = payments["customers"][ticket["customer"]]
        assert ticket["requester"] == {
            "name": customer["name"],
            "email": customer["email"],
        }
        assert payments["charges"][ticket["charge"]]["customer"] == customer["id"]


def test_the_same_seed_prepares_the_same_named_records() -> None:
    spec = {
        "name": "t",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": RECORDS},
    }
    runs = [prepare_run(scenario_from_dict(spec), seed=21) for _ in range(2)]
    ids = [{name: r["id"] for name, r in run.world.records.items()} for run in runs]
    assert ids[0] == ids[1]
    assert runs[0].identity == runs[1].identity
    other = prepare_run(scenario_from_dict(spec), seed=22)
    assert other.world.records["charge"]["id"] != ids[0]["charge"]


def test_faker_made_record_fields_do_not_depend_on_the_snapshot_cache() -> None:
    fresh_snapshots()
    cold = World(seed=7).service("payments").create_record("customer", {})
    warm = World(seed=7).service("payments").create_record("customer", {})
    assert (cold["name"], cold["email"]) == (warm["name"], warm["email"])


# -- isolation between runs ---------------------------------------------------------


def test_a_runs_mutations_never_leak_into_the_next_world_for_the_same_seed(
    door: Door, sim: RunSetup
) -> None:
    pristine = seeded_states(World(seed=SEED))
    world = sim.world
    charge = next(
        c
        for c in world.service("payments").state["charges"].values()
        if c["amount_refunded"] == 0 and c["status"] == "succeeded"
    )
    ticket = next(
        t
        for t in world.service("tickets").state["tickets"].values()
        if t["status"] == "open"
    )
    door.call("create_refund", charge=charge["id"], amount=charge["amount"])
    door.call("update_ticket", ticket=ticket["id"], status="solved", tags=["x"])
    door.call("add_ticket_comment", ticket=ticket["id"], body="Done.")
    door.call("escalate", reason="tool_failure", summary="Check it.")
    door.call("send_message", channel="chat", to="#ops", body="Done.")
    assert len(world.ledger) == 5

    after = seeded_states(World(seed=SEED))
    assert after == pristine
    assert after["payments"]["charges"][charge["id"]]["amount_refunded"] == 0
    assert after["tickets"]["tickets"][ticket["id"]]["status"] == "open"
    assert sim.world.records["charge"]["id"] not in after["payments"]["charges"]


def test_editing_a_result_of_the_function_door_does_not_change_the_world(
    sim: RunSetup,
) -> None:
    ticket_id = sim.world.records["ticket"]["id"]
    result = sim.tools.call("get_ticket", ticket=ticket_id)
    result["tags"].append("edited-by-the-agent")
    result["requester"]["email"] = "someone-else@example.com"
    live = sim.world.service("tickets").state["tickets"][ticket_id]
    assert live["tags"] == []
    assert live["requester"]["email"] != "someone-else@example.com"


# -- the HTTP door's edges ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "https://payments.sim/v1/nope"),
        ("GET", "https://api.stripe.com/v1/payouts"),
        ("GET", "https://tickets.sim/v2/tickets"),
        ("POST", "https://ops.sim/v1/escalations/esc_1"),
        ("DELETE", "https://notify.sim/v1/messages/msg_1"),
    ],
)
def test_an_unknown_route_on_a_simulated_host_is_a_404_route_not_found(
    http: httpx.Client, sandboxed: RunSetup, method: str, url: str
) -> None:
    response = http.request(method, url)
    assert response.status_code == 404
    path = httpx.URL(url).path
    assert response.json() == {
        "error": {
            "type": "invalid_request_error",
            "code": "route_not_found",
            "message": f"Unrecognized request URL ({method}: {path}).",
        }
    }
    assert len(sandboxed.world.ledger) == 0
    (entry,) = [h for h in sandboxed.world.history if h.f == "route_not_found"]
    assert entry.value == {
        "door": "http",
        "method": method,
        "url": f"https://{httpx.URL(url).host}{path}",
        "status": 404,
    }


def test_a_request_to_a_host_that_is_not_simulated_is_blocked_and_recorded(
    http: httpx.Client, sandboxed: RunSetup
) -> None:
    hosts = ", ".join(sorted(sandboxed.door.hosts))
    with pytest.raises(httpx.ConnectError) as raised:
        http.post("https://api.example.com/v1/refunds?x=1", data={"charge": "ch_1"})
    assert str(raised.value) == (
        "aqe: blocked outbound request to api.example.com: only simulated hosts "
        f"are reachable during a run ({hosts})"
    )
    [entry] = sandboxed.world.history.by_process("security")
    assert (entry.type, entry.f) == (EntryType.FAIL, "blocked_request")
    assert dict(entry.value) == {
        "door": "http",
        "method": "POST",
        "url": "https://api.example.com/v1/refunds",
    }
    assert sandboxed.world.history.by_process("agent") == []


def test_a_client_without_credentials_is_blocked_from_other_hosts_too(
    sandboxed: RunSetup,
) -> None:
    with httpx.Client() as client, pytest.raises(httpx.ConnectError):
        client.get("http://localhost:8080/")
    [entry] = sandboxed.world.history.by_process("security")
    assert entry.value["url"] == "http://localhost/"


def test_ids_are_the_same_for_the_same_stream_in_every_version() -> None:
    """A seeded world's and a run's ids are part of the trace: pinned here."""
    import random

    from fakes.base import IdGenerator

    made = [
        [g.new("ch"), g.new("slot", 14), g.new("prov", 10)]
        for g in (
            IdGenerator.seeded(random.Random(11)),
            IdGenerator.fork(frozenset(), random.Random(11)),
            IdGenerator(random.Random(11)),
        )
    ]
    assert made == [
        ["ch_BSXPc0xJod0nPk2Pq19b240Q", "slot_Wdc0d3ZIq3O94g", "prov_MtpelnlrnT"],
        ["ch_bSXPc0xJod0nPk2Pq19b240Q", "slot_wdc0d3ZIq3O94g", "prov_mtpelnlrnT"],
        ["ch_bSXPc0xJod0nPk2Pq19b240Q", "slot_wdc0d3ZIq3O94g", "prov_MtpelnlrnT"],
    ]


def test_the_owner_of_a_record_the_run_made_is_found_without_seeding_others() -> None:
    from harness.world import snapshot

    snapshot.load_snapshot.cache_clear()
    world = World(seed=4501)
    patient = world.service("calendar").create_record("patient", {"name": "Ana Cruz"})
    built = world.snapshot.built
    owner = world.owner_of(patient["id"])
    assert owner is not None
    assert (owner[0].name, owner[1]) == ("calendar", patient)
    assert world.snapshot.built == built
    seeded = next(iter(world.service("payments").records("customers")))
    found = world.owner_of(seeded)
    assert found is not None
    assert found[0].name == "payments"


def test_a_closed_world_is_freed_by_reference_counting_and_refuses_calls() -> None:
    import gc
    import weakref

    from harness.errors import HarnessError

    world = World(seed=SEED)
    payments = world.service("payments")
    charge = payments.create_record("charge", {"amount": 1200})
    world.close()
    assert world.service("payments").state["charges"][charge["id"]] == charge
    with pytest.raises(HarnessError, match=r"world\.ids: this run's world is closed"):
        payments.create_record("charge", {"amount": 1200})
    del payments
    gone = weakref.ref(world)
    enabled = gc.isenabled()
    gc.disable()
    try:
        del world
        assert gone() is None  # no cycle left for the collector
    finally:
        if enabled:
            gc.enable()
