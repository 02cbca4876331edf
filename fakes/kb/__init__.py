"""Knowledge base: policy documents and articles, versioned, with effective dates.

The service is :class:`Kb` (:mod:`fakes.kb.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.kb.service import (
    DAY,
    DELETED,
    DOCUMENT,
    VERSIONS,
    Kb,
)
from fakes.registry import register_service

register_service(Kb)

__all__ = [
    "DAY",
    "DELETED",
    "DOCUMENT",
    "VERSIONS",
    "Kb",
]
