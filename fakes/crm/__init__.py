"""CRM: accounts, contacts, deals, leads; importing this package registers it."""

from __future__ import annotations

from fakes.crm.objects import next_stages
from fakes.crm.service import Crm
from fakes.registry import register_service

register_service(Crm)

__all__ = ["Crm", "next_stages"]
