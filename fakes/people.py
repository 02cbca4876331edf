"""Seeded people for large worlds: Faker's vocabulary, combined at C speed.

Faker's ``name()``/``email()`` cost tens of microseconds each (weighted choices
over large lists); a world of 10,000 customers and 2,000 employees would spend
most of its build there. A :class:`People` draws first names, last names and
domains from the process's :func:`~fakes._vocab.vocabulary` (read from Faker once)
with the world's own seeded stream. Emails are unique within a world.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from fakes._vocab import vocabulary

if TYPE_CHECKING:
    from faker import Faker

    from fakes.lazy import Draws

_NOT_LOCAL = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Person:
    first: str
    last: str
    email: str

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"


class People:
    """Unique, seeded people built from pools of Faker vocabulary."""

    def __init__(
        self, faker: Faker | None, rng: random.Random, *, pool: int = 400
    ) -> None:
        """``faker`` and ``pool`` are kept for fakes written against the old
        signature; the names come from the shared vocabulary."""
        words = vocabulary()
        self._rng = rng
        self._firsts = words.first_names
        self._lasts = words.last_names
        self._domains = words.email_domains
        self._used: set[str] = set()

    def person(self, *, domain: str | None = None) -> Person:
        """A new person; ``domain`` pins the email domain (e.g. the company's)."""
        rng = self._rng
        first, last = self._firsts.draw(rng), self._lasts.draw(rng)
        local = _NOT_LOCAL.sub("", f"{first}.{last}".lower().replace(".", "_"))
        local = local or "user"
        host = domain or rng.choice(self._domains)
        email, n = f"{local}@{host}", 1
        while email in self._used:
            n += 1
            email = f"{local}{n}@{host}"
        self._used.add(email)
        return Person(first=first, last=last, email=email)


def seeded_person(draws: Draws, unique: int, *, domain: str | None = None) -> Person:
    """A person for one lazily made record (:mod:`fakes.lazy`), from its own
    draws; ``unique`` (the record's slot) keeps the email unique in its table."""
    words = vocabulary()
    first, last = draws.weighted(words.first_names), draws.weighted(words.last_names)
    name = _NOT_LOCAL.sub("", first.lower()) or "user"
    surname = _NOT_LOCAL.sub("", last.lower())
    host = domain or draws.pick(words.email_domains)
    return Person(first=first, last=last, email=f"{name}.{surname}{unique}@{host}")


#: The most digits a seeded ``unique`` has (a slot is below 2**32).
_UNIQUE_DIGITS = 10


def seeded_uniques(email: object) -> list[int]:
    """The ``unique`` numbers a :func:`seeded_person` with ``email`` may have
    been made with: a superset, for finders over lazily made tables (the local
    part's trailing digits; each suffix of them if a name has a digit)."""
    if not isinstance(email, str):
        return []
    local = email.rpartition("@")[0]
    digits = local[len(local.rstrip("0123456789")) :][-_UNIQUE_DIGITS:]
    if not digits:
        return []
    if _names_without_digits():
        return [] if digits[0] == "0" and digits != "0" else [int(digits)]
    return sorted(
        {
            int(digits[i:])
            for i in range(len(digits))
            if digits[i] != "0" or i == len(digits) - 1
        }
    )


@cache
def _names_without_digits() -> bool:
    """Whether no vocabulary name has a digit (an email's digits are then all
    its unique number)."""
    words = vocabulary()
    names = (*words.first_names.words, *words.last_names.words)
    return not any(char.isdigit() for name in names for char in name)
