"""The simulated enterprise of one run: clock, seeded data, fakes, ledger, history."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes.base import IdGenerator, WorldScale
from harness.errors import HarnessError
from harness.world.clock import SimClock
from harness.world.history import History
from harness.world.ledger import Ledger
from harness.world.secrets import Secrets
from harness.world.snapshot import (
    Snapshot,
    load_snapshot,
    resolve_scale,
    shared_faker,
)

if TYPE_CHECKING:
    from fakes.base import FakeService, Record


def derive_seed(seed: int, label: str) -> random.Random:
    """An independent, process-stable random stream for ``label`` under ``seed``.

    ``random.Random`` seeds a ``str`` through SHA-512, so the stream does not depend
    on ``PYTHONHASHSEED``, the process, or the xdist worker.
    """
    return random.Random(f"aqe:{seed}:{label}")


class _Closed:
    """What a closed world's services see as their world: any use says so."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raise HarnessError(
            f"world.{name}: this run's world is closed (World.close): its services"
            " take no further call\n    fix: read a closed world's records, history"
            " and ledger; make calls before closing it"
        )


_CLOSED: Any = _Closed()


class World:
    """Everything a run mutates, over a shared seeded snapshot (copy-on-write)."""

    def __init__(
        self,
        *,
        seed: int,
        world_seed: int | None = None,
        services: tuple[type[FakeService], ...] | None = None,
        scale: str | WorldScale = "small",
        time_limit: float = 7 * 24 * 3600.0,
    ) -> None:
        from fakes import registered_services

        self.seed = seed
        self.world_seed = seed if world_seed is None else world_seed
        self.clock = SimClock(limit=time_limit)
        self.rng = derive_seed(seed, "run")
        self.ledger = Ledger()
        self.history = History()
        self.secrets = Secrets()
        self.records: dict[str, dict[str, Any]] = {}
        self.humans: Mapping[str, Any] = {}
        services = services or registered_services()
        self.scale = resolve_scale(scale)
        snapshot = load_snapshot(self.world_seed, services, self.scale)
        # Building seeded records (on first read) uses a Faker of its own.
        self.faker = shared_faker()
        self.faker.seed_instance(seed)
        self.ids = IdGenerator.fork(frozenset(), derive_seed(seed, "ids"))
        self.snapshot: Snapshot = snapshot
        states = snapshot.fork()
        self.services: dict[str, FakeService] = {
            cls.name: cls(states[cls.name], self) for cls in services
        }

    def owner_of(
        self, ident: str, *, prefer: str | None = None
    ) -> tuple[FakeService, Record] | None:
        """The service holding the record with id ``ident`` (``prefer`` first)."""
        services = list(self.services.values())
        if prefer in self.services:
            services.insert(0, self.services[prefer])
        if self.ids.made(ident):
            # A run's id: no seeded record has one (IdGenerator.fork), so only
            # the run's own records are looked at, and no service is seeded.
            for service in services:
                for table in service.state.values():
                    record = table.changed.get(ident)
                    if record is not None:
                        return service, record
            return None
        for service in services:
            found = service.find_record(ident)
            if found is not None:
                return service, found[1]
        return None

    def close(self) -> None:
        """Let the world go once its run is judged and recorded: its services no
        longer point back at it, so it is freed by reference counting when its
        last holder drops it, not by the cyclic collector (a stream of runs
        otherwise leaves each world, its tables, history and ledger for the
        collector to walk). Its records, history, ledger and secrets stay
        readable; its services take no further call."""
        for service in self.services.values():
            service.world = _CLOSED

    def service(self, name: str) -> FakeService:
        try:
            return self.services[name]
        except KeyError:
            known = ", ".join(sorted(self.services))
            raise LookupError(
                f"no simulated service {name!r} (services: {known})"
            ) from None
