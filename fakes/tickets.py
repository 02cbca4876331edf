"""Helpdesk tickets with comments, status and assignee.

Rules: a closed ticket cannot be changed or commented on (409 ``ticket_closed``);
updates that change nothing commit nothing; every comment is a ledgered effect, so
posting the same comment twice shows up as a duplicate.
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
    Record,
    Reply,
    Seed,
    WorldScale,
    fingerprint,
    operation,
    paginate,
)
from fakes.people import People, Person

if TYPE_CHECKING:
    from faker import Faker

STATUSES = ("new", "open", "pending", "solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
SUBJECTS = (
    "Charged twice for my order",
    "Refund request",
    "Cannot log in",
    "Invoice shows the wrong amount",
    "Cancel my subscription",
    "Package never arrived",
)

TICKET = s.obj(
    {
        "id": s.string("Ticket id (tkt_…)."),
        "object": {"const": "ticket"},
        "subject": s.string("Subject line."),
        "description": s.string("What the requester wrote."),
        "status": s.enum("Ticket status.", *STATUSES),
        "priority": s.enum("Priority.", *PRIORITIES),
        "requester": s.obj(
            {"name": s.string("Name."), "email": s.string("Email.")},
            required=("name", "email"),
        ),
        "customer": s.nullable(s.string("Payments customer id (cus_…).")),
        "charge": s.nullable(s.string("Charge the ticket is about (ch_…).")),
        "assignee": s.nullable(s.string("Who works the ticket.")),
        "tags": {"type": "array", "items": {"type": "string"}},
        "comment_count": {"type": "integer"},
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
    },
    required=("id", "object", "subject", "status", "priority", "requester"),
)
COMMENT = s.obj(
    {
        "id": s.string("Comment id (cmt_…)."),
        "object": {"const": "comment"},
        "ticket": s.string("Ticket id."),
        "author": s.string("Who wrote it."),
        "body": s.string("Text."),
        "public": s.boolean("Visible to the requester."),
        "created": {"type": "integer"},
    },
    required=("id", "object", "ticket", "body", "public", "created"),
)


class Tickets(FakeService):
    """The helpdesk: tickets and their comments."""

    name: ClassVar[str] = "tickets"
    hosts: ClassVar[tuple[str, ...]] = ("tickets.sim",)
    record_kinds: ClassVar[tuple[str, ...]] = ("ticket",)
    collections: ClassVar[tuple[str, ...]] = ("tickets", "comments")

    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        state: Seed = {name: {} for name in cls.collections}
        charges = list(peers.get("payments", {}).get("charges", {}).values())
        customers = peers.get("payments", {}).get("customers", {})
        descriptions = [faker.paragraph(nb_sentences=3) for _ in range(20)]
        people = People(faker, rng, pool=40)
        for _ in range(scale.tickets):
            charge = rng.choice(charges) if charges else None
            customer = customers.get(charge["customer"]) if charge else None
            requester = (
                {"name": customer["name"], "email": customer["email"]}
                if customer
                else _requester(people.person())
            )
            ticket = _ticket(
                ids.new("tkt", 12),
                1_767_225_600 - rng.randrange(1, 60) * 86_400,
                subject=rng.choice(SUBJECTS),
                description=rng.choice(descriptions),
                requester=requester,
                customer=customer["id"] if customer else None,
                charge=charge["id"] if charge else None,
            )
            ticket["status"] = rng.choice(STATUSES)
            ticket["priority"] = rng.choice(PRIORITIES)
            state["tickets"][ticket["id"]] = ticket
        return state

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        if kind != "ticket":
            raise self.unknown_kind(kind)
        faker, now = self.world.faker, int(self.world.clock.epoch())
        charge_id = fields.get("charge")
        payments = self.world.services.get("payments")
        charge = (
            payments.state["charges"].get(str(charge_id))
            if payments is not None and charge_id is not None
            else None
        )
        customer = (
            payments.state["customers"].get(charge["customer"])
            if payments is not None and charge is not None
            else None
        )
        ticket = _ticket(
            self.world.ids.new("tkt", 12),
            now - 3600,
            subject=str(fields.get("subject", "Refund request")),
            description=str(fields.get("description", faker.paragraph(nb_sentences=2))),
            requester={
                "name": customer["name"] if customer else faker.name(),
                "email": customer["email"] if customer else faker.email(),
            },
            customer=customer["id"] if customer else fields.get("customer"),
            charge=charge_id,
        )
        for key in ("status", "priority", "assignee", "tags"):
            if key in fields:
                ticket[key] = fields[key]
        self.state["tickets"][ticket["id"]] = ticket
        return ticket

    def _ticket(self, ident: str) -> Record:
        ticket = self.state["tickets"].get(ident)
        if ticket is None:
            raise self.error(
                404, "not_found", f"No such ticket: '{ident}'", param="ticket"
            )
        return ticket

    def _writable(self, ident: str) -> Record:
        ticket = self._ticket(ident)
        if ticket["status"] == "closed":
            raise self.error(
                409,
                "ticket_closed",
                f"Ticket {ident} is closed; closed tickets cannot be changed.",
            )
        return self.state["tickets"].writable(ident)

    @operation(
        "GET",
        "/v1/tickets/{ticket}",
        tool="get_ticket",
        summary="Read a helpdesk ticket: subject, description, requester, status.",
        request=s.by_id("ticket", "Ticket id (tkt_…)."),
        response=TICKET,
    )
    def get_ticket(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=self._ticket(params["ticket"]))

    @operation(
        "GET",
        "/v1/tickets",
        tool="list_tickets",
        summary="List tickets, newest first; filter by status or customer.",
        request=s.paging(
            status=s.enum("Only tickets in this status.", *STATUSES),
            customer=s.string("Only tickets of this customer."),
        ),
        response=s.list_of(TICKET),
    )
    def list_tickets(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters: dict[str, Any] = {
            k: params[k] for k in ("status", "customer") if k in params
        }
        rows = self.query("tickets", filters)
        return Reply(status=200, body=paginate(rows, params, "/v1/tickets"))

    @operation(
        "PATCH",
        "/v1/tickets/{ticket}",
        tool="update_ticket",
        summary="Change a ticket's status, priority, assignee or tags.",
        request=s.obj(
            {
                "ticket": s.string("Ticket id (tkt_…)."),
                "status": s.enum("New status.", *STATUSES),
                "priority": s.enum("New priority.", *PRIORITIES),
                "assignee": s.string("Who works the ticket."),
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Replace the tags.",
                },
            },
            required=("ticket",),
        ),
        response=TICKET,
        action="tickets.update",
        write=True,
    )
    def update_ticket(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ticket = self._writable(params["ticket"])
        changes = {
            k: v for k, v in params.items() if k != "ticket" and ticket.get(k) != v
        }
        if changes:
            ticket.update(changes)
            ticket["updated"] = ctx.now
            ctx.commit(
                business_key=f"ticket:{ticket['id']}:{','.join(sorted(changes))}",
                params=changes,
                ref=ticket["id"],
            )
        return Reply(status=200, body=ticket)

    @operation(
        "POST",
        "/v1/tickets/{ticket}/comments",
        tool="add_ticket_comment",
        summary="Add a comment to a ticket (public replies reach the requester).",
        request=s.obj(
            {
                "ticket": s.string("Ticket id (tkt_…)."),
                "body": s.string("Comment text.", minLength=1),
                "public": s.boolean("Visible to the requester (default true)."),
            },
            required=("ticket", "body"),
        ),
        response=COMMENT,
        status=201,
        action="tickets.comment",
        write=True,
    )
    def add_ticket_comment(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ticket = self._writable(params["ticket"])
        comment: Record = {
            "id": ctx.new_id("cmt", 12),
            "object": "comment",
            "ticket": ticket["id"],
            "author": ctx.identity,
            "body": params["body"],
            "public": bool(params.get("public", True)),
            "created": ctx.now,
        }
        self.state["comments"][comment["id"]] = comment
        ticket["comment_count"] += 1
        ticket["updated"] = ctx.now
        content = fingerprint({"body": params["body"]})
        ctx.commit(
            business_key=f"comment:{ticket['id']}:{content}",
            params={"ticket": ticket["id"], "body": params["body"]},
            ref=comment["id"],
        )
        return Reply(status=201, body=comment)

    @operation(
        "GET",
        "/v1/tickets/{ticket}/comments",
        tool="list_ticket_comments",
        summary="List a ticket's comments, newest first.",
        request=s.paging(ticket=s.string("Ticket id (tkt_…)."))
        | {"required": ["ticket"]},
        response=s.list_of(COMMENT),
    )
    def list_ticket_comments(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ticket = self._ticket(params["ticket"])
        rows = list(self.state["comments"].where("ticket", ticket["id"]))
        return Reply(
            status=200,
            body=paginate(rows, params, f"/v1/tickets/{ticket['id']}/comments"),
        )


def _ticket(
    ident: str,
    created: int,
    *,
    subject: str,
    description: str,
    requester: dict[str, Any],
    customer: Any,
    charge: Any,
) -> Record:
    return {
        "id": ident,
        "object": "ticket",
        "subject": subject,
        "description": description,
        "status": "open",
        "priority": "normal",
        "requester": requester,
        "customer": customer,
        "charge": charge,
        "assignee": None,
        "tags": [],
        "comment_count": 0,
        "created": created,
        "updated": created,
    }


def _requester(person: Person) -> dict[str, Any]:
    return {"name": person.name, "email": person.email}
