"""The seeded payments world, made record by record (:mod:`fakes.lazy`).

The skeleton, drawn in one pass from one stream, says which customer each charge
is of and which charges were half refunded; a customer, a charge or a refund is
made from its own draws when first read. Listing a customer's charges or a
charge's refunds reads the skeleton, not every charge.
"""

from __future__ import annotations

from fakes.lazy import Draws, LazyRecords, SeedContext
from fakes.payments.stripe import (
    CURRENCIES,
    DAY,
    charge_object,
    customer_object,
    refund_object,
)
from fakes.people import seeded_person, seeded_uniques
from fakes.table import Record

#: The seeded world's today (2026-01-01).
NOW = 1_767_225_600
#: The share of seeded charges that were half refunded, in 1/65536ths (15%).
_REFUNDED = 9830


def seed_payments(ctx: SeedContext) -> dict[str, LazyRecords]:
    """Customers, their charges and the refunds of some, each made when read."""
    import numpy as np  # seeding a world needs it; reading scenarios does not

    n_customers = ctx.scale.customers
    n_charges = ctx.scale.charges if n_customers else 0
    customer_ids = ctx.codec("customers", "cus", 14)
    charge_ids = ctx.codec("charges", "ch", 24)
    refund_ids = ctx.codec("refunds", "re", 24)
    skeleton = ctx.stream("skeleton")
    draws = np.frombuffer(skeleton.randbytes(4 * n_charges), dtype="<u4")
    owner = (draws.astype(np.uint64) * np.uint64(n_customers)) >> np.uint64(32)
    owner = owner.astype(np.int64)
    rolls = np.frombuffer(skeleton.randbytes(2 * n_charges), dtype="<u2")
    refunded = np.flatnonzero(rolls < _REFUNDED)
    refund_of = np.full(n_charges, -1, dtype=np.int64)
    refund_of[refunded] = np.arange(len(refunded))
    customer_key, charge_key = ctx.key("customers"), ctx.key("charges")

    def customer(slot: int) -> Record | None:
        if not 0 <= slot < n_customers:
            return None
        draw = Draws(customer_key ^ slot)
        person = seeded_person(draw, slot)
        created = NOW - draw.between(30, 720) * DAY
        return customer_object(
            customer_ids.ident(slot), created, person.name, person.email
        )

    def customers_with(email: object) -> list[int]:
        return [u for u in seeded_uniques(email) if u < n_customers]

    def email_of(slot: int) -> str:
        # A customer's first draws make its name and email (``customer``).
        return seeded_person(Draws(customer_key ^ slot), slot).email

    customers = LazyRecords(
        codec=customer_ids,
        make=customer,
        count=n_customers,
        finders={"email": customers_with},
        fields={"email": email_of},
    )

    def charge(slot: int) -> Record | None:
        if not 0 <= slot < n_charges:
            return None
        draw = Draws(charge_key ^ slot)
        amount = draw.between(500, 200_000, 100)
        created = NOW - draw.between(1, 90) * DAY
        of = customers.at(int(owner[slot]))
        assert of is not None
        record = charge_object(
            charge_ids.ident(slot), created, amount, draw.pick(CURRENCIES), of
        )
        if refund_of[slot] >= 0:
            record["amount_refunded"] = amount // 2
            record["refunded"] = amount // 2 >= amount
        return record

    def charges_of(value: object) -> list[int]:
        slot = customer_ids.slot(value)
        return [] if slot is None else np.flatnonzero(owner == slot).tolist()

    charges = LazyRecords(
        codec=charge_ids,
        make=charge,
        count=n_charges,
        finders={"customer": charges_of},
    )

    def refund(slot: int) -> Record | None:
        if not 0 <= slot < len(refunded):
            return None
        of = charges.at(int(refunded[slot]))
        assert of is not None
        return refund_object(
            refund_ids.ident(slot), of, of["amount"] // 2, of["created"] + DAY, None
        )

    def refunds_of(value: object) -> list[int]:
        slot = charge_ids.slot(value)
        if slot is None or slot >= n_charges or refund_of[slot] < 0:
            return []
        return [int(refund_of[slot])]

    refunds = LazyRecords(
        codec=refund_ids,
        make=refund,
        count=len(refunded),
        finders={"charge": refunds_of},
    )
    return {"customers": customers, "charges": charges, "refunds": refunds}
