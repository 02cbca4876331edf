"""Payments, a Stripe-compatible subset; importing this package registers it."""

from __future__ import annotations

from fakes.payments.service import Payments
from fakes.registry import register_service

register_service(Payments)

__all__ = ["Payments"]
