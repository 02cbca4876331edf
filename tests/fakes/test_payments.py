"""Payments, the Stripe-compatible subset: its business rules through every door.

Each test runs through the function door, HTTP at ``payments.sim`` and HTTP at
``api.stripe.com``; error bodies are compared whole, in Stripe's wire format.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from harness.run import RunSetup
from tests.fakes.conftest import DAY, PAYMENT_DOORS, Door


@pytest.fixture(params=PAYMENT_DOORS)
def door(request: pytest.FixtureRequest, open_door: Callable[[str], Door]) -> Door:
    return open_door(request.param)


@pytest.fixture
def charge(sim: RunSetup) -> dict[str, Any]:
    """The scenario's named charge: 50.00 USD, nothing refunded."""
    return sim.world.records["charge"]


def stripe_error(
    code: str | None,
    message: str,
    *,
    param: str | None = None,
    kind: str = "invalid_request_error",
) -> dict[str, Any]:
    """A Stripe error object as the API sends it."""
    error: dict[str, Any] = {"type": kind, "message": message}
    if code is not None:
        error["code"] = code
        error["doc_url"] = (
            f"https://stripe.com/docs/error-codes/{code.replace('_', '-')}"
        )
    if param is not None:
        error["param"] = param
    return {"error": error}


def live_charge(sim: RunSetup, charge_id: str) -> dict[str, Any]:
    charge: dict[str, Any] = sim.world.service("payments").state["charges"][charge_id]
    return charge


# -- retrieve and list --------------------------------------------------------------


def test_a_charge_is_retrieved_by_id(door: Door, charge: dict[str, Any]) -> None:
    answer = door.call("retrieve_charge", charge=charge["id"])
    assert answer.status == 200
    assert answer.body == charge
    assert answer.body["object"] == "charge"
    assert answer.body["amount"] == 5000


def test_retrieving_an_unknown_charge_is_a_404_resource_missing(door: Door) -> None:
    answer = door.call("retrieve_charge", charge="ch_x")
    assert answer.status == 404
    assert answer.body == stripe_error(
        "resource_missing", "No such charge: 'ch_x'", param="id"
    )


def test_retrieving_an_unknown_refund_is_a_404_resource_missing(door: Door) -> None:
    answer = door.call("retrieve_refund", refund="re_x")
    assert answer.status == 404
    assert answer.body == stripe_error(
        "resource_missing", "No such refund: 're_x'", param="id"
    )


def test_a_refund_is_retrieved_by_id(door: Door, charge: dict[str, Any]) -> None:
    refund = door.call("create_refund", charge=charge["id"], amount=700).body
    answer = door.call("retrieve_refund", refund=refund["id"])
    assert answer.status == 200
    assert answer.body == refund


def test_charges_are_listed_as_a_stripe_list_newest_first(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("list_charges")
    assert answer.status == 200
    page = answer.body
    assert (page["object"], page["url"], page["has_more"]) == (
        "list",
        "/v1/charges",
        True,
    )
    assert len(page["data"]) == 10  # Stripe's default page size
    created = [c["created"] for c in page["data"]]
    assert created == sorted(created, reverse=True)
    assert created[0] == max(
        c["created"] for c in sim.world.service("payments").state["charges"].values()
    )


def test_limit_caps_a_page_and_starting_after_continues_after_the_cursor(
    door: Door,
) -> None:
    six = door.call("list_charges", limit=6).body["data"]
    first = door.call("list_charges", limit=3).body
    second = door.call("list_charges", limit=3, starting_after=first["data"][-1]["id"])
    assert [c["id"] for c in first["data"]] == [c["id"] for c in six[:3]]
    assert [c["id"] for c in second.body["data"]] == [c["id"] for c in six[3:]]
    assert first["has_more"] is True


def test_the_last_page_says_it_has_no_more(door: Door, sim: RunSetup) -> None:
    total = len(sim.world.service("payments").state["charges"])
    seen, after = 0, None
    for _ in range(total // 100 + 1):
        params = (
            {"limit": 100} if after is None else {"limit": 100, "starting_after": after}
        )
        page = door.call("list_charges", **params).body
        seen += len(page["data"])
        if not page["has_more"]:
            break
        after = page["data"][-1]["id"]
    assert seen == total
    assert page["has_more"] is False


def test_charges_are_filtered_by_customer(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    customer = charge["customer"]
    expected = {
        c["id"]
        for c in sim.world.service("payments").state["charges"].values()
        if c["customer"] == customer
    }
    answer = door.call("list_charges", customer=customer, limit=100)
    assert {c["id"] for c in answer.body["data"]} == expected == {charge["id"]}


def test_refunds_are_filtered_by_charge_newest_first(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    older = door.call("create_refund", charge=charge["id"], amount=1000).body
    sim.world.clock.advance(60)
    newer = door.call("create_refund", charge=charge["id"], amount=2000).body
    answer = door.call("list_refunds", charge=charge["id"])
    assert answer.status == 200
    assert answer.body["url"] == "/v1/refunds"
    assert [r["id"] for r in answer.body["data"]] == [newer["id"], older["id"]]


def test_a_zero_limit_is_a_400_parameter_invalid(door: Door) -> None:
    answer = door.call("list_charges", limit=0)
    assert answer.status == 400
    assert answer.body == stripe_error(
        "parameter_invalid", "limit must be bigger than or equal to 1", param="limit"
    )


# -- refunds ------------------------------------------------------------------------


def test_partial_refunds_are_allowed_until_the_charge_is_fully_refunded(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    refunded = 0
    for amount in (1000, 1500, 2500):
        answer = door.call("create_refund", charge=charge["id"], amount=amount)
        assert answer.status == 200
        assert (answer.body["amount"], answer.body["status"]) == (amount, "succeeded")
        refunded += amount
        seen = door.call("retrieve_charge", charge=charge["id"]).body
        assert seen["amount_refunded"] == refunded
        assert seen["refunded"] is (refunded == 5000)
    assert live_charge(sim, charge["id"])["refunded"] is True


def test_a_fully_refunded_charge_refuses_another_refund_with_charge_already_refunded(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    door.call("create_refund", charge=charge["id"])
    answer = door.call("create_refund", charge=charge["id"], amount=100)
    assert answer.status == 400
    assert answer.body == stripe_error(
        "charge_already_refunded",
        f"Charge {charge['id']} has already been refunded.",
        param="charge",
    )
    assert len(sim.world.ledger) == 1


def test_a_refund_larger_than_the_unrefunded_rest_is_amount_too_large(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    door.call("create_refund", charge=charge["id"], amount=1000)
    answer = door.call("create_refund", charge=charge["id"], amount=4001)
    assert answer.status == 400
    assert answer.body == stripe_error(
        "amount_too_large",
        "Refund amount ($40.01) is greater than unrefunded amount on charge ($40.00)",
        param="amount",
    )
    assert live_charge(sim, charge["id"])["amount_refunded"] == 1000
    assert len(sim.world.ledger) == 1


def test_a_refund_without_an_amount_refunds_the_unrefunded_rest(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    door.call("create_refund", charge=charge["id"], amount=1200)
    answer = door.call("create_refund", charge=charge["id"])
    assert answer.status == 200
    assert answer.body["amount"] == 3800
    assert live_charge(sim, charge["id"])["refunded"] is True


def test_refunding_an_unknown_charge_is_a_404_resource_missing(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("create_refund", charge="ch_x", amount=100)
    assert answer.status == 404
    assert answer.body == stripe_error(
        "resource_missing", "No such charge: 'ch_x'", param="charge"
    )
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize(
    "records",
    [{"charge": {"service": "payments", "kind": "charge", "status": "pending"}}],
    ids=["pending-charge"],
)
def test_a_charge_that_has_not_succeeded_is_not_refundable(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    answer = door.call("create_refund", charge=charge["id"], amount=100)
    assert answer.status == 400
    assert answer.body == stripe_error(
        "charge_not_refundable",
        f"Charge {charge['id']} has status pending and cannot be refunded.",
        param="charge",
    )
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize(
    "records",
    [
        {
            "charge": {
                "service": "payments",
                "kind": "charge",
                "amount": 5000,
                "refunded": True,
            }
        }
    ],
    ids=["refunded-charge"],
)
def test_a_charge_refunded_before_the_run_refuses_a_refund(
    door: Door, charge: dict[str, Any]
) -> None:
    assert (charge["amount_refunded"], charge["refunded"]) == (5000, True)
    answer = door.call("create_refund", charge=charge["id"])
    assert answer.status == 400
    assert answer.error["code"] == "charge_already_refunded"


def test_every_refund_writes_a_ledger_entry_keyed_by_its_charge(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    first = door.call("create_refund", charge=charge["id"], amount=1000).body
    second = door.call(
        "create_refund", charge=charge["id"], amount=500, reason="duplicate"
    ).body
    entries = sim.world.ledger.by_key(f"refund:{charge['id']}")
    assert [(e.service, e.operation, e.ref, dict(e.params)) for e in entries] == [
        (
            "payments",
            "create_refund",
            first["id"],
            {"charge": charge["id"], "amount": 1000},
        ),
        (
            "payments",
            "create_refund",
            second["id"],
            {"charge": charge["id"], "amount": 500},
        ),
    ]
    assert second["reason"] == "duplicate"
    assert len(sim.world.ledger) == 2


# -- request contract, in Stripe's words --------------------------------------------


def test_a_refund_without_its_charge_is_a_400_parameter_missing(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("create_refund", amount=100)
    assert answer.status == 400
    assert answer.body == stripe_error(
        "parameter_missing", "Missing required param: charge.", param="charge"
    )
    assert len(sim.world.ledger) == 0


def test_a_refund_with_an_unknown_parameter_is_a_400_parameter_unknown(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    answer = door.call("create_refund", charge=charge["id"], colour="red")
    assert answer.status == 400
    assert answer.body == stripe_error(
        "parameter_unknown", "Received unknown parameter: colour", param="colour"
    )
    assert len(sim.world.ledger) == 0


def test_a_refund_amount_that_is_not_an_integer_is_parameter_invalid_integer(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    answer = door.call("create_refund", charge=charge["id"], amount="ten")
    assert answer.status == 400
    assert answer.error["code"] == "parameter_invalid_integer"
    assert answer.error["param"] == "amount"
    assert len(sim.world.ledger) == 0


def test_a_non_integer_amount_is_reported_with_stripes_exact_message(
    door: Door, charge: dict[str, Any]
) -> None:
    answer = door.call("create_refund", charge=charge["id"], amount="ten")
    assert answer.body == stripe_error(
        "parameter_invalid_integer", "Invalid integer: ten", param="amount"
    )


# -- Idempotency-Key ------------------------------------------------------------------


def test_the_same_key_and_params_replay_the_stored_refund_without_acting_twice(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    first = door.call(
        "create_refund", charge=charge["id"], amount=1000, idempotency_key="k1"
    )
    again = door.call(
        "create_refund", charge=charge["id"], amount=1000, idempotency_key="k1"
    )
    assert (first.status, again.status) == (200, 200)
    assert first.replayed is False
    assert again.replayed is True
    assert again.body == first.body
    assert len(sim.world.ledger.by_key(f"refund:{charge['id']}")) == 1
    assert len(sim.world.ledger) == 1
    assert live_charge(sim, charge["id"])["amount_refunded"] == 1000


def test_without_an_idempotency_key_a_retried_refund_refunds_twice(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    first = door.call("create_refund", charge=charge["id"], amount=1000)
    again = door.call("create_refund", charge=charge["id"], amount=1000)
    assert first.body["id"] != again.body["id"]
    assert again.replayed is False
    assert len(sim.world.ledger.by_key(f"refund:{charge['id']}")) == 2


def test_the_same_key_with_different_params_is_a_400_idempotency_error(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    door.call("create_refund", charge=charge["id"], amount=1000, idempotency_key="k1")
    answer = door.call(
        "create_refund", charge=charge["id"], amount=2000, idempotency_key="k1"
    )
    assert answer.status == 400
    assert answer.error["type"] == "idempotency_error"
    assert answer.body == stripe_error(
        None,
        "Keys for idempotent requests can only be used with the same parameters they "
        "were first used with. Try using a key other than 'k1' if you meant to "
        "execute a different request.",
        kind="idempotency_error",
    )
    assert len(sim.world.ledger) == 1


def test_an_idempotency_key_still_replays_just_before_24_hours(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    first = door.call(
        "create_refund", charge=charge["id"], amount=1000, idempotency_key="k1"
    )
    sim.world.clock.advance(DAY - 1)
    again = door.call(
        "create_refund", charge=charge["id"], amount=1000, idempotency_key="k1"
    )
    assert again.replayed is True
    assert again.body["id"] == first.body["id"]
    assert len(sim.world.ledger) == 1


def test_an_idempotency_key_expires_after_24_hours_of_simulated_time(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    first = door.call(
        "create_refund", charge=charge["id"], amount=1000, idempotency_key="k1"
    )
    sim.world.clock.advance(DAY + 1)
    again = door.call(
        "create_refund", charge=charge["id"], amount=1000, idempotency_key="k1"
    )
    assert again.status == 200
    assert again.replayed is False
    assert again.body["id"] != first.body["id"]
    assert len(sim.world.ledger.by_key(f"refund:{charge['id']}")) == 2
    assert live_charge(sim, charge["id"])["amount_refunded"] == 2000


def test_a_replay_is_the_stored_response_even_after_the_record_changed(
    door: Door, charge: dict[str, Any]
) -> None:
    params = {"amount": 900, "currency": "usd", "customer": charge["customer"]}
    created = door.call("create_charge", idempotency_key="c1", **params)
    door.call("create_refund", charge=created.body["id"])
    replay = door.call("create_charge", idempotency_key="c1", **params)
    assert replay.replayed is True
    assert replay.body == created.body
    assert (replay.body["amount_refunded"], replay.body["refunded"]) == (0, False)


def test_a_replayed_error_is_the_stored_error(
    door: Door, sim: RunSetup, charge: dict[str, Any]
) -> None:
    first = door.call(
        "create_refund", charge=charge["id"], amount=9000, idempotency_key="k1"
    )
    again = door.call(
        "create_refund", charge=charge["id"], amount=9000, idempotency_key="k1"
    )
    assert (first.status, again.status) == (400, 400)
    assert again.body == first.body
    assert again.replayed is True
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize("host", ["payments.sim", "api.stripe.com"])
def test_a_replay_over_http_carries_the_idempotent_replayed_header(
    http: httpx.Client, charge: dict[str, Any], host: str
) -> None:
    form = {"charge": charge["id"], "amount": "1000"}
    key = {"Idempotency-Key": "k1"}
    first = http.post(f"https://{host}/v1/refunds", data=form, headers=key)
    again = http.post(f"https://{host}/v1/refunds", data=form, headers=key)
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]


# -- credentials (HTTP door only: the function door always carries the agent's) -----


@pytest.mark.parametrize("host", ["payments.sim", "api.stripe.com"])
@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        pytest.param(
            None,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            id="missing",
        ),
        pytest.param(
            "Bearer sk_test_not_the_agents_key_1234",
            "Invalid API Key provided: sk_test_********1234",
            id="unknown",
        ),
        pytest.param(
            "Basic c2tfdGVzdDo=",
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            id="not-bearer",
        ),
    ],
)
def test_a_call_without_a_valid_bearer_credential_is_a_stripe_401(
    sandboxed: RunSetup, host: str, authorization: str | None, message: str
) -> None:
    charge = sandboxed.world.records["charge"]
    headers = {} if authorization is None else {"Authorization": authorization}
    with httpx.Client(headers=headers) as client:
        response = client.post(
            f"https://{host}/v1/refunds", data={"charge": charge["id"]}
        )
    assert response.status_code == 401
    assert response.json() == stripe_error(None, message)
    assert len(sandboxed.world.ledger) == 0
    assert (
        sandboxed.world.service("payments").state["charges"][charge["id"]][
            "amount_refunded"
        ]
        == 0
    )
