"""The CRM's objects: closed sets, JSON Schema contracts, records.

Every CRM record is versioned: ``version`` counts its revisions and ``etag``
(``<id>-<version>``) names the revision an agent read, so a write can say "only
if it is still this one" (``if_match``). ``locked_by`` is the hook a concurrent
writer fault sets: while it names another writer, writes answer 409. The seeded
CRM and the records scenarios create live in ``fakes.crm.seed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache
from typing import Any

from fakes import _schema as s
from fakes.base import Record

TIERS = ("free", "team", "business", "enterprise")
REGIONS = ("na", "emea", "apac", "latam")
#: Regions with a sales team: a lead there scores the region's points.
SERVED_REGIONS = frozenset({"na", "emea", "apac"})
HEALTH = ("green", "yellow", "red")
ROLES = ("champion", "economic_buyer", "technical_buyer", "billing", "user")
KINDS = ("new", "renewal", "expansion")
#: Open stages in their only direction of travel; closed_lost is reachable from any.
OPEN_STAGES = ("prospecting", "qualification", "proposal", "negotiation")
STAGES = (*OPEN_STAGES, "closed_won", "closed_lost")
PRICING_EXCEPTIONS = ("none", "requested", "approved", "denied")
#: The highest discount a rep may give without an approved pricing exception.
MAX_DISCOUNT_PCT = 20
LEAD_STATUSES = ("new", "qualified", "disqualified", "converted")
LEAD_SOURCES = ("web", "event", "referral", "partner", "outbound", "webinar")
NEEDS = ("high", "medium", "low")
#: The qualification rubric: every field must be known before a lead is scored.
RUBRIC = (
    "employees",
    "budget_confirmed",
    "authority",
    "need",
    "timeline_months",
    "region",
)
#: A lead scoring at least this is qualified; below it, disqualified.
QUALIFYING_SCORE = 60
PRODUCTS = ("platform", "analytics", "api")
#: List price per seat per year, in minor units (usd).
PRICE_PER_SEAT = {"free": 0, "team": 12_000, "business": 36_000, "enterprise": 60_000}
TERMS = (
    "Net 30; 5% annual uplift cap",
    "Net 45; price locked for the term",
    "Net 30; 30-day termination for convenience",
    "Net 60; 3% annual uplift cap",
    "Net 30; renews for 12 months unless cancelled 60 days before the end",
)
#: The seeded world's "today" (2026-01-01 UTC), as Unix seconds and a date.
NOW = 1_767_225_600
TODAY = date(2026, 1, 1).toordinal()
DAY = 86_400

#: What a date parameter looks like (YYYY-MM-DD).
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


@cache
def day(offset: int) -> str:
    """The ISO date ``offset`` days from the seeded world's today."""
    return date.fromordinal(TODAY + offset).isoformat()


def etag(ident: str, version: int) -> str:
    """The tag of one revision of a record (sent back quoted as ``If-Match``)."""
    return f"{ident}-{version}"


def revise(record: Record, now: int) -> None:
    """Mark a (writable) record as changed: a new version and etag."""
    record["version"] += 1
    record["etag"] = etag(record["id"], record["version"])
    record["updated"] = now


_HEADCOUNT_POINTS = ((1000, 25), (200, 20), (50, 12), (0, 5))
_TIMELINE_POINTS = ((3, 15), (6, 10), (12, 5))
_NEED_POINTS = {"high": 20, "medium": 10, "low": 0}


def lead_score(lead: Mapping[str, Any]) -> int:
    """The 0-100 qualification score of a lead whose rubric is complete."""
    employees, months = lead["employees"], lead["timeline_months"]
    score = next(points for least, points in _HEADCOUNT_POINTS if employees >= least)
    score += next((points for most, points in _TIMELINE_POINTS if months <= most), 0)
    score += 20 if lead["budget_confirmed"] else 0
    score += 15 if lead["authority"] else 0
    score += _NEED_POINTS[lead["need"]]
    score += 5 if lead["region"] in SERVED_REGIONS else 0
    return score


def missing_rubric(lead: Mapping[str, Any]) -> list[str]:
    """The rubric fields a lead does not have yet, in rubric order."""
    return [f for f in RUBRIC if lead.get(f) is None]


def make(
    kind: str, ident: str, created: int, fields: Mapping[str, Any], version: int = 1
) -> Record:
    """A CRM record: id and object, ``fields`` in contract order, revision fields."""
    record: Record = {"id": ident, "object": kind, **fields}
    record["created"] = record["updated"] = created
    record["version"] = version
    record["etag"] = f"{ident}-{version}"  # etag(), inlined: 60,000 calls at scale
    record["locked_by"] = None
    return record


def settle_score(lead: Record) -> None:
    """A qualified or disqualified lead with a complete rubric carries its score."""
    decided = lead["status"] in ("qualified", "disqualified")
    lead["score"] = lead_score(lead) if decided and not missing_rubric(lead) else None


# -- contracts (JSON Schema) ----------------------------------------------------------


def _revision(noun: str) -> dict[str, s.Schema]:
    return {
        "created": s.integer("When it was created (Unix seconds)."),
        "updated": s.integer("When it last changed (Unix seconds)."),
        "version": s.integer("Revision number; every change adds one.", minimum=1),
        "etag": s.string(
            f"Tag of this revision of the {noun}: send it back as if_match when "
            "you change it, so a change made since you read it is not overwritten."
        ),
        "locked_by": s.nullable(
            s.string(
                "Another writer changing this record right now (writes answer 409 "
                "until they finish), or null."
            )
        ),
    }


_OWNER = "The account executive or rep who owns it (an IAM user id or email)."

ACCOUNT = s.record(
    {
        "id": s.string("Account id (acc_…)."),
        "object": {"const": "account"},
        "name": s.string("Company name."),
        "customer": s.nullable(s.string("The billing customer (payments cus_…).")),
        "tier": s.enum("The plan sales sold.", *TIERS),
        "billing_plan": s.enum(
            "The plan billing charges for (read-only here; should equal tier).",
            *TIERS,
        ),
        "owner": s.string(_OWNER),
        "region": s.enum("Sales region.", *REGIONS),
        "arr": s.integer("Annual recurring revenue, in minor units (cents)."),
        "currency": s.string("Currency of arr, lowercase ISO code."),
        "health": s.enum("Customer health.", *HEALTH),
        "renewal_date": s.nullable(s.string("Next renewal (YYYY-MM-DD).")),
        **_revision("account"),
    },
)
CONTACT = s.record(
    {
        "id": s.string("Contact id (con_…)."),
        "object": {"const": "contact"},
        "account": s.string("The contact's account (acc_…)."),
        "name": s.string("Full name."),
        "email": s.string("Email address."),
        "role": s.enum("Role in the buying process.", *ROLES),
        **_revision("contact"),
    },
)
OPPORTUNITY = s.record(
    {
        "id": s.string("Opportunity id (opp_…)."),
        "object": {"const": "opportunity"},
        "account": s.string("The account (acc_…)."),
        "name": s.string("Deal name."),
        "kind": s.enum("New business, renewal or expansion.", *KINDS),
        "stage": s.enum("Sales stage.", *STAGES),
        "amount": s.integer("Deal value, in minor units (cents)."),
        "currency": s.string("Currency of amount, lowercase ISO code."),
        "close_date": s.string("Expected or actual close date (YYYY-MM-DD)."),
        "discount_pct": s.integer("Discount off list price, in percent."),
        "pricing_exception": s.enum(
            f"Deal desk's decision on a discount above {MAX_DISCOUNT_PCT}%.",
            *PRICING_EXCEPTIONS,
        ),
        "owner": s.string(_OWNER),
        **_revision("opportunity"),
    },
)
USAGE = s.record(
    {
        "id": s.string("Usage record id (use_…)."),
        "object": {"const": "usage"},
        "account": s.string("The account (acc_…)."),
        "product": s.enum("Product.", *PRODUCTS),
        "period": s.string("Month (YYYY-MM)."),
        "seats_purchased": s.integer("Seats the contract pays for."),
        "seats_active": s.integer("Seats used in the month."),
        "api_calls": s.integer("API calls in the month."),
        **_revision("usage record"),
    },
)
CONTRACT = s.record(
    {
        "id": s.string("Contract id (ctr_…)."),
        "object": {"const": "contract"},
        "account": s.string("The account (acc_…)."),
        "start": s.string("First day (YYYY-MM-DD)."),
        "end": s.string("Last day (YYYY-MM-DD)."),
        "auto_renew": s.boolean("Renews by itself unless cancelled."),
        "seats": s.integer("Seats bought."),
        "price_per_seat": s.integer("Price per seat per year, in minor units."),
        "currency": s.string("Currency, lowercase ISO code."),
        "terms": s.string("Commercial terms (payment, uplift caps, termination)."),
        **_revision("contract"),
    },
)
RUBRIC_SCHEMAS: dict[str, s.Schema] = {
    "employees": s.integer("Company headcount.", minimum=1),
    "budget_confirmed": s.boolean("The buyer confirmed a budget."),
    "authority": s.boolean("The lead can sign, or has the signer's backing."),
    "need": s.enum("How badly they need the product.", *NEEDS),
    "timeline_months": s.integer("Months until they intend to buy.", minimum=0),
    "region": s.enum("Sales region.", *REGIONS),
}
LEAD = s.record(
    {
        "id": s.string("Lead id (lead_…)."),
        "object": {"const": "lead"},
        "name": s.string("Full name."),
        "email": s.string("Email address."),
        "company": s.string("Company name."),
        "source": s.enum("Where the lead came from.", *LEAD_SOURCES),
        **{name: s.nullable(schema) for name, schema in RUBRIC_SCHEMAS.items()},
        "score": s.nullable(
            s.integer("Qualification score 0-100 (null until qualified).")
        ),
        "status": s.enum("Lead status.", *LEAD_STATUSES),
        "owner": s.string(_OWNER),
        "converted_account": s.nullable(s.string("Account made from it (acc_…).")),
        "converted_contact": s.nullable(s.string("Contact made from it (con_…).")),
        **_revision("lead"),
    },
)


# -- record kinds, requests and rules ---------------------------------------------

#: Each record kind (also its id parameter): collection, id prefix, contract.
RECORD_KINDS: dict[str, tuple[str, str, s.Schema]] = {
    "account": ("accounts", "acc", ACCOUNT),
    "contact": ("contacts", "con", CONTACT),
    "opportunity": ("opportunities", "opp", OPPORTUNITY),
    "lead": ("leads", "lead", LEAD),
    "contract": ("contracts", "ctr", CONTRACT),
    "usage": ("usage", "use", USAGE),
}
#: Record kinds that belong to an account.
OF_ACCOUNT = frozenset({"contact", "opportunity", "contract", "usage"})
COLLECTIONS = ("accounts", "contacts", "opportunities", "usage", "contracts", "leads")

CONVERSION = s.obj(
    {
        "object": {"const": "lead_conversion"},
        "lead": LEAD,
        "account": ACCOUNT,
        "contact": CONTACT,
    },
    required=("object", "lead", "account", "contact"),
)


def next_stages(stage: str) -> tuple[str, ...]:
    """Where an opportunity may go from ``stage``: forward, or lost."""
    if stage not in OPEN_STAGES:
        return ()
    later = OPEN_STAGES[OPEN_STAGES.index(stage) + 1 :]
    return (*later, "closed_won", "closed_lost")


def id_param(kind: str) -> s.Schema:
    """Request contract of a record's id parameter."""
    return s.string(f"{kind.capitalize()} id ({RECORD_KINDS[kind][1]}_…).")


def change(kind: str, /, **fields: s.Schema) -> s.Schema:
    """Request contract of a conditional write: the id plus the fields to set."""
    return s.obj({kind: id_param(kind), **fields}, required=(kind,))


def lead_account(lead: Record, ident: str, now: int) -> Record:
    """The account converting ``lead`` creates for its company."""
    return make(
        "account",
        ident,
        now,
        {
            "name": lead["company"],
            "customer": None,
            "tier": "free",
            "billing_plan": "free",
            "owner": lead["owner"],
            "region": lead["region"] or "na",
            "arr": 0,
            "currency": "usd",
            "health": "green",
            "renewal_date": None,
        },
    )


def lead_contact(lead: Record, account: Record, ident: str, now: int) -> Record:
    """The contact converting ``lead`` creates for its person, the champion."""
    person = {
        "account": account["id"],
        "name": lead["name"],
        "email": lead["email"],
        "role": "champion",
    }
    return make("contact", ident, now, person)
