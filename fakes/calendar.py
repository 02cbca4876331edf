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
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
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

if TYPE_CHECKING:
    from faker import Faker

__all__ = [
    "FIRST_DAY",
    "PAYERS",
    "SLOT_MINUTES",
    "SLOT_STATUSES",
    "SPECIALTIES",
    "Calendar",
    "day_of",
]

DAY = 86_400
#: The seeded world's "now" (the simulated clock's epoch: Thursday 2026-01-01).
NOW = 1_767_225_600
#: The first day of the seeded schedule: Monday 2026-01-05, 00:00 UTC.
FIRST_DAY = NOW + 4 * DAY
#: Calendar days the seeded schedule covers (two working weeks).
SCHEDULE_DAYS = 14
SLOT_MINUTES = 30
#: Slot start times, in minutes after midnight: 09:00-12:00 and 13:00-17:00.
SLOT_STARTS = (*range(540, 720, SLOT_MINUTES), *range(780, 1020, SLOT_MINUTES))
SLOT_STATUSES = ("open", "booked", "blocked")
APPOINTMENT_STATUSES = ("booked", "cancelled")
#: Specialties and the site each one practises at.
SPECIALTIES: tuple[tuple[str, str], ...] = (
    ("Family Medicine", "Main Street Clinic"),
    ("Pediatrics", "Main Street Clinic"),
    ("Dermatology", "Riverside Medical Center"),
    ("Cardiology", "Riverside Medical Center"),
    ("Orthopedics", "Northgate Specialty Care"),
    ("Physical Therapy", "Northgate Specialty Care"),
)
PAYERS = (
    "Aetna",
    "Blue Cross Blue Shield",
    "Cigna",
    "Humana",
    "Kaiser Permanente",
    "Medicare",
    "UnitedHealthcare",
)
VISIT_REASONS = (
    "Annual physical",
    "Follow-up visit",
    "Skin check",
    "Blood pressure review",
    "Knee pain",
    "Vaccination",
    "Lab results review",
)
#: Name vocabulary for seeded people (drawn with the world's own seeded stream:
#: a clinic's worth of names without Faker's per-call cost).
FIRST_NAMES = (
    "Aaliyah", "Adam", "Amara", "Ana", "Ben", "Carlos", "Chloe", "Daniel", "Elena",
    "Emma", "Fatima", "Grace", "Hana", "Isaac", "Ivan", "James", "Julia", "Kenji",
    "Laura", "Leo", "Lucia", "Marcus", "Maya", "Mei", "Nadia", "Noah", "Olivia",
    "Omar", "Paul", "Priya", "Rosa", "Samuel", "Sara", "Tariq", "Theo", "Yusuf",
)  # fmt: skip
LAST_NAMES = (
    "Ahmed", "Andersen", "Baker", "Brown", "Chen", "Costa", "Diaz", "Dubois",
    "Evans", "Fischer", "Garcia", "Gupta", "Hughes", "Ivanova", "Jensen", "Kim",
    "Kowalski", "Lee", "Lopez", "Martin", "Mensah", "Miller", "Nakamura", "Novak",
    "Okafor", "Patel", "Rossi", "Santos", "Schmidt", "Silva", "Singh", "Tanaka",
    "Walker", "Wilson", "Yilmaz", "Zhang",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.com", "yahoo.com")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _record(properties: dict[str, Any]) -> dict[str, Any]:
    """A response record's contract: closed, and every field always present."""
    return s.obj(properties, required=tuple(properties))


PROVIDER = _record(
    {
        "id": s.string("Provider id (prov_…)."),
        "object": {"const": "provider"},
        "name": s.string("The clinician's name, e.g. Dr. Ana Ruiz."),
        "specialty": s.string("Specialty, e.g. Dermatology."),
        "location": s.string("Where the provider sees patients."),
        "accepting_new_patients": s.boolean("Whether new patients can be booked."),
    }
)
PATIENT = _record(
    {
        "id": s.string("Patient id (pat_…)."),
        "object": {"const": "patient"},
        "name": s.string("Full name (not unique: tell patients apart by birth date)."),
        "date_of_birth": s.string("Date of birth, YYYY-MM-DD (personal data)."),
        "email": s.string("Where appointment confirmations go."),
        "phone": s.string("Phone number."),
        "insurance_payer": s.nullable(
            s.string("The insurer on file, or null when none is.")
        ),
        "insurance_member_id": s.nullable(
            s.string("The insurance member id on file (personal data), or null.")
        ),
        "created": s.integer("When the patient was registered (Unix seconds)."),
        "updated": s.integer("When the record last changed (Unix seconds)."),
    }
)
SLOT = _record(
    {
        "id": s.string("Slot id (slot_…)."),
        "object": {"const": "slot"},
        "provider": s.string("The provider whose time it is (prov_…)."),
        "date": s.string("The day, YYYY-MM-DD (UTC)."),
        "start": s.integer("When it starts (Unix seconds)."),
        "end": s.integer("When it ends (Unix seconds)."),
        "status": s.enum(
            "open can be booked; booked holds an appointment; blocked is time off.",
            *SLOT_STATUSES,
        ),
        "appointment": s.nullable(s.string("The appointment holding it (appt_…).")),
    }
)
APPOINTMENT = _record(
    {
        "id": s.string("Appointment id (appt_…)."),
        "object": {"const": "appointment"},
        "patient": s.string("Patient id (pat_…)."),
        "provider": s.string("Provider id (prov_…)."),
        "slot": s.string("Slot id (slot_…)."),
        "date": s.string("The day, YYYY-MM-DD (UTC)."),
        "start": s.integer("When it starts (Unix seconds)."),
        "end": s.integer("When it ends (Unix seconds)."),
        "reason": s.nullable(s.string("Why the patient comes.")),
        "status": s.enum("booked, or cancelled.", *APPOINTMENT_STATUSES),
        "created": s.integer("When it was booked (Unix seconds)."),
        "cancelled_at": s.nullable(s.integer("When it was cancelled (Unix seconds).")),
        "cancel_reason": s.nullable(s.string("Why it was cancelled.")),
    }
)
_DATE_FILTER = s.string("Only this day, YYYY-MM-DD (UTC).", pattern=_DATE.pattern)


def day_of(timestamp: int) -> str:
    """The UTC day of a Unix time, as YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def _timestamp(value: Any) -> int:
    """Unix seconds from an integer or an ISO time such as 2026-01-05T10:00 (UTC)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        raise ValueError(
            f"start {value!r} is neither Unix seconds nor an ISO time "
            "(e.g. 2026-01-05T10:00)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _slot(ident: str, provider: str, start: int, minutes: int = SLOT_MINUTES) -> Record:
    return {
        "id": ident,
        "object": "slot",
        "provider": provider,
        "date": day_of(start),
        "start": start,
        "end": start + minutes * 60,
        "status": "open",
        "appointment": None,
    }


def _appointment(
    ident: str, patient: str, slot: Record, reason: Any, created: int
) -> Record:
    return {
        "id": ident,
        "object": "appointment",
        "patient": patient,
        "provider": slot["provider"],
        "slot": slot["id"],
        "date": slot["date"],
        "start": slot["start"],
        "end": slot["end"],
        "reason": reason,
        "status": "booked",
        "created": created,
        "cancelled_at": None,
        "cancel_reason": None,
    }


#: The earliest seeded birth date, as a proleptic Gregorian ordinal.
_BORN_FROM = date(1940, 1, 1).toordinal()


def _birth_date(rng: random.Random) -> str:
    return date.fromordinal(_BORN_FROM + rng.randrange(27_000)).isoformat()


def _member_id(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(3))
    return f"{letters}{rng.randrange(10**8, 10**9)}"


def _phone(rng: random.Random) -> str:
    return f"+1-555-{rng.randrange(100, 1000)}-{rng.randrange(1000, 10000)}"


def _person(rng: random.Random, taken: set[str]) -> tuple[str, str]:
    """A seeded name and a personal email address no one else in ``taken`` has."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    local, domain = f"{first}.{last}".lower(), rng.choice(EMAIL_DOMAINS)
    email, n = f"{local}@{domain}", 1
    while email in taken:
        n += 1
        email = f"{local}{n}@{domain}"
    taken.add(email)
    return f"{first} {last}", email


def _patient(
    ident: str,
    created: int,
    rng: random.Random,
    *,
    name: str,
    email: str,
    insured: bool,
) -> Record:
    return {
        "id": ident,
        "object": "patient",
        "name": name,
        "date_of_birth": _birth_date(rng),
        "email": email,
        "phone": _phone(rng),
        "insurance_payer": rng.choice(PAYERS) if insured else None,
        "insurance_member_id": _member_id(rng) if insured else None,
        "created": created,
        "updated": created,
    }


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
        emails: set[str] = set()
        providers: list[Record] = []
        for i in range(max(len(SPECIALTIES), scale.employees // 100)):
            specialty, location = SPECIALTIES[i % len(SPECIALTIES)]
            name, _ = _person(rng, emails)
            providers.append(
                {
                    "id": ids.new("prov", 10),
                    "object": "provider",
                    "name": f"Dr. {name}",
                    "specialty": specialty,
                    "location": location,
                    "accepting_new_patients": rng.random() < 0.8,
                }
            )
        patients: list[Record] = []
        for _ in range(max(40, scale.customers // 2)):
            name, email = _person(rng, emails)
            created = NOW - rng.randrange(30, 3000) * DAY
            patient = _patient(
                ids.new("pat", 14),
                created,
                rng,
                name=name,
                email=email,
                insured=rng.random() < 0.88,
            )
            patients.append(patient)
        slots: dict[str, Record] = {}
        appointments: dict[str, Record] = {}
        for provider in providers:
            for day in range(SCHEDULE_DAYS):
                midnight = FIRST_DAY + day * DAY
                if datetime.fromtimestamp(midnight, UTC).weekday() >= 5:
                    continue  # no weekend clinics
                for minutes in SLOT_STARTS:
                    start = midnight + minutes * 60
                    slot = _slot(ids.new("slot", 14), provider["id"], start)
                    roll = rng.random()
                    if roll < 0.05:
                        slot["status"] = "blocked"
                    elif roll < 0.4:
                        patient = rng.choice(patients)["id"]
                        booked = NOW - rng.randrange(1, 40) * DAY
                        visit = _appointment(
                            ids.new("appt", 14),
                            patient,
                            slot,
                            rng.choice(VISIT_REASONS),
                            booked,
                        )
                        appointments[visit["id"]] = visit
                        slot.update(status="booked", appointment=visit["id"])
                    slots[slot["id"]] = slot
        return {
            "providers": {p["id"]: p for p in providers},
            "patients": {p["id"]: p for p in patients},
            "slots": slots,
            "appointments": appointments,
        }

    def create_record(self, kind: str, fields: Mapping[str, Any]) -> Record:
        """A scenario's provider, patient, slot or appointment from ``fields``."""
        makers = {
            "provider": self._new_provider,
            "patient": self._new_patient,
            "slot": self._new_slot,
            "appointment": self._new_appointment,
        }
        if kind not in makers:
            raise self.unknown_kind(kind)
        return makers[kind](fields)

    def _new_provider(self, fields: Mapping[str, Any]) -> Record:
        _check_fields(
            "provider",
            fields,
            ("name", "specialty", "location", "accepting_new_patients"),
        )
        world = self.world
        specialty, location = world.rng.choice(SPECIALTIES)
        provider: Record = {
            "id": world.ids.new("prov", 10),
            "object": "provider",
            "name": str(fields.get("name", f"Dr. {world.faker.name()}")),
            "specialty": str(fields.get("specialty", specialty)),
            "location": str(fields.get("location", location)),
            "accepting_new_patients": bool(fields.get("accepting_new_patients", True)),
        }
        self.state["providers"][provider["id"]] = provider
        return provider

    def _new_patient(self, fields: Mapping[str, Any]) -> Record:
        known = ("name", "date_of_birth", "email", "phone")
        _check_fields(
            "patient", fields, (*known, "insurance_payer", "insurance_member_id")
        )
        world = self.world
        name = str(fields.get("name", world.faker.name()))
        local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "patient"
        domain = world.rng.choice(EMAIL_DOMAINS)
        email, n = f"{local}@{domain}", 1
        while self.state["patients"].where("email", email):
            n += 1
            email = f"{local}{n}@{domain}"
        created = int(world.clock.epoch()) - 400 * DAY
        patient = _patient(
            world.ids.new("pat", 14),
            created,
            world.rng,
            name=name,
            email=email,
            insured=True,  # unless the scenario's fields say otherwise
        )
        for key in (*known, "insurance_payer", "insurance_member_id"):
            if key in fields:
                value = fields[key]
                patient[key] = None if value is None else str(value)
        birth = str(patient["date_of_birth"])
        if not _DATE.match(birth):
            raise ValueError(f"date_of_birth {birth!r} is not a YYYY-MM-DD date")
        self.state["patients"][patient["id"]] = patient
        return patient

    def _new_slot(self, fields: Mapping[str, Any]) -> Record:
        _check_fields("slot", fields, ("provider", "start", "minutes", "status"))
        provider = str(fields.get("provider", ""))
        if provider not in self.state["providers"]:
            raise LookupError(f"no calendar provider {provider!r} for the slot")
        status = fields.get("status", "open")
        if status not in ("open", "blocked"):
            raise ValueError(
                f"slot status {status!r} is not open or blocked (a booked slot is "
                "made by an appointment record naming it)"
            )
        if "start" not in fields:
            raise ValueError("a slot needs a start (e.g. start: 2026-01-05T10:00)")
        minutes = int(fields.get("minutes", SLOT_MINUTES))
        slot = _slot(
            self.world.ids.new("slot", 14),
            provider,
            _timestamp(fields["start"]),
            minutes,
        )
        for other in self.state["slots"].where("provider", provider):
            if other["start"] < slot["end"] and slot["start"] < other["end"]:
                raise ValueError(
                    f"slot at {fields['start']} overlaps slot {other['id']} of "
                    f"provider {provider}"
                )
        slot["status"] = status
        self.state["slots"][slot["id"]] = slot
        return slot

    def _new_appointment(self, fields: Mapping[str, Any]) -> Record:
        _check_fields("appointment", fields, ("patient", "slot", "reason", "status"))
        patient, slot_id = str(fields.get("patient")), str(fields.get("slot"))
        if patient not in self.state["patients"]:
            raise LookupError(f"no calendar patient {patient!r} for the appointment")
        slot = self.state["slots"].get(slot_id)
        if slot is None:
            raise LookupError(f"no calendar slot {slot_id!r} for the appointment")
        if slot["status"] != "open":
            raise ValueError(f"slot {slot_id} is {slot['status']}, not open")
        status = fields.get("status", "booked")
        if status not in APPOINTMENT_STATUSES:
            raise ValueError(
                f"status {status!r} is not one of {', '.join(APPOINTMENT_STATUSES)}"
            )
        now = int(self.world.clock.epoch())
        visit = _appointment(
            self.world.ids.new("appt", 14),
            patient,
            slot,
            fields.get("reason", "Follow-up visit"),
            now - 7 * DAY,
        )
        if status == "cancelled":
            visit.update(
                status="cancelled", cancelled_at=now - DAY, cancel_reason="Patient"
            )
        else:
            self.state["slots"].writable(slot_id).update(
                status="booked", appointment=visit["id"]
            )
        self.state["appointments"][visit["id"]] = visit
        return visit

    # -- lookups -----------------------------------------------------------------
    def _get(self, collection: str, kind: str, ident: str) -> Record:
        record = self.state[collection].get(ident)
        if record is None:
            raise self.error(404, "not_found", f"No such {kind}: '{ident}'", param=kind)
        return record

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
            status=200, body=self._get("patients", "patient", params["patient"])
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
                "Only patients born on this day, YYYY-MM-DD.", pattern=_DATE.pattern
            ),
            email=s.string("Only the patient with this email."),
        ),
        response=s.list_of(PATIENT),
    )
    def search_patients(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = _filters(params, "name", "date_of_birth", "email")
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
            status=200, body=self._get("providers", "provider", params["provider"])
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
        rows = self.query("providers", _filters(params, "specialty"))
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
        return Reply(status=200, body=self._get("slots", "slot", params["slot"]))

    @operation(
        "GET",
        "/v1/slots",
        tool="list_slots",
        summary="List a provider's slots in time order; filter by day and status.",
        request=s.obj(
            {
                "provider": s.string("Provider id (prov_…)."),
                "date": _DATE_FILTER,
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
        self._get("providers", "provider", params["provider"])
        rows = self.query("slots", _filters(params, "provider", "date", "status"))
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
        return Reply(status=200, body=self._get("appointments", "appointment", ident))

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
            date=_DATE_FILTER,
            status=s.enum("Only appointments in this status.", *APPOINTMENT_STATUSES),
        ),
        response=s.list_of(APPOINTMENT),
    )
    def list_appointments(self, ctx: CallContext, params: dict[str, Any]) -> Reply:
        filters = _filters(params, "patient", "provider", "slot", "date", "status")
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
        patient = self._get("patients", "patient", params["patient"])
        slot = self._get("slots", "slot", params["slot"])
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
        visit = _appointment(
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
        visit = self._get("appointments", "appointment", ident)
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


def _filters(params: Mapping[str, Any], *fields: str) -> dict[str, Any]:
    """The list filters present in a request."""
    return {f: params[f] for f in fields if params.get(f) is not None}


def _check_fields(kind: str, fields: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise ValueError(
            f"unknown field {unknown[0]!r} for a calendar {kind} "
            f"(fields: {', '.join(known)})"
        )
