"""Tickets: kinds, SLAs, links and closure rules; closed tickets are frozen; effects are ledgered."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from faker import Faker

from fakes._company import DEFAULT_DOMAIN, world_domain
from fakes.base import SCALES, IdGenerator, fingerprint
from fakes.tickets import Tickets
from fakes.tickets.helpdesk import KINDS
from harness.errors import HarnessError
from harness.run import RunSetup, prepare_run
from harness.world.world import World
from tests.fakes.conftest import HOUR, RECORDS, SEED, Door, unchecked

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
        ("close_ticket", {"resolution": "Closed again."}),
        ("link_tickets", {"linked_ticket": "$other"}),
    ],
    ids=["reopen", "assign", "comment", "close-again", "link"],
)
def test_a_closed_ticket_refuses_changes_with_409_ticket_closed(
    door: Door,
    sim: RunSetup,
    ticket: dict[str, Any],
    tool: str,
    params: dict[str, Any],
) -> None:
    if params.get("linked_ticket") == "$other":
        params = {"linked_ticket": seeded(sim, "question", "open")["id"]}
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


# -- helpers for kinds, links and closure ---------------------------------------------

CHANGE = {"service": "tickets", "kind": "change", "subject": "Deploy gateway failover"}
INCIDENT = {"service": "tickets", "kind": "incident", "subject": "Checkout fails"}
#: An open incident linked to the open change that caused it.
INCIDENT_ON_OPEN_CHANGE = {
    **RECORDS,
    "change": CHANGE,
    "incident": {**INCIDENT, "linked": ["$change.id"]},
}
#: An incident and a change, not linked yet.
INCIDENT_AND_CHANGE = {**RECORDS, "change": CHANGE, "incident": INCIDENT}
#: The ways to solve or close a ticket: (tool, params, the status it sets).
CLOSING = [
    ("update_ticket", {"status": "solved"}, "solved"),
    ("update_ticket", {"status": "closed"}, "closed"),
    ("close_ticket", {}, "closed"),
]
CLOSING_IDS = ["solve", "close-by-update", "close"]
SLA_HOURS = {"low": (24, 120), "normal": (8, 72), "high": (4, 24), "urgent": (1, 4)}


def record(sim: RunSetup, name: str) -> dict[str, Any]:
    named: dict[str, Any] = sim.world.records[name]
    return named


def seeded(sim: RunSetup, kind: str, status: str) -> dict[str, Any]:
    """The first seeded ticket of ``kind`` in ``status`` (not a scenario record)."""
    named = {r["id"] for r in sim.world.records.values()}
    return next(
        t
        for t in sim.world.service("tickets").state["tickets"].values()
        if t["kind"] == kind and t["status"] == status and t["id"] not in named
    )


def open_change(ticket: dict[str, Any]) -> bool:
    return ticket["kind"] == "change" and ticket["status"] != "closed"


def now(sim: RunSetup) -> int:
    return int(sim.world.clock.epoch())


def link_key(*ids: str) -> str:
    return f"link:{':'.join(sorted(ids))}"


def resolution_message(ticket: dict[str, Any], status: str) -> dict[str, Any]:
    kind = ticket["kind"]
    article = "an" if kind == "incident" else "a"
    return {
        "error": {
            "code": "resolution_required",
            "message": f"Ticket {ticket['id']} is {article} {kind}: setting it to "
            f"{status} needs a resolution note; pass resolution saying what fixed it.",
            "param": "resolution",
        }
    }


# -- seeded helpdesk -----------------------------------------------------------------


def test_the_seeded_helpdesk_holds_every_kind_of_ticket(sim: RunSetup) -> None:
    tickets = sim.world.service("tickets").state["tickets"].values()
    assert {t["kind"] for t in tickets} == set(KINDS)


@pytest.mark.parametrize("seed", range(5))
def test_every_seeded_world_has_an_open_incident_blocked_by_an_open_change(
    seed: int,
) -> None:
    tickets = World(seed=seed).service("tickets").state["tickets"]
    blocked = [
        t
        for t in tickets.values()
        if t["kind"] == "incident"
        and t["status"] not in ("solved", "closed")
        and any(open_change(tickets[other]) for other in t["linked"])
    ]
    assert blocked


def test_seeded_tickets_keep_the_helpdesk_rules(sim: RunSetup) -> None:
    tickets = sim.world.service("tickets").state["tickets"]
    for ticket in tickets.values():
        for other in ticket["linked"]:
            assert ticket["id"] in tickets[other]["linked"]
        done = ticket["status"] in ("solved", "closed")
        assert (ticket["solved_at"] is not None) == done
        if ticket["status"] == "new":
            assert (ticket["assignee"], ticket["first_response_at"]) == (None, None)
        if done and ticket["kind"] != "question":
            assert ticket["resolution"]
        if done and ticket["kind"] == "incident":
            assert all(
                tickets[o]["status"] == "closed"
                for o in ticket["linked"]
                if tickets[o]["kind"] == "change"
            )


def populate(peers: dict[str, Any], scale: str = "small") -> dict[str, Any]:
    faker = Faker("en_US")
    faker.seed_instance(5)
    rng = random.Random(5)
    seed = Tickets.populate(faker, rng, IdGenerator(rng), peers, SCALES[scale])
    tickets: dict[str, Any] = seed["tickets"]
    return tickets


def test_seeded_tickets_are_assigned_to_active_iam_employees() -> None:
    users = {
        "usr_1": {"id": "usr_1", "email": "ann@corp.example", "status": "active"},
        "usr_2": {"id": "usr_2", "email": "bob@corp.example", "status": "active"},
        "usr_3": {"id": "usr_3", "email": "eve@corp.example", "status": "suspended"},
    }
    tickets = populate({"iam": {"users": users}})
    assignees = {t["assignee"] for t in tickets.values() if t["status"] != "new"}
    assert assignees == {"ann@corp.example", "bob@corp.example"}


def test_without_iam_employees_tickets_are_assigned_to_people_at_the_company_domain() -> (
    None
):
    tickets = populate({})
    assignees = {t["assignee"] for t in tickets.values() if t["status"] != "new"}
    assert len(assignees) > 1
    assert all(a.endswith(f"@{DEFAULT_DOMAIN}") for a in assignees)


def test_a_large_world_seeds_five_thousand_tickets() -> None:
    tickets = populate({}, scale="large")
    assert len(tickets) == SCALES["large"].tickets == 5_000


@pytest.mark.parametrize("kind", KINDS)
def test_tickets_are_filtered_by_kind(door: Door, sim: RunSetup, kind: str) -> None:
    expected = {
        t["id"]
        for t in sim.world.service("tickets").state["tickets"].values()
        if t["kind"] == kind
    }
    answer = door.call("list_tickets", kind=kind, limit=100)
    assert answer.status == 200
    assert {t["id"] for t in answer.body["data"]} == expected


def test_reading_tickets_copies_nothing_into_the_run(door: Door, sim: RunSetup) -> None:
    table = sim.world.service("tickets").state["tickets"]
    before = set(table.changed)
    ticket = seeded(sim, "incident", "open")
    assert door.call("get_ticket", ticket=ticket["id"]).status == 200
    assert door.call("list_tickets", kind="incident", limit=100).status == 200
    assert set(table.changed) == before


# -- SLAs -----------------------------------------------------------------------------


@pytest.mark.parametrize("priority", list(SLA_HOURS))
def test_the_sla_deadlines_follow_the_priority(
    door: Door, ticket: dict[str, Any], priority: str
) -> None:
    answer = door.call("update_ticket", ticket=ticket["id"], priority=priority)
    first, resolve = SLA_HOURS[priority]
    assert answer.body["sla"] == {
        "first_response_due": ticket["created"] + first * 3600,
        "resolution_due": ticket["created"] + resolve * 3600,
        "breached": False,
    }


def test_a_ticket_without_a_reply_breaches_its_first_response_deadline(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    sim.world.clock.advance(6 * HOUR)
    assert door.call("get_ticket", ticket=ticket["id"]).body["sla"]["breached"] is False
    sim.world.clock.advance(2 * HOUR)
    assert door.call("get_ticket", ticket=ticket["id"]).body["sla"]["breached"] is True


def test_a_public_reply_in_time_meets_the_first_response_deadline(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    replied = now(sim)
    door.call("add_ticket_comment", ticket=ticket["id"], body="Looking into it.")
    sim.world.clock.advance(10 * HOUR)
    body = door.call("get_ticket", ticket=ticket["id"]).body
    assert body["first_response_at"] == replied
    assert body["sla"]["breached"] is False
    sim.world.clock.advance(62 * HOUR)
    body = door.call("get_ticket", ticket=ticket["id"]).body
    assert body["sla"]["breached"] is True, "unsolved past the resolution deadline"


def test_a_private_note_is_not_a_first_response(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    door.call("add_ticket_comment", ticket=ticket["id"], body="Note.", public=False)
    sim.world.clock.advance(8 * HOUR)
    body = door.call("get_ticket", ticket=ticket["id"]).body
    assert body["first_response_at"] is None
    assert body["sla"]["breached"] is True


def test_a_ticket_solved_in_time_stays_within_its_sla(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    solved_at = now(sim)
    solved = door.call("update_ticket", ticket=ticket["id"], status="solved").body
    assert solved["solved_at"] == solved_at
    sim.world.clock.advance(100 * HOUR)
    assert door.call("get_ticket", ticket=ticket["id"]).body["sla"]["breached"] is False


# -- closure rules ---------------------------------------------------------------------


@pytest.mark.parametrize("records", [INCIDENT_ON_OPEN_CHANGE], ids=["blocked"])
@pytest.mark.parametrize(("tool", "params", "status"), CLOSING, ids=CLOSING_IDS)
def test_an_incident_cannot_be_solved_or_closed_while_a_linked_change_is_open(
    door: Door, sim: RunSetup, tool: str, params: dict[str, Any], status: str
) -> None:
    incident, change = record(sim, "incident"), record(sim, "change")
    before = copy.deepcopy(live_ticket(sim, incident["id"]))
    answer = door.call(tool, ticket=incident["id"], resolution="Rolled back.", **params)
    assert answer.status == 409
    assert answer.body == {
        "error": {
            "code": "closure_prohibited",
            "message": f"Incident {incident['id']} cannot be {status} while linked "
            f"change {change['id']} is open; close the change first, or escalate.",
        }
    }
    assert len(sim.world.ledger) == 0
    assert live_ticket(sim, incident["id"]) == before


@pytest.mark.parametrize("records", [INCIDENT_ON_OPEN_CHANGE], ids=["blocked"])
def test_an_incident_closes_once_its_linked_change_is_closed(
    door: Door, sim: RunSetup
) -> None:
    incident, change = record(sim, "incident"), record(sim, "change")
    done = door.call("close_ticket", ticket=change["id"], resolution="Deployed.")
    assert (done.status, done.body["status"]) == (200, "closed")
    answer = door.call("close_ticket", ticket=incident["id"], resolution="Rolled back.")
    assert answer.status == 200
    assert (answer.body["status"], answer.body["resolution"]) == (
        "closed",
        "Rolled back.",
    )
    assert [e.business_key for e in sim.world.ledger] == [
        f"ticket:{change['id']}:close",
        f"ticket:{incident['id']}:close",
    ]
    last = list(sim.world.ledger)[-1]
    assert dict(last.params) == {"status": "closed", "resolution": "Rolled back."}
    assert (last.reversible, last.compensation) == (False, None)


PROBLEM_LINKED = {
    **RECORDS,
    "problem": {"service": "tickets", "kind": "problem"},
    "incident": {**INCIDENT, "linked": ["$problem.id"]},
}


@pytest.mark.parametrize("records", [PROBLEM_LINKED], ids=["problem-linked"])
def test_an_open_linked_problem_does_not_block_solving_an_incident(
    door: Door, sim: RunSetup
) -> None:
    incident = record(sim, "incident")
    answer = door.call(
        "update_ticket", ticket=incident["id"], status="solved", resolution="Patched."
    )
    assert (answer.status, answer.body["status"]) == (200, "solved")
    assert [e.business_key for e in sim.world.ledger] == [
        f"ticket:{incident['id']}:resolution,status"
    ]


@pytest.mark.parametrize(
    "records",
    [{**RECORDS, "itsm": {"service": "tickets", "kind": k}} for k in KINDS[1:]],
    ids=list(KINDS[1:]),
)
@pytest.mark.parametrize(("tool", "params", "status"), CLOSING, ids=CLOSING_IDS)
def test_solving_or_closing_an_incident_problem_or_change_needs_a_resolution(
    door: Door, sim: RunSetup, tool: str, params: dict[str, Any], status: str
) -> None:
    itsm = record(sim, "itsm")
    answer = door.call(tool, ticket=itsm["id"], **params)
    assert answer.status == 422
    assert answer.body == resolution_message(itsm, status)
    assert len(sim.world.ledger) == 0
    assert live_ticket(sim, itsm["id"])["status"] == "open"


@pytest.mark.parametrize(("tool", "params", "status"), CLOSING, ids=CLOSING_IDS)
def test_a_customer_question_is_solved_or_closed_without_a_resolution(
    door: Door,
    sim: RunSetup,
    ticket: dict[str, Any],
    tool: str,
    params: dict[str, Any],
    status: str,
) -> None:
    answer = door.call(tool, ticket=ticket["id"], **params)
    assert (answer.status, answer.body["status"]) == (200, status)
    assert answer.body["resolution"] is None
    assert len(sim.world.ledger) == 1


@pytest.mark.parametrize(
    "records", [{**RECORDS, "problem": {"service": "tickets", "kind": "problem"}}]
)
def test_a_resolution_already_on_the_ticket_lets_it_be_solved(
    door: Door, sim: RunSetup
) -> None:
    problem = record(sim, "problem")
    door.call("update_ticket", ticket=problem["id"], resolution="Root cause fixed.")
    answer = door.call("update_ticket", ticket=problem["id"], status="solved")
    assert (answer.status, answer.body["status"]) == (200, "solved")
    assert [e.business_key for e in sim.world.ledger] == [
        f"ticket:{problem['id']}:resolution",
        f"ticket:{problem['id']}:status",
    ]


def test_closing_a_ticket_records_its_resolution_and_solution_time(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    closed_at = now(sim)
    answer = door.call("close_ticket", ticket=ticket["id"], resolution="Refunded.")
    assert answer.status == 200
    assert {k: answer.body[k] for k in ("status", "resolution", "solved_at")} == {
        "status": "closed",
        "resolution": "Refunded.",
        "solved_at": closed_at,
    }
    [entry] = list(sim.world.ledger)
    assert (entry.operation, entry.business_key, entry.ref) == (
        "close_ticket",
        f"ticket:{ticket['id']}:close",
        ticket["id"],
    )
    assert live_ticket(sim, ticket["id"])["status"] == "closed"


def test_reopening_a_solved_ticket_clears_its_solution_time(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    assert (
        door.call("update_ticket", ticket=ticket["id"], status="solved").status == 200
    )
    answer = door.call("update_ticket", ticket=ticket["id"], status="open")
    assert (answer.status, answer.body["solved_at"]) == (200, None)
    assert len(sim.world.ledger) == 2


# -- links ----------------------------------------------------------------------------


@pytest.mark.parametrize("records", [INCIDENT_AND_CHANGE], ids=["unlinked"])
@pytest.mark.parametrize("side", ["incident", "change"])
def test_linking_two_tickets_records_it_on_both_under_one_key(
    door: Door, sim: RunSetup, side: str
) -> None:
    incident, change = record(sim, "incident"), record(sim, "change")
    one, other = (incident, change) if side == "incident" else (change, incident)
    answer = door.call("link_tickets", ticket=one["id"], linked_ticket=other["id"])
    assert answer.status == 200
    assert answer.body["linked"] == [other["id"]]
    assert live_ticket(sim, other["id"])["linked"] == [one["id"]]
    [entry] = list(sim.world.ledger)
    assert entry.business_key == link_key(incident["id"], change["id"])
    assert dict(entry.params) == {"ticket": one["id"], "linked_ticket": other["id"]}
    assert (entry.reversible, entry.compensation) == (True, "unlink_tickets")


@pytest.mark.parametrize("records", [INCIDENT_ON_OPEN_CHANGE], ids=["linked"])
def test_linking_tickets_that_are_already_linked_commits_nothing(
    door: Door, sim: RunSetup
) -> None:
    incident, change = record(sim, "incident"), record(sim, "change")
    answer = door.call(
        "link_tickets", ticket=change["id"], linked_ticket=incident["id"]
    )
    assert (answer.status, answer.body["linked"]) == (200, [incident["id"]])
    assert len(sim.world.ledger) == 0


def test_a_ticket_cannot_be_linked_to_itself(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call("link_tickets", ticket=ticket["id"], linked_ticket=ticket["id"])
    assert answer.status == 422
    assert answer.body == {
        "error": {
            "code": "invalid_link",
            "message": f"Ticket {ticket['id']} cannot be linked to itself.",
            "param": "linked_ticket",
        }
    }
    assert len(sim.world.ledger) == 0


def test_linking_an_unknown_ticket_is_a_404_not_found(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    answer = door.call("link_tickets", ticket=ticket["id"], linked_ticket="tkt_x")
    assert answer.status == 404
    assert answer.body == {
        "error": {
            "code": "not_found",
            "message": "No such ticket: 'tkt_x'",
            "param": "linked_ticket",
        }
    }
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize("records", [INCIDENT_ON_OPEN_CHANGE], ids=["linked"])
def test_unlinking_removes_the_link_from_both_and_unblocks_the_incident(
    door: Door, sim: RunSetup
) -> None:
    incident, change = record(sim, "incident"), record(sim, "change")
    answer = door.call(
        "unlink_tickets", ticket=incident["id"], linked_ticket=change["id"]
    )
    assert (answer.status, answer.body["linked"]) == (200, [])
    assert live_ticket(sim, change["id"])["linked"] == []
    [entry] = list(sim.world.ledger)
    assert entry.business_key == f"un{link_key(incident['id'], change['id'])}"
    assert (entry.reversible, entry.compensation) == (True, "link_tickets")
    closed = door.call("close_ticket", ticket=incident["id"], resolution="Fixed.")
    assert closed.status == 200


def test_unlinking_tickets_that_are_not_linked_is_a_404_not_linked(
    door: Door, sim: RunSetup, ticket: dict[str, Any]
) -> None:
    other = seeded(sim, "question", "open")
    answer = door.call("unlink_tickets", ticket=ticket["id"], linked_ticket=other["id"])
    assert answer.status == 404
    assert answer.body == {
        "error": {
            "code": "not_linked",
            "message": f"Ticket {ticket['id']} is not linked to {other['id']}.",
            "param": "linked_ticket",
        }
    }
    assert len(sim.world.ledger) == 0


# -- opening tickets --------------------------------------------------------------------


@pytest.mark.parametrize("records", [INCIDENT_AND_CHANGE], ids=["change"])
def test_an_agent_opens_an_incident_linked_to_a_change_and_it_is_ledgered(
    door: Door, sim: RunSetup
) -> None:
    change = record(sim, "change")
    opened_at = now(sim)
    answer = door.call(
        "create_ticket",
        subject="Checkout errors after the failover",
        description="502s since the deploy.",
        kind="incident",
        priority="urgent",
        linked=[change["id"]],
    )
    assert answer.status == 201
    body = answer.body
    identity = sim.identity.name
    assert {
        k: body[k]
        for k in ("object", "kind", "status", "priority", "linked", "requester")
    } == {
        "object": "ticket",
        "kind": "incident",
        "status": "new",
        "priority": "urgent",
        "linked": [change["id"]],
        "requester": {
            "name": identity,
            "email": f"{identity}@{world_domain(sim.world)}",
        },
    }
    assert body["sla"]["first_response_due"] == opened_at + 3600
    assert body["id"] in live_ticket(sim, change["id"])["linked"]
    [entry] = list(sim.world.ledger)
    content = fingerprint(
        {"subject": "Checkout errors after the failover", "customer": None}
    )
    assert entry.business_key == f"ticket:new:incident:{content}"
    assert (entry.operation, entry.ref) == ("create_ticket", body["id"])
    assert (entry.reversible, entry.compensation) == (True, "close_ticket")
    blocked = door.call("close_ticket", ticket=body["id"], resolution="Fixed.")
    assert blocked.body["error"]["code"] == "closure_prohibited"


def test_a_ticket_about_a_charge_is_filed_for_the_charges_customer(
    door: Door, sim: RunSetup
) -> None:
    charge = sim.world.records["charge"]
    customer = sim.world.service("payments").state["customers"][charge["customer"]]
    answer = door.call("create_ticket", subject="Refund request", charge=charge["id"])
    assert answer.status == 201
    assert (answer.body["customer"], answer.body["charge"]) == (
        customer["id"],
        charge["id"],
    )
    assert answer.body["requester"] == {
        "name": customer["name"],
        "email": customer["email"],
    }
    assert answer.body["kind"] == "question"


@pytest.mark.parametrize(
    ("param", "value", "message"),
    [
        ("charge", "ch_x", "No such charge: 'ch_x'"),
        ("customer", "cus_x", "No such customer: 'cus_x'"),
        ("linked", ["tkt_x"], "No such ticket: 'tkt_x'"),
    ],
)
def test_a_ticket_about_an_unknown_record_is_a_404_not_found(
    door: Door, sim: RunSetup, param: str, value: Any, message: str
) -> None:
    count = len(sim.world.service("tickets").state["tickets"])
    answer = door.call("create_ticket", subject="Help", **{param: value})
    assert answer.status == 404
    assert answer.body == {
        "error": {"code": "not_found", "message": message, "param": param}
    }
    assert len(sim.world.ledger) == 0
    assert len(sim.world.service("tickets").state["tickets"]) == count


def test_a_ticket_naming_a_charge_of_another_customer_is_a_422_customer_mismatch(
    door: Door, sim: RunSetup
) -> None:
    charge = sim.world.records["charge"]
    other = next(
        c
        for c in sim.world.service("payments").state["customers"].values()
        if c["id"] != charge["customer"]
    )
    answer = door.call(
        "create_ticket", subject="Refund", charge=charge["id"], customer=other["id"]
    )
    assert answer.status == 422
    assert answer.body == {
        "error": {
            "code": "customer_mismatch",
            "message": f"Charge {charge['id']} belongs to customer "
            f"{charge['customer']}, not {other['id']}; check which one the ticket "
            "is about.",
            "param": "customer",
        }
    }
    assert len(sim.world.ledger) == 0


def test_opening_the_same_ticket_twice_is_two_effects_under_one_key(
    door: Door, sim: RunSetup
) -> None:
    first = door.call("create_ticket", subject="Login page times out", kind="incident")
    again = door.call("create_ticket", subject="Login page times out", kind="incident")
    assert first.body["id"] != again.body["id"]
    [key] = {e.business_key for e in sim.world.ledger}
    assert len(sim.world.ledger.by_key(key)) == 2


def test_an_idempotency_key_replays_the_ticket_instead_of_opening_another(
    door: Door, sim: RunSetup
) -> None:
    first = door.call("create_ticket", idempotency_key="open-1", subject="Outage")
    again = door.call("create_ticket", idempotency_key="open-1", subject="Outage")
    assert (again.replayed, again.body["id"]) == (True, first.body["id"])
    assert len(sim.world.ledger) == 1


def test_a_ticket_without_a_subject_is_a_400_invalid_request(
    door: Door, sim: RunSetup
) -> None:
    answer = door.call("create_ticket", subject="")
    assert answer.status == 400
    assert answer.body == {
        "error": {
            "code": "invalid_request",
            "message": "subject must be longer than or equal to 1 characters",
            "param": "subject",
        }
    }
    assert len(sim.world.ledger) == 0


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {"kind": "ticket", "priority": "p1"},
            "priority 'p1' is not a ticket priority "
            "(choose one of: low, normal, high, urgent)",
        ),
        (
            {"kind": "incident", "linked": ["tkt_missing"]},
            "no ticket 'tkt_missing' to link (list the record it names above it)",
        ),
    ],
    ids=["priority", "link"],
)
def test_a_scenario_ticket_that_cannot_exist_is_refused(
    fields: dict[str, Any], problem: str
) -> None:
    spec = {
        "name": "bad_ticket",
        "rationale": "r",
        "task": {"instructions": "x", "input": {}},
        "world": {"records": {"t": {"service": "tickets", **fields}}},
    }
    with pytest.raises(HarnessError) as raised:
        prepare_run(unchecked(spec), seed=SEED)
    assert str(raised.value) == (
        f"scenario 'bad_ticket': cannot create record 't': {problem}"
    )


# -- isolation ----------------------------------------------------------------------------


def test_a_runs_closures_links_and_new_tickets_never_reach_the_seeded_helpdesk(
    door: Door, sim: RunSetup
) -> None:
    pristine = copy.deepcopy(dict(World(seed=SEED).service("tickets").state["tickets"]))
    tickets = sim.world.service("tickets").state["tickets"]
    incident = next(
        t
        for t in tickets.values()
        if t["kind"] == "incident"
        and t["status"] not in ("solved", "closed")
        and any(open_change(tickets[o]) for o in t["linked"])
    )
    changes = [o for o in incident["linked"] if open_change(tickets[o])]
    question = seeded(sim, "question", "open")
    calls: list[tuple[str, dict[str, Any]]] = [
        *(("close_ticket", {"ticket": c, "resolution": "Done."}) for c in changes),
        ("close_ticket", {"ticket": incident["id"], "resolution": "Done."}),
        ("link_tickets", {"ticket": question["id"], "linked_ticket": incident["id"]}),
        ("create_ticket", {"subject": "Follow-up", "linked": [question["id"]]}),
        ("add_ticket_comment", {"ticket": question["id"], "body": "Linked."}),
    ]
    for tool, params in calls:
        assert door.call(tool, **params).status in (200, 201), tool
    assert len(sim.world.ledger) == len(calls)
    after = dict(World(seed=SEED).service("tickets").state["tickets"])
    assert after == pristine
    assert tickets[incident["id"]]["status"] == "closed"
    assert after[incident["id"]]["status"] not in ("solved", "closed")
