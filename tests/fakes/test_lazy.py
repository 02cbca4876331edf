"""Lazily seeded worlds: records made when read, the same whatever is read first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from fakes import registered_services
from fakes.base import SCALES, IdGenerator
from fakes.lazy import IdCodec, LazyRecords, stable_key
from fakes.payments.service import Payments
from harness.world import snapshot
from harness.world.world import World

ROOT = Path(__file__).resolve().parents[2]
#: What a run commonly reads first (as ``aqe bench world`` does).
FIRST_READS = """
from harness.bench import first_reads
from harness.world.world import World
import json, sys
world = World(seed=int(sys.argv[1]))
first_reads(world)
payments = world.service("payments")
charge = next(iter(payments.records("charges")))
print(json.dumps([charge, payments.records("charges")[charge]], sort_keys=True))
"""


def lazy_tables(world: World) -> dict[tuple[str, str], LazyRecords]:
    out = {}
    for cls in registered_services():
        for name, table in world.snapshot.seed_of(cls.name).items():
            if isinstance(table, LazyRecords):
                out[cls.name, name] = table
    return out


def everything(world: World) -> dict[str, Any]:
    return {
        f"{service}.{name}": dict(table.items())
        for (service, name), table in sorted(lazy_tables(world).items())
    }


def test_a_seeded_id_decodes_to_its_slot_and_no_other_string_does() -> None:
    codec = IdCodec("ch", 24, stable_key("test"))
    ids = [codec.ident(slot) for slot in range(2000)]
    assert len(set(ids)) == 2000
    assert [codec.slot(i) for i in ids] == list(range(2000))
    assert all(len(i) == 27 and i[3].isupper() for i in ids)
    run_ids = IdGenerator.fork(frozenset(), __import__("random").Random(1))
    assert all(codec.slot(run_ids.new("ch")) is None for _ in range(200))
    one = ids[7]
    assert codec.slot(one[:-1] + ("A" if one[-1] != "A" else "B")) is None
    assert codec.slot(one.replace("ch_", "re_")) is None
    assert IdCodec("ch", 24, stable_key("other")).slot(one) is None


def test_a_short_lazily_seeded_id_is_refused_with_the_fix() -> None:
    with pytest.raises(ValueError, match="fix: make 'grp' ids at least 7 long"):
        IdCodec("grp", 6, 1)


def test_every_finder_answers_as_a_scan_of_every_record_would() -> None:
    world = World(seed=4301)
    for (service, name), table in lazy_tables(world).items():
        records = list(table.values())
        for field in table.found_fields:
            values = {json.dumps(r.get(field)): r.get(field) for r in records[:40]}
            for value in [*values.values(), "nope", None]:
                found = table.where(field, value)
                assert found is not None, (service, name, field)
                expected = [(r["id"], r) for r in records if r.get(field) == value]
                assert found == expected, (service, name, field, value)


def test_reading_a_customer_s_charges_makes_only_them() -> None:
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4302, scale="large")
    payments = world.service("payments")
    charge = payments.records("charges")[next(iter(payments.records("charges")))]
    mine = payments.query("charges", {"customer": charge["customer"]})
    assert charge in mine
    made = world.snapshot.records()
    assert 0 < made < 100, made


def test_the_same_seed_gives_the_same_world_whatever_is_read_first() -> None:
    snapshot.load_snapshot.cache_clear()
    first = World(seed=4303)
    tickets = first.service("tickets")
    some = list(tickets.records("tickets"))[-3:]
    crm = first.service("crm")
    crm.query("contacts", {"account": next(iter(crm.records("accounts")))})
    read_first = {i: tickets.records("tickets")[i] for i in some}
    whole_first = everything(first)
    snapshot.load_snapshot.cache_clear()
    second = World(seed=4303)
    whole_second = everything(second)
    assert whole_first == whole_second
    assert {i: whole_second["tickets.tickets"][i] for i in some} == read_first


def test_threads_reading_a_new_world_at_once_get_the_same_records() -> None:
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4304)
    seen: list[dict[str, Any]] = []

    def read() -> None:
        charges = world.service("payments").records("charges")
        seen.append({i: charges[i] for i in list(charges)[::7]})

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 4
    assert all(s == seen[0] for s in seen)
    table = world.snapshot.seed_of("payments")["charges"]
    assert all(table[i] is seen[0][i] for i in seen[0])  # one record, memoised


def test_a_lazily_seeded_world_is_the_same_in_another_process_and_hash_seed() -> None:
    there = json.loads(_first_reads_in_child(4305, "1234"))
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4305)  # here, nothing read before the charge
    charges = world.service("payments").records("charges")
    assert there == [there[0], charges[there[0]]]


def _first_reads_in_child(seed: int, hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_READS, str(seed)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout.strip().splitlines()[-1]


def test_populate_of_a_lazily_seeded_fake_makes_every_record() -> None:
    import random

    rng = random.Random(7)
    seed = Payments.populate(
        None,  # type: ignore[arg-type]
        rng,
        IdGenerator(rng),
        {},
        SCALES["small"],
    )
    assert set(seed) == set(Payments.collections)
    assert len(seed["charges"]) == SCALES["small"].charges
    assert len(seed["customers"]) == SCALES["small"].customers
    again = Payments.populate(
        None,  # type: ignore[arg-type]
        random.Random(7),
        IdGenerator(random.Random(7)),
        {},
        SCALES["small"],
    )
    assert again == seed


def test_finders_by_email_and_name_answer_as_a_scan_for_every_record() -> None:
    for seed in (4306, 4307):
        world = World(seed=seed)
        tables = lazy_tables(world)
        for key, field in (
            (("crm", "contacts"), "email"),
            (("crm", "accounts"), "name"),
            (("crm", "leads"), "email"),
            (("payments", "customers"), "email"),
            (("iam", "users"), "email"),
        ):
            table = tables[key]
            records = list(table.values())
            values = [r[field] for r in records]
            near = [f"{v} 2" for v in values[:5]] + [f"x{v}" for v in values[:5]]
            near += [v.replace("@", "0@") for v in values[:5]]
            for value in [*values, *near, "", "@", "0@x", "9" * 5000 + "@x"]:
                expected = [(r["id"], r) for r in records if r[field] == value]
                assert table.where(field, value) == expected, (key, value)


def test_a_contact_found_by_email_makes_only_its_account() -> None:
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4308)
    crm = world.service("crm")
    contacts = world.snapshot.seed_of("crm")["contacts"]
    wanted = contacts.at(8 * 37 + 1) or contacts.at(8 * 37)
    assert wanted is not None
    accounts = world.snapshot.seed_of("crm")["accounts"]
    assert crm.query("contacts", {"email": wanted["email"]}) == [wanted]
    assert crm.query("accounts", {"name": "Northwind Robotics"}) == []
    assert contacts.made <= 8, contacts.made
    assert accounts.made == 0, accounts.made


def test_every_company_name_leads_back_to_its_index() -> None:
    from fakes.crm.seed import CompanyNames

    names = CompanyNames(stable_key("companies"))
    space = names._space()
    for index in [*range(300), *range(space - 5, space + 5), 3 * space + 11]:
        name, _ = names.name(index)
        assert names.indexes(name) == [index], (index, name)
    assert names.indexes("Northwind Robotics") == []
    assert names.indexes(None) == []


def test_a_field_made_alone_is_the_field_of_the_record() -> None:
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4309)
    users = world.snapshot.seed_of("iam")["users"]
    assert isinstance(users, LazyRecords)
    alone = list(users.values_of("email"))
    assert users.made == 0
    assert alone == [r["email"] for r in users.values()]
    for (service, name), table in lazy_tables(world).items():
        for field in table._fields:
            expected = [r.get(field) for r in table.values()]
            assert list(table.values_of(field)) == expected, (service, name, field)


def test_a_run_s_table_gives_a_field_in_the_order_of_its_records() -> None:
    snapshot.load_snapshot.cache_clear()
    world = World(seed=4310)
    users = world.service("iam").records("users")
    seeded = world.snapshot.seed_of("iam")["users"]
    assert isinstance(seeded, LazyRecords)
    first, second = seeded.codec.ident(3), seeded.codec.ident(5)
    users.writable(first)["email"] = "changed@elsewhere.example"
    del users[second]
    users["usr_new"] = {"id": "usr_new", "email": "new@acme.example"}
    alone = list(users.values_of("email"))
    assert seeded.made == 2
    assert alone == [u.get("email") for u in users.values()]
    assert alone[-2:] == ["changed@elsewhere.example", "new@acme.example"]
