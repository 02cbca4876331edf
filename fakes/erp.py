"""ERP: vendors with onboarding states, purchase orders, invoices, GL postings."""

from __future__ import annotations

from typing import ClassVar

from fakes.base import FakeService


class Erp(FakeService):
    """ERP: vendors with onboarding states, purchase orders, invoices, GL postings."""

    name: ClassVar[str] = "erp"
    hosts: ClassVar[tuple[str, ...]] = ("erp.sim",)
    collections: ClassVar[tuple[str, ...]] = (
        "vendors",
        "purchase_orders",
        "invoices",
        "postings",
    )
