"""Seeded world snapshots, built once per seed and copied at the start of each run.

Building the enterprise's data with Faker costs milliseconds; a run must start in
far less. The first run for a seed builds every service's state and pickles it;
every later run unpickles a private copy (a deep copy at C speed).
"""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from faker import Faker

    from fakes.base import FakeService, IdGenerator, State

#: Faker's locale for the simulated enterprise (pinned for reproducible data).
LOCALE = "en_US"


@dataclass(slots=True)
class Snapshot:
    states: dict[str, State]
    ids: IdGenerator


@lru_cache(maxsize=1)
def shared_faker() -> Faker:
    """One Faker instance per process, re-seeded per use with ``seed_instance``."""
    from faker import Faker

    return Faker(LOCALE)


@lru_cache(maxsize=32)
def _snapshot_blob(seed: int, services: tuple[type[FakeService], ...]) -> bytes:
    from fakes.base import IdGenerator

    faker = shared_faker()
    faker.seed_instance(seed)
    ids = IdGenerator(random.Random(f"aqe:{seed}:world-ids"))
    states: dict[str, Any] = {}
    for cls in services:
        rng = random.Random(f"aqe:{seed}:{cls.name}")
        states[cls.name] = cls.populate(faker, rng, ids, states)
    return pickle.dumps((states, ids), protocol=pickle.HIGHEST_PROTOCOL)


def load_snapshot(seed: int, services: tuple[type[FakeService], ...]) -> Snapshot:
    """A private copy of the seeded world for ``seed``."""
    states, ids = pickle.loads(_snapshot_blob(seed, tuple(services)))
    return Snapshot(states=states, ids=ids)
