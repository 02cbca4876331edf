"""CRM: accounts, contacts, opportunities, renewals, usage, contract terms, leads."""

from __future__ import annotations

from typing import ClassVar

from fakes.base import FakeService


class Crm(FakeService):
    """The simulated CRM."""

    name: ClassVar[str] = "crm"
    hosts: ClassVar[tuple[str, ...]] = ("crm.sim",)
    collections: ClassVar[tuple[str, ...]] = (
        "accounts",
        "contacts",
        "opportunities",
        "usage",
        "contracts",
        "leads",
    )
