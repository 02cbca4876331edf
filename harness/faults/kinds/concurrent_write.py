"""``concurrent_write``: another writer changes the record just before the agent's."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from fakes.base import Operation, Reply
from harness.faults.kind import DURATION, Call, Kind
from harness.faults.registry import register
from harness.world.history import EntryType

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec

#: Who changes a record under the agent, by default.
CONCURRENT_ACTOR = "ops.automation"


@register
class ConcurrentWrite(Kind):
    name = "concurrent_write"
    summary = "another writer changes the record just before the agent's write"
    order = 90
    doc_params = "`set`, `record`, `actor`, `hold`"
    doc_sees = (
        "another writer changes the record just before the agent's write: 412 for"
        " an `If-Match` write, a lost update for a blind one, 409 while it holds"
        " the lock"
    )
    params = ("set", "record", "actor", "hold")
    schemas = MappingProxyType(
        {
            "actor": {
                "type": "string",
                "minLength": 1,
                "description": "concurrent_write only: who the other writer is (default"
                " ops.automation)",
            },
            "hold": {
                **DURATION,
                "description": "concurrent_write only: how long the other writer keeps"
                " the record locked, where the service locks records (writes meanwhile"
                " get 409)",
            },
        }
    )
    choices = ({},)

    def load(self, params: dict[str, Any]) -> None:
        params.setdefault("set", {})
        params.setdefault("actor", CONCURRENT_ACTOR)

    def can_hit(self, op: Operation) -> bool:
        return op.write and bool(op.path_params)

    def applies(
        self, fault: FaultSpec, op: Operation, params: Mapping[str, Any]
    ) -> bool:
        # another writer needs a record the agent writes
        return op.write and isinstance(target_record(fault, op, params), str)

    def before_call(self, fault: FaultSpec, call: Call) -> Reply | None:
        """The other writer changes the record, and the nemesis records it."""
        world, op = call.world, call.op
        ident = str(target_record(fault, op, call.params))
        actor = str(fault.params["actor"])
        changes = dict(fault.params.get("set", {}))
        owner = world.owner_of(ident, prefer=op.service)
        outcome: dict[str, Any] = {"fault": fault.id, "actor": actor, "record": ident}
        if owner is None:
            outcome["missing"] = True
        else:
            hold = fault.params.get("hold")
            if hold is not None and "locked_by" in owner[1]:
                changes["locked_by"] = actor
                world.clock.call_later(
                    float(hold),
                    lambda: owner[0].external_change(
                        ident, {"locked_by": None}, actor=actor, revise=False
                    ),
                )
            elif hold is not None:
                outcome["hold"] = "ignored: the service does not lock this record"
            record = owner[0].external_change(ident, changes, actor=actor, revise=True)
            outcome["changed"] = sorted(changes)
            if record is not None and "etag" in record:
                outcome["etag"] = record["etag"]
        world.history.append(
            time=world.clock.now,
            process="nemesis",
            type=EntryType.INFO,
            f="external_write",
            call=call.number,
            value=outcome,
        )
        return None


def target_record(fault: FaultSpec, op: Operation, params: Mapping[str, Any]) -> Any:
    """The record the other writer changes: named in the fault, or the call's."""
    named = fault.params.get("record")
    if named is not None:
        return named
    return params.get(op.path_params[0]) if op.path_params else None
