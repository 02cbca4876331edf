"""The seeded CRM and the records scenarios create in it.

A seeded world gets one account per payments customer (with contacts, usage, a
contract and the deals being worked) and a pool of leads; a scenario names the
records it needs, and every field it leaves out gets a plausible default.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from fakes import _schema as s
from fakes._company import DEFAULT_DOMAIN
from fakes._vocab import vocabulary
from fakes.base import FakeService, Record
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
from fakes.lazy import (
    Draws,
    Finder,
    Groups,
    IdCodec,
    LazyRecords,
    SeedContext,
    slot_ids,
    slotted,
)
from fakes.people import People, seeded_person, seeded_uniques

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


#: A group's places per collection: an account's contacts, usage, contract, deals.
_WIDTH = 8


class CompanyNames:
    """Unique seeded company names with their email domains, by index.

    Index ``i`` names the ``p(i)``-th of the (surname, industry, suffix)
    combinations, ``p`` an affine permutation keyed by the seed: no two indexes
    share a name, and none needs the names before it.
    """

    __slots__ = ("_add", "_mul", "_surnames")

    def __init__(self, key: int) -> None:
        self._surnames = _company_words()
        space = self._space()
        mul = (key >> 20) % space | 1
        while math.gcd(mul, space) != 1:
            mul += 2
        self._mul, self._add = mul, key % space

    def _space(self) -> int:
        return len(self._surnames) * len(_INDUSTRIES) * len(_SUFFIXES)

    def indexes(self, name: object) -> list[int]:
        """The indexes whose name may be ``name`` (none if no index has it):
        the permutation inverted, so finding a company makes no other."""
        if not isinstance(name, str):
            return []
        space = self._space()
        found = set()
        head, _, tail = name.rpartition(" ")
        readings = [(name, 0)]
        if tail.isdecimal() and tail.isascii() and tail[0] != "0":
            readings.append((head, int(tail)))
        for text, repeat in readings:
            rest, _, suffix = text.rpartition(" ")
            surname, _, industry = rest.rpartition(" ")
            if suffix not in _SUFFIXES or industry not in _INDUSTRIES:
                continue
            for place in _surname_places().get(surname, ()):
                combo = place * len(_INDUSTRIES) + _INDUSTRIES.index(industry)
                combo = combo * len(_SUFFIXES) + _SUFFIXES.index(suffix)
                index = (combo - self._add) * pow(self._mul, -1, space) % space
                found.add(repeat * space + index)
        return sorted(found)

    def name(self, index: int) -> tuple[str, str]:
        """Company ``index``'s name and domain (``hoffmanlabs.com``)."""
        space = self._space()
        combo = (index % space * self._mul + self._add) % space
        combo, suffix = divmod(combo, len(_SUFFIXES))
        combo, industry = divmod(combo, len(_INDUSTRIES))
        surname, slug = self._surnames[combo]
        name = f"{surname} {_INDUSTRIES[industry]} {_SUFFIXES[suffix]}"
        if index >= space:  # more companies than names: number the rest
            name = f"{name} {index // space}"
        return name, f"{slug}{_INDUSTRIES[industry].lower()}.com"


@cache
def _company_words() -> tuple[tuple[str, str], ...]:
    """The vocabulary's surnames with their domain slugs (made once a process)."""
    return tuple((n, _NOT_DOMAIN.sub("", n.lower())) for n in vocabulary().surnames)


@cache
def _surname_places() -> dict[str, tuple[int, ...]]:
    """Where each surname is in :func:`_company_words` (made once a process)."""
    places: dict[str, tuple[int, ...]] = {}
    for place, (surname, _) in enumerate(_company_words()):
        places[surname] = (*places.get(surname, ()), place)
    return places


def account_owners(users: Iterable[Mapping[str, Any]]) -> list[str]:
    """IAM ids of who may own accounts: account executives, else sales, else anyone.

    Only active users; none when IAM seeded no users.
    """
    active = [u for u in users if u.get("status", "active") == "active" and u.get("id")]
    executives = [u for u in active if u.get("title") == "Account Executive"]
    sales = [u for u in active if str(u.get("department", "")).lower() == "sales"]
    return [str(u["id"]) for u in executives or sales or active]


def _owners(ctx: SeedContext) -> Sequence[str]:
    """Who owns the seeded accounts and leads (IAM's executives, else staff)."""
    users = ctx.peer("iam", "users")
    if isinstance(users, LazyRecords):
        titled = users.slots_where("title", "Account Executive") or []
        active = set(users.slots_where("status", "active") or ())
        executives = [slot for slot in titled if slot in active]
        if executives:
            return slot_ids(executives, users.codec)
    owners = account_owners(u for u in users.values() if isinstance(u, Mapping))
    if owners:
        return owners
    people = People(None, ctx.stream("owners"))
    return [people.person(domain=DEFAULT_DOMAIN).email for _ in range(8)]


def seed_crm_lazily(ctx: SeedContext) -> dict[str, LazyRecords]:
    """One account per payments customer (the same slot), with its contacts,
    usage, contract and deals made with it, and a pool of leads; each account
    is made, with its own, when first read."""
    customers = ctx.peer("payments", "customers")
    at = slotted(customers)
    n_accounts = len(customers) or ctx.scale.customers
    n_leads = max(20, ctx.scale.customers // 4)
    codecs = {
        name: ctx.codec(name, prefix, 14)
        for name, prefix in (
            ("accounts", "acc"),
            ("contacts", "con"),
            ("usage", "use"),
            ("contracts", "ctr"),
            ("opportunities", "opp"),
            ("leads", "lead"),
        )
    }
    companies = CompanyNames(ctx.key("companies"))
    owners: list[Sequence[str]] = []

    def owner_pool() -> Sequence[str]:
        if not owners:
            owners.append(_owners(ctx))
        return owners[0]

    account_key = ctx.key("accounts")

    def build(group: int) -> dict[str, list[Record]]:
        made: dict[str, list[Record]] = {name: [] for name in COLLECTIONS}
        _seed_account(
            made,
            Draws(account_key ^ group),
            group,
            codecs,
            companies,
            owner_pool(),
            at(group) if customers else None,
        )
        return made

    groups = Groups(n_accounts, _WIDTH, build)

    def customer_account(value: object) -> list[int]:
        codec = getattr(customers, "codec", None)
        slot = codec.slot(value) if isinstance(codec, IdCodec) else None
        return [] if slot is None or slot >= n_accounts else [slot]

    def of_account(collection: str) -> Finder:
        def find(value: object) -> list[int]:
            return groups.of_group(collection, codecs["accounts"].slot(value))

        return find

    def named(value: object) -> list[int]:
        return [i for i in companies.indexes(value) if i < n_accounts]

    def contacts_with(value: object) -> list[int] | None:
        # A contact is its account's customer, or a person made with a unique
        # number of the account's group (``_seed_account``).
        if not isinstance(value, str):
            return []  # every seeded contact has an email
        of = {u // _WIDTH for u in seeded_uniques(value)}
        if customers:
            paying = (
                customers.slots_where("email", value)
                if isinstance(customers, LazyRecords)
                else None
            )
            if paying is None:
                return None  # a customer's email the skeleton cannot find
            of.update(paying)
        return [
            slot
            for group in sorted(of)
            if group < n_accounts
            for slot in groups.of_group("contacts", group)
        ]

    tables = {
        "accounts": LazyRecords(
            codec=codecs["accounts"],
            make=lambda slot: groups.record("accounts", slot * _WIDTH),
            count=n_accounts,
            finders={"customer": customer_account, "name": named},
        ),
    }
    for name in ("contacts", "usage", "contracts", "opportunities"):
        finders = {"account": of_account(name)}
        if name == "contacts":
            finders["email"] = contacts_with
        tables[name] = groups.table(name, codecs[name], finders)
    lead_key = ctx.key("leads")

    def lead(slot: int) -> Record | None:
        if not 0 <= slot < n_leads:
            return None
        name = companies.name(n_accounts + slot)
        return _seed_lead(
            Draws(lead_key ^ slot),
            codecs["leads"].ident(slot),
            slot,
            name,
            owner_pool(),
        )

    def leads_with(value: object) -> list[int]:
        return [u for u in seeded_uniques(value) if u < n_leads]

    tables["leads"] = LazyRecords(
        codec=codecs["leads"], make=lead, count=n_leads, finders={"email": leads_with}
    )
    return tables


def _seed_account(
    made: dict[str, list[Record]],
    draw: Draws,
    group: int,
    codecs: Mapping[str, IdCodec],
    companies: CompanyNames,
    owners: Sequence[str],
    customer: Record | None,
) -> None:
    def ident(collection: str) -> str:
        slot = group * _WIDTH + len(made[collection])
        return codecs[collection].ident(slot)

    name, domain = companies.name(group)
    tier = draw.pick(_TIER_DECK)
    seats = draw.between(*_SEATS[tier])
    price = PRICE_PER_SEAT[tier]
    renews_in = draw.between(-20, 365)
    paying = tier != "free"
    created = customer["created"] if customer else NOW - draw.between(30, 720) * DAY
    account = make(
        "account",
        codecs["accounts"].ident(group),
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
    made["accounts"].append(account)

    # The payments customer is the one who pays: the account's economic buyer.
    if customer and customer.get("name") and customer.get("email"):
        buyers = [(customer["name"], customer["email"], "economic_buyer")]
    else:
        person = seeded_person(draw, group * _WIDTH, domain=domain)
        buyers = [(person.name, person.email, "economic_buyer")]
    for extra in range(draw.between(0, 3)):
        person = seeded_person(draw, group * _WIDTH + 1 + extra, domain=domain)
        buyers.append((person.name, person.email, draw.pick(_EXTRA_ROLES)))
    for full_name, email, role in buyers:
        fields = {"account": account["id"], "name": full_name, "email": email}
        fields["role"] = role
        made["contacts"].append(make("contact", ident("contacts"), created, fields))

    for period, start in _PERIODS:
        fields = {
            "account": account["id"],
            "product": "platform",
            "period": period,
            "seats_purchased": seats,
            "seats_active": int(seats * (0.3 + 0.85 * draw.random())),
            "api_calls": draw.between(1_000, 2_000_000),
        }
        made["usage"].append(make("usage", ident("usage"), start, fields))
    if not paying:
        return

    fields = {
        "account": account["id"],
        "start": day(renews_in - 365),
        "end": day(renews_in - 1),
        "auto_renew": draw.random() < 0.8,
        "seats": seats,
        "price_per_seat": price,
        "currency": "usd",
        "terms": draw.pick(TERMS),
    }
    version = draw.between(1, 3)
    made["contracts"].append(
        make("contract", ident("contracts"), created, fields, version)
    )
    if renews_in < 120:  # the renewal is being worked: later stages nearer the date
        stage = (
            draw.pick(("negotiation", "closed_won", "closed_lost"))
            if renews_in < 0
            else OPEN_STAGES[3 - renews_in // 30]
        )
        _seed_deal(made, draw, ident("opportunities"), account, "renewal", stage)
    if draw.random() < 0.3:
        amount = draw.between(5, 200) * 100_000
        stage = draw.pick(STAGES)
        deal = ident("opportunities")
        _seed_deal(made, draw, deal, account, "expansion", stage, amount)


def _seed_deal(
    made: dict[str, list[Record]],
    draw: Draws,
    ident: str,
    account: Record,
    kind: str,
    stage: str,
    amount: int | None = None,
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
        "amount": account["arr"] if amount is None else amount,
        "currency": "usd",
        "close_date": close or account["renewal_date"],
        "discount_pct": discount,
        "pricing_exception": exception,
        "owner": account["owner"],
    }
    version = draw.between(1, 5)
    deal = make("opportunity", ident, account["created"], fields, version)
    made["opportunities"].append(deal)


def _seed_lead(
    draw: Draws,
    ident: str,
    slot: int,
    company: tuple[str, str],
    owners: Sequence[str],
) -> Record:
    name, domain = company
    person = seeded_person(draw, slot, domain=domain)
    known = draw.random
    fields: Record = {
        "name": person.name,
        "email": person.email,
        "company": name,
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
    return make("lead", ident, NOW - draw.between(1, 90) * DAY, fields)


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
