"""The ERP's invoice and general-ledger rules.

Plain functions the :class:`fakes.erp.Erp` handlers call: recording a vendor's
invoice, the three-way match, paying (which books the payment), and balanced
journal entries with their reversals.
"""

from __future__ import annotations

from typing import Any

from fakes.base import CallContext, FakeService, Record, Reply, fingerprint
from fakes.erp.objects import (
    invoice_object,
    money,
    payment_lines,
    posting_object,
)
from fakes.erp.rules import (
    active_vendor,
    check_move,
    get_record,
    move,
    not_mismatched,
)


# -- invoices ------------------------------------------------------------------
def create_invoice(erp: FakeService, ctx: CallContext, params: dict[str, Any]) -> Reply:
    order = get_record(
        erp, "purchase_orders", params["purchase_order"], "purchase_order"
    )
    if order["status"] in ("draft", "cancelled"):
        raise erp.error(
            409,
            "order_not_open",
            f"Purchase order {order['id']} is {order['status']}; invoices are "
            "recorded only against submitted, approved, ordered, received or "
            "closed purchase orders.",
            param="purchase_order",
        )
    number = params["number"]
    for other in erp.state["invoices"].where("number", number):
        if other["vendor"] == order["vendor"] and other["status"] != "void":
            raise erp.error(
                409,
                "duplicate_invoice",
                f"Vendor {order['vendor']} already billed invoice {number} "
                f"({other['id']}); recording it again risks paying it twice.",
                param="number",
            )
    invoice = invoice_object(
        ctx.new_id("inv", 14),
        ctx.now,
        number=number,
        order=order,
        amount=params["amount"],
    )
    erp.state["invoices"][invoice["id"]] = invoice
    ctx.commit(
        business_key=f"invoice:{order['vendor']}:{number}",
        params={
            "purchase_order": order["id"],
            "number": number,
            "amount": invoice["amount"],
        },
        ref=invoice["id"],
    )
    return Reply(status=201, body=invoice)


def match_invoice(erp: FakeService, ctx: CallContext, params: dict[str, Any]) -> Reply:
    invoice = get_record(erp, "invoices", params["invoice"], "invoice")
    order = get_record(erp, "purchase_orders", invoice["purchase_order"], "invoice")
    check_move(erp, "invoices", invoice, "matched")
    if order["status"] not in ("received", "closed"):
        raise erp.error(
            409,
            "goods_not_received",
            f"Purchase order {order['id']} is {order['status']}; an invoice is "
            "matched only after its goods are received (receive_purchase_order).",
            param="invoice",
        )
    difference = invoice["amount"] - order["amount"]
    invoice = move(
        erp, ctx, "invoices", invoice, "matched" if difference == 0 else "mismatch"
    )
    invoice["match_difference"] = difference
    ctx.commit(
        business_key=f"match:{invoice['id']}",
        params={"invoice": invoice["id"], "status": invoice["status"]},
        ref=invoice["id"],
    )
    return Reply(status=200, body=invoice)


def pay_invoice(erp: FakeService, ctx: CallContext, params: dict[str, Any]) -> Reply:
    invoice = get_record(erp, "invoices", params["invoice"], "invoice")
    not_mismatched(erp, invoice, "paid")
    check_move(erp, "invoices", invoice, "paid")
    active_vendor(erp, invoice["vendor"], "payments")
    invoice = move(erp, ctx, "invoices", invoice, "paid")
    posting = posting_object(
        ctx.new_id("gl", 14),
        ctx.now,
        lines=payment_lines(invoice["amount"]),
        currency=invoice["currency"],
        memo=f"Payment of invoice {invoice['number']}",
        source=invoice["id"],
        posted_by=ctx.identity,
    )
    erp.state["postings"][posting["id"]] = posting
    invoice["posting"] = posting["id"]
    order = erp.state["purchase_orders"].get(invoice["purchase_order"])
    if order is not None and order["status"] == "received":
        move(erp, ctx, "purchase_orders", order, "closed")
    ctx.commit(
        business_key=f"pay:{invoice['id']}",
        params={"invoice": invoice["id"], "amount": invoice["amount"]},
        ref=invoice["id"],
    )
    return Reply(status=200, body=invoice)


# -- the general ledger --------------------------------------------------------
def post_journal_entry(
    erp: FakeService, ctx: CallContext, params: dict[str, Any]
) -> Reply:
    lines = [dict(line) for line in params["lines"]]
    currency = params["currency"]
    if len(lines) < 2:
        raise erp.error(
            422,
            "too_few_lines",
            "A journal entry needs at least two lines: a debit and a credit.",
            param="lines",
        )
    debits = sum(line["amount"] for line in lines if line["side"] == "debit")
    credits = sum(line["amount"] for line in lines if line["side"] == "credit")
    if debits != credits:
        raise erp.error(
            422,
            "unbalanced_entry",
            f"Debits ({money(debits, currency)}) do not equal credits "
            f"({money(credits, currency)}); a journal entry must balance.",
            param="lines",
        )
    reverses = params.get("reverses")
    if reverses is not None:
        _check_reversal(erp, reverses, lines, currency)
    posting = posting_object(
        ctx.new_id("gl", 14),
        ctx.now,
        lines=lines,
        currency=currency,
        memo=params["memo"],
        source=params.get("source"),
        posted_by=ctx.identity,
    )
    posting["reverses"] = reverses
    erp.state["postings"][posting["id"]] = posting
    if reverses is not None:
        erp.state["postings"].writable(reverses)["reversed_by"] = posting["id"]
    ctx.commit(
        business_key=_journal_key(posting),
        params={
            "amount": debits,
            "currency": currency,
            "source": posting["source"],
            "reverses": reverses,
        },
        ref=posting["id"],
    )
    return Reply(status=201, body=posting)


def _check_reversal(
    erp: FakeService, ident: str, lines: list[Record], currency: str
) -> None:
    original = get_record(erp, "postings", ident, "reverses")
    if original["reversed_by"] is not None:
        raise erp.error(
            409,
            "already_reversed",
            f"Journal entry {ident} was already reversed by {original['reversed_by']}.",
            param="reverses",
        )
    swap = {"debit": "credit", "credit": "debit"}
    mirrored = sorted(
        (line["account"], swap[line["side"]], line["amount"])
        for line in original["lines"]
    )
    given = sorted((line["account"], line["side"], line["amount"]) for line in lines)
    if given != mirrored or currency != original["currency"]:
        raise erp.error(
            422,
            "not_a_reversal",
            f"A reversal of {ident} posts its lines in {original['currency']} "
            "with debit and credit swapped.",
            param="lines",
        )


def _journal_key(posting: Record) -> str:
    """``reversal:<gl>``, ``journal:<source>``, or the entry's content."""
    if posting["reverses"] is not None:
        return f"reversal:{posting['reverses']}"
    if posting["source"] is not None:
        return f"journal:{posting['source']}"
    return "journal:" + fingerprint(
        {"lines": posting["lines"], "memo": posting["memo"]}
    )
