"""The careful client the reference agents share.

One loop calls a tool and decides what a failure means: an error status the
service will answer again (429, 5xx) is retried after a pause that honours
``Retry-After``; a refusal is the caller's business; an answer that never came
(``ToolAmbiguousError``: the effect may have committed) is retried, retried only
with an idempotency key, reconciled by reading back whether the write landed, or
given up on. A :class:`Retry` says which, for each kind of call; a
:class:`CarefulClient` holds one for calls safe to repeat, one for guarded writes,
one for escalations and one for approval requests, and polls approvals in
simulated time. Each workflow configures the manner it was written with; a flawed
agent's habit is one option changed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from harness.errors import ToolAmbiguousError, ToolError
from harness.runtime.env import AgentResult

if TYPE_CHECKING:  # the agent's process does not import the gateway's core
    from harness.gateway.tools import Tools

Json = dict[str, Any]

#: Statuses worth another try: the service refused before doing anything.
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
#: How long an agent waits for a human decision, in (simulated) seconds.
APPROVAL_PATIENCE = 26 * 3600.0


class Failed(Exception):
    """A call kept failing after every retry, or failed where a retry is unsafe."""


class Stop(Exception):
    """The agent cannot go on safely: a human must take over, for ``reason``."""

    def __init__(self, reason: str, summary: str, refs: Sequence[str] = ()) -> None:
        super().__init__(f"{reason}: {summary}")
        self.reason = reason
        self.summary = summary
        self.refs = list(refs)


def is_transient(exc: ToolError) -> bool:
    """An error status the service answers when it did nothing (busy, down)."""
    return exc.status in TRANSIENT_STATUSES


def error_code(exc: ToolError) -> str | None:
    """The ``error.code`` of an error answer, when it has one."""
    error = exc.body.get("error")
    code = error.get("code") if isinstance(error, Mapping) else None
    return None if code is None else str(code)


def gave_up(tool: str, exc: ToolError, attempts: int) -> Exception:
    """``Failed``, naming the status or the kind of failure that came last."""
    if isinstance(exc, ToolAmbiguousError):
        return Failed(f"{tool}: {type(exc).__name__}")
    return Failed(f"{tool}: HTTP {exc.status}")


def gave_up_counting(tool: str, exc: ToolError, attempts: int) -> Exception:
    """Like :func:`gave_up`, and an error status says how many tries it took."""
    if isinstance(exc, ToolAmbiguousError):
        return Failed(f"{tool}: {type(exc).__name__}")
    return Failed(f"{tool}: HTTP {exc.status} after {attempts} tries")


def reraise(tool: str, exc: ToolError, attempts: int) -> Exception:
    """Give up by raising the tool's own error."""
    return exc


#: What to do after an answer that never came: ``retry`` (after a pause, or a
#: read-back when the call has ``landed``), ``retry_keyed`` (only a call that
#: carries an idempotency key), ``retry_at_once`` (no pause, no read-back: a
#: flaw), or ``give_up``.
AfterAmbiguous = Literal["retry", "retry_keyed", "retry_at_once", "give_up"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """How one kind of call is retried, and what its failures become."""

    #: Tries, the first included.
    attempts: int = 4
    #: The first pause, in (simulated) seconds; each next one doubles.
    first_delay: float = 1.0
    #: A longer wait a failure asked for (Retry-After, ``settle``) raises every
    #: later pause too, instead of that one only.
    keep_longer_waits: bool = False
    #: Wait at least as long as Retry-After says.
    honour_retry_after: bool = True
    after_ambiguous: AfterAmbiguous = "retry"
    #: The least pause after an answer that never came (a commit may land late).
    settle: float = 0.0
    #: When a guarded write reads back whether it ``landed``: ``at_once`` after an
    #: answer that never came, or ``after_pause`` after any failed try.
    reconcile: Literal["at_once", "after_pause"] = "at_once"
    #: Which error answers are worth another try.
    transient: Callable[[ToolError], bool] = is_transient
    #: What an error answer not worth another try becomes (None: raised as is).
    refused: Callable[[str, ToolError], Exception] | None = None
    #: What the last failure becomes when the tries run out (or a retry is unsafe).
    exhausted: Callable[[str, ToolError, int], Exception] = gave_up

    def but(self, **changes: Any) -> Retry:
        """This manner with ``changes``."""
        return dataclasses.replace(self, **changes)


#: One call, every error raised as it comes.
ONCE = Retry(attempts=1, exhausted=reraise)


def stop_refused(tool: str, exc: ToolError) -> Exception:
    """A refusal stops the agent: a missing record is missing data."""
    if exc.status == 404:
        return Stop("missing_data", f"{tool} found nothing: {exc}")
    return stop_failed(tool, exc)


def stop_failed(tool: str, exc: ToolError) -> Exception:
    """A refusal stops the agent as a tool failure."""
    return Stop("tool_failure", f"{tool} failed: {exc}")


def stop_exhausted(tool: str, exc: ToolError, attempts: int) -> Exception:
    """Running out of tries stops the agent as a tool failure."""
    if isinstance(exc, ToolAmbiguousError):
        return Stop("tool_failure", f"{tool} kept failing: {exc}")
    return stop_failed(tool, exc)


#: Reads that hand over to a human (:class:`Stop`) when they cannot answer: three
#: tries, and a Retry-After lengthens every later pause.
STOPPING = Retry(
    attempts=3, keep_longer_waits=True, refused=stop_refused, exhausted=stop_exhausted
)
#: Writes in the same manner: after any failed try, pause (two minutes at least
#: after an answer that never came: a commit may land late) and read back.
STOPPING_WRITES = STOPPING.but(
    settle=120.0, reconcile="after_pause", refused=stop_failed
)


def is_transient_or_locked(exc: ToolError) -> bool:
    """Transient, or a record another writer holds locked for a moment (409)."""
    return is_transient(exc) or (exc.status == 409 and error_code(exc) == "conflict")


#: Calls retried on 429, 5xx, locked records and answers that never came; a
#: Retry-After lengthens every later pause.
PERSISTENT = Retry(transient=is_transient_or_locked, keep_longer_waits=True)
#: Reads tried three times, pausing 2, 4 s (or as long as Retry-After says).
BACKING_OFF = Retry(attempts=3, first_delay=2.0, exhausted=reraise)
#: Writes in the same manner: an answer that never came is retried only with an
#: idempotency key (the retry then replays the first result instead of acting
#: twice); what fails in the end is :class:`Failed`.
BACKING_OFF_WRITES = BACKING_OFF.but(
    after_ambiguous="retry_keyed", exhausted=gave_up_counting
)
#: Escalations tried three times whatever the failure, Retry-After or not.
INSISTENT = Retry(
    attempts=3,
    honour_retry_after=False,
    transient=lambda exc: True,
    exhausted=reraise,
)


def call(
    tools: Tools,
    retry: Retry,
    tool: str,
    /,
    landed: Callable[[], Json | None] | None = None,
    **args: Any,
) -> Json:
    """Call ``tool`` the way ``retry`` says. With ``landed`` (a read of what the
    call would have done, or None) a failed try is reconciled before the next."""
    keyed = "idempotency_key" in args
    delay = retry.first_delay
    for attempt in range(1, retry.attempts + 1):
        last = attempt == retry.attempts
        try:
            return dict(tools.call(tool, **args))
        except ToolAmbiguousError as exc:
            if landed is not None and retry.reconcile == "at_once":
                found = landed()
                if found is not None:
                    return found
            unsafe = retry.after_ambiguous == "give_up" or (
                retry.after_ambiguous == "retry_keyed" and not keyed
            )
            if unsafe or last:
                _give_up(retry, tool, exc)
            if retry.after_ambiguous == "retry_at_once":
                continue
            wait = max(delay, retry.settle)
        except ToolError as exc:
            if not retry.transient(exc):
                if retry.refused is None:
                    raise
                raise retry.refused(tool, exc) from exc
            if last:
                _give_up(retry, tool, exc)
            asked = exc.retry_after if retry.honour_retry_after else None
            wait = max(delay, asked or 0.0)
        if retry.keep_longer_waits:
            delay = wait
        time.sleep(wait)
        if landed is not None and retry.reconcile == "after_pause":
            found = landed()
            if found is not None:
                return found
        delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


def _give_up(retry: Retry, tool: str, exc: ToolError) -> None:
    error = retry.exhausted(tool, exc, retry.attempts)
    if error is exc:
        raise exc
    raise error from exc


def await_decision(fetch: Callable[[], str], status: str | None = None) -> str:
    """A human's decision on an approval: ``fetch`` its status every 5 minutes,
    doubling to an hour, for up to 26 hours of simulated time. ``status`` is what
    the request itself answered (None: fetch at once, and never after the wait)."""
    waited, poll = 0.0, 300.0
    current = fetch() if status is None else status
    while current == "pending" and waited <= APPROVAL_PATIENCE:
        time.sleep(poll)
        waited += poll
        poll = min(poll * 2, 3600.0)
        if status is None and waited > APPROVAL_PATIENCE:
            break
        current = fetch()
    return current


@dataclass(frozen=True, slots=True, kw_only=True)
class CarefulClient:
    """Tool calls in one workflow's manner: reads, guarded writes, escalations and
    approvals."""

    tools: Tools
    #: Calls safe to repeat: reads, and writes with an idempotency key or a guard.
    retry: Retry = Retry()
    #: Writes (:meth:`write`); None: as :attr:`retry`.
    writes: Retry | None = None
    escalations: Retry = ONCE
    approval_requests: Retry = ONCE
    #: Take the approval request's own answer as the first status.
    decision_from_request: bool = False
    #: When the escalation itself fails: ``raise``, or ``report`` a failed result.
    failed_escalation: Literal["raise", "report"] = "raise"

    def but(self, **changes: Any) -> CarefulClient:
        """This client with :attr:`retry` (and :attr:`writes`) changed."""
        writes = None if self.writes is None else self.writes.but(**changes)
        return dataclasses.replace(self, retry=self.retry.but(**changes), writes=writes)

    def call(self, tool: str, /, **args: Any) -> Json:
        """A call safe to repeat."""
        return call(self.tools, self.retry, tool, **args)

    def write(
        self,
        tool: str,
        /,
        landed: Callable[[], Json | None] | None = None,
        **args: Any,
    ) -> Json:
        """A write: with ``landed``, reconciled by reading back after a failure."""
        return call(self.tools, self.writes or self.retry, tool, landed, **args)

    def escalate(self, reason: str, summary: str, refs: Sequence[str]) -> AgentResult:
        """Hand the task to a human with a reason code."""
        try:
            call(
                self.tools,
                self.escalations,
                "escalate",
                reason=reason,
                summary=summary,
                refs=list(refs),
            )
        except ToolError:
            if self.failed_escalation == "raise":
                raise
            return AgentResult(
                status="failed", summary=f"could not escalate: {summary}"
            )
        return AgentResult(status="escalated", summary=f"{reason}: {summary}")

    def approval(
        self, action: str, params: Mapping[str, Any], justification: str
    ) -> str:
        """Ask a human to approve ``action`` with exactly ``params``; their decision."""
        approval = call(
            self.tools,
            self.approval_requests,
            "request_approval",
            action=action,
            params=dict(params),
            justification=justification,
        )
        return self.decision(approval)

    def decision(self, approval: Json) -> str:
        """The decision on ``approval`` (as ``request_approval`` answered it)."""
        ident = str(approval["id"])
        first = str(approval["status"]) if self.decision_from_request else None
        return await_decision(
            lambda: str(self.call("get_approval", approval=ident)["status"]), first
        )


def backing_off_client(tools: Tools) -> CarefulClient:
    """Reads retried on transient and ambiguous failures; writes retried when they
    surely did not take effect (429, 5xx), and after an ambiguous failure only
    when they carry an idempotency key. Escalations are retried on 429 and 5xx;
    an approval is requested as a write, its status read as a read."""
    return CarefulClient(
        tools=tools,
        retry=BACKING_OFF,
        writes=BACKING_OFF_WRITES,
        escalations=BACKING_OFF.but(after_ambiguous="give_up"),
        approval_requests=BACKING_OFF_WRITES,
        decision_from_request=True,
    )


def persistent_client(tools: Tools) -> CarefulClient:
    """Every call retried on transport failures, 5xx, 429 and locked records:
    only for reads and conditional writes (a retried ``if_match`` write that
    already committed answers 412, which the caller handles by re-reading)."""
    return CarefulClient(
        tools=tools,
        retry=PERSISTENT,
        escalations=PERSISTENT,
        approval_requests=PERSISTENT,
    )


def stopping_client(tools: Tools) -> CarefulClient:
    """Reads and writes that hand over to a human (:data:`STOPPING`,
    :data:`STOPPING_WRITES`); escalations tried three times, and a failed one
    reported as the agent's result."""
    return CarefulClient(
        tools=tools,
        retry=STOPPING,
        writes=STOPPING_WRITES,
        escalations=INSISTENT,
        failed_escalation="report",
    )


def post_once(client: CarefulClient, ticket: Json, body: str) -> None:
    """Post ``body`` on the helpdesk ticket unless it is already there; a try
    that failed is settled by looking for the comment before the next."""
    ticket_id = str(ticket["id"])
    counted = ticket.get("comment_count")
    if counted and find_comment(client, ticket_id, body) is not None:
        return
    client.write(
        "add_ticket_comment",
        lambda: find_comment(client, ticket_id, body),
        ticket=ticket_id,
        body=body,
        public=True,
    )


def find_comment(client: CarefulClient, ticket_id: str, body: str) -> Json | None:
    """The comment on the ticket that says exactly ``body``, if there is one."""
    page = client.call("list_ticket_comments", ticket=ticket_id, limit=100)
    return next((c for c in page.get("data", []) if c.get("body") == body), None)
