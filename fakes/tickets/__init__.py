"""The helpdesk: questions, incidents, problems and changes, with SLAs and links.

The service is :class:`Tickets` (:mod:`fakes.tickets.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.registry import register_service
from fakes.tickets.service import (
    Tickets,
)

register_service(Tickets)

__all__ = [
    "Tickets",
]
