"""Indexes of a ledger for "does a later effect undo an earlier one?".

A service's ``undoes(effect, later)`` holds only when ``later`` is ``effect``'s
compensation on the same record (:meth:`fakes.base.FakeService.undoes`; services
that override it only narrow it). So the oracles ask it only of the candidates
these indexes give: one pass, instead of every pair of effects.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence

from harness.world.ledger import LedgerEntry

#: (operation or compensation, ref) -> positions in the ledger, ascending.
Index = dict[tuple[str, str | None], list[int]]


def by_compensation(entries: Sequence[LedgerEntry]) -> Index:
    """Positions of the effects that can be undone, by (compensation, ref)."""
    index: Index = defaultdict(list)
    for position, entry in enumerate(entries):
        if entry.compensation is not None:
            index[entry.compensation, entry.ref].append(position)
    return index


def by_operation(
    entries: Sequence[LedgerEntry], *, among: Index | None = None
) -> Index:
    """Positions of every effect, by (operation, ref); with ``among``, only of
    the effects whose (operation, ref) is one of its keys (the compensations an
    index of undoable effects can use)."""
    index: Index = defaultdict(list)
    for position, entry in enumerate(entries):
        key = (entry.operation, entry.ref)
        if among is None or key in among:
            index[key].append(position)
    return index


def before(positions: Sequence[int], position: int) -> Sequence[int]:
    """The ``positions`` less than ``position``."""
    return positions[: bisect_left(positions, position)]


def after(positions: Sequence[int], position: int) -> Sequence[int]:
    """The ``positions`` greater than ``position``."""
    return positions[bisect_right(positions, position) :]
