"""The seeded ERP, and the records a scenario creates by name.

Vendors, their purchase orders, invoices for delivered goods and the payments of
a seeded world; and the vendors, purchase orders and invoices a scenario sets up.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes import _schema as s
from fakes._vocab import vocabulary
from fakes.base import FakeService, IdGenerator, Record, Seed
from fakes.erp.objects import (
    APPROVAL_LIMIT,
    CATALOG,
    COUNTRIES,
    CURRENCIES,
    DAY,
    INVOICE,
    INVOICE_STATUSES,
    NOW,
    ORDERS_PER_VENDOR,
    PAYMENT_TERMS,
    PO_STATUSES,
    PURCHASE_ORDER,
    TABLES,
    VENDOR,
    VENDOR_STATUSES,
    catalog_line,
    invoice_object,
    mask,
    order_object,
    payment_lines,
    posting_object,
    tax_id,
    vendor_object,
)

if TYPE_CHECKING:
    from faker import Faker

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
    active = [(i, dept) for i, status, dept in _staff(iam_users) if status == "active"]
    owners = [i for i, dept in active if dept in ("Operations", "Finance")]
    owners = owners or [i for i, _ in active]
    approvers = [i for i, dept in active if dept == "Finance"] or owners
    requesters = [i for i, _ in active]
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


def _staff(users: Mapping[str, Record]) -> list[tuple[Any, Any, Any]]:
    """Each IAM user's id, status and department (a lazily seeded directory
    makes these fields alone, not the users)."""
    values_of = getattr(users, "values_of", None)
    if values_of is None:
        return [(u["id"], u["status"], u["department"]) for u in users.values()]
    fields = (values_of("id"), values_of("status"), values_of("department"))
    return list(zip(*fields, strict=True))


def _seed_vendors(
    faker: Faker,
    rng: random.Random,
    ids: IdGenerator,
    count: int,
    owners: list[str],
) -> list[Record]:
    surnames = vocabulary().surnames
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


# -- scenario records -----------------------------------------------------------

_VENDOR_FIELDS = (
    "name",
    "tax_id",
    "country",
    "currency",
    "payment_terms",
    "bank_account",
    "status",
    "contact_email",
    "iam_user",
)
_ORDER_FIELDS = (
    "vendor",
    "requester",
    "lines",
    "amount",
    "currency",
    "status",
    "approved_by",
)
_INVOICE_FIELDS = ("purchase_order", "number", "amount", "status", "match_difference")
#: The fields a scenario may give each record kind (see ``FakeService``).
RECORD_FIELDS: dict[str, s.Schema] = {
    "vendor": s.scenario_fields(VENDOR, _VENDOR_FIELDS),
    "purchase_order": s.scenario_fields(
        PURCHASE_ORDER,
        _ORDER_FIELDS,
        vendor=s.nullable(s.string("The vendor's id (null: a new vendor).")),
        requester=s.nullable(
            s.string("The iam user who asks for it (null: an active employee).")
        ),
    ),
    "invoice": s.scenario_fields(
        INVOICE,
        _INVOICE_FIELDS,
        purchase_order=s.nullable(
            s.string("The purchase order's id (null: a new received order).")
        ),
    ),
}


def create_record(erp: FakeService, kind: str, fields: Mapping[str, Any]) -> Record:
    """A scenario record of ``kind`` (vendor, purchase order or invoice)."""
    if kind == "vendor":
        return _create_vendor(erp, fields)
    if kind == "purchase_order":
        return _create_order(erp, fields)
    if kind == "invoice":
        return _create_invoice(erp, fields)
    raise erp.unknown_kind(kind)


def _create_vendor(erp: FakeService, fields: Mapping[str, Any]) -> Record:
    erp.check_record_fields("vendor", fields)
    _check_choice(fields, "status", VENDOR_STATUSES)
    _check_choice(fields, "country", tuple(COUNTRIES))
    _check_choice(fields, "payment_terms", PAYMENT_TERMS)
    world = erp.world
    country = str(fields.get("country", "US"))
    vendor = vendor_object(
        world.ids.new("ven", 12),
        int(world.clock.epoch()) - 400 * DAY,
        name=str(fields.get("name", world.faker.company())),
        country=country,
    )
    digits = world.rng.randrange(10**8, 10**9)
    vendor.update(
        status="active",
        tax_id=tax_id(country, digits),
        bank_account=mask(str(digits)),
        iam_user=_any_employee(erp),
    )
    vendor.update({k: fields[k] for k in _VENDOR_FIELDS if k in fields})
    if "bank_account" in fields and fields["bank_account"] is not None:
        vendor["bank_account"] = mask(str(fields["bank_account"]))
    erp.state["vendors"][vendor["id"]] = vendor
    return vendor


def _create_order(erp: FakeService, fields: Mapping[str, Any]) -> Record:
    erp.check_record_fields("purchase_order", fields)
    _check_choice(fields, "status", PO_STATUSES)
    _check_choice(fields, "currency", CURRENCIES)
    world = erp.world
    vendor_id = fields.get("vendor")
    vendor = (
        _create_vendor(erp, {})
        if vendor_id is None
        else _scenario_ref(erp, "vendors", vendor_id)
    )
    if "lines" in fields:
        lines = [dict(line) for line in fields["lines"]]
    elif "amount" in fields:
        lines = [catalog_line(("SERVICES", "Services as agreed", 0), 1)]
        lines[0]["unit_price"] = int(fields["amount"])
    else:
        lines = [catalog_line(world.rng.choice(CATALOG), world.rng.randrange(1, 6))]
    requester = fields.get("requester") or _any_employee(erp)
    if requester is None:
        raise ValueError("a purchase order needs a requester (an iam user id)")
    order = order_object(
        world.ids.new("po", 14),
        int(world.clock.epoch()) - 10 * DAY,
        vendor=vendor,
        requester=str(requester),
        lines=lines,
        currency=str(fields.get("currency", vendor["currency"])),
    )
    if "amount" in fields and order["amount"] != int(fields["amount"]):
        raise ValueError(
            f"amount {fields['amount']} is not the sum of the lines "
            f"({order['amount']}); give lines or amount, not both"
        )
    order.update({k: fields[k] for k in ("status", "approved_by") if k in fields})
    erp.state["purchase_orders"][order["id"]] = order
    return order


def _create_invoice(erp: FakeService, fields: Mapping[str, Any]) -> Record:
    erp.check_record_fields("invoice", fields)
    _check_choice(fields, "status", INVOICE_STATUSES)
    world = erp.world
    order_id = fields.get("purchase_order")
    order = (
        _create_order(erp, {"status": "received"})
        if order_id is None
        else _scenario_ref(erp, "purchase_orders", order_id)
    )
    invoice = invoice_object(
        world.ids.new("inv", 14),
        int(world.clock.epoch()) - 2 * DAY,
        number=str(fields.get("number", f"INV-{world.rng.randrange(10**6):06d}")),
        order=order,
        amount=int(fields.get("amount", order["amount"])),
    )
    invoice.update(
        {k: fields[k] for k in ("status", "match_difference") if k in fields}
    )
    erp.state["invoices"][invoice["id"]] = invoice
    return invoice


def _scenario_ref(erp: FakeService, collection: str, ident: Any) -> Record:
    record = erp.state[collection].get(str(ident))
    if record is None:
        noun = TABLES[collection][0].lower()
        raise LookupError(f"no erp {noun} {ident!r}")
    return record


def _any_employee(erp: FakeService) -> str | None:
    """An active IAM user, drawn with the run's seeded stream."""
    iam = erp.world.services.get("iam")
    if iam is None:
        return None
    users = iam.state["users"]  # ids and statuses made alone, in where's order
    pairs = zip(users.values_of("id"), users.values_of("status"), strict=True)
    staff = [ident for ident, status in pairs if status == "active"]
    return str(erp.world.rng.choice(staff)) if staff else None


def _check_choice(
    fields: Mapping[str, Any], name: str, choices: tuple[str, ...]
) -> None:
    if name in fields and fields[name] not in choices:
        raise ValueError(f"{name} {fields[name]!r} is not one of {', '.join(choices)}")
