"""The run history, in the manner of Jepsen: invoke / ok / fail / info.

Every tool call is an ``invoke`` followed by exactly one completion: ``ok`` (it
happened and the agent was told), ``fail`` (it definitely did not happen), or
``info`` (indeterminate *to the agent*, e.g. a timeout). Each completion carries both
``seen`` (what the agent received) and ``actual`` (what really happened: the ledger
entries it committed). Fault decisions are written by the ``nemesis`` process, human
decisions by ``human``, blocked outbound requests by ``security``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

# Declared by fakes (which write human decisions through WorldView.history).
from fakes.base import EntryType as EntryType


class HistoryEntry(NamedTuple):
    """One line of the history (a named tuple: immutable and cheap to make)."""

    index: int  # type: ignore[assignment]  # Jepsen's name; shadows tuple.index
    time: float
    process: str
    type: EntryType
    f: str
    call: int | None
    value: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "time": round(self.time, 6),
            "process": self.process,
            "type": str(self.type),
            "f": self.f,
            "call": self.call,
            "value": dict(self.value),
        }


class History:
    """Append-only history with a few query helpers for the oracles."""

    __slots__ = ("_entries", "calls")

    def __init__(self) -> None:
        self._entries: list[HistoryEntry] = []
        self.calls = 0

    def append(
        self,
        time: float,
        process: str,
        type: EntryType,
        f: str,
        call: int | None = None,
        value: Mapping[str, Any] | None = None,
    ) -> HistoryEntry:
        entry = HistoryEntry(
            len(self._entries), time, process, type, f, call, value or {}
        )
        self._entries.append(entry)
        return entry

    def next_call(self) -> int:
        """Number the next tool call (1-based, in order of invocation)."""
        self.calls += 1
        return self.calls

    def by_process(self, process: str) -> list[HistoryEntry]:
        return [e for e in self._entries if e.process == process]

    def for_call(self, call: int) -> list[HistoryEntry]:
        return [e for e in self._entries if e.call == call]

    def __iter__(self) -> Iterator[HistoryEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
