"""Durations in scenarios; see :mod:`harness.durations` (fault kinds use them too)."""

from __future__ import annotations

from harness.durations import ACCEPTED_FORMS as ACCEPTED_FORMS
from harness.durations import DURATION_PART as DURATION_PART
from harness.durations import DURATION_PATTERN as DURATION_PATTERN
from harness.durations import parse_duration as parse_duration
