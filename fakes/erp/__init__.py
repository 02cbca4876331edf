"""ERP: vendors, orders, invoices, ledger; importing this package registers it."""

from __future__ import annotations

from fakes.erp.service import Erp
from fakes.registry import register_service

register_service(Erp)

__all__ = ["Erp"]
