"""The helpdesk's vocabulary: ticket kinds, SLAs, contracts and the seeded tickets.

SLAs follow the priority: a ticket's first response and its resolution are due a
fixed time after it was created (urgent 1 h / 4 h, high 4 h / 24 h, normal 8 h /
72 h, low 24 h / 120 h). A ticket is *breached* when either deadline passed before
the event it waits for (a first public reply; solving the ticket).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fakes import _schema as s
from fakes._company import sampled_staff, staff
from fakes._vocab import vocabulary
from fakes.base import Record
from fakes.lazy import Draws, LazyRecords, SeedContext, slotted
from fakes.people import seeded_person

if TYPE_CHECKING:
    import numpy as np

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


def _history(
    ticket: Record, rng: random.Random | Draws, assignees: Sequence[str]
) -> None:
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


# -- the lazily made helpdesk ------------------------------------------------------

#: Questions, incidents, changes and problems, in shares of 100 (cumulative).
_KIND_WEIGHTS = (70, 85, 90, 100)


def seed_tickets_lazily(ctx: SeedContext) -> LazyRecords:
    """``scale.tickets`` tickets, customer questions first, each made when read.

    The skeleton holds each ticket's kind, status and charge (so its customer)
    and the links between incidents, changes and problems, drawn as
    :func:`seed_tickets` drew them.
    """
    import numpy as np  # seeding a world needs it; reading scenarios does not

    weights = np.array(_KIND_WEIGHTS, dtype=np.uint64)
    count = ctx.scale.tickets
    skeleton = ctx.stream("skeleton")
    charges = ctx.peer("payments", "charges")
    charge_at = slotted(charges)
    n_charges = len(charges)
    raw = np.frombuffer(skeleton.randbytes(4 * count), dtype="<u4").astype(np.uint64)
    kinds = np.searchsorted(weights, (raw * weights[-1]) >> np.uint64(32), side="right")
    kind = kinds[np.argsort(kinds != 0, kind="stable")]  # questions first
    draws = np.frombuffer(skeleton.randbytes(8 * count), dtype="<u4").astype(np.uint64)
    status = ((draws[:count] * np.uint64(len(STATUSES))) >> np.uint64(32)).astype(
        np.int64
    )
    charge = ((draws[count:] * np.uint64(max(1, n_charges))) >> np.uint64(32)).astype(
        np.int64
    )
    questions = skeleton.sample(vocabulary().paragraphs, 20)
    links = _Links(kind, status, skeleton)
    ids = ctx.codec("tickets", "tkt", 12)
    users = ctx.peer("iam", "users")
    assignees_once: list[Sequence[str]] = []

    def assignees() -> Sequence[str]:
        if not assignees_once:
            stream = ctx.stream("assignees")
            found = sampled_staff(users, stream, 12)
            if found is None:
                found = staff(None, stream, ctx.peers, 12)  # type: ignore[arg-type]
            assignees_once.append(found)
        return assignees_once[0]

    ticket_key = ctx.key("tickets")

    def ticket(slot: int) -> Record | None:
        if not 0 <= slot < count:
            return None
        draw = Draws(ticket_key ^ slot)
        of = charge_at(int(charge[slot])) if n_charges else None
        customer = ctx.peer("payments", "customers").get(of["customer"]) if of else None
        if customer:
            requester = {"name": customer["name"], "email": customer["email"]}
        else:
            person = seeded_person(draw, slot)
            requester = {"name": person.name, "email": person.email}
        kind_name = KINDS[int(kind[slot])]
        state = STATUSES[int(status[slot])]
        # Work in progress is recent; finished work spreads over two months.
        age = draw.between(1, (60 * 24) if state in DONE else (5 * 24))
        record = new_ticket(
            ids.ident(slot),
            SEEDED_AT - age * HOUR,
            kind=kind_name,
            subject=draw.pick(SUBJECTS[kind_name]),
            description=draw.pick(DESCRIPTIONS.get(kind_name, questions)),
            requester=requester,
            customer=customer["id"] if customer else None,
            charge=of["id"] if of else None,
            status=state,
            priority=draw.pick(
                PRIORITIES if kind_name == "question" else ("normal", "high", "urgent")
            ),
        )
        _history(record, draw, assignees())
        record["linked"] = [ids.ident(other) for other in links.of(slot, kind_name)]
        record["sla"] = sla(record, SEEDED_AT)
        return record

    def by_kind(value: object) -> list[int]:
        return (
            []
            if value not in KINDS
            else np.flatnonzero(kind == KINDS.index(str(value))).tolist()
        )

    def by_status(value: object) -> list[int]:
        if value not in STATUSES:
            return []
        return np.flatnonzero(status == STATUSES.index(str(value))).tolist()

    def by_charge(value: object) -> list[int] | None:
        if not isinstance(charges, LazyRecords):
            return None
        slot = charges.codec.slot(value)
        return [] if slot is None else np.flatnonzero(charge == slot).tolist()

    def by_customer(value: object) -> list[int] | None:
        if not isinstance(charges, LazyRecords):
            return None
        of = charges.slots_where("customer", value)
        if of is None:
            return None
        return np.flatnonzero(np.isin(charge, np.array(of, dtype=np.int64))).tolist()

    return LazyRecords(
        codec=ids,
        make=ticket,
        count=count,
        finders={
            "kind": by_kind,
            "status": by_status,
            "charge": by_charge,
            "customer": by_customer,
        },
    )


class _Links:
    """Which tickets link which: each incident's change and problem (or -1),
    drawn in one pass; a ticket's links are found when it is made."""

    __slots__ = ("_change", "_incidents", "_problem")

    def __init__(
        self,
        kind: np.ndarray[Any, Any],
        status: np.ndarray[Any, Any],
        rng: random.Random,
    ) -> None:
        import numpy as np

        done = np.isin(status, [STATUSES.index(s) for s in DONE])
        closed = status == STATUSES.index("closed")
        changes = np.flatnonzero(kind == KINDS.index("change"))
        closed_changes = np.flatnonzero((kind == KINDS.index("change")) & closed)
        problems = np.flatnonzero(kind == KINDS.index("problem"))
        incidents = np.flatnonzero(kind == KINDS.index("incident"))
        n = len(incidents)
        raw = np.frombuffer(rng.randbytes(16 * n), dtype="<u4").astype(np.uint64)
        rolls, picks = raw[: 2 * n].reshape(2, n) if n else (raw, raw), raw[2 * n :]
        change = np.full(n, -1, dtype=np.int64)
        problem = np.full(n, -1, dtype=np.int64)
        for pool, among in (
            (closed_changes, done[incidents]),
            (changes, ~done[incidents]),
        ):
            if len(pool):
                chosen = among & (rolls[0] < np.uint64(1 << 31)) if n else among
                at = (picks[:n] * np.uint64(len(pool))) >> np.uint64(32)
                change[chosen] = pool[at[chosen].astype(np.int64)]
        if len(problems) and n:
            chosen = rolls[1] < np.uint64(int(0.3 * (1 << 32)))
            at = (picks[n:] * np.uint64(len(problems))) >> np.uint64(32)
            problem[chosen] = problems[at[chosen].astype(np.int64)]
        # Some open incident waits for an open change, so closure rules bite.
        open_changes = np.flatnonzero((kind == KINDS.index("change")) & ~closed)
        active = np.flatnonzero(~done[incidents])
        blocked = np.isin(change[~done[incidents]], open_changes).any()
        if not blocked and len(active) and len(open_changes):
            change[active[0]] = open_changes[0]
        self._incidents, self._change, self._problem = incidents, change, problem

    def of(self, slot: int, kind: str) -> list[int]:
        """The slots ``slot`` (a ticket of ``kind``) links, in slot order."""
        import numpy as np

        incidents = self._incidents
        if kind == "incident":
            at = int(np.searchsorted(incidents, slot))
            found = [int(self._change[at]), int(self._problem[at])]
            return sorted(s for s in found if s >= 0)
        column = self._change if kind == "change" else self._problem
        if kind not in ("change", "problem"):
            return []
        linking: list[int] = incidents[column == slot].tolist()
        return linking
