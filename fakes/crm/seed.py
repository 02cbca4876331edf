"""The seeded CRM and the records scenarios create in it.

A seeded world gets one account per payments customer (with contacts, usage, a
contract and the deals being worked) and a pool of leads; a scenario names the
records it needs, and every field it leaves out gets a plausible default.
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from fakes import _schema as s
from fakes._company import iam_users, staff
from fakes._vocab import vocabulary
from fakes.base import FakeService, IdGenerator, Record, Seed, WorldScale
from fakes.crm.objects import (
    COLLECTIONS,
    DAY,
    LEAD_SOURCES,
    MAX_DISCOUNT_PCT,
    NEEDS,
    NOW,
    OF_ACCOUNT,
    OPEN_STAGES,
    PRICE_PER_SEAT,
    QUALIFYING_SCORE,
    RECORD_KINDS,
    REGIONS,
    RUBRIC,
    STAGES,
    TERMS,
    day,
    lead_score,
    make,
    missing_rubric,
    settle_score,
)
from fakes.people import People

if TYPE_CHECKING:
    from faker import Faker


# -- the seeded CRM --------------------------------------------------------------

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

    def __init__(self, faker: Faker | None, draw: _Draw, *, pool: int = 300) -> None:
        self._draw = draw
        surnames = vocabulary().surnames
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


# -- scenario records -------------------------------------------------------------

#: The fields a scenario may give each record kind (those of
#: :func:`scenario_defaults`, and the revision a test may start from).
_SCENARIO_FIELDS: dict[str, tuple[str, ...]] = {
    "account": (
        "name",
        "customer",
        "tier",
        "billing_plan",
        "owner",
        "region",
        "arr",
        "currency",
        "health",
        "renewal_date",
    ),
    "lead": (
        "name",
        "email",
        "company",
        "source",
        *RUBRIC,
        "score",
        "status",
        "owner",
        "converted_account",
        "converted_contact",
    ),
    "contact": ("account", "name", "email", "role"),
    "opportunity": (
        "account",
        "name",
        "kind",
        "stage",
        "amount",
        "currency",
        "close_date",
        "discount_pct",
        "pricing_exception",
        "owner",
    ),
    "contract": (
        "account",
        "start",
        "end",
        "auto_renew",
        "seats",
        "price_per_seat",
        "currency",
        "terms",
    ),
    "usage": (
        "account",
        "product",
        "period",
        "seats_purchased",
        "seats_active",
        "api_calls",
    ),
}
#: Each kind's scenario fields as its record contract types them.
RECORD_FIELDS: dict[str, s.Schema] = {
    kind: s.scenario_fields(RECORD_KINDS[kind][2], (*names, "version", "locked_by"))
    for kind, names in _SCENARIO_FIELDS.items()
}


def create_record(crm: FakeService, kind: str, fields: Mapping[str, Any]) -> Record:
    """A scenario record of ``kind`` from ``fields``, defaults where they are silent."""
    if kind not in RECORD_KINDS:
        raise crm.unknown_kind(kind)
    collection, prefix, _ = RECORD_KINDS[kind]
    account = None
    if kind in OF_ACCOUNT:
        account = _account_of(crm, fields.get("account"))
    elif kind == "account":
        _check_customer(crm, fields.get("customer"))
    defaults = scenario_defaults(
        kind, fields, crm.world.faker, owner=_an_owner(crm), account=account
    )
    settable = set(s.field_names(RECORD_FIELDS[kind]))
    for name in fields:
        if name not in settable:
            raise ValueError(_no_such_field(kind, name, settable))
    values = {k: v for k, v in fields.items() if k not in ("version", "locked_by")}
    now = int(crm.world.clock.epoch())
    version = fields.get("version", 1)
    ident = crm.world.ids.new(prefix, 14)
    record = make(kind, ident, now - 3600, {**defaults, **values}, version)
    record["locked_by"] = fields.get("locked_by")
    if kind == "lead" and "score" not in fields:
        settle_score(record)
    problem = _first_problem(kind, record)
    if problem is not None:
        raise ValueError(problem)
    crm.state[collection][ident] = record
    return record


def _check_customer(crm: FakeService, ident: Any) -> None:
    """A payments customer named by a scenario must exist."""
    payments = crm.world.services.get("payments")
    if ident is None or payments is None:
        return
    if str(ident) not in payments.state["customers"]:
        raise ValueError(f"no payments customer {ident!r} to link the account to")


def _account_of(crm: FakeService, ident: Any) -> Record:
    """The account a scenario record belongs to: the named one, or a new one."""
    if ident is None:
        return crm.create_record("account", {})
    account = crm.state["accounts"].get(str(ident))
    if account is None:
        raise ValueError(f"no crm account {ident!r} (name an account record)")
    return account


def _an_owner(crm: FakeService) -> str:
    """Who owns records a scenario creates: the first seeded account's owner."""
    first = next(iter(crm.state["accounts"].values()), None)
    return str(first["owner"]) if first is not None else "unassigned"


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


def _no_such_field(kind: str, name: str, fields: set[str]) -> str:
    close = difflib.get_close_matches(name, sorted(fields), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"a crm {kind} has no field {name!r}{hint}; fields: {', '.join(sorted(fields))}"
    )


def _first_problem(kind: str, record: Record) -> str | None:
    """Why a scenario's record breaks its contract (a field of the wrong kind)."""
    error = best_match(Draft202012Validator(RECORD_KINDS[kind][2]).iter_errors(record))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path) or kind
    return f"crm {kind} field {where}: {error.message}"
