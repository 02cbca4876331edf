"""What every simulated system is made of.

A fake service is a class with named collections of records (its ``state``), a set
of operations declared with :func:`operation`, and business rules inside the
handlers. Each operation carries its JSON Schema contract; the gateway validates
requests and responses against it, renders it as a function-calling spec, and routes
HTTP requests to it by method and path. Handlers commit side effects through
:meth:`CallContext.commit`, which writes the effects ledger.

A service sees the world it lives in only through :class:`WorldView`, the few
things fakes use (clock, ids, ledger, history, seeded randomness, the scripted
humans, the other services); the harness's world implements it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import random
from binascii import b2a_base64
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from fakes._schema import field_names
from fakes.operations import IF_MATCH as IF_MATCH
from fakes.operations import Handler as Handler
from fakes.operations import Operation as Operation
from fakes.operations import Reply as Reply
from fakes.operations import ServiceError as ServiceError
from fakes.operations import operation as operation
from fakes.operations import with_precondition
from fakes.table import Record as Record
from fakes.table import Table, json_copy

if TYPE_CHECKING:
    from faker import Faker

    from fakes.lazy import SeedContext

#: A collection's seeded records by id, as ``populate`` builds them.
Seed = dict[str, dict[str, Record]]
#: A run's collections: copy-on-write tables over the shared seed.
State = dict[str, Table]


@dataclass(frozen=True, slots=True, kw_only=True)
class WorldScale:
    """How big the seeded enterprise is."""

    name: str
    customers: int
    charges: int
    vendors: int
    tickets: int
    employees: int


SCALES: dict[str, WorldScale] = {
    "small": WorldScale(
        name="small", customers=100, charges=300, vendors=20, tickets=60, employees=40
    ),
    "large": WorldScale(
        name="large",
        customers=10_000,
        charges=50_000,
        vendors=1_000,
        tickets=5_000,
        employees=2_000,
    ),
}


class EntryType(StrEnum):
    """A history entry's type, in the manner of Jepsen: invoke / ok / fail / info."""

    INVOKE = "invoke"
    OK = "ok"
    FAIL = "fail"
    INFO = "info"


class Clock(Protocol):
    """The world's virtual clock, as fakes use it."""

    @property
    def now(self) -> float:
        """Seconds of simulated time since the run started."""
        ...

    def epoch(self) -> float:
        """The simulated Unix time."""
        ...

    def call_later(self, delay: float, callback: Callable[[], Any]) -> None:
        """Run ``callback`` after ``delay`` simulated seconds."""
        ...


class EffectLedger(Protocol):
    """Where committed side effects are written (:meth:`CallContext.commit`)."""

    def commit(
        self,
        *,
        time: float,
        service: str,
        operation: str,
        business_key: str,
        params: Mapping[str, Any],
        ref: str | None = None,
        call: int | None = None,
        reversible: bool | None = None,
        compensation: str | None = None,
    ) -> object: ...


class HistorySink(Protocol):
    """Where fakes write what happens outside a call (a human's decision)."""

    def append(
        self,
        time: float,
        process: str,
        type: EntryType,
        f: str,
        call: int | None = None,
        value: Mapping[str, Any] | None = None,
    ) -> object: ...


class SecretBook(Protocol):
    """Where a fake declares the secrets it issues (reset links, tokens), so no
    trace or report shows them in clear."""

    def add(self, value: str, kind: str) -> str: ...
    def redact_json(self, value: Any) -> Any: ...


class WorldView(Protocol):
    """All a fake service may use of the world it runs in."""

    @property
    def secrets(self) -> SecretBook: ...

    @property
    def clock(self) -> Clock: ...
    @property
    def ids(self) -> IdGenerator: ...
    @property
    def ledger(self) -> EffectLedger: ...
    @property
    def history(self) -> HistorySink: ...
    @property
    def rng(self) -> random.Random:
        """The run's seeded randomness (scenario records' made-up fields)."""
        ...

    @property
    def faker(self) -> Faker: ...
    @property
    def humans(self) -> Mapping[str, Any]:
        """The scenario's scripted humans by role (``approver``)."""
        ...

    @property
    def services(self) -> Mapping[str, FakeService]:
        """The other services of the world, by name."""
        ...


#: Base64's two symbols mapped into letters: ids stay alphanumeric, like Stripe's.
_ALNUM = bytes.maketrans(b"+/", b"xZ")
_LOWER, _UPPER, _DIGITS = (
    "abcdefghijklmnopqrstuvwxyz",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "0123456789",
)
#: A seeded id's suffix starts with a capital, a run's with a small letter or a
#: digit: the two never collide, so a run need not know the seeded ids.
_SEEDED_FIRST = str.maketrans(_LOWER + _DIGITS, _UPPER + _UPPER[:10])
_RUN_FIRST = str.maketrans(_UPPER, _LOWER)


def _byte_table(space: Mapping[int, int]) -> bytes | None:
    """``space`` as a bytes translation table (None: it maps beyond a byte)."""
    table = [space.get(i, i) for i in range(256)]
    if all(isinstance(v, int) and 0 <= v < 256 for v in table):
        return bytes(table)
    return None


#: The two id spaces' first-character maps, as bytes tables (made once).
_BYTE_TABLES = {id(s): _byte_table(s) for s in (_SEEDED_FIRST, _RUN_FIRST)}


class IdGenerator:
    """Seeded, collision-free identifiers in a service's own style (``ch_3Nx…``).

    The generator that builds a seeded world (:meth:`seeded`) and a run's
    (:meth:`fork`) draw from disjoint id spaces, so a run's ids never repeat a
    seeded one without the run holding the seeded ids.
    """

    __slots__ = ("_base", "_first", "_first_bytes", "_rng", "_seen")

    def __init__(
        self,
        rng: random.Random,
        base: frozenset[str] = frozenset(),
        *,
        space: Mapping[int, int] | None = None,
    ) -> None:
        self._rng = rng
        self._base = base
        self._seen: set[str] = set()
        self._first = space
        self._first_bytes = (
            None
            if space is None
            else _BYTE_TABLES[id(space)]
            if id(space) in _BYTE_TABLES
            else _byte_table(space)
        )

    def new(self, prefix: str, length: int = 24) -> str:
        rng, first, seen = self._rng, self._first_bytes, self._seen
        size = length * 3 // 4 + 3
        while True:
            raw = b2a_base64(rng.randbytes(size), newline=False)[:length]
            raw = raw.translate(_ALNUM)
            if first is not None:
                suffix = (raw[:1].translate(first) + raw[1:]).decode()
            elif self._first is not None:  # a map beyond bytes
                suffix = raw.decode()
                suffix = suffix[0].translate(self._first) + suffix[1:]
            else:
                suffix = raw.decode()
            ident = f"{prefix}_{suffix}"
            if ident not in seen and ident not in self._base:
                seen.add(ident)
                return ident

    def made(self, ident: str) -> bool:
        """Whether this generator made ``ident``."""
        return ident in self._seen

    def freeze(self) -> frozenset[str]:
        """Every id made so far (the seeded world's ids)."""
        return self._base | self._seen

    @classmethod
    def seeded(cls, rng: random.Random) -> IdGenerator:
        """The generator that builds a seeded world's records."""
        return cls(rng, space=_SEEDED_FIRST)

    @classmethod
    def fork(cls, base: frozenset[str], rng: random.Random) -> IdGenerator:
        """A run's generator: its own stream, never repeating a seeded id (those
        in ``base``, or any made by a :meth:`seeded` generator)."""
        return cls(rng, base, space=_RUN_FIRST)


class CallContext:
    """What a handler may use: the world's clock, ids, ledger, and who is calling."""

    __slots__ = (
        "call",
        "failing",
        "idempotency_key",
        "identity",
        "op",
        "service",
        "world",
    )

    def __init__(
        self,
        world: WorldView,
        service: FakeService,
        op: Operation,
        call: int | None,
        identity: str,
        idempotency_key: str | None,
    ) -> None:
        self.world = world
        self.service = service
        self.op = op
        self.call = call
        self.identity = identity
        self.idempotency_key = idempotency_key
        #: Batch items (0-based) an injected partial failure makes fail.
        self.failing: frozenset[int] = frozenset()

    @property
    def now(self) -> int:
        """The simulated Unix time in whole seconds (for ``created`` fields)."""
        return int(self.world.clock.epoch())

    def new_id(self, prefix: str, length: int = 24) -> str:
        return self.world.ids.new(prefix, length)

    def secret(self, value: str, kind: str) -> str:
        """``value``, declared a secret of ``kind`` (``reset_link``): the agent
        gets it as it is; traces and reports show a stable alias instead."""
        return self.world.secrets.add(value, kind)

    def commit(
        self, *, business_key: str, params: Mapping[str, Any], ref: str | None = None
    ) -> None:
        """Record a committed side effect of this operation in the ledger."""
        self.world.ledger.commit(
            time=self.world.clock.now,
            service=self.service.name,
            operation=self.op.name,
            business_key=business_key,
            params=params,
            ref=ref,
            call=self.call,
            reversible=self.op.reversible,
            compensation=self.op.compensation,
        )


def same_param(a: Any, b: Any) -> bool:
    """Parameter equality across doors: form bodies carry ``"1200"``, JSON ``1200``."""
    return a == b or (a is not None and b is not None and str(a) == str(b))


def fingerprint(params: Mapping[str, Any]) -> str:
    """A stable digest of request parameters (idempotency, business keys)."""
    return hashlib.sha256(_CANONICAL.encode(params).encode()).hexdigest()[:16]


def canonical_json(params: Mapping[str, Any]) -> str:
    """The parameters as the canonical JSON :func:`fingerprint` digests: equal for
    the same call made again."""
    return _CANONICAL.encode(params if type(params) is dict else dict(params))


#: :func:`fingerprint`'s JSON, made once (``json.dumps`` with options builds an
#: encoder per call).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


@dataclass(slots=True)
class _StoredReply:
    fingerprint: str
    stored_at: float
    reply: Reply


class FakeService:
    """Base class of the simulated systems.

    Subclasses set ``name`` and ``hosts``, declare operations with
    :func:`operation`, build their seeded data in :meth:`populate`, and create
    scenario records in :meth:`create_record`.
    """

    name: ClassVar[str]
    hosts: ClassVar[tuple[str, ...]]
    #: Whose wire format the HTTP routes follow: a real product's (so its SDK
    #: works unchanged at its real host), or the harness's own.
    wire_format: ClassVar[str] = "the harness's own"
    #: Whether policy packs govern calls to this service (a model provider is
    #: the agent's own thinking, not an action on an enterprise system).
    governed: ClassVar[bool] = True
    #: Simulated seconds an ordinary call takes (deterministic service time).
    latency: ClassVar[float] = 0.05
    #: How long an idempotency key is remembered, in simulated seconds.
    idempotency_ttl: ClassVar[float] = 24 * 3600.0
    operations: ClassVar[tuple[Operation, ...]] = ()
    #: Kinds a scenario may create as named records (``world.records``).
    record_kinds: ClassVar[tuple[str, ...]] = ()
    #: Per record kind, the JSON Schema of the fields a scenario may give it: a
    #: closed object naming each field ``create_record`` accepts, with its type
    #: and, for a closed set of values, its ``enum``. The scenario loader checks
    #: ``world.records`` against it; :meth:`check_record_fields` reads its names.
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    #: Collections in ``state`` (what outcome assertions count and read).
    collections: ClassVar[tuple[str, ...]] = ()
    #: The error code of the 404 for a missing record (:meth:`get_or_404`).
    not_found_code: ClassVar[str] = "not_found"
    #: The status it answers when overloaded (the ``overload`` fault; Anthropic's
    #: API says 529).
    overloaded_status: ClassVar[int] = 503

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):  # a subclass may override a handler
            for attr, member in vars(klass).items():
                if hasattr(member, "__aqe_operation__"):
                    handlers[attr] = member
        cls.operations = tuple(
            Operation(
                service=cls.name, handler=h, **with_precondition(h.__aqe_operation__)
            )
            for _, h in sorted(handlers.items())
        )

    def __init__(self, state: State, world: WorldView) -> None:
        self.state = state
        self.world = world
        self._idempotency: dict[tuple[str, str], _StoredReply] = {}

    # -- seeded data -------------------------------------------------------
    @classmethod
    def populate(
        cls,
        faker: Faker,
        rng: random.Random,
        ids: IdGenerator,
        peers: Mapping[str, Seed],
        scale: WorldScale,
    ) -> Seed:
        """Build this service's seeded initial state (cached per seed).

        Called when a run first reads one of its collections. ``peers`` holds
        the states of the services registered before this one (each built when
        first read), so records can share keys across systems (a ticket names a
        real customer). ``faker``, ``rng`` and ``ids`` are this service's own,
        seeded from the seed and its name; people are cheaper made with
        :class:`fakes.people.People` (Faker's names, read once) than ``faker``.
        """
        return {name: {} for name in cls.collections}

    @classmethod
    def seed_lazily(cls, ctx: SeedContext) -> Mapping[str, Mapping[str, Record]] | None:
        """This service's seeded collections, each made record by record, or None.

        Optional (the default None builds them all with :meth:`populate`): a
        service whose worlds are large returns, per collection, a
        :class:`fakes.lazy.LazyRecords` whose records are made when first read
        from ``ctx``'s streams alone, so a run pays for the records it reads.
        Such a service's ``populate`` should make the same kind of world, e.g.
        with :func:`fakes.lazy.populate_lazily`.
        """
        return None

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        """Create a named scenario record of ``kind`` from ``fields``."""
        raise self.unknown_kind(kind)

    def check_record_fields(self, kind: str, fields: Mapping[str, Any]) -> None:
        """Reject a scenario record's field that ``kind`` does not have (a typo):
        one that its :attr:`record_fields` schema does not declare."""
        known = field_names(self.record_fields.get(kind, {}))
        unknown = sorted(set(fields) - set(known))
        if unknown:
            article = "an" if self.name[:1] in ("a", "e", "i", "o", "u") else "a"
            raise ValueError(
                f"unknown field {unknown[0]!r} for {article} {self.name} {kind} "
                f"(fields: {', '.join(known)})"
            )

    def unknown_kind(self, kind: str) -> LookupError:
        kinds = ", ".join(sorted(self.state)) or "none"
        return LookupError(
            f"service {self.name!r} has no record kind {kind!r} (kinds: {kinds})"
        )

    # -- queries used by oracles and scenarios ------------------------------
    def records(self, kind: str) -> Table:
        try:
            return self.state[kind]
        except KeyError:
            raise self.unknown_kind(kind) from None

    def query(self, kind: str, where: Mapping[str, Any]) -> list[Record]:
        """Records of ``kind`` whose fields equal every value in ``where``."""
        table = self.records(kind)
        if not where:
            return list(table.values())
        (first, wanted), *rest = where.items()
        return [
            r for r in table.where(first, wanted) if all(r.get(k) == v for k, v in rest)
        ]

    # -- what handlers share ----------------------------------------------------
    def get_or_404(
        self,
        collection: str,
        ident: str,
        *,
        noun: str | None = None,
        param: str | None = None,
        owner: str | None = None,
    ) -> Record:
        """Record ``ident`` of ``collection``, else this service's 404 naming it.

        ``noun`` defaults to the collection's singular (``charges``: ``charge``);
        ``param`` is the request parameter the error blames; ``owner`` names
        the peer service holding the collection (an IAM user named in an ERP
        call), missing or not.
        """
        holder = self if owner is None else self.world.services.get(owner)
        record = holder.state[collection].get(ident) if holder is not None else None
        if record is None:
            noun = collection[:-1] if noun is None else noun
            message = f"No such {noun}: '{ident}'"
            raise self.error(404, self.not_found_code, message, param=param)
        return record

    @staticmethod
    def list_filters(params: Mapping[str, Any], *fields: str) -> dict[str, Any]:
        """The list filters present in a request (those given and not null)."""
        return {f: params[f] for f in fields if params.get(f) is not None}

    # -- errors in the service's own wire format ------------------------------
    def error(
        self, status: int, code: str, message: str, *, param: str | None = None
    ) -> ServiceError:
        body: dict[str, Any] = {"error": {"code": code, "message": message}}
        if param is not None:
            body["error"]["param"] = param
        return ServiceError(status, body)

    def invalid_request(
        self, message: str, *, rule: str, param: str | None, value: Any = None
    ) -> Reply:
        """The answer to a request that breaks the operation's contract."""
        return self.error(400, "invalid_request", message, param=param).reply

    def unauthorized(self, credential: str | None) -> Reply:
        """The answer to a call without a valid credential."""
        return self.error(
            401, "unauthorized", "Missing or invalid bearer credential."
        ).reply

    def unavailable(self, status: int, retry_after: float | None) -> Reply:
        """An injected server-side failure, in the service's own words."""
        headers = {} if retry_after is None else {"retry-after": f"{retry_after:g}"}
        code = "rate_limited" if status == 429 else "unavailable"
        message = (
            "Too many requests; retry later."
            if status == 429
            else "The service is temporarily unavailable."
        )
        return Reply(
            status=status,
            body={"error": {"code": code, "message": message}},
            headers=headers,
        )

    def idempotency_conflict(self, key: str) -> Reply:
        return self.error(
            400,
            "idempotency_error",
            f"Idempotency key {key!r} was already used with different parameters.",
        ).reply

    def effective_params(self, op: Operation, params: dict[str, Any]) -> dict[str, Any]:
        """Parameters with the service's defaults filled in (what policy judges)."""
        return params

    # -- batches and other writers ----------------------------------------------
    def batch(
        self,
        ctx: CallContext,
        items: Iterable[dict[str, Any]],
        one: Callable[[CallContext, dict[str, Any]], Record],
    ) -> Reply:
        """Handle each item with ``one``: some may commit while others fail.

        An item fails with the service's own error when ``one`` raises one, or
        with ``upstream_unavailable`` when an injected partial failure picks it.
        """
        results: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            if index in ctx.failing:
                error = {
                    "code": "upstream_unavailable",
                    "message": "This item could not be processed; it did not"
                    " take effect.",
                }
                results.append({"index": index, "status": "failed", "error": error})
                continue
            try:
                record = one(ctx, item)
            except ServiceError as err:
                error = dict(err.reply.body.get("error", err.reply.body))
                results.append({"index": index, "status": "failed", "error": error})
            else:
                results.append(
                    {"index": index, "status": "succeeded", "result": record}
                )
        failed = sum(r["status"] == "failed" for r in results)
        body = {
            "object": "batch",
            "results": results,
            "succeeded": len(results) - failed,
            "failed": failed,
        }
        return Reply(status=200, body=body)

    def undoes(self, effect: Any, later: Any) -> bool:
        """Whether ledger entry ``later`` undoes ``effect`` (its compensation, on
        the same record). Services whose compensating tool also does other work
        say which calls of it are the undo."""
        return bool(
            effect.compensation is not None
            and later.operation == effect.compensation
            and later.ref == effect.ref
        )

    def lookup(self, ref: str) -> Record | None:
        """The record a call's parameter names (by id here; some services also
        take names), for policy conditions such as ``group.privileged``."""
        found = self.find_record(ref)
        return None if found is None else found[1]

    def find_record(self, ident: str) -> tuple[str, Record] | None:
        """``(collection, record)`` for the record with id ``ident``, if any."""
        for name, table in self.state.items():
            record = table.get(ident)
            if record is not None:
                return name, record
        return None

    def external_change(
        self, ident: str, changes: Mapping[str, Any], *, actor: str, revise: bool
    ) -> Record | None:
        """Another writer (not the agent) changes record ``ident``; not ledgered.

        ``revise`` marks it as a new revision, where the service versions its
        records (see :meth:`revised`). Returns the changed record, or ``None``.
        """
        found = self.find_record(ident)
        if found is None:
            return None
        record = self.state[found[0]].writable(ident)
        record.update(json_copy(dict(changes)))
        if revise:
            self.revised(record, int(self.world.clock.epoch()))
        return record

    def revised(self, record: Record, now: int) -> None:
        """Mark a changed record as a new revision (services that version them)."""
        if "updated" in record:
            record["updated"] = now

    # -- the one entry point the gateway uses ----------------------------------
    def dispatch(
        self, op: Operation, params: dict[str, Any], ctx: CallContext
    ) -> Reply:
        """Run an operation, honouring idempotency keys where the service does."""
        key = ctx.idempotency_key
        if op.idempotent and key is not None:
            return self._dispatch_idempotent(op, params, ctx, key)
        return self._execute(op, params, ctx)

    def _execute(
        self, op: Operation, params: dict[str, Any], ctx: CallContext
    ) -> Reply:
        try:
            return op.handler(self, ctx, params)
        except ServiceError as err:
            return err.reply

    def _dispatch_idempotent(
        self, op: Operation, params: dict[str, Any], ctx: CallContext, key: str
    ) -> Reply:
        now = self.world.clock.now
        slot = (ctx.identity, key)
        digest = fingerprint({"op": op.name, "params": params})
        stored = self._idempotency.get(slot)
        if stored is not None and now - stored.stored_at < self.idempotency_ttl:
            if stored.fingerprint != digest:
                return self.idempotency_conflict(key)
            headers = {**stored.reply.headers, "idempotent-replayed": "true"}
            body = copy.deepcopy(stored.reply.body)
            return Reply(status=stored.reply.status, body=body, headers=headers)
        reply = self._execute(op, params, ctx)
        # Store a copy: the body is often the live record, which later calls change.
        stored_reply = Reply(
            status=reply.status, body=copy.deepcopy(reply.body), headers=reply.headers
        )
        self._idempotency[slot] = _StoredReply(digest, now, stored_reply)
        return reply


def by_name(services: Iterable[type[FakeService]]) -> dict[str, type[FakeService]]:
    return {s.name: s for s in services}


#: Operations by tool name, by the services' operation tuples (declared once per
#: class, so a run's services share them), with the tuples kept alive.
_OPERATIONS: dict[tuple[int, ...], tuple[object, dict[str, Operation]]] = {}


def operations_by_name(services: Iterable[FakeService]) -> Mapping[str, Operation]:
    """The operations of ``services`` by tool name: the same mapping (read only)
    for every run with the same services."""
    declared = tuple(service.operations for service in services)
    key = tuple(map(id, declared))
    found = _OPERATIONS.get(key)
    if found is None:
        if len(_OPERATIONS) >= 64:
            _OPERATIONS.clear()
        by_op = {op.name: op for ops in declared for op in ops}
        found = _OPERATIONS[key] = (declared, by_op)
    return found[1]


def paginate(
    records: Iterable[Record], params: Mapping[str, Any], url: str
) -> dict[str, Any]:
    """A Stripe-style list page, newest first, honouring limit/starting_after."""
    # Newest first; among equal ``created``, the later-inserted first.
    newest_first = list(records)[::-1]
    ordered = sorted(newest_first, key=lambda r: r.get("created", 0), reverse=True)
    after = params.get("starting_after")
    if after is not None:
        ids = [r["id"] for r in ordered]
        ordered = ordered[ids.index(after) + 1 :] if after in ids else []
    limit = int(params.get("limit", 10))
    return {
        "object": "list",
        "data": ordered[:limit],
        "has_more": len(ordered) > limit,
        "url": url,
    }
