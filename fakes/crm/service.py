"""CRM: accounts, contacts, opportunities, renewals, usage, contract terms, leads.

Versioning. Every record carries ``version`` and ``etag`` (``<id>-<version>``); reads
and writes of one record also answer with an ``ETag`` header (quoted). Writes take
``if_match`` (HTTP ``If-Match``): the current etag (or ``*``) applies the change and
makes a new revision; a stale one is a 412 ``precondition_failed`` naming the
current revision. Without ``if_match`` a write applies to whatever is there (last
write wins): careless agents do that, and the CRM lets them, so the lost update
shows in the ledger and the final state. While a record's ``locked_by`` names
another writer, writes to it answer 409 ``conflict``.

Rules: opportunity stages only move forward, except to closed_lost (409
``invalid_transition``); a discount above 20% needs an approved pricing exception
(403 ``pricing_exception_required``); a lead is qualified only with its whole rubric
(422 ``missing_rubric_fields``), which scores it; converting a qualified lead
creates an account and a contact (two ledgered effects). ``billing_plan`` mirrors
billing and is read-only here. Updates that change nothing commit nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Record,
    Reply,
    Seed,
    ServiceError,
    WorldScale,
    operation,
    paginate,
)
from fakes.crm import objects as c
from fakes.crm import seed
from fakes.crm.objects import CONVERSION, next_stages
from fakes.lazy import SeedContext, populate_lazily

if TYPE_CHECKING:
    from faker import Faker

#: Each record kind (also its id parameter): collection, id prefix, contract.
_KINDS = c.RECORD_KINDS


def _etag_header(record: Record) -> dict[str, str]:
    return {"etag": f'"{record["etag"]}"'}


def _versioned(record: Record, status: int = 200) -> Reply:
    """A record as the answer, with its revision in the ``ETag`` header."""
    return Reply(status=status, body=record, headers=_etag_header(record))


def _reader(kind: str, summary: str) -> Callable[..., Reply]:
    """The operation ``get_<kind>``: one record by id, with its ETag header."""
    collection, _, schema = _KINDS[kind]

    @operation(
        "GET",
        f"/v1/{collection}/{{{kind}}}",
        tool=f"get_{kind}",
        summary=summary,
        request=s.obj({kind: c.id_param(kind)}, required=(kind,)),
        response=schema,
    )
    def read(self: Crm, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return _versioned(self._get(kind, params[kind]))

    return read


def _lister(kind: str, summary: str, /, **filters: s.Schema) -> Callable[..., Reply]:
    """The operation ``list_<collection>``: newest first, filtered by ``filters``."""
    collection, _, schema = _KINDS[kind]

    @operation(
        "GET",
        f"/v1/{collection}",
        tool=f"list_{collection}",
        summary=summary,
        request=s.paging(**filters),
        response=s.list_of(schema),
    )
    def list_records(self: Crm, ctx: CallContext, params: dict[str, Any]) -> Reply:
        wanted = self.list_filters(params, *filters)
        rows = self.query(collection, wanted)
        return Reply(status=200, body=paginate(rows, params, f"/v1/{collection}"))

    return list_records


class Crm(FakeService):
    """The simulated CRM, with ETag preconditions on every write."""

    name: ClassVar[str] = "crm"
    hosts: ClassVar[tuple[str, ...]] = ("crm.sim",)
    record_kinds: ClassVar[tuple[str, ...]] = tuple(_KINDS)
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = seed.RECORD_FIELDS
    collections: ClassVar[tuple[str, ...]] = c.COLLECTIONS

    # -- seeded data ------------------------------------------------------------
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
        return seed.seed_crm_lazily(ctx)

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        return seed.create_record(self, kind, fields)

    def revised(self, record: Record, now: int) -> None:
        c.revise(record, now)

    # -- reading and guarding records ----------------------------------------------
    def _get(self, kind: str, ident: str) -> Record:
        return self.get_or_404(_KINDS[kind][0], ident, noun=kind, param=kind)

    def _guard(self, kind: str, params: Mapping[str, Any]) -> Record:
        """The record a write targets, if nobody holds it and ``if_match`` matches.

        The record is returned read-only: rules are checked before it is copied.
        """
        ident = params[kind]
        record = self._get(kind, ident)
        noun = kind.capitalize()
        holder = record.get("locked_by")
        if holder:
            raise self.error(
                409,
                "conflict",
                f"{noun} {ident} is being changed by another writer ({holder}); "
                "wait for them to finish, re-read it and decide again.",
            )
        sent = params.get("if_match")
        if sent is not None and sent not in ("*", record["etag"]):
            message = (
                f"{noun} {ident} changed since you read it (you sent {sent}, "
                f"current is {record['etag']}); re-read it and decide again."
            )
            body = {"code": "precondition_failed", "message": message}
            raise ServiceError(
                412, {"error": {**body, "param": "if_match"}}, _etag_header(record)
            )
        return record

    def _update(
        self,
        ctx: CallContext,
        kind: str,
        params: Mapping[str, Any],
        rules: Callable[[Record, dict[str, Any]], None] | None = None,
    ) -> Reply:
        """Apply the fields of ``params`` that differ: one revision, one effect."""
        record = self._guard(kind, params)
        changes = {
            k: v
            for k, v in params.items()
            if k not in (kind, "if_match") and record.get(k) != v
        }
        if rules is not None:
            rules(record, changes)
        if changes:
            record = self.state[_KINDS[kind][0]].writable(record["id"])
            record.update(changes)
            c.revise(record, ctx.now)
            ctx.commit(
                business_key=f"{kind}:{record['id']}:{','.join(sorted(changes))}",
                params=changes,
                ref=record["id"],
            )
        return _versioned(record)

    # -- accounts -------------------------------------------------------------------
    get_account = _reader(
        "account",
        "Read a customer account: tier, billing plan, owner, ARR, health, renewal "
        "date, and its etag (pass it as if_match when you change it).",
    )
    list_accounts = _lister(
        "account",
        "List accounts, newest first; filter by customer, owner, tier, region, health.",
        customer=s.string("Only the account of this payments customer (cus_…)."),
        owner=s.string("Only accounts this person owns."),
        tier=s.enum("Only accounts on this tier.", *c.TIERS),
        region=s.enum("Only accounts in this region.", *c.REGIONS),
        health=s.enum("Only accounts in this health.", *c.HEALTH),
    )

    @operation(
        "PATCH",
        "/v1/accounts/{account}",
        tool="update_account",
        summary=(
            "Change an account's name, tier, owner, region, health or renewal date. "
            "Pass if_match (the etag you read): without it your change overwrites "
            "whatever changed since you read the account."
        ),
        request=c.change(
            "account",
            name=s.string("Company name.", minLength=1),
            tier=s.enum("The plan sold.", *c.TIERS),
            owner=s.string("The new owner (IAM user id).", minLength=1),
            region=s.enum("Sales region.", *c.REGIONS),
            health=s.enum("Customer health.", *c.HEALTH),
            renewal_date=s.string("Next renewal (YYYY-MM-DD).", pattern=c.DATE_PATTERN),
        ),
        response=c.ACCOUNT,
        action="crm.update",
        write=True,
        reversible=True,
        compensation="update_account",
        conditional=True,
    )
    def update_account(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self._update(ctx, "account", params)

    @operation(
        "GET",
        "/v1/accounts/{account}/usage",
        tool="get_usage",
        summary="An account's monthly usage: seats bought and active, API calls.",
        request=s.paging(
            account=s.string("Account id (acc_…)."),
            period=s.string(
                "Only this month (YYYY-MM).", pattern="^[0-9]{4}-[0-9]{2}$"
            ),
            product=s.enum("Only this product.", *c.PRODUCTS),
        )
        | {"required": ["account"]},
        response=s.list_of(c.USAGE),
    )
    def get_usage(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        account = self._get("account", params["account"])["id"]
        wanted: dict[str, Any] = {
            f: params[f] for f in ("period", "product") if f in params
        }
        rows = self.query("usage", {"account": account, **wanted})
        url = f"/v1/accounts/{account}/usage"
        return Reply(status=200, body=paginate(rows, params, url))

    # -- contacts -------------------------------------------------------------------
    get_contact = _reader(
        "contact", "Read a contact: account, name, email, buying role, etag."
    )
    list_contacts = _lister(
        "contact",
        "List contacts, newest first; filter by account, email or role.",
        account=s.string("Only contacts of this account (acc_…)."),
        email=s.string("Only contacts with this email."),
        role=s.enum("Only contacts in this role.", *c.ROLES),
    )

    @operation(
        "POST",
        "/v1/contacts",
        tool="create_contact",
        summary=(
            "Add a contact to an account. An account has one contact per email "
            "(409 duplicate_contact names the existing one)."
        ),
        request=s.obj(
            {
                "account": s.string("The account (acc_…)."),
                "name": s.string("Full name.", minLength=1),
                "email": s.string("Email address.", pattern="^[^@\\s]+@[^@\\s]+$"),
                "role": s.enum("Role in the buying process (default user).", *c.ROLES),
            },
            required=("account", "name", "email"),
        ),
        response=c.CONTACT,
        status=201,
        action="crm.create",
        write=True,
        reversible=True,
    )
    def create_contact(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        account = self._get("account", params["account"])
        email = params["email"]
        self._refuse_duplicate(account["id"], email)
        fields = {
            "account": account["id"],
            "name": params["name"],
            "email": email,
            "role": params.get("role", "user"),
        }
        contact = c.make("contact", ctx.new_id("con", 14), ctx.now, fields)
        self.state["contacts"][contact["id"]] = contact
        ctx.commit(
            business_key=f"contact:{account['id']}:{email.lower()}",
            params=fields,
            ref=contact["id"],
        )
        return _versioned(contact, 201)

    def _refuse_duplicate(self, account: str, email: str, self_id: str = "") -> None:
        for other in self.state["contacts"].where("account", account):
            if other["email"].lower() == email.lower() and other["id"] != self_id:
                raise self.error(
                    409,
                    "duplicate_contact",
                    f"Account {account} already has a contact with email {email} "
                    f"({other['id']}); update that contact instead.",
                    param="email",
                )

    @operation(
        "PATCH",
        "/v1/contacts/{contact}",
        tool="update_contact",
        summary=(
            "Change a contact's name, email or role. Pass if_match (the etag you "
            "read) so a change made since is not overwritten."
        ),
        request=c.change(
            "contact",
            name=s.string("Full name.", minLength=1),
            email=s.string("Email address.", pattern="^[^@\\s]+@[^@\\s]+$"),
            role=s.enum("Role in the buying process.", *c.ROLES),
        ),
        response=c.CONTACT,
        action="crm.update",
        write=True,
        reversible=True,
        compensation="update_contact",
        conditional=True,
    )
    def update_contact(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        def rules(contact: Record, changes: dict[str, Any]) -> None:
            if "email" in changes:
                self._refuse_duplicate(
                    contact["account"], changes["email"], contact["id"]
                )

        return self._update(ctx, "contact", params, rules)

    # -- opportunities -------------------------------------------------------------
    get_opportunity = _reader(
        "opportunity",
        "Read an opportunity: kind, stage, amount, close date, discount, pricing "
        "exception, etag.",
    )
    list_opportunities = _lister(
        "opportunity",
        "List opportunities, newest first; filter by account, kind or stage.",
        account=s.string("Only opportunities of this account (acc_…)."),
        kind=s.enum("Only this kind.", *c.KINDS),
        stage=s.enum("Only this stage.", *c.STAGES),
    )

    @operation(
        "PATCH",
        "/v1/opportunities/{opportunity}",
        tool="update_opportunity",
        summary=(
            "Move an opportunity's stage (forward only, or to closed_lost), or change "
            "its amount, close date or discount. A discount above "
            f"{c.MAX_DISCOUNT_PCT}% needs an approved pricing exception: set "
            "pricing_exception to 'requested' and deal desk decides. Pass if_match "
            "(the etag you read)."
        ),
        request=c.change(
            "opportunity",
            stage=s.enum("New stage.", *c.STAGES),
            amount=s.integer("Deal value, in minor units (cents).", minimum=0),
            close_date=s.string("Expected close (YYYY-MM-DD).", pattern=c.DATE_PATTERN),
            discount_pct=s.integer(
                "Discount off list price, in percent.", minimum=0, maximum=100
            ),
            pricing_exception=s.enum(
                "Ask deal desk for a pricing exception (they approve or deny it).",
                "requested",
            ),
        ),
        response=c.OPPORTUNITY,
        action="crm.update",
        write=True,
        reversible=True,
        compensation="update_opportunity",
        conditional=True,
    )
    def update_opportunity(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return self._update(ctx, "opportunity", params, self._deal_rules)

    def _deal_rules(self, deal: Record, changes: dict[str, Any]) -> None:
        ident = deal["id"]
        stage = changes.get("stage")
        if stage is not None and stage not in next_stages(deal["stage"]):
            allowed = ", ".join(next_stages(deal["stage"])) or "none (it is closed)"
            raise self.error(
                409,
                "invalid_transition",
                f"Opportunity {ident} cannot move from {deal['stage']} to {stage}; "
                f"allowed next stages: {allowed}.",
                param="stage",
            )
        discount = changes.get("discount_pct", 0)
        exception = changes.get("pricing_exception", deal["pricing_exception"])
        if discount > c.MAX_DISCOUNT_PCT and exception != "approved":
            raise self.error(
                403,
                "pricing_exception_required",
                f"A {discount}% discount on opportunity {ident} is above the "
                f"{c.MAX_DISCOUNT_PCT}% limit and needs an approved pricing exception "
                f"(pricing_exception is '{exception}'); set it to 'requested' and "
                "wait for deal desk's decision.",
                param="discount_pct",
            )

    # -- contracts ------------------------------------------------------------------
    get_contract = _reader(
        "contract",
        "Read a contract: term, auto-renewal, seats, price per seat, terms.",
    )
    list_contracts = _lister(
        "contract",
        "List contracts, newest first; filter by account.",
        account=s.string("Only contracts of this account (acc_…)."),
    )

    # -- leads ----------------------------------------------------------------------
    get_lead = _reader(
        "lead", "Read a lead: contact details, qualification rubric, score, status."
    )
    list_leads = _lister(
        "lead",
        "List leads, newest first; filter by status, owner or source.",
        status=s.enum("Only leads in this status.", *c.LEAD_STATUSES),
        owner=s.string("Only leads this person owns."),
        source=s.enum("Only leads from this source.", *c.LEAD_SOURCES),
    )

    @operation(
        "POST",
        "/v1/leads/{lead}/qualify",
        tool="qualify_lead",
        summary=(
            "Score a lead from its rubric (employees, budget_confirmed, authority, "
            "need, timeline_months, region; pass the ones you found out) and mark it "
            f"qualified (score >= {c.QUALIFYING_SCORE}) or disqualified. Every rubric "
            "field must be known. Pass if_match (the etag you read)."
        ),
        request=c.change("lead", **c.RUBRIC_SCHEMAS),
        response=c.LEAD,
        action="crm.update",
        write=True,
        reversible=True,
        conditional=True,
    )
    def qualify_lead(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        lead = self._guard("lead", params)
        self._refuse_converted(lead)
        rubric = {f: params.get(f, lead[f]) for f in c.RUBRIC}
        missing = c.missing_rubric(rubric)
        if missing:
            raise self.error(
                422,
                "missing_rubric_fields",
                f"Lead {lead['id']} cannot be qualified: its rubric is missing "
                f"{', '.join(missing)}; find them out and pass them to qualify_lead.",
                param=missing[0],
            )
        score = c.lead_score(rubric)
        status = "qualified" if score >= c.QUALIFYING_SCORE else "disqualified"
        outcome = {**rubric, "score": score, "status": status}
        if any(lead[k] != v for k, v in outcome.items()):
            lead = self.state["leads"].writable(lead["id"])
            lead.update(outcome)
            c.revise(lead, ctx.now)
            ctx.commit(
                business_key=f"lead:{lead['id']}:qualify",
                params=outcome,
                ref=lead["id"],
            )
        return _versioned(lead)

    def _refuse_converted(self, lead: Record) -> None:
        if lead["status"] == "converted":
            raise self.error(
                409,
                "lead_converted",
                f"Lead {lead['id']} was already converted to account "
                f"{lead['converted_account']}; work on that account instead.",
            )

    @operation(
        "POST",
        "/v1/leads/{lead}/convert",
        tool="convert_lead",
        summary=(
            "Convert a qualified lead: creates an account for its company and a "
            "contact for the person, and marks the lead converted. Pass if_match."
        ),
        request=c.change("lead"),
        response=CONVERSION,
        status=201,
        action="crm.create",
        write=True,
        reversible=False,
        conditional=True,
    )
    def convert_lead(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        lead = self._guard("lead", params)
        self._refuse_converted(lead)
        if lead["status"] != "qualified":
            raise self.error(
                409,
                "lead_not_qualified",
                f"Lead {lead['id']} is {lead['status']}; only a qualified lead can "
                "be converted (qualify it first).",
            )
        account = c.lead_account(lead, ctx.new_id("acc", 14), ctx.now)
        self.state["accounts"][account["id"]] = account
        contact = c.lead_contact(lead, account, ctx.new_id("con", 14), ctx.now)
        self.state["contacts"][contact["id"]] = contact
        lead = self.state["leads"].writable(lead["id"])
        lead["status"] = "converted"
        lead["converted_account"] = account["id"]
        lead["converted_contact"] = contact["id"]
        c.revise(lead, ctx.now)
        ident = lead["id"]
        ctx.commit(
            business_key=f"lead:{ident}:account",
            params={"lead": ident, "name": account["name"]},
            ref=account["id"],
        )
        ctx.commit(
            business_key=f"lead:{ident}:contact",
            params={"lead": ident, "account": account["id"], "email": lead["email"]},
            ref=contact["id"],
        )
        return Reply(
            status=201,
            body={
                "object": "lead_conversion",
                "lead": lead,
                "account": account,
                "contact": contact,
            },
            headers=_etag_header(lead),
        )
