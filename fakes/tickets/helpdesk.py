"""The helpdesk's vocabulary: ticket kinds, SLAs, contracts and the seeded tickets.

SLAs follow the priority: a ticket's first response and its resolution are due a
fixed time after it was created (urgent 1 h / 4 h, high 4 h / 24 h, normal 8 h /
72 h, low 24 h / 120 h). A ticket is *breached* when either deadline passed before
the event it waits for (a first public reply; solving the ticket).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from fakes import _schema as s
from fakes._company import staff
from fakes._vocab import vocabulary
from fakes.base import IdGenerator, Record, Seed, WorldScale
from fakes.people import People

if TYPE_CHECKING:
    from faker import Faker

HOUR = 3600
#: The simulated "today" every seeded world is built for (2026-01-01T00:00Z).
SEEDED_AT = 1_767_225_600

STATUSES = ("new", "open", "pending", "solved", "closed")
#: Statuses in which a ticket counts as done (its resolution clock stopped).
DONE = ("solved", "closed")
PRIORITIES = ("low", "normal", "high", "urgent")
KINDS = ("question", "incident", "problem", "change")
#: Kinds that need a resolution note to be solved or closed (ITIL records).
NEEDS_RESOLUTION = ("incident", "problem", "change")
#: Seconds from creation to the first-response and the resolution deadline.
SLA_TARGETS: dict[str, tuple[int, int]] = {
    "urgent": (1 * HOUR, 4 * HOUR),
    "high": (4 * HOUR, 24 * HOUR),
    "normal": (8 * HOUR, 72 * HOUR),
    "low": (24 * HOUR, 120 * HOUR),
}

SUBJECTS: dict[str, tuple[str, ...]] = {
    "question": (
        "Charged twice for my order",
        "Refund request",
        "Cannot log in",
        "Invoice shows the wrong amount",
        "Cancel my subscription",
        "Package never arrived",
    ),
    "incident": (
        "Checkout fails with a 502 error",
        "Card payments declined for EU customers",
        "Refunds stuck in pending",
        "Invoice emails are not delivered",
        "Login page times out",
        "Duplicate charges after a payment retry",
    ),
    "problem": (
        "Recurring payment gateway timeouts",
        "Intermittent webhook delivery failures",
        "Root cause of duplicate charges on retry",
    ),
    "change": (
        "Deploy payment gateway failover",
        "Rotate API credentials of the billing service",
        "Upgrade the orders database cluster",
        "Patch the login service",
        "Raise the checkout worker pool",
    ),
}
DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "incident": (
        "Customers report failures since this morning; the error rate is above 5%.",
        "Monitoring alerted on elevated latency; several customers wrote in.",
        "A customer escalated after repeated failures; others are likely affected.",
    ),
    "problem": (
        "Several incidents share this symptom; find and remove the root cause.",
        "Recurring incidents over the last weeks point to one underlying fault.",
    ),
    "change": (
        "Planned change with a rollback plan; scheduled in the maintenance window.",
        "Standard change approved by the change advisory board.",
        "Emergency change to stop an ongoing incident.",
    ),
}
RESOLUTIONS = (
    "Rolled back the faulty deployment; error rates are back to normal.",
    "Applied the configuration fix and verified with the affected customers.",
    "Change implemented and verified in production.",
    "Root cause fixed in the payment client; monitoring shows no recurrence.",
    "Duplicate of an earlier ticket; merged and answered there.",
)

_REQUESTER = s.obj(
    {"name": s.string("Name."), "email": s.string("Email.")},
    required=("name", "email"),
    description="Who asked: the customer, or the employee who opened it.",
)
SLA = s.obj(
    {
        "first_response_due": s.integer("Unix time the first public reply is due."),
        "resolution_due": s.integer("Unix time the ticket must be solved by."),
        "breached": s.boolean(
            "Whether a deadline passed before its event (now, or when it happened)."
        ),
    },
    required=("first_response_due", "resolution_due", "breached"),
    description="Service-level deadlines from the priority and the creation time.",
)
TICKET = s.obj(
    {
        "id": s.string("Ticket id (tkt_…)."),
        "object": {"const": "ticket"},
        "kind": s.enum(
            "question (a customer asks), incident (something is broken), problem "
            "(the cause of incidents) or change (planned work).",
            *KINDS,
        ),
        "subject": s.string("Subject line."),
        "description": s.string("What the requester wrote."),
        "status": s.enum("Ticket status.", *STATUSES),
        "priority": s.enum("Priority; it sets the SLA.", *PRIORITIES),
        "requester": _REQUESTER,
        "customer": s.nullable(s.string("Payments customer id (cus_…).")),
        "charge": s.nullable(s.string("Charge the ticket is about (ch_…).")),
        "assignee": s.nullable(s.string("Who works the ticket (an employee email).")),
        "tags": {"type": "array", "items": {"type": "string"}},
        "linked": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Ids of linked tickets (incidents link changes, problems).",
        },
        "resolution": s.nullable(s.string("How the ticket was resolved.")),
        "sla": SLA,
        "first_response_at": s.nullable(s.integer("Unix time of the first reply.")),
        "solved_at": s.nullable(s.integer("Unix time the ticket was solved.")),
        "comment_count": {"type": "integer"},
        "created": {"type": "integer"},
        "updated": {"type": "integer"},
    },
    required=(
        "id",
        "object",
        "kind",
        "subject",
        "status",
        "priority",
        "requester",
        "linked",
        "sla",
    ),
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


def sla(ticket: Mapping[str, Any], now: int) -> dict[str, Any]:
    """The ticket's SLA deadlines, and whether one was breached as of ``now``."""
    first, resolve = SLA_TARGETS[ticket["priority"]]
    created = int(ticket["created"])
    solved = ticket.get("solved_at")
    responded = ticket.get("first_response_at")
    response_end = responded if responded is not None else solved
    first_due, resolution_due = created + first, created + resolve
    breached = (now if response_end is None else response_end) > first_due or (
        now if solved is None else solved
    ) > resolution_due
    return {
        "first_response_due": first_due,
        "resolution_due": resolution_due,
        "breached": breached,
    }


def view(ticket: Record, now: int) -> Record:
    """The ticket as the API shows it: its SLA computed at ``now``."""
    current = sla(ticket, now)
    return ticket if current == ticket["sla"] else {**ticket, "sla": current}


def new_ticket(
    ident: str,
    created: int,
    *,
    kind: str = "question",
    subject: str,
    description: str,
    requester: dict[str, Any],
    customer: Any,
    charge: Any,
    status: str = "open",
    priority: str = "normal",
) -> Record:
    ticket: Record = {
        "id": ident,
        "object": "ticket",
        "kind": kind,
        "subject": subject,
        "description": description,
        "status": status,
        "priority": priority,
        "requester": requester,
        "customer": customer,
        "charge": charge,
        "assignee": None,
        "tags": [],
        "linked": [],
        "resolution": None,
        "sla": {},
        "first_response_at": None,
        "solved_at": None,
        "comment_count": 0,
        "created": created,
        "updated": created,
    }
    ticket["sla"] = sla(ticket, created)
    return ticket


def link(one: Record, other: Record) -> None:
    """Record a link on both tickets (both must be writable)."""
    if other["id"] not in one["linked"]:
        one["linked"].append(other["id"])
    if one["id"] not in other["linked"]:
        other["linked"].append(one["id"])


def seed_tickets(
    faker: Faker,
    rng: random.Random,
    ids: IdGenerator,
    peers: Mapping[str, Seed],
    scale: WorldScale,
) -> dict[str, Record]:
    """``scale.tickets`` tickets of every kind, customer questions first.

    Every ticket names a real customer and charge of the payments world (incidents,
    problems and changes are raised from a customer's report). Some open incidents
    link open changes, so closure rules have something to refuse.
    """
    charges = list(peers.get("payments", {}).get("charges", {}).values())
    customers = peers.get("payments", {}).get("customers", {})
    questions = rng.sample(vocabulary().paragraphs, 20)
    people = People(faker, rng, pool=40)
    assignees = staff(faker, rng, peers, 12)
    kinds = rng.choices(KINDS, weights=(70, 15, 5, 10), k=scale.tickets)
    tickets: list[Record] = []
    for kind in kinds:
        charge = rng.choice(charges) if charges else None
        customer = customers.get(charge["customer"]) if charge else None
        requester = (
            {"name": customer["name"], "email": customer["email"]}
            if customer
            else {"name": (p := people.person()).name, "email": p.email}
        )
        status = rng.choice(STATUSES)
        # Work in progress is recent; finished work spreads over two months.
        age = rng.randrange(1, (60 * 24) if status in DONE else (5 * 24))
        ticket = new_ticket(
            ids.new("tkt", 12),
            SEEDED_AT - age * HOUR,
            kind=kind,
            subject=rng.choice(SUBJECTS[kind]),
            description=rng.choice(DESCRIPTIONS.get(kind, questions)),
            requester=requester,
            customer=customer["id"] if customer else None,
            charge=charge["id"] if charge else None,
            status=status,
            priority=rng.choice(
                PRIORITIES if kind == "question" else ("normal", "high", "urgent")
            ),
        )
        _history(ticket, rng, assignees)
        tickets.append(ticket)
    _link_incidents(tickets, rng)
    for ticket in tickets:
        ticket["sla"] = sla(ticket, SEEDED_AT)
    ordered = sorted(tickets, key=lambda t: t["kind"] != "question")
    return {t["id"]: t for t in ordered}


def _history(ticket: Record, rng: random.Random, assignees: list[str]) -> None:
    """Assignee, first reply, solution and resolution consistent with the status."""
    if ticket["status"] == "new":
        return
    created = ticket["created"]
    ticket["assignee"] = rng.choice(assignees) if assignees else None
    responded = min(created + rng.randrange(300, 10 * HOUR), SEEDED_AT)
    ticket["first_response_at"] = responded
    ticket["updated"] = responded
    if ticket["status"] in DONE:
        solved = min(responded + rng.randrange(HOUR, 96 * HOUR), SEEDED_AT)
        ticket["solved_at"] = ticket["updated"] = solved
        if ticket["kind"] in NEEDS_RESOLUTION:
            ticket["resolution"] = rng.choice(RESOLUTIONS)


def _link_incidents(tickets: list[Record], rng: random.Random) -> None:
    """Link incidents to changes and problems without breaking the closure rules."""
    changes = [t for t in tickets if t["kind"] == "change"]
    open_changes = [t for t in changes if t["status"] != "closed"]
    closed_changes = [t for t in changes if t["status"] == "closed"]
    problems = [t for t in tickets if t["kind"] == "problem"]
    incidents = [t for t in tickets if t["kind"] == "incident"]
    for incident in incidents:
        done = incident["status"] in DONE
        pool = closed_changes if done else changes
        if pool and rng.random() < 0.5:
            link(incident, rng.choice(pool))
        if problems and rng.random() < 0.3:
            link(incident, rng.choice(problems))
    open_ids = {c["id"] for c in open_changes}
    blocked = any(open_ids.intersection(i["linked"]) for i in incidents)
    active = [i for i in incidents if i["status"] not in DONE]
    if not blocked and active and open_changes:
        link(active[0], open_changes[0])
