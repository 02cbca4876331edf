"""The simulated world: virtual clock, seeded data, effects ledger, history."""

from __future__ import annotations

from harness.world.clock import SimClock
from harness.world.history import EntryType, History, HistoryEntry
from harness.world.ledger import Ledger, LedgerEntry
from harness.world.world import World, derive_seed

__all__ = [
    "EntryType",
    "History",
    "HistoryEntry",
    "Ledger",
    "LedgerEntry",
    "SimClock",
    "World",
    "derive_seed",
]
