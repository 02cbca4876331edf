"""The company behind the simulated enterprise: its email domain and its staff.

IAM owns the employees. Services built after it (knowledge base, helpdesk,
notifications) read them from ``peers["iam"]["users"]`` when IAM seeds any, and
fall back to people of their own at the company's domain otherwise.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

from fakes.lazy import SlotView
from fakes.people import People

if TYPE_CHECKING:
    from faker import Faker

    from fakes.base import Seed, WorldView

#: The company's email domain when IAM seeds no employees.
DEFAULT_DOMAIN = "acme.example"
#: How many employees are looked at to find the company's domain.
_SAMPLE = 200


def iam_users(peers: Mapping[str, Seed]) -> list[Mapping[str, Any]]:
    """IAM's seeded users, or none (IAM may not seed any)."""
    users = peers.get("iam", {}).get("users", {})
    return [u for u in users.values() if isinstance(u, Mapping)]


def email_domain(users: Iterable[Mapping[str, Any]]) -> str:
    """The most common email domain among employees (the company's own)."""
    return _most_common_domain(user.get("email") for user in users)


def _most_common_domain(emails: Iterable[object]) -> str:
    """The most common domain of the first emails (the default if none)."""
    domains: Counter[str] = Counter()
    for email in islice(emails, _SAMPLE):
        if isinstance(email, str) and "@" in email:
            domains[email.rsplit("@", 1)[1].lower()] += 1
    if not domains:
        return DEFAULT_DOMAIN
    return min(domains, key=lambda d: (-domains[d], d))


def world_domain(world: WorldView) -> str:
    """The company's email domain in a live world (IAM's, or the default)."""
    iam = world.services.get("iam")
    users = iam.state.get("users") if iam is not None else None
    if users is None:
        return DEFAULT_DOMAIN
    return _most_common_domain(users.values_of("email"))  # not every user made


def is_internal(address: str, domain: str) -> bool:
    """Whether an email address belongs to the company (its domain or a subdomain)."""
    host = address.rsplit("@", 1)[-1].strip().strip(">").lower()
    return host == domain or host.endswith(f".{domain}")


def staff(
    faker: Faker, rng: random.Random, peers: Mapping[str, Seed], count: int
) -> list[str]:
    """Emails of up to ``count`` active employees: IAM's, else made up at the domain."""
    lazily = sampled_staff(peers.get("iam", {}).get("users", {}), rng, count)
    if lazily:
        return list(lazily)
    active = [
        str(u["email"])
        for u in iam_users(peers)
        if isinstance(u.get("email"), str) and u.get("status", "active") == "active"
    ]
    if active:
        return rng.sample(active, min(count, len(active)))
    domain = email_domain(iam_users(peers))
    people = People(faker, rng, pool=max(8, count))
    return [people.person(domain=domain).email for _ in range(count)]


def sampled_staff(
    users: Mapping[str, Mapping[str, Any]], rng: random.Random, count: int
) -> Sequence[str] | None:
    """Emails of up to ``count`` active employees sampled from a lazily seeded
    directory, each made only when its email is read (None: ``users`` is not
    lazy)."""
    slots_where = getattr(users, "slots_where", None)
    at = getattr(users, "at", None)
    slots = None if slots_where is None else slots_where("status", "active")
    if slots is None or at is None:
        return None
    sample = rng.sample(slots, min(count, len(slots)))
    return SlotView(sample, lambda slot: str(at(slot)["email"]))
