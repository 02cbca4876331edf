"""ERP: vendor onboarding, purchase orders, invoices and the ledger, through both doors."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from faker import Faker

from fakes.base import SCALES, IdGenerator
from fakes.erp import Erp
from fakes.erp.objects import APPROVAL_LIMIT, ORDERS_PER_VENDOR, lines_total
from fakes.iam import Iam
from harness.errors import HarnessError
from harness.run import RunSetup, prepare_run
from harness.scenario.loader import scenario_from_dict
from harness.world.history import EntryType
from harness.world.world import World
from tests.fakes.conftest import SEED, Door, effects, error, unchecked

ORDER = {"service": "erp", "kind": "purchase_order", "requester": "$buyer.id"}
ERP_RECORDS: dict[str, Any] = {
    "buyer": {"service": "iam", "kind": "user", "department": "Operations"},
    "gone": {"service": "iam", "kind": "user", "status": "deprovisioned"},
    "vendor": {
        "service": "erp",
        "kind": "vendor",
        "name": "Globex Supply Inc",
        "tax_id": "12-3456789",
        "iam_user": "$buyer.id",
    },
    "pending": {"service": "erp", "kind": "vendor", "status": "pending_verification"},
    "unbanked": {
        "service": "erp",
        "kind": "vendor",
        "status": "pending_verification",
        "bank_account": None,
    },
    "rejected": {"service": "erp", "kind": "vendor", "status": "rejected"},
    "order": {**ORDER, "vendor": "$vendor.id", "amount": 250_000},
    "big": {
        **ORDER,
        "vendor": "$vendor.id",
        "amount": 1_500_000,
        "status": "submitted",
    },
    "pending_order": {**ORDER, "vendor": "$pending.id", "amount": 10_000},
    "shipped": {**ORDER, "vendor": "$vendor.id", "amount": 50_000, "status": "ordered"},
    "delivered": {
        **ORDER,
        "vendor": "$vendor.id",
        "amount": 50_000,
        "status": "received",
    },
    "invoice": {
        "service": "erp",
        "kind": "invoice",
        "purchase_order": "$delivered.id",
        "number": "INV-100",
    },
    "short": {
        "service": "erp",
        "kind": "invoice",
        "purchase_order": "$delivered.id",
        "number": "INV-101",
        "amount": 45_000,
    },
    "early": {
        "service": "erp",
        "kind": "invoice",
        "purchase_order": "$shipped.id",
        "number": "INV-102",
    },
}
LAPTOPS = [{"sku": "LAP-14", "quantity": 2, "unit_price": 129_900}]
PAYMENT = [
    {"account": "2000", "side": "debit", "amount": 50_000},
    {"account": "1000", "side": "credit", "amount": 50_000},
]


@pytest.fixture
def records() -> dict[str, Any]:
    return copy.deepcopy(ERP_RECORDS)


def named(sim: RunSetup, name: str) -> dict[str, Any]:
    return sim.world.records[name]


def live(sim: RunSetup, collection: str, ident: str) -> dict[str, Any]:
    record: dict[str, Any] = sim.world.service("erp").state[collection][ident]
    return record


# -- vendors ------------------------------------------------------------------------


def test_a_new_vendor_starts_as_a_draft_with_a_masked_bank_account(
    door: Door, sim: RunSetup
) -> None:
    buyer = named(sim, "buyer")
    answer = door.call(
        "create_vendor",
        name="Hooli Print LLC",
        country="GB",
        iam_user=buyer["id"],
        tax_id="GB987654321",
        bank_account="GB29NWBK60161331926819",
    )
    assert answer.status == 201
    vendor = answer.body
    assert {
        k: vendor[k]
        for k in ("status", "currency", "bank_account", "iam_user", "payment_terms")
    } == {
        "status": "draft",
        "currency": "gbp",
        "bank_account": "****6819",
        "iam_user": buyer["id"],
        "payment_terms": "net_30",
    }
    assert effects(sim) == [
        (
            "create_vendor",
            "vendor:GB987654321",
            True,
            "update_vendor_status",
        )
    ]
    assert door.call("get_vendor", vendor=vendor["id"]).body == vendor


def test_a_vendor_whose_tax_id_is_taken_is_a_409_duplicate_vendor(
    door: Door, sim: RunSetup
) -> None:
    existing = named(sim, "vendor")
    answer = door.call(
        "create_vendor",
        name="Globex Supply Incorporated",
        country="US",
        iam_user=named(sim, "buyer")["id"],
        tax_id="12-3456789",
    )
    assert answer.status == 409
    assert answer.body == error(
        "duplicate_vendor",
        f"Vendor {existing['id']} (Globex Supply Inc) already has tax id "
        "12-3456789; use that vendor instead of creating another.",
        "tax_id",
    )
    assert len(sim.world.ledger) == 0


def test_a_vendor_is_owned_by_an_active_employee(door: Door, sim: RunSetup) -> None:
    gone = named(sim, "gone")
    answer = door.call("create_vendor", name="X Co", country="US", iam_user=gone["id"])
    assert answer.status == 422
    assert answer.body == error(
        "user_not_active",
        f"User {gone['id']} is deprovisioned; only an active employee can be a "
        "vendor owner.",
        "iam_user",
    )
    unknown = door.call("create_vendor", name="X Co", country="US", iam_user="usr_x")
    assert unknown.status == 404
    assert unknown.body == error("not_found", "No such user: 'usr_x'", "iam_user")


def test_a_vendor_is_onboarded_step_by_step_and_each_step_is_ledgered(
    door: Door, sim: RunSetup
) -> None:
    vendor = door.call(
        "create_vendor",
        name="Hooli Print LLC",
        country="US",
        iam_user=named(sim, "buyer")["id"],
        tax_id="98-7654321",
        bank_account="000123456789",
    ).body
    for status in ("pending_verification", "approved", "active"):
        answer = door.call("update_vendor_status", vendor=vendor["id"], status=status)
        assert answer.status == 200
        assert answer.body["status"] == status
    assert effects(sim)[1:] == [
        (
            "update_vendor_status",
            f"vendor_status:{vendor['id']}:{status}",
            False,
            None,
        )
        for status in ("pending_verification", "approved", "active")
    ]
    assert live(sim, "vendors", vendor["id"])["status"] == "active"


@pytest.mark.parametrize(
    ("name", "target", "allowed"),
    [
        ("pending", "active", "allowed from pending_verification: approved, rejected"),
        ("vendor", "approved", "allowed from active: suspended"),
        ("rejected", "active", "rejected is final"),
    ],
)
def test_a_vendor_status_change_outside_the_onboarding_flow_is_refused(
    door: Door, sim: RunSetup, name: str, target: str, allowed: str
) -> None:
    vendor = named(sim, name)
    answer = door.call("update_vendor_status", vendor=vendor["id"], status=target)
    assert answer.status == 409
    assert answer.body == error(
        "invalid_transition",
        f"Vendor {vendor['id']} cannot go from {vendor['status']} to {target} "
        f"({allowed}).",
        "status",
    )
    assert len(sim.world.ledger) == 0


def test_a_vendor_without_bank_details_cannot_be_approved(
    door: Door, sim: RunSetup
) -> None:
    vendor = named(sim, "unbanked")
    answer = door.call("update_vendor_status", vendor=vendor["id"], status="approved")
    assert answer.status == 422
    assert answer.body == error(
        "incomplete_vendor",
        f"Vendor {vendor['id']} cannot be approved without a tax_id and a "
        "bank_account (missing: bank_account).",
        "status",
    )


def test_rejecting_a_draft_vendor_compensates_creating_it(
    door: Door, sim: RunSetup
) -> None:
    created = door.call(
        "create_vendor",
        name="Oops Ltd",
        country="DE",
        iam_user=named(sim, "buyer")["id"],
    ).body
    [entry] = list(sim.world.ledger)
    answer = door.call(entry.compensation, vendor=created["id"], status="rejected")
    assert answer.status == 200
    assert answer.body["status"] == "rejected"


def test_reading_an_unknown_vendor_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_vendor", vendor="ven_x")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such vendor: 'ven_x'", "vendor")


def test_vendors_are_filtered_by_status(door: Door, sim: RunSetup) -> None:
    vendors = sim.world.service("erp").state["vendors"].values()
    expected = {v["id"] for v in vendors if v["status"] == "pending_verification"}
    assert len(expected) > 2
    answer = door.call("list_vendors", status="pending_verification", limit=100)
    assert {v["id"] for v in answer.body["data"]} == expected


# -- purchase orders ------------------------------------------------------------------


def test_a_purchase_order_is_raised_as_a_draft_for_the_sum_of_its_lines(
    door: Door, sim: RunSetup
) -> None:
    vendor, buyer = named(sim, "vendor"), named(sim, "buyer")
    answer = door.call(
        "create_purchase_order",
        vendor=vendor["id"],
        requester=buyer["id"],
        lines=[
            *LAPTOPS,
            {"sku": "X-1", "description": "Cables", "quantity": 3, "unit_price": 500},
        ],
    )
    assert answer.status == 201
    order = answer.body
    assert (order["status"], order["amount"], order["currency"]) == (
        "draft",
        261_300,
        "usd",
    )
    assert [line["description"] for line in order["lines"]] == [
        "14-inch laptop",
        "Cables",
    ]
    assert effects(sim) == [
        (
            "create_purchase_order",
            f"po:{vendor['id']}:261300",
            True,
            "cancel_purchase_order",
        )
    ]
    listed = door.call("list_purchase_orders", vendor=vendor["id"], status="draft")
    assert order["id"] in [o["id"] for o in listed.body["data"]]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"lines": []},
            ("no_lines", "A purchase order needs at least one line.", "lines"),
        ),
        (
            {"currency": "eur"},
            (
                "currency_mismatch",
                "Vendor {vendor} invoices in usd; raise the purchase order in usd, "
                "not eur.",
                "currency",
            ),
        ),
        (
            {"requester": "$gone"},
            (
                "user_not_active",
                "User {gone} is deprovisioned; only an active employee can be a "
                "requester.",
                "requester",
            ),
        ),
    ],
    ids=["no-lines", "wrong-currency", "former-employee"],
)
def test_a_purchase_order_that_breaks_a_rule_is_a_422(
    door: Door,
    sim: RunSetup,
    change: dict[str, Any],
    expected: tuple[str, str, str],
) -> None:
    vendor, gone = named(sim, "vendor")["id"], named(sim, "gone")["id"]
    params: dict[str, Any] = {
        "vendor": vendor,
        "requester": named(sim, "buyer")["id"],
        "lines": LAPTOPS,
        **change,
    }
    if params["requester"] == "$gone":
        params["requester"] = gone
    answer = door.call("create_purchase_order", **params)
    code, message, param = expected
    assert answer.status == 422
    assert answer.body == error(code, message.format(vendor=vendor, gone=gone), param)
    assert len(sim.world.ledger) == 0


def test_a_purchase_order_to_an_inactive_vendor_cannot_be_submitted(
    door: Door, sim: RunSetup
) -> None:
    order, vendor = named(sim, "pending_order"), named(sim, "pending")
    answer = door.call("submit_purchase_order", purchase_order=order["id"])
    assert answer.status == 409
    assert answer.body == error(
        "vendor_not_active",
        f"Vendor {vendor['id']} ({vendor['name']}) is pending_verification; "
        "purchase orders go only to active vendors.",
        "vendor",
    )
    assert live(sim, "purchase_orders", order["id"])["status"] == "draft"
    assert len(sim.world.ledger) == 0


def test_a_small_order_goes_from_draft_to_received_without_approval(
    door: Door, sim: RunSetup
) -> None:
    order = named(sim, "order")
    assert order["amount"] <= APPROVAL_LIMIT
    steps = [
        ("submit_purchase_order", "submitted"),
        ("place_purchase_order", "ordered"),
        ("receive_purchase_order", "received"),
    ]
    for tool, status in steps:
        answer = door.call(tool, purchase_order=order["id"])
        assert answer.status == 200, answer.body
        assert answer.body["status"] == status
    ident = order["id"]
    assert effects(sim) == [
        ("submit_purchase_order", f"submit:{ident}", True, "cancel_purchase_order"),
        ("place_purchase_order", f"place:{ident}", True, "cancel_purchase_order"),
        ("receive_purchase_order", f"receive:{ident}", False, None),
    ]
    assert live(sim, "purchase_orders", ident)["approved_by"] is None


def test_a_large_order_must_be_approved_before_it_is_placed(
    door: Door, sim: RunSetup
) -> None:
    big = named(sim, "big")
    refused = door.call("place_purchase_order", purchase_order=big["id"])
    assert refused.status == 409
    assert refused.body == error(
        "approval_required",
        f"Purchase order {big['id']} is for 15,000.00 USD; orders above "
        "10,000.00 USD must be approved (approve_purchase_order) before they are "
        "placed.",
        "purchase_order",
    )
    approved = door.call("approve_purchase_order", purchase_order=big["id"])
    assert (approved.body["status"], approved.body["approved_by"]) == (
        "approved",
        sim.identity.name,
    )
    placed = door.call("place_purchase_order", purchase_order=big["id"])
    assert placed.body["status"] == "ordered"
    assert [e[:2] for e in effects(sim)] == [
        ("approve_purchase_order", f"approve:{big['id']}"),
        ("place_purchase_order", f"place:{big['id']}"),
    ]


def test_cancelling_an_order_compensates_raising_it_and_is_final(
    door: Door, sim: RunSetup
) -> None:
    created = door.call(
        "create_purchase_order",
        vendor=named(sim, "vendor")["id"],
        requester=named(sim, "buyer")["id"],
        lines=LAPTOPS,
    ).body
    [entry] = list(sim.world.ledger)
    cancelled = door.call(entry.compensation, purchase_order=created["id"])
    assert cancelled.status == 200
    assert cancelled.body["status"] == "cancelled"
    assert effects(sim)[1] == (
        "cancel_purchase_order",
        f"cancel:{created['id']}",
        False,
        None,
    )
    again = door.call("submit_purchase_order", purchase_order=created["id"])
    assert again.status == 409
    assert again.body == error(
        "invalid_transition",
        f"Purchase order {created['id']} cannot go from cancelled to submitted "
        "(cancelled is final).",
        "status",
    )


def test_a_received_order_cannot_be_cancelled(door: Door, sim: RunSetup) -> None:
    order = named(sim, "delivered")
    answer = door.call("cancel_purchase_order", purchase_order=order["id"])
    assert answer.status == 409
    assert answer.body == error(
        "invalid_transition",
        f"Purchase order {order['id']} cannot go from received to cancelled "
        "(allowed from received: closed).",
        "status",
    )
    assert len(sim.world.ledger) == 0


def test_reading_an_unknown_purchase_order_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_purchase_order", purchase_order="po_x")
    assert answer.status == 404
    assert answer.body == error(
        "not_found", "No such purchase order: 'po_x'", "purchase_order"
    )


# -- invoices -------------------------------------------------------------------------


def test_an_invoice_is_recorded_against_an_order_and_ledgered(
    door: Door, sim: RunSetup
) -> None:
    order = named(sim, "delivered")
    answer = door.call(
        "create_invoice", purchase_order=order["id"], number="INV-777", amount=50_000
    )
    assert answer.status == 201
    invoice = answer.body
    assert {k: invoice[k] for k in ("vendor", "status", "currency")} == {
        "vendor": order["vendor"],
        "status": "received",
        "currency": "usd",
    }
    assert effects(sim) == [
        ("create_invoice", f"invoice:{order['vendor']}:INV-777", True, "void_invoice")
    ]


def test_the_same_vendor_invoice_number_twice_is_a_409_duplicate_invoice(
    door: Door, sim: RunSetup
) -> None:
    existing = named(sim, "invoice")
    answer = door.call(
        "create_invoice",
        purchase_order=named(sim, "delivered")["id"],
        number="INV-100",
        amount=50_000,
    )
    assert answer.status == 409
    assert answer.body == error(
        "duplicate_invoice",
        f"Vendor {existing['vendor']} already billed invoice INV-100 "
        f"({existing['id']}); recording it again risks paying it twice.",
        "number",
    )
    assert len(sim.world.ledger) == 0


def test_an_invoice_against_a_draft_order_is_a_409_order_not_open(
    door: Door, sim: RunSetup
) -> None:
    order = named(sim, "order")
    answer = door.call(
        "create_invoice", purchase_order=order["id"], number="INV-1", amount=1
    )
    assert answer.status == 409
    assert answer.body == error(
        "order_not_open",
        f"Purchase order {order['id']} is draft; invoices are recorded only against "
        "submitted, approved, ordered, received or closed purchase orders.",
        "purchase_order",
    )


def test_an_invoice_for_the_ordered_amount_matches(door: Door, sim: RunSetup) -> None:
    invoice = named(sim, "invoice")
    answer = door.call("match_invoice", invoice=invoice["id"])
    assert answer.status == 200
    assert (answer.body["status"], answer.body["match_difference"]) == ("matched", 0)
    assert effects(sim) == [
        ("match_invoice", f"match:{invoice['id']}", True, "void_invoice")
    ]


def test_an_invoice_for_another_amount_is_a_mismatch_that_cannot_be_approved_or_paid(
    door: Door, sim: RunSetup
) -> None:
    invoice, order = named(sim, "short"), named(sim, "delivered")
    matched = door.call("match_invoice", invoice=invoice["id"])
    assert matched.status == 200
    assert (matched.body["status"], matched.body["match_difference"]) == (
        "mismatch",
        -5_000,
    )
    for tool, verb in (("approve_invoice", "approved"), ("pay_invoice", "paid")):
        answer = door.call(tool, invoice=invoice["id"])
        assert answer.status == 409
        assert answer.body == error(
            "invoice_mismatch",
            f"Invoice {invoice['id']} (450.00 USD) does not match purchase order "
            f"{order['id']} (500.00 USD); a mismatched invoice cannot be {verb}: "
            "escalate it as conflicting_records.",
            "invoice",
        )
    assert [e.operation for e in sim.world.ledger] == ["match_invoice"]


def test_an_invoice_is_matched_only_after_the_goods_arrive(
    door: Door, sim: RunSetup
) -> None:
    invoice, order = named(sim, "early"), named(sim, "shipped")
    answer = door.call("match_invoice", invoice=invoice["id"])
    assert answer.status == 409
    assert answer.body == error(
        "goods_not_received",
        f"Purchase order {order['id']} is ordered; an invoice is matched only after "
        "its goods are received (receive_purchase_order).",
        "invoice",
    )
    assert live(sim, "invoices", invoice["id"])["status"] == "received"


def test_an_unmatched_invoice_cannot_be_paid(door: Door, sim: RunSetup) -> None:
    invoice = named(sim, "invoice")
    answer = door.call("pay_invoice", invoice=invoice["id"])
    assert answer.status == 409
    assert answer.body == error(
        "invalid_transition",
        f"Invoice {invoice['id']} cannot go from received to paid (allowed from "
        "received: matched, mismatch, void).",
        "status",
    )


def test_paying_an_approved_invoice_books_the_payment_and_closes_the_order(
    door: Door, sim: RunSetup
) -> None:
    invoice, order = named(sim, "invoice"), named(sim, "delivered")
    door.call("match_invoice", invoice=invoice["id"])
    door.call("approve_invoice", invoice=invoice["id"])
    answer = door.call("pay_invoice", invoice=invoice["id"])
    assert answer.status == 200
    assert answer.body["status"] == "paid"
    posting = door.call("get_posting", posting=answer.body["posting"]).body
    assert {k: posting[k] for k in ("lines", "currency", "source", "memo")} == {
        "lines": PAYMENT,
        "currency": "usd",
        "source": invoice["id"],
        "memo": "Payment of invoice INV-100",
    }
    booked = door.call("list_postings", source=invoice["id"])
    assert [p["id"] for p in booked.body["data"]] == [posting["id"]]
    assert live(sim, "purchase_orders", order["id"])["status"] == "closed"
    assert effects(sim) == [
        ("match_invoice", f"match:{invoice['id']}", True, "void_invoice"),
        ("approve_invoice", f"approve:{invoice['id']}", True, "void_invoice"),
        ("pay_invoice", f"pay:{invoice['id']}", False, None),
    ]
    again = door.call("pay_invoice", invoice=invoice["id"])
    assert again.status == 409
    assert again.body["error"]["message"] == (
        f"Invoice {invoice['id']} cannot go from paid to paid (paid is final)."
    )


def test_a_payment_retried_with_its_idempotency_key_is_made_once(
    door: Door, sim: RunSetup
) -> None:
    invoice = named(sim, "invoice")
    door.call("match_invoice", invoice=invoice["id"])
    door.call("approve_invoice", invoice=invoice["id"])
    first = door.call("pay_invoice", invoice=invoice["id"], idempotency_key="pay-1")
    retry = door.call("pay_invoice", invoice=invoice["id"], idempotency_key="pay-1")
    assert (first.status, retry.status, retry.replayed) == (200, 200, True)
    assert retry.body == first.body
    assert len(sim.world.ledger.by_key(f"pay:{invoice['id']}")) == 1


def test_a_payment_run_pays_each_invoice_on_its_own(door: Door, sim: RunSetup) -> None:
    invoice, unmatched = named(sim, "invoice"), named(sim, "short")
    door.call("match_invoice", invoice=invoice["id"])
    door.call("approve_invoice", invoice=invoice["id"])

    run = door.call(
        "pay_invoices",
        payments=[{"invoice": invoice["id"]}, {"invoice": unmatched["id"]}],
        idempotency_key="run-1",
    )

    assert run.status == 200
    assert (run.body["succeeded"], run.body["failed"]) == (1, 1)
    paid, refused = run.body["results"]
    assert (paid["index"], paid["status"], paid["result"]["status"]) == (
        0,
        "succeeded",
        "paid",
    )
    assert (refused["index"], refused["status"]) == (1, "failed")
    assert refused["error"]["code"] == "invalid_transition"
    assert live(sim, "invoices", unmatched["id"])["status"] != "paid"
    assert effects(sim)[-1] == ("pay_invoices", f"pay:{invoice['id']}", False, None)
    again = door.call(
        "pay_invoices",
        payments=[{"invoice": invoice["id"]}, {"invoice": unmatched["id"]}],
        idempotency_key="run-1",
    )
    assert (again.body, again.replayed) == (run.body, True)
    assert len(sim.world.ledger.by_key(f"pay:{invoice['id']}")) == 1


def test_a_voided_invoice_is_final(door: Door, sim: RunSetup) -> None:
    invoice = named(sim, "short")
    voided = door.call("void_invoice", invoice=invoice["id"], reason="Duplicate")
    assert voided.body["status"] == "void"
    assert effects(sim) == [("void_invoice", f"void:{invoice['id']}", False, None)]
    answer = door.call("match_invoice", invoice=invoice["id"])
    assert answer.status == 409
    assert answer.body["error"]["message"] == (
        f"Invoice {invoice['id']} cannot go from void to matched (void is final)."
    )


# -- the general ledger ---------------------------------------------------------------


def test_a_balanced_journal_entry_is_posted_and_irreversible(
    door: Door, sim: RunSetup
) -> None:
    source = named(sim, "invoice")["id"]
    answer = door.call(
        "post_journal_entry",
        lines=PAYMENT,
        currency="usd",
        memo="Manual payment",
        source=source,
    )
    assert answer.status == 201
    assert (answer.body["posted_by"], answer.body["reverses"]) == (
        sim.identity.name,
        None,
    )
    assert effects(sim) == [("post_journal_entry", f"journal:{source}", False, None)]
    [entry] = list(sim.world.ledger)
    assert dict(entry.params) == {
        "amount": 50_000,
        "currency": "usd",
        "source": source,
        "reverses": None,
    }


@pytest.mark.parametrize(
    ("lines", "code", "message"),
    [
        (
            [PAYMENT[0], {**PAYMENT[1], "amount": 40_000}],
            "unbalanced_entry",
            "Debits (500.00 USD) do not equal credits (400.00 USD); a journal entry "
            "must balance.",
        ),
        (
            PAYMENT[:1],
            "too_few_lines",
            "A journal entry needs at least two lines: a debit and a credit.",
        ),
    ],
    ids=["unbalanced", "one-line"],
)
def test_a_journal_entry_that_does_not_balance_is_a_422(
    door: Door, sim: RunSetup, lines: list[dict[str, Any]], code: str, message: str
) -> None:
    answer = door.call("post_journal_entry", lines=lines, currency="usd", memo="x")
    assert answer.status == 422
    assert answer.body == error(code, message, "lines")
    assert len(sim.world.ledger) == 0


def test_a_journal_entry_to_an_unknown_account_is_a_400_invalid_request(
    door: Door,
) -> None:
    lines = [{**PAYMENT[0], "account": "9999"}, PAYMENT[1]]
    answer = door.call("post_journal_entry", lines=lines, currency="usd", memo="x")
    assert answer.status == 400
    assert answer.body == error(
        "invalid_request",
        "lines[0].account must be one of ['1000', '1200', '1400', '1500', '2000', "
        "'2100', '4000', '5000', '6000', '6100', '6200']",
        "lines.0.account",
    )


def test_a_wrong_entry_is_corrected_by_a_reversing_entry_once(
    door: Door, sim: RunSetup
) -> None:
    wrong = door.call(
        "post_journal_entry", lines=PAYMENT, currency="usd", memo="Paid twice"
    ).body
    swapped = [
        {**PAYMENT[0], "side": "credit"},
        {**PAYMENT[1], "side": "debit"},
    ]
    reversal = door.call(
        "post_journal_entry",
        lines=swapped,
        currency="usd",
        memo="Reverse the double payment",
        reverses=wrong["id"],
    )
    assert reversal.status == 201
    assert reversal.body["reverses"] == wrong["id"]
    assert live(sim, "postings", wrong["id"])["reversed_by"] == reversal.body["id"]
    assert effects(sim)[1][:2] == ("post_journal_entry", f"reversal:{wrong['id']}")
    again = door.call(
        "post_journal_entry",
        lines=swapped,
        currency="usd",
        memo="Again",
        reverses=wrong["id"],
    )
    assert again.status == 409
    assert again.body == error(
        "already_reversed",
        f"Journal entry {wrong['id']} was already reversed by {reversal.body['id']}.",
        "reverses",
    )


def test_a_reversal_must_swap_the_original_lines(door: Door, sim: RunSetup) -> None:
    wrong = door.call(
        "post_journal_entry", lines=PAYMENT, currency="usd", memo="Paid twice"
    ).body
    answer = door.call(
        "post_journal_entry",
        lines=PAYMENT,
        currency="usd",
        memo="Not a reversal",
        reverses=wrong["id"],
    )
    assert answer.status == 422
    assert answer.body == error(
        "not_a_reversal",
        f"A reversal of {wrong['id']} posts its lines in usd with debit and credit "
        "swapped.",
        "lines",
    )
    assert len(sim.world.ledger) == 1


def test_reversing_an_unknown_entry_is_a_404_not_found(door: Door) -> None:
    answer = door.call(
        "post_journal_entry", lines=PAYMENT, currency="usd", memo="x", reverses="gl_x"
    )
    assert answer.status == 404
    assert answer.body == error(
        "not_found", "No such journal entry: 'gl_x'", "reverses"
    )


# -- policy, seeds and isolation ------------------------------------------------------


def test_approval_rules_read_the_amount_of_the_order_being_approved() -> None:
    spec = {
        "name": "t",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": ERP_RECORDS},
        "policy": {
            "approvals": [{"action": "erp.approve", "when": "amount > 1000000"}]
        },
    }
    run = prepare_run(scenario_from_dict(spec), seed=SEED)
    big, small = run.world.records["big"]["id"], run.world.records["order"]["id"]
    run.tools.call("submit_purchase_order", purchase_order=small)
    run.tools.call("approve_purchase_order", purchase_order=big)
    run.tools.call("approve_purchase_order", purchase_order=small)
    decisions = [
        e.value.get("policy")
        for e in run.world.history
        if e.f == "approve_purchase_order" and e.type is EntryType.OK
    ]
    assert decisions == [
        [
            {
                "kind": "approval",
                "rule": "erp.approve when amount > 1000000",
                "verdict": "missing_approval",
                "approval": None,
            }
        ],
        None,
    ]


def test_policy_rules_see_the_amount_a_write_moves(sim: RunSetup) -> None:
    erp = sim.world.service("erp")
    ops = {op.name: op for op in erp.operations}
    cases = {
        "create_purchase_order": ({"vendor": "v", "lines": LAPTOPS}, 259_800),
        "post_journal_entry": ({"lines": PAYMENT, "currency": "usd"}, 50_000),
        "approve_purchase_order": (
            {"purchase_order": named(sim, "big")["id"]},
            1_500_000,
        ),
        "pay_invoice": ({"invoice": named(sim, "short")["id"]}, 45_000),
    }
    for tool, (params, amount) in cases.items():
        assert erp.effective_params(ops[tool], params)["amount"] == amount, tool
    malformed = {"lines": ["not a line"]}
    assert erp.effective_params(ops["post_journal_entry"], malformed) == malformed


def test_the_seeded_erp_names_real_employees_and_adds_up() -> None:
    world = World(seed=5)
    erp, users = world.service("erp").state, world.service("iam").state["users"]
    assert len(erp["vendors"]) == SCALES["small"].vendors
    assert len(erp["purchase_orders"]) == SCALES["small"].vendors * ORDERS_PER_VENDOR
    assert all(v["iam_user"] in users for v in erp["vendors"].values())
    for order in erp["purchase_orders"].values():
        assert users[order["requester"]]["status"] == "active"
        assert order["amount"] == lines_total(order["lines"])
        vendor = erp["vendors"][order["vendor"]]
        assert order["currency"] == vendor["currency"]
        if vendor["status"] != "active":
            assert order["status"] in ("draft", "cancelled")
        if order["status"] in ("ordered", "received", "closed"):
            assert order["amount"] <= APPROVAL_LIMIT or order["approved_by"]
    for invoice in erp["invoices"].values():
        order = erp["purchase_orders"][invoice["purchase_order"]]
        if invoice["status"] == "paid":
            assert order["status"] == "closed"
            posting = erp["postings"][invoice["posting"]]
            assert posting["source"] == invoice["id"]
        if invoice["status"] == "mismatch":
            assert invoice["amount"] != order["amount"]
        assert invoice["amount"] > 0


def test_the_large_erp_has_its_stated_size() -> None:
    faker = Faker("en_US")
    faker.seed_instance(1)
    ids = IdGenerator(random.Random(2))
    iam = Iam.populate(faker, random.Random(1), ids, {}, SCALES["large"])
    seed = Erp.populate(faker, random.Random(3), ids, {"iam": iam}, SCALES["large"])
    assert len(seed["vendors"]) == SCALES["large"].vendors == 1_000
    assert len(seed["purchase_orders"]) == 1_000 * ORDERS_PER_VENDOR
    assert len({v["name"] for v in seed["vendors"].values()}) == 1_000


def test_a_runs_changes_never_reach_the_seeded_erp(door: Door, sim: RunSetup) -> None:
    def erp() -> dict[str, Any]:
        return copy.deepcopy(dict(World(seed=SEED).service("erp").state.items()))

    pristine = erp()
    state = sim.world.service("erp").state
    draft = next(o for o in state["purchase_orders"].values() if o["status"] == "draft")
    received = next(
        i
        for i in state["invoices"].values()
        if i["status"] == "received"
        and state["purchase_orders"][i["purchase_order"]]["status"] == "received"
    )
    vendor = next(v for v in state["vendors"].values() if v["status"] == "active")
    door.call("cancel_purchase_order", purchase_order=draft["id"])
    door.call("match_invoice", invoice=received["id"])
    door.call("update_vendor_status", vendor=vendor["id"], status="suspended")
    assert len(sim.world.ledger) == 3
    after = erp()
    assert after == pristine
    assert after["purchase_orders"][draft["id"]]["status"] == "draft"
    assert after["invoices"][received["id"]]["status"] == "received"
    assert after["vendors"][vendor["id"]]["status"] == "active"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (
            {"kind": "invoice", "po": "x"},
            "unknown field 'po' for an erp invoice (fields: purchase_order, number, "
            "amount, status, match_difference)",
        ),
        (
            {"kind": "invoice", "status": "settled"},
            "status 'settled' is not one of received, matched, mismatch, approved, "
            "paid, void",
        ),
        ({"kind": "purchase_order", "vendor": "ven_x"}, "no erp vendor 'ven_x'"),
        (
            {"kind": "vendor", "country": "XX"},
            "country 'XX' is not one of US, CA, GB, DE, FR",
        ),
        (
            {
                "kind": "purchase_order",
                "amount": 5,
                "lines": [{"sku": "A", "quantity": 1, "unit_price": 7}],
            },
            "amount 5 is not the sum of the lines (7); give lines or amount, not both",
        ),
    ],
)
def test_a_scenario_record_that_cannot_exist_is_refused_with_the_reason(
    record: dict[str, Any], reason: str
) -> None:
    spec = {
        "name": "t",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": {"r": {"service": "erp", **record}}},
    }
    with pytest.raises(HarnessError) as caught:
        prepare_run(unchecked(spec), seed=SEED)
    assert str(caught.value) == f"scenario 't': cannot create record 'r': {reason}"
