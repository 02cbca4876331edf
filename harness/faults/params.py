"""Parameters several fault kinds take: one schema each, saying what it means for which.

A parameter only one kind takes is in that kind's ``schemas``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.faults.kind import DURATION

SHARED: Mapping[str, Mapping[str, Any]] = {
    "commit": {
        "type": "string",
        "title": "commit mode",
        "enum": ["before", "after", "delayed"],
        "description": "timeout: when the call's effect commits: before (never),"
        " after (then the response is lost), delayed (later, after the client gave"
        " up); connection_reset: before (default) or after",
    },
    "delay": {
        **DURATION,
        "description": "timeout with commit: delayed: when the effect commits"
        " (default 60s, must be > 0); duplicate_delivery: how long after the agent"
        " finished the first delivery the second arrives (default 0s)",
    },
    "status": {
        "type": "integer",
        "minimum": 400,
        "maximum": 599,
        "description": "error (required) or outage (default 503): the HTTP status"
        " to answer with (400..599)",
    },
    "set": {
        "type": "object",
        "description": "concurrent_write: the fields the other writer changes"
        " (default: none, it only saves a new revision); conflicting_data"
        " (required): the fields that disagree with the other system",
    },
    "record": {
        "type": "string",
        "minLength": 1,
        "description": "conflicting_data: the record to change, e.g. $account.id"
        " (required); concurrent_write: the record the other writer changes"
        " (default: the one the call targets); missing_data: only this record"
        " (default: every record in the answer)",
    },
}
