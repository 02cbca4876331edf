"""The seeded clinic schedule, and the records a scenario creates by name.

Providers with two working weeks of slots, the patients, and the visits already
booked for a seeded world; and the providers, patients, slots and appointments a
scenario sets up, every field it leaves out given a plausible default.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from fakes import _schema as s
from fakes.base import FakeService, IdGenerator, Record, Seed, WorldScale
from fakes.calendar.objects import (
    APPOINTMENT,
    APPOINTMENT_STATUSES,
    DATE,
    DAY,
    FIRST_DAY,
    NOW,
    PATIENT,
    PAYERS,
    PROVIDER,
    SCHEDULE_DAYS,
    SLOT,
    SLOT_MINUTES,
    SLOT_STARTS,
    SPECIALTIES,
    VISIT_REASONS,
    appointment_object,
    day_of,
    slot_object,
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


# -- the seeded schedule ----------------------------------------------------------


def seed_calendar(rng: random.Random, ids: IdGenerator, scale: WorldScale) -> Seed:
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
    workdays = [  # no weekend clinics; each day's slot starts, made once
        [(start, day_of(start)) for start in (midnight + m * 60 for m in SLOT_STARTS)]
        for midnight in (FIRST_DAY + day * DAY for day in range(SCHEDULE_DAYS))
        if datetime.fromtimestamp(midnight, UTC).weekday() < 5
    ]
    new_id, roll_of = ids.new, rng.random
    for provider in providers:
        of = provider["id"]
        for starts in workdays:
            for start, date_of in starts:
                slot = slot_object(new_id("slot", 14), of, start, day=date_of)
                roll = roll_of()
                if roll < 0.05:
                    slot["status"] = "blocked"
                elif roll < 0.4:
                    patient = rng.choice(patients)["id"]
                    booked = NOW - rng.randrange(1, 40) * DAY
                    visit = appointment_object(
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


# -- records a scenario creates ------------------------------------------------------

#: A patient's fields a scenario may give, as text (the rest: insurance).
_PATIENT_TEXT = ("name", "date_of_birth", "email", "phone")
_PATIENT_FIELDS = (*_PATIENT_TEXT, "insurance_payer", "insurance_member_id")
#: The fields a scenario may give each record kind (see ``FakeService``).
RECORD_FIELDS: dict[str, s.Schema] = {
    "provider": s.scenario_fields(
        PROVIDER, ("name", "specialty", "location", "accepting_new_patients")
    ),
    "patient": s.scenario_fields(
        PATIENT,
        _PATIENT_FIELDS,
        email=s.nullable(s.string("Email address (null: none on file).")),
        phone=s.nullable(s.string("Phone number (null: none on file).")),
    ),
    "slot": s.scenario_fields(
        SLOT,
        ("provider", "start", "minutes", "status"),
        start={
            "type": ["string", "integer"],
            "description": "When it starts: an ISO time (2026-01-05T10:00, UTC)"
            " or Unix seconds.",
        },
        minutes=s.integer("How long it lasts, in minutes.", minimum=1),
        status=s.enum(
            "open or blocked (an appointment record naming it books it).",
            "open",
            "blocked",
        ),
    ),
    "appointment": s.scenario_fields(
        APPOINTMENT, ("patient", "slot", "reason", "status")
    ),
}


def create_record(
    calendar: FakeService, kind: str, fields: Mapping[str, Any]
) -> Record:
    """A scenario's provider, patient, slot or appointment from ``fields``."""
    if kind == "provider":
        return _create_provider(calendar, fields)
    if kind == "patient":
        return _create_patient(calendar, fields)
    if kind == "slot":
        return _create_slot(calendar, fields)
    if kind == "appointment":
        return _create_appointment(calendar, fields)
    raise calendar.unknown_kind(kind)


def _create_provider(calendar: FakeService, fields: Mapping[str, Any]) -> Record:
    calendar.check_record_fields("provider", fields)
    world = calendar.world
    specialty, location = world.rng.choice(SPECIALTIES)
    provider: Record = {
        "id": world.ids.new("prov", 10),
        "object": "provider",
        "name": str(fields.get("name", f"Dr. {world.faker.name()}")),
        "specialty": str(fields.get("specialty", specialty)),
        "location": str(fields.get("location", location)),
        "accepting_new_patients": bool(fields.get("accepting_new_patients", True)),
    }
    calendar.state["providers"][provider["id"]] = provider
    return provider


def _create_patient(calendar: FakeService, fields: Mapping[str, Any]) -> Record:
    calendar.check_record_fields("patient", fields)
    world = calendar.world
    name = str(fields.get("name", world.faker.name()))
    local = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or "patient"
    domain = world.rng.choice(EMAIL_DOMAINS)
    email, n = f"{local}@{domain}", 1
    while calendar.state["patients"].where("email", email):
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
    for key in _PATIENT_FIELDS:
        if key in fields:
            value = fields[key]
            patient[key] = None if value is None else str(value)
    birth = str(patient["date_of_birth"])
    if not DATE.match(birth):
        raise ValueError(f"date_of_birth {birth!r} is not a YYYY-MM-DD date")
    calendar.state["patients"][patient["id"]] = patient
    return patient


def _create_slot(calendar: FakeService, fields: Mapping[str, Any]) -> Record:
    calendar.check_record_fields("slot", fields)
    provider = str(fields.get("provider", ""))
    if provider not in calendar.state["providers"]:
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
    slot = slot_object(
        calendar.world.ids.new("slot", 14),
        provider,
        _timestamp(fields["start"]),
        minutes,
    )
    for other in calendar.state["slots"].where("provider", provider):
        if other["start"] < slot["end"] and slot["start"] < other["end"]:
            raise ValueError(
                f"slot at {fields['start']} overlaps slot {other['id']} of "
                f"provider {provider}"
            )
    slot["status"] = status
    calendar.state["slots"][slot["id"]] = slot
    return slot


def _create_appointment(calendar: FakeService, fields: Mapping[str, Any]) -> Record:
    calendar.check_record_fields("appointment", fields)
    patient, slot_id = str(fields.get("patient")), str(fields.get("slot"))
    if patient not in calendar.state["patients"]:
        raise LookupError(f"no calendar patient {patient!r} for the appointment")
    slot = calendar.state["slots"].get(slot_id)
    if slot is None:
        raise LookupError(f"no calendar slot {slot_id!r} for the appointment")
    if slot["status"] != "open":
        raise ValueError(f"slot {slot_id} is {slot['status']}, not open")
    status = fields.get("status", "booked")
    if status not in APPOINTMENT_STATUSES:
        raise ValueError(
            f"status {status!r} is not one of {', '.join(APPOINTMENT_STATUSES)}"
        )
    now = int(calendar.world.clock.epoch())
    visit = appointment_object(
        calendar.world.ids.new("appt", 14),
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
        calendar.state["slots"].writable(slot_id).update(
            status="booked", appointment=visit["id"]
        )
    calendar.state["appointments"][visit["id"]] = visit
    return visit


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
