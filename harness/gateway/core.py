"""The one path every tool call takes, whichever door it came through.

identity → policy → fault plan → contract → fake → history. The HTTP door and the
function-call door both build a :class:`ToolRequest` and hand it to
:meth:`Gateway.call`; what comes back is a :class:`ToolResponse`, or a transport
failure the door turns into its own kind of error (``httpx.ReadTimeout``,
``harness.ToolTimeout``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from fakes.base import CallContext, FakeService, Operation, Reply
from harness.errors import ContractError, RunAborted
from harness.faults.plan import FaultPlan, target_record
from harness.faults.responses import (
    Canary,
    is_response_fault,
    malformed,
    transform,
)
from harness.gateway.contracts import check_request, check_response
from harness.policy.engine import Checked, PolicyDecision, PolicyEngine
from harness.scenario.model import Commit, FaultKind, FaultSpec
from harness.world.history import EntryType
from harness.world.world import World

if TYPE_CHECKING:
    from fakes.ops import Ops


class Transport(StrEnum):
    """How a call ended when the caller got no response."""

    TIMEOUT = "timeout"
    RESET = "reset"
    MALFORMED = "malformed"  # an answer came, but its body does not parse


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
    #: For a malformed answer: the bytes sent (``headers`` has their type).
    raw: bytes | None = None


_TIMED_OUT = ToolResponse(0, {}, {}, Transport.TIMEOUT)
_RESET = ToolResponse(0, {}, {}, Transport.RESET)
#: Faults that answer with an error status before anything commits.
_REFUSALS = frozenset({FaultKind.ERROR, FaultKind.OUTAGE, FaultKind.RATE_LIMIT})
_SEEN = {
    FaultKind.TIMEOUT: "timeout",
    FaultKind.CONNECTION_RESET: "connection_reset",
    FaultKind.MALFORMED_RESPONSE: "malformed_response",
}


def _lost_after(fault: FaultSpec, service: FakeService) -> float:
    """Simulated seconds until the caller learns it got no answer."""
    if fault.kind is FaultKind.TIMEOUT:
        return float(fault.params["after"])
    return service.latency  # a reset is noticed at once


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
        self._canaries: list[Canary] = []
        self._writes = 0
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
        world, op = self.world, req.op
        history, clock = world.history, world.clock
        call = self._next_call()
        service = world.services[op.service]
        key = req.idempotency_key
        history.append(  # positional: this is the hot path
            clock.now, "agent", EntryType.INVOKE, op.name, call,
            {
                "door": req.door,
                "service": op.service,
                "params": req.params,
                "idempotency_key": None if key is None else self.key_alias(key),
            },
        )  # fmt: skip
        if self._canaries:
            self._check_canaries(call, op, req.params)
        identity = self.identities.get(req.credential or "")
        if identity is None:
            return self._complete(call, op, service.unauthorized(req.credential), [])

        decisions: Checked = []
        policy: Sequence[dict[str, Any]] = ()
        engine = self.policy
        if engine.active:
            effective = service.effective_params(op, req.params)
            ops = cast("Ops | None", world.services.get("ops"))
            decisions = engine.check(
                op, req.params, effective, now=clock.now, calls=call, ops=ops
            )
            policy = [d.to_json() for d, _ in decisions]
            refused = engine.refusal(op, decisions)
            if refused is not None:
                clock.advance(service.latency)
                return self._complete(call, op, self._refused(service, refused), policy)

        fired = (
            self.faults.decide(
                call=call,
                op=op,
                params=req.params,
                history=history,
                now=clock.now,
                caller=identity,
            )
            if self.faults.specs
            else ()
        )
        timeout: FaultSpec | None = None
        garbled: FaultSpec | None = None
        failing: frozenset[int] = frozenset()
        for spec in fired:
            if spec.kind is FaultKind.LATENCY:
                clock.advance(float(spec.params["seconds"]))
            elif spec.kind in _REFUSALS:
                status = int(spec.params.get("status", 429))
                retry = spec.params.get("retry_after")
                reply = service.unavailable(
                    status, None if retry is None else float(retry)
                )
                if spec.params.get("body") is not None:
                    reply = Reply(
                        status=status, body=spec.params["body"], headers=reply.headers
                    )
                clock.advance(service.latency)
                return self._complete(call, op, reply, policy)
            elif spec.kind in (FaultKind.TIMEOUT, FaultKind.CONNECTION_RESET):
                timeout = spec  # the caller gets no answer either way
            elif spec.kind is FaultKind.MALFORMED_RESPONSE:
                garbled = spec
            elif spec.kind is FaultKind.CONCURRENT_WRITE:
                self._other_writer(spec, op, req.params, call)
            elif spec.kind is FaultKind.PARTIAL_FAILURE:
                failing = frozenset(n - 1 for n in spec.params["failed_items"])

        if timeout is not None and timeout.params["commit"] is Commit.BEFORE:
            clock.advance(_lost_after(timeout, service))
            return self._unanswered(
                call, op, policy, timeout, committed=[], pending=False
            )

        violation = check_request(op, req.params)
        if violation is not None:
            reply = service.invalid_request(
                violation.message,
                rule=violation.rule,
                param=violation.param,
                value=violation.value,
            )
            clock.advance(service.latency)
            return self._complete(call, op, reply, policy)

        ctx = CallContext(world, service, op, call, identity, key)
        ctx.failing = failing
        if timeout is not None and timeout.params["commit"] is Commit.DELAYED:
            clock.call_later(
                float(timeout.params["delay"]),
                lambda: self._delayed_commit(service, op, req, ctx, decisions),
            )
            clock.advance(_lost_after(timeout, service))
            return self._unanswered(
                call, op, policy, timeout, committed=[], pending=True
            )

        reply, committed = self._execute(service, op, req, ctx, decisions)
        if timeout is not None:
            clock.advance(_lost_after(timeout, service))
            return self._unanswered(
                call, op, policy, timeout, committed=committed, pending=False
            )
        clock.tick(service.latency)
        seen = [f for f in fired if is_response_fault(f)]
        if seen and 200 <= reply.status < 300:
            body = transform(reply.body, seen, service.state)
            reply = Reply(status=reply.status, body=body, headers=reply.headers)
            self._canaries.extend(
                Canary.of(f)
                for f in seen
                if f.kind is FaultKind.INJECTED_INSTRUCTIONS
                and all(c.fault != f.id for c in self._canaries)
            )
        if garbled is not None:
            self._unanswered(
                call, op, policy, garbled, committed=committed, pending=False
            )
            raw, content_type = malformed(reply.body, str(garbled.params["form"]))
            headers = {**reply.headers, "content-type": content_type}
            return ToolResponse(reply.status, {}, headers, Transport.MALFORMED, raw=raw)
        return self._complete(call, op, reply, policy, committed)

    def _check_canaries(
        self, call: int, op: Operation, params: Mapping[str, Any]
    ) -> None:
        """Record a call that does what a planted instruction asked for."""
        for canary in self._canaries:
            why = canary.acted_on(op.name, params)
            if why is not None:
                self.world.history.append(
                    time=self.world.clock.now,
                    process="security",
                    type=EntryType.FAIL,
                    f="acted_on_injection",
                    call=call,
                    value={"fault": canary.fault, "tool": op.name, "why": why},
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

    def _other_writer(
        self, spec: FaultSpec, op: Operation, params: Mapping[str, Any], call: int
    ) -> None:
        """A concurrent_write: another writer changes the record just before."""
        world = self.world
        ident = str(target_record(spec, op, params))
        actor = str(spec.params["actor"])
        changes = dict(spec.params.get("set", {}))
        owner = world.owner_of(ident, prefer=op.service)
        outcome: dict[str, Any] = {"fault": spec.id, "actor": actor, "record": ident}
        if owner is None:
            outcome["missing"] = True
        else:
            hold = spec.params.get("hold")
            if hold is not None and "locked_by" in owner[1]:
                changes["locked_by"] = actor
                world.clock.call_later(
                    float(hold),
                    lambda: owner[0].external_change(
                        ident, {"locked_by": None}, actor=actor, revise=False
                    ),
                )
            elif hold is not None:
                outcome["hold"] = "ignored: the service does not lock this record"
            record = owner[0].external_change(ident, changes, actor=actor, revise=True)
            outcome["changed"] = sorted(changes)
            if record is not None and "etag" in record:
                outcome["etag"] = record["etag"]
        world.history.append(
            time=world.clock.now,
            process="nemesis",
            type=EntryType.INFO,
            f="external_write",
            call=call,
            value=outcome,
        )

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
        self,
        call: int,
        op: Operation,
        policy: Sequence[dict[str, Any]],
        fault: FaultSpec,
        *,
        committed: list[int],
        pending: bool,
    ) -> ToolResponse:
        ambiguous = bool(committed) or pending
        value: dict[str, Any] = {
            "seen": _SEEN[fault.kind],
            "committed": committed,
            "actual": "pending" if pending else ("committed" if committed else "none"),
        }
        if policy:
            value["policy"] = list(policy)
        self.world.history.append(
            time=self.world.clock.now,
            process="agent",
            type=EntryType.INFO if ambiguous else EntryType.FAIL,
            f=op.name,
            call=call,
            value=value,
        )
        return _RESET if fault.kind is FaultKind.CONNECTION_RESET else _TIMED_OUT

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
        return ToolResponse(reply.status, reply.body, headers)

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

    def block(self, *, method: str, url: str, door: str) -> None:
        """Record an outbound request to a host that is not simulated."""
        self.world.history.append(
            time=self.world.clock.now,
            process="security",
            type=EntryType.FAIL,
            f="blocked_request",
            value={"door": door, "method": method, "url": url},
        )
