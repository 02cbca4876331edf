"""The CRM's objects: closed sets, JSON Schema contracts, records, the seeded data.

Every CRM record is versioned: ``version`` counts its revisions and ``etag``
(``<id>-<version>``) names the revision an agent read, so a write can say "only
if it is still this one" (``if_match``). ``locked_by`` is the hook a concurrent
writer fault sets: while it names another writer, writes answer 409.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

from fakes import _schema as s
from fakes._company import iam_users, staff
from fakes.base import IdGenerator, Record, Seed, WorldScale
from fakes.people import People

if TYPE_CHECKING:
    from faker import Faker

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


def scenario_defaults(
    kind: str,
    fields: Mapping[str, Any],
    faker: Faker,
    *,
    owner: str,
    account: Record | None,
) -> Record:
    """Every field of a scenario's new ``kind`` record, where the scenario is silent.

    Faker is asked only for the names and emails the scenario leaves out.
    """
    if kind == "account":
        tier = str(fields.get("tier", "team"))
        return {
            "name": fields.get("name") or faker.company(),
            "customer": None,
            "tier": tier,
            "billing_plan": tier,
            "owner": owner,
            "region": "na",
            "arr": 10 * PRICE_PER_SEAT.get(tier, 0),
            "currency": "usd",
            "health": "green",
            "renewal_date": day(90),
        }
    if kind == "lead":
        return {
            "name": fields.get("name") or faker.name(),
            "email": fields.get("email") or faker.email(),
            "company": fields.get("company") or faker.company(),
            "source": "web",
            **dict.fromkeys(RUBRIC),
            "score": None,
            "status": "new",
            "owner": owner,
            "converted_account": None,
            "converted_contact": None,
        }
    assert account is not None, f"a crm {kind} belongs to an account"
    of = {"account": account["id"]}
    if kind == "contact":
        name = fields.get("name") or faker.name()
        email = fields.get("email") or faker.email()
        return {**of, "name": name, "email": email, "role": "champion"}
    if kind == "opportunity":
        return {
            **of,
            "name": f"{account['name']} new",
            "kind": "new",
            "stage": "prospecting",
            "amount": 1_000_000,
            "currency": "usd",
            "close_date": day(30),
            "discount_pct": 0,
            "pricing_exception": "none",
            "owner": account["owner"],
        }
    if kind == "contract":
        return {
            **of,
            "start": day(-300),
            "end": day(64),
            "auto_renew": True,
            "seats": 10,
            "price_per_seat": PRICE_PER_SEAT.get(account["tier"], 0),
            "currency": "usd",
            "terms": TERMS[0],
        }
    return {
        **of,
        "product": "platform",
        "period": "2025-12",
        "seats_purchased": 10,
        "seats_active": 8,
        "api_calls": 10_000,
    }


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


def _record(properties: dict[str, s.Schema]) -> s.Schema:
    """A record's contract: closed, and every field always present (maybe null)."""
    return s.obj(properties, required=tuple(properties))


_OWNER = "The account executive or rep who owns it (an IAM user id or email)."

ACCOUNT = _record(
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
CONTACT = _record(
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
OPPORTUNITY = _record(
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
USAGE = _record(
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
CONTRACT = _record(
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
LEAD = _record(
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


# -- the seeded CRM --------------------------------------------------------------

COLLECTIONS = ("accounts", "contacts", "opportunities", "usage", "contracts", "leads")

_TIER_DECK = ("free",) * 3 + ("team",) * 4 + ("business",) * 2 + ("enterprise",)
#: Seats an account of each tier buys (a range).
_SEATS = {
    "free": (3, 4),
    "team": (5, 50),
    "business": (25, 250),
    "enterprise": (200, 2000),
}
_HEALTH_DECK = ("green",) * 6 + ("yellow",) * 3 + ("red",)
_DISCOUNT_DECK = (0, 0, 0, 5, 10, 10, 15, 20, 25, 30)
_EXCEPTION_DECK = ("none",) * 8 + ("requested", "denied")
_EXTRA_ROLES = ("champion", "technical_buyer", "user", "user")
_HEADCOUNTS = (12, 35, 80, 150, 400, 900, 2500, 12000)
#: The two months of usage before the seeded today, with their first second.
_PERIODS = (("2025-11", NOW - 61 * DAY), ("2025-12", NOW - 31 * DAY))
_INDUSTRIES = (
    "Analytics", "Systems", "Logistics", "Health", "Foods", "Robotics", "Energy",
    "Labs", "Media", "Software", "Capital", "Retail", "Networks", "Biotech",
    "Outdoor", "Studios", "Security", "Freight", "Cloud",
)  # fmt: skip
_SUFFIXES = ("Inc.", "LLC", "Group", "Corp.", "Ltd.")
_NOT_DOMAIN = re.compile(r"[^a-z0-9]+")


_T = TypeVar("_T")


class _Draw:
    """Fast seeded draws: ``random.choice``/``randrange`` cost 0.5 µs in Python."""

    __slots__ = ("random",)

    def __init__(self, rng: random.Random) -> None:
        self.random = rng.random

    def pick(self, choices: Sequence[_T]) -> _T:
        return choices[int(self.random() * len(choices))]

    def between(self, low: int, high: int) -> int:
        """An integer in ``[low, high)``."""
        return low + int(self.random() * (high - low))


class CompanyNames:
    """Unique seeded company names with their email domains (no Faker per name)."""

    def __init__(self, faker: Faker, draw: _Draw, *, pool: int = 300) -> None:
        self._draw = draw
        surnames = sorted({faker.last_name() for _ in range(pool)})
        self._surnames = [(n, _NOT_DOMAIN.sub("", n.lower())) for n in surnames]
        self._used: set[str] = set()

    def next(self) -> tuple[str, str]:
        """A new company name and its domain (``hoffmanlabs.com``)."""
        pick, used = self._draw.pick, self._used
        for _ in range(8):
            surname, slug = pick(self._surnames)
            industry = pick(_INDUSTRIES)
            name = f"{surname} {industry} {pick(_SUFFIXES)}"
            if name not in used:
                break
        else:  # the pool is nearly exhausted: number the name to keep it unique
            name = f"{name} {len(used)}"
        used.add(name)
        return name, f"{slug}{industry.lower()}.com"


def account_owners(users: Iterable[Mapping[str, Any]]) -> list[str]:
    """IAM ids of who may own accounts: account executives, else sales, else anyone.

    Only active users; none when IAM seeded no users.
    """
    active = [u for u in users if u.get("status", "active") == "active" and u.get("id")]
    executives = [u for u in active if u.get("title") == "Account Executive"]
    sales = [u for u in active if str(u.get("department", "")).lower() == "sales"]
    return [str(u["id"]) for u in executives or sales or active]


def seed_crm(
    faker: Faker,
    rng: random.Random,
    ids: IdGenerator,
    peers: Mapping[str, Seed],
    scale: WorldScale,
) -> Seed:
    """One account per payments customer, with contacts, deals, usage, contracts."""
    seed: Seed = {name: {} for name in COLLECTIONS}
    draw = _Draw(rng)
    people = People(faker, rng, pool=min(400, max(40, scale.customers // 4)))
    companies = CompanyNames(faker, draw)
    owners = account_owners(iam_users(peers)) or staff(
        faker, rng, peers, max(8, scale.employees // 20)
    )
    customers: list[Record | None] = list(
        peers.get("payments", {}).get("customers", {}).values()
    )
    for customer in customers or [None] * scale.customers:
        _seed_account(seed, draw, ids, people, companies, owners, customer)
    for _ in range(max(20, scale.customers // 4)):
        _seed_lead(seed, draw, ids, people, companies, owners)
    return seed


def _seed_account(
    seed: Seed,
    draw: _Draw,
    ids: IdGenerator,
    people: People,
    companies: CompanyNames,
    owners: list[str],
    customer: Record | None,
) -> None:
    name, domain = companies.next()
    tier = draw.pick(_TIER_DECK)
    seats = draw.between(*_SEATS[tier])
    price = PRICE_PER_SEAT[tier]
    renews_in = draw.between(-20, 365)
    paying = tier != "free"
    created = customer["created"] if customer else NOW - draw.between(30, 720) * DAY
    account = make(
        "account",
        ids.new("acc", 14),
        created,
        {
            "name": name,
            "customer": customer["id"] if customer else None,
            "tier": tier,
            "billing_plan": tier,
            "owner": draw.pick(owners),
            "region": draw.pick(REGIONS),
            "arr": seats * price,
            "currency": "usd",
            "health": draw.pick(_HEALTH_DECK),
            "renewal_date": day(renews_in) if paying else None,
        },
        draw.between(1, 4),
    )
    ident = account["id"]
    seed["accounts"][ident] = account

    # The payments customer is the one who pays: the account's economic buyer.
    if customer and customer.get("name") and customer.get("email"):
        buyers = [(customer["name"], customer["email"], "economic_buyer")]
    else:
        person = people.person(domain=domain)
        buyers = [(person.name, person.email, "economic_buyer")]
    for _ in range(draw.between(0, 3)):
        person = people.person(domain=domain)
        buyers.append((person.name, person.email, draw.pick(_EXTRA_ROLES)))
    for full_name, email, role in buyers:
        fields = {"account": ident, "name": full_name, "email": email, "role": role}
        contact = make("contact", ids.new("con", 14), created, fields)
        seed["contacts"][contact["id"]] = contact

    for period, start in _PERIODS:
        fields = {
            "account": ident,
            "product": "platform",
            "period": period,
            "seats_purchased": seats,
            "seats_active": int(seats * (0.3 + 0.85 * draw.random())),
            "api_calls": draw.between(1_000, 2_000_000),
        }
        usage = make("usage", ids.new("use", 14), start, fields)
        seed["usage"][usage["id"]] = usage
    if not paying:
        return

    fields = {
        "account": ident,
        "start": day(renews_in - 365),
        "end": day(renews_in - 1),
        "auto_renew": draw.random() < 0.8,
        "seats": seats,
        "price_per_seat": price,
        "currency": "usd",
        "terms": draw.pick(TERMS),
    }
    version = draw.between(1, 3)
    contract = make("contract", ids.new("ctr", 14), created, fields, version)
    seed["contracts"][contract["id"]] = contract
    if renews_in < 120:  # the renewal is being worked: later stages nearer the date
        stage = (
            draw.pick(("negotiation", "closed_won", "closed_lost"))
            if renews_in < 0
            else OPEN_STAGES[3 - renews_in // 30]
        )
        _seed_deal(seed, draw, ids, account, "renewal", stage, account["arr"])
    if draw.random() < 0.3:
        amount = draw.between(5, 200) * 100_000
        _seed_deal(seed, draw, ids, account, "expansion", draw.pick(STAGES), amount)


def _seed_deal(
    seed: Seed,
    draw: _Draw,
    ids: IdGenerator,
    account: Record,
    kind: str,
    stage: str,
    amount: int,
) -> None:
    discount = draw.pick(_DISCOUNT_DECK)
    exception = draw.pick(_EXCEPTION_DECK)
    if discount > MAX_DISCOUNT_PCT:  # the seeded world keeps the discount rule
        exception = "approved"
    close = day(draw.between(-60, 180)) if kind != "renewal" else None
    fields = {
        "account": account["id"],
        "name": f"{account['name']} {kind}",
        "kind": kind,
        "stage": stage,
        "amount": amount,
        "currency": "usd",
        "close_date": close or account["renewal_date"],
        "discount_pct": discount,
        "pricing_exception": exception,
        "owner": account["owner"],
    }
    version = draw.between(1, 5)
    deal = make("opportunity", ids.new("opp", 14), account["created"], fields, version)
    seed["opportunities"][deal["id"]] = deal


def _seed_lead(
    seed: Seed,
    draw: _Draw,
    ids: IdGenerator,
    people: People,
    companies: CompanyNames,
    owners: list[str],
) -> None:
    company, domain = companies.next()
    person = people.person(domain=domain)
    known = draw.random
    fields: Record = {
        "name": person.name,
        "email": person.email,
        "company": company,
        "source": draw.pick(LEAD_SOURCES),
        "employees": draw.pick(_HEADCOUNTS) if known() < 0.85 else None,
        "budget_confirmed": draw.random() < 0.5 if known() < 0.75 else None,
        "authority": draw.random() < 0.5 if known() < 0.8 else None,
        "need": draw.pick(NEEDS) if known() < 0.85 else None,
        "timeline_months": draw.between(1, 19) if known() < 0.8 else None,
        "region": draw.pick(REGIONS) if known() < 0.95 else None,
        "score": None,
        "status": "new",
        "owner": draw.pick(owners),
        "converted_account": None,
        "converted_contact": None,
    }
    if not missing_rubric(fields) and draw.random() < 0.5:
        qualified = lead_score(fields) >= QUALIFYING_SCORE
        fields["status"] = "qualified" if qualified else "disqualified"
        settle_score(fields)
    lead = make("lead", ids.new("lead", 14), NOW - draw.between(1, 90) * DAY, fields)
    seed["leads"][lead["id"]] = lead
