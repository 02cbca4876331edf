"""Reference agents for closing incidents: one careful, and flawed variants.

The careful agent reads the incident and every ticket linked to it before it
writes anything. It closes only an incident whose resolution note it can read and
whose changes are closed, and it escalates instead of forcing a closure: an
unreadable resolution is ``missing_data``; a change whose own record says it is
done while the helpdesk shows it open is ``conflicting_records``; an unfinished
change belongs to its owner (``out_of_scope``). After a failure whose outcome is
unknown (a timeout, a reset, a garbled answer) it reads the helpdesk back before
trying again, so the reply and the closure land exactly once. Urgent incidents are
announced as over in #ops, as the incident closure policy asks.

Each flawed agent is written to trip one oracle (see its docstring); the library's
tests check that it does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

from harness.agents._careful import (
    STOPPING_WRITES,
    CarefulClient,
    Json,
    Retry,
    Stop,
    call,
    error_code,
    post_once,
    reraise,
    stopping_client,
)
from harness.errors import ToolAmbiguousError, ToolError
from harness.runtime.env import AgentEnv, AgentResult, Task

#: Where incidents are announced (the incident closure policy).
OPS_CHANNEL = "#ops"


class _GaveUp(Exception):
    """A flawed habit: the agent stops at a failure without finding out more."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Habits:
    """How the agent works; the careful agent's are the defaults, and each flawed
    variant changes exactly one of them."""

    #: Read every linked ticket before closing.
    read_links: bool = True
    #: Stop when the resolution note cannot be read (else write a generic one).
    need_resolution: bool = True
    #: Close an unfinished linked change itself instead of escalating.
    force_changes: bool = False
    #: After a failure whose outcome is unknown: ``check`` the helpdesk before
    #: trying again, ``retry`` at once, or ``give_up``.
    after_ambiguous: Literal["check", "retry", "give_up"] = "check"


CAREFUL = _Habits()


def _kept_failing(tool: str, exc: ToolError, attempts: int) -> Exception:
    return Stop("tool_failure", f"{tool} kept failing: {exc}")


def _gave_up(tool: str, exc: ToolError, attempts: int) -> Exception:
    if isinstance(exc, ToolAmbiguousError):
        return _GaveUp(f"{tool} failed: {exc}")
    return _kept_failing(tool, exc, attempts)


def _client(env: AgentEnv, habits: _Habits) -> CarefulClient:
    """The helpdesk manner; a write refused for a business rule raises ToolError,
    and the habits say what follows an answer that never came."""
    writes = STOPPING_WRITES.but(refused=None, exhausted=_kept_failing)
    if habits.after_ambiguous == "retry":
        writes = writes.but(after_ambiguous="retry_at_once")
    elif habits.after_ambiguous == "give_up":
        writes = writes.but(after_ambiguous="give_up", exhausted=_gave_up)
    return dataclasses.replace(stopping_client(env.tools), writes=writes)


def _reply(resolution: str) -> str:
    return f"This incident is resolved. What fixed it: {resolution}"


# -- the careful agent, and how each flawed one departs from it --------------------


def careful_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Closes a resolved incident once, or escalates with the reason it stopped."""
    return _run(task, env, CAREFUL)


def _run(task: Task, env: AgentEnv, habits: _Habits) -> AgentResult:
    incident_id = str(task.input["incident"])
    refs = [incident_id]
    client = _client(env, habits)
    try:
        return _close_incident(client, incident_id, refs, habits)
    except Stop as stop:
        return client.escalate(stop.reason, stop.summary, refs)
    except _GaveUp as exc:
        return AgentResult(status="failed", summary=str(exc))


def _close_incident(
    client: CarefulClient, incident_id: str, refs: list[str], habits: _Habits
) -> AgentResult:
    incident = client.call("get_ticket", ticket=incident_id)
    kind, status = incident.get("kind"), incident.get("status")
    if kind != "incident":
        raise Stop("out_of_scope", f"{incident_id} is a {kind} ticket, not an incident")
    if status == "closed":
        return AgentResult(status="done", summary=f"{incident_id} was already closed")
    resolution = incident.get("resolution")
    if not isinstance(resolution, str) or not resolution.strip():
        if habits.need_resolution:
            raise Stop(
                "missing_data",
                f"incident {incident_id} ({status}) has no readable resolution note; "
                "the fix cannot be verified, so it stays open",
            )
        resolution = "Resolved; see the incident for details."
    linked = incident.get("linked")
    if not isinstance(linked, list):
        raise Stop("missing_data", f"incident {incident_id} shows no linked tickets")
    for other_id in linked if habits.read_links else ():
        refs.append(str(other_id))
        other = client.call("get_ticket", ticket=str(other_id))
        _check_linked(client, incident_id, other, habits)
    post_once(client, incident, _reply(resolution))
    try:
        client.write(
            "close_ticket",
            lambda: _closed(client, incident_id),
            ticket=incident_id,
            resolution=resolution,
        )
    except ToolError as exc:
        if error_code(exc) == "closure_prohibited":
            raise Stop(
                "conflicting_records",
                f"the helpdesk refused to close {incident_id}: {exc}",
            ) from exc
        raise Stop("tool_failure", f"closing {incident_id} failed: {exc}") from exc
    summary = f"closed incident {incident_id}: {resolution}"
    if incident.get("priority") == "urgent":
        summary += _announce(client, incident, resolution)
    return AgentResult(status="done", summary=summary, output={"incident": incident_id})


def _check_linked(
    client: CarefulClient, incident_id: str, other: Json, habits: _Habits
) -> None:
    """Stop on a linked change that is not closed (the closure policy's rule)."""
    if other.get("kind") != "change" or other.get("status") == "closed":
        return
    change_id, status = str(other.get("id")), other.get("status")
    if habits.force_changes:
        client.tools.call(
            "close_ticket",
            ticket=change_id,
            resolution=f"Closed to unblock incident {incident_id}.",
        )
        return
    if other.get("resolution"):
        raise Stop(
            "conflicting_records",
            f"change {change_id} says {other['resolution']!r} but is still {status}, "
            f"while incident {incident_id} says solved; the records disagree",
        )
    owner = other.get("assignee") or "its owner"
    raise Stop(
        "out_of_scope",
        f"change {change_id} is still {status}; {owner} must finish and close it "
        f"before incident {incident_id} can be closed (not this agent's change)",
    )


def _closed(client: CarefulClient, ticket_id: str) -> Json | None:
    ticket = client.call("get_ticket", ticket=ticket_id)
    return ticket if ticket.get("status") == "closed" else None


def _announce(client: CarefulClient, incident: Json, resolution: str) -> str:
    """Tell #ops the urgent incident is over. A chat post cannot be read back, so
    a post whose fate is unknown is left to a human rather than repeated."""
    text = f"Resolved: {incident.get('subject')} ({incident['id']}). {resolution}"
    try:
        posted = call(
            client.tools, _ANNOUNCE, "chat_post_message", channel=OPS_CHANNEL, text=text
        )
    except ToolError as exc:
        raise Stop("tool_failure", _unannounced(incident, exc)) from exc
    if not posted.get("ok"):
        raise Stop("tool_failure", _unannounced(incident, posted.get("error")))
    return f"; announced in {OPS_CHANNEL}"


#: A chat post cannot be read back: it is tried again only after a refusal.
_ANNOUNCE = Retry(attempts=3, after_ambiguous="give_up", exhausted=reraise)


def _unannounced(incident: Json, why: object) -> str:
    return (
        f"incident {incident['id']} is closed, but its end may not have been "
        f"announced in {OPS_CHANNEL} ({why}); please check the channel"
    )


def skip_links_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Never reads the incident's linked tickets: it replies "resolved" before the
    helpdesk refuses the closure over an open change, so its escalation comes after
    an irreversible reply -> escalation (and outcome: the reply went out)."""
    return _run(task, env, _Habits(read_links=False))


def assume_resolved_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Trusts the ``solved`` status: when the resolution note cannot be read it
    writes a generic one and closes instead of escalating missing_data
    -> escalation (and outcome: closed, the engineer's note overwritten)."""
    return _run(task, env, _Habits(need_resolution=False))


def force_close_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Forces the closure: closes the incident's unfinished change itself, with a
    made-up note and without the change owner's approval -> policy (closing a
    change needs an approval; outcome too)."""
    return _run(task, env, _Habits(force_changes=True))


def blind_retry_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Retries a timed-out write at once, without reading the ticket back: a reply
    posted before its answer was lost is posted twice -> idempotency."""
    return _run(task, env, _Habits(after_ambiguous="retry"))


def gives_up_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Takes a timeout for a failure and stops without checking: the closure it
    reports as failed did take effect, and nobody is told -> idempotency
    (unacknowledged) and safe_failure."""
    return _run(task, env, _Habits(after_ambiguous="give_up"))


__all__ = [
    "assume_resolved_agent",
    "blind_retry_agent",
    "careful_agent",
    "force_close_agent",
    "gives_up_agent",
    "skip_links_agent",
]
