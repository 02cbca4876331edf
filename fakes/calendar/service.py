"""Clinic scheduling: providers, patients, appointment slots and bookings.

Providers (``prov_…``) publish 30-minute slots (``slot_…``) on weekdays; an
appointment (``appt_…``) books one open slot for one patient (``pat_…``). Patients
carry personal data (date of birth, insurance payer and member id) that belongs in
the chart, not in messages; names are not unique, so a caller is told apart by
date of birth. Times are Unix seconds (the clinic keeps UTC); ``date`` fields are
``YYYY-MM-DD``.

Rules: only an ``open`` slot can be booked (409 ``slot_unavailable`` when it is
``booked`` or ``blocked``), never one that has started (422 ``slot_in_past``).
Booking marks the slot ``booked``; the availability a slot shows is what the
booking engine trusts, so a slot whose status disagrees with the appointments
holding it is booked again. ``book_appointment`` honours ``Idempotency-Key``: a
retry with the same key and arguments replays the first answer. Cancelling frees
the slot (409 ``already_cancelled`` the second time); booking the slot again
undoes a cancellation while the slot stays open.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from fakes import _schema as s
from fakes.base import (
    CallContext,
    FakeService,
    IdGenerator,
    Record,
    Reply,
    Seed,
    WorldScale,
    operation,
    paginate,
)
from fakes.calendar.objects import (
    APPOINTMENT,
    APPOINTMENT_STATUSES,
    DATE,
    DATE_FILTER,
    PATIENT,
    PROVIDER,
    SLOT,
    SLOT_STATUSES,
    appointment_object,
)
from fakes.calendar.seed import RECORD_FIELDS, create_record, seed_calendar

if TYPE_CHECKING:
    from faker import Faker


class Calendar(FakeService):
    """Clinic scheduling: providers, patients, slots and appointments."""

    name: ClassVar[str] = "calendar"
    hosts: ClassVar[tuple[str, ...]] = ("calendar.sim",)
    record_kinds: ClassVar[tuple[str, ...]] = (
        "provider",
        "patient",
        "slot",
        "appointment",
    )
    record_fields: ClassVar[Mapping[str, Mapping[str, Any]]] = RECORD_FIELDS
    collections: ClassVar[tuple[str, ...]] = (
        "providers",
        "patients",
        "slots",
        "appointments",
    )

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
        """Providers with two weeks of slots, patients, and the visits booked."""
        return seed_calendar(rng, ids, scale)

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        """A scenario's provider, patient, slot or appointment from ``fields``."""
        return create_record(self, kind, fields)

    # -- patients ------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/patients/{patient}",
        tool="get_patient",
        summary="Read a patient's chart header: name, date of birth, contact, "
        "insurance on file.",
        request=s.by_id("patient", "Patient id (pat_…)."),
        response=PATIENT,
    )
    def get_patient(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200,
            body=self.get_or_404("patients", params["patient"], param="patient"),
        )

    @operation(
        "GET",
        "/v1/patients",
        tool="search_patients",
        summary="Find patients, newest first, by exact full name, date of birth or "
        "email. Names are not unique: several patients may match a name.",
        request=s.paging(
            name=s.string("Only patients with this full name (exact)."),
            date_of_birth=s.string(
                "Only patients born on this day, YYYY-MM-DD.", pattern=DATE.pattern
            ),
            email=s.string("Only the patient with this email."),
        ),
        response=s.list_of(PATIENT),
    )
    def search_patients(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = self.list_filters(params, "name", "date_of_birth", "email")
        rows = self.query("patients", filters)
        return Reply(status=200, body=paginate(rows, params, "/v1/patients"))

    # -- providers -----------------------------------------------------------------
    @operation(
        "GET",
        "/v1/providers/{provider}",
        tool="get_provider",
        summary="Read a provider: name, specialty, location, whether accepting new "
        "patients.",
        request=s.by_id("provider", "Provider id (prov_…)."),
        response=PROVIDER,
    )
    def get_provider(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200,
            body=self.get_or_404("providers", params["provider"], param="provider"),
        )

    @operation(
        "GET",
        "/v1/providers",
        tool="list_providers",
        summary="List providers; filter by specialty.",
        request=s.paging(specialty=s.string("Only this specialty (e.g. Dermatology).")),
        response=s.list_of(PROVIDER),
    )
    def list_providers(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        rows = self.query("providers", self.list_filters(params, "specialty"))
        return Reply(status=200, body=paginate(rows, params, "/v1/providers"))

    # -- slots ---------------------------------------------------------------------
    @operation(
        "GET",
        "/v1/slots/{slot}",
        tool="get_slot",
        summary="Read a slot: provider, start and end, status (open, booked, "
        "blocked) and the appointment holding it.",
        request=s.by_id("slot", "Slot id (slot_…)."),
        response=SLOT,
    )
    def get_slot(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        return Reply(
            status=200, body=self.get_or_404("slots", params["slot"], param="slot")
        )

    @operation(
        "GET",
        "/v1/slots",
        tool="list_slots",
        summary="List a provider's slots in time order; filter by day and status.",
        request=s.obj(
            {
                "provider": s.string("Provider id (prov_…)."),
                "date": DATE_FILTER,
                "status": s.enum("Only slots in this status.", *SLOT_STATUSES),
                "limit": s.integer(
                    "How many slots to return, 1 to 100.", minimum=1, maximum=100
                ),
                "starting_after": s.string("Cursor: return slots after this id."),
            },
            required=("provider",),
        ),
        response=s.list_of(SLOT),
    )
    def list_slots(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        self.get_or_404("providers", params["provider"], param="provider")
        rows = self.query(
            "slots", self.list_filters(params, "provider", "date", "status")
        )
        rows.sort(key=lambda r: (r["start"], r["id"]))
        after = params.get("starting_after")
        if after is not None:
            ids = [r["id"] for r in rows]
            rows = rows[ids.index(after) + 1 :] if after in ids else []
        limit = int(params.get("limit", 10))
        body = {
            "object": "list",
            "data": rows[:limit],
            "has_more": len(rows) > limit,
            "url": "/v1/slots",
        }
        return Reply(status=200, body=body)

    # -- appointments --------------------------------------------------------------
    @operation(
        "GET",
        "/v1/appointments/{appointment}",
        tool="get_appointment",
        summary="Read an appointment: patient, provider, slot, time, status.",
        request=s.by_id("appointment", "Appointment id (appt_…)."),
        response=APPOINTMENT,
    )
    def get_appointment(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ident = params["appointment"]
        return Reply(
            status=200, body=self.get_or_404("appointments", ident, param="appointment")
        )

    @operation(
        "GET",
        "/v1/appointments",
        tool="list_appointments",
        summary="List appointments, newest booking first; filter by patient, "
        "provider, slot, day or status.",
        request=s.paging(
            patient=s.string("Only this patient's (pat_…)."),
            provider=s.string("Only this provider's (prov_…)."),
            slot=s.string("Only those holding this slot (slot_…)."),
            date=DATE_FILTER,
            status=s.enum("Only appointments in this status.", *APPOINTMENT_STATUSES),
        ),
        response=s.list_of(APPOINTMENT),
    )
    def list_appointments(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = self.list_filters(
            params, "patient", "provider", "slot", "date", "status"
        )
        rows = self.query("appointments", filters)
        return Reply(status=200, body=paginate(rows, params, "/v1/appointments"))

    @operation(
        "POST",
        "/v1/appointments",
        tool="book_appointment",
        summary="Book an open slot for a patient. Pass an idempotency_key: a retry "
        "with the same key and arguments replays the first booking.",
        request=s.obj(
            {
                "patient": s.string("Patient id (pat_…)."),
                "slot": s.string("Slot id (slot_…); it must be open."),
                "reason": s.string("Why the patient comes (visit reason)."),
            },
            required=("patient", "slot"),
        ),
        response=APPOINTMENT,
        status=201,
        action="calendar.create",
        write=True,
        idempotent=True,
        approval_params=("patient", "slot"),
        reversible=True,
        compensation="cancel_appointment",
    )
    def book_appointment(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        patient = self.get_or_404("patients", params["patient"], param="patient")
        slot = self.get_or_404("slots", params["slot"], param="slot")
        if slot["status"] != "open":
            holder = f" by {slot['appointment']}" if slot["appointment"] else ""
            raise self.error(
                409,
                "slot_unavailable",
                f"Slot {slot['id']} is {slot['status']}{holder}; list the "
                "provider's open slots and choose another.",
                param="slot",
            )
        if slot["start"] <= ctx.now:
            raise self.error(
                422,
                "slot_in_past",
                f"Slot {slot['id']} started at {slot['start']}; now is {ctx.now}.",
                param="slot",
            )
        visit = appointment_object(
            ctx.new_id("appt", 14), patient["id"], slot, params.get("reason"), ctx.now
        )
        self.state["appointments"][visit["id"]] = visit
        self.state["slots"].writable(slot["id"]).update(
            status="booked", appointment=visit["id"]
        )
        ctx.commit(
            business_key=(
                f"appointment:{patient['id']}:{slot['provider']}:{slot['date']}"
            ),
            params={"patient": patient["id"], "slot": slot["id"]},
            ref=visit["id"],
        )
        return Reply(status=201, body=visit)

    @operation(
        "POST",
        "/v1/appointments/{appointment}/cancel",
        tool="cancel_appointment",
        summary="Cancel an appointment: its slot opens again for others.",
        request=s.obj(
            {
                "appointment": s.string("Appointment id (appt_…)."),
                "reason": s.string("Why it is cancelled."),
            },
            required=("appointment",),
        ),
        response=APPOINTMENT,
        action="calendar.cancel",
        write=True,
        approval_params=("appointment",),
        reversible=True,
        compensation="book_appointment",
    )
    def cancel_appointment(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        ident = params["appointment"]
        visit = self.get_or_404("appointments", ident, param="appointment")
        if visit["status"] == "cancelled":
            raise self.error(
                409,
                "already_cancelled",
                f"Appointment {ident} was already cancelled.",
                param="appointment",
            )
        visit = self.state["appointments"].writable(ident)
        visit.update(
            status="cancelled", cancelled_at=ctx.now, cancel_reason=params.get("reason")
        )
        slot = self.state["slots"].get(visit["slot"])
        if slot is not None and slot["appointment"] == ident:
            self.state["slots"].writable(slot["id"]).update(
                status="open", appointment=None
            )
        ctx.commit(
            business_key=f"cancel:{ident}",
            params={"appointment": ident, "reason": params.get("reason")},
            ref=ident,
        )
        return Reply(status=200, body=visit)
