"""The effects ledger: every side effect a fake committed, with its business key.

The ledger records what *really* happened, independent of what the agent saw. The
idempotency oracle counts effects per business key; the outcome oracle reads state.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple


class LedgerEntry(NamedTuple):
    """One committed side effect (a named tuple: immutable and cheap to make)."""

    seq: int
    time: float
    service: str
    operation: str
    business_key: str
    params: Mapping[str, Any]
    ref: str | None
    call: int | None
    #: Whether the effect can be undone, and the tool that undoes it (if known).
    reversible: bool | None = None
    compensation: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": round(self.time, 6),
            "service": self.service,
            "operation": self.operation,
            "business_key": self.business_key,
            "params": dict(self.params),
            "ref": self.ref,
            "call": self.call,
            "reversible": self.reversible,
            "compensation": self.compensation,
        }


class Ledger:
    """Append-only list of committed effects."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: list[LedgerEntry] = []

    def commit(
        self,
        *,
        time: float,
        service: str,
        operation: str,
        business_key: str,
        params: Mapping[str, Any],
        ref: str | None = None,
        call: int | None = None,
        reversible: bool | None = None,
        compensation: str | None = None,
    ) -> LedgerEntry:
        entry = LedgerEntry(
            seq=len(self._entries) + 1,
            time=time,
            service=service,
            operation=operation,
            business_key=business_key,
            params=dict(params),
            ref=ref,
            call=call,
            reversible=reversible,
            compensation=compensation,
        )
        self._entries.append(entry)
        return entry

    def by_key(self, business_key: str) -> list[LedgerEntry]:
        return [e for e in self._entries if e.business_key == business_key]

    def __iter__(self) -> Iterator[LedgerEntry]:
        return iter(self._entries)

    @property
    def size(self) -> int:
        """How many effects are committed (the last entry's seq)."""
        return len(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
