"""Payments: a Stripe-compatible subset (customers, charges, refunds).

The service is :class:`Payments` (:mod:`fakes.payments.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.payments.service import (
    Payments,
)
from fakes.registry import register_service

register_service(Payments)

__all__ = [
    "Payments",
]
