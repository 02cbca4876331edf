"""``conflicting_data``: a record changed as the world is built (systems disagree)."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from harness.errors import HarnessError
from harness.faults.kind import Kind, Plan, Target
from harness.faults.registry import register

if TYPE_CHECKING:
    from harness.faults.spec import FaultSpec
    from harness.world.world import World


@register
class ConflictingData(Kind):
    name = "conflicting_data"
    summary = "a record changed as the world is built, so two systems disagree"
    order = 100
    doc_params = "`record`, `set`, `fact`"
    doc_sees = (
        "one system's record disagrees with another's from the start (no"
        " `match`/`when`)"
    )
    target = Target.WORLD
    params = ("record", "set", "fact")
    required = (
        ("record", "record: $account.id, the record whose fields disagree"),
        ("set", "set: {tier: enterprise}, the fields that disagree"),
    )
    schemas = MappingProxyType(
        {
            "fact": {
                "type": "string",
                "description": "conflicting_data only: what the two systems disagree"
                " on, for reports (e.g. customer tier)",
            },
        }
    )
    generic = False

    def on_world(
        self, fault: FaultSpec, world: World, plan: Plan, *, scenario: str
    ) -> None:
        """Change one system's record, and record what it was."""
        ident = str(fault.params["record"])
        owner = world.owner_of(ident)
        if owner is None:
            raise HarnessError(
                f"scenario {scenario!r}: fault {fault.id!r}: no record {ident!r}"
                " in any service\n    fix: name a record by reference ($account.id)"
                " or by an id the world holds"
            )
        service, record = owner
        changes = dict(fault.params["set"])
        before = {k: record.get(k) for k in changes}
        service.external_change(ident, changes, actor="world", revise=False)
        plan.record(
            fault,
            world.history,
            now=world.clock.now,
            service=service.name,
            record=ident,
            before=before,
        )
