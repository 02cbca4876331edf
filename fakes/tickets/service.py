"""The helpdesk: questions, incidents, problems and changes, with SLAs and links.

Rules: a closed ticket cannot be changed or commented on (409 ``ticket_closed``),
so it cannot be reopened either; updates that change nothing commit nothing; every
comment is a ledgered effect, so posting the same comment twice shows up as a
duplicate. Solving or closing an incident, problem or change needs a resolution
note (422 ``resolution_required``), and an incident cannot be solved or closed
while a change linked to it is not closed (409 ``closure_prohibited``). Customer
questions may be solved without a note.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes._company import world_domain
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
from fakes.lazy import SeedContext, populate_lazily
from fakes.tickets.helpdesk import (
    COMMENT,
    DONE,
    KINDS,
    NEEDS_RESOLUTION,
    PRIORITIES,
    STATUSES,
    TICKET,
    link,
    new_ticket,
    seed_tickets_lazily,
    sla,
    view,
)

if TYPE_CHECKING:
    from faker import Faker

_TICKET_ID = s.string("Ticket id (tkt_…).")
_RESOLUTION = s.string(
    "How the ticket was resolved (required to solve or close an incident, "
    "problem or change).",
    minLength=1,
)
_TAGS = {"type": "array", "items": {"type": "string"}, "description": "The tags."}


class Tickets(FakeService):
    """The helpdesk: tickets and their comments.

    Scenario records: ``ticket`` (a customer question) or ``incident``,
    ``problem``, ``change``, with optional ``subject``, ``description``, ``charge``,
    ``customer``, ``status``, ``priority``, ``assignee``, ``tags``, ``resolution``,
    ``created`` (Unix time; default an hour ago) and ``linked`` (ids of tickets
    created before it, e.g. ``[$change.id]``).
    """

    name: ClassVar[str] = "tickets"
    hosts: ClassVar[tuple[str, ...]] = ("tickets.sim",)
    #: ``ticket`` makes a customer question; the others a ticket of that kind.
    record_kinds: ClassVar[tuple[str, ...]] = ("ticket", *KINDS)
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = dict.fromkeys(
        record_kinds,
        s.scenario_fields(
            TICKET,
            (
                "subject",
                "description",
                "status",
                "priority",
                "charge",
                "customer",
                "created",
                "assignee",
                "resolution",
                "tags",
                "linked",
            ),
            linked={
                "type": ["string", "array"],
                "items": {"type": "string"},
                "description": "The ticket (or list of tickets) it is linked to.",
            },
        ),
    )
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
        return populate_lazily(cls, rng, peers, scale)

    @classmethod
    def seed_lazily(cls, ctx: SeedContext) -> Mapping[str, Mapping[str, Record]]:
        return {"tickets": seed_tickets_lazily(ctx), "comments": {}}

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        if kind not in self.record_kinds:
            raise self.unknown_kind(kind)
        self.check_record_fields(kind, fields)
        ticket_kind = "question" if kind == "ticket" else kind
        faker, now = self.world.faker, int(self.world.clock.epoch())
        for field, choices in (("status", STATUSES), ("priority", PRIORITIES)):
            if field in fields and fields[field] not in choices:
                raise ValueError(
                    f"{field} {fields[field]!r} is not a ticket {field} "
                    f"(choose one of: {', '.join(choices)})"
                )
        charge_id = fields.get("charge")
        _, customer = self._payer(charge_id)
        ticket = new_ticket(
            self.world.ids.new("tkt", 12),
            int(fields.get("created", now - 3600)),
            kind=ticket_kind,
            subject=str(fields.get("subject", "Refund request")),
            description=str(fields.get("description", faker.paragraph(nb_sentences=2))),
            requester={
                "name": customer["name"] if customer else faker.name(),
                "email": customer["email"] if customer else faker.email(),
            },
            customer=customer["id"] if customer else fields.get("customer"),
            charge=charge_id,
        )
        for key in ("status", "priority", "assignee", "resolution"):
            if key in fields:
                ticket[key] = fields[key]
        ticket["tags"] = list(fields.get("tags", ()))
        if ticket["status"] in DONE:
            ticket["solved_at"] = now
        linked = fields.get("linked", ())
        for other in [linked] if isinstance(linked, str) else linked:
            if str(other) not in self.state["tickets"]:
                raise LookupError(
                    f"no ticket {other!r} to link (list the record it names above it)"
                )
            link(ticket, self.state["tickets"].writable(str(other)))
        ticket["sla"] = sla(ticket, now)
        self.state["tickets"][ticket["id"]] = ticket
        return ticket

    # -- reading and guarding ----------------------------------------------------
    def _payer(self, charge_id: Any) -> tuple[Record | None, Record | None]:
        """The payments charge and its customer, when the charge exists."""
        payments = self.world.services.get("payments")
        if payments is None or charge_id is None:
            return None, None
        charge = payments.state["charges"].get(str(charge_id))
        if charge is None:
            return None, None
        return charge, payments.state["customers"].get(charge["customer"])

    def _customer(self, ident: str) -> Record:
        return self.get_or_404("customers", ident, param="customer", owner="payments")

    def _ticket(self, ident: str, param: str = "ticket") -> Record:
        return self.get_or_404("tickets", ident, param=param)

    def _open(self, ident: str) -> Record:
        """The ticket, if it may still change (read-only: take ``writable`` next)."""
        ticket = self._ticket(ident)
        if ticket["status"] == "closed":
            raise self.error(
                409,
                "ticket_closed",
                f"Ticket {ident} is closed; closed tickets cannot be changed.",
            )
        return ticket

    def _check_closure(
        self, ticket: Record, status: str, resolution: str | None
    ) -> None:
        """The rules for solving or closing a ticket."""
        if status not in DONE:
            return
        kind = ticket["kind"]
        if kind == "incident":
            for other in ticket["linked"]:
                change = self.state["tickets"].get(other)
                if (
                    change is not None
                    and change["kind"] == "change"
                    and change["status"] != "closed"
                ):
                    raise self.error(
                        409,
                        "closure_prohibited",
                        f"Incident {ticket['id']} cannot be {status} while linked "
                        f"change {change['id']} is {change['status']}; close the "
                        "change first, or escalate.",
                    )
        if kind in NEEDS_RESOLUTION and not (resolution or ticket["resolution"]):
            raise self.error(
                422,
                "resolution_required",
                f"Ticket {ticket['id']} is {_article(kind)} {kind}: setting it to "
                f"{status} needs a resolution note; pass resolution saying what "
                "fixed it.",
                param="resolution",
            )

    def _apply(self, ticket: Record, changes: Mapping[str, Any], now: int) -> None:
        """Change a writable ticket; keep its solution time and SLA consistent."""
        if "status" in changes:
            if changes["status"] in DONE and ticket["status"] not in DONE:
                ticket["solved_at"] = now
            elif changes["status"] not in DONE:
                ticket["solved_at"] = None
        ticket.update(changes)
        ticket["updated"] = now
        ticket["sla"] = sla(ticket, now)

    # -- tickets -------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/tickets/{ticket}",
        tool="get_ticket",
        summary=(
            "Read a helpdesk ticket: kind, subject, description, requester, status, "
            "SLA and linked tickets."
        ),
        request=s.by_id("ticket", "Ticket id (tkt_…)."),
        response=TICKET,
    )
    def get_ticket(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(status=200, body=view(self._ticket(params["ticket"]), ctx.now))

    @operation(
        "GET",
        "/v1/tickets",
        tool="list_tickets",
        summary=(
            "List tickets, newest first; filter by status, kind, priority, "
            "assignee or customer."
        ),
        request=s.paging(
            status=s.enum("Only tickets in this status.", *STATUSES),
            kind=s.enum("Only tickets of this kind.", *KINDS),
            priority=s.enum("Only tickets of this priority.", *PRIORITIES),
            assignee=s.string("Only tickets assigned to this employee."),
            customer=s.string("Only tickets of this customer."),
        ),
        response=s.list_of(TICKET),
    )
    def list_tickets(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        fields = ("status", "kind", "priority", "assignee", "customer")
        rows = self.query("tickets", {k: params[k] for k in fields if k in params})
        page = paginate(rows, params, "/v1/tickets")
        page["data"] = [view(t, ctx.now) for t in page["data"]]
        return Reply(status=200, body=page)

    @operation(
        "POST",
        "/v1/tickets",
        tool="create_ticket",
        summary=(
            "Open a ticket: a question, an incident, a problem or a change, "
            "optionally linked to existing tickets."
        ),
        request=s.obj(
            {
                "subject": s.string("Subject line.", minLength=1),
                "description": s.string("What happened, or what is planned."),
                "kind": s.enum("Ticket kind (default question).", *KINDS),
                "priority": s.enum("Priority (default normal).", *PRIORITIES),
                "customer": s.string("Payments customer id (cus_…) it is about."),
                "charge": s.string("Charge id (ch_…) it is about."),
                "assignee": s.string("Who works the ticket (an employee email)."),
                "tags": _TAGS,
                "linked": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "Ids of tickets to link (e.g. the incident's "
                    "change).",
                },
            },
            required=("subject",),
        ),
        response=TICKET,
        status=201,
        action="tickets.create",
        write=True,
        idempotent=True,
        reversible=True,
        compensation="close_ticket",
    )
    def create_ticket(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        tickets = self.state["tickets"]
        charge, customer = self._payer(params.get("charge"))
        if "charge" in params and charge is None:
            raise self.error(
                404,
                "not_found",
                f"No such charge: '{params['charge']}'",
                param="charge",
            )
        if "customer" in params:
            named = self._customer(params["customer"])
            if customer is not None and named["id"] != customer["id"]:
                raise self.error(
                    422,
                    "customer_mismatch",
                    f"Charge {params['charge']} belongs to customer "
                    f"{customer['id']}, not {named['id']}; check which one the "
                    "ticket is about.",
                    param="customer",
                )
            customer = named
        linked = list(dict.fromkeys(params.get("linked", ())))
        for other in linked:
            self._ticket(other, param="linked")
        requester = (
            {"name": customer["name"], "email": customer["email"]}
            if customer
            else {
                "name": ctx.identity,
                "email": f"{ctx.identity}@{world_domain(self.world)}",
            }
        )
        ticket = new_ticket(
            ctx.new_id("tkt", 12),
            ctx.now,
            kind=params.get("kind", "question"),
            subject=params["subject"],
            description=params.get("description", ""),
            requester=requester,
            customer=customer["id"] if customer else None,
            charge=charge["id"] if charge else None,
            status="open" if "assignee" in params else "new",
            priority=params.get("priority", "normal"),
        )
        ticket["assignee"] = params.get("assignee")
        ticket["tags"] = list(params.get("tags", []))
        for other in linked:
            link(ticket, tickets.writable(other))
        tickets[ticket["id"]] = ticket
        content = fingerprint(
            {"subject": ticket["subject"], "customer": ticket["customer"]}
        )
        ctx.commit(
            business_key=f"ticket:new:{ticket['kind']}:{content}",
            params=params,
            ref=ticket["id"],
        )
        return Reply(status=201, body=ticket)

    @operation(
        "PATCH",
        "/v1/tickets/{ticket}",
        tool="update_ticket",
        summary=(
            "Change a ticket's status, priority, assignee, tags or resolution. "
            "Solving or closing an incident, problem or change needs a resolution; "
            "a closed ticket is final."
        ),
        request=s.obj(
            {
                "ticket": _TICKET_ID,
                "status": s.enum("New status.", *STATUSES),
                "priority": s.enum(
                    "New priority (moves the SLA deadlines).", *PRIORITIES
                ),
                "assignee": s.string("Who works the ticket."),
                "tags": {**_TAGS, "description": "Replace the tags."},
                "resolution": _RESOLUTION,
            },
            required=("ticket",),
        ),
        response=TICKET,
        action="tickets.update",
        write=True,
        reversible=True,
        compensation="update_ticket",
    )
    def update_ticket(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        current = self._open(params["ticket"])
        changes = {
            k: v for k, v in params.items() if k != "ticket" and current.get(k) != v
        }
        if "status" in changes:
            self._check_closure(current, changes["status"], params.get("resolution"))
        if changes:
            ticket = self.state["tickets"].writable(current["id"])
            self._apply(ticket, changes, ctx.now)
            ctx.commit(
                business_key=f"ticket:{ticket['id']}:{','.join(sorted(changes))}",
                params=changes,
                ref=ticket["id"],
            )
            current = ticket
        return Reply(status=200, body=view(current, ctx.now))

    @operation(
        "POST",
        "/v1/tickets/{ticket}/close",
        tool="close_ticket",
        summary=(
            "Close a ticket for good, with a resolution note (required for "
            "incidents, problems and changes). A closed ticket cannot be reopened."
        ),
        request=s.obj(
            {"ticket": _TICKET_ID, "resolution": _RESOLUTION},
            required=("ticket",),
        ),
        response=TICKET,
        action="tickets.close",
        write=True,
        reversible=False,
    )
    def close_ticket(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        current = self._open(params["ticket"])
        self._check_closure(current, "closed", params.get("resolution"))
        ticket = self.state["tickets"].writable(current["id"])
        changes: dict[str, Any] = {"status": "closed"}
        if "resolution" in params:
            changes["resolution"] = params["resolution"]
        self._apply(ticket, changes, ctx.now)
        ctx.commit(
            business_key=f"ticket:{ticket['id']}:close",
            params=changes,
            ref=ticket["id"],
        )
        return Reply(status=200, body=view(ticket, ctx.now))

    # -- links -----------------------------------------------------------------------
    @operation(
        "POST",
        "/v1/tickets/{ticket}/links",
        tool="link_tickets",
        summary=(
            "Link two tickets (both sides record it): an incident to the change "
            "or problem behind it."
        ),
        request=s.obj(
            {
                "ticket": _TICKET_ID,
                "linked_ticket": s.string("The ticket to link to it (tkt_…)."),
            },
            required=("ticket", "linked_ticket"),
        ),
        response=TICKET,
        action="tickets.link",
        write=True,
        reversible=True,
        compensation="unlink_tickets",
    )
    def link_tickets(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        current, other = self._pair(params)
        if other["id"] in current["linked"]:
            return Reply(status=200, body=view(current, ctx.now))
        tickets = self.state["tickets"]
        ticket, linked = tickets.writable(current["id"]), tickets.writable(other["id"])
        link(ticket, linked)
        for changed in (ticket, linked):
            changed["updated"] = ctx.now
        ctx.commit(
            business_key=f"link:{':'.join(sorted((ticket['id'], linked['id'])))}",
            params={"ticket": ticket["id"], "linked_ticket": linked["id"]},
            ref=ticket["id"],
        )
        return Reply(status=200, body=view(ticket, ctx.now))

    @operation(
        "DELETE",
        "/v1/tickets/{ticket}/links/{linked_ticket}",
        tool="unlink_tickets",
        summary="Remove the link between two tickets.",
        request=s.obj(
            {
                "ticket": _TICKET_ID,
                "linked_ticket": s.string("The linked ticket to unlink (tkt_…)."),
            },
            required=("ticket", "linked_ticket"),
        ),
        response=TICKET,
        action="tickets.unlink",
        write=True,
        reversible=True,
        compensation="link_tickets",
    )
    def unlink_tickets(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        current, other = self._pair(params)
        if other["id"] not in current["linked"]:
            raise self.error(
                404,
                "not_linked",
                f"Ticket {current['id']} is not linked to {other['id']}.",
                param="linked_ticket",
            )
        tickets = self.state["tickets"]
        ticket, linked = tickets.writable(current["id"]), tickets.writable(other["id"])
        ticket["linked"].remove(linked["id"])
        if ticket["id"] in linked["linked"]:
            linked["linked"].remove(ticket["id"])
        for changed in (ticket, linked):
            changed["updated"] = ctx.now
        ctx.commit(
            business_key=f"unlink:{':'.join(sorted((ticket['id'], linked['id'])))}",
            params={"ticket": ticket["id"], "linked_ticket": linked["id"]},
            ref=ticket["id"],
        )
        return Reply(status=200, body=view(ticket, ctx.now))

    def _pair(self, params: Mapping[str, Any]) -> tuple[Record, Record]:
        """The ticket (not closed) and the other end of its link (any status)."""
        other = self._ticket(params["linked_ticket"], param="linked_ticket")
        current = self._open(params["ticket"])
        if other["id"] == current["id"]:
            raise self.error(
                422,
                "invalid_link",
                f"Ticket {current['id']} cannot be linked to itself.",
                param="linked_ticket",
            )
        return current, other

    # -- comments ----------------------------------------------------------------------
    @operation(
        "POST",
        "/v1/tickets/{ticket}/comments",
        tool="add_ticket_comment",
        summary="Add a comment to a ticket (public replies reach the requester).",
        request=s.obj(
            {
                "ticket": _TICKET_ID,
                "body": s.string("Comment text.", minLength=1),
                "public": s.boolean("Visible to the requester (default true)."),
            },
            required=("ticket", "body"),
        ),
        response=COMMENT,
        status=201,
        action="tickets.comment",
        write=True,
        reversible=False,
    )
    def add_ticket_comment(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ticket = self.state["tickets"].writable(self._open(params["ticket"])["id"])
        public = bool(params.get("public", True))
        comment: Record = {
            "id": ctx.new_id("cmt", 12),
            "object": "comment",
            "ticket": ticket["id"],
            "author": ctx.identity,
            "body": params["body"],
            "public": public,
            "created": ctx.now,
        }
        self.state["comments"][comment["id"]] = comment
        ticket["comment_count"] += 1
        if public and ticket["first_response_at"] is None:
            ticket["first_response_at"] = ctx.now
        self._apply(ticket, {}, ctx.now)
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
        request=s.paging(ticket=_TICKET_ID) | {"required": ["ticket"]},
        response=s.list_of(COMMENT),
    )
    def list_ticket_comments(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ticket = self._ticket(params["ticket"])
        rows = list(self.state["comments"].where("ticket", ticket["id"]))
        return Reply(
            status=200,
            body=paginate(rows, params, f"/v1/tickets/{ticket['id']}/comments"),
        )


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"
