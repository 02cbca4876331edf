"""Warnings raised while an agent runs: recorded, never raised.

A project's ``filterwarnings = error`` (pytest's ``-W error``) is about the
project's own code: a ``DeprecationWarning`` inside an SDK the agent uses is not
an agent crash. While :func:`capture_warnings` is open every warning, from any
thread, is kept in a :class:`WarningLog` instead (identical ones, same category,
message, file and line, once with a count, in the order first seen, at most
:data:`MAX_KEPT`), and on exit the filters and hooks in force before are back,
pytest's own capture of the test included. ``warnings`` state is process-wide:
in the harness's process its own code during the run is caught too.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

#: How many distinct warnings a run keeps; the rest are only counted.
MAX_KEPT = 100
#: How much of a message is kept as raised: the harness shortens it further, once
#: the run's secrets are redacted (cut here, a secret would be cut in half).
MAX_MESSAGE = 8192


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentWarning:
    """One distinct warning of a run and how many times it was raised."""

    #: The warning's class name (``DeprecationWarning``).
    category: str
    message: str
    #: Where it was raised from (``warnings.warn``'s ``stacklevel`` decides).
    filename: str
    lineno: int
    count: int = 1

    @property
    def where(self) -> str:
        return f"{self.filename}:{self.lineno}"

    def to_json(self) -> dict[str, Any]:
        """As a trace writes it."""
        return {
            "category": self.category,
            "message": self.message,
            "where": self.where,
            "count": self.count,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class CaughtWarnings:
    """The warnings of one run: the distinct ones kept, and how many raised
    warnings were not kept (past :data:`MAX_KEPT` distinct ones)."""

    kept: tuple[AgentWarning, ...] = ()
    dropped: int = 0

    def to_wire(self) -> dict[str, Any]:
        """As the agent's process sends them to the harness (JSON)."""
        return {
            "kept": [
                [w.category, w.message, w.filename, w.lineno, w.count]
                for w in self.kept
            ],
            "dropped": self.dropped,
        }

    @classmethod
    def from_wire(cls, value: Any) -> CaughtWarnings:
        """What :meth:`to_wire` sent; what is not of that shape is left out (the
        agent's process may send anything)."""
        if not isinstance(value, dict):
            return cls()
        kept: list[AgentWarning] = []
        entries = value.get("kept")
        for entry in entries[:MAX_KEPT] if isinstance(entries, list) else ():
            if not isinstance(entry, list) or len(entry) != 5:
                continue
            category, message, filename, lineno, count = entry
            if not all(isinstance(s, str) for s in (category, message, filename)):
                continue
            if type(lineno) is not int or type(count) is not int or count < 1:
                continue
            kept.append(
                AgentWarning(
                    category=category,
                    message=message,
                    filename=filename,
                    lineno=lineno,
                    count=count,
                )
            )
        dropped = value.get("dropped")
        return cls(
            kept=tuple(kept),
            dropped=dropped if type(dropped) is int and dropped > 0 else 0,
        )


class WarningLog:
    """Warnings as they are raised, deduplicated (see the module docstring)."""

    def __init__(self, limit: int = MAX_KEPT) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        #: (category, message, filename, lineno) -> times raised, first seen first.
        self._counts: dict[tuple[str, str, str, int], int] = {}
        self._dropped = 0

    def showwarning(
        self,
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        """Keep one warning (``warnings.showwarning``'s signature)."""
        key = (
            str(getattr(category, "__name__", category)),
            str(message)[:MAX_MESSAGE],
            str(filename),
            lineno if type(lineno) is int else 0,
        )
        with self._lock:
            if key in self._counts:
                self._counts[key] += 1
            elif len(self._counts) < self._limit:
                self._counts[key] = 1
            else:
                self._dropped += 1

    def caught(self) -> CaughtWarnings:
        """The warnings kept so far."""
        with self._lock:
            counts, dropped = list(self._counts.items()), self._dropped
        return CaughtWarnings(
            kept=tuple(
                AgentWarning(
                    category=category,
                    message=message,
                    filename=filename,
                    lineno=lineno,
                    count=count,
                )
                for (category, message, filename, lineno), count in counts
            ),
            dropped=dropped,
        )


@contextmanager
def capture_warnings() -> Iterator[WarningLog]:
    """Every warning raised while open goes to the log, whatever the filters
    said (``-W error`` included); the filters are restored on exit."""
    log = WarningLog()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = log.showwarning
        yield log
