"""``clock_skew``: a service's clock is off, so the timestamps it answers with are too.

Its records' Unix-seconds fields (``created``, ``updated``, every ``*_at``, or the
``timestamps`` named) are shifted by ``offset`` (ahead or behind), plus a seeded
draw within ``jitter`` per call; the shift each call got is in the history (the
nemesis entry's ``params.skew``). The world keeps the true times: only what the
agent reads is off, as with a service whose host clock drifted. An agent that
compares times across systems (a refund window, a token's expiry, which event
came first) or trusts a ``created`` in the future is caught out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from harness.faults.kind import DURATION, Answer, Firing, Issue, Kind
from harness.faults.registry import register
from harness.source.durations import duration_or_none

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

#: The offset when the fault gives none: an hour, a clock on the wrong zone.
DEFAULT_OFFSET = 3600.0
#: Timestamp fields by name, when the fault names none.
_NAMED = frozenset({"created", "updated"})


@register
class ClockSkew(Kind):
    name = "clock_skew"
    summary = (
        "the service's clock is off: timestamps in its answers are ahead or"
        " behind by an offset (plus seeded jitter)"
    )
    order = 160
    doc_params = (
        "`offset`, `direction: ahead\\|behind`, `jitter`, `timestamps` (default:"
        " `created`, `updated`, `*_at`)"
    )
    doc_sees = (
        "timestamps in the service's answers off by the offset; the history"
        " records each call's `skew`"
    )
    params = ("offset", "direction", "jitter", "timestamps")
    schemas = MappingProxyType(
        {
            "offset": {
                **DURATION,
                "description": "clock_skew only: how far off the service's clock"
                " is (default 1h)",
            },
            "direction": {
                "type": "string",
                "enum": ["ahead", "behind"],
                "description": "clock_skew only: whether its clock runs ahead"
                " (default: timestamps in the future) or behind",
            },
            "jitter": {
                **DURATION,
                "description": "clock_skew only: each call's skew varies by up to"
                " this much either way, drawn from the run's seed (default 0s)",
            },
            "timestamps": {
                "type": "array",
                "items": {"type": "string", "minLength": 1},
                "minItems": 1,
                "description": "clock_skew only: the fields (Unix seconds) that are"
                " off (default: created, updated and every field ending in _at)",
            },
        }
    )
    choices = (
        {"offset": "5m"},
        {"offset": "1h", "direction": "behind"},
        {"offset": "1d"},
        {"offset": "10m", "jitter": "5m"},
    )
    changes_answer = True

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("offset", DEFAULT_OFFSET)
        params.setdefault("direction", "ahead")
        params.setdefault("jitter", 0.0)

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        offset = duration_or_none(fault.get("offset", DEFAULT_OFFSET))
        jitter = duration_or_none(fault.get("jitter", 0))
        if offset == 0 and jitter == 0:
            yield Issue(
                path=("offset",),
                message="a clock_skew fault with offset 0 and no jitter changes"
                " nothing",
                fix="give the offset, e.g. offset: 10m (or a jitter: 30s)",
            )

    def draw(self, fault: FaultSpec, firing: Firing) -> dict[str, Any] | None:
        """``skew``: the signed seconds this call's timestamps are off by."""
        offset = float(fault.params["offset"])
        if fault.params["direction"] == "behind":
            offset = -offset
        jitter = float(fault.params["jitter"])
        if jitter:
            offset += firing.rng(fault, "skew").uniform(-jitter, jitter)
        return {"skew": round(offset)}

    def respond(self, fault: FaultSpec, answer: Answer) -> None:
        named = fault.params.get("timestamps")
        fields = None if named is None else frozenset(named)
        _shift(answer.body, int(fault.params["skew"]), fields)


def _shift(value: Any, skew: int, fields: frozenset[str] | None) -> None:
    """Move every timestamp in ``value``, at any depth, by ``skew`` seconds."""
    if isinstance(value, dict):
        for name, item in value.items():
            if isinstance(item, dict | list):
                _shift(item, skew, fields)
            elif (
                isinstance(item, int)
                and not isinstance(item, bool)
                and (
                    name in fields
                    if fields is not None
                    else name in _NAMED or name.endswith("_at")
                )
            ):
                value[name] = item + skew
    elif isinstance(value, list):
        for item in value:
            _shift(item, skew, fields)
