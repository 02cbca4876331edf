"""CRM: accounts, contacts, opportunities, renewals, usage, contract terms, leads.

The service is :class:`Crm` (:mod:`fakes.crm.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.crm.objects import next_stages
from fakes.crm.service import Crm
from fakes.registry import register_service

register_service(Crm)

__all__ = [
    "Crm",
    "next_stages",
]
