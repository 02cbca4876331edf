"""ERP: vendors with onboarding states, purchase orders, invoices, GL postings.

The service is :class:`Erp` (:mod:`fakes.erp.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.erp.service import (
    Erp,
)
from fakes.registry import register_service

register_service(Erp)

__all__ = [
    "Erp",
]
