"""The ERP's records: state machines, contracts, constructors and the seeded ledger.

Kept apart from :mod:`fakes.erp` so that the service module reads as its
operations and business rules.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes import _schema as s
from fakes.base import IdGenerator, Record, Seed

if TYPE_CHECKING:
    from faker import Faker

DAY = 86_400
#: The seeded world's "now" (the simulated clock's epoch).
NOW = 1_767_225_600
#: Purchase orders above this many minor units are approved before they are placed.
APPROVAL_LIMIT = 1_000_000

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
_INDUSTRIES = (
    "Logistics",
    "Supply",
    "Systems",
    "Consulting",
    "Analytics",
    "Facilities",
    "Print",
    "Software",
    "Networks",
    "Staffing",
    "Catering",
    "Security",
    "Cloud",
    "Office",
)
_SUFFIXES = ("Inc", "LLC", "Ltd", "GmbH", "Group", "Co")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    """A response record's contract: closed, and every field always present."""
    return s.obj(properties, required=tuple(properties))


VENDOR = _record(
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
PURCHASE_ORDER = _record(
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
INVOICE = _record(
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
POSTING = _record(
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


# -- the seeded ERP ---------------------------------------------------------------

_VENDOR_MIX = (
    ("active", 70),
    ("draft", 5),
    ("pending_verification", 8),
    ("approved", 5),
    ("suspended", 7),
    ("rejected", 5),
)
_PO_MIX = (
    ("draft", 10),
    ("submitted", 10),
    ("approved", 8),
    ("ordered", 15),
    ("received", 22),
    ("closed", 25),
    ("cancelled", 10),
)
#: Purchase orders per vendor in the seeded world.
ORDERS_PER_VENDOR = 3


def seed_erp(
    faker: Faker,
    rng: random.Random,
    ids: IdGenerator,
    iam_users: Mapping[str, Record],
    vendor_count: int,
) -> Seed:
    """Vendors, their purchase orders, invoices for delivered goods, and payments."""
    seed: Seed = {
        "vendors": {},
        "purchase_orders": {},
        "invoices": {},
        "postings": {},
    }
    active = [u for u in iam_users.values() if u["status"] == "active"]
    owners = [u["id"] for u in active if u["department"] in ("Operations", "Finance")]
    owners = owners or [u["id"] for u in active]
    approvers = [u["id"] for u in active if u["department"] == "Finance"] or owners
    requesters = [u["id"] for u in active]
    vendors = _seed_vendors(faker, rng, ids, vendor_count, owners)
    seed["vendors"] = {v["id"]: v for v in vendors}
    if not requesters:
        return seed
    statuses = [status for status, _ in _PO_MIX]
    weights = [weight for _, weight in _PO_MIX]
    drawn = rng.choices(statuses, weights=weights, k=len(vendors) * ORDERS_PER_VENDOR)
    number = rng.randrange(10_000, 50_000)
    for i, status in enumerate(drawn):
        vendor = vendors[i // ORDERS_PER_VENDOR]
        if vendor["status"] != "active":
            status = "cancelled" if status in ("cancelled", "closed") else "draft"
        count = 1 + int(rng.random() < 0.3) + int(rng.random() < 0.1)
        lines = [
            catalog_line(rng.choice(CATALOG), rng.randrange(1, 12))
            for _ in range(count)
        ]
        order = order_object(
            ids.new("po", 14),
            NOW - rng.randrange(60, 200) * DAY,
            vendor=vendor,
            requester=rng.choice(requesters),
            lines=lines,
            currency=vendor["currency"],
        )
        order["status"] = status
        order["updated"] = order["created"] + DAY
        needed = order["amount"] > APPROVAL_LIMIT
        if status == "approved" or (
            needed and status in ("ordered", "received", "closed")
        ):
            order["approved_by"] = rng.choice(approvers)
        seed["purchase_orders"][order["id"]] = order
        invoice = _seed_invoice(rng, ids, seed, order, f"INV-{number + i}")
        if invoice is not None:
            seed["invoices"][invoice["id"]] = invoice
    return seed


def _seed_vendors(
    faker: Faker,
    rng: random.Random,
    ids: IdGenerator,
    count: int,
    owners: list[str],
) -> list[Record]:
    surnames = sorted({faker.last_name() for _ in range(min(100, 20 + count // 10))})
    countries = list(COUNTRIES)
    statuses = [status for status, _ in _VENDOR_MIX]
    weights = [weight for _, weight in _VENDOR_MIX]
    drawn = rng.choices(statuses, weights=weights, k=count)
    numbers = rng.sample(range(10**8, 10**9), count)
    names: set[str] = set()
    vendors = []
    for i in range(count):
        name = ""
        while not name or name in names:
            name = (
                f"{rng.choice(surnames)} {rng.choice(_INDUSTRIES)} "
                f"{rng.choice(_SUFFIXES)}"
            )
        names.add(name)
        country = countries[0] if rng.random() < 0.6 else rng.choice(countries)
        vendor = vendor_object(
            ids.new("ven", 12),
            NOW - rng.randrange(220, 2000) * DAY,
            name=name,
            country=country,
        )
        status = drawn[i]
        vendor["status"] = status
        vendor["payment_terms"] = rng.choice(PAYMENT_TERMS)
        if status != "draft" or rng.random() < 0.5:
            vendor["tax_id"] = tax_id(country, numbers[i])
        if status not in ("draft", "pending_verification"):
            vendor["bank_account"] = mask(str(numbers[i]))
        vendor["iam_user"] = rng.choice(owners) if owners else None
        vendor["updated"] = vendor["created"] + rng.randrange(1, 200) * DAY
        vendors.append(vendor)
    return vendors


def _seed_invoice(
    rng: random.Random, ids: IdGenerator, seed: Seed, order: Record, number: str
) -> Record | None:
    """The vendor's invoice for an order that shipped, and its payment if paid."""
    status = order["status"]
    if status == "ordered" and rng.random() < 0.2:
        invoice_status = "received"  # billed before the goods arrived
    elif status == "received":
        invoice_status = rng.choices(
            ("received", "matched", "approved", "mismatch"), weights=(60, 20, 10, 10)
        )[0]
    elif status == "closed":
        invoice_status = "paid"
    else:
        return None
    amount = order["amount"]
    if invoice_status == "mismatch" or (
        invoice_status == "received" and rng.random() < 0.15
    ):
        delta = rng.randrange(1, 20) * 500
        amount += delta if delta >= amount or rng.random() < 0.6 else -delta
    invoice = invoice_object(
        ids.new("inv", 14),
        order["updated"] + rng.randrange(1, 20) * DAY,
        number=number,
        order=order,
        amount=amount,
    )
    invoice["status"] = invoice_status
    if invoice_status in ("matched", "approved", "mismatch", "paid"):
        invoice["match_difference"] = amount - order["amount"]
    if invoice_status == "paid":
        paid = invoice["created"] + rng.randrange(1, 30) * DAY
        posting = posting_object(
            ids.new("gl", 14),
            paid,
            lines=payment_lines(amount),
            currency=invoice["currency"],
            memo=f"Payment of invoice {number}",
            source=invoice["id"],
            posted_by="ap-automation",
        )
        seed["postings"][posting["id"]] = posting
        invoice["posting"] = posting["id"]
        invoice["updated"] = paid
    return invoice
