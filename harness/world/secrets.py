"""The run's secrets: values that must never reach a file in clear.

The run's credential and every secret a fake issues (a reset link) are added as
they appear; :meth:`Secrets.redact` replaces each by a stable alias
(``<secret:reset_link:1>``, numbered in the order they were issued, so the same
run gives the same bytes). The world keeps the real values: the oracles (leakage)
judge what was really sent.
"""

from __future__ import annotations

from typing import Any


class Secrets:
    """Secret values of one run and their aliases."""

    __slots__ = ("_aliases", "_counts", "_longest_first")

    def __init__(self) -> None:
        self._aliases: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        self._longest_first: tuple[str, ...] = ()

    def add(self, value: str, kind: str) -> str:
        """Declare ``value`` a secret of ``kind``; returns ``value`` unchanged."""
        if value and value not in self._aliases:
            number = self._counts[kind] = self._counts.get(kind, 0) + 1
            self._aliases[value] = f"<secret:{kind}:{number}>"
            self._longest_first = tuple(sorted(self._aliases, key=len, reverse=True))
        return value

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its alias (longest first, so a
        secret inside another is not half replaced)."""
        if not text:
            return text
        for value in self._longest_first:
            if value in text:
                text = text.replace(value, self._aliases[value])
        return text

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

    def __len__(self) -> int:
        return len(self._aliases)
