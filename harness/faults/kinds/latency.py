"""``latency``: a slow answer, fixed or drawn from a seeded distribution."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kind import DURATION, Call, Firing, Issue, Kind, shown
from harness.faults.registry import register
from harness.source.durations import duration_or_none, parse_duration

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

_FAMILIES = {
    "uniform": ("min", "max"),
    "exponential": ("mean",),
    "lognormal": ("median", "sigma"),
}
#: Parameters of some family (any other key is the schema's to report).
_ANY_FAMILY = frozenset(k for keys in _FAMILIES.values() for k in keys)

DISTRIBUTION: Mapping[str, Any] = {
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
        "min": {**DURATION, "description": "uniform: the least latency"},
        "max": {**DURATION, "description": "uniform: the most latency"},
        "mean": {**DURATION, "description": "exponential: the mean latency"},
        "median": {**DURATION, "description": "lognormal: the median latency"},
        "sigma": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "lognormal: the spread (the sd of the log), e.g. 0.5",
        },
    },
}


@register
class Latency(Kind):
    name = "latency"
    on_models = True
    summary = "a slow answer: fixed, or drawn from a seeded distribution"
    order = 10
    doc_params = (
        "`seconds` (a duration, or `{distribution:"
        " uniform\\|exponential\\|lognormal, …}`)"
    )
    doc_sees = "a slow answer (simulated time)"
    params = ("seconds",)
    required = (("seconds", "seconds: 2.5 (or 2s), the added latency"),)
    schemas = MappingProxyType(
        {
            "seconds": {
                "anyOf": [DURATION, {"$ref": "#/$defs/distribution"}],
                "description": "latency only: the added latency, seconds or a duration"
                " like 2s, or a seeded distribution such as {distribution: exponential,"
                " mean: 2s}",
            },
        }
    )
    defs = MappingProxyType({"distribution": DISTRIBUTION})
    choices = (
        {"seconds": "5s"},
        {"seconds": "30s"},
        {"seconds": "2m"},
        {"seconds": {"distribution": "exponential", "mean": "10s"}},
    )

    def load(self, params: dict[str, Any]) -> None:
        seconds = params["seconds"]
        params["seconds"] = (
            parse_duration(seconds)
            if not isinstance(seconds, dict)
            else {
                k: v if k in ("distribution", "sigma") else parse_duration(v)
                for k, v in seconds.items()
            }
        )

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        spec = fault.get("seconds")
        if not isinstance(spec, dict) or spec.get("distribution") not in _FAMILIES:
            return
        family = spec["distribution"]
        wanted = _FAMILIES[family]
        for key in spec:
            if key in _ANY_FAMILY and key not in wanted:
                yield Issue(
                    path=("seconds",),
                    key=key,
                    message=f"{key!r} is not a parameter of the {family} distribution",
                    fix=f"remove it; {family} takes: {', '.join(wanted)}",
                )
        for key in wanted:
            if key not in spec:
                yield Issue(
                    path=("seconds",),
                    message=f"missing required key {key!r} for the {family}"
                    " distribution",
                    fix=f"add {key} (the {family} distribution takes:"
                    f" {', '.join(wanted)})",
                )
        low, high = duration_or_none(spec.get("min")), duration_or_none(spec.get("max"))
        if family == "uniform" and low is not None and high is not None and low > high:
            yield Issue(
                path=("seconds", "min"),
                message=f"min ({shown(spec['min'])}) is more than max"
                f" ({shown(spec['max'])})",
                fix="swap them, or make min <= max",
            )

    def draw(self, fault: FaultSpec, firing: Firing) -> dict[str, Any] | None:
        seconds = fault.params["seconds"]
        if not isinstance(seconds, dict):
            return {}
        return {"seconds": draw_latency(seconds, firing.rng(fault, "latency"))}

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        call.world.clock.advance(float(fault.params["seconds"]))
        return None


def draw_latency(spec: Mapping[str, Any], rng: random.Random) -> float:
    """A latency in seconds from a distribution spec (durations already parsed)."""
    family = spec["distribution"]
    if family == "uniform":
        value = rng.uniform(float(spec["min"]), float(spec["max"]))
    elif family == "exponential":
        value = rng.expovariate(1.0 / float(spec["mean"])) if spec["mean"] else 0.0
    else:  # lognormal, by its median
        median = float(spec["median"])
        value = median * math.exp(rng.gauss(0.0, float(spec["sigma"])))
    return round(value, 6)
