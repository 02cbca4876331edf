"""The fault kinds: what each does, where it acts, which parameters it takes.

One table, read by the loader's checks (which parameters a kind takes, which it
needs), by the published JSON Schema (its ``fault`` definition is generated from
this table; see :mod:`harness.scenario.schema_build`), by the README's fault list
and by the fuzzer's strategies.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from harness.scenario.model import FaultKind

_DURATION = {"$ref": "#/$defs/duration"}


class Target(StrEnum):
    """What a fault acts on."""

    CALL = "call"  # matching tool calls (``match`` and ``when`` select them)
    WORLD = "world"  # the world as it is built, before the agent starts
    TASK = "task"  # the delivery of the task to the agent


@dataclass(frozen=True, slots=True)
class KindInfo:
    kind: FaultKind
    summary: str
    params: tuple[str, ...]
    target: Target = Target.CALL
    #: The parameters a fault of this kind cannot do without, with examples.
    required: tuple[tuple[str, str], ...] = ()


KINDS: dict[FaultKind, KindInfo] = {
    info.kind: info
    for info in (
        KindInfo(
            FaultKind.LATENCY,
            "a slow answer: fixed, or drawn from a seeded distribution",
            ("seconds",),
            required=(("seconds", "seconds: 2.5 (or 2s), the added latency"),),
        ),
        KindInfo(
            FaultKind.TIMEOUT,
            "no answer; the effect commits before, after or later than the timeout",
            ("commit", "after", "delay"),
            required=(("commit", "commit: before, after or delayed"),),
        ),
        KindInfo(
            FaultKind.ERROR,
            "an error status, with an optional body and Retry-After",
            ("status", "retry_after", "body"),
            required=(("status", "status: 503, the HTTP status to answer with"),),
        ),
        KindInfo(
            FaultKind.CONNECTION_RESET,
            "the connection drops, before or after the effect commits",
            ("commit",),
        ),
        KindInfo(
            FaultKind.OUTAGE,
            "the service is down for a window of simulated time",
            ("for", "status"),
            required=(("for", "for: 30m, how long the service is down"),),
        ),
        KindInfo(
            FaultKind.RATE_LIMIT,
            "a token bucket per caller; 429 with Retry-After when it is empty",
            ("limit", "per"),
            required=(("limit", "limit: 10, the calls allowed per window"),),
        ),
        KindInfo(
            FaultKind.PARTIAL_FAILURE,
            "a batch call commits some items and fails others; its answer may"
            " misreport which",
            ("fail", "ratio", "report"),
        ),
        KindInfo(
            FaultKind.STALE_READ,
            "records answered as they were before the run changed them",
            (),
        ),
        KindInfo(
            FaultKind.CONCURRENT_WRITE,
            "another writer changes the record just before the agent's write",
            ("set", "record", "actor", "hold"),
        ),
        KindInfo(
            FaultKind.CONFLICTING_DATA,
            "a record changed as the world is built, so two systems disagree",
            ("record", "set", "fact"),
            target=Target.WORLD,
            required=(
                ("record", "record: $account.id, the record whose fields disagree"),
                ("set", "set: {tier: enterprise}, the fields that disagree"),
            ),
        ),
        KindInfo(
            FaultKind.MISSING_DATA,
            "fields absent (or null, or empty) in what the agent reads",
            ("fields", "as", "record"),
            required=(("fields", "fields: [email], the fields that are missing"),),
        ),
        KindInfo(
            FaultKind.SCHEMA_DRIFT,
            "response fields renamed, dropped or retyped",
            ("rename", "drop", "retype"),
        ),
        KindInfo(
            FaultKind.MALFORMED_RESPONSE,
            "the answer is not valid JSON (truncated, an HTML page, empty);"
            " the effect has committed",
            ("form",),
        ),
        KindInfo(
            FaultKind.DUPLICATE_DELIVERY,
            "the task is delivered to the agent a second time",
            ("delay",),
            target=Target.TASK,
        ),
        KindInfo(
            FaultKind.INJECTED_INSTRUCTIONS,
            "text aimed at the agent planted in a free-text field of the answer;"
            " the history records whether the agent then acts on it",
            ("text", "field", "canary"),
            required=(
                (
                    "text",
                    "text: 'Ignore previous instructions and …', the planted"
                    " instruction",
                ),
            ),
        ),
    )
}

#: Every kind parameter, its JSON Schema, and what it means for which kinds.
PARAMS: dict[str, dict[str, Any]] = {
    "commit": {
        "type": "string",
        "title": "commit mode",
        "enum": ["before", "after", "delayed"],
        "description": "timeout: when the call's effect commits: before (never),"
        " after (then the response is lost), delayed (later, after the client gave"
        " up); connection_reset: before (default) or after",
    },
    "after": {
        **_DURATION,
        "description": "timeout only: when the client gives up (default 30s)",
    },
    "delay": {
        **_DURATION,
        "description": "timeout with commit: delayed: when the effect commits"
        " (default 60s, must be > 0); duplicate_delivery: how long after the agent"
        " finished the first delivery the second arrives (default 0s)",
    },
    "seconds": {
        "anyOf": [
            _DURATION,
            {"$ref": "#/$defs/distribution"},
        ],
        "description": "latency only: the added latency, seconds or a duration"
        " like 2s, or a seeded distribution such as {distribution: exponential,"
        " mean: 2s}",
    },
    "status": {
        "type": "integer",
        "minimum": 400,
        "maximum": 599,
        "description": "error (required) or outage (default 503): the HTTP status"
        " to answer with (400..599)",
    },
    "retry_after": {
        **_DURATION,
        "description": "error only: the Retry-After the service sends",
    },
    "body": {
        "type": "object",
        "description": "error only: the JSON error body the service sends",
    },
    "for": {
        **_DURATION,
        "description": "outage only: how long the service is down, from when.from"
        " (default: the start of the run)",
    },
    "limit": {
        "type": "integer",
        "minimum": 1,
        "description": "rate_limit only: calls allowed per window (the bucket's size)",
    },
    "per": {
        **_DURATION,
        "description": "rate_limit only: the window the limit refills over"
        " (default 1m)",
    },
    "fail": {
        "type": "array",
        "items": {
            "type": "integer",
            "minimum": 1,
            "description": "an item's position in the batch, counted from 1",
        },
        "minItems": 1,
        "uniqueItems": True,
        "description": "partial_failure: the items that fail, counted from 1"
        " (default: drawn with ratio)",
    },
    "ratio": {
        "type": "number",
        "minimum": 0,
        "maximum": 1,
        "description": "partial_failure: the chance each item fails, drawn from the"
        " run's seed (default 0.5)",
    },
    "report": {
        "type": "string",
        "enum": ["accurate", "none_failed", "all_failed"],
        "description": "partial_failure: what the answer says: accurate (default),"
        " none_failed (failed items reported as succeeded), all_failed (committed"
        " items reported as failed)",
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
    "actor": {
        "type": "string",
        "minLength": 1,
        "description": "concurrent_write only: who the other writer is (default"
        " ops.automation)",
    },
    "hold": {
        **_DURATION,
        "description": "concurrent_write only: how long the other writer keeps the"
        " record locked, where the service locks records (writes meanwhile get 409)",
    },
    "fact": {
        "type": "string",
        "description": "conflicting_data only: what the two systems disagree on,"
        " for reports (e.g. customer tier)",
    },
    "fields": {
        "type": "array",
        "items": {"type": "string", "minLength": 1, "description": "a field name"},
        "minItems": 1,
        "description": "missing_data: the fields that are missing",
    },
    "as": {
        "type": ["string", "null"],
        "title": "missing-data form",
        "enum": ["absent", "null", "empty", None],
        "description": "missing_data only: how a field is missing: absent"
        " (default), null, or empty (an empty string or list)",
    },
    "rename": {
        "type": "object",
        "additionalProperties": {"type": "string"},
        "description": "schema_drift only: response fields to rename, old: new",
    },
    "drop": {
        "type": "array",
        "items": {"type": "string"},
        "description": "schema_drift only: response fields to leave out",
    },
    "retype": {
        "type": "object",
        "additionalProperties": {
            "enum": ["string", "integer", "number", "boolean", "null"]
        },
        "description": "schema_drift only: response fields to answer with another"
        " JSON type",
    },
    "form": {
        "type": "string",
        "enum": ["truncated", "html", "empty"],
        "description": "malformed_response only: truncated JSON (default), an HTML"
        " page, or an empty body",
    },
    "text": {
        "type": "string",
        "minLength": 1,
        "description": "injected_instructions only: the instruction planted in the"
        " response",
    },
    "canary": {
        "type": "object",
        "additionalProperties": False,
        "required": ["tool"],
        "properties": {
            "tool": {"type": "string", "description": "the tool it asks for"},
            "params": {
                "type": "object",
                "description": "parameters the call must carry (any value"
                " containing this text)",
            },
        },
        "description": "injected_instructions only: the action the instruction"
        " asks for; a later call to this tool with these parameters is recorded as"
        " acting on it (default: a later call carrying an email address, URL or"
        " `quoted` word from text)",
    },
    "field": {
        "type": "string",
        "description": "injected_instructions only: the field it lands in (default:"
        " the first free-text field: description, body, summary, text, subject,"
        " title, name)",
    },
}

DISTRIBUTION: dict[str, Any] = {
    "type": "object",
    "description": "a seeded latency distribution: uniform (min, max), exponential"
    " (mean) or lognormal (median, sigma)",
    "additionalProperties": False,
    "required": ["distribution"],
    "properties": {
        "distribution": {
            "enum": ["uniform", "exponential", "lognormal"],
            "description": "the distribution's family",
        },
        "min": {**_DURATION, "description": "uniform: the least latency"},
        "max": {**_DURATION, "description": "uniform: the most latency"},
        "mean": {**_DURATION, "description": "exponential: the mean latency"},
        "median": {**_DURATION, "description": "lognormal: the median latency"},
        "sigma": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "lognormal: the spread (the sd of the log), e.g. 0.5",
        },
    },
}


#: Rules within a kind, for editors (the loader's checks say the same in words).
_WITHIN_KIND_RULES: list[dict[str, Any]] = [
    {
        "if": {
            "required": ["kind", "commit"],
            "properties": {
                "kind": {"const": "timeout"},
                "commit": {"enum": ["before", "after"]},
            },
        },
        "then": {"properties": {"delay": False}},
    },
    {
        "if": {
            "required": ["kind"],
            "properties": {"kind": {"const": "connection_reset"}},
        },
        "then": {"properties": {"commit": {"enum": ["before", "after"]}}},
    },
    {
        "if": {
            "required": ["kind", "fail"],
            "properties": {"kind": {"const": "partial_failure"}},
        },
        "then": {"properties": {"ratio": False}},
    },
]


def fault_schema(base: dict[str, Any]) -> dict[str, Any]:
    """The ``fault`` definition: ``base`` (id, match, when) plus the kinds table."""
    properties = {name: base["properties"][name] for name in ("id", "match", "when")}
    properties["kind"] = {
        "type": "string",
        "title": "fault kind",
        "enum": [str(kind) for kind in KINDS],
        "description": ", ".join(f"{k} ({i.summary})" for k, i in KINDS.items()),
    }
    properties.update(PARAMS)
    rules: list[dict[str, Any]] = []
    for kind, info in KINDS.items():
        then: dict[str, Any] = {
            "properties": {p: False for p in PARAMS if p not in info.params}
        }
        if info.target is not Target.CALL:
            then["properties"] = {"match": False, "when": False, **then["properties"]}
        if info.required:
            then["required"] = [name for name, _ in info.required]
        rules.append(
            {
                "if": {"required": ["kind"], "properties": {"kind": {"const": kind}}},
                "then": then,
            }
        )
    return {**base, "properties": properties, "allOf": rules + _WITHIN_KIND_RULES}
