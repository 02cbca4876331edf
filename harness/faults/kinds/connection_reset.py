"""``connection_reset``: the connection drops, before or after the effect commits."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from fakes.base import Reply
from harness.faults.kind import Call, Commit, Issue, Kind, Lost, Transport
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec


@register
class ConnectionReset(Kind):
    name = "connection_reset"
    on_models = True
    summary = "the connection drops, before or after the effect commits"
    order = 40
    doc_params = "`commit: before\\|after`"
    doc_sees = "`httpx.RemoteProtocolError` / `ToolConnectionError`"
    params = ("commit",)
    rules = (
        {
            "if": {
                "required": ["kind"],
                "properties": {"kind": {"const": "connection_reset"}},
            },
            "then": {"properties": {"commit": {"enum": ["before", "after"]}}},
        },
    )
    choices = ({"commit": "before"}, {"commit": "after"})

    def load(self, params: dict[str, Any]) -> None:
        params["commit"] = Commit(params.get("commit", Commit.BEFORE))

    def check(self, fault: Mapping[str, Any]) -> Iterator[Issue]:
        if fault.get("commit") == Commit.DELAYED:
            yield Issue(
                path=("commit",),
                message="a connection reset commits before or after, not delayed",
                fix="use commit: before (the default) or commit: after",
            )

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        # A reset is noticed at once: after the service's latency, not a timeout.
        call.lost = Lost(
            fault=fault,
            seen="connection_reset",
            transport=Transport.RESET,
            commit=fault.params["commit"],
            after=None,
        )
        return None
