"""Tickets: read, list, update, comment; closed tickets are frozen; effects are ledgered."""

from __future__ import annotations

from typing import Any

import pytest

from fakes.base import fingerprint
from harness.modes.sim import RunSetup
from tests.fakes.conftest import RECORDS, Door

CLOSED_TICKET = {
    **RECORDS,
    "ticket": {**RECORDS["ticket"], "status": "closed"},
}


@pytest.fixture
def ticket(sim: RunSetup) -> dict[str, Any]:
    """The scenario's named ticket: open, about the named charge."""
    return sim.world.records["ticket"]


def live_ticket(sim: RunSetup, ticket_id: str) -> dict[str, Any]:
    ticket: dict[str, Any] = sim.world.service("tickets").state["tickets"][ticket_id]
    return ticket


def closed_message(ticket_id: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "ticket_closed",
            "message": f"Ticket {ticket_id} is closed; closed tickets cannot be changed.",
        }
    }


def test_a_ticket_is_read_by_id(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call("get_ticket", ticket=ticket["id"])
    assert answer.status == 200
    assert answer.body == ticket
    assert answer.body["charge"] == sim.world.records["charge"]["id"]


def test_reading_an_unknown_ticket_is_a_404_not_found(door: Door) -> None:
    answer = door.call("get_ticket", ticket="tkt_x")
    assert answer.status == 404
    assert answer.body == {
        "error": {
            "code": "not_found",
            "message": "No such ticket: 'tkt_x'",
            "param": "ticket",
        }
    }


@pytest.mark.parametrize("status", ["open", "closed"])
def test_tickets_are_filtered_by_status(door: Door, sim: RunSetup, status: str) -> None:
    expected = {
        t["id"]
        for t in sim.world.service("tickets").state["tickets"].values()
        if t["status"] == status
    }
    assert expected, f"the seeded world has no {status} ticket to list"
    answer = door.call("list_tickets", status=status, limit=100)
    assert answer.status == 200
    assert answer.body["object"] == "list"
    assert {t["id"] for t in answer.body["data"]} == expected


def test_tickets_are_filtered_by_customer(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call("list_tickets", customer=ticket["customer"], limit=100)
    ids = [t["id"] for t in answer.body["data"]]
    assert ticket["id"] in ids
    assert {t["customer"] for t in answer.body["data"]} == {ticket["customer"]}


def test_listing_by_an_unknown_status_is_a_400_invalid_request(door: Door) -> None:
    answer = door.call("list_tickets", status="archived")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "status must be one of "
            "['new', 'open', 'pending', 'solved', 'closed']",
            "param": "status",
        }
    }


def test_an_update_changes_the_ticket_and_is_ledgered(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call(
        "update_ticket", ticket=ticket["id"], status="pending", assignee="alice"
    )
    assert answer.status == 200
    assert (answer.body["status"], answer.body["assignee"]) == ("pending", "alice")
    assert answer.body["updated"] > ticket["updated"]
    [entry] = list(sim.world.ledger)
    assert (entry.service, entry.operation, entry.ref) == (
        "tickets",
        "update_ticket",
        ticket["id"],
    )
    assert entry.business_key == f"ticket:{ticket['id']}:assignee,status"
    assert dict(entry.params) == {"status": "pending", "assignee": "alice"}
    assert live_ticket(sim, ticket["id"])["status"] == "pending"


def test_an_update_ledgers_only_the_fields_it_changed(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    door.call(
        "update_ticket", ticket=ticket["id"], priority="normal", tags=["refund", "vip"]
    )
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"ticket:{ticket['id']}:tags"
    assert dict(entry.params) == {"tags": ["refund", "vip"]}
    assert live_ticket(sim, ticket["id"])["tags"] == ["refund", "vip"]


@pytest.mark.parametrize(
    "change",
    [{}, {"status": "open", "priority": "normal"}, {"tags": []}],
    ids=["nothing", "same-status-and-priority", "same-tags"],
)
def test_an_update_that_changes_nothing_commits_nothing(
    door: Door, sim: RunSetup, ticket: dict[str, Any], change: dict[str, Any]
) -> None:
    answer = door.call("update_ticket", ticket=ticket["id"], **change)
    assert answer.status == 200
    assert answer.body == ticket
    assert len(sim.world.ledger) == 0
    assert live_ticket(sim, ticket["id"])["updated"] == ticket["updated"]


def test_a_comment_is_added_and_ledgered(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call("add_ticket_comment", ticket=ticket["id"], body="Refunded.")
    assert answer.status == 201
    comment = answer.body
    assert {
        k: comment[k] for k in ("object", "ticket", "author", "body", "public")
    } == {
        "object": "comment",
        "ticket": ticket["id"],
        "author": sim.identity.name,
        "body": "Refunded.",
        "public": True,
    }
    [entry] = list(sim.world.ledger)
    assert entry.business_key == (
        f"comment:{ticket['id']}:{fingerprint({'body': 'Refunded.'})}"
    )
    assert (entry.operation, entry.ref) == ("add_ticket_comment", comment["id"])
    assert dict(entry.params) == {"ticket": ticket["id"], "body": "Refunded."}
    assert live_ticket(sim, ticket["id"])["comment_count"] == 1


def test_the_same_comment_posted_twice_is_two_effects_under_one_key(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    first = door.call("add_ticket_comment", ticket=ticket["id"], body="Refunded.")
    again = door.call("add_ticket_comment", ticket=ticket["id"], body="Refunded.")
    assert first.body["id"] != again.body["id"]
    [key] = {e.business_key for e in sim.world.ledger}
    assert len(sim.world.ledger.by_key(key)) == 2
    assert live_ticket(sim, ticket["id"])["comment_count"] == 2


def test_a_private_comment_is_not_public(door: Door, ticket: dict[str, Any]) -> None:
    answer = door.call(
        "add_ticket_comment", ticket=ticket["id"], body="Internal note.", public=False
    )
    assert answer.status == 201
    assert answer.body["public"] is False


def test_comments_are_listed_newest_first(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    older = door.call("add_ticket_comment", ticket=ticket["id"], body="one").body
    sim.world.clock.advance(60)
    newer = door.call("add_ticket_comment", ticket=ticket["id"], body="two").body
    answer = door.call("list_ticket_comments", ticket=ticket["id"])
    assert answer.status == 200
    assert answer.body["url"] == f"/v1/tickets/{ticket['id']}/comments"
    assert [c["id"] for c in answer.body["data"]] == [newer["id"], older["id"]]


def test_an_empty_comment_is_a_400_invalid_request(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call("add_ticket_comment", ticket=ticket["id"], body="")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "body must be longer than or equal to 1 characters",
            "param": "body",
        }
    }
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize("records", [CLOSED_TICKET], ids=["closed-ticket"])
@pytest.mark.parametrize(
    ("tool", "params"),
    [
        ("update_ticket", {"status": "open"}),
        ("update_ticket", {"assignee": "alice"}),
        ("add_ticket_comment", {"body": "Reopening."}),
    ],
    ids=["reopen", "assign", "comment"],
)
def test_a_closed_ticket_refuses_changes_with_409_ticket_closed(
    door: Door,
    sim: RunSetup,
    ticket: dict[str, Any],
    tool: str,
    params: dict[str, Any],
) -> None:
    answer = door.call(tool, ticket=ticket["id"], **params)
    assert answer.status == 409
    assert answer.body == closed_message(ticket["id"])
    assert len(sim.world.ledger) == 0
    assert live_ticket(sim, ticket["id"]) == ticket


@pytest.mark.parametrize("records", [CLOSED_TICKET], ids=["closed-ticket"])
def test_a_closed_ticket_can_still_be_read(door: Door, ticket: dict[str, Any]) -> None:
    assert door.call("get_ticket", ticket=ticket["id"]).body["status"] == "closed"
    assert door.call("list_ticket_comments", ticket=ticket["id"]).status == 200


def test_a_ticket_closed_during_the_run_refuses_a_comment(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    closed = door.call("update_ticket", ticket=ticket["id"], status="closed")
    assert closed.status == 200
    answer = door.call("add_ticket_comment", ticket=ticket["id"], body="Too late.")
    assert answer.status == 409
    assert answer.body == closed_message(ticket["id"])
    assert [e.operation for e in sim.world.ledger] == ["update_ticket"]
