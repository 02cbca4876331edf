"""Durations: seconds, or ``500ms``, ``30s``, ``1h30m`` (scenarios, packs, faults)."""

from __future__ import annotations

import re

#: One ``<number><unit>`` part; a duration string is one or more of them.
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
#: The whole-string form, shared with the JSON Schema's duration ``pattern``.
DURATION_PATTERN = r"^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$"

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(DURATION_PATTERN)

#: What a user may write, shown in every duration error.
ACCEPTED_FORMS = (
    "a number of seconds (2.5) or <number><unit> parts with units ms, s, m, h, d"
    " (500ms, 30s, 1.5m, 2h, 1d, 1h30m)"
)


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a non-negative number, or a string like ``1h30m``."""
    if isinstance(value, bool):
        raise ValueError(_invalid(value))
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(_invalid(value))
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if _DURATION.fullmatch(text):
            return sum(
                float(number) * _UNIT_SECONDS[unit]
                for number, unit in DURATION_PART.findall(text)
            )
    raise ValueError(_invalid(value))


def _invalid(value: object) -> str:
    return f"invalid duration {value!r}: use {ACCEPTED_FORMS}"


def duration_or_none(value: object) -> float | None:
    """Seconds in ``value``, or ``None`` when it is not a duration (checks use it
    on unvalidated data; the schema reports the bad value)."""
    try:
        return parse_duration(value)
    except ValueError:
        return None
