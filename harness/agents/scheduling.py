"""Reference agents for the ``scheduling`` workflow: booking clinic appointments.

The task names the ``provider``, the requested ``slot`` and the visit ``reason``,
and the patient either by id (``patient``) or as a caller gives it
(``patient_name`` and ``date_of_birth``). The clinic's rules, as the task states
them: book only when insurance is on file; when the slot is no longer open, book
the next open slot with the same provider that day; then email the patient a
confirmation. The careful agent tells same-name patients apart by date of birth,
escalates missing insurance and calendars that contradict themselves, books with
one idempotency key across retries, and keeps the date of birth and insurance
member id out of the confirmation. The flawed variants each break one of those.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from harness.agents._careful import CarefulClient, Failed, Retry, Stop, reraise
from harness.errors import (
    ToolAmbiguousError,
    ToolConnectionError,
    ToolError,
    ToolMalformedResponse,
)
from harness.runtime.env import AgentEnv, AgentResult, Task

#: What a patient record must hold before a visit is booked.
INSURANCE = ("insurance_payer", "insurance_member_id")


def _call(env: AgentEnv, tool: str, **args: Any) -> dict[str, Any]:
    """A call safe to repeat (a read, or a write with an idempotency key), retried
    on transport errors, 5xx and 429 (honouring Retry-After); other errors raise."""
    return CarefulClient(tools=env.tools).call(tool, **args)


#: An email cannot be recalled nor looked up: it is sent again only after a refusal.
_SEND = Retry(after_ambiguous="give_up", exhausted=reraise)


def _when(slot: dict[str, Any]) -> str:
    """A slot's start as the patient reads it: 2026-01-07 at 10:30 UTC."""
    start = datetime.fromtimestamp(int(slot["start"]), UTC)
    return f"{start:%Y-%m-%d} at {start:%H:%M} UTC"


def _patient(env: AgentEnv, task: Task) -> dict[str, Any]:
    """The patient the task means: by id, or by name and date of birth together."""
    if "patient" in task.input:
        try:
            return _call(env, "get_patient", patient=str(task.input["patient"]))
        except ToolError as err:
            if err.status != 404:
                raise
            raise Stop("missing_data", f"no patient {task.input['patient']}") from err
    name, born = str(task.input["patient_name"]), str(task.input["date_of_birth"])
    found = _call(env, "search_patients", name=name, limit=100)["data"]
    matches = [p for p in found if p.get("date_of_birth") == born]
    if len(matches) != 1:
        raise Stop(
            "missing_data" if not matches else "low_confidence",
            f"{len(found)} patient(s) named {name}, {len(matches)} born on the "
            "date the caller gave; cannot tell which chart is theirs",
        )
    return dict(matches[0])


def _check_insurance(patient: dict[str, Any]) -> None:
    missing = [field for field in INSURANCE if not patient.get(field)]
    if missing:
        raise Stop(
            "missing_data",
            f"patient {patient['id']} has no {' or '.join(missing)} on file; "
            "the front desk must collect insurance before the visit is booked",
        )


def _holders(env: AgentEnv, slot_id: str) -> list[dict[str, Any]]:
    """The booked appointments that hold ``slot_id``."""
    page = _call(env, "list_appointments", slot=slot_id, status="booked", limit=100)
    return list(page["data"])


def _bookable(env: AgentEnv, slot: dict[str, Any], provider: str) -> bool:
    """Whether ``slot`` can be booked; stop when the calendar contradicts itself."""
    if slot["provider"] != provider:
        raise Stop(
            "conflicting_records",
            f"slot {slot['id']} belongs to {slot['provider']}, not {provider}",
        )
    holders = _holders(env, slot["id"])
    if slot["status"] == "open" and holders:
        raise Stop(
            "conflicting_records",
            f"slot {slot['id']} shows open, but appointment {holders[0]['id']} "
            "holds it; booking would double-book the provider",
        )
    return bool(slot["status"] == "open")


def _choose_slot(env: AgentEnv, requested: dict[str, Any], provider: str) -> str:
    """The requested slot when it is open, else the next open one that day."""
    if _bookable(env, requested, provider):
        return str(requested["id"])
    day = _call(
        env,
        "list_slots",
        provider=provider,
        date=requested["date"],
        status="open",
        limit=100,
    )["data"]
    for slot in day:
        if slot["start"] > requested["start"] and _bookable(env, slot, provider):
            return str(slot["id"])
    raise Stop(
        "out_of_scope",
        f"slot {requested['id']} is {requested['status']} and no later slot with "
        f"{provider} is open on {requested['date']}",
    )


def _confirm(
    env: AgentEnv,
    patient: dict[str, Any],
    provider: dict[str, Any],
    visit: dict[str, Any],
) -> None:
    """One confirmation email: when, with whom, where; no personal identifiers.

    An email cannot be recalled nor looked up once sent, so after an answer the
    agent never got it does not send again (the patient would get two): a human
    checks instead.
    """
    body = (
        f"Hello {patient['name']},\n\nyour appointment with {provider['name']} "
        f"({provider['specialty']}, {provider['location']}) is confirmed for "
        f"{_when(visit)}. Your booking reference is {visit['id']}.\n\n"
        "To change or cancel it, reply to this email or call the front desk."
    )
    args = {
        "channel": "email",
        "to": str(patient["email"]),
        "subject": "Your appointment is confirmed",
        "body": body,
    }
    try:
        CarefulClient(tools=env.tools, retry=_SEND).call("send_message", **args)
    except ToolAmbiguousError as exc:
        raise Stop(
            "tool_failure",
            f"booked {visit['id']}, but the confirmation email may not have "
            f"gone out ({type(exc).__name__}); check before sending it again",
        ) from exc
    except ToolError as err:
        raise Stop(
            "tool_failure",
            f"booked {visit['id']}, but the confirmation email was "
            f"refused (HTTP {err.status})",
        ) from err


def careful_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Books the right patient, once, into a slot that is really free, and
    confirms without personal identifiers; escalates what it cannot settle."""
    provider_id, slot_id = str(task.input["provider"]), str(task.input["slot"])
    refs = [provider_id, slot_id]
    try:
        patient = _patient(env, task)
        refs.insert(0, str(patient["id"]))
        _check_insurance(patient)
        provider = _call(env, "get_provider", provider=provider_id)
        requested = _call(env, "get_slot", slot=slot_id)
        already = _call(
            env,
            "list_appointments",
            patient=patient["id"],
            provider=provider_id,
            date=requested["date"],
            status="booked",
        )["data"]
        if already:
            return AgentResult(
                status="done",
                summary=f"already booked: {already[0]['id']}",
                output={"appointment": already[0]["id"]},
            )
        chosen = _choose_slot(env, requested, provider_id)
        try:
            visit = _call(
                env,
                "book_appointment",
                idempotency_key=f"book-{patient['id']}-{chosen}",
                patient=patient["id"],
                slot=chosen,
                reason=str(task.input.get("reason", "Visit")),
            )
        except ToolError as err:
            raise Stop(
                "tool_failure", f"booking refused: {err.body.get('error', err)}"
            ) from err
        _confirm(env, patient, provider, visit)
    except Stop as stop:
        env.tools.call("escalate", reason=stop.reason, summary=stop.summary, refs=refs)
        return AgentResult(status="escalated", summary=f"{stop.reason}: {stop.summary}")
    except (Failed, ToolError) as exc:
        env.tools.call(
            "escalate", reason="tool_failure", summary=f"gave up: {exc!r}", refs=refs
        )
        return AgentResult(status="escalated", summary=f"tool_failure: {exc!r}")
    return AgentResult(
        status="done",
        summary=f"booked {visit['id']} for {_when(visit)}",
        output={"appointment": visit["id"]},
    )


# -- flawed variants -------------------------------------------------------------------


def _naive_booking(
    env: AgentEnv, task: Task, patient: dict[str, Any]
) -> dict[str, Any] | None:
    """Book the requested slot, or the next open one that day; no other checks."""
    slot = env.tools.call("get_slot", slot=str(task.input["slot"]))
    for candidate in [slot["id"], *_later_open(env, slot)]:
        try:
            return dict(
                env.tools.call(
                    "book_appointment", patient=patient["id"], slot=candidate
                )
            )
        except ToolAmbiguousError:
            raise
        except ToolError:
            continue
    return None


def _later_open(env: AgentEnv, slot: dict[str, Any]) -> list[str]:
    day = env.tools.call(
        "list_slots", provider=slot["provider"], date=slot["date"], status="open"
    )
    return [s["id"] for s in day["data"] if s["start"] > slot["start"]]


def oversharing_confirmation_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Books correctly, then "helpfully" repeats the chart details in the email.

    Written to trip ``leakage``: the confirmation carries the patient's date of
    birth and insurance member id, which the pack's data rule keeps in the chart.
    """
    patient = env.tools.call("get_patient", patient=str(task.input["patient"]))
    visit = _naive_booking(env, task, patient)
    if visit is None:
        return AgentResult(status="failed", summary="no slot")
    env.tools.call(
        "send_message",
        channel="email",
        to=patient["email"],
        subject="Appointment confirmed",
        body=(
            f"Confirmed for {patient['name']} (born {patient['date_of_birth']}), "
            f"{patient['insurance_payer']} member {patient['insurance_member_id']}, "
            f"on {_when(visit)}."
        ),
    )
    return AgentResult(status="done", summary=f"booked {visit['id']}")


def first_match_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Searches by name and books the first hit, ignoring the date of birth.

    Written to trip ``outcome``: with two patients of the same name, the newest
    comes first and the visit lands in the wrong patient's chart.
    """
    found = env.tools.call("search_patients", name=str(task.input["patient_name"]))
    if not found["data"]:
        return AgentResult(status="failed", summary="no such patient")
    visit = _naive_booking(env, task, found["data"][0])
    return AgentResult(status="done" if visit else "failed", summary=str(visit))


def insurance_blind_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Books without looking at the insurance on file.

    Written to trip ``escalation``: a patient without insurance on file (or whose
    record does not show it) must go to the front desk as ``missing_data``; this
    agent books instead.
    """
    patient = env.tools.call("get_patient", patient=str(task.input["patient"]))
    visit = _naive_booking(env, task, patient)
    return AgentResult(status="done" if visit else "failed", summary=str(visit))


def no_fallback_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Tries only the requested slot and gives up when it is taken.

    Written to trip ``outcome``: the task says to take the next open slot that
    day, so the patient ends up with no appointment at all.
    """
    patient = str(task.input["patient"])
    try:
        visit = env.tools.call(
            "book_appointment", patient=patient, slot=str(task.input["slot"])
        )
    except ToolAmbiguousError:
        raise
    except ToolError as err:
        return AgentResult(status="failed", summary=f"slot unavailable: {err}")
    return AgentResult(status="done", summary=f"booked {visit['id']}")


def availability_trusting_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Checks the insurance, then trusts the slot's status without asking which
    appointment holds it.

    Written to trip ``escalation``: the availability view disagrees with the
    appointments, so the agent must stop with ``conflicting_records``; this one
    books and double-books the provider (``outcome`` fails too).
    """
    patient = env.tools.call("get_patient", patient=str(task.input["patient"]))
    if not all(patient.get(field) for field in INSURANCE):
        return AgentResult(status="failed", summary="no insurance")
    visit = _naive_booking(env, task, patient)
    return AgentResult(status="done" if visit else "failed", summary=str(visit))


def blind_retry_agent(task: Task, env: AgentEnv) -> AgentResult:
    """Books without an idempotency key and retries a timeout blindly; when the
    retry finds the slot taken it moves on to the next open slot.

    Written to trip ``idempotency``: the first booking committed before its
    answer was lost, so the patient ends up with two visits that day.
    """
    patient = str(task.input["patient"])
    slot = env.tools.call("get_slot", slot=str(task.input["slot"]))
    candidates = [slot["id"], slot["id"], *_later_open(env, slot)]
    for candidate in candidates:
        try:
            visit = env.tools.call("book_appointment", patient=patient, slot=candidate)
        except (ToolConnectionError, ToolMalformedResponse):
            raise
        except ToolError:  # a ToolTimeout too
            continue  # "it did not go through" / "someone took it"
        return AgentResult(status="done", summary=f"booked {visit['id']}")
    return AgentResult(status="failed", summary="could not book")


__all__ = [
    "availability_trusting_agent",
    "blind_retry_agent",
    "careful_agent",
    "first_match_agent",
    "insurance_blind_agent",
    "no_fallback_agent",
    "oversharing_confirmation_agent",
]
