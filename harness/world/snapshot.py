"""Seeded worlds: each service's records built when a run first reads them.

A snapshot of a seed costs nothing to make. Each service's seeded records are
built on the first read of any of its collections (its ``populate``), from
streams of its own: ``random.Random`` seeded with the seed and the service's
name, its own id generator, its own seeding of the build Faker. A service sees
the services registered before it (``peers``), built on demand as it reads them.
So a service's records depend only on the seed, the scale and the services
before it, never on which service, or which seed, a process built first; and a
run pays for the services it touches, not for the whole enterprise.

A service may seed lazily instead (``seed_lazily``, :mod:`fakes.lazy`): its
collections are then skeletons whose records are made, one by one, when first
read, so a run on a new seed pays for the records it reads, not the service.

Built records are frozen in :class:`~fakes.table.BaseTable` objects that every run
reads through its own copy-on-write :class:`~fakes.table.Table`. Snapshots are
cached per process under a budget of records (about one large world), least
recently used first out.
"""

from __future__ import annotations

import random
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from fakes._vocab import LOCALE as LOCALE
from fakes._vocab import with_cached_weights
from fakes.base import SCALES, IdGenerator, WorldScale
from fakes.lazy import LazyRecords, SeedContext
from fakes.table import BaseTable, Table

if TYPE_CHECKING:
    from faker import Faker

    from fakes.base import FakeService, Seed, State


@lru_cache(maxsize=1)
def shared_faker() -> Faker:
    """One Faker instance per process for runs, re-seeded per run with
    ``seed_instance`` (its weighted draws cached: the same words, faster)."""
    from faker import Faker

    return with_cached_weights(Faker(LOCALE))


@lru_cache(maxsize=1)
def _build_faker() -> Faker:
    """The Faker handed to ``populate``: its own instance, seeded per service and
    restored after each build, so no run's or other service's stream moves."""
    from faker import Faker

    return with_cached_weights(Faker(LOCALE))


def resolve_scale(scale: str | WorldScale) -> WorldScale:
    if isinstance(scale, WorldScale):
        return scale
    try:
        return SCALES[scale]
    except KeyError:
        known = ", ".join(SCALES)
        raise ValueError(f"unknown world scale {scale!r} (scales: {known})") from None


#: Held while seeded records are built (re-entered for the peers a build reads).
_BUILDING = threading.RLock()


class _Peers(Mapping[str, "Seed"]):
    """The services registered before one service, built as it reads them."""

    __slots__ = ("_names", "_snapshot")

    def __init__(self, snapshot: Snapshot, names: tuple[str, ...]) -> None:
        self._snapshot = snapshot
        self._names = names

    def __getitem__(self, name: str) -> Seed:
        if name not in self._names:
            raise KeyError(name)
        return self._snapshot.seed_of(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


class Snapshot:
    """The shared, never-mutated seeded world of one seed and scale."""

    __slots__ = ("_built", "_order", "scale", "seed", "services", "tables")

    def __init__(
        self, seed: int, services: tuple[type[FakeService], ...], scale: WorldScale
    ) -> None:
        self.seed = seed
        self.scale = scale
        self.services = {cls.name: cls for cls in services}
        self._order = tuple(self.services)
        self._built: dict[str, Seed] = {}
        self.tables: dict[str, dict[str, BaseTable]] = {
            cls.name: {
                name: BaseTable.deferred(self._loader(cls.name, name))
                for name in cls.collections
            }
            for cls in services
        }

    def _loader(self, service: str, collection: str) -> _Load:
        return _Load(self, service, collection)

    def seed_of(self, name: str) -> Seed:
        """Service ``name``'s seeded records (built on first use)."""
        built = self._built.get(name)
        if built is None:
            with _BUILDING:  # an agent's threads may read a world at once
                built = self._built.get(name)
                if built is None:
                    built = self._built[name] = self._populate(self.services[name])
        return built

    def _populate(self, cls: type[FakeService]) -> Seed:
        seed, name = self.seed, cls.name
        peers = _Peers(self, self._order[: self._order.index(name)])
        lazy = cls.seed_lazily(
            SeedContext(label=f"aqe:{seed}:{name}", scale=self.scale, peers=peers)
        )
        if lazy is not None:
            return self._checked(cls, dict(lazy))  # type: ignore[arg-type]
        faker = _build_faker()
        saved = faker.random.getstate()
        faker.seed_instance(f"aqe:{seed}:{name}:faker")
        try:
            built = cls.populate(
                faker,
                random.Random(f"aqe:{seed}:{name}"),
                IdGenerator.seeded(random.Random(f"aqe:{seed}:{name}:ids")),
                peers,
                self.scale,
            )
        finally:
            faker.random.setstate(saved)
        return self._checked(cls, built)

    @staticmethod
    def _checked(cls: type[FakeService], built: Seed) -> Seed:
        for collection in cls.collections:
            built.setdefault(collection, {})
        undeclared = sorted(set(built) - set(cls.collections))
        if undeclared:
            raise ValueError(
                f"{cls.__name__}.populate built collection {undeclared[0]!r}, which"
                f" {cls.__name__}.collections does not declare\n"
                f"    fix: add {undeclared[0]!r} to {cls.__name__}.collections"
                " (a run's tables are made before its seeded records are built)"
            )
        return built

    @property
    def built(self) -> tuple[str, ...]:
        """The services whose records are built so far."""
        return tuple(self._built)

    def records(self) -> int:
        """How many seeded records are built so far (what the cache weighs)."""
        return sum(
            t.made if isinstance(t, LazyRecords) else len(t)
            for s in self._built.values()
            for t in s.values()
        )

    def fork(self) -> dict[str, State]:
        """Fresh copy-on-write states for one run (cost independent of size)."""
        return {
            service: {name: Table(base) for name, base in tables.items()}
            for service, tables in self.tables.items()
        }


@dataclass(frozen=True, slots=True)
class _Load:
    snapshot: Snapshot
    service: str
    collection: str

    def __call__(self) -> dict[str, dict[str, object]]:
        return self.snapshot.seed_of(self.service)[self.collection]


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    snapshots: int
    records: int


#: Seeded records the cache keeps across snapshots (less than one large world:
#: a large world is evicted by the next miss).
CACHE_RECORDS = 100_000
#: Snapshots the cache keeps at most, whatever their size.
CACHE_SNAPSHOTS = 32
#: Every this many misses, every snapshot is weighed again (between them, only
#: those looked up since the last miss: worlds made since then grew them).
_REWEIGH_ALL = 32

_Key = tuple[int, tuple[type["FakeService"], ...], WorldScale]


class _SnapshotCache:
    """Snapshots by (seed, services, scale), least recently used out first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[_Key, Snapshot] = OrderedDict()
        #: Each snapshot's records when last weighed, and who was looked up since.
        self._weights: dict[_Key, int] = {}
        self._looked_up: set[_Key] = set()
        self._hits = self._misses = 0

    def __call__(
        self, seed: int, services: tuple[type[FakeService], ...], scale: WorldScale
    ) -> Snapshot:
        key = (seed, services, scale)
        found = self._entries.get(key)
        if found is not None:
            self._hits += 1
            self._entries.move_to_end(key)
        else:
            self._misses += 1
            self._evict()
            found = self._entries[key] = Snapshot(seed, services, scale)
        self._looked_up.add(key)
        return found

    def _evict(self) -> None:
        """Make room: the oldest snapshots go while the cache is over budget."""
        entries, weights = self._entries, self._weights
        while len(entries) >= CACHE_SNAPSHOTS:
            weights.pop(entries.popitem(last=False)[0], None)
        weigh = entries if self._misses % _REWEIGH_ALL == 0 else self._looked_up
        for key in weigh:
            if key in entries:
                weights[key] = entries[key].records()
        self._looked_up.clear()
        total = sum(weights.values())
        while entries and total > CACHE_RECORDS:
            total -= weights.pop(entries.popitem(last=False)[0], 0)

    def cache_clear(self) -> None:
        self._entries.clear()
        self._weights.clear()
        self._looked_up.clear()
        self._hits = self._misses = 0

    def cache_info(self) -> CacheInfo:
        return CacheInfo(
            hits=self._hits,
            misses=self._misses,
            snapshots=len(self._entries),
            records=sum(s.records() for s in self._entries.values()),
        )


#: The seeded world for ``(seed, services, scale)``: made at once, built as read.
load_snapshot = _SnapshotCache()
