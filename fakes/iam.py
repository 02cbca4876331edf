"""Identity and access: employees, groups, grants, credential resets, offboarding."""

from __future__ import annotations

from typing import ClassVar

from fakes.base import FakeService


class Iam(FakeService):
    """The simulated identity and access management."""

    name: ClassVar[str] = "iam"
    hosts: ClassVar[tuple[str, ...]] = ("iam.sim",)
    collections: ClassVar[tuple[str, ...]] = ("users", "groups", "grants")
