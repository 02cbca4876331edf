"""The one path every tool call takes, whichever door it came through.

identity → policy → fault plan → contract → fake → history. The HTTP door and the
function-call door both build a :class:`ToolRequest` and hand it to
:meth:`Gateway.call`; what comes back is a :class:`ToolResponse`, or a transport
failure the door turns into its own kind of error (``httpx.ReadTimeout``,
``harness.ToolTimeout``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NamedTuple

from fakes.base import CallContext, FakeService, Operation, Reply
from harness.errors import ContractError, RunAborted
from harness.faults.plan import FaultPlan
from harness.gateway.contracts import check_request, check_response
from harness.policy.approvals import ApprovalPolicy
from harness.scenario.model import Commit, FaultKind, FaultSpec
from harness.world.history import EntryType
from harness.world.world import World


class Transport(StrEnum):
    """How a call ended when the caller got no response."""

    TIMEOUT = "timeout"
    RESET = "reset"


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


_TIMED_OUT = ToolResponse(0, {}, {}, Transport.TIMEOUT)


class Gateway:
    """Checks, injects, validates, calls and records. Deterministic given the world."""

    def __init__(
        self,
        world: World,
        *,
        identities: Mapping[str, str],
        faults: FaultPlan,
        policy: ApprovalPolicy,
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

    def key_alias(self, key: str | None) -> str | None:
        """A stable name for an idempotency key (SDKs draw keys from os.urandom)."""
        if key is None:
            return None
        alias = self._key_aliases.get(key)
        if alias is None:
            alias = self._key_aliases[key] = f"key-{len(self._key_aliases) + 1}"
        return alias

    def call(self, req: ToolRequest) -> ToolResponse:
        world, op = self.world, req.op
        history, clock = world.history, world.clock
        call = history.next_call()
        if call > self.max_calls:
            raise RunAborted(
                "call_budget",
                f"the agent made more than {self.max_calls} tool calls; a runaway loop",
            )
        service = world.services[op.service]
        history.append(
            time=clock.now,
            process="agent",
            type=EntryType.INVOKE,
            f=op.name,
            call=call,
            value={
                "door": req.door,
                "service": op.service,
                "params": req.params,
                "idempotency_key": self.key_alias(req.idempotency_key),
            },
        )
        identity = self.identities.get(req.credential or "")
        if identity is None:
            return self._complete(call, op, service.unauthorized(req.credential), [])

        effective = service.effective_params(op, req.params)
        decisions = self.policy.check(op, effective, world.services.get("ops"))  # type: ignore[arg-type]
        policy = [d.to_json() for d, _ in decisions]

        fired = self.faults.decide(
            call=call, op=op, params=req.params, history=history, now=clock.now
        )
        timeout: FaultSpec | None = None
        for spec in fired:
            if spec.kind is FaultKind.LATENCY:
                clock.advance(float(spec.params["seconds"]))
            elif spec.kind is FaultKind.ERROR:
                status = int(spec.params["status"])
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
            elif spec.kind is FaultKind.TIMEOUT:
                timeout = spec

        if timeout is not None and timeout.params["commit"] is Commit.BEFORE:
            clock.advance(float(timeout.params["after"]))
            return self._timed_out(call, op, policy, committed=[], pending=False)

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

        ctx = CallContext(
            world=world,
            service=service,
            op=op,
            call=call,
            identity=identity,
            idempotency_key=req.idempotency_key,
        )
        if timeout is not None and timeout.params["commit"] is Commit.DELAYED:
            clock.call_later(
                float(timeout.params["delay"]),
                lambda: self._delayed_commit(service, op, req, ctx, decisions),
            )
            clock.advance(float(timeout.params["after"]))
            return self._timed_out(call, op, policy, committed=[], pending=True)

        before = len(world.ledger)
        reply = self._execute(service, op, req, ctx, decisions)
        committed = list(range(before + 1, len(world.ledger) + 1))
        if timeout is not None:
            clock.advance(float(timeout.params["after"]))
            return self._timed_out(call, op, policy, committed=committed, pending=False)
        clock.advance(service.latency)
        return self._complete(call, op, reply, policy, committed)

    def _execute(
        self,
        service: FakeService,
        op: Operation,
        req: ToolRequest,
        ctx: CallContext,
        decisions: list[tuple[Any, dict[str, Any] | None]],
    ) -> Reply:
        before = len(self.world.ledger)
        reply = service.dispatch(op, req.params, ctx)
        if 200 <= reply.status < 300:
            violation = check_response(op, reply.body)
            if violation is not None:
                self.fatal = ContractError(
                    f"fake {op.service}.{op.name} answered outside its contract: "
                    f"{violation.message}"
                )
                raise self.fatal
            if len(self.world.ledger) > before:
                for _, approval in decisions:
                    if approval is not None:
                        approval["used"] = True
        return reply

    def _delayed_commit(
        self,
        service: FakeService,
        op: Operation,
        req: ToolRequest,
        ctx: CallContext,
        decisions: list[tuple[Any, dict[str, Any] | None]],
    ) -> None:
        reply = self._execute(service, op, req, ctx, decisions)
        self.world.history.append(
            time=self.world.clock.now,
            process="nemesis",
            type=EntryType.INFO,
            f="delayed_commit",
            call=ctx.call,
            value={
                "status": reply.status,
                "committed": [e.seq for e in self.world.ledger if e.call == ctx.call],
            },
        )

    def _timed_out(
        self,
        call: int,
        op: Operation,
        policy: list[dict[str, Any]],
        *,
        committed: list[int],
        pending: bool,
    ) -> ToolResponse:
        ambiguous = bool(committed) or pending
        value: dict[str, Any] = {
            "seen": "timeout",
            "committed": committed,
            "actual": "pending" if pending else ("committed" if committed else "none"),
        }
        if policy:
            value["policy"] = policy
        self.world.history.append(
            time=self.world.clock.now,
            process="agent",
            type=EntryType.INFO if ambiguous else EntryType.FAIL,
            f=op.name,
            call=call,
            value=value,
        )
        return _TIMED_OUT

    def _complete(
        self,
        call: int,
        op: Operation,
        reply: Reply,
        policy: list[dict[str, Any]],
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
        if reply.headers.get("idempotent-replayed"):
            value["replayed"] = True
        if policy:
            value["policy"] = policy
        self.world.history.append(
            time=self.world.clock.now,
            process="agent",
            type=EntryType.OK if ok else EntryType.FAIL,
            f=op.name,
            call=call,
            value=value,
        )
        return ToolResponse(reply.status, reply.body, reply.headers)

    def block(self, *, method: str, url: str, door: str) -> None:
        """Record an outbound request to a host that is not simulated."""
        self.world.history.append(
            time=self.world.clock.now,
            process="security",
            type=EntryType.FAIL,
            f="blocked_request",
            value={"door": door, "method": method, "url": url},
        )
