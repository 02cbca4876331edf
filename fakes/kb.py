"""Knowledge base: policy documents and articles, versioned, with effective dates."""

from __future__ import annotations

from typing import ClassVar

from fakes.base import FakeService


class Kb(FakeService):
    """The simulated knowledge base."""

    name: ClassVar[str] = "kb"
    hosts: ClassVar[tuple[str, ...]] = ("kb.sim",)
    collections: ClassVar[tuple[str, ...]] = ("documents",)
