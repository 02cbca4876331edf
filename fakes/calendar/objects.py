"""The clinic calendar's objects: closed sets, JSON Schema contracts, records.

Kept apart from :mod:`fakes.calendar.service` so that the service module reads as its
operations and booking rules. The seeded schedule and the records scenarios
create live in ``fakes.calendar.seed``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fakes import _schema as s
from fakes.base import Record

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
#: A ``date`` field's shape: YYYY-MM-DD.
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


PROVIDER = s.record(
    {
        "id": s.string("Provider id (prov_…)."),
        "object": {"const": "provider"},
        "name": s.string("The clinician's name, e.g. Dr. Ana Ruiz."),
        "specialty": s.string("Specialty, e.g. Dermatology."),
        "location": s.string("Where the provider sees patients."),
        "accepting_new_patients": s.boolean("Whether new patients can be booked."),
    }
)
PATIENT = s.record(
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
SLOT = s.record(
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
APPOINTMENT = s.record(
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
DATE_FILTER = s.string("Only this day, YYYY-MM-DD (UTC).", pattern=DATE.pattern)


def day_of(timestamp: int) -> str:
    """The UTC day of a Unix time, as YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp, UTC).date().isoformat()


def slot_object(
    ident: str,
    provider: str,
    start: int,
    minutes: int = SLOT_MINUTES,
    *,
    day: str | None = None,
) -> Record:
    """An open slot of ``provider``'s time, ``minutes`` long from ``start``
    (``day``: its :func:`day_of`, if the caller has it)."""
    return {
        "id": ident,
        "object": "slot",
        "provider": provider,
        "date": day_of(start) if day is None else day,
        "start": start,
        "end": start + minutes * 60,
        "status": "open",
        "appointment": None,
    }


def appointment_object(
    ident: str, patient: str, slot: Record, reason: Any, created: int
) -> Record:
    """A booked appointment of ``patient`` holding ``slot``."""
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
