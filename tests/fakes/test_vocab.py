"""A run's Faker with cached weights draws what Faker's own draws."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from faker import Faker

from fakes._vocab import LOCALE, with_cached_weights
from harness.world.snapshot import shared_faker

METHODS = ("name", "email", "paragraph", "company", "address", "user_name", "job")


@pytest.mark.parametrize("seed", [0, 1, 42, "aqe:7:payments:faker"])
def test_cached_weights_draw_the_same_words_from_the_same_stream(
    seed: int | str,
) -> None:
    own, cached = Faker(LOCALE), with_cached_weights(Faker(LOCALE))
    own.seed_instance(seed)
    cached.seed_instance(seed)
    drawn = [
        [getattr(f, m)() for _ in range(20) for m in METHODS] for f in (own, cached)
    ]
    assert drawn[0] == drawn[1]
    assert own.random.getstate() == cached.random.getstate()


def test_other_draws_are_fakers_own() -> None:
    own, cached = Faker(LOCALE), with_cached_weights(Faker(LOCALE))
    table = OrderedDict([("a", 0.5), ("b", 0.3), ("c", 0.2)])
    for f in (own, cached):
        f.seed_instance(3)
    for kwargs in ({"length": 3}, {"length": 2, "unique": True}, {}):
        assert own.random_elements(table, **kwargs) == cached.random_elements(
            table, **kwargs
        )
    with pytest.raises(ValueError, match="OrderedDict"):
        cached.random_elements({"a": 1.0}, length=1)


def test_the_run_faker_has_cached_weights_once() -> None:
    faker = shared_faker()
    first = [p.random_elements for p in faker.providers]
    assert all(getattr(d, "_aqe_cached", False) for d in first)
    with_cached_weights(faker)
    assert [p.random_elements for p in faker.providers] == first
