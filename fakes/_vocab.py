"""Faker's vocabulary, read once per process, drawn from by every seeded world.

Calling Faker per record costs tens of microseconds (weighted choices over large
lists, its proxy's attribute lookups); building a world of 10,000 customers that
way took seconds. The words themselves do not depend on the seed, so they are read
once per process from the pinned Faker's ``en_US`` providers (first and last names
with their frequencies, free email domains) or generated once from a Faker seeded
with a fixed number (paragraphs). A world draws from them by index with its own
seeded ``random.Random`` stream: the same seed gives the same world in every
process, whichever seed was built first, and no Faker instance state is shared.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

#: Faker's locale for the simulated enterprise (pinned, like Faker itself).
LOCALE = "en_US"
#: The fixed seed of the Faker that writes the vocabulary's prose.
_PROSE_SEED = 18
_PARAGRAPHS = 200


@dataclass(frozen=True, slots=True, kw_only=True)
class Weighted:
    """Words with Faker's frequencies: a seeded draw is one bisect."""

    words: tuple[str, ...]
    cumulative: tuple[float, ...]

    def draw(self, rng: random.Random) -> str:
        total = self.cumulative[-1]
        return self.words[bisect.bisect(self.cumulative, rng.random() * total)]

    @classmethod
    def of(cls, weights: Mapping[str, float] | Sequence[str]) -> Weighted:
        pairs = (
            sorted(weights.items())
            if isinstance(weights, Mapping)
            else [(w, 1.0) for w in sorted(set(weights))]
        )
        return cls(
            words=tuple(w for w, _ in pairs),
            cumulative=tuple(itertools.accumulate(float(f) for _, f in pairs)),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Vocabulary:
    """What seeded worlds say: names, email domains, prose."""

    first_names: Weighted
    last_names: Weighted
    #: Last names sorted, without weights (company names, vendors).
    surnames: tuple[str, ...]
    email_domains: tuple[str, ...]
    paragraphs: tuple[str, ...]


def _provider(faker: Any, kind: str) -> Any:
    for provider in faker.providers:
        if f".providers.{kind}." in type(provider).__module__:
            return provider
    raise LookupError(f"Faker has no {kind} provider for {LOCALE}")  # pragma: no cover


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The process's vocabulary (read from Faker on first use, then shared)."""
    from faker import Faker

    faker = Faker(LOCALE)
    person = _provider(faker, "person")
    internet = _provider(faker, "internet")
    faker.seed_instance(_PROSE_SEED)
    paragraphs = tuple(faker.paragraph(nb_sentences=3) for _ in range(_PARAGRAPHS))
    return Vocabulary(
        first_names=Weighted.of(person.first_names),
        last_names=Weighted.of(person.last_names),
        surnames=tuple(sorted(person.last_names)),
        email_domains=tuple(sorted(internet.free_email_domains)),
        paragraphs=paragraphs,
    )


# -- a run's own Faker -----------------------------------------------------------------


_Faker = TypeVar("_Faker")


def with_cached_weights(faker: _Faker) -> _Faker:
    """``faker`` whose weighted draws reuse their cumulative weights.

    A Faker provider draws one word from a weighted table (``first_names_female``,
    ``formats``: ordered dicts of hundreds of words) by copying the table's weights
    into a tuple and handing them to ``random.choices``, which sums them again:
    most of what a run's ``faker.name()`` costs. Here each provider's
    ``random_elements`` sums a table once per process and draws with
    ``cum_weights``, which ``random.choices`` turns into the same one ``random()``
    and the same bisect: the same words from the same stream. Every other draw
    (unweighted, several at once, unique) is Faker's own.
    """
    for provider in faker.providers:  # type: ignore[attr-defined]
        own = provider.random_elements
        if getattr(own, "_aqe_cached", False):
            continue
        provider.random_elements = _weighted_draw(provider, own)
    return faker


#: Each weighted table's words and cumulative weights, by the table's id (the
#: table is kept alive with them, so its id stays its own).
_CUMULATIVE: dict[int, tuple[Any, tuple[Any, ...], list[float]]] = {}


def _cumulative(table: Any) -> tuple[tuple[Any, ...], list[float]]:
    found = _CUMULATIVE.get(id(table))
    if found is None or found[0] is not table:
        found = _CUMULATIVE[id(table)] = (
            table,
            tuple(table.keys()),
            list(itertools.accumulate(table.values())),
        )
    return found[1], found[2]


def _weighted_draw(provider: Any, own: Any) -> Any:
    from collections import OrderedDict

    def random_elements(
        elements: Any = ("a", "b", "c"),
        length: int | None = None,
        unique: bool = False,
        use_weighting: bool | None = None,
    ) -> Any:
        weighted = (
            provider.__use_weighting__ if use_weighting is None else use_weighting
        )
        if length == 1 and not unique and weighted and type(elements) is OrderedDict:
            words, cumulative = _cumulative(elements)
            return provider.generator.random.choices(words, cum_weights=cumulative)
        return own(elements, length, unique, use_weighting)

    random_elements._aqe_cached = True  # type: ignore[attr-defined]
    return random_elements
