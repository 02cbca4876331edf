"""Clinic scheduling: providers, patients, appointment slots and bookings.

The service is :class:`Calendar` (:mod:`fakes.calendar.service`); importing this package
registers it with :mod:`fakes.registry`.
"""

from __future__ import annotations

from fakes.calendar.service import (
    FIRST_DAY,
    PAYERS,
    SLOT_MINUTES,
    SLOT_STATUSES,
    SPECIALTIES,
    Calendar,
    day_of,
)
from fakes.registry import register_service

register_service(Calendar)

__all__ = [
    "FIRST_DAY",
    "PAYERS",
    "SLOT_MINUTES",
    "SLOT_STATUSES",
    "SPECIALTIES",
    "Calendar",
    "day_of",
]
