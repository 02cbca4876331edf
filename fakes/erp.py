"""ERP: vendors with onboarding states, purchase orders, invoices, GL postings.

Every record follows a state machine (:mod:`fakes._erp_objects`); a move it does
not allow is a 409 ``invalid_transition`` naming the moves that are. Rules on
top: purchase orders go only to active vendors (409 ``vendor_not_active``);
orders above 10,000.00 are approved before they are placed (409
``approval_required``); an invoice is matched against its order only after the
goods arrived (409 ``goods_not_received``), and one whose amount differs is a
``mismatch`` that can be neither approved nor paid (409 ``invoice_mismatch``);
journal entries balance (422 ``unbalanced_entry``).

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
from fakes._erp_objects import (
    APPROVAL_LIMIT,
    CATALOG,
    COUNTRIES,
    CURRENCIES,
    DAY,
    INVOICE,
    INVOICE_STATUSES,
    INVOICE_TRANSITIONS,
    JOURNAL_LINE,
    LINE,
    PAYMENT_TERMS,
    PO_STATUSES,
    PO_TRANSITIONS,
    POSTING,
    PURCHASE_ORDER,
    VENDOR,
    VENDOR_STATUSES,
    VENDOR_TRANSITIONS,
    catalog_line,
    invoice_object,
    lines_total,
    mask,
    money,
    order_object,
    payment_lines,
    posting_object,
    seed_erp,
    tax_id,
    transition_message,
    vendor_object,
)
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Operation,
    Record,
    Reply,
    Seed,
    WorldScale,
    fingerprint,
    operation,
    paginate,
)

if TYPE_CHECKING:
    from faker import Faker

_TABLES = {
    "vendors": ("Vendor", VENDOR_TRANSITIONS),
    "purchase_orders": ("Purchase order", PO_TRANSITIONS),
    "invoices": ("Invoice", INVOICE_TRANSITIONS),
}
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
        if kind == "vendor":
            return self._create_vendor(fields)
        if kind == "purchase_order":
            return self._create_order(fields)
        if kind == "invoice":
            return self._create_invoice(fields)
        raise self.unknown_kind(kind)

    def _create_vendor(self, fields: Mapping[str, Any]) -> Record:
        _check_fields("vendor", fields, _VENDOR_FIELDS)
        _check_choice(fields, "status", VENDOR_STATUSES)
        _check_choice(fields, "country", tuple(COUNTRIES))
        _check_choice(fields, "payment_terms", PAYMENT_TERMS)
        world = self.world
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
            iam_user=self._any_employee(),
        )
        vendor.update({k: fields[k] for k in _VENDOR_FIELDS if k in fields})
        if "bank_account" in fields and fields["bank_account"] is not None:
            vendor["bank_account"] = mask(str(fields["bank_account"]))
        self.state["vendors"][vendor["id"]] = vendor
        return vendor

    def _create_order(self, fields: Mapping[str, Any]) -> Record:
        _check_fields("purchase_order", fields, _ORDER_FIELDS)
        _check_choice(fields, "status", PO_STATUSES)
        _check_choice(fields, "currency", CURRENCIES)
        world = self.world
        vendor_id = fields.get("vendor")
        vendor = (
            self._create_vendor({})
            if vendor_id is None
            else self._scenario_ref("vendors", vendor_id)
        )
        if "lines" in fields:
            lines = [dict(line) for line in fields["lines"]]
        elif "amount" in fields:
            lines = [catalog_line(("SERVICES", "Services as agreed", 0), 1)]
            lines[0]["unit_price"] = int(fields["amount"])
        else:
            lines = [catalog_line(world.rng.choice(CATALOG), world.rng.randrange(1, 6))]
        requester = fields.get("requester") or self._any_employee()
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
        self.state["purchase_orders"][order["id"]] = order
        return order

    def _create_invoice(self, fields: Mapping[str, Any]) -> Record:
        _check_fields("invoice", fields, _INVOICE_FIELDS)
        _check_choice(fields, "status", INVOICE_STATUSES)
        world = self.world
        order_id = fields.get("purchase_order")
        order = (
            self._create_order({"status": "received"})
            if order_id is None
            else self._scenario_ref("purchase_orders", order_id)
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
        self.state["invoices"][invoice["id"]] = invoice
        return invoice

    def _scenario_ref(self, collection: str, ident: Any) -> Record:
        record = self.state[collection].get(str(ident))
        if record is None:
            noun = _TABLES[collection][0].lower()
            raise LookupError(f"no erp {noun} {ident!r}")
        return record

    def _any_employee(self) -> str | None:
        """An active IAM user, drawn with the run's seeded stream."""
        iam = self.world.services.get("iam")
        if iam is None:
            return None
        staff = iam.state["users"].where("status", "active")
        return str(self.world.rng.choice(staff)["id"]) if staff else None

    # -- what policy rules read -------------------------------------------------
    def effective_params(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        """Calls on an order, invoice or entry carry its amount, for policy rules."""
        subject = _SUBJECTS.get(op.name)
        if subject is not None:
            collection, key = subject
            record = self.state[collection].get(str(params.get(key)))
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
        except (AttributeError, KeyError, TypeError, ValueError):
            pass  # a malformed request: the contract check answers it
        return params

    # -- lookups and moves ------------------------------------------------------
    def _get(self, collection: str, ident: str, param: str) -> Record:
        record = self.state[collection].get(ident)
        if record is None:
            noun = _TABLES[collection][0].lower() if collection in _TABLES else None
            raise self.error(
                404,
                "not_found",
                f"No such {noun or 'journal entry'}: '{ident}'",
                param=param,
            )
        return record

    def _check_move(self, collection: str, record: Record, target: str) -> None:
        """Raise 409 ``invalid_transition`` unless ``record`` may move to ``target``."""
        noun, transitions = _TABLES[collection]
        if target not in transitions[record["status"]]:
            raise self.error(
                409,
                "invalid_transition",
                transition_message(noun, record["id"], record["status"], target),
                param="status",
            )

    def _move(
        self, ctx: CallContext, collection: str, record: Record, target: str
    ) -> Record:
        """``record`` in ``target`` status (a writable copy), if the move is allowed."""
        self._check_move(collection, record, target)
        moved = self.state[collection].writable(record["id"])
        moved["status"] = target
        moved["updated"] = ctx.now
        return moved

    def _employee(self, ident: str, param: str, role: str) -> Record:
        iam = self.world.services.get("iam")
        user = iam.state["users"].get(ident) if iam is not None else None
        if user is None:
            raise self.error(404, "not_found", f"No such user: '{ident}'", param=param)
        if user["status"] != "active":
            raise self.error(
                422,
                "user_not_active",
                f"User {ident} is {user['status']}; only an active employee can "
                f"be a {role}.",
                param=param,
            )
        return user

    def _active_vendor(self, ident: str, what: str) -> Record:
        vendor = self._get("vendors", ident, "vendor")
        if vendor["status"] != "active":
            raise self.error(
                409,
                "vendor_not_active",
                f"Vendor {ident} ({vendor['name']}) is {vendor['status']}; "
                f"{what} go only to active vendors.",
                param="vendor",
            )
        return vendor

    def _not_mismatched(self, invoice: Record, verb: str) -> None:
        if invoice["status"] != "mismatch":
            return
        order = self.state["purchase_orders"].get(invoice["purchase_order"])
        ordered = money(order["amount"], order["currency"]) if order else "unknown"
        raise self.error(
            409,
            "invoice_mismatch",
            f"Invoice {invoice['id']} ({money(invoice['amount'], invoice['currency'])})"
            f" does not match purchase order {invoice['purchase_order']} "
            f"({ordered}); a mismatched invoice cannot be {verb}: escalate it as "
            "conflicting_records.",
            param="invoice",
        )

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
        self._employee(params["iam_user"], "iam_user", "vendor owner")
        tax = params.get("tax_id")
        for other in self.state["vendors"].where("tax_id", tax) if tax else ():
            if other["status"] != "rejected":
                raise self.error(
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
        self.state["vendors"][vendor["id"]] = vendor
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

    @operation(
        "GET",
        "/v1/vendors/{vendor}",
        tool="get_vendor",
        summary="Read a vendor: onboarding status, tax id, masked bank account, owner.",
        request=s.by_id("vendor", "Vendor id (ven_…)."),
        response=VENDOR,
    )
    def get_vendor(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self._get("vendors", params["vendor"], "vendor"))

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
            "vendors", _filters(params, "status", "name", "tax_id", "iam_user")
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
        vendor = self._get("vendors", params["vendor"], "vendor")
        target = params["status"]
        self._check_move("vendors", vendor, target)
        missing = [k for k in ("tax_id", "bank_account") if not vendor.get(k)]
        if target == "approved" and missing:
            raise self.error(
                422,
                "incomplete_vendor",
                f"Vendor {vendor['id']} cannot be approved without a tax_id and a "
                f"bank_account (missing: {', '.join(missing)}).",
                param="status",
            )
        vendor = self._move(ctx, "vendors", vendor, target)
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
        vendor = self._get("vendors", params["vendor"], "vendor")
        self._employee(params["requester"], "requester", "requester")
        if not params["lines"]:
            raise self.error(
                422,
                "no_lines",
                "A purchase order needs at least one line.",
                param="lines",
            )
        currency = params.get("currency", vendor["currency"])
        if currency != vendor["currency"]:
            raise self.error(
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
        self.state["purchase_orders"][order["id"]] = order
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

    @operation(
        "GET",
        "/v1/purchase-orders/{purchase_order}",
        tool="get_purchase_order",
        summary="Read a purchase order: vendor, requester, lines, amount, status.",
        request=s.by_id("purchase_order", _PO_ID),
        response=PURCHASE_ORDER,
    )
    def get_purchase_order(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        order = self._get("purchase_orders", params["purchase_order"], "purchase_order")
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
            "purchase_orders", _filters(params, "vendor", "requester", "status")
        )
        return Reply(status=200, body=paginate(rows, params, "/v1/purchase-orders"))

    def _order_step(
        self, ctx: CallContext, params: dict[str, Any], target: str, verb: str
    ) -> Reply:
        """Move an order to ``target`` and ledger it as ``<verb>:<order id>``."""
        order = self._get("purchase_orders", params["purchase_order"], "purchase_order")
        self._check_move("purchase_orders", order, target)
        if target in ("submitted", "ordered"):
            self._active_vendor(order["vendor"], "purchase orders")
        if (
            target == "ordered"
            and order["status"] == "submitted"
            and order["amount"] > APPROVAL_LIMIT
        ):
            raise self.error(
                409,
                "approval_required",
                f"Purchase order {order['id']} is for "
                f"{money(order['amount'], order['currency'])}; orders above "
                f"{money(APPROVAL_LIMIT, order['currency'])} must be approved "
                "(approve_purchase_order) before they are placed.",
                param="purchase_order",
            )
        order = self._move(ctx, "purchase_orders", order, target)
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
        return self._order_step(ctx, params, "submitted", "submit")

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
        return self._order_step(ctx, params, "approved", "approve")

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
        return self._order_step(ctx, params, "ordered", "place")

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
        return self._order_step(ctx, params, "received", "receive")

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
        return self._order_step(ctx, params, "cancelled", "cancel")

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
        order = self._get("purchase_orders", params["purchase_order"], "purchase_order")
        if order["status"] in ("draft", "cancelled"):
            raise self.error(
                409,
                "order_not_open",
                f"Purchase order {order['id']} is {order['status']}; invoices are "
                "recorded only against submitted, approved, ordered, received or "
                "closed purchase orders.",
                param="purchase_order",
            )
        number = params["number"]
        for other in self.state["invoices"].where("number", number):
            if other["vendor"] == order["vendor"] and other["status"] != "void":
                raise self.error(
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
        self.state["invoices"][invoice["id"]] = invoice
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
            status=200, body=self._get("invoices", params["invoice"], "invoice")
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
        filters = _filters(params, "vendor", "purchase_order", "number", "status")
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
        invoice = self._get("invoices", params["invoice"], "invoice")
        order = self._get("purchase_orders", invoice["purchase_order"], "invoice")
        self._check_move("invoices", invoice, "matched")
        if order["status"] not in ("received", "closed"):
            raise self.error(
                409,
                "goods_not_received",
                f"Purchase order {order['id']} is {order['status']}; an invoice is "
                "matched only after its goods are received (receive_purchase_order).",
                param="invoice",
            )
        difference = invoice["amount"] - order["amount"]
        invoice = self._move(
            ctx, "invoices", invoice, "matched" if difference == 0 else "mismatch"
        )
        invoice["match_difference"] = difference
        ctx.commit(
            business_key=f"match:{invoice['id']}",
            params={"invoice": invoice["id"], "status": invoice["status"]},
            ref=invoice["id"],
        )
        return Reply(status=200, body=invoice)

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
        invoice = self._get("invoices", params["invoice"], "invoice")
        self._not_mismatched(invoice, "approved")
        invoice = self._move(ctx, "invoices", invoice, "approved")
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
        invoice = self._get("invoices", params["invoice"], "invoice")
        self._not_mismatched(invoice, "paid")
        self._check_move("invoices", invoice, "paid")
        self._active_vendor(invoice["vendor"], "payments")
        invoice = self._move(ctx, "invoices", invoice, "paid")
        posting = posting_object(
            ctx.new_id("gl", 14),
            ctx.now,
            lines=payment_lines(invoice["amount"]),
            currency=invoice["currency"],
            memo=f"Payment of invoice {invoice['number']}",
            source=invoice["id"],
            posted_by=ctx.identity,
        )
        self.state["postings"][posting["id"]] = posting
        invoice["posting"] = posting["id"]
        order = self.state["purchase_orders"].get(invoice["purchase_order"])
        if order is not None and order["status"] == "received":
            self._move(ctx, "purchase_orders", order, "closed")
        ctx.commit(
            business_key=f"pay:{invoice['id']}",
            params={"invoice": invoice["id"], "amount": invoice["amount"]},
            ref=invoice["id"],
        )
        return Reply(status=200, body=invoice)

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
        invoice = self._get("invoices", params["invoice"], "invoice")
        invoice = self._move(ctx, "invoices", invoice, "void")
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
        lines = [dict(line) for line in params["lines"]]
        currency = params["currency"]
        if len(lines) < 2:
            raise self.error(
                422,
                "too_few_lines",
                "A journal entry needs at least two lines: a debit and a credit.",
                param="lines",
            )
        debits = sum(line["amount"] for line in lines if line["side"] == "debit")
        credits = sum(line["amount"] for line in lines if line["side"] == "credit")
        if debits != credits:
            raise self.error(
                422,
                "unbalanced_entry",
                f"Debits ({money(debits, currency)}) do not equal credits "
                f"({money(credits, currency)}); a journal entry must balance.",
                param="lines",
            )
        reverses = params.get("reverses")
        if reverses is not None:
            self._check_reversal(reverses, lines, currency)
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
        self.state["postings"][posting["id"]] = posting
        if reverses is not None:
            self.state["postings"].writable(reverses)["reversed_by"] = posting["id"]
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

    def _check_reversal(self, ident: str, lines: list[Record], currency: str) -> None:
        original = self._get("postings", ident, "reverses")
        if original["reversed_by"] is not None:
            raise self.error(
                409,
                "already_reversed",
                f"Journal entry {ident} was already reversed by "
                f"{original['reversed_by']}.",
                param="reverses",
            )
        swap = {"debit": "credit", "credit": "debit"}
        mirrored = sorted(
            (line["account"], swap[line["side"]], line["amount"])
            for line in original["lines"]
        )
        given = sorted(
            (line["account"], line["side"], line["amount"]) for line in lines
        )
        if given != mirrored or currency != original["currency"]:
            raise self.error(
                422,
                "not_a_reversal",
                f"A reversal of {ident} posts its lines in {original['currency']} "
                "with debit and credit swapped.",
                param="lines",
            )

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
            status=200, body=self._get("postings", params["posting"], "posting")
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
        rows = self.query("postings", _filters(params, "source"))
        return Reply(status=200, body=paginate(rows, params, "/v1/postings"))


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


def _journal_key(posting: Record) -> str:
    """``reversal:<gl>``, ``journal:<source>``, or the entry's content."""
    if posting["reverses"] is not None:
        return f"reversal:{posting['reverses']}"
    if posting["source"] is not None:
        return f"journal:{posting['source']}"
    return "journal:" + fingerprint(
        {"lines": posting["lines"], "memo": posting["memo"]}
    )


def _check_fields(kind: str, fields: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(
            f"unknown field {unknown[0]!r} for an erp {kind} "
            f"(fields: {', '.join(known)})"
        )


def _check_choice(
    fields: Mapping[str, Any], name: str, choices: tuple[str, ...]
) -> None:
    if name in fields and fields[name] not in choices:
        raise ValueError(f"{name} {fields[name]!r} is not one of {', '.join(choices)}")


def _filters(params: Mapping[str, Any], *fields: str) -> dict[str, Any]:
    """The list filters present in a request."""
    return {f: params[f] for f in fields if params.get(f) is not None}
