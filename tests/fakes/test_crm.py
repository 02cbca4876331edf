"""CRM: seeded accounts per customer, ETag preconditions, and the sales rules.

Every rule runs through both front doors; error bodies are compared whole. The
scenario's named records (an account with a deal, a contact and two leads) are
made fresh for each run at version 1, so their etags are ``<id>-1``.
"""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakes import Crm
from fakes._company import DEFAULT_DOMAIN
from fakes.base import SCALES, IdGenerator, Seed
from fakes.crm import next_stages
from fakes.crm import objects as c
from harness.errors import HarnessError
from harness.run import RunSetup, prepare_run
from harness.world.snapshot import shared_faker
from harness.world.world import World
from tests.fakes.conftest import RECORDS, SEED, Door, error, unchecked

#: A lead whose rubric scores 20 + 20 + 0 + 10 + 10 + 5 = 65: qualified.
GOOD_RUBRIC = {
    "employees": 250,
    "budget_confirmed": True,
    "authority": False,
    "need": "medium",
    "timeline_months": 4,
    "region": "emea",
}
CRM_RECORDS: dict[str, Any] = {
    **RECORDS,
    "account": {
        "service": "crm",
        "kind": "account",
        "name": "Globex Analytics Inc.",
        "tier": "business",
    },
    "deal": {
        "service": "crm",
        "kind": "opportunity",
        "account": "$account.id",
        "stage": "proposal",
        "amount": 2_400_000,
    },
    "contact": {
        "service": "crm",
        "kind": "contact",
        "account": "$account.id",
        "name": "Ada Park",
        "email": "ada@globex.example",
    },
    "lead": {
        "service": "crm",
        "kind": "lead",
        "name": "Jo Reyes",
        "email": "jo@initech.example",
        "company": "Initech Labs",
        **GOOD_RUBRIC,
    },
    "partial_lead": {
        "service": "crm",
        "kind": "lead",
        "company": "Umbrella Freight",
        "employees": 40,
        "need": "high",
        "region": "na",
    },
}


def with_fields(name: str, **fields: Any) -> dict[str, Any]:
    """The CRM records with ``fields`` changed on the named record."""
    records = copy.deepcopy(CRM_RECORDS)
    records[name].update(fields)
    return records


@pytest.fixture
def records() -> dict[str, Any]:
    return copy.deepcopy(CRM_RECORDS)


@pytest.fixture
def account(sim: RunSetup) -> dict[str, Any]:
    return sim.world.records["account"]


@pytest.fixture
def deal(sim: RunSetup) -> dict[str, Any]:
    return sim.world.records["deal"]


@pytest.fixture
def lead(sim: RunSetup) -> dict[str, Any]:
    return sim.world.records["lead"]


def live(sim: RunSetup, collection: str, ident: str) -> dict[str, Any]:
    record: dict[str, Any] = sim.world.service("crm").state[collection][ident]
    return record


def stale(noun: str, ident: str, sent: int, current: int) -> dict[str, Any]:
    return error(
        "precondition_failed",
        f"{noun} {ident} changed since you read it (you sent {ident}-{sent}, "
        f"current is {ident}-{current}); re-read it and decide again.",
        "if_match",
    )


def seeded_crm(seed: int = SEED) -> dict[str, Any]:
    return copy.deepcopy(World(seed=seed).service("crm").state)


def populate(peers: dict[str, Seed]) -> Seed:
    faker = shared_faker()
    faker.seed_instance(5)
    ids = IdGenerator(random.Random("ids"))
    return Crm.populate(faker, random.Random("crm"), ids, peers, SCALES["small"])


# -- the seeded CRM -------------------------------------------------------------------


def test_every_payments_customer_has_exactly_one_account() -> None:
    world = World(seed=SEED)
    customers = world.service("payments").state["customers"]
    accounts = list(world.service("crm").state["accounts"].values())
    assert len(accounts) == len(customers) == SCALES["small"].customers
    assert sorted(a["customer"] for a in accounts) == sorted(customers)


def test_seeded_accounts_bill_the_plan_sales_sold() -> None:
    accounts = list(World(seed=SEED).service("crm").state["accounts"].values())
    assert all(a["billing_plan"] == a["tier"] for a in accounts)
    assert {a["tier"] for a in accounts} == set(c.TIERS)


def test_every_seeded_record_keeps_its_contract_and_its_etag_names_its_version() -> (
    None
):
    state = World(seed=SEED).service("crm").state
    schemas = {
        "accounts": c.ACCOUNT,
        "contacts": c.CONTACT,
        "opportunities": c.OPPORTUNITY,
        "usage": c.USAGE,
        "contracts": c.CONTRACT,
        "leads": c.LEAD,
    }
    for collection, schema in schemas.items():
        rows = list(state[collection].values())
        assert rows, f"the seeded CRM has no {collection}"
        validator = jsonschema.Draft202012Validator(schema)
        for record in rows:
            validator.validate(record)
            assert record["etag"] == f"{record['id']}-{record['version']}"


def test_seeded_records_belong_to_seeded_accounts() -> None:
    state = World(seed=SEED).service("crm").state
    for collection in ("contacts", "opportunities", "usage", "contracts"):
        for record in state[collection].values():
            assert record["account"] in state["accounts"]


def test_the_payments_customer_is_the_accounts_economic_buyer() -> None:
    world = World(seed=SEED)
    customers = world.service("payments").state["customers"]
    crm = world.service("crm")
    for account in crm.state["accounts"].values():
        customer = customers[account["customer"]]
        buyers = crm.query(
            "contacts", {"account": account["id"], "role": "economic_buyer"}
        )
        assert [(b["name"], b["email"]) for b in buyers] == [
            (customer["name"], customer["email"])
        ]


def test_seeded_deals_keep_the_discount_rule() -> None:
    deals = list(World(seed=SEED).service("crm").state["opportunities"].values())
    above = [d for d in deals if d["discount_pct"] > c.MAX_DISCOUNT_PCT]
    assert above, "the seeded CRM has no deal above the discount limit"
    assert {d["pricing_exception"] for d in above} == {"approved"}


def test_seeded_leads_are_scored_exactly_when_decided() -> None:
    leads = list(World(seed=SEED).service("crm").state["leads"].values())
    assert {lead["status"] for lead in leads} >= {"new", "qualified", "disqualified"}
    assert any(c.missing_rubric(lead) for lead in leads), "no lead misses its rubric"
    for lead in leads:
        if lead["status"] == "new":
            assert lead["score"] is None
            continue
        assert lead["score"] == c.lead_score(lead)
        qualified = lead["score"] >= c.QUALIFYING_SCORE
        assert lead["status"] == ("qualified" if qualified else "disqualified")


def test_seeded_accounts_are_owned_by_iam_account_executives() -> None:
    world = World(seed=SEED)
    users = world.service("iam").state["users"].values()
    executives = {u["id"] for u in users if u["title"] == "Account Executive"}
    assert executives, "the seeded IAM has no account executive"
    owners = {a["owner"] for a in world.service("crm").state["accounts"].values()}
    assert owners <= executives


def test_without_iam_or_payments_the_crm_seeds_its_own_owners_and_accounts() -> None:
    seed = populate({})
    accounts = list(seed["accounts"].values())
    assert len(accounts) == SCALES["small"].customers
    assert {a["customer"] for a in accounts} == {None}
    assert all(a["owner"].endswith(f"@{DEFAULT_DOMAIN}") for a in accounts)


def test_the_same_peers_and_seed_build_the_same_crm() -> None:
    assert populate({}) == populate({})


def test_company_names_are_unique() -> None:
    seed = populate({})
    names = [a["name"] for a in seed["accounts"].values()]
    names += [lead["company"] for lead in seed["leads"].values()]
    assert len(set(names)) == len(names)


# -- reading --------------------------------------------------------------------------


def test_an_account_is_read_by_id(door: Door, account: dict[str, Any]) -> None:
    answer = door.call("get_account", account=account["id"])
    assert answer.status == 200
    assert answer.body == account
    assert answer.body["etag"] == f"{account['id']}-1"


def test_reads_over_http_carry_the_quoted_etag_header(
    open_door: Callable[[str], Door], account: dict[str, Any], deal: dict[str, Any]
) -> None:
    http = open_door("http")
    assert http.call("get_account", account=account["id"]).headers["etag"] == (
        f'"{account["id"]}-1"'
    )
    assert http.call("get_opportunity", opportunity=deal["id"]).headers["etag"] == (
        f'"{deal["id"]}-1"'
    )


@pytest.mark.parametrize(
    ("tool", "kind"),
    [
        ("get_account", "account"),
        ("get_contact", "contact"),
        ("get_opportunity", "opportunity"),
        ("get_contract", "contract"),
        ("get_lead", "lead"),
    ],
)
def test_reading_an_unknown_record_is_a_404_not_found(
    door: Door, tool: str, kind: str
) -> None:
    answer = door.call(tool, **{kind: "x_nope"})
    assert answer.status == 404
    assert answer.body == error("not_found", f"No such {kind}: 'x_nope'", kind)


def test_the_account_of_a_payments_customer_is_found_by_customer(
    door: Door, sim: RunSetup
) -> None:
    customer = next(iter(sim.world.service("payments").state["customers"]))
    answer = door.call("list_accounts", customer=customer)
    assert answer.status == 200
    assert [a["customer"] for a in answer.body["data"]] == [customer]
    assert answer.body["url"] == "/v1/accounts"


def test_accounts_are_filtered_by_tier(door: Door, sim: RunSetup) -> None:
    accounts = sim.world.service("crm").state["accounts"].values()
    expected = {a["id"] for a in accounts if a["tier"] == "enterprise"}
    assert expected, "the seeded CRM has no enterprise account"
    answer = door.call("list_accounts", tier="enterprise", limit=100)
    assert {a["id"] for a in answer.body["data"]} == expected


def test_an_accounts_deals_and_contacts_are_listed_by_account(
    door: Door, sim: RunSetup, account: dict[str, Any], deal: dict[str, Any]
) -> None:
    deals = door.call("list_opportunities", account=account["id"])
    assert [d["id"] for d in deals.body["data"]] == [deal["id"]]
    contacts = door.call("list_contacts", account=account["id"])
    assert [x["id"] for x in contacts.body["data"]] == [
        sim.world.records["contact"]["id"]
    ]


def test_an_accounts_contract_is_listed_and_read(door: Door, sim: RunSetup) -> None:
    contract = next(iter(sim.world.service("crm").state["contracts"].values()))
    listed = door.call("list_contracts", account=contract["account"])
    assert [x["id"] for x in listed.body["data"]] == [contract["id"]]
    answer = door.call("get_contract", contract=contract["id"])
    assert answer.status == 200
    assert answer.body == contract


def test_usage_is_read_per_account_and_filtered_by_month(
    door: Door, sim: RunSetup
) -> None:
    account = next(iter(sim.world.service("crm").state["accounts"]))
    answer = door.call("get_usage", account=account)
    assert answer.status == 200
    assert [u["period"] for u in answer.body["data"]] == ["2025-12", "2025-11"]
    assert answer.body["url"] == f"/v1/accounts/{account}/usage"
    november = door.call("get_usage", account=account, period="2025-11")
    assert [u["period"] for u in november.body["data"]] == ["2025-11"]


def test_usage_of_an_unknown_account_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_usage", account="acc_nope")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such account: 'acc_nope'", "account")


def test_leads_are_filtered_by_status(door: Door, sim: RunSetup) -> None:
    leads = sim.world.service("crm").state["leads"].values()
    expected = {x["id"] for x in leads if x["status"] == "qualified"}
    assert expected, "the seeded CRM has no qualified lead"
    answer = door.call("list_leads", status="qualified", limit=100)
    assert {x["id"] for x in answer.body["data"]} == expected


# -- ETag preconditions ---------------------------------------------------------------

#: Every conditional write: tool, id parameter, named record, collection, a change.
CONDITIONAL_WRITES = [
    ("update_account", "account", "account", "accounts", {"tier": "enterprise"}),
    ("update_contact", "contact", "contact", "contacts", {"role": "economic_buyer"}),
    ("update_opportunity", "opportunity", "deal", "opportunities", {"amount": 1}),
    ("qualify_lead", "lead", "lead", "leads", {"authority": True}),
]
WRITE_IDS = ["account", "contact", "opportunity", "lead"]


def test_an_update_with_the_current_etag_applies_and_makes_a_new_revision(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    read = door.call("get_account", account=account["id"]).body
    answer = door.call(
        "update_account", account=account["id"], if_match=read["etag"], tier="team"
    )
    assert answer.status == 200
    assert (answer.body["tier"], answer.body["version"]) == ("team", 2)
    assert answer.body["etag"] == f"{account['id']}-2"
    assert answer.body["billing_plan"] == "business"
    [entry] = list(sim.world.ledger)
    assert (entry.service, entry.operation, entry.ref) == (
        "crm",
        "update_account",
        account["id"],
    )
    assert entry.business_key == f"account:{account['id']}:tier"
    assert dict(entry.params) == {"tier": "team"}
    assert (entry.reversible, entry.compensation) == (True, "update_account")
    assert live(sim, "accounts", account["id"])["tier"] == "team"


def test_a_write_over_http_answers_with_the_new_etag_header(
    open_door: Callable[[str], Door], account: dict[str, Any]
) -> None:
    http = open_door("http")
    answer = http.call(
        "update_account", account=account["id"], if_match=account["etag"], region="apac"
    )
    assert answer.status == 200
    assert answer.headers["etag"] == f'"{account["id"]}-2"'


@pytest.mark.parametrize(
    ("tool", "param", "name", "collection", "change"), CONDITIONAL_WRITES, ids=WRITE_IDS
)
def test_a_second_write_with_the_etag_read_before_the_first_is_a_412(
    door: Door,
    sim: RunSetup,
    tool: str,
    param: str,
    name: str,
    collection: str,
    change: dict[str, Any],
) -> None:
    ident = sim.world.records[name]["id"]
    read = live(sim, collection, ident)["etag"]
    first = door.call(tool, **{param: ident}, if_match=read, **change)
    assert first.status == 200
    after_first = copy.deepcopy(live(sim, collection, ident))

    again = door.call(tool, **{param: ident}, if_match=read, **change)
    assert again.status == 412
    assert again.body == stale(param.capitalize(), ident, 1, 2)
    assert live(sim, collection, ident) == after_first
    assert len(sim.world.ledger) == 1


def test_a_412_over_http_carries_the_current_etag_header(
    open_door: Callable[[str], Door], account: dict[str, Any]
) -> None:
    http = open_door("http")
    http.call("update_account", account=account["id"], health="red")
    answer = http.call(
        "update_account", account=account["id"], if_match=account["etag"], health="red"
    )
    assert answer.status == 412
    assert answer.headers["etag"] == f'"{account["id"]}-2"'


def test_a_stale_etag_is_refused_even_when_the_write_would_change_nothing(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    door.call("update_account", account=account["id"], health="yellow")
    answer = door.call(
        "update_account", account=account["id"], if_match=account["etag"]
    )
    assert answer.status == 412
    assert answer.body == stale("Account", account["id"], 1, 2)


def test_without_if_match_the_last_write_wins_over_a_change_made_since(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    first = door.call("update_account", account=account["id"], owner="usr_alice")
    second = door.call("update_account", account=account["id"], owner="usr_bob")
    assert (first.status, second.status) == (200, 200)
    assert second.body["version"] == 3
    assert live(sim, "accounts", account["id"])["owner"] == "usr_bob"
    key = f"account:{account['id']}:owner"
    assert [dict(e.params) for e in sim.world.ledger.by_key(key)] == [
        {"owner": "usr_alice"},
        {"owner": "usr_bob"},
    ]


def test_if_match_star_matches_whatever_revision_is_current(
    door: Door, account: dict[str, Any]
) -> None:
    door.call("update_account", account=account["id"], health="yellow")
    answer = door.call(
        "update_account", account=account["id"], if_match="*", health="red"
    )
    assert answer.status == 200
    assert answer.body["version"] == 3


def test_an_update_that_changes_nothing_commits_nothing_and_keeps_the_revision(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    answer = door.call(
        "update_account",
        account=account["id"],
        if_match=account["etag"],
        tier=account["tier"],
    )
    assert answer.status == 200
    assert answer.body == account
    assert len(sim.world.ledger) == 0


def test_an_update_ledgers_only_the_fields_it_changed(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    door.call(
        "update_account",
        account=account["id"],
        tier=account["tier"],
        health="red",
        renewal_date="2026-09-30",
    )
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"account:{account['id']}:health,renewal_date"
    assert dict(entry.params) == {"health": "red", "renewal_date": "2026-09-30"}


@pytest.mark.parametrize(
    ("tool", "param", "name", "collection", "change"), CONDITIONAL_WRITES, ids=WRITE_IDS
)
@pytest.mark.parametrize("with_etag", [True, False], ids=["if-match", "no-if-match"])
def test_a_record_another_writer_holds_refuses_writes_with_409_conflict(
    door: Door,
    sim: RunSetup,
    tool: str,
    param: str,
    name: str,
    collection: str,
    change: dict[str, Any],
    with_etag: bool,
) -> None:
    ident = sim.world.records[name]["id"]
    held = sim.world.service("crm").state[collection].writable(ident)
    held["locked_by"] = "renewals-sync"
    before = copy.deepcopy(held)
    etag = {"if_match": held["etag"]} if with_etag else {}
    answer = door.call(tool, **{param: ident}, **etag, **change)
    assert answer.status == 409
    assert answer.body == error(
        "conflict",
        f"{param.capitalize()} {ident} is being changed by another writer "
        "(renewals-sync); wait for them to finish, re-read it and decide again.",
    )
    assert live(sim, collection, ident) == before
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize(
    "records",
    [with_fields("account", locked_by="renewals-sync")],
    ids=["locked-account"],
)
def test_a_scenario_can_name_a_held_record_and_it_can_still_be_read(
    door: Door, account: dict[str, Any]
) -> None:
    assert account["locked_by"] == "renewals-sync"
    answer = door.call("get_account", account=account["id"])
    assert answer.status == 200
    assert answer.body["locked_by"] == "renewals-sync"
    refused = door.call("update_account", account=account["id"], health="red")
    assert refused.status == 409


def test_writing_an_unknown_record_is_a_404_not_found(door: Door) -> None:
    answer = door.call("update_account", account="acc_nope", if_match="acc_nope-1")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such account: 'acc_nope'", "account")


# -- opportunities: stages and discounts ----------------------------------------------


def test_a_deal_moves_forward_and_may_skip_stages(
    door: Door, sim: RunSetup, deal: dict[str, Any]
) -> None:
    answer = door.call("update_opportunity", opportunity=deal["id"], stage="closed_won")
    assert answer.status == 200
    assert answer.body["stage"] == "closed_won"
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"opportunity:{deal['id']}:stage"
    assert (entry.operation, entry.compensation) == (
        "update_opportunity",
        "update_opportunity",
    )


def test_a_deal_cannot_move_back_and_the_409_lists_the_allowed_stages(
    door: Door, sim: RunSetup, deal: dict[str, Any]
) -> None:
    answer = door.call(
        "update_opportunity", opportunity=deal["id"], stage="qualification"
    )
    assert answer.status == 409
    assert answer.body == error(
        "invalid_transition",
        f"Opportunity {deal['id']} cannot move from proposal to qualification; "
        "allowed next stages: negotiation, closed_won, closed_lost.",
        "stage",
    )
    assert live(sim, "opportunities", deal["id"])["stage"] == "proposal"
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize("stage", c.OPEN_STAGES)
def test_an_open_deal_can_always_be_lost(door: Door, sim: RunSetup, stage: str) -> None:
    account = sim.world.records["account"]["id"]
    deal = sim.world.service("crm").create_record(
        "opportunity", {"account": account, "stage": stage}
    )
    answer = door.call(
        "update_opportunity", opportunity=deal["id"], stage="closed_lost"
    )
    assert answer.status == 200
    assert answer.body["stage"] == "closed_lost"


@pytest.mark.parametrize(
    "records", [with_fields("deal", stage="closed_won")], ids=["won-deal"]
)
def test_a_closed_deal_cannot_change_stage(door: Door, deal: dict[str, Any]) -> None:
    answer = door.call(
        "update_opportunity", opportunity=deal["id"], stage="closed_lost"
    )
    assert answer.status == 409
    assert answer.body == error(
        "invalid_transition",
        f"Opportunity {deal['id']} cannot move from closed_won to closed_lost; "
        "allowed next stages: none (it is closed).",
        "stage",
    )


def test_next_stages_go_forward_or_to_lost() -> None:
    assert next_stages("prospecting") == (
        "qualification",
        "proposal",
        "negotiation",
        "closed_won",
        "closed_lost",
    )
    assert next_stages("negotiation") == ("closed_won", "closed_lost")
    assert next_stages("closed_lost") == ()


def test_a_discount_up_to_the_limit_needs_no_exception(
    door: Door, deal: dict[str, Any]
) -> None:
    answer = door.call("update_opportunity", opportunity=deal["id"], discount_pct=20)
    assert answer.status == 200
    assert answer.body["discount_pct"] == 20


@pytest.mark.parametrize("exception", ["none", "requested", "denied"])
def test_a_discount_above_the_limit_without_an_approved_exception_is_a_403(
    door: Door, sim: RunSetup, exception: str
) -> None:
    account = sim.world.records["account"]["id"]
    deal = sim.world.service("crm").create_record(
        "opportunity", {"account": account, "pricing_exception": exception}
    )
    answer = door.call(
        "update_opportunity", opportunity=deal["id"], discount_pct=25, amount=900
    )
    assert answer.status == 403
    assert answer.body == error(
        "pricing_exception_required",
        f"A 25% discount on opportunity {deal['id']} is above the 20% limit and "
        f"needs an approved pricing exception (pricing_exception is '{exception}'); "
        "set it to 'requested' and wait for deal desk's decision.",
        "discount_pct",
    )
    assert live(sim, "opportunities", deal["id"])["amount"] == 1_000_000
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize(
    "records", [with_fields("deal", pricing_exception="approved")], ids=["approved"]
)
def test_an_approved_exception_allows_a_discount_above_the_limit(
    door: Door, sim: RunSetup, deal: dict[str, Any]
) -> None:
    answer = door.call("update_opportunity", opportunity=deal["id"], discount_pct=30)
    assert answer.status == 200
    assert answer.body["discount_pct"] == 30


def test_an_agent_may_request_a_pricing_exception(
    door: Door, sim: RunSetup, deal: dict[str, Any]
) -> None:
    answer = door.call(
        "update_opportunity", opportunity=deal["id"], pricing_exception="requested"
    )
    assert answer.status == 200
    assert answer.body["pricing_exception"] == "requested"
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"opportunity:{deal['id']}:pricing_exception"


def test_an_agent_cannot_approve_its_own_pricing_exception(
    door: Door, sim: RunSetup, deal: dict[str, Any]
) -> None:
    answer = door.call(
        "update_opportunity", opportunity=deal["id"], pricing_exception="approved"
    )
    assert answer.status == 400
    assert answer.body == error(
        "invalid_request",
        "pricing_exception must be one of ['requested']",
        "pricing_exception",
    )
    assert len(sim.world.ledger) == 0


# -- contacts -------------------------------------------------------------------------


def test_a_contact_is_created_and_ledgered(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    answer = door.call(
        "create_contact",
        account=account["id"],
        name="Lin Ode",
        email="Lin@Globex.example",
        role="billing",
    )
    assert answer.status == 201
    contact = answer.body
    assert (contact["account"], contact["role"], contact["etag"]) == (
        account["id"],
        "billing",
        f"{contact['id']}-1",
    )
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"contact:{account['id']}:lin@globex.example"
    assert (entry.operation, entry.ref) == ("create_contact", contact["id"])
    assert live(sim, "contacts", contact["id"]) == contact


def test_a_second_contact_with_the_same_email_is_a_409_duplicate_contact(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    existing = sim.world.records["contact"]["id"]
    answer = door.call(
        "create_contact", account=account["id"], name="Ada", email="ADA@globex.example"
    )
    assert answer.status == 409
    assert answer.body == error(
        "duplicate_contact",
        f"Account {account['id']} already has a contact with email "
        f"ADA@globex.example ({existing}); update that contact instead.",
        "email",
    )
    assert len(sim.world.ledger) == 0


def test_a_contact_cannot_take_the_email_of_another_contact(
    door: Door, sim: RunSetup, account: dict[str, Any]
) -> None:
    ada = sim.world.records["contact"]["id"]
    other = door.call(
        "create_contact", account=account["id"], name="Bo", email="bo@globex.example"
    ).body
    answer = door.call(
        "update_contact", contact=other["id"], email="ada@globex.example"
    )
    assert answer.status == 409
    assert answer.body == error(
        "duplicate_contact",
        f"Account {account['id']} already has a contact with email "
        f"ada@globex.example ({ada}); update that contact instead.",
        "email",
    )


def test_a_contact_for_an_unknown_account_is_a_404(door: Door) -> None:
    answer = door.call("create_contact", account="acc_nope", name="X", email="x@y.z")
    assert answer.status == 404
    assert answer.body == error("not_found", "No such account: 'acc_nope'", "account")


# -- leads ----------------------------------------------------------------------------


def test_a_lead_with_its_whole_rubric_is_scored_and_qualified(
    door: Door, sim: RunSetup, lead: dict[str, Any]
) -> None:
    assert (lead["status"], lead["score"]) == ("new", None)
    answer = door.call("qualify_lead", lead=lead["id"], if_match=lead["etag"])
    assert answer.status == 200
    assert (answer.body["status"], answer.body["score"]) == ("qualified", 65)
    assert answer.body["version"] == 2
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"lead:{lead['id']}:qualify"
    assert dict(entry.params) == {**GOOD_RUBRIC, "score": 65, "status": "qualified"}


def test_a_lead_scoring_below_the_bar_is_disqualified(
    door: Door, lead: dict[str, Any]
) -> None:
    answer = door.call(
        "qualify_lead", lead=lead["id"], budget_confirmed=False, need="low"
    )
    assert answer.status == 200
    assert (answer.body["status"], answer.body["score"]) == ("disqualified", 35)


def test_a_lead_missing_rubric_fields_is_a_422_that_lists_them(
    door: Door, sim: RunSetup
) -> None:
    partial = sim.world.records["partial_lead"]
    answer = door.call("qualify_lead", lead=partial["id"], authority=True)
    assert answer.status == 422
    assert answer.body == error(
        "missing_rubric_fields",
        f"Lead {partial['id']} cannot be qualified: its rubric is missing "
        "budget_confirmed, timeline_months; find them out and pass them to "
        "qualify_lead.",
        "budget_confirmed",
    )
    assert live(sim, "leads", partial["id"]) == partial
    assert len(sim.world.ledger) == 0


def test_the_missing_rubric_fields_passed_in_qualify_the_lead(
    door: Door, sim: RunSetup
) -> None:
    partial = sim.world.records["partial_lead"]
    answer = door.call(
        "qualify_lead",
        lead=partial["id"],
        budget_confirmed=True,
        authority=True,
        timeline_months=2,
    )
    assert answer.status == 200
    # 5 (40 staff) + 15 (2 months) + 20 (budget) + 15 (authority) + 20 (high
    # need) + 5 (na)
    assert (answer.body["score"], answer.body["status"]) == (80, "qualified")
    assert answer.body["timeline_months"] == 2


def test_requalifying_with_the_same_rubric_commits_nothing(
    door: Door, sim: RunSetup, lead: dict[str, Any]
) -> None:
    first = door.call("qualify_lead", lead=lead["id"])
    again = door.call("qualify_lead", lead=lead["id"], if_match=first.body["etag"])
    assert again.status == 200
    assert again.body["version"] == 2
    assert len(sim.world.ledger) == 1


@given(
    employees=st.integers(1, 100_000),
    budget=st.booleans(),
    authority=st.booleans(),
    need=st.sampled_from(c.NEEDS),
    months=st.integers(0, 60),
    region=st.sampled_from(c.REGIONS),
)
def test_a_lead_score_is_between_0_and_100_and_budget_never_lowers_it(
    employees: int,
    budget: bool,
    authority: bool,
    need: str,
    months: int,
    region: str,
) -> None:
    rubric = {
        "employees": employees,
        "budget_confirmed": budget,
        "authority": authority,
        "need": need,
        "timeline_months": months,
        "region": region,
    }
    score = c.lead_score(rubric)
    assert 0 <= score <= 100
    assert c.lead_score({**rubric, "budget_confirmed": True}) >= score


def test_the_best_possible_lead_scores_100() -> None:
    best = {
        "employees": 5000,
        "budget_confirmed": True,
        "authority": True,
        "need": "high",
        "timeline_months": 1,
        "region": "na",
    }
    assert c.lead_score(best) == 100


@pytest.mark.parametrize(
    "records", [with_fields("lead", status="qualified")], ids=["qualified-lead"]
)
def test_converting_a_qualified_lead_creates_an_account_and_a_contact(
    door: Door, sim: RunSetup, lead: dict[str, Any]
) -> None:
    assert lead["score"] == 65
    answer = door.call("convert_lead", lead=lead["id"], if_match=lead["etag"])
    assert answer.status == 201
    body = answer.body
    account, contact, converted = body["account"], body["contact"], body["lead"]
    assert body["object"] == "lead_conversion"
    assert (account["name"], account["owner"], account["region"]) == (
        "Initech Labs",
        lead["owner"],
        "emea",
    )
    assert (contact["account"], contact["email"], contact["role"]) == (
        account["id"],
        "jo@initech.example",
        "champion",
    )
    assert (converted["status"], converted["version"]) == ("converted", 2)
    assert (converted["converted_account"], converted["converted_contact"]) == (
        account["id"],
        contact["id"],
    )
    assert [(e.business_key, e.ref, e.reversible) for e in sim.world.ledger] == [
        (f"lead:{lead['id']}:account", account["id"], False),
        (f"lead:{lead['id']}:contact", contact["id"], False),
    ]
    assert live(sim, "accounts", account["id"]) == account
    assert live(sim, "contacts", contact["id"]) == contact


@pytest.mark.parametrize(
    "records", [with_fields("lead", status="qualified")], ids=["qualified-lead"]
)
def test_a_converted_lead_cannot_be_converted_or_qualified_again(
    door: Door, sim: RunSetup, lead: dict[str, Any]
) -> None:
    account = door.call("convert_lead", lead=lead["id"]).body["account"]["id"]
    for tool in ("convert_lead", "qualify_lead"):
        answer = door.call(tool, lead=lead["id"])
        assert answer.status == 409
        assert answer.body == error(
            "lead_converted",
            f"Lead {lead['id']} was already converted to account {account}; "
            "work on that account instead.",
        )
    assert len(sim.world.ledger) == 2


def test_a_lead_that_is_not_qualified_cannot_be_converted(
    door: Door, sim: RunSetup, lead: dict[str, Any]
) -> None:
    answer = door.call("convert_lead", lead=lead["id"])
    assert answer.status == 409
    assert answer.body == error(
        "lead_not_qualified",
        f"Lead {lead['id']} is new; only a qualified lead can be converted "
        "(qualify it first).",
    )
    assert len(sim.world.ledger) == 0


# -- the shared seeded base ------------------------------------------------------------


def test_crm_writes_never_leak_into_the_next_world_for_the_same_seed(
    door: Door, sim: RunSetup
) -> None:
    pristine = seeded_crm()
    state = sim.world.service("crm").state
    account = next(iter(state["accounts"].values()))
    deal = next(
        d for d in state["opportunities"].values() if d["stage"] in c.STAGES[:4]
    )
    contact = next(iter(state["contacts"].values()))
    answers = [
        door.call(
            "update_account",
            account=account["id"],
            if_match=account["etag"],
            health="green" if account["health"] == "red" else "red",
        ),
        door.call("update_opportunity", opportunity=deal["id"], stage="closed_lost"),
        door.call("update_contact", contact=contact["id"], name="Renamed"),
        door.call(
            "create_contact", account=account["id"], name="N", email="n@x.example"
        ),
    ]
    assert [a.status for a in answers] == [200, 200, 200, 201], answers[-1].body
    assert len(sim.world.ledger) == 4
    assert seeded_crm() == pristine
    assert pristine["accounts"][account["id"]]["version"] == account["version"]


# -- named records --------------------------------------------------------------------


def test_a_named_account_bills_its_tier_and_names_a_real_customer(
    sim: RunSetup,
) -> None:
    crm = sim.world.service("crm")
    customer = next(iter(sim.world.service("payments").state["customers"]))
    account = crm.create_record("account", {"customer": customer, "tier": "team"})
    assert (account["customer"], account["billing_plan"]) == (customer, "team")
    assert crm.state["accounts"][account["id"]] is account


def test_a_named_deal_without_an_account_gets_a_new_account(sim: RunSetup) -> None:
    crm = sim.world.service("crm")
    deal = crm.create_record("opportunity", {"amount": 5_000})
    assert crm.state["accounts"][deal["account"]]["owner"] == deal["owner"]


@pytest.mark.parametrize(
    ("kind", "fields", "message"),
    [
        (
            "account",
            {"teir": "team"},
            "a crm account has no field 'teir' (did you mean 'tier'?); fields: arr, "
            "billing_plan, currency, customer, health, locked_by, name, owner, "
            "region, renewal_date, tier, version",
        ),
        (
            "account",
            {"tier": "gold"},
            "crm account field tier: 'gold' is not one of "
            "['free', 'team', 'business', 'enterprise']",
        ),
        (
            "account",
            {"customer": "cus_nope"},
            "no payments customer 'cus_nope' to link the account to",
        ),
        (
            "contact",
            {"account": "acc_nope"},
            "no crm account 'acc_nope' (name an account record)",
        ),
    ],
    ids=["unknown-field", "bad-tier", "unknown-customer", "unknown-account"],
)
def test_a_named_record_the_crm_cannot_make_is_refused_with_the_reason(
    sim: RunSetup, kind: str, fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        sim.world.service("crm").create_record(kind, fields)


def test_a_scenario_naming_a_field_the_crm_lacks_fails_to_prepare_with_the_fix() -> (
    None
):
    spec = {
        "name": "typo",
        "rationale": "a named account with a misspelt field",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": {"big": {"service": "crm", "kind": "account", "teir": 1}}},
    }
    message = (
        "scenario 'typo': cannot create record 'big': a crm account has no field "
        "'teir' (did you mean 'tier'?); fields: arr, billing_plan, currency, "
        "customer, health, locked_by, name, owner, region, renewal_date, tier, "
        "version"
    )
    with pytest.raises(HarnessError, match=f"^{re.escape(message)}$"):
        prepare_run(unchecked(spec), seed=SEED)
