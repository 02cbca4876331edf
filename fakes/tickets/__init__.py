"""The helpdesk; importing this package registers the service."""

from __future__ import annotations

from fakes.registry import register_service
from fakes.tickets.service import Tickets

register_service(Tickets)

__all__ = ["Tickets"]
