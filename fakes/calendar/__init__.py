"""Clinic scheduling; importing this package registers the service."""

from __future__ import annotations

from fakes.calendar.objects import (
    FIRST_DAY,
    PAYERS,
    SLOT_MINUTES,
    SLOT_STATUSES,
    SPECIALTIES,
    day_of,
)
from fakes.calendar.service import Calendar
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
