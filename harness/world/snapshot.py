"""Seeded worlds, built once per (seed, scale) and shared by every run.

Building the enterprise's data with Faker costs from milliseconds (small) to seconds
(10,000 customers). It is done once per process for each seed and scale; the
records are then frozen in :class:`~fakes.table.BaseTable` objects that every run
reads through its own copy-on-write :class:`~fakes.table.Table`, so starting a run
costs the same whatever the world's size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from fakes.base import SCALES, IdGenerator, WorldScale
from fakes.table import BaseTable, Table

if TYPE_CHECKING:
    from faker import Faker

    from fakes.base import FakeService, Seed, State

#: Faker's locale for the simulated enterprise (pinned for reproducible data).
LOCALE = "en_US"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The shared, never-mutated seeded world."""

    tables: dict[str, dict[str, BaseTable]]
    ids: frozenset[str]

    def fork(self) -> dict[str, State]:
        """Fresh copy-on-write states for one run (cost independent of size)."""
        return {
            service: {name: Table(base) for name, base in tables.items()}
            for service, tables in self.tables.items()
        }


@lru_cache(maxsize=1)
def shared_faker() -> Faker:
    """One Faker instance per process, re-seeded per use with ``seed_instance``."""
    from faker import Faker

    return Faker(LOCALE)


def resolve_scale(scale: str | WorldScale) -> WorldScale:
    if isinstance(scale, WorldScale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        known = ", ".join(SCALES)
        raise ValueError(f"unknown world scale {scale!r} (scales: {known})") from None


@lru_cache(maxsize=8)
def load_snapshot(
    seed: int, services: tuple[type[FakeService], ...], scale: WorldScale
) -> Snapshot:
    """The seeded world for ``seed`` at ``scale`` (built on first use, then cached)."""
    faker = shared_faker()
    faker.seed_instance(seed)
    ids = IdGenerator(random.Random(f"aqe:{seed}:world-ids"))
    seeds: dict[str, Seed] = {}
    for cls in services:
        rng = random.Random(f"aqe:{seed}:{cls.name}")
        built = cls.populate(faker, rng, ids, seeds, scale)
        for name in cls.collections:
            built.setdefault(name, {})
        seeds[cls.name] = built
    tables = {
        service: {name: BaseTable(records) for name, records in built.items()}
        for service, built in seeds.items()
    }
    return Snapshot(tables=tables, ids=ids.freeze())
