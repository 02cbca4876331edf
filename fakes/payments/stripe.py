"""Stripe's wire objects: schemas, record constructors and error bodies.

The payments fake speaks this format at ``api.stripe.com`` so that the real
``stripe`` SDK works unchanged; keeping the shapes here keeps the service readable.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from fakes import _schema as s
from fakes.base import Record, ServiceError

CURRENCIES = ("usd", "eur", "gbp")
DAY = 86_400

CUSTOMER = s.obj(
    {
        "id": s.string("Customer id (cus_…)."),
        "object": {"const": "customer"},
        "created": {"type": "integer"},
        "email": s.nullable(s.string("Email address.")),
        "name": s.nullable(s.string("Full name.")),
        "description": s.nullable(s.string("Description.")),
        "livemode": {"type": "boolean"},
        "metadata": s.metadata(),
    },
    required=("id", "object", "created", "livemode", "metadata"),
)
CHARGE = s.obj(
    {
        "id": s.string("Charge id (ch_…)."),
        "object": {"const": "charge"},
        "amount": s.integer("Amount in minor units."),
        "amount_captured": {"type": "integer"},
        "amount_refunded": {"type": "integer"},
        "balance_transaction": s.nullable(s.string("Balance transaction id.")),
        "captured": {"type": "boolean"},
        "created": {"type": "integer"},
        "currency": s.string("Three-letter ISO currency code, lowercase."),
        "customer": s.nullable(s.string("Customer id.")),
        "description": s.nullable(s.string("Description.")),
        "disputed": {"type": "boolean"},
        "livemode": {"type": "boolean"},
        "metadata": s.metadata(),
        "paid": {"type": "boolean"},
        "payment_intent": {"type": "null"},
        "receipt_email": s.nullable(s.string("Receipt email.")),
        "refunded": {"type": "boolean"},
        "status": s.enum("Charge status.", "succeeded", "pending", "failed"),
    },
    required=("id", "object", "amount", "amount_refunded", "currency", "status"),
)
REFUND = s.obj(
    {
        "id": s.string("Refund id (re_…)."),
        "object": {"const": "refund"},
        "amount": s.integer("Amount refunded, in minor units."),
        "balance_transaction": s.nullable(s.string("Balance transaction id.")),
        "charge": s.string("The refunded charge."),
        "created": {"type": "integer"},
        "currency": s.string("Currency."),
        "metadata": s.metadata(),
        "payment_intent": {"type": "null"},
        "reason": s.nullable(
            s.enum("Why.", "duplicate", "fraudulent", "requested_by_customer")
        ),
        "status": s.enum("Refund status.", "succeeded", "pending", "failed"),
    },
    required=("id", "object", "amount", "charge", "currency", "status"),
)


def stripe_error(
    status: int,
    code: str | None,
    message: str,
    *,
    param: str | None = None,
    kind: str = "invalid_request_error",
    headers: Mapping[str, str] | None = None,
) -> ServiceError:
    error: dict[str, Any] = {"type": kind, "message": message}
    if code is not None:
        error["code"] = code
        error["doc_url"] = (
            f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        )
    if param is not None:
        error["param"] = param
    return ServiceError(status, {"error": error}, headers)


def money(amount: int, currency: str) -> str:
    symbol = {"usd": "$", "eur": "€", "gbp": "£"}.get(currency, "")
    return f"{symbol}{amount / 100:.2f}"


def customer_object(ident: str, created: int, name: Any, email: Any) -> Record:
    return {
        "id": ident,
        "object": "customer",
        "created": created,
        "email": email,
        "name": name,
        "description": None,
        "livemode": False,
        "metadata": {},
    }


def charge_object(
    ident: str, created: int, amount: int, currency: str, customer: Record
) -> Record:
    return {
        "id": ident,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "balance_transaction": "txn_" + ident[3:],
        "captured": True,
        "created": created,
        "currency": currency,
        "customer": customer["id"],
        "description": None,
        "disputed": False,
        "livemode": False,
        "metadata": {},
        "paid": True,
        "payment_intent": None,
        "receipt_email": customer["email"],
        "refunded": False,
        "status": "succeeded",
    }


def apply_refund(
    state: Mapping[str, MutableMapping[str, Record]],
    ident: str,
    charge: Record,
    amount: int,
    created: int,
    reason: Any,
) -> Record:
    """Record a refund of ``charge`` (which must be writable) and update it."""
    refund = refund_object(ident, charge, amount, created, reason)
    state["refunds"][ident] = refund
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    return refund


def refund_object(
    ident: str, charge: Record, amount: int, created: int, reason: Any
) -> Record:
    """A refund of ``charge`` (the charge is not changed)."""
    return {
        "id": ident,
        "object": "refund",
        "amount": amount,
        "balance_transaction": "txn_" + ident[3:],
        "charge": charge["id"],
        "created": created,
        "currency": charge["currency"],
        "metadata": {},
        "payment_intent": None,
        "reason": reason,
        "status": "succeeded",
    }
