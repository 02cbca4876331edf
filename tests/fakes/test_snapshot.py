"""Seeded worlds built on first read: cheap to start, the same in any order or process."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import random
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pytest

from fakes import registered_services
from fakes.base import SCALES, FakeService, IdGenerator, Seed, WorldScale
from harness.world import snapshot
from harness.world.world import World

if TYPE_CHECKING:
    from faker import Faker

ROOT = Path(__file__).resolve().parents[2]


def states(world: World, order: tuple[str, ...]) -> dict[str, Any]:
    """Every service's seeded records, read in ``order``."""
    return {
        name: {c: copy.deepcopy(dict(t)) for c, t in world.service(name).state.items()}
        for name in order
    }


def digest(seed: int) -> str:
    world = World(seed=seed)
    data = {
        name: {c: dict(t) for c, t in s.state.items()}
        for name, s in sorted(world.services.items())
    }
    text = json.dumps(data, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_world_on_a_new_seed_builds_no_records_until_a_run_reads_them() -> None:
    snapshot.load_snapshot.cache_clear()
    large = World(seed=4101, scale="large")
    assert large.snapshot.built == ()
    assert large.snapshot.records() == 0
    world = World(seed=4101)
    assert world.service("payments").state["customers"].get("cus_nope") is None
    assert set(world.snapshot.built) == {"payments"}


def test_reading_a_service_builds_only_it_and_the_peers_it_reads() -> None:
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4102)
    len(world.service("tickets").state["tickets"])
    assert set(world.snapshot.built) <= {"payments", "iam", "tickets"}
    assert "crm" not in world.snapshot.built


def test_a_seed_builds_the_same_world_whichever_service_is_read_first() -> None:
    names = tuple(cls.name for cls in registered_services())
    snapshot.load_snapshot.cache_clear()
    World(seed=77).service("calendar").state["slots"].get("x")  # another seed first
    forwards = states(World(seed=4103), names)
    snapshot.load_snapshot.cache_clear()
    backwards = states(World(seed=4103), names[::-1])
    assert forwards == backwards


def test_the_same_seed_builds_the_same_world_in_another_process() -> None:
    code = "from tests.fakes.test_snapshot import digest; print(digest(4104))"
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)},
        ).stdout.strip()
        for hash_seed in ("1", "2")
    }
    assert digests == {digest(4104)}


def test_seeded_ids_and_a_runs_ids_come_from_disjoint_spaces() -> None:
    world = World(seed=4105)
    seeded = next(iter(world.service("payments").state["customers"]))
    made = [world.ids.new("cus", 14) for _ in range(200)]
    assert seeded.split("_", 1)[1][0].isupper()
    assert all(not ident.split("_", 1)[1][0].isupper() for ident in made)
    seeded_ids = IdGenerator.seeded(random.Random(1))
    assert all(seeded_ids.new("x", 10)[2].isupper() for _ in range(200))


class _Plants(FakeService):
    """A user's fake written against the original ``populate`` signature."""

    name = "plants"
    hosts = ("plants.sim",)
    collections: ClassVar[tuple[str, ...]] = ("plants",)

    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        owners = sorted(peers["payments"]["customers"])
        plants = {}
        for _ in range(5):
            ident = ids.new("pl", 10)
            plants[ident] = {"id": ident, "name": faker.word(), "owner": owners[0]}
        return {"plants": plants}


def test_a_fake_with_the_original_populate_gets_faker_and_its_peers() -> None:
    services = (*registered_services(), _Plants)
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4106, services=services)
    before = world.faker.random.getstate()
    plants = dict(world.service("plants").state["plants"])
    assert world.faker.random.getstate() == before  # the run's Faker did not move
    assert len(plants) == 5
    customers = world.service("payments").state["customers"]
    assert all(p["owner"] in customers for p in plants.values())
    snapshot.load_snapshot.cache_clear()
    again = World(seed=4106, services=services)
    again.faker.name()  # the run's Faker moves; the seeded plants do not
    assert dict(again.service("plants").state["plants"]) == plants


def test_the_cache_lets_a_world_over_its_budget_go_at_the_next_new_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(snapshot, "CACHE_RECORDS", 300)
    snapshot.load_snapshot.cache_clear()
    services = registered_services()
    first = snapshot.load_snapshot(4107, services, SCALES["small"])
    for table in first.seed_of("payments").values():
        dict(table)  # every record made: a lazy table weighs what it made
    assert first.records() > 300
    snapshot.load_snapshot(4108, services, SCALES["small"])
    info = snapshot.load_snapshot.cache_info()
    assert (info.misses, info.snapshots) == (2, 1)
    assert snapshot.load_snapshot(4108, services, SCALES["small"]).seed == 4108
    assert snapshot.load_snapshot.cache_info().hits == 1


class _Undeclared(FakeService):
    name = "undeclared"
    hosts = ("undeclared.sim",)
    collections: ClassVar[tuple[str, ...]] = ("plants",)

    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        return {"plants": {}, "pots": {}}


def test_a_populate_that_builds_an_undeclared_collection_is_told_to_declare_it() -> (
    None
):
    world = World(seed=4109, services=(_Undeclared,))
    with pytest.raises(ValueError, match="does not declare") as caught:
        world.service("undeclared").state["plants"].get("x")
    assert str(caught.value) == (
        "_Undeclared.populate built collection 'pots', which"
        " _Undeclared.collections does not declare\n"
        "    fix: add 'pots' to _Undeclared.collections"
        " (a run's tables are made before its seeded records are built)"
    )
