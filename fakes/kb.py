"""Knowledge base: policy documents and articles, versioned, with effective dates."""

from __future__ import annotations

from typing import ClassVar

from fakes.base import FakeService


class Kb(FakeService):
    """Knowledge base: policy documents and articles, versioned, with effective dates."""

    name: ClassVar[str] = "kb"
    hosts: ClassVar[tuple[str, ...]] = ("kb.sim",)
    collections: ClassVar[tuple[str, ...]] = ("documents",)
