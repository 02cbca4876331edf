"""Payments: a Stripe-compatible subset (customers, charges, refunds).

Wire-compatible with the real ``stripe`` SDK at ``https://api.stripe.com``: form
bodies, Stripe objects and list pages, Stripe error objects and status codes, and
``Idempotency-Key`` semantics (same key + same params replays the stored response,
same key + different params is a 400 ``idempotency_error``, keys expire after 24 h
of simulated time). Refunds may be partial until the charge is fully refunded.
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
    ServiceError,
    WorldScale,
    operation,
    paginate,
)
from fakes.lazy import SeedContext, populate_lazily
from fakes.payments.seed import seed_payments
from fakes.payments.stripe import (
    CHARGE,
    CURRENCIES,
    CUSTOMER,
    DAY,
    REFUND,
    apply_refund,
    charge_object,
    customer_object,
    money,
    stripe_error,
)

if TYPE_CHECKING:
    from faker import Faker


class Payments(FakeService):
    """Stripe-compatible payments: customers, charges, refunds."""

    name: ClassVar[str] = "payments"
    hosts: ClassVar[tuple[str, ...]] = ("payments.sim", "api.stripe.com")
    wire_format: ClassVar[str] = (
        "Stripe's API (a subset): the `stripe` SDK works unchanged at api.stripe.com"
    )
    record_kinds: ClassVar[tuple[str, ...]] = ("customer", "charge")
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "customer": s.scenario_fields(
            CUSTOMER, ("name", "email", "description", "metadata")
        ),
        "charge": s.scenario_fields(
            CHARGE,
            (
                "customer",
                "amount",
                "currency",
                "status",
                "description",
                "amount_refunded",
                "refunded",
            ),
            customer=s.nullable(
                s.string("The paying customer's id (null: a new customer).")
            ),
        ),
    }
    collections: ClassVar[tuple[str, ...]] = ("customers", "charges", "refunds")
    not_found_code: ClassVar[str] = "resource_missing"

    # -- seeded data ----------------------------------------------------------
    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        return populate_lazily(cls, rng, peers, scale)

    @classmethod
    def seed_lazily(cls, ctx: SeedContext) -> Mapping[str, Mapping[str, Record]]:
        return seed_payments(ctx)

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        ids, now = self.world.ids, int(self.world.clock.epoch())
        if kind in self.record_fields:
            self.check_record_fields(kind, fields)
        if kind == "customer":
            faker = self.world.faker
            customer = customer_object(
                ids.new("cus", 14),
                now - 200 * DAY,
                str(fields.get("name", faker.name())),
                str(fields.get("email", faker.email())),
            )
            customer.update({k: v for k, v in fields.items() if k in customer})
            self.state["customers"][customer["id"]] = customer
            return customer
        if kind == "charge":
            customer_id = fields.get("customer")
            if customer_id is None:
                customer = self.create_record("customer", {})
            else:
                customer = self.records("customers")[str(customer_id)]
            amount = int(
                fields.get("amount", self.world.rng.randrange(500, 200_000, 100))
            )
            charge = charge_object(
                ids.new("ch"),
                now - 3 * DAY,
                amount,
                str(fields.get("currency", "usd")),
                customer,
            )
            charge["status"] = fields.get("status", "succeeded")
            charge["description"] = fields.get("description")
            refunded = int(
                fields.get("amount_refunded", amount if fields.get("refunded") else 0)
            )
            self.state["charges"][charge["id"]] = charge
            if refunded:
                apply_refund(
                    self.state,
                    ids.new("re"),
                    charge,
                    refunded,
                    now - DAY,
                    "requested_by_customer",
                )
            return charge
        raise self.unknown_kind(kind)

    # -- Stripe's wire format for errors ------------------------------------------
    def error(
        self, status: int, code: str, message: str, *, param: str | None = None
    ) -> ServiceError:
        return stripe_error(status, code, message, param=param)

    def invalid_request(
        self, message: str, *, rule: str, param: str | None, value: Any = None
    ) -> Reply:
        if rule == "required" and param:
            return stripe_error(
                400,
                "parameter_missing",
                f"Missing required param: {param}.",
                param=param,
            ).reply
        if rule == "additionalProperties" and param:
            return stripe_error(
                400,
                "parameter_unknown",
                f"Received unknown parameter: {param}",
                param=param,
            ).reply
        if rule == "type" and "integer" in message:
            return stripe_error(
                400,
                "parameter_invalid_integer",
                f"Invalid integer: {value if value is not None else param}",
                param=param,
            ).reply
        return stripe_error(400, "parameter_invalid", message, param=param).reply

    def unauthorized(self, credential: str | None) -> Reply:
        if not credential:
            message = (
                "You did not provide an API key. You need to provide your API key in "
                "the Authorization header, using Bearer auth (e.g. 'Authorization: "
                "Bearer YOUR_SECRET_KEY')."
            )
        else:
            shown = (
                f"{credential[:8]}{'*' * 8}{credential[-4:]}"
                if len(credential) > 16
                else "*" * len(credential)
            )
            message = f"Invalid API Key provided: {shown}"
        return stripe_error(401, None, message).reply

    def unavailable(self, status: int, retry_after: float | None) -> Reply:
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        if status == 429:
            return stripe_error(
                429,
                "rate_limit",
                "Too many requests hit the API too quickly. We recommend an "
                "exponential backoff of your requests.",
                headers=headers,
            ).reply
        return stripe_error(
            status,
            None,
            "An unknown error occurred while processing this request.",
            kind="api_error",
            headers=headers,
        ).reply

    def idempotency_conflict(self, key: str) -> Reply:
        return stripe_error(
            400,
            None,
            "Keys for idempotent requests can only be used with the same parameters "
            "they were first used with. Try using a key other than "
            f"'{key}' if you meant to execute a different request.",
            kind="idempotency_error",
        ).reply

    def effective_params(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        if op.name == "create_refund" and "amount" not in params:
            charge = self.state["charges"].get(str(params.get("charge")))
            if charge is not None:
                return {
                    **params,
                    "amount": charge["amount"] - charge["amount_refunded"],
                }
        return params

    # -- customers -----------------------------------------------------------------
    @operation(
        "POST",
        "/v1/customers",
        tool="create_customer",
        summary="Create a customer.",
        request=s.obj(
            {
                "email": s.string("Customer email."),
                "name": s.string("Customer full name."),
                "description": s.string("Free-text description."),
                "metadata": s.metadata(),
            }
        ),
        response=CUSTOMER,
        action="payments.create",
        write=True,
        idempotent=True,
    )
    def create_customer(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        customer = customer_object(
            ctx.new_id("cus", 14), ctx.now, params.get("name"), params.get("email")
        )
        customer["description"] = params.get("description")
        customer["metadata"] = dict(params.get("metadata", {}))
        self.state["customers"][customer["id"]] = customer
        ctx.commit(
            business_key=f"customer:{customer['email'] or customer['id']}",
            params=params,
            ref=customer["id"],
        )
        return Reply(status=200, body=customer)

    @operation(
        "GET",
        "/v1/customers/{customer}",
        tool="retrieve_customer",
        summary="Retrieve a customer by id.",
        request=s.by_id("customer", "Customer id (cus_…)."),
        response=CUSTOMER,
    )
    def retrieve_customer(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200,
            body=self.get_or_404("customers", params["customer"], param="id"),
        )

    @operation(
        "GET",
        "/v1/customers",
        tool="list_customers",
        summary="List customers, newest first; filter by email.",
        request=s.paging(email=s.string("Only customers with this email.")),
        response=s.list_of(CUSTOMER),
    )
    def list_customers(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query("customers", self.list_filters(params, "email"))
        return Reply(status=200, body=paginate(rows, params, "/v1/customers"))

    # -- charges -------------------------------------------------------------------
    @operation(
        "POST",
        "/v1/charges",
        tool="create_charge",
        summary="Charge a customer's default payment method.",
        request=s.obj(
            {
                "amount": s.integer("Amount in minor units (cents).", minimum=1),
                "currency": s.string("Three-letter ISO currency code, lowercase."),
                "customer": s.string("Customer id to charge."),
                "description": s.string("Description."),
                "metadata": s.metadata(),
            },
            required=("amount", "currency", "customer"),
        ),
        response=CHARGE,
        action="payments.charge",
        write=True,
        idempotent=True,
        approval_params=("customer", "amount", "currency"),
        reversible=False,  # money moved; a refund is a new effect, fees stay
    )
    def create_charge(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        customer = self.get_or_404("customers", params["customer"], param="customer")
        currency = str(params["currency"]).lower()
        if currency not in CURRENCIES:
            raise stripe_error(
                400,
                "parameter_invalid",
                f"Invalid currency: {currency}.",
                param="currency",
            )
        if params["amount"] < 50:
            raise stripe_error(
                400,
                "amount_too_small",
                "Amount must be at least 50 cents.",
                param="amount",
            )
        charge = charge_object(
            ctx.new_id("ch"), ctx.now, params["amount"], currency, customer
        )
        charge["description"] = params.get("description")
        charge["metadata"] = dict(params.get("metadata", {}))
        self.state["charges"][charge["id"]] = charge
        ctx.commit(
            business_key=f"charge:{customer['id']}:{params['amount']}",
            params=params,
            ref=charge["id"],
        )
        return Reply(status=200, body=charge)

    @operation(
        "GET",
        "/v1/charges/{charge}",
        tool="retrieve_charge",
        summary="Retrieve a charge, with amount_refunded and refunded.",
        request=s.by_id("charge", "Charge id (ch_…)."),
        response=CHARGE,
    )
    def retrieve_charge(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200, body=self.get_or_404("charges", params["charge"], param="id")
        )

    @operation(
        "GET",
        "/v1/charges",
        tool="list_charges",
        summary="List charges, newest first; filter by customer.",
        request=s.paging(customer=s.string("Only charges of this customer.")),
        response=s.list_of(CHARGE),
    )
    def list_charges(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query("charges", self.list_filters(params, "customer"))
        return Reply(status=200, body=paginate(rows, params, "/v1/charges"))

    # -- refunds -------------------------------------------------------------------
    @operation(
        "POST",
        "/v1/refunds",
        tool="create_refund",
        summary=(
            "Refund a charge, fully or partially. Money leaves the business: pass an "
            "idempotency_key and reuse it on every retry of the same refund."
        ),
        request=s.obj(
            {
                "charge": s.string("The charge to refund (ch_…)."),
                "amount": s.integer(
                    "Amount to refund in minor units; defaults to the unrefunded rest.",
                    minimum=1,
                ),
                "reason": s.enum(
                    "Why the refund is made.",
                    "duplicate",
                    "fraudulent",
                    "requested_by_customer",
                ),
                "metadata": s.metadata(),
            },
            required=("charge",),
        ),
        response=REFUND,
        action="payments.refund",
        write=True,
        idempotent=True,
        approval_params=("charge", "amount"),
        reversible=False,  # money returned cannot be taken back
    )
    def create_refund(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        charge = self.get_or_404("charges", params["charge"], param="charge")
        remaining = charge["amount"] - charge["amount_refunded"]
        if charge["refunded"] or remaining <= 0:
            raise stripe_error(
                400,
                "charge_already_refunded",
                f"Charge {charge['id']} has already been refunded.",
                param="charge",
            )
        if charge["status"] != "succeeded":
            raise stripe_error(
                400,
                "charge_not_refundable",
                f"Charge {charge['id']} has status {charge['status']} "
                "and cannot be refunded.",
                param="charge",
            )
        amount = int(params.get("amount", remaining))
        if amount > remaining:
            raise stripe_error(
                400,
                "amount_too_large",
                f"Refund amount ({money(amount, charge['currency'])}) is greater "
                "than unrefunded amount on charge "
                f"({money(remaining, charge['currency'])})",
                param="amount",
            )
        charge = self.state["charges"].writable(charge["id"])
        refund = apply_refund(
            self.state, ctx.new_id("re"), charge, amount, ctx.now, params.get("reason")
        )
        refund["metadata"] = dict(params.get("metadata", {}))
        ctx.commit(
            business_key=f"refund:{charge['id']}",
            params={"charge": charge["id"], "amount": amount},
            ref=refund["id"],
        )
        return Reply(status=200, body=refund)

    @operation(
        "GET",
        "/v1/refunds/{refund}",
        tool="retrieve_refund",
        summary="Retrieve a refund by id.",
        request=s.by_id("refund", "Refund id (re_…)."),
        response=REFUND,
    )
    def retrieve_refund(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200, body=self.get_or_404("refunds", params["refund"], param="id")
        )

    @operation(
        "GET",
        "/v1/refunds",
        tool="list_refunds",
        summary="List refunds, newest first; filter by charge (check before retrying).",
        request=s.paging(charge=s.string("Only refunds of this charge.")),
        response=s.list_of(REFUND),
    )
    def list_refunds(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query("refunds", self.list_filters(params, "charge"))
        return Reply(status=200, body=paginate(rows, params, "/v1/refunds"))
