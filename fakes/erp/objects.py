"""The ERP's records: state machines, contracts and constructors.

Kept apart from :mod:`fakes.erp.service` so that the service module reads as its
operations; the seeded ledger is built in :mod:`fakes.erp.seed`.
"""

from __future__ import annotations

import re

from fakes import _schema as s
from fakes.base import Record

DAY = 86_400
#: The seeded world's "now" (the simulated clock's epoch).
NOW = 1_767_225_600
#: Purchase orders above this many minor units are approved before they are placed.
APPROVAL_LIMIT = 1_000_000
#: Purchase orders per vendor in the seeded world.
ORDERS_PER_VENDOR = 3

CURRENCIES = ("usd", "eur", "gbp")
#: Countries vendors are registered in, with their currency.
COUNTRIES = {"US": "usd", "CA": "usd", "GB": "gbp", "DE": "eur", "FR": "eur"}
PAYMENT_TERMS = ("due_on_receipt", "net_15", "net_30", "net_45", "net_60")

#: Each state machine: status -> the statuses it may move to (empty: final).
VENDOR_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("pending_verification", "rejected"),
    "pending_verification": ("approved", "rejected"),
    "approved": ("active", "suspended"),
    "active": ("suspended",),
    "suspended": ("active",),
    "rejected": (),
}
PO_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "draft": ("submitted", "cancelled"),
    "submitted": ("approved", "ordered", "cancelled"),
    "approved": ("ordered", "cancelled"),
    "ordered": ("received", "cancelled"),
    "received": ("closed",),
    "closed": (),
    "cancelled": (),
}
INVOICE_TRANSITIONS: dict[str, tuple[str, ...]] = {
    "received": ("matched", "mismatch", "void"),
    "matched": ("approved", "void"),
    "mismatch": ("void",),
    "approved": ("paid", "void"),
    "paid": (),
    "void": (),
}
VENDOR_STATUSES = tuple(VENDOR_TRANSITIONS)
PO_STATUSES = tuple(PO_TRANSITIONS)
INVOICE_STATUSES = tuple(INVOICE_TRANSITIONS)
#: Each collection with a state machine: its noun, and its transitions.
TABLES: dict[str, tuple[str, dict[str, tuple[str, ...]]]] = {
    "vendors": ("Vendor", VENDOR_TRANSITIONS),
    "purchase_orders": ("Purchase order", PO_TRANSITIONS),
    "invoices": ("Invoice", INVOICE_TRANSITIONS),
}

#: The chart of accounts journal entries post to.
ACCOUNTS = {
    "1000": "Cash",
    "1200": "Accounts receivable",
    "1400": "Inventory",
    "1500": "Prepaid expenses",
    "2000": "Accounts payable",
    "2100": "Accrued liabilities",
    "4000": "Revenue",
    "5000": "Cost of goods sold",
    "6000": "Operating expenses",
    "6100": "Software subscriptions",
    "6200": "Professional services",
}
#: What the company buys: sku, description, unit price in minor units.
CATALOG: tuple[tuple[str, str, int], ...] = (
    ("LAP-14", "14-inch laptop", 129_900),
    ("MON-27", "27-inch monitor", 32_900),
    ("SW-SEAT", "Software licence, annual seat", 48_000),
    ("CONS-HR", "Consulting, per hour", 17_500),
    ("CLOUD-CR", "Cloud credits", 100_000),
    ("OFF-SUP", "Office supplies bundle", 4_500),
    ("PRN-TON", "Printer toner", 8_900),
    ("CAT-EVT", "Event catering, per head", 3_500),
    ("SEC-AUD", "Security audit, fixed fee", 1_250_000),
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


VENDOR = s.record(
    {
        "id": s.string("Vendor id (ven_…)."),
        "object": {"const": "vendor"},
        "name": s.string("Legal name."),
        "tax_id": s.nullable(s.string("Tax registration number.")),
        "country": s.enum("Country of registration.", *COUNTRIES),
        "currency": s.enum("Currency the vendor invoices in.", *CURRENCIES),
        "payment_terms": s.enum("When invoices fall due.", *PAYMENT_TERMS),
        "bank_account": s.nullable(s.string("Bank account, masked (****1234).")),
        "status": s.enum(
            "Onboarding: draft -> pending_verification -> approved -> active; "
            "or rejected (final) or suspended.",
            *VENDOR_STATUSES,
        ),
        "contact_email": s.string("Accounts receivable contact at the vendor."),
        "iam_user": s.nullable(s.string("Internal owner: an IAM user id (usr_…).")),
        "created": s.integer("When the vendor was created (Unix seconds)."),
        "updated": s.integer("When the vendor last changed (Unix seconds)."),
    },
)
LINE = s.obj(
    {
        "sku": s.string("Catalog item code (e.g. LAP-14)."),
        "description": s.string("What is bought."),
        "quantity": s.integer("How many units.", minimum=1),
        "unit_price": s.integer("Price of one unit, in minor units.", minimum=1),
    },
    required=("sku", "quantity", "unit_price"),
)
PURCHASE_ORDER = s.record(
    {
        "id": s.string("Purchase order id (po_…)."),
        "object": {"const": "purchase_order"},
        "vendor": s.string("Vendor id (ven_…)."),
        "requester": s.string("Who asked for it: an IAM user id (usr_…)."),
        "lines": {"type": "array", "items": LINE, "description": "What is ordered."},
        "amount": s.integer("Total in minor units: the sum of the lines."),
        "currency": s.enum("Currency.", *CURRENCIES),
        "status": s.enum(
            "draft -> submitted -> approved -> ordered -> received -> closed; or "
            "cancelled. Above 10,000.00 an order is approved before it is placed.",
            *PO_STATUSES,
        ),
        "approved_by": s.nullable(s.string("Who approved it.")),
        "created": s.integer("When it was raised (Unix seconds)."),
        "updated": s.integer("When it last changed (Unix seconds)."),
    },
)
INVOICE = s.record(
    {
        "id": s.string("Invoice id (inv_…)."),
        "object": {"const": "invoice"},
        "number": s.string("The vendor's own invoice number."),
        "vendor": s.string("Vendor id (ven_…)."),
        "purchase_order": s.string("The purchase order it bills (po_…)."),
        "amount": s.integer("Amount billed, in minor units."),
        "currency": s.enum("Currency.", *CURRENCIES),
        "status": s.enum(
            "received -> matched -> approved -> paid; mismatch when the amount "
            "differs from the purchase order's (held: never approve or pay it); "
            "void when cancelled.",
            *INVOICE_STATUSES,
        ),
        "match_difference": s.nullable(
            s.integer("Invoice amount minus order amount at matching.")
        ),
        "posting": s.nullable(s.string("The payment's journal entry (gl_…).")),
        "created": s.integer("When it was received (Unix seconds)."),
        "updated": s.integer("When it last changed (Unix seconds)."),
    },
)
JOURNAL_LINE = s.obj(
    {
        "account": s.enum("Chart-of-accounts code.", *ACCOUNTS),
        "side": s.enum("Debit or credit.", "debit", "credit"),
        "amount": s.integer("Amount in minor units.", minimum=1),
    },
    required=("account", "side", "amount"),
)
POSTING = s.record(
    {
        "id": s.string("Journal entry id (gl_…)."),
        "object": {"const": "journal_entry"},
        "lines": {"type": "array", "items": JOURNAL_LINE},
        "currency": s.enum("Currency.", *CURRENCIES),
        "memo": s.string("What the entry records."),
        "source": s.nullable(s.string("The record it books (inv_…, po_…).")),
        "reverses": s.nullable(s.string("The entry this one reverses (gl_…).")),
        "reversed_by": s.nullable(s.string("The entry that reversed this one.")),
        "posted_by": s.string("Who posted it."),
        "created": s.integer("When it was posted (Unix seconds)."),
    },
)


def money(amount: int, currency: str) -> str:
    """``1250000, "usd"`` -> ``12,500.00 USD``."""
    return f"{amount / 100:,.2f} {currency.upper()}"


def transition_message(noun: str, ident: str, current: str, target: str) -> str:
    """Why a record cannot move to ``target``, with the moves it can make."""
    table = {
        "Vendor": VENDOR_TRANSITIONS,
        "Purchase order": PO_TRANSITIONS,
        "Invoice": INVOICE_TRANSITIONS,
    }[noun]
    allowed = table[current]
    where = (
        f"allowed from {current}: {', '.join(allowed)}"
        if allowed
        else f"{current} is final"
    )
    return f"{noun} {ident} cannot go from {current} to {target} ({where})."


def mask(account: str) -> str:
    """A bank account as the ERP shows it: the last four digits only."""
    return "****" + account[-4:]


def vendor_object(ident: str, created: int, *, name: str, country: str) -> Record:
    slug = _NOT_ALNUM.sub("-", name.lower()).strip("-")
    return {
        "id": ident,
        "object": "vendor",
        "name": name,
        "tax_id": None,
        "country": country,
        "currency": COUNTRIES[country],
        "payment_terms": "net_30",
        "bank_account": None,
        "status": "draft",
        "contact_email": f"billing@{slug}.example",
        "iam_user": None,
        "created": created,
        "updated": created,
    }


def tax_id(country: str, digits: int) -> str:
    """A tax number in the country's style, from nine digits."""
    text = f"{digits:09d}"
    if country == "US":
        return f"{text[:2]}-{text[2:]}"
    if country == "CA":
        return f"{text}RT0001"
    return f"{country}{text}"


def lines_total(lines: list[Record]) -> int:
    return sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines)


def order_object(
    ident: str,
    created: int,
    *,
    vendor: Record,
    requester: str,
    lines: list[Record],
    currency: str,
) -> Record:
    return {
        "id": ident,
        "object": "purchase_order",
        "vendor": vendor["id"],
        "requester": requester,
        "lines": lines,
        "amount": lines_total(lines),
        "currency": currency,
        "status": "draft",
        "approved_by": None,
        "created": created,
        "updated": created,
    }


def invoice_object(
    ident: str, created: int, *, number: str, order: Record, amount: int
) -> Record:
    return {
        "id": ident,
        "object": "invoice",
        "number": number,
        "vendor": order["vendor"],
        "purchase_order": order["id"],
        "amount": amount,
        "currency": order["currency"],
        "status": "received",
        "match_difference": None,
        "posting": None,
        "created": created,
        "updated": created,
    }


def posting_object(
    ident: str,
    created: int,
    *,
    lines: list[Record],
    currency: str,
    memo: str,
    source: str | None,
    posted_by: str,
) -> Record:
    return {
        "id": ident,
        "object": "journal_entry",
        "lines": lines,
        "currency": currency,
        "memo": memo,
        "source": source,
        "reverses": None,
        "reversed_by": None,
        "posted_by": posted_by,
        "created": created,
    }


def payment_lines(amount: int) -> list[Record]:
    """Paying a supplier: accounts payable goes down, and so does cash."""
    return [
        {"account": "2000", "side": "debit", "amount": amount},
        {"account": "1000", "side": "credit", "amount": amount},
    ]


def catalog_line(item: tuple[str, str, int], quantity: int) -> Record:
    sku, description, price = item
    return {
        "sku": sku,
        "description": description,
        "quantity": quantity,
        "unit_price": price,
    }
