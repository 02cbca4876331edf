"""ERP: vendors with onboarding states, purchase orders, invoices, GL postings.

Every record follows a state machine (:mod:`fakes.erp.objects`); a move it does
not allow is a 409 ``invalid_transition`` naming the moves that are. Rules on
top: purchase orders go only to active vendors (409 ``vendor_not_active``);
orders above 10,000.00 are approved before they are placed (409
``approval_required``); an invoice is matched against its order only after the
goods arrived (409 ``goods_not_received``), and one whose amount differs is a
``mismatch`` that can be neither approved nor paid (409 ``invoice_mismatch``);
journal entries balance (422 ``unbalanced_entry``). ``pay_invoices`` is a payment
run: each invoice is paid on its own, and the answer reports each by index.

Undoing: cancelling the order compensates raising, submitting, approving or
placing it; voiding the invoice compensates recording, matching or approving it;
rejecting a draft vendor (``update_vendor_status``) compensates creating it.
Receiving goods, paying, voiding, cancelling, status changes and journal entries
are irreversible: a wrong posting is corrected by a reversing entry.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Operation,
    Record,
    Reply,
    Seed,
    WorldScale,
    operation,
    paginate,
)
from fakes.erp import ledger as ledger
from fakes.erp import rules as rules
from fakes.erp.objects import (
    COUNTRIES,
    CURRENCIES,
    INVOICE,
    INVOICE_STATUSES,
    JOURNAL_LINE,
    LINE,
    PAYMENT_TERMS,
    PO_STATUSES,
    POSTING,
    PURCHASE_ORDER,
    VENDOR,
    VENDOR_STATUSES,
)
from fakes.erp.seed import RECORD_FIELDS, create_record, seed_erp

if TYPE_CHECKING:
    from faker import Faker

_PO_ID = "Purchase order id (po_…)."
_INVOICE_ID = "Invoice id (inv_…)."
_REASON = s.string("Why (kept with the record's history).")


def _on_order() -> dict[str, Any]:
    """The request contract of an operation on one purchase order."""
    return s.obj(
        {"purchase_order": s.string(_PO_ID), "reason": _REASON},
        required=("purchase_order",),
    )


def _on_invoice() -> dict[str, Any]:
    return s.obj(
        {"invoice": s.string(_INVOICE_ID), "reason": _REASON}, required=("invoice",)
    )


class Erp(FakeService):
    """ERP: vendor onboarding, purchase orders, supplier invoices, the ledger."""

    name: ClassVar[str] = "erp"
    hosts: ClassVar[tuple[str, ...]] = ("erp.sim",)
    record_kinds: ClassVar[tuple[str, ...]] = ("vendor", "purchase_order", "invoice")
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = RECORD_FIELDS
    collections: ClassVar[tuple[str, ...]] = (
        "vendors",
        "purchase_orders",
        "invoices",
        "postings",
    )

    # -- seeded data ------------------------------------------------------------
    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        iam_users = peers.get("iam", {}).get("users", {})
        return seed_erp(faker, rng, ids, iam_users, scale.vendors)

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        return create_record(self, kind, fields)

    # -- what policy rules read -------------------------------------------------
    def undoes(self, effect: Any, later: Any) -> bool:
        """A vendor status change undoes creating the vendor only as a rejection."""
        if not super().undoes(effect, later):
            return False
        if later.operation != "update_vendor_status":
            return True
        return bool(later.params.get("status") == "rejected")

    def effective_params(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        """Calls on an order, invoice or entry carry its amount, for policy rules."""
        return rules.effective_params(self, op, params)

    # -- vendors ----------------------------------------------------------------
    @operation(
        "POST",
        "/v1/vendors",
        tool="create_vendor",
        summary="Start onboarding a vendor (status draft). Verification, approval "
        "and activation follow with update_vendor_status; rejecting the draft "
        "undoes a vendor created by mistake.",
        request=s.obj(
            {
                "name": s.string("Legal name.", minLength=1),
                "country": s.enum("Country of registration.", *COUNTRIES),
                "iam_user": s.string("Internal owner: an active IAM user id."),
                "tax_id": s.string("Tax registration number.", minLength=1),
                "bank_account": s.string(
                    "Bank account number or IBAN (stored masked).", minLength=4
                ),
                "payment_terms": s.enum("When invoices fall due.", *PAYMENT_TERMS),
                "contact_email": s.string("Accounts receivable contact.", minLength=3),
            },
            required=("name", "country", "iam_user"),
        ),
        response=VENDOR,
        status=201,
        action="erp.create",
        write=True,
        idempotent=True,
        reversible=True,
        compensation="update_vendor_status",
    )
    def create_vendor(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.create_vendor(self, ctx, params)

    @operation(
        "GET",
        "/v1/vendors/{vendor}",
        tool="get_vendor",
        summary="Read a vendor: onboarding status, tax id, masked bank account, owner.",
        request=s.by_id("vendor", "Vendor id (ven_…)."),
        response=VENDOR,
    )
    def get_vendor(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200,
            body=rules.get_record(self, "vendors", params["vendor"], "vendor"),
        )

    @operation(
        "GET",
        "/v1/vendors",
        tool="list_vendors",
        summary="List vendors, newest first; filter by status, name, tax id or owner.",
        request=s.paging(
            status=s.enum("Only vendors in this status.", *VENDOR_STATUSES),
            name=s.string("Only vendors with exactly this name."),
            tax_id=s.string("Only vendors with this tax id."),
            iam_user=s.string("Only vendors this IAM user owns."),
        ),
        response=s.list_of(VENDOR),
    )
    def list_vendors(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query(
            "vendors",
            self.list_filters(params, "status", "name", "tax_id", "iam_user"),
        )
        return Reply(status=200, body=paginate(rows, params, "/v1/vendors"))

    @operation(
        "POST",
        "/v1/vendors/{vendor}/status",
        tool="update_vendor_status",
        summary="Move a vendor through onboarding: draft -> pending_verification -> "
        "approved -> active; reject, suspend or reactivate.",
        request=s.obj(
            {
                "vendor": s.string("Vendor id (ven_…)."),
                "status": s.enum("The new status.", *VENDOR_STATUSES),
                "reason": _REASON,
            },
            required=("vendor", "status"),
        ),
        response=VENDOR,
        action="erp.update",
        write=True,
        approval_params=("vendor", "status"),
        reversible=False,
    )
    def update_vendor_status(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.update_vendor_status(self, ctx, params)

    # -- purchase orders --------------------------------------------------------
    @operation(
        "POST",
        "/v1/purchase-orders",
        tool="create_purchase_order",
        summary="Raise a purchase order (status draft) for a vendor; the amount is "
        "the sum of the lines.",
        request=s.obj(
            {
                "vendor": s.string("Vendor id (ven_…)."),
                "requester": s.string("Who asks for it: an active IAM user id."),
                "lines": {
                    "type": "array",
                    "items": LINE,
                    "description": "What to buy: at least one line.",
                },
                "currency": s.enum(
                    "Currency; the vendor's own, which is the default.", *CURRENCIES
                ),
            },
            required=("vendor", "requester", "lines"),
        ),
        response=PURCHASE_ORDER,
        status=201,
        action="erp.create",
        write=True,
        idempotent=True,
        approval_params=("vendor", "lines"),
        reversible=True,
        compensation="cancel_purchase_order",
    )
    def create_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.create_purchase_order(self, ctx, params)

    @operation(
        "GET",
        "/v1/purchase-orders/{purchase_order}",
        tool="get_purchase_order",
        summary="Read a purchase order: vendor, requester, lines, amount, status.",
        request=s.by_id("purchase_order", _PO_ID),
        response=PURCHASE_ORDER,
    )
    def get_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        order = rules.get_record(
            self, "purchase_orders", params["purchase_order"], "purchase_order"
        )
        return Reply(status=200, body=order)

    @operation(
        "GET",
        "/v1/purchase-orders",
        tool="list_purchase_orders",
        summary="List purchase orders, newest first; filter by vendor, requester "
        "or status.",
        request=s.paging(
            vendor=s.string("Only orders to this vendor."),
            requester=s.string("Only orders this IAM user asked for."),
            status=s.enum("Only orders in this status.", *PO_STATUSES),
        ),
        response=s.list_of(PURCHASE_ORDER),
    )
    def list_purchase_orders(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query(
            "purchase_orders",
            self.list_filters(params, "vendor", "requester", "status"),
        )
        return Reply(status=200, body=paginate(rows, params, "/v1/purchase-orders"))

    @operation(
        "POST",
        "/v1/purchase-orders/{purchase_order}/submit",
        tool="submit_purchase_order",
        summary="Submit a draft purchase order for approval (the vendor must be "
        "active).",
        request=_on_order(),
        response=PURCHASE_ORDER,
        action="erp.submit",
        write=True,
        approval_params=("purchase_order",),
        reversible=True,
        compensation="cancel_purchase_order",
    )
    def submit_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.order_step(self, ctx, params, "submitted", "submit")

    @operation(
        "POST",
        "/v1/purchase-orders/{purchase_order}/approve",
        tool="approve_purchase_order",
        summary="Approve a submitted purchase order (required above 10,000.00 "
        "before it is placed).",
        request=_on_order(),
        response=PURCHASE_ORDER,
        action="erp.approve",
        write=True,
        approval_params=("purchase_order",),
        reversible=True,
        compensation="cancel_purchase_order",
    )
    def approve_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.order_step(self, ctx, params, "approved", "approve")

    @operation(
        "POST",
        "/v1/purchase-orders/{purchase_order}/place",
        tool="place_purchase_order",
        summary="Send a purchase order to its vendor (status ordered).",
        request=_on_order(),
        response=PURCHASE_ORDER,
        action="erp.send",
        write=True,
        approval_params=("purchase_order",),
        reversible=True,
        compensation="cancel_purchase_order",
    )
    def place_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.order_step(self, ctx, params, "ordered", "place")

    @operation(
        "POST",
        "/v1/purchase-orders/{purchase_order}/receive",
        tool="receive_purchase_order",
        summary="Record that an order's goods or services arrived (status received).",
        request=_on_order(),
        response=PURCHASE_ORDER,
        action="erp.receive",
        write=True,
        approval_params=("purchase_order",),
        reversible=False,
    )
    def receive_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.order_step(self, ctx, params, "received", "receive")

    @operation(
        "POST",
        "/v1/purchase-orders/{purchase_order}/cancel",
        tool="cancel_purchase_order",
        summary="Cancel a purchase order that has not been received yet.",
        request=_on_order(),
        response=PURCHASE_ORDER,
        action="erp.cancel",
        write=True,
        approval_params=("purchase_order",),
        reversible=False,
    )
    def cancel_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return rules.order_step(self, ctx, params, "cancelled", "cancel")

    # -- invoices ---------------------------------------------------------------
    @operation(
        "POST",
        "/v1/invoices",
        tool="create_invoice",
        summary="Record a vendor's invoice against a purchase order (status received).",
        request=s.obj(
            {
                "purchase_order": s.string(_PO_ID),
                "number": s.string("The vendor's invoice number.", minLength=1),
                "amount": s.integer("Amount billed, in minor units.", minimum=1),
            },
            required=("purchase_order", "number", "amount"),
        ),
        response=INVOICE,
        status=201,
        action="erp.create",
        write=True,
        idempotent=True,
        reversible=True,
        compensation="void_invoice",
    )
    def create_invoice(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return ledger.create_invoice(self, ctx, params)

    @operation(
        "GET",
        "/v1/invoices/{invoice}",
        tool="get_invoice",
        summary="Read a vendor invoice: amount, purchase order, match status.",
        request=s.by_id("invoice", _INVOICE_ID),
        response=INVOICE,
    )
    def get_invoice(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200,
            body=rules.get_record(self, "invoices", params["invoice"], "invoice"),
        )

    @operation(
        "GET",
        "/v1/invoices",
        tool="list_invoices",
        summary="List vendor invoices, newest first; filter by vendor, purchase "
        "order, number or status.",
        request=s.paging(
            vendor=s.string("Only invoices of this vendor."),
            purchase_order=s.string("Only invoices billing this purchase order."),
            number=s.string("Only invoices with this vendor invoice number."),
            status=s.enum("Only invoices in this status.", *INVOICE_STATUSES),
        ),
        response=s.list_of(INVOICE),
    )
    def list_invoices(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = self.list_filters(
            params, "vendor", "purchase_order", "number", "status"
        )
        rows = self.query("invoices", filters)
        return Reply(status=200, body=paginate(rows, params, "/v1/invoices"))

    @operation(
        "POST",
        "/v1/invoices/{invoice}/match",
        tool="match_invoice",
        summary="Three-way match: compare the invoice with its purchase order and "
        "the goods received. The result is matched, or mismatch (stop: held for "
        "review).",
        request=_on_invoice(),
        response=INVOICE,
        action="erp.match",
        write=True,
        approval_params=("invoice",),
        reversible=True,
        compensation="void_invoice",
    )
    def match_invoice(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return ledger.match_invoice(self, ctx, params)

    @operation(
        "POST",
        "/v1/invoices/{invoice}/approve",
        tool="approve_invoice",
        summary="Approve a matched invoice for payment.",
        request=_on_invoice(),
        response=INVOICE,
        action="erp.approve",
        write=True,
        approval_params=("invoice",),
        reversible=True,
        compensation="void_invoice",
    )
    def approve_invoice(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        invoice = rules.get_record(self, "invoices", params["invoice"], "invoice")
        rules.not_mismatched(self, invoice, "approved")
        invoice = rules.move(self, ctx, "invoices", invoice, "approved")
        ctx.commit(
            business_key=f"approve:{invoice['id']}",
            params={"invoice": invoice["id"], "amount": invoice["amount"]},
            ref=invoice["id"],
        )
        return Reply(status=200, body=invoice)

    @operation(
        "POST",
        "/v1/invoices/{invoice}/pay",
        tool="pay_invoice",
        summary="Pay an approved invoice to the vendor's bank account and book the "
        "payment (money leaves the company; pass an idempotency_key).",
        request=_on_invoice(),
        response=INVOICE,
        action="erp.pay",
        write=True,
        idempotent=True,
        approval_params=("invoice",),
        reversible=False,
    )
    def pay_invoice(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return ledger.pay_invoice(self, ctx, params)

    @operation(
        "POST",
        "/v1/payment_runs",
        tool="pay_invoices",
        summary="Pay up to 50 approved invoices in one payment run (money leaves "
        "the company; pass an idempotency_key). Each invoice is paid on its own: "
        "some may be paid while others fail, and the answer says which, by index.",
        request=s.batch_request(
            "payments",
            _on_invoice(),
            most=50,
            description="The invoices to pay, each as pay_invoice takes it.",
        ),
        response=s.batch_of(INVOICE),
        action="erp.pay",
        write=True,
        idempotent=True,
        reversible=False,
        batch="payments",
    )
    def pay_invoices(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self.batch(
            ctx,
            params["payments"],
            lambda c, item: dict(ledger.pay_invoice(self, c, item).body),
        )

    @operation(
        "POST",
        "/v1/invoices/{invoice}/void",
        tool="void_invoice",
        summary="Void an unpaid invoice (entered in error, duplicate, disputed).",
        request=_on_invoice(),
        response=INVOICE,
        action="erp.void",
        write=True,
        approval_params=("invoice",),
        reversible=False,
    )
    def void_invoice(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        invoice = rules.get_record(self, "invoices", params["invoice"], "invoice")
        invoice = rules.move(self, ctx, "invoices", invoice, "void")
        ctx.commit(
            business_key=f"void:{invoice['id']}",
            params={"invoice": invoice["id"], "reason": params.get("reason")},
            ref=invoice["id"],
        )
        return Reply(status=200, body=invoice)

    # -- the general ledger -----------------------------------------------------
    @operation(
        "POST",
        "/v1/postings",
        tool="post_journal_entry",
        summary="Post a balanced journal entry to the general ledger. Irreversible: "
        "a wrong entry is corrected by a reversing entry (reverses).",
        request=s.obj(
            {
                "lines": {
                    "type": "array",
                    "items": JOURNAL_LINE,
                    "description": "At least two lines; debits equal credits.",
                },
                "currency": s.enum("Currency of every line.", *CURRENCIES),
                "memo": s.string("What the entry records.", minLength=1),
                "source": s.string("The record it books (inv_…, po_…)."),
                "reverses": s.string(
                    "The entry this one reverses (gl_…): its lines, sides swapped."
                ),
            },
            required=("lines", "currency", "memo"),
        ),
        response=POSTING,
        status=201,
        action="erp.post",
        write=True,
        idempotent=True,
        reversible=False,
    )
    def post_journal_entry(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return ledger.post_journal_entry(self, ctx, params)

    @operation(
        "GET",
        "/v1/postings/{posting}",
        tool="get_posting",
        summary="Read a general-ledger journal entry.",
        request=s.by_id("posting", "Journal entry id (gl_…)."),
        response=POSTING,
    )
    def get_posting(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200,
            body=rules.get_record(self, "postings", params["posting"], "posting"),
        )

    @operation(
        "GET",
        "/v1/postings",
        tool="list_postings",
        summary="List journal entries, newest first; filter by source record "
        "(check before posting again).",
        request=s.paging(
            source=s.string("Only entries booking this record (inv_…, po_…)."),
        ),
        response=s.list_of(POSTING),
    )
    def list_postings(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query("postings", self.list_filters(params, "source"))
        return Reply(status=200, body=paginate(rows, params, "/v1/postings"))
