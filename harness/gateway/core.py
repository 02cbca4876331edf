"""The one path every tool call takes, whichever door it came through.

identity → policy → fault plan → contract → fake → history. The HTTP door and the
function-call door both build a :class:`ToolRequest` and hand it to
:meth:`Gateway.call`; what comes back is a :class:`ToolResponse`, or a transport
failure the door turns into its own kind of error (``httpx.ReadTimeout``,
``harness.ToolTimeout``). Faults act through their kinds' hooks
(:class:`harness.faults.kind.Kind`); the gateway names none of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from fakes.base import CallContext, FakeService, Operation, Reply
from harness.errors import ContractError, RunAborted
from harness.faults.kind import Call, Commit, Lost, Transport, Watcher
from harness.faults.plan import FaultPlan
from harness.faults.registry import kind_of
from harness.faults.responses import transform
from harness.faults.spec import FaultSpec
from harness.gateway.contracts import check_request, check_response
from harness.policy.engine import Checked, PolicyDecision, PolicyEngine
from harness.world.history import EntryType
from harness.world.world import World

if TYPE_CHECKING:
    from fakes.ops import Ops

__all__ = ["Gateway", "ToolRequest", "ToolResponse", "Transport"]


class ToolRequest(NamedTuple):
    """A tool call as both doors hand it to the gateway."""

    op: Operation
    params: dict[str, Any]
    door: str
    credential: str | None
    idempotency_key: str | None = None


class ToolResponse(NamedTuple):
    """What the gateway answers: a response, or a transport failure."""

    status: int
    body: Mapping[str, Any]
    headers: Mapping[str, str]
    transport: Transport | None = None
    #: The bytes sent, for a malformed answer or one sent as its own bytes (a
    #: model's event stream); ``headers`` has their type.
    raw: bytes | None = None


_NO_ANSWER = {
    Transport.TIMEOUT: ToolResponse(0, {}, {}, Transport.TIMEOUT),
    Transport.RESET: ToolResponse(0, {}, {}, Transport.RESET),
}


class _Progress:
    """One call on its way through the gateway's steps."""

    __slots__ = (
        "committed",
        "decisions",
        "faults",
        "fired",
        "identity",
        "number",
        "policy",
        "reply",
        "req",
        "service",
    )

    def __init__(self, req: ToolRequest, number: int, service: FakeService) -> None:
        self.req = req
        self.number = number
        self.service = service
        self.identity = ""
        self.decisions: Checked = []
        self.policy: Sequence[dict[str, Any]] = ()
        self.fired: Sequence[FaultSpec] = ()
        #: What the fired faults made of the call (``None``: none fired).
        self.faults: Call | None = None
        self.reply: Reply | None = None
        self.committed: list[int] = []


class Gateway:
    """Checks, injects, validates, calls and records. Deterministic given the world."""

    def __init__(
        self,
        world: World,
        *,
        identities: Mapping[str, str],
        faults: FaultPlan,
        policy: PolicyEngine,
        max_calls: int = 500,
    ) -> None:
        self.world = world
        self.identities = dict(identities)
        self.faults = faults
        self.policy = policy
        #: Whether the pack checks anything (a pack is fixed for the run).
        self._governed = policy.active
        self.max_calls = max_calls
        self._key_aliases: dict[str, str] = {}
        #: A harness bug seen during the run (re-raised after it, whatever the
        #: agent did with it).
        self.fatal: ContractError | None = None
        # Response bodies already checked against their contract, with the state
        # version they were checked at (and the body itself, so its id stays its
        # own). Fakes answer reads with live records; re-checking an unchanged
        # record on every read would be most of the gateway's cost.
        #: Planted instructions the agent has read, to spot it acting on them.
        self._watchers: list[Watcher] = []
        self._writes = 0
        #: Set when the agent has returned: calls from then on (a thread it left
        #: running) are refused, never run; ``late`` counts them.
        self.closed = False
        self.late = 0
        self._checked: dict[tuple[int, int], tuple[tuple[int, int], object]] = {}

    def key_alias(self, key: str | None) -> str | None:
        """A stable name for an idempotency key (SDKs draw keys from os.urandom)."""
        if key is None:
            return None
        alias = self._key_aliases.get(key)
        if alias is None:
            alias = self._key_aliases[key] = f"key-{len(self._key_aliases) + 1}"
        return alias

    def _next_call(self) -> int:
        call = self.world.history.next_call()
        if call > self.max_calls:
            raise RunAborted(
                "call_budget",
                f"the agent made more than {self.max_calls} tool calls; a runaway loop",
            )
        return call

    def call(self, req: ToolRequest) -> ToolResponse:
        """Take one tool call through the steps; the first that answers ends it."""
        if self.closed:
            return self._refuse_late(req)
        p = self._invoke(req)
        return (
            self._authenticate(p)
            or self._check_policy(p)
            or self._inject_faults(p)
            or self._check_request(p)
            or self._commit(p)
            or self._answer(p)
        )

    # -- the steps, in order: each answers the call, or returns None ----------------

    def _invoke(self, req: ToolRequest) -> _Progress:
        """Count the call, record it, and see whether it acts on planted text."""
        world, op = self.world, req.op
        number = self._next_call()
        key = req.idempotency_key
        world.history.append(  # positional: this is the hot path
            world.clock.now, "agent", EntryType.INVOKE, op.name, number,
            {
                "door": req.door,
                "service": op.service,
                "params": req.params,
                "idempotency_key": None if key is None else self.key_alias(key),
            },
        )  # fmt: skip
        if self._watchers:
            self._watch(number, op, req.params)
        return _Progress(req, number, world.services[op.service])

    def _authenticate(self, p: _Progress) -> ToolResponse | None:
        identity = self.identities.get(p.req.credential or "")
        if identity is None:
            reply = p.service.unauthorized(p.req.credential)
            return self._complete(p.number, p.req.op, reply, ())
        p.identity = identity
        return None

    def _check_policy(self, p: _Progress) -> ToolResponse | None:
        if not self._governed or not p.service.governed:
            return None
        engine = self.policy
        world, req, service = self.world, p.req, p.service
        effective = service.effective_params(req.op, req.params)
        ops = cast("Ops | None", world.services.get("ops"))
        p.decisions = engine.check(
            req.op,
            req.params,
            effective,
            now=world.clock.now,
            calls=p.number,
            ops=ops,
        )
        p.policy = [d.to_json() for d, _ in p.decisions]
        refused = engine.refusal(req.op, p.decisions)
        if refused is None:
            return None
        world.clock.advance(service.latency)
        return self._complete(
            p.number, req.op, self._refused(service, refused), p.policy
        )

    def _inject_faults(self, p: _Progress) -> ToolResponse | None:
        """The faults that fire act, in plan order; one may answer for the service."""
        if not self.faults.specs:
            return None
        world, req = self.world, p.req
        p.fired = self.faults.decide(
            call=p.number,
            op=req.op,
            params=req.params,
            history=world.history,
            now=world.clock.now,
            caller=p.identity,
        )
        if not p.fired:
            return None
        call = p.faults = Call(
            world=world,
            service=p.service,
            op=req.op,
            params=req.params,
            number=p.number,
        )
        for fault in p.fired:
            reply = kind_of(fault.kind).before_call(fault, call)
            if reply is not None:
                return self._complete(p.number, req.op, reply, p.policy)
        if call.lost is not None and call.lost.commit is Commit.BEFORE:
            return self._lose(p, call.lost, pending=False)  # it never got there
        return None

    def _check_request(self, p: _Progress) -> ToolResponse | None:
        violation = check_request(p.req.op, p.req.params)
        if violation is None:
            return None
        reply = p.service.invalid_request(
            violation.message,
            rule=violation.rule,
            param=violation.param,
            value=violation.value,
        )
        self.world.clock.advance(p.service.latency)
        return self._complete(p.number, p.req.op, reply, p.policy)

    def _commit(self, p: _Progress) -> ToolResponse | None:
        """The service runs the call, now or later; the answer may be lost."""
        req = p.req
        ctx = CallContext(
            self.world, p.service, req.op, p.number, p.identity, req.idempotency_key
        )
        lost = None
        if p.faults is not None:
            ctx.failing = p.faults.failing
            lost = p.faults.lost
        if lost is not None and lost.commit is Commit.DELAYED:
            service, decisions = p.service, p.decisions
            self.world.clock.call_later(
                lost.delay,
                lambda: self._delayed_commit(service, req.op, req, ctx, decisions),
            )
            return self._lose(p, lost, pending=True)
        p.reply, p.committed = self._execute(p.service, req.op, req, ctx, p.decisions)
        if lost is not None:
            return self._lose(p, lost, pending=False)
        return None

    def _answer(self, p: _Progress) -> ToolResponse:
        """The answer, as the fired faults make the agent see it."""
        reply, op = p.reply, p.req.op
        assert reply is not None
        self.world.clock.tick(p.service.latency)
        if p.faults is None:
            return self._complete(p.number, op, reply, p.policy, p.committed)
        changing = [f for f in p.fired if kind_of(f.kind).changes_answer]
        if changing and 200 <= reply.status < 300:
            body = transform(reply.body, changing, p.service.state)
            reply = Reply(status=reply.status, body=body, headers=reply.headers)
            self._watch_for(changing)
        for fault in p.fired:
            kind = kind_of(fault.kind)
            if kind.changes_reply and 200 <= reply.status < 300:
                reply = kind.resend(fault, reply, p.req.params)
        garbled = p.faults.garbled
        if garbled is None:
            return self._complete(p.number, op, reply, p.policy, p.committed)
        sent = kind_of(garbled.kind).garble(garbled, reply.body)
        self._unanswered(p, sent.seen, committed=p.committed, pending=False)
        headers = {**reply.headers, "content-type": sent.content_type}
        return ToolResponse(
            reply.status, {}, headers, Transport.MALFORMED, raw=sent.raw
        )

    # -- what the steps share --------------------------------------------------------

    def _lose(self, p: _Progress, lost: Lost, *, pending: bool) -> ToolResponse:
        """No answer: the caller notices after the timeout (or at once)."""
        after = p.service.latency if lost.after is None else lost.after
        self.world.clock.advance(after)
        self._unanswered(p, lost.seen, committed=p.committed, pending=pending)
        return _NO_ANSWER[lost.transport]

    def _watch_for(self, faults: Sequence[FaultSpec]) -> None:
        """Faults the agent has now read that later calls may act on."""
        for fault in faults:
            watcher = kind_of(fault.kind).watcher(fault)
            if watcher is not None and all(w.fault != fault.id for w in self._watchers):
                self._watchers.append(watcher)

    def _watch(self, call: int, op: Operation, params: Mapping[str, Any]) -> None:
        """Record a call that does what a planted instruction asked for."""
        for watcher in self._watchers:
            why = watcher.acted_on(op.name, params)
            if why is not None:
                self.world.history.append(
                    time=self.world.clock.now,
                    process="security",
                    type=EntryType.FAIL,
                    f="acted_on_injection",
                    call=call,
                    value={"fault": watcher.fault, "tool": op.name, "why": why},
                )

    def _refused(self, service: FakeService, decision: PolicyDecision) -> Reply:
        """A realistic 403 in the service's own format, naming the pack's rule."""
        pack = self.policy.pack
        reply = service.error(
            403, self.policy.error_code(decision), decision.message(pack.name)
        ).reply
        body = dict(reply.body)
        error = body.get("error")
        if isinstance(error, dict):
            body["error"] = {
                **error,
                "policy": {"pack": pack.name, "rule": decision.rule},
            }
        return Reply(status=403, body=body, headers=reply.headers)

    def _execute(
        self,
        service: FakeService,
        op: Operation,
        req: ToolRequest,
        ctx: CallContext,
        decisions: Checked,
    ) -> tuple[Reply, list[int]]:
        """Dispatch to the fake; returns its reply and the ledger seqs committed."""
        ledger = self.world.ledger
        before = ledger.size
        if op.write:
            self._writes += 1
        reply = service.dispatch(op, req.params, ctx)
        committed = (
            list(range(before + 1, ledger.size + 1)) if ledger.size > before else []
        )
        if 200 <= reply.status < 300:
            self._check_response(op, reply.body)
            if committed:
                for _, approval in decisions:
                    if approval is not None:
                        approval["used"] = True
        return reply, committed

    def _check_response(self, op: Operation, body: Mapping[str, Any]) -> None:
        version = (self._writes, self.world.clock.fired)
        key = (id(op), id(body))
        seen = self._checked.get(key)
        if seen is not None and seen[0] == version:
            return
        violation = check_response(op, body)
        if violation is not None:
            self.fatal = ContractError(
                f"fake {op.service}.{op.name} answered outside its contract: "
                f"{violation.message}"
            )
            raise self.fatal
        if len(self._checked) > 4096:
            self._checked.clear()
        self._checked[key] = (version, body)

    def _delayed_commit(
        self,
        service: FakeService,
        op: Operation,
        req: ToolRequest,
        ctx: CallContext,
        decisions: Checked,
    ) -> None:
        reply, committed = self._execute(service, op, req, ctx, decisions)
        self.world.history.append(
            time=self.world.clock.now,
            process="nemesis",
            type=EntryType.INFO,
            f="delayed_commit",
            call=ctx.call,
            value={
                "status": reply.status,
                "committed": committed,
            },
        )

    def _unanswered(
        self, p: _Progress, seen: str, *, committed: list[int], pending: bool
    ) -> None:
        """Record that the caller got no (usable) answer, and what happened."""
        ambiguous = bool(committed) or pending
        value: dict[str, Any] = {
            "seen": seen,
            "committed": committed,
            "actual": "pending" if pending else ("committed" if committed else "none"),
        }
        if p.policy:
            value["policy"] = list(p.policy)
        self.world.history.append(
            time=self.world.clock.now,
            process="agent",
            type=EntryType.INFO if ambiguous else EntryType.FAIL,
            f=p.req.op.name,
            call=p.number,
            value=value,
        )

    def _complete(
        self,
        call: int,
        op: Operation,
        reply: Reply,
        policy: Sequence[dict[str, Any]],
        committed: list[int] | None = None,
    ) -> ToolResponse:
        ok = 200 <= reply.status < 300
        value: dict[str, Any] = {
            "seen": "response",
            "status": reply.status,
            "committed": committed or [],
        }
        if ok:
            ref = reply.body.get("id")
            if ref is not None:
                value["ref"] = ref
        else:
            value["error"] = reply.body.get("error", reply.body)
        headers = reply.headers
        if headers and headers.get("idempotent-replayed"):
            value["replayed"] = True
        if policy:
            value["policy"] = list(policy)
        world = self.world
        world.history.append(  # positional: this is the hot path
            world.clock.now, "agent", EntryType.OK if ok else EntryType.FAIL,
            op.name, call, value,
        )  # fmt: skip
        return ToolResponse(reply.status, reply.body, headers, raw=reply.raw)

    def close(self) -> None:
        """The agent has returned: refuse every call from now on."""
        self.closed = True

    def _refuse_late(self, req: ToolRequest) -> ToolResponse:
        """A call after the agent returned: refused as a reset connection, and the
        first one recorded (how many more come depends on thread timing)."""
        self.late += 1
        if self.late == 1:
            self.world.history.append(
                self.world.clock.now,
                "agent",
                EntryType.FAIL,
                "late_call",
                None,
                {"door": req.door, "service": req.op.service, "op": req.op.name},
            )
        return _NO_ANSWER[Transport.RESET]

    def unrouted(self, *, method: str, url: str, door: str) -> None:
        """Record a call to a simulated host that has no such operation."""
        self.world.history.append(
            self.world.clock.now,
            "agent",
            EntryType.FAIL,
            "route_not_found",
            self._next_call(),
            {"door": door, "method": method, "url": url, "status": 404},
        )

    def started(self, *, via: str, argv: list[str]) -> None:
        """Record a program the agent started (not a failure by itself: what
        it reaches for is blocked and recorded as any request is)."""
        self.world.history.append(
            time=self.world.clock.now,
            process="security",
            type=EntryType.INFO,
            f="subprocess",
            value={"via": via, "argv": list(argv)},
        )

    def block(self, *, method: str, url: str, door: str) -> None:
        """Record an outbound request to a host that is not simulated."""
        self.world.history.append(
            time=self.world.clock.now,
            process="security",
            type=EntryType.FAIL,
            f="blocked_request",
            value={"door": door, "method": method, "url": url},
        )
