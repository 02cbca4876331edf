"""The run's secrets: values that must never reach a file in clear.

The run's credential and every secret a fake issues (a reset link, the token in
it) are added as they appear; :meth:`Secrets.redact` replaces each by a stable
alias (``<secret:reset_link:1>``, numbered per kind in the order they were issued,
so the same run gives the same bytes). The world keeps the real values: the
oracles (leakage) judge what was really sent.

:func:`collect_secrets` gathers the secrets of every world built while it is open
(a shadow case's forks and reference runs, a canary stream's cases): what a pytest
item redacts its captured output and failure text with.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

_T = TypeVar("_T")

#: Books open in :func:`collect_secrets`; every secret added anywhere lands in each.
_collectors: list[Secrets] = []


class Secrets:
    """Secret values of one run and their aliases."""

    __slots__ = ("_aliases", "_counts", "_kinds", "_longest_first")

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}
        self._kinds: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._longest_first: tuple[str, ...] = ()

    def add(self, value: str, kind: str) -> str:
        """Declare ``value`` a secret of ``kind``; returns ``value`` unchanged."""
        if self._record(value, kind):
            for book in _collectors:
                book._record(value, kind)
        return value

    def absorb(self, other: Secrets) -> None:
        """Add ``other``'s secrets, in the order it was given them (a secret both
        hold keeps the alias it has here)."""
        for value, kind in other._kinds.items():
            self.add(value, kind)

    def _record(self, value: str, kind: str) -> bool:
        if not value or value in self._aliases:
            return False
        number = self._counts[kind] = self._counts.get(kind, 0) + 1
        self._aliases[value] = f"<secret:{kind}:{number}>"
        self._kinds[value] = kind
        self._longest_first = tuple(sorted(self._aliases, key=len, reverse=True))
        return True

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its alias (longest first, so a
        secret inside another is not half replaced)."""
        if not text:
            return text
        for value in self._longest_first:
            if value in text:
                text = text.replace(value, self._aliases[value])
        return text

    def redact_json(self, value: _T) -> _T:
        """``value`` (strings, and lists, tuples and mappings of them, keys too)
        with every secret replaced by its alias; other values as they are."""
        if not self._aliases:
            return value
        return self._redacted(value)  # type: ignore[no-any-return]

    def _redacted(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list):
            return [self._redacted(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self._redacted(v) for v in value)
        if isinstance(value, dict):
            return {self._redacted(k): self._redacted(v) for k, v in value.items()}
        return value

    def reveal(self, value: Any) -> Any:
        """``value`` (a string, or lists and mappings of them) with each alias
        replaced by its secret: what re-scoring a redacted trace sends."""
        if isinstance(value, str):
            for secret, alias in self._aliases.items():
                if alias in value:
                    value = value.replace(alias, secret)
            return value
        if isinstance(value, list):
            return [self.reveal(v) for v in value]
        if isinstance(value, dict):
            return {k: self.reveal(v) for k, v in value.items()}
        return value

    def values(self) -> tuple[str, ...]:
        """The secrets in clear, in the order they were issued."""
        return tuple(self._aliases)

    def __len__(self) -> int:
        return len(self._aliases)


@contextmanager
def collect_secrets(book: Secrets | None = None) -> Iterator[Secrets]:
    """``book`` (a new one by default) gains every secret any world is given
    while the block runs, in the order they are issued, from any thread."""
    book = Secrets() if book is None else book
    _collectors.append(book)
    try:
        yield book
    finally:
        _collectors.remove(book)
