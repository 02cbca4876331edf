"""Knowledge base: versioned policies; importing this package registers it."""

from __future__ import annotations

from fakes.kb.service import DAY, DELETED, DOCUMENT, VERSIONS, Kb
from fakes.registry import register_service

register_service(Kb)

__all__ = ["DAY", "DELETED", "DOCUMENT", "VERSIONS", "Kb"]
