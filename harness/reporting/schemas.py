"""JSON Schemas of the saved artefacts, as :mod:`harness.reporting.artefacts` reads
them: exactly the keys the report commands read, with their types. Extra keys are
allowed, so a newer writer may add some; a version key says when a shape changed.
"""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_INT = {"type": "integer"}
_OPT_INT = {"type": ["integer", "null"]}
_NUM = {"type": "number"}
_OPT_NUM = {"type": ["number", "null"]}
_BOOL = {"type": "boolean"}
_STRS = {"type": "array", "items": _STR}


def _object(
    required: dict[str, Any], optional: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "type": "object",
        "required": sorted(required),
        "properties": {**required, **(optional or {})},
    }


_FAULT = _object(
    {"fault": _STR, "kind": _STR, "matched": _INT, "fired": _INT},
)
_THRESHOLDS = {
    "type": ["object", "null"],
    "properties": {
        "pass_rate": _OPT_NUM,
        "pass_hat_k": {
            "type": ["object", "null"],
            "required": ["k", "min"],
            "properties": {"k": _INT, "min": _NUM},
        },
    },
}

#: A shadow run's comparison with its reference (``ShadowCase.from_json``).
_SHADOW = _object(
    {
        "scenario": _STR,
        "seed": _INT,
        "diffs": {
            "type": "array",
            "items": _object(
                {
                    "field": _STR,
                    "candidate": {},
                    "references": {"type": "array"},
                    "noisy": _BOOL,
                    "counted": _BOOL,
                }
            ),
        },
        "noisy": {"type": "array"},
        "consequences": _STRS,
        "shared_untouched": _BOOL,
    }
)
#: A canary stream's report, as the report writers print it.
_CANARY = _object(
    {
        "verdict": _STR,
        "candidate": {},
        "control": {},
        "cases_run": _INT,
        "cases": _INT,
        "killed": _BOOL,
        "blast_radius": _object(
            {
                "cases": _INT,
                "failed_cases": _INT,
                "side_effects": _INT,
                "critical": _STRS,
            }
        ),
        "stages": {
            "type": "array",
            "items": _object(
                {"percent": _NUM, "cases": _INT, "candidate_cases": _INT},
                {
                    "judgement": {
                        "type": ["object", "null"],
                        "properties": {"verdict": {}, "score": _NUM},
                    }
                },
            ),
        },
    },
    {"kill_reason": {}, "rollback_at": _OPT_NUM, "time_to_rollback": _OPT_NUM},
)
_CANARY["if"] = {"properties": {"killed": {"const": True}}}
_CANARY["then"] = _object({"rollback_at": _NUM, "time_to_rollback": _NUM})

#: A run's (or a scenario's, or a session's) model totals
#: (:class:`harness.models.usage.ModelUsage`).
_MODEL = _object(
    {
        "calls": _INT,
        "tokens_in": _INT,
        "tokens_out": _INT,
        "tokens": _INT,
        "cost_usd": _OPT_NUM,
    },
    {"unpriced": _INT, "unpriced_models": _STRS},
)

#: One line of ``results.jsonl`` (a :class:`harness.run.RunRecord`), as the
#: summary, the baseline, the renderers and ``aqe rescore`` read it.
RECORD: dict[str, Any] = _object(
    {
        "record_version": _INT,
        "nodeid": _STR,
        "scenario": _STR,
        "path": _STR,
        "seed": _INT,
        "agent": _STR,
        "passed": _BOOL,
        "failed": _STRS,
        "scores": {
            "type": "object",
            "additionalProperties": {"type": ["boolean", "null"]},
        },
        "trace": _STR,
    },
    {
        "seed_index": _INT,
        "mode": _STR,
        "values": {"type": "object", "additionalProperties": _OPT_NUM},
        "severity": {"type": "object", "additionalProperties": _STR},
        "faults": {"type": "array", "items": _FAULT},
        "escalation": {
            "type": ["object", "null"],
            "required": ["expected", "actual"],
            "properties": {"expected": _OPT_STR, "actual": _OPT_STR},
        },
        "thresholds": _THRESHOLDS,
        "tool_calls": _OPT_NUM,
        "simulated_seconds": _OPT_NUM,
        "shadow": _SHADOW,
        "canary": _CANARY,
        "model": _MODEL,
    },
)

_METRIC_COMPARISON = _object(
    {"metric": _STR, "status": _STR},
    {
        "base": _OPT_NUM,
        "cand": _OPT_NUM,
        "delta": _OPT_NUM,
        "n_base": _OPT_INT,
        "n_cand": _OPT_INT,
        "p_value": _OPT_NUM,
        "interval": {
            "type": ["array", "null"],
            "items": _NUM,
            "minItems": 2,
            "maxItems": 2,
        },
        "rule": _OPT_STR,
    },
)

#: A comparison kept in a summary (``aqe report`` carries it over).
COMPARISON: dict[str, Any] = _object(
    {
        "baseline": {
            "type": "object",
            "properties": {
                "path": _OPT_STR,
                "run_id": _OPT_STR,
                "git_sha": _OPT_STR,
                "created": _OPT_STR,
            },
        },
        "counts": {"type": "object", "additionalProperties": _INT},
        "scenarios": {
            "type": "array",
            "items": _object(
                {"scenario": _STR, "status": _STR},
                {"metrics": {"type": "array", "items": _METRIC_COMPARISON}},
            ),
        },
        "regressions": _STRS,
    }
)

#: ``selection.json``: what a session collected (also a summary's ``selection``).
SELECTION: dict[str, Any] = _object(
    {"selection_version": _INT, "scenarios": _STRS},
    {
        "fingerprint": _STR,
        "items": _INT,
        "args": _STRS,
        "keyword": _OPT_STR,
        "markexpr": _OPT_STR,
    },
)

#: ``summary.json`` (version 2), as the report commands read it: its records and
#: the parts of a finished session that ``aqe report`` keeps.
SUMMARY: dict[str, Any] = _object(
    {
        "summary_version": _INT,
        "run_id": _STR,
        "started": _OPT_STR,
        "finished": _OPT_STR,
        "git": _object(
            {"sha": _OPT_STR},
            {"branch": _OPT_STR, "dirty": _BOOL},
        ),
        "complete": _BOOL,
        "incomplete_reason": _OPT_STR,
        "results": {"type": "array", "items": RECORD},
    },
    {
        "comparison": {"anyOf": [{"type": "null"}, COMPARISON]},
        "selection": {"anyOf": [{"type": "null"}, SELECTION]},
        "gate": {
            "type": ["object", "null"],
            "properties": {"rules": _STRS, "failed": _STRS, "reasons": _STRS},
        },
        "verdict": _OPT_STR,
        "exit_code": _OPT_INT,
        "model": {"anyOf": [{"type": "null"}, _MODEL]},
        "shadow": {
            "type": ["object", "null"],
            "properties": {
                "thresholds": {
                    "type": ["object", "null"],
                    "properties": {"min_agreement": _OPT_NUM},
                }
            },
        },
    },
)

#: The first line of a trace.
TRACE_HEADER: dict[str, Any] = _object(
    {
        "type": {"const": "header"},
        "trace_version": _INT,
        "scenario": _STR,
        "seed": _INT,
        "agent": _STR,
    },
    {"scenario_path": _OPT_STR, "scenario_sha256": _OPT_STR, "mode": _OPT_STR},
)

#: Every other line of a trace: a type, and for the lines replay reads (the
#: agent's and the nemesis's history, the verdict) the keys it reads.
TRACE_LINE: dict[str, Any] = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": _STR, "process": _OPT_STR, "f": _OPT_STR},
    "allOf": [
        {
            "if": {
                "required": ["process", "type"],
                "properties": {
                    "process": {"const": "agent"},
                    "type": {"const": "invoke"},
                },
            },
            "then": _object(
                {
                    "time": _NUM,
                    "f": _STR,
                    "value": _object(
                        {},
                        {"params": {"type": ["object", "null"]}},
                    ),
                }
            ),
        },
        {
            "if": {"required": ["type"], "properties": {"type": {"const": "verdict"}}},
            "then": _object(
                {"passed": _BOOL, "failed": _STRS},
                {"agent_status": _OPT_STR, "agent_summary": _OPT_STR},
            ),
        },
    ],
}
