"""The ERP's business rules on vendors and purchase orders, and shared lookups.

Plain functions the :class:`fakes.erp.Erp` handlers call, so that the service
module reads as its operations: finding records, moving them through their state
machines, the checks on the employees and vendors involved, and the vendor and
purchase-order operations themselves.
"""

from __future__ import annotations

from typing import Any

from fakes.base import CallContext, FakeService, Operation, Record, Reply
from fakes.erp.objects import (
    APPROVAL_LIMIT,
    CATALOG,
    TABLES,
    lines_total,
    mask,
    money,
    order_object,
    transition_message,
    vendor_object,
)

#: Operations on one order or invoice: the record policy rules read amounts from.
_SUBJECTS = {
    "submit_purchase_order": ("purchase_orders", "purchase_order"),
    "approve_purchase_order": ("purchase_orders", "purchase_order"),
    "place_purchase_order": ("purchase_orders", "purchase_order"),
    "receive_purchase_order": ("purchase_orders", "purchase_order"),
    "cancel_purchase_order": ("purchase_orders", "purchase_order"),
    "match_invoice": ("invoices", "invoice"),
    "approve_invoice": ("invoices", "invoice"),
    "pay_invoice": ("invoices", "invoice"),
    "void_invoice": ("invoices", "invoice"),
}


def effective_params(
    erp: FakeService, op: Operation, params: dict[str, Any]
) -> dict[str, Any]:
    """Calls on an order, invoice, entry or payment run carry its amount, for
    policy rules."""
    subject = _SUBJECTS.get(op.name)
    if subject is not None:
        collection, key = subject
        record = erp.state[collection].get(str(params.get(key)))
        if record is not None:
            return {
                **params,
                "amount": record["amount"],
                "currency": record["currency"],
            }
    try:
        if op.name == "create_purchase_order":
            return {**params, "amount": lines_total(params["lines"])}
        if op.name == "post_journal_entry":
            debits = [x for x in params["lines"] if x.get("side") == "debit"]
            return {**params, "amount": sum(int(x["amount"]) for x in debits)}
        if op.name == "pay_invoices":  # a payment run moves the sum of its invoices
            invoices = erp.state["invoices"]
            found = [invoices.get(str(p.get("invoice"))) for p in params["payments"]]
            return {**params, "amount": sum(i["amount"] for i in found if i)}
    except (AttributeError, KeyError, TypeError, ValueError):
        pass  # a malformed request: the contract check answers it
    return params


# -- lookups and moves ----------------------------------------------------------
def get_record(erp: FakeService, collection: str, ident: str, param: str) -> Record:
    noun = TABLES[collection][0].lower() if collection in TABLES else "journal entry"
    return erp.get_or_404(collection, ident, noun=noun, param=param)


def check_move(erp: FakeService, collection: str, record: Record, target: str) -> None:
    """Raise 409 ``invalid_transition`` unless ``record`` may move to ``target``."""
    noun, transitions = TABLES[collection]
    if target not in transitions[record["status"]]:
        raise erp.error(
            409,
            "invalid_transition",
            transition_message(noun, record["id"], record["status"], target),
            param="status",
        )


def move(
    erp: FakeService, ctx: CallContext, collection: str, record: Record, target: str
) -> Record:
    """``record`` in ``target`` status (a writable copy), if the move is allowed."""
    check_move(erp, collection, record, target)
    moved = erp.state[collection].writable(record["id"])
    moved["status"] = target
    moved["updated"] = ctx.now
    return moved


def employee(erp: FakeService, ident: str, param: str, role: str) -> Record:
    user = erp.get_or_404("users", ident, param=param, owner="iam")
    if user["status"] != "active":
        raise erp.error(
            422,
            "user_not_active",
            f"User {ident} is {user['status']}; only an active employee can "
            f"be a {role}.",
            param=param,
        )
    return user


def active_vendor(erp: FakeService, ident: str, what: str) -> Record:
    vendor = get_record(erp, "vendors", ident, "vendor")
    if vendor["status"] != "active":
        raise erp.error(
            409,
            "vendor_not_active",
            f"Vendor {ident} ({vendor['name']}) is {vendor['status']}; "
            f"{what} go only to active vendors.",
            param="vendor",
        )
    return vendor


def not_mismatched(erp: FakeService, invoice: Record, verb: str) -> None:
    if invoice["status"] != "mismatch":
        return
    order = erp.state["purchase_orders"].get(invoice["purchase_order"])
    ordered = money(order["amount"], order["currency"]) if order else "unknown"
    raise erp.error(
        409,
        "invoice_mismatch",
        f"Invoice {invoice['id']} ({money(invoice['amount'], invoice['currency'])})"
        f" does not match purchase order {invoice['purchase_order']} "
        f"({ordered}); a mismatched invoice cannot be {verb}: escalate it as "
        "conflicting_records.",
        param="invoice",
    )


# -- vendors -------------------------------------------------------------------
def create_vendor(erp: FakeService, ctx: CallContext, params: dict[str, Any]) -> Reply:
    employee(erp, params["iam_user"], "iam_user", "vendor owner")
    tax = params.get("tax_id")
    for other in erp.state["vendors"].where("tax_id", tax) if tax else ():
        if other["status"] != "rejected":
            raise erp.error(
                409,
                "duplicate_vendor",
                f"Vendor {other['id']} ({other['name']}) already has tax id "
                f"{tax}; use that vendor instead of creating another.",
                param="tax_id",
            )
    vendor = vendor_object(
        ctx.new_id("ven", 12),
        ctx.now,
        name=params["name"],
        country=params["country"],
    )
    vendor["tax_id"] = tax
    vendor["iam_user"] = params["iam_user"]
    vendor["payment_terms"] = params.get("payment_terms", "net_30")
    if "bank_account" in params:
        vendor["bank_account"] = mask(params["bank_account"])
    if "contact_email" in params:
        vendor["contact_email"] = params["contact_email"]
    erp.state["vendors"][vendor["id"]] = vendor
    ctx.commit(
        business_key=f"vendor:{tax or vendor['name'].lower()}",
        params={
            "name": vendor["name"],
            "country": vendor["country"],
            "tax_id": tax,
        },
        ref=vendor["id"],
    )
    return Reply(status=201, body=vendor)


def update_vendor_status(
    erp: FakeService, ctx: CallContext, params: dict[str, Any]
) -> Reply:
    vendor = get_record(erp, "vendors", params["vendor"], "vendor")
    target = params["status"]
    check_move(erp, "vendors", vendor, target)
    missing = [k for k in ("tax_id", "bank_account") if not vendor.get(k)]
    if target == "approved" and missing:
        raise erp.error(
            422,
            "incomplete_vendor",
            f"Vendor {vendor['id']} cannot be approved without a tax_id and a "
            f"bank_account (missing: {', '.join(missing)}).",
            param="status",
        )
    vendor = move(erp, ctx, "vendors", vendor, target)
    ctx.commit(
        business_key=f"vendor_status:{vendor['id']}:{target}",
        params={
            "vendor": vendor["id"],
            "status": target,
            "reason": params.get("reason"),
        },
        ref=vendor["id"],
    )
    return Reply(status=200, body=vendor)


# -- purchase orders -----------------------------------------------------------
def create_purchase_order(
    erp: FakeService, ctx: CallContext, params: dict[str, Any]
) -> Reply:
    vendor = get_record(erp, "vendors", params["vendor"], "vendor")
    employee(erp, params["requester"], "requester", "requester")
    if not params["lines"]:
        raise erp.error(
            422,
            "no_lines",
            "A purchase order needs at least one line.",
            param="lines",
        )
    currency = params.get("currency", vendor["currency"])
    if currency != vendor["currency"]:
        raise erp.error(
            422,
            "currency_mismatch",
            f"Vendor {vendor['id']} invoices in {vendor['currency']}; raise the "
            f"purchase order in {vendor['currency']}, not {currency}.",
            param="currency",
        )
    descriptions = {sku: text for sku, text, _ in CATALOG}
    lines = [
        {
            "sku": line["sku"],
            "description": line.get(
                "description", descriptions.get(line["sku"], line["sku"])
            ),
            "quantity": line["quantity"],
            "unit_price": line["unit_price"],
        }
        for line in params["lines"]
    ]
    order = order_object(
        ctx.new_id("po", 14),
        ctx.now,
        vendor=vendor,
        requester=params["requester"],
        lines=lines,
        currency=currency,
    )
    erp.state["purchase_orders"][order["id"]] = order
    ctx.commit(
        business_key=f"po:{vendor['id']}:{order['amount']}",
        params={
            "vendor": vendor["id"],
            "requester": order["requester"],
            "amount": order["amount"],
            "currency": currency,
        },
        ref=order["id"],
    )
    return Reply(status=201, body=order)


def order_step(
    erp: FakeService, ctx: CallContext, params: dict[str, Any], target: str, verb: str
) -> Reply:
    """Move an order to ``target`` and ledger it as ``<verb>:<order id>``."""
    order = get_record(
        erp, "purchase_orders", params["purchase_order"], "purchase_order"
    )
    check_move(erp, "purchase_orders", order, target)
    if target in ("submitted", "ordered"):
        active_vendor(erp, order["vendor"], "purchase orders")
    if (
        target == "ordered"
        and order["status"] == "submitted"
        and order["amount"] > APPROVAL_LIMIT
    ):
        raise erp.error(
            409,
            "approval_required",
            f"Purchase order {order['id']} is for "
            f"{money(order['amount'], order['currency'])}; orders above "
            f"{money(APPROVAL_LIMIT, order['currency'])} must be approved "
            "(approve_purchase_order) before they are placed.",
            param="purchase_order",
        )
    order = move(erp, ctx, "purchase_orders", order, target)
    if target == "approved":
        order["approved_by"] = ctx.identity
    ctx.commit(
        business_key=f"{verb}:{order['id']}",
        params={
            "purchase_order": order["id"],
            "status": target,
            "reason": params.get("reason"),
        },
        ref=order["id"],
    )
    return Reply(status=200, body=order)
