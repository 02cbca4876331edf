"""``timeout``: no answer; the effect commits before, after or later than that."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kind import DURATION, Call, Commit, Issue, Kind, Lost, Transport
from harness.faults.kind import shown as _shown
from harness.faults.registry import register
from harness.source.durations import duration_or_none

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

#: When the client gives up, and when a delayed effect commits, by default.
TIMEOUT_AFTER = 30.0
DELAYED_COMMIT = 60.0


@register
class Timeout(Kind):
    name = "timeout"
    on_models = True
    summary = "no answer; the effect commits before, after or later than the timeout"
    order = 20
    doc_params = "`commit: before\\|after\\|delayed`, `after`, `delay`"
    doc_sees = (
        "`httpx.ReadTimeout` / `ToolTimeout`; after/delayed: the effect committed"
        " anyway"
    )
    params = ("commit", "after", "delay")
    required = (("commit", "commit: before, after or delayed"),)
    schemas = MappingProxyType(
        {
            "after": {
                **DURATION,
                "description": "timeout only: when the client gives up (default 30s)",
            },
        }
    )
    rules = (
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
    )
    choices = ({"commit": "before"}, {"commit": "after"}, {"commit": "delayed"})

    def load(self, params: dict[str, Any]) -> None:
        params["commit"] = Commit(params["commit"])
        params.setdefault("after", TIMEOUT_AFTER)
        if params["commit"] is Commit.DELAYED:
            params.setdefault("delay", DELAYED_COMMIT)

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        if "delay" not in fault:
            return
        commit = fault.get("commit")
        if commit in (Commit.BEFORE, Commit.AFTER):
            yield Issue(
                key="delay",
                message="'delay' only applies to commit: delayed"
                f" (commit is {commit!r})",
                fix="remove 'delay', or set commit: delayed",
            )
        elif duration_or_none(fault["delay"]) == 0:
            yield Issue(
                path=("delay",),
                message=f"must be greater than 0, got {_shown(fault['delay'])}",
                fix="write how long after the call the effect commits (e.g. 60s)",
            )

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        call.lost = Lost(
            fault=fault,
            seen="timeout",
            transport=Transport.TIMEOUT,
            commit=fault.params["commit"],
            after=float(fault.params["after"]),
            delay=float(fault.params.get("delay", 0.0)),
        )
        return None
